//! `shutdown(wait = true)` called from several threads at once: each caller
//! returns only once everything `wait` promises has happened.

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use support::{within, Gate, HANG};

/// Two threads call `shutdown(true)` while one task runs (held on a gate)
/// and more are queued. Whichever caller comes second finds the worker
/// threads already being joined by the first: it must still wait, as
/// Python's second `shutdown(wait=True)` does, and not return while queued
/// tasks have yet to run.
#[test]
fn every_waiting_shutdown_returns_after_all_tasks_finished() {
    const TASKS: usize = 50;
    let pool = Arc::new(support::pool(1));
    let finished = Arc::new(AtomicUsize::new(0));
    let gate = Gate::new();
    let running = {
        let (gate, finished) = (gate.clone(), finished.clone());
        pool.submit(move || {
            gate.wait();
            finished.fetch_add(1, Ordering::SeqCst);
        })
    };
    while !running.running() {
        thread::yield_now();
    }
    for _ in 1..TASKS {
        let finished = finished.clone();
        drop(pool.submit(move || {
            finished.fetch_add(1, Ordering::SeqCst);
        }));
    }
    let entered = Arc::new(AtomicUsize::new(0));
    let callers: Vec<_> = (0..2)
        .map(|_| {
            let (pool, finished, entered) = (pool.clone(), finished.clone(), entered.clone());
            thread::spawn(move || {
                entered.fetch_add(1, Ordering::SeqCst);
                pool.shutdown(true);
                // Read right after the return: what the caller was promised.
                (finished.load(Ordering::SeqCst), pool.stats().workers_alive)
            })
        })
        .collect();
    while entered.load(Ordering::SeqCst) < 2 {
        thread::yield_now();
    }
    // Room for a caller that does not wait to return early (not a timing
    // assertion: a correct shutdown passes whatever the timing).
    thread::sleep(Duration::from_millis(50));
    gate.open();
    let seen = within(HANG, "two waiting shutdowns", move || {
        callers
            .into_iter()
            .map(|c| c.join().unwrap())
            .collect::<Vec<_>>()
    });
    assert_eq!(
        seen,
        [(TASKS, 0), (TASKS, 0)],
        "each caller returned after all {TASKS} tasks finished and every worker exited"
    );
    assert!(running.done());
}

/// A task that shuts its own pool down with `wait` while a thread outside
/// does the same: the task's call must not wait for its own worker (or for
/// the outside caller, which is joining that worker), and the outside call
/// still returns only after every task, the calling one included, finished.
#[test]
fn waiting_shutdowns_from_a_task_and_from_outside_together() {
    const TASKS: usize = 20;
    let pool = Arc::new(support::pool(2));
    let finished = Arc::new(AtomicUsize::new(0));
    let gate = Gate::new();
    let task = {
        let (pool, gate, finished) = (pool.clone(), gate.clone(), finished.clone());
        pool.clone().submit(move || {
            gate.wait();
            pool.shutdown(true);
            finished.fetch_add(1, Ordering::SeqCst);
            pool.is_shutdown()
        })
    };
    while !task.running() {
        thread::yield_now();
    }
    for _ in 1..TASKS {
        let finished = finished.clone();
        drop(pool.submit(move || {
            finished.fetch_add(1, Ordering::SeqCst);
        }));
    }
    let outside = {
        let (pool, finished) = (pool.clone(), finished.clone());
        thread::spawn(move || {
            pool.shutdown(true);
            (finished.load(Ordering::SeqCst), pool.stats().workers_alive)
        })
    };
    thread::sleep(Duration::from_millis(20));
    gate.open();
    let (seen, shut) = within(HANG, "shutdown from a task and from outside", move || {
        (outside.join().unwrap(), task.result().unwrap())
    });
    assert!(shut);
    assert_eq!(seen, (TASKS, 0));
}

/// A task queued while the pool's only worker is retiring (its keep-alive
/// passed: it no longer counts as alive, but still holds its slot until its
/// `on_thread_stop` hook returns) runs, also when a shutdown comes inside
/// that window and finds no worker alive: the submitter starts a worker on
/// a spare slot, and the shutdown waits for it (or, without `wait`, the
/// task still runs). The hook holds the window open.
#[test]
fn a_task_queued_while_the_last_worker_retires_runs_before_shutdown_returns() {
    within(HANG, "shutdown during a retirement", || {
        for wait in [true, false] {
            let stopping = Gate::new();
            let release = Gate::new();
            let (s, r) = (stopping.clone(), release.clone());
            let pool = executor::ThreadPoolExecutor::builder()
                .max_workers(1)
                .min_workers(0)
                .keep_alive(Duration::from_millis(1))
                .on_thread_stop(move || {
                    s.open();
                    r.wait();
                })
                .build()
                .unwrap();
            pool.submit(|| ()).result().unwrap();
            stopping.wait(); // the worker retires, and is held in its hook
            let queued = pool.submit(|| 42);
            let opener = {
                let release = release.clone();
                thread::spawn(move || {
                    thread::sleep(Duration::from_millis(20));
                    release.open();
                })
            };
            pool.shutdown(wait);
            assert_eq!(
                queued.result().map_err(|e| e.to_string()),
                Ok(42),
                "shutdown({wait}) rejected a task queued before it began"
            );
            opener.join().unwrap();
            pool.shutdown(true);
            let stats = pool.stats();
            assert_eq!(
                (stats.tasks_completed, stats.tasks_rejected),
                (2, 0),
                "{stats:?}"
            );
        }
    });
}
