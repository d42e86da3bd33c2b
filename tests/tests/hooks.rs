//! Builder hooks: `before_task`/`after_task` run once each around every run
//! of a task, in order, with its id and name; `on_thread_start`/
//! `on_thread_stop` run once per worker thread, lazily started and retired
//! ones included; panicking hooks are contained.

mod support;

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use executor::{TaskError, TaskId, ThreadPoolExecutor};
use support::{within, Gate, HANG};

type Log = Arc<Mutex<Vec<(&'static str, Option<&'static str>, Option<TaskId>)>>>;

const NAMES: [&str; 4] = ["a", "b", "c", "d"];

#[test]
fn hooks_surround_each_task_in_order_with_its_id_and_name() {
    let log: Log = Arc::default();
    let (before, after) = (Arc::clone(&log), Arc::clone(&log));
    let pool = ThreadPoolExecutor::builder()
        .max_workers(1)
        .before_task(move |t| {
            before
                .lock()
                .unwrap()
                .push(("before", t.name(), Some(t.id())))
        })
        .after_task(move |t| {
            after
                .lock()
                .unwrap()
                .push(("after", t.name(), Some(t.id())))
        })
        .build()
        .unwrap();
    // One worker, one submitting thread: tasks run in submission order.
    let handles: Vec<_> = NAMES
        .iter()
        .map(|&name| {
            let log = Arc::clone(&log);
            pool.submit_named(name, move || {
                log.lock().unwrap().push(("body", Some(name), None))
            })
        })
        .collect();
    let ids: Vec<TaskId> = handles.iter().map(|h| h.id()).collect();
    for h in handles {
        h.result().unwrap();
    }
    let mut expected = Vec::new();
    for (name, id) in NAMES.iter().zip(&ids) {
        expected.push(("before", Some(*name), Some(*id)));
        expected.push(("body", Some(*name), None));
        expected.push(("after", Some(*name), Some(*id)));
    }
    // The after hook runs before the result is published: complete by now.
    assert_eq!(*log.lock().unwrap(), expected);
}

/// Counts hook calls per task id.
#[derive(Clone, Default)]
struct Counts(Arc<Mutex<HashMap<TaskId, (usize, usize)>>>);

impl Counts {
    fn get(&self, id: TaskId) -> (usize, usize) {
        self.0.lock().unwrap().get(&id).copied().unwrap_or((0, 0))
    }
}

fn counting_pool(workers: usize, counts: &Counts) -> ThreadPoolExecutor {
    let (b, a) = (counts.clone(), counts.clone());
    ThreadPoolExecutor::builder()
        .max_workers(workers)
        .before_task(move |t| {
            let mut m = b.0.lock().unwrap();
            let e = m.entry(t.id()).or_default();
            assert_eq!(e.0, e.1, "before_task twice without after_task");
            e.0 += 1;
        })
        .after_task(move |t| {
            let mut m = a.0.lock().unwrap();
            let e = m.entry(t.id()).or_default();
            e.1 += 1;
            assert_eq!(e.0, e.1, "after_task without before_task");
        })
        .build()
        .unwrap()
}

#[test]
fn every_run_task_gets_one_before_and_one_after_and_cancelled_ones_none() {
    let counts = Counts::default();
    let pool = counting_pool(4, &counts);
    let handles: Vec<_> = (0..400_u32)
        .map(|i| {
            pool.submit(move || {
                if i % 7 == 0 {
                    panic!("task {i} fails");
                }
                i
            })
        })
        .collect();
    let ids: Vec<_> = handles.iter().map(|h| h.id()).collect();
    let results: Vec<_> = handles.into_iter().map(|h| h.result()).collect();
    for (i, (id, r)) in ids.iter().zip(results).enumerate() {
        assert_eq!(r.is_err(), i % 7 == 0, "task {i}");
        assert_eq!(counts.get(*id), (1, 1), "task {i}");
    }
    assert_eq!(counts.0.lock().unwrap().len(), 400);

    // Tasks cancelled while queued never run, so never see a hook.
    let counts = Counts::default();
    let pool = counting_pool(1, &counts);
    let gate2 = Gate::new();
    let g = gate2.clone();
    let busy = pool.submit(move || g.wait());
    let queued: Vec<_> = (0..10).map(|i| pool.submit(move || i)).collect();
    for h in &queued {
        assert!(h.cancel());
    }
    gate2.open();
    busy.result().unwrap();
    for h in queued {
        let id = h.id();
        assert!(matches!(h.result(), Err(TaskError::Cancelled)));
        assert_eq!(counts.get(id), (0, 0));
    }
}

/// Pending once (waking itself), then ready: two polls.
struct YieldOnce(bool);

impl Future for YieldOnce {
    type Output = u32;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<u32> {
        if self.0 {
            Poll::Ready(7)
        } else {
            self.0 = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }
}

#[test]
fn an_async_task_sees_the_hooks_around_each_poll() {
    let counts = Counts::default();
    let pool = counting_pool(2, &counts);
    let handle = pool.spawn(YieldOnce(false));
    let id = handle.id();
    assert_eq!(futures::executor::block_on(handle).unwrap(), 7);
    assert_eq!(counts.get(id), (2, 2));
}

#[test]
fn thread_hooks_run_once_per_started_and_stopped_thread() {
    let started = Arc::new(AtomicUsize::new(0));
    let stopped = Arc::new(AtomicUsize::new(0));
    let (s, t) = (Arc::clone(&started), Arc::clone(&stopped));
    let pool = ThreadPoolExecutor::builder()
        .max_workers(4)
        .keep_alive(Duration::from_millis(5))
        .on_thread_start(move || {
            s.fetch_add(1, Ordering::SeqCst);
        })
        .on_thread_stop(move || {
            t.fetch_add(1, Ordering::SeqCst);
        })
        .build()
        .unwrap();
    // Two bursts, each growing the pool and then retiring the extra workers.
    for _ in 0..2 {
        let gate = Gate::new();
        let handles: Vec<_> = (0..8)
            .map(|_| {
                let g = gate.clone();
                pool.submit(move || g.wait())
            })
            .collect();
        // Wait for the burst to have started more than the first worker.
        let deadline = Instant::now() + HANG;
        while pool.stats().threads_started < 2 && Instant::now() < deadline {
            std::thread::yield_now();
        }
        gate.open();
        for h in handles {
            h.result().unwrap();
        }
        // Retire back down to `min_workers` (1); each retiring thread runs
        // its stop hook on the way out.
        let deadline = Instant::now() + HANG;
        while pool.stats().workers_alive > 1 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(1));
        }
    }
    let mid = pool.stats();
    assert!(
        mid.threads_started >= 3,
        "two bursts grew the pool: {mid:?}"
    );
    assert!(mid.threads_retired >= 2, "and it shrank back: {mid:?}");
    pool.shutdown(true);
    let end = pool.stats();
    let threads = usize::try_from(end.threads_started).unwrap();
    assert_eq!(started.load(Ordering::SeqCst), threads);
    assert_eq!(stopped.load(Ordering::SeqCst), threads);
}

#[test]
fn panicking_hooks_are_contained_and_lose_no_task_or_worker() {
    within(HANG, "panicking hooks", || {
        let pool = ThreadPoolExecutor::builder()
            .max_workers(2)
            .on_thread_start(|| panic!("on_thread_start hook"))
            .on_thread_stop(|| panic!("on_thread_stop hook"))
            .before_task(|t| {
                if t.name() != Some("calm") {
                    panic!("before_task hook")
                }
            })
            .after_task(|_| panic!("after_task hook"))
            .build()
            .unwrap();
        let handles: Vec<_> = (0..200_u32).map(|i| pool.submit(move || i * 2)).collect();
        for (i, h) in (0_u32..).zip(handles) {
            assert_eq!(h.result().unwrap(), i * 2);
        }
        assert_eq!(pool.submit_named("calm", || 5).result().unwrap(), 5);
        let panicked = pool.submit(|| panic!("the task itself"));
        assert!(matches!(panicked.result(), Err(TaskError::Panicked(_))));
        assert!(!pool.is_broken(), "a start hook is not an initializer");
        let stats = pool.stats();
        assert_eq!(stats.tasks_completed, 201);
        assert_eq!(stats.tasks_panicked, 1);
        // No worker died and was replaced: at most the two it may start.
        assert!(stats.threads_started <= 2, "{stats:?}");
        pool.shutdown(true);
    });
}
