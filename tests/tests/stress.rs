//! Stress tests. Light by default; `EXECUTOR_STRESS=full` runs the full
//! sizes (1,000,000 tasks), as do the `#[ignore]`d variants:
//! `cargo test --release -p executor-tests --test stress -- --include-ignored`.

mod support;

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

use executor::{TaskError, ThreadPoolExecutor};
use support::{stress_size, within, HANG};

/// `total` no-op tasks from four submitting threads; every value arrives.
fn tiny_tasks_from_four_threads(total: usize) {
    let pool = Arc::new(ThreadPoolExecutor::new());
    let per_thread = total / 4;
    let submitters: Vec<_> = (0..4)
        .map(|t| {
            let pool = pool.clone();
            std::thread::spawn(move || {
                let handles: Vec<_> = (0..per_thread)
                    .map(|i| pool.submit(move || (t * per_thread + i) as u64))
                    .collect();
                handles
                    .into_iter()
                    .map(|h| h.result().unwrap())
                    .sum::<u64>()
            })
        })
        .collect();
    let sum: u64 = submitters.into_iter().map(|t| t.join().unwrap()).sum();
    let n = (per_thread * 4) as u64;
    assert_eq!(sum, n * (n - 1) / 2);
    assert_eq!(pool.stats().tasks_completed, n);
}

#[test]
fn tiny_tasks_light() {
    let n = stress_size(40_000, 1_000_000);
    within(HANG * 5, "tiny tasks", move || {
        tiny_tasks_from_four_threads(n)
    });
}

#[test]
#[ignore = "full size: run with --include-ignored (release recommended)"]
fn tiny_tasks_million() {
    within(HANG * 10, "a million tiny tasks", || {
        tiny_tasks_from_four_threads(1_000_000)
    });
}

/// Three levels of nested submit-and-wait, fanning out at each level.
fn nested_fan_out(workers: usize, fan: usize) -> u64 {
    let pool = Arc::new(
        ThreadPoolExecutor::builder()
            .max_workers(workers)
            .build()
            .unwrap(),
    );
    let level = move |pool: &Arc<ThreadPoolExecutor>, depth: u32| -> u64 {
        fn go(pool: &Arc<ThreadPoolExecutor>, depth: u32, fan: usize) -> u64 {
            if depth == 0 {
                return 1;
            }
            let children: Vec<_> = (0..fan)
                .map(|_| {
                    let p = pool.clone();
                    pool.submit(move || go(&p, depth - 1, fan))
                })
                .collect();
            children.into_iter().map(|h| h.result().unwrap()).sum()
        }
        go(pool, depth, fan)
    };
    let p = pool.clone();
    pool.submit(move || level(&p, 3)).result().unwrap()
}

#[test]
fn nested_submit_and_wait_three_levels() {
    let fan = stress_size(8, 30);
    for workers in [1, 2] {
        let leaves = within(HANG, "nested fan-out", move || nested_fan_out(workers, fan));
        assert_eq!(leaves, (fan * fan * fan) as u64, "{workers} worker(s)");
    }
}

#[test]
fn panicking_tasks_storm() {
    let n = stress_size(5_000, 100_000);
    let pool = ThreadPoolExecutor::builder()
        .max_workers(2)
        .build()
        .unwrap();
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {})); // keep the log readable
    let handles: Vec<_> = (0..n)
        .map(|i| pool.submit(move || if i % 3 == 0 { panic!("task {i}") } else { i }))
        .collect();
    let mut panics = 0;
    for (i, h) in handles.into_iter().enumerate() {
        match h.result() {
            Ok(v) => assert_eq!(v, i),
            Err(TaskError::Panicked(p)) => {
                assert_eq!(p.message(), Some(format!("task {i}").as_str()));
                panics += 1;
            }
            Err(e) => panic!("{e}"),
        }
    }
    std::panic::set_hook(hook);
    assert_eq!(panics, n.div_ceil(3));
    assert_eq!(pool.stats().tasks_panicked, panics as u64);
}

#[test]
fn cancellation_storm() {
    let n = stress_size(20_000, 500_000);
    let pool = ThreadPoolExecutor::builder()
        .max_workers(2)
        .build()
        .unwrap();
    let ran = Arc::new(AtomicUsize::new(0));
    let mut cancelled = 0;
    let mut handles = Vec::with_capacity(n);
    for _ in 0..n {
        let r = ran.clone();
        let h = pool.submit(move || {
            r.fetch_add(1, Ordering::Relaxed);
        });
        if h.cancel() {
            cancelled += 1;
        }
        handles.push(h);
    }
    let mut seen_cancelled = 0;
    for h in handles {
        match h.result() {
            Ok(()) => {}
            Err(TaskError::Cancelled) => seen_cancelled += 1,
            Err(e) => panic!("{e}"),
        }
    }
    pool.shutdown(true);
    assert_eq!(seen_cancelled, cancelled);
    assert_eq!(
        ran.load(Ordering::Relaxed),
        n - cancelled,
        "run + cancelled = submitted"
    );
    assert_eq!(pool.stats().tasks_cancelled, cancelled as u64);
}

#[test]
fn shutdown_racing_submit_repeatedly() {
    let rounds = stress_size(50, 1_000);
    for _ in 0..rounds {
        let pool = Arc::new(
            ThreadPoolExecutor::builder()
                .max_workers(2)
                .build()
                .unwrap(),
        );
        let ran = Arc::new(AtomicU64::new(0));
        let submitter = {
            let (pool, ran) = (pool.clone(), ran.clone());
            std::thread::spawn(move || {
                (0..2_000)
                    .map(|_| {
                        let ran = ran.clone();
                        pool.submit(move || ran.fetch_add(1, Ordering::SeqCst))
                    })
                    .collect::<Vec<_>>()
            })
        };
        pool.shutdown(true);
        let handles = within(HANG, "submitter", move || submitter.join().unwrap());
        let accepted = handles.into_iter().filter(|h| {
            assert!(
                h.done(),
                "a handle pends after shutdown(wait) returned and submits stopped"
            );
            h.outcome() == Some(executor::Outcome::Completed)
        });
        assert_eq!(accepted.count() as u64, ran.load(Ordering::SeqCst));
    }
}

/// Every closure and every value is dropped exactly once, including the
/// closures of cancelled tasks and the values nobody collected.
#[test]
fn destructors_run_exactly_once() {
    struct Counted(Arc<AtomicUsize>);
    impl Drop for Counted {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
    let captured_drops = Arc::new(AtomicUsize::new(0));
    let value_drops = Arc::new(AtomicUsize::new(0));
    let n = stress_size(2_000, 50_000);
    let ran = {
        let pool = ThreadPoolExecutor::builder()
            .max_workers(2)
            .build()
            .unwrap();
        let mut kept = Vec::new();
        for i in 0..n {
            let captured = Counted(captured_drops.clone());
            let value = value_drops.clone();
            let h = pool.submit(move || {
                let _keep = &captured;
                Counted(value)
            });
            match i % 3 {
                0 => {
                    h.cancel();
                    kept.push(h);
                }
                1 => drop(h), // detached: the value is dropped with the task
                _ => kept.push(h),
            }
        }
        pool.shutdown(true);
        // Collect half of the kept results; the rest drop with their handles.
        for h in kept.into_iter().step_by(2) {
            let _ = h.result();
        }
        pool.stats().tasks_completed as usize
    };
    assert_eq!(
        captured_drops.load(Ordering::SeqCst),
        n,
        "each closure is dropped exactly once"
    );
    assert_eq!(
        value_drops.load(Ordering::SeqCst),
        ran,
        "each returned value is dropped exactly once"
    );
}

/// A returned value whose `Drop` panics, dropped on the worker because its
/// handle is gone: the worker survives and keeps serving.
#[test]
fn a_panicking_drop_of_an_unclaimed_result_does_not_kill_the_worker() {
    struct Bomb;
    impl Drop for Bomb {
        fn drop(&mut self) {
            panic!("Bomb dropped");
        }
    }
    let pool = ThreadPoolExecutor::builder()
        .max_workers(1)
        .build()
        .unwrap();
    let gate = support::Gate::new();
    let g = gate.clone();
    let blocker = pool.submit(move || g.wait());
    for _ in 0..10 {
        // Dropped while queued, so the worker holds the last reference.
        drop(pool.submit(|| Bomb));
    }
    gate.open();
    blocker.result().unwrap();
    let value = within(HANG, "the worker still serves", move || {
        let v = pool.submit(|| 7).result().unwrap();
        (v, pool.stats().workers_alive)
    });
    assert_eq!(value, (7, 1));
}
