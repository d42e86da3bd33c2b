//! Delayed and periodic tasks: exactly once, never after a cancel, never
//! overlapping, resolved at shutdown, counted in `stats()`, and no CPU
//! spent while waiting. No timed assertions: sleeps only give the timer a
//! chance to fire, and every property is one of orders and counts.

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use executor::{Outcome, TaskError, ThreadPoolExecutor};
use proptest::prelude::*;
use support::{pool, within, HANG};

const HOUR: Duration = Duration::from_secs(3600);

#[test]
fn a_delayed_task_runs_once_not_before_its_time() {
    let pool = pool(2);
    let submitted = Instant::now();
    let delay = Duration::from_millis(30);
    let handle = pool.submit_after(delay, move || submitted.elapsed());
    assert!(!handle.done());
    let waited = within(HANG, "delayed task", move || handle.result().unwrap());
    assert!(
        waited >= delay,
        "started after {waited:?}, due after {delay:?}"
    );
    let stats = pool.stats();
    assert_eq!((stats.tasks_completed, stats.tasks_delayed), (1, 0));
}

#[test]
fn a_cancelled_delayed_task_never_runs_and_is_counted_at_its_due_time() {
    let pool = pool(1);
    let ran = Arc::new(AtomicUsize::new(0));
    let r = ran.clone();
    let handle = pool.submit_after(Duration::from_millis(20), move || {
        r.fetch_add(1, Ordering::SeqCst)
    });
    let (tx, rx) = mpsc::channel();
    handle.add_done_callback(move |outcome| tx.send(outcome).unwrap());
    assert!(handle.cancel());
    assert_eq!(rx.recv().unwrap(), Outcome::Cancelled);
    assert!(matches!(handle.result(), Err(TaskError::Cancelled)));
    // After its due time the timer discards it and counts it, once.
    within(HANG, "discarded", {
        let pool_stats = move || pool.stats();
        move || {
            while pool_stats().tasks_delayed != 0 {
                std::thread::sleep(Duration::from_millis(5));
            }
            let s = pool_stats();
            assert_eq!((s.tasks_submitted, s.tasks_cancelled), (1, 1));
        }
    });
    assert_eq!(ran.load(Ordering::SeqCst), 0);
}

#[test]
fn shutdown_cancels_pending_timers_with_or_without_cancel_futures() {
    for cancel_futures in [false, true] {
        let pool = pool(2);
        let handles: Vec<_> = (0..100)
            .map(|i| pool.submit_after(HOUR, move || i))
            .collect();
        let schedule = pool.schedule_at_fixed_rate(HOUR, HOUR, || unreachable!());
        assert_eq!(pool.stats().tasks_delayed, 101);
        within(HANG, "shutdown with pending timers", {
            let pool = Arc::new(pool);
            move || {
                pool.shutdown_with(true, cancel_futures);
                let s = pool.stats();
                assert_eq!(s.tasks_delayed, 0);
                assert_eq!(s.tasks_cancelled, 101);
                assert_eq!(s.tasks_submitted, 101);
            }
        });
        for h in handles {
            assert!(matches!(h.result(), Err(TaskError::Cancelled)));
        }
        assert!(matches!(schedule.result(), Err(TaskError::Cancelled)));
    }
}

#[test]
fn timers_after_shutdown_are_rejected() {
    let pool = pool(1);
    pool.shutdown(true);
    assert!(matches!(
        pool.submit_after(Duration::ZERO, || 1).result(),
        Err(TaskError::Rejected)
    ));
    let s = pool.schedule_with_fixed_delay(Duration::ZERO, Duration::from_millis(1), || ());
    assert!(matches!(s.result(), Err(TaskError::Rejected)));
}

#[test]
fn a_worker_waiting_for_a_delayed_task_does_not_run_it_early_nor_deadlock() {
    let pool = Arc::new(pool(1));
    let p = pool.clone();
    let outer = pool.submit(move || {
        let due = Instant::now() + Duration::from_millis(20);
        let inner = p.submit_at(due, move || Instant::now() >= due);
        inner.result().unwrap()
    });
    assert!(within(
        HANG,
        "wait on a delayed task from the only worker",
        move || outer.result().unwrap()
    ));
}

#[test]
fn a_periodic_task_runs_repeatedly_never_overlapping_and_stops_on_cancel() {
    for fixed_rate in [true, false] {
        let pool = pool(4);
        let inside = Arc::new(AtomicUsize::new(0));
        let overlaps = Arc::new(AtomicUsize::new(0));
        let runs = Arc::new(AtomicUsize::new(0));
        let (tx, rx) = mpsc::channel();
        let (i, o, r) = (inside.clone(), overlaps.clone(), runs.clone());
        let body = move || {
            if i.fetch_add(1, Ordering::SeqCst) != 0 {
                o.fetch_add(1, Ordering::SeqCst);
            }
            // Overruns its 1 ms period every time.
            std::thread::sleep(Duration::from_millis(3));
            i.fetch_sub(1, Ordering::SeqCst);
            if r.fetch_add(1, Ordering::SeqCst) + 1 == 5 {
                let _ = tx.send(());
            }
        };
        let ms = Duration::from_millis(1);
        let schedule = if fixed_rate {
            pool.schedule_at_fixed_rate(Duration::ZERO, ms, body)
        } else {
            pool.schedule_with_fixed_delay(Duration::ZERO, ms, body)
        };
        rx.recv_timeout(HANG).expect("five runs");
        assert!(schedule.cancel());
        assert!(schedule.done(), "cancelled means resolved");
        let after_cancel = runs.load(Ordering::SeqCst);
        // A run in progress at the cancel may finish; none starts after.
        pool.shutdown(true);
        assert!(runs.load(Ordering::SeqCst) <= after_cancel + 1);
        assert_eq!(overlaps.load(Ordering::SeqCst), 0, "runs overlapped");
        let s = pool.stats();
        assert_eq!(s.tasks_submitted, 1, "a schedule is one task");
        assert_eq!(s.tasks_cancelled, 1);
        assert_eq!(s.tasks_completed + s.tasks_panicked, 0);
    }
}

#[test]
fn a_panicking_run_stops_the_schedule_with_its_panic() {
    let pool = pool(2);
    let runs = Arc::new(AtomicUsize::new(0));
    let r = runs.clone();
    let schedule =
        pool.schedule_at_fixed_rate(Duration::ZERO, Duration::from_millis(1), move || {
            if r.fetch_add(1, Ordering::SeqCst) == 3 {
                panic!("run four failed");
            }
        });
    let err = within(HANG, "schedule ends", move || {
        schedule.result().unwrap_err()
    });
    assert_eq!(err.to_string(), "task panicked: run four failed");
    pool.shutdown(true);
    assert_eq!(runs.load(Ordering::SeqCst), 4, "no run after the panic");
    let s = pool.stats();
    assert_eq!((s.tasks_submitted, s.tasks_panicked), (1, 1));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(16))]

    /// Exactly once under cancel races: every delayed task either ran once
    /// or was cancelled (and never ran), whatever the delays and the
    /// moment of the cancel; and the stats balance afterwards.
    #[test]
    fn each_delayed_task_runs_once_or_is_cancelled(
        delays in prop::collection::vec(0u64..3_000, 1..60),
        cancel_every in 1usize..5,
    ) {
        let pool = pool(2);
        let runs: Arc<Vec<AtomicUsize>> = Arc::new((0..delays.len()).map(|_| AtomicUsize::new(0)).collect());
        let handles: Vec<_> = delays
            .iter()
            .enumerate()
            .map(|(i, &us)| {
                let runs = runs.clone();
                pool.submit_after(Duration::from_micros(us), move || runs[i].fetch_add(1, Ordering::SeqCst))
            })
            .collect();
        let mut cancelled = vec![false; handles.len()];
        for (i, h) in handles.iter().enumerate() {
            if i % cancel_every == 0 {
                cancelled[i] = h.cancel();
            }
        }
        for (i, h) in handles.into_iter().enumerate() {
            let r = h.result();
            prop_assert_eq!(r.is_ok(), !cancelled[i]);
            prop_assert_eq!(runs[i].load(Ordering::SeqCst), usize::from(!cancelled[i]));
        }
        pool.shutdown(true);
        let s = pool.stats();
        prop_assert_eq!(s.tasks_submitted, delays.len() as u64);
        prop_assert_eq!(
            s.tasks_completed + s.tasks_cancelled,
            s.tasks_submitted,
            "{:?}", s
        );
        prop_assert_eq!(s.tasks_cancelled, cancelled.iter().filter(|c| **c).count() as u64);
    }

    /// On one worker, tasks start in due order: everything is scheduled
    /// (in due order, at instants already past) while the worker is held,
    /// and the timer fires all of it (the stats say so) before the worker
    /// is released. This checks the path timer → injector → worker; the
    /// heap's own order under interleaved pushes and firings is the
    /// property test in `timer/queue.rs`, with a clock the test moves.
    #[test]
    fn tasks_due_earlier_start_no_later_on_one_worker(
        offsets in prop::collection::vec(0u64..1_000, 1..40),
    ) {
        let (pool, gate, blocker) = support::blocked_pool();
        let base = Instant::now() - Duration::from_secs(1);
        let order = Arc::new(Mutex::new(Vec::new()));
        let mut sorted: Vec<(u64, usize)> = offsets.iter().copied().zip(0..).collect();
        sorted.sort();
        let handles: Vec<_> = sorted
            .iter()
            .map(|&(off, i)| {
                let order = order.clone();
                pool.submit_at(base + Duration::from_micros(off), move || order.lock().unwrap().push(i))
            })
            .collect();
        let stats = {
            let pool = &pool;
            move || pool.stats().tasks_delayed
        };
        let t0 = Instant::now();
        while stats() != 0 && t0.elapsed() < HANG {
            std::thread::sleep(Duration::from_millis(1));
        }
        gate.open();
        blocker.result().unwrap();
        for h in handles {
            h.result().unwrap();
        }
        let expected: Vec<usize> = sorted.iter().map(|&(_, i)| i).collect();
        prop_assert_eq!(&*order.lock().unwrap(), &expected);
    }
}

/// 1,000 timers due in an hour: the timer thread sleeps, the workers
/// sleep, nothing polls.
#[cfg(target_os = "linux")]
#[test]
fn pending_timers_use_no_cpu() {
    let pool = ThreadPoolExecutor::builder()
        .max_workers(2)
        .thread_name_prefix("tmridle")
        .build()
        .unwrap();
    let handles: Vec<_> = (0..1_000)
        .map(|i| pool.submit_after(HOUR, move || i))
        .collect();
    let _schedule = pool.schedule_at_fixed_rate(HOUR, HOUR, || ());
    std::thread::sleep(Duration::from_millis(200));
    let (before, threads) = support::cpu_ticks_of_threads("tmridle");
    assert!(threads >= 2, "the timer thread and a worker exist");
    std::thread::sleep(Duration::from_millis(1000));
    let (after, _) = support::cpu_ticks_of_threads("tmridle");
    eprintln!("pending timers: {} CPU ticks in one second", after - before);
    assert!(
        after - before <= 5,
        "pending timers used {} CPU ticks in one second",
        after - before
    );
    assert_eq!(pool.stats().tasks_delayed, 1_001);
    drop(handles);
}

/// `shutdown(true)` waits for the timer thread to finish resolving what it
/// was firing, but a done callback that the timer thread itself runs (a
/// delayed task cancelled as it fires into a closing pool) and that shuts
/// the pool down must not wait for its own thread; nor must the last
/// reference to the pool, dropped there. Callbacks on every thread shut
/// the pool down, racing the test's own `shutdown(true)`: no hang, and
/// every task is counted once.
#[test]
fn done_callbacks_that_shut_the_pool_down_never_wait_for_their_own_thread() {
    let on_timer = Arc::new(AtomicUsize::new(0));
    for round in 0..support::stress_size(1_000, 10_000) {
        let on_timer = on_timer.clone();
        within(HANG, "callbacks shutting the pool down", move || {
            let pool = Arc::new(pool(1 + round % 2));
            let handles: Vec<_> = (0..20u64)
                .map(|i| {
                    let h = pool.submit_after(Duration::from_micros(i * 5), move || i);
                    let (p, on_timer) = (pool.clone(), on_timer.clone());
                    h.add_done_callback(move |_| {
                        let name = std::thread::current().name().map(str::to_owned);
                        if name.is_some_and(|n| n.ends_with("-timer")) {
                            on_timer.fetch_add(1, Ordering::Relaxed);
                        }
                        p.shutdown(true);
                        drop(p); // possibly the last reference, on this thread
                    });
                    h
                })
                .collect();
            std::thread::sleep(Duration::from_micros(20 * (round % 4) as u64));
            pool.shutdown(true);
            let s = pool.stats();
            // A callback may shut the pool down before the last submits:
            // those are rejected.
            let done: u64 = [s.tasks_completed, s.tasks_cancelled, s.tasks_rejected]
                .iter()
                .sum();
            assert_eq!((s.tasks_submitted, done), (20, 20), "round {round}: {s:?}");
            for h in handles {
                let result = h.result();
                assert!(
                    matches!(
                        result,
                        Ok(_) | Err(TaskError::Cancelled | TaskError::Rejected)
                    ),
                    "round {round}: {result:?}"
                );
            }
        });
    }
    // Not asserted (it depends on timing): how often the timer thread was
    // the one to run a callback, i.e. how often the guarded path ran.
    eprintln!(
        "callbacks run on the timer thread: {}",
        on_timer.load(Ordering::Relaxed)
    );
}
