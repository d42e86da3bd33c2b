//! Limited and rate-limited views: the limit is never exceeded, views are
//! independent, waiting inside a view cannot deadlock, shutdown resolves
//! everything, and the stats balance.

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use executor::{TaskError, ThreadPoolExecutor};
use proptest::prelude::*;
use support::{pool, within, Gate, HANG};

/// Counts the view's tasks inside their closures, and the most at once.
#[derive(Clone, Default)]
struct Occupancy {
    now: Arc<AtomicUsize>,
    peak: Arc<AtomicUsize>,
}

impl Occupancy {
    fn enter(&self) {
        let n = self.now.fetch_add(1, Ordering::SeqCst) + 1;
        self.peak.fetch_max(n, Ordering::SeqCst);
    }
    fn leave(&self) {
        self.now.fetch_sub(1, Ordering::SeqCst);
    }
    fn peak(&self) -> usize {
        self.peak.load(Ordering::SeqCst)
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// Never more than `limit` of a view's tasks inside their closures,
    /// whatever the limit, worker count, task lengths and cancellations;
    /// every task ran once or was cancelled; the stats balance.
    #[test]
    fn the_limit_is_never_exceeded(
        workers in 1usize..6,
        limit in 1usize..5,
        work in prop::collection::vec((0u64..300, prop::bool::weighted(0.2)), 1..80),
    ) {
        let pool = pool(workers);
        let view = pool.limited(limit);
        let occupancy = Occupancy::default();
        let runs = Arc::new(AtomicUsize::new(0));
        let handles: Vec<_> = work
            .iter()
            .map(|&(us, _)| {
                let (occ, runs) = (occupancy.clone(), runs.clone());
                view.submit(move || {
                    occ.enter();
                    std::thread::sleep(Duration::from_micros(us));
                    runs.fetch_add(1, Ordering::SeqCst);
                    occ.leave();
                })
            })
            .collect();
        let mut cancelled = 0;
        for (h, &(_, cancel)) in handles.iter().zip(&work) {
            if cancel && h.cancel() {
                cancelled += 1;
            }
        }
        for h in handles {
            let _ = h.result();
        }
        pool.shutdown(true);
        prop_assert!(occupancy.peak() <= limit, "peak {} over limit {}", occupancy.peak(), limit);
        prop_assert_eq!(runs.load(Ordering::SeqCst) + cancelled, work.len());
        let s = pool.stats();
        prop_assert_eq!(s.tasks_queued, 0, "{:?}", s);
        prop_assert_eq!(s.tasks_submitted, s.tasks_completed + s.tasks_cancelled, "{:?}", s);
    }

    /// Lowering and raising the limit at run time: never more than the
    /// largest limit in force, and everything runs.
    #[test]
    fn set_limit_at_run_time(limits in prop::collection::vec(1usize..4, 1..6)) {
        let pool = pool(4);
        let view = pool.limited(1);
        let occupancy = Occupancy::default();
        let handles: Vec<_> = (0..60)
            .map(|_| {
                let occ = occupancy.clone();
                view.submit(move || {
                    occ.enter();
                    std::thread::sleep(Duration::from_micros(200));
                    occ.leave();
                })
            })
            .collect();
        for &l in &limits {
            view.set_limit(l);
            std::thread::sleep(Duration::from_micros(500));
        }
        for h in handles {
            h.result().unwrap();
        }
        let max = limits.iter().copied().max().unwrap().max(1);
        prop_assert!(occupancy.peak() <= max);
        prop_assert_eq!(view.limit(), *limits.last().unwrap());
    }
}

#[test]
fn views_are_independent_and_excess_tasks_hold_no_worker() {
    let pool = pool(2);
    let slow = pool.limited(1);
    let gate = Gate::new();
    // The slow view's one permit is held; its other tasks wait in its queue.
    let blocked: Vec<_> = (0..10)
        .map(|_| {
            let g = gate.clone();
            slow.submit(move || g.wait())
        })
        .collect();
    // ... holding no worker: another view and plain tasks still run.
    let fast = pool.limited(1);
    assert_eq!(
        within(HANG, "other view", move || fast
            .submit(|| 5)
            .result()
            .unwrap()),
        5
    );
    assert_eq!(pool.submit(|| 6).result().unwrap(), 6);
    assert_eq!(slow.queued(), 9);
    gate.open();
    for h in blocked {
        h.result().unwrap();
    }
}

#[test]
fn a_view_task_waiting_for_its_own_view_runs_it_inline_with_limit_one() {
    let pool = pool(2);
    let view = pool.limited(1);
    let occupancy = Occupancy::default();
    let v = view.clone();
    let occ = occupancy.clone();
    let parent = view.submit(move || {
        // Waits for two tasks of the same view, queued behind it: with a
        // limit of 1 they could never start elsewhere.
        let a = v.submit(|| 20);
        let b = v.submit(|| 22);
        let v2 = v.clone();
        let nested = v.submit(move || v2.submit(|| 1).result().unwrap());
        occ.enter();
        occ.leave();
        a.result().unwrap() + b.result().unwrap() + nested.result().unwrap()
    });
    assert_eq!(
        within(HANG, "nested waits in a view", move || parent
            .result()
            .unwrap()),
        43
    );
}

#[test]
fn a_plain_task_waiting_for_a_view_task_does_not_run_it() {
    // Limit 1, the permit held by a task waiting on a gate: a plain task
    // waiting for a queued view task must not run it (that would be two of
    // the view's tasks at once); it blocks until the permit frees.
    let pool = Arc::new(pool(2));
    let view = pool.limited(1);
    let gate = Gate::new();
    let occupancy = Occupancy::default();
    let (g, occ) = (gate.clone(), occupancy.clone());
    let holder = view.submit(move || {
        occ.enter();
        g.wait();
        occ.leave();
    });
    let occ = occupancy.clone();
    let queued = view.submit(move || {
        occ.enter();
        occ.leave();
        7
    });
    let waiter = pool.submit(move || queued.result().unwrap());
    std::thread::sleep(Duration::from_millis(20));
    assert!(!waiter.done());
    gate.open();
    holder.result().unwrap();
    assert_eq!(within(HANG, "waiter", move || waiter.result().unwrap()), 7);
    assert_eq!(occupancy.peak(), 1);
}

#[test]
fn shutdown_runs_or_cancels_a_views_queue_and_then_rejects() {
    for cancel_futures in [false, true] {
        let pool = pool(2);
        let view = pool.limited(1);
        let gate = Gate::new();
        let g = gate.clone();
        let (started, is_started) = std::sync::mpsc::channel();
        let first = view.submit(move || {
            started.send(()).unwrap();
            g.wait();
        });
        is_started.recv().unwrap();
        let rest: Vec<_> = (0..20).map(|i| view.submit(move || i)).collect();
        // Shut down while the view's permit is held, then let it go.
        pool.shutdown_with(false, cancel_futures);
        gate.open();
        let pool = Arc::new(pool);
        let p = pool.clone();
        within(HANG, "shutdown", move || p.shutdown(true));
        first.result().unwrap();
        for (i, h) in rest.into_iter().enumerate() {
            match h.result() {
                Ok(v) => assert!(!cancel_futures && v == i),
                Err(TaskError::Cancelled) => assert!(cancel_futures),
                Err(e) => panic!("unexpected {e}"),
            }
        }
        assert!(matches!(
            view.submit(|| 1).result(),
            Err(TaskError::Rejected)
        ));
        let s = pool.stats();
        assert_eq!(s.tasks_queued, 0, "{s:?}");
        assert_eq!(
            s.tasks_submitted,
            s.tasks_completed + s.tasks_cancelled + s.tasks_rejected,
            "{s:?}"
        );
    }
}

#[test]
fn a_view_maps_in_input_order_within_its_limit() {
    let pool = pool(4);
    let view = pool.limited(2);
    let occupancy = Occupancy::default();
    let occ = occupancy.clone();
    let out: Vec<u32> = view
        .map_with(
            0..50_u32,
            move |x| {
                occ.enter();
                std::thread::sleep(Duration::from_micros(100));
                occ.leave();
                x * 2
            },
            executor::MapOptions::new().chunk_size(1),
        )
        .map(Result::unwrap)
        .collect();
    assert_eq!(out, (0..50).map(|x| x * 2).collect::<Vec<_>>());
    assert!(occupancy.peak() <= 2);
}

#[test]
fn a_rate_limited_view_spaces_its_starts_by_the_bucket() {
    // Checked by order, not by the clock: a task never starts before the
    // time its token was due, which the bucket computes exactly.
    let pool = pool(4);
    let api = pool.rate_limited(100, Duration::from_secs(1)).with_burst(2);
    let t0 = Instant::now();
    let starts = Arc::new(Mutex::new(Vec::new()));
    let handles: Vec<_> = (0..6)
        .map(|_| {
            let starts = starts.clone();
            api.submit(move || starts.lock().unwrap().push(t0.elapsed()))
        })
        .collect();
    within(HANG, "rate-limited tasks", move || {
        for h in handles {
            h.result().unwrap();
        }
    });
    let mut starts = starts.lock().unwrap().clone();
    starts.sort();
    // Burst of 2, then one every 10 ms: the k-th start (0-based) is no
    // earlier than (k - 1) * 10 ms.
    for (k, s) in starts.iter().enumerate().skip(2) {
        assert!(
            *s >= Duration::from_millis(10 * (k as u64 - 1)),
            "start {k} at {s:?}"
        );
    }
}

/// Rate and concurrency together: never more than the limit at once, and
/// no task starts before its token (checked by order against the bucket's
/// own schedule: the k-th start is at least (k - burst) intervals in).
#[test]
fn a_limited_and_rate_limited_view_keeps_both_promises() {
    let pool = pool(4);
    let api = pool
        .limited(2)
        .with_rate(200, Duration::from_secs(1))
        .with_burst(3);
    let occupancy = Occupancy::default();
    let t0 = Instant::now();
    let starts = Arc::new(Mutex::new(Vec::new()));
    let handles: Vec<_> = (0..12)
        .map(|_| {
            let (starts, occ) = (starts.clone(), occupancy.clone());
            api.submit(move || {
                occ.enter();
                starts.lock().unwrap().push(t0.elapsed());
                std::thread::sleep(Duration::from_millis(1));
                occ.leave();
            })
        })
        .collect();
    within(HANG, "limited, rate-limited tasks", move || {
        for h in handles {
            h.result().unwrap();
        }
    });
    assert!(occupancy.peak() <= 2);
    let mut starts = starts.lock().unwrap().clone();
    starts.sort();
    for (k, s) in starts.iter().enumerate().skip(3) {
        assert!(
            *s >= Duration::from_millis(5 * (k as u64 - 2)),
            "start {k} at {s:?}"
        );
    }
    pool.shutdown(true);
    let s = pool.stats();
    assert_eq!(
        (s.tasks_completed, s.tasks_queued, s.tasks_delayed),
        (12, 0, 0),
        "{s:?}"
    );
}

#[test]
fn shutdown_cancels_tasks_waiting_for_a_rate_token() {
    let pool = pool(2);
    let api = pool.rate_limited(1, Duration::from_secs(3600));
    let first = api.submit(|| 1);
    let later: Vec<_> = (0..5).map(|i| api.submit(move || i)).collect();
    assert_eq!(
        within(HANG, "first token", move || first.result().unwrap()),
        1
    );
    within(HANG, "shutdown", {
        let pool = Arc::new(pool);
        move || {
            pool.shutdown(true);
            let s = pool.stats();
            assert_eq!((s.tasks_completed, s.tasks_cancelled), (1, 5), "{s:?}");
            assert_eq!((s.tasks_queued, s.tasks_delayed), (0, 0), "{s:?}");
        }
    });
    for h in later {
        assert!(matches!(h.result(), Err(TaskError::Cancelled)));
    }
}

/// Async tasks in a view hold their permit from the first poll until they
/// finish, across the polls that return `Pending`: never more than the
/// limit of them between start and end; cancelled ones give none back
/// twice (the view still runs everything else afterwards).
#[test]
fn async_tasks_in_a_view_hold_a_permit_until_they_finish() {
    let pool = Arc::new(pool(4));
    let view = pool.limited(2);
    let occupancy = Occupancy::default();
    let handles: Vec<_> = (0..12u64)
        .map(|i| {
            let (occ, p) = (occupancy.clone(), pool.clone());
            view.spawn(async move {
                occ.enter();
                // Parked on another task: `Pending` at least once.
                let slept = p.submit(move || std::thread::sleep(Duration::from_millis(1)));
                slept.await.unwrap();
                occ.leave();
                i
            })
        })
        .collect();
    let cancelled = handles
        .iter()
        .skip(6)
        .step_by(3)
        .filter(|h| h.cancel())
        .count();
    let after: Vec<_> = (0..4u64).map(|i| view.submit(move || i)).collect();
    let sum = within(HANG, "async view tasks", move || {
        let mut sum = 0;
        for h in handles {
            match h.result() {
                Ok(v) => sum += v,
                Err(TaskError::Cancelled) => {}
                Err(e) => panic!("unexpected {e}"),
            }
        }
        sum + after.into_iter().map(|h| h.result().unwrap()).sum::<u64>()
    });
    assert!(occupancy.peak() <= 2, "peak {}", occupancy.peak());
    assert!(sum >= 6, "the view kept running after cancellations");
    pool.shutdown(true);
    let s = pool.stats();
    assert_eq!(s.tasks_cancelled, cancelled as u64);
    assert_eq!(s.tasks_queued, 0, "{s:?}");
}

#[test]
#[should_panic(expected = "the limit must be at least 1")]
fn a_zero_limit_is_refused() {
    let pool = ThreadPoolExecutor::new();
    let _ = pool.limited(0);
}
