//! Property tests of the completion protocol: every task completes or is
//! cancelled exactly once and its value reaches exactly its own handle; a
//! shutdown racing submitters loses nothing; one worker runs outside
//! submissions in order.
//!
//! `PROPTEST_CASES` scales the number of cases (default 32 here).

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier, Mutex};
use std::time::Duration;

use executor::{TaskError, TaskHandle, ThreadPoolExecutor};
use proptest::prelude::*;
use support::{within, HANG};

fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(32);
    ProptestConfig {
        cases,
        ..ProptestConfig::default()
    }
}

#[derive(Clone, Copy, Debug)]
enum Plan {
    /// Return the task's own id (times a salt), after spinning this many rounds.
    Value(u16),
    /// Panic.
    Panic,
    /// Submit, then try to cancel at once.
    Cancel,
}

fn plan() -> impl Strategy<Value = Plan> {
    prop_oneof![6 => (0u16..2000).prop_map(Plan::Value), 1 => Just(Plan::Panic), 2 => Just(Plan::Cancel)]
}

fn spin(rounds: u16) {
    for _ in 0..rounds {
        std::hint::spin_loop();
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn every_task_completes_or_is_cancelled_exactly_once(
        workers in 1usize..=8,
        plans in proptest::collection::vec(plan(), 0..200),
        salt in 1u64..1000,
    ) {
        let outcome = within(HANG, "completion property", move || {
            let pool = ThreadPoolExecutor::builder().max_workers(workers).build().unwrap();
            let runs: Arc<Vec<AtomicUsize>> = Arc::new((0..plans.len()).map(|_| AtomicUsize::new(0)).collect());
            let mut submitted = Vec::new();
            for (id, &plan) in plans.iter().enumerate() {
                let runs = runs.clone();
                let handle = pool.submit(move || {
                    runs[id].fetch_add(1, Ordering::SeqCst);
                    match plan {
                        Plan::Value(rounds) => spin(rounds),
                        Plan::Panic => panic!("planned panic {id}"),
                        Plan::Cancel => {}
                    }
                    id as u64 * salt
                });
                let cancelled = matches!(plan, Plan::Cancel) && handle.cancel();
                submitted.push((id, plan, cancelled, handle));
            }
            let results: Vec<_> = submitted.into_iter().map(|(id, plan, cancelled, h)| (id, plan, cancelled, h.result())).collect();
            pool.shutdown(true);
            let runs: Vec<usize> = runs.iter().map(|r| r.load(Ordering::SeqCst)).collect();
            (results, runs, pool.stats())
        });
        let (results, runs, stats) = outcome;
        let mut cancelled_count = 0;
        for (id, plan, cancelled, result) in results {
            match result {
                Ok(v) => {
                    prop_assert!(!cancelled, "task {id} was cancelled yet returned");
                    prop_assert_eq!(v, id as u64 * salt, "task {}'s value reached another handle", id);
                    prop_assert_eq!(runs[id], 1, "task {} ran {} times", id, runs[id]);
                }
                Err(TaskError::Panicked(p)) => {
                    prop_assert!(matches!(plan, Plan::Panic));
                    let expected = format!("planned panic {id}");
                    prop_assert_eq!(p.message(), Some(expected.as_str()));
                    prop_assert_eq!(runs[id], 1);
                }
                Err(TaskError::Cancelled) => {
                    prop_assert!(cancelled, "task {} cancelled but cancel() said no", id);
                    prop_assert_eq!(runs[id], 0, "cancelled task {} ran", id);
                    cancelled_count += 1;
                }
                Err(other) => prop_assert!(false, "task {id}: unexpected {other:?}"),
            }
        }
        prop_assert_eq!(stats.tasks_cancelled, cancelled_count);
        prop_assert_eq!(stats.tasks_completed + stats.tasks_panicked + stats.tasks_cancelled, runs.len() as u64);
    }

    #[test]
    fn shutdown_racing_submitters_loses_nothing(
        workers in 1usize..=4,
        submitters in 1usize..=4,
        per_thread in 1usize..300,
        shutdown_after in 0usize..300,
        cancel_futures in any::<bool>(),
    ) {
        let (results, runs) = within(HANG, "shutdown race", move || {
            let pool = Arc::new(ThreadPoolExecutor::builder().max_workers(workers).build().unwrap());
            let total = submitters * per_thread;
            let runs: Arc<Vec<AtomicUsize>> = Arc::new((0..total).map(|_| AtomicUsize::new(0)).collect());
            let start = Arc::new(Barrier::new(submitters + 1));
            let accepted = Arc::new(AtomicUsize::new(0));
            let threads: Vec<_> = (0..submitters)
                .map(|t| {
                    let (pool, runs, start, accepted) = (pool.clone(), runs.clone(), start.clone(), accepted.clone());
                    std::thread::spawn(move || {
                        start.wait();
                        (0..per_thread)
                            .map(|i| {
                                let id = t * per_thread + i;
                                let runs = runs.clone();
                                let h = pool.submit(move || {
                                    runs[id].fetch_add(1, Ordering::SeqCst);
                                    id
                                });
                                accepted.fetch_add(1, Ordering::SeqCst);
                                (id, h)
                            })
                            .collect::<Vec<(usize, TaskHandle<usize>)>>()
                    })
                })
                .collect();
            start.wait();
            while accepted.load(Ordering::SeqCst) < shutdown_after.min(total) {
                std::thread::yield_now();
            }
            pool.shutdown_with(true, cancel_futures);
            // After shutdown(wait) returned, every handle is resolved at once
            // or was submitted later and is Rejected: nothing may still pend.
            let handles: Vec<_> = threads.into_iter().flat_map(|t| t.join().unwrap()).collect();
            let results: Vec<_> = handles
                .into_iter()
                .map(|(id, h)| {
                    let res = h.result_timeout(Duration::from_secs(30)).unwrap_or_else(|_| panic!("handle {id} still pending after shutdown"));
                    (id, res)
                })
                .collect();
            let runs: Vec<usize> = runs.iter().map(|r| r.load(Ordering::SeqCst)).collect();
            (results, runs)
        });
        for (id, res) in results {
            match res {
                Ok(v) => {
                    prop_assert_eq!(v, id);
                    prop_assert_eq!(runs[id], 1);
                }
                Err(TaskError::Rejected) | Err(TaskError::Cancelled) => prop_assert_eq!(runs[id], 0, "task {} was refused but ran", id),
                Err(e) => prop_assert!(false, "task {id}: {e:?}"),
            }
        }
    }

    #[test]
    fn one_worker_runs_outside_submissions_in_order(n in 0usize..500, spins in proptest::collection::vec(0u16..500, 1..20)) {
        let order = within(HANG, "fifo", move || {
            let pool = ThreadPoolExecutor::builder().max_workers(1).build().unwrap();
            let order = Arc::new(Mutex::new(Vec::with_capacity(n)));
            let handles: Vec<_> = (0..n)
                .map(|i| {
                    let order = order.clone();
                    let rounds = spins[i % spins.len()];
                    pool.submit(move || {
                        spin(rounds);
                        order.lock().unwrap().push(i);
                    })
                })
                .collect();
            handles.into_iter().for_each(|h| h.result().unwrap());
            let v = order.lock().unwrap().clone();
            v
        });
        prop_assert_eq!(order, (0..n).collect::<Vec<_>>());
    }
}
