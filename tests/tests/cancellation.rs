//! Stopping running work: `CancelToken`, `submit_with_token`,
//! `TaskHandle::cancel` on a started token task, and `shutdown_timeout`.

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use executor::{CancelToken, TaskError, ThreadPoolExecutor};
use support::{pool, within, Gate, HANG};

/// A task that works in small steps until its token is cancelled and
/// returns how many steps it made (at least one: it looks after each).
fn until_stopped(token: CancelToken) -> usize {
    let mut steps = 0;
    loop {
        steps += 1;
        if token.is_cancelled() {
            return steps;
        }
        std::thread::yield_now();
    }
}

#[test]
fn cancel_on_a_started_token_task_asks_it_to_stop() {
    within(HANG, "stop a running task", || {
        let pool = pool(2);
        let started = Gate::new();
        let s = started.clone();
        let handle = pool.submit_with_token(move |token| {
            s.open();
            until_stopped(token)
        });
        started.wait();
        assert!(
            !handle.cancel(),
            "it ran: cancel() says it was not stopped before"
        );
        assert!(!handle.cancelled());
        let steps = handle.result().expect("a stopped task returns its value");
        assert!(steps > 0);
    });
}

#[test]
fn cancel_before_start_means_the_body_never_runs() {
    let (pool, gate, blocker) = support::blocked_pool();
    let ran = Arc::new(AtomicUsize::new(0));
    let r = ran.clone();
    let handle = pool.submit_with_token(move |_| r.fetch_add(1, Ordering::SeqCst));
    assert!(handle.cancel());
    gate.open();
    blocker.result().unwrap();
    assert!(handle.result().unwrap_err().is_cancelled());
    pool.shutdown(true);
    assert_eq!(ran.load(Ordering::SeqCst), 0);
    assert_eq!(pool.stats().tasks_cancelled, 1);
}

#[test]
fn a_task_whose_token_is_cancelled_before_its_body_is_not_started() {
    let pool = pool(2);
    let ran = Arc::new(AtomicUsize::new(0));
    let token = CancelToken::new();
    token.cancel();
    let handles: Vec<_> = (0..50)
        .map(|_| {
            let r = ran.clone();
            pool.submit_with_given_token(Some("late"), token.child(), move |_| {
                r.fetch_add(1, Ordering::SeqCst);
            })
        })
        .collect();
    for h in handles {
        assert!(h.result().unwrap_err().is_cancelled());
    }
    pool.shutdown(true);
    assert_eq!(ran.load(Ordering::SeqCst), 0);
    let stats = pool.stats();
    assert_eq!(stats.tasks_cancelled, 50);
    assert_eq!(stats.tasks_completed, 0);
}

#[test]
fn check_turns_a_stop_into_task_error_cancelled() {
    within(HANG, "check()?", || {
        let pool = pool(1);
        let token = CancelToken::new();
        let t = token.clone();
        let started = Gate::new();
        let s = started.clone();
        let handle = pool.submit_with_given_token(None, token.clone(), move |token| {
            s.open();
            loop {
                token.check()?;
                std::thread::yield_now();
            }
            #[allow(unreachable_code)]
            Ok::<(), TaskError>(())
        });
        started.wait();
        t.cancel();
        assert!(matches!(handle.result(), Ok(Err(TaskError::Cancelled))));
    });
}

#[test]
fn plain_submit_cancel_on_a_running_task_still_returns_false() {
    let pool = pool(1);
    let gate = Gate::new();
    let (g, started) = (gate.clone(), Gate::new());
    let s = started.clone();
    let handle = pool.submit(move || {
        s.open();
        g.wait();
        7
    });
    started.wait();
    assert!(!handle.cancel());
    gate.open();
    assert_eq!(handle.result().unwrap(), 7);
}

#[test]
fn an_async_task_awaits_its_token() {
    within(HANG, "cancelled() future", || {
        let pool = pool(2);
        let token = CancelToken::new();
        let t = token.clone();
        let handle = pool.spawn(async move {
            t.cancelled().await;
            "stopped"
        });
        std::thread::sleep(Duration::from_millis(2));
        token.cancel();
        assert_eq!(handle.result().unwrap(), "stopped");
    });
}

#[test]
fn a_token_wait_on_a_one_worker_pool_does_not_starve_the_task_that_cancels_it() {
    within(HANG, "token.wait() on the only worker", || {
        let pool = Arc::new(pool(1));
        let token = CancelToken::new();
        let (p, t) = (pool.clone(), token.clone());
        let waiter = pool.submit(move || {
            let t2 = t.clone();
            drop(p.submit(move || t2.cancel())); // needs a worker while we block
            t.wait();
        });
        waiter.result().unwrap();
    });
}

/// Cancellation storms: threads cancel random handles while their tasks
/// start, run and finish. Every task ends exactly once, as one of: it ran
/// to its end, it was stopped through its token, or it never ran.
#[test]
fn cancellation_storm_on_running_tasks() {
    let n = support::stress_size(2_000, 50_000);
    within(HANG * 4, "cancellation storm", move || {
        let pool = Arc::new(pool(4));
        let bodies = Arc::new((0..n).map(|_| AtomicUsize::new(0)).collect::<Vec<_>>());
        let handles: Arc<Vec<_>> = Arc::new(
            (0..n)
                .map(|i| {
                    let bodies = bodies.clone();
                    pool.submit_with_token(move |token| {
                        bodies[i].fetch_add(1, Ordering::SeqCst);
                        for _ in 0..(i % 50) {
                            if token.is_cancelled() {
                                return false; // stopped
                            }
                            std::hint::spin_loop();
                        }
                        true // finished
                    })
                })
                .collect(),
        );
        let cancellers: Vec<_> = (0..3)
            .map(|k| {
                let handles = handles.clone();
                std::thread::spawn(move || {
                    let mut x = 0x9e37_79b9_u64 + k;
                    for _ in 0..n {
                        x ^= x << 13;
                        x ^= x >> 7;
                        x ^= x << 17;
                        handles[(x % n as u64) as usize].cancel();
                    }
                })
            })
            .collect();
        for c in cancellers {
            c.join().unwrap();
        }
        let handles = Arc::try_unwrap(handles).expect("cancellers joined");
        let (mut finished, mut stopped, mut never_ran) = (0, 0, 0);
        for (i, h) in handles.into_iter().enumerate() {
            let entries = bodies[i].load(Ordering::SeqCst);
            match h.result() {
                Ok(true) => finished += 1,
                Ok(false) => stopped += 1,
                Err(e) => {
                    assert!(e.is_cancelled(), "task {i}: {e}");
                    assert_eq!(entries, 0, "task {i} was cancelled but its body ran");
                    never_ran += 1;
                    continue;
                }
            }
            assert_eq!(entries, 1, "task {i} ran {entries} times");
        }
        assert_eq!(finished + stopped + never_ran, n);
        pool.shutdown(true);
        let stats = pool.stats();
        assert_eq!(stats.tasks_cancelled, never_ran as u64);
        assert_eq!(stats.tasks_completed, (finished + stopped) as u64);
    });
}

#[test]
fn shutdown_timeout_terminates_when_everything_finishes() {
    within(HANG, "shutdown_timeout", || {
        let pool = pool(2);
        let handles: Vec<_> = (0..100).map(|i| pool.submit(move || i)).collect();
        let report = pool.shutdown_timeout(HANG);
        assert!(report.terminated, "{report}");
        assert_eq!(report.still_running, 0);
        for (i, h) in handles.into_iter().enumerate() {
            assert_eq!(h.result().unwrap(), i);
        }
        assert!(matches!(
            pool.submit(|| ()).result(),
            Err(TaskError::Rejected)
        ));
    });
}

#[test]
fn shutdown_timeout_reports_running_tasks_and_cancels_their_tokens_and_the_queue() {
    within(HANG, "shutdown_timeout at its deadline", || {
        let pool = pool(2);
        let release = Gate::new();
        let started = Arc::new(AtomicUsize::new(0));
        // One uncooperative task (ignores its token), one cooperative one.
        let (r, s1) = (release.clone(), started.clone());
        let stubborn =
            pool.submit_with_given_token(Some("stubborn"), CancelToken::new(), move |_| {
                s1.fetch_add(1, Ordering::SeqCst);
                r.wait();
                "done late"
            });
        let s2 = started.clone();
        let polite = pool.submit_with_given_token(Some("polite"), CancelToken::new(), move |t| {
            s2.fetch_add(1, Ordering::SeqCst);
            until_stopped(t)
        });
        while started.load(Ordering::SeqCst) < 2 {
            std::thread::yield_now();
        }
        let queued: Vec<_> = (0..5).map(|i| pool.submit(move || i)).collect();
        let report = pool.shutdown_timeout(Duration::from_millis(10));
        assert!(!report.terminated);
        assert_eq!(report.still_running, 2, "{report:?}");
        let mut ids: Vec<_> = report.asked_to_stop.iter().map(|t| t.id).collect();
        ids.sort();
        let mut expected = vec![stubborn.id(), polite.id()];
        expected.sort();
        assert_eq!(ids, expected);
        let mut names: Vec<_> = report.asked_to_stop.iter().map(|t| t.name).collect();
        names.sort();
        assert_eq!(names, [Some("polite"), Some("stubborn")]);
        let mut running: Vec<_> = report.running.iter().map(|t| (t.id, t.name)).collect();
        running.sort();
        let mut by_id: Vec<_> = report
            .asked_to_stop
            .iter()
            .map(|t| (t.id, t.name))
            .collect();
        by_id.sort();
        assert_eq!(
            running, by_id,
            "the workers run exactly the two token tasks"
        );
        assert_eq!(report.cancelled_queued, 5);
        for h in queued {
            assert!(h.result().unwrap_err().is_cancelled());
        }
        assert!(polite.result().unwrap() > 0, "it saw its token");
        release.open();
        assert_eq!(stubborn.result().unwrap(), "done late", "nothing lost");
    });
}

#[test]
fn shutdown_timeout_names_every_kind_of_running_task() {
    within(
        HANG,
        "shutdown_timeout names plain, named and async tasks",
        || {
            let pool = pool(3);
            let release = Gate::new();
            let started = Arc::new(AtomicUsize::new(0));
            let body = |r: Gate, s: Arc<AtomicUsize>| {
                move || {
                    s.fetch_add(1, Ordering::SeqCst);
                    r.wait();
                }
            };
            let plain = pool.submit(body(release.clone(), started.clone()));
            let named = pool.submit_named("resize images", body(release.clone(), started.clone()));
            let run = body(release.clone(), started.clone());
            let spawned = pool.spawn(async move { run() }); // blocks in its poll
            while started.load(Ordering::SeqCst) < 3 {
                std::thread::yield_now();
            }
            let report = pool.shutdown_timeout(Duration::from_millis(5));
            assert!(!report.terminated);
            assert_eq!(report.still_running, 3, "{report:?}");
            assert!(report.asked_to_stop.is_empty(), "no token tasks");
            let mut running: Vec<_> = report.running.iter().map(|t| (t.id, t.name)).collect();
            running.sort();
            let mut expected = vec![
                (plain.id(), None),
                (named.id(), Some("resize images")),
                (spawned.id(), None),
            ];
            expected.sort();
            assert_eq!(running, expected);
            let text = report.to_string();
            assert!(text.contains("resize images"), "{text}");
            release.open();
            plain.result().unwrap();
            named.result().unwrap();
            spawned.result().unwrap();
        },
    );
}

#[test]
fn shutdown_timeout_lists_the_innermost_task_of_a_worker_that_waits() {
    within(HANG, "shutdown_timeout with nested runs", || {
        let pool = Arc::new(pool(1));
        let release = Gate::new();
        let (ids, inner_id) = std::sync::mpsc::channel();
        let (p, r) = (pool.clone(), release.clone());
        let outer = pool.submit_named("outer", move || {
            let inner = p.submit_named("inner", move || r.wait());
            ids.send(inner.id()).unwrap();
            inner.result().unwrap(); // runs `inner` right here
        });
        let inner_id = inner_id.recv().unwrap();
        while pool.stats().tasks_running < 2 {
            std::thread::yield_now();
        }
        let report = pool.shutdown_timeout(Duration::from_millis(5));
        assert_eq!(report.still_running, 2, "{report:?}");
        let running: Vec<_> = report.running.iter().map(|t| (t.id, t.name)).collect();
        assert_eq!(running, [(inner_id, Some("inner"))], "{report:?}");
        release.open();
        outer.result().unwrap();
    });
}

#[test]
fn shutdown_timeout_with_cancel_futures_cancels_the_queue_at_once() {
    let (pool, gate, blocker) = support::blocked_pool();
    while !blocker.running() {
        std::thread::yield_now();
    }
    let queued: Vec<_> = (0..3).map(|i| pool.submit(move || i)).collect();
    let g = gate.clone();
    let opener = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(5));
        g.open();
    });
    let report = pool.shutdown_timeout_with(HANG, true);
    opener.join().unwrap();
    assert!(report.terminated);
    blocker.result().unwrap();
    for h in queued {
        assert!(h.result().unwrap_err().is_cancelled());
    }
}

/// The figure for the closing note: how long `shutdown_timeout(10 ms)`
/// takes with 4 uncooperative running tasks. A measurement, not a timed
/// assertion: `cargo test -p executor-tests --test cancellation --release
/// -- --ignored --nocapture measure_`.
#[test]
#[ignore = "a measurement; prints its figures"]
fn measure_shutdown_timeout_with_four_uncooperative_tasks() {
    let mut samples = Vec::new();
    for _ in 0..20 {
        let pool = ThreadPoolExecutor::builder()
            .max_workers(4)
            .build()
            .unwrap();
        let release = Gate::new();
        let started = Arc::new(AtomicUsize::new(0));
        let handles: Vec<_> = (0..4)
            .map(|_| {
                let (r, s) = (release.clone(), started.clone());
                pool.submit_with_token(move |_ignored| {
                    s.fetch_add(1, Ordering::SeqCst);
                    r.wait();
                })
            })
            .collect();
        while started.load(Ordering::SeqCst) < 4 {
            std::thread::yield_now();
        }
        let t0 = Instant::now();
        let report = pool.shutdown_timeout(Duration::from_millis(10));
        samples.push(t0.elapsed());
        assert_eq!(report.asked_to_stop.len(), 4);
        release.open();
        for h in handles {
            h.result().unwrap();
        }
    }
    samples.sort();
    println!(
        "shutdown_timeout(10 ms), 4 uncooperative tasks, 20 runs: min {:?}, median {:?}, max {:?}",
        samples[0], samples[10], samples[19]
    );
}

#[test]
fn a_scoped_task_with_a_token_is_stopped_through_its_handle() {
    within(HANG, "scope submit_with_token", || {
        let pool = pool(2);
        let data = vec![1_u64; 64];
        let started = Gate::new();
        pool.scope(|s| {
            let s2 = started.clone();
            let data = &data;
            let h = s.submit_with_token(move |token| {
                s2.open();
                loop {
                    let sum = data.iter().sum::<u64>();
                    if token.is_cancelled() {
                        return sum;
                    }
                    std::thread::yield_now();
                }
            });
            started.wait();
            assert!(!h.cancel(), "it ran");
            assert_eq!(h.result().unwrap(), 64);
        });
    });
}

/// Extreme deadlines: a zero token wait reports the token's state at once;
/// `shutdown_timeout(Duration::MAX)` neither overflows nor hangs once the
/// work is done; `shutdown_timeout(Duration::ZERO)` stops a running token
/// task at once and reports it, and the task still delivers its value; a
/// task due after `Duration::MAX` can be cancelled.
#[test]
fn extreme_deadlines_neither_panic_nor_hang() {
    within(HANG, "extreme deadlines", || {
        let token = CancelToken::new();
        assert!(!token.wait_timeout(Duration::ZERO));
        token.cancel();
        assert!(token.wait_timeout(Duration::ZERO));

        let idle = pool(2);
        let report = idle.shutdown_timeout(Duration::MAX);
        assert!(report.terminated, "{report:?}");
        assert_eq!(report.still_running, 0);
        assert!(report.asked_to_stop.is_empty());

        let busy = pool(1);
        let (started_tx, started_rx) = std::sync::mpsc::channel();
        let stopping = busy.submit_with_token(move |token: CancelToken| {
            started_tx.send(()).unwrap();
            token.wait();
            7
        });
        started_rx.recv().unwrap();
        let report = busy.shutdown_timeout(Duration::ZERO);
        assert_eq!(report.asked_to_stop.len(), 1, "{report:?}");
        assert_eq!(stopping.result().unwrap(), 7);

        let timers = pool(1);
        let far = timers.submit_after(Duration::MAX, || 1);
        assert!(far.cancel());
        assert!(far.result().unwrap_err().is_cancelled());
    });
}

#[test]
fn two_threads_calling_shutdown_timeout_at_once_both_report_and_nothing_is_lost() {
    within(HANG, "two shutdown_timeout calls at once", || {
        let pool = Arc::new(pool(2));
        let release = Gate::new();
        let started = Arc::new(AtomicUsize::new(0));
        let (r, s) = (release.clone(), started.clone());
        let stubborn = pool.submit_named("stubborn", move || {
            s.fetch_add(1, Ordering::SeqCst);
            r.wait();
            7
        });
        while started.load(Ordering::SeqCst) < 1 {
            std::thread::yield_now();
        }
        let queued: Vec<_> = (0..4).map(|i| pool.submit(move || i)).collect();
        let callers: Vec<_> = (0..2)
            .map(|_| {
                let pool = pool.clone();
                std::thread::spawn(move || pool.shutdown_timeout(Duration::from_millis(5)))
            })
            .collect();
        for caller in callers {
            let report = caller.join().unwrap();
            assert!(!report.terminated, "{report:?}");
            let running: Vec<_> = report.running.iter().map(|t| (t.id, t.name)).collect();
            assert_eq!(running, [(stubborn.id(), Some("stubborn"))], "{report:?}");
        }
        for h in queued {
            let _ = h.result(); // ran before the deadline, or cancelled at it
        }
        release.open();
        assert_eq!(stubborn.result().unwrap(), 7, "nothing lost");
        let report = pool.shutdown_timeout(HANG);
        assert!(report.terminated, "{report:?}");
    });
}
