//! Property test of the bounded queue: whatever the capacity, the
//! number of workers and producers, and the way each producer submits
//! (`submit`, `try_submit` retried with the closure it gets back, or
//! `submit_timeout` likewise), the pool never holds more than `capacity`
//! accepted-but-not-started tasks, the producers block once it is full, and
//! every task runs exactly once with its value delivered.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use executor::{SubmitError, TaskHandle, ThreadPoolExecutor};
use proptest::prelude::*;

mod support;
use support::{Gate, HANG};

#[derive(Clone, Copy, Debug)]
enum Mode {
    /// `submit`, blocking while the queue is full.
    Blocking,
    /// `try_submit`; on `Full`, yield and retry with the closure handed back.
    Try,
    /// `submit_timeout(1 ms)`; on `Timeout`, retry with the closure handed back.
    Timeout,
}

fn mode() -> impl Strategy<Value = Mode> {
    prop_oneof![Just(Mode::Blocking), Just(Mode::Try), Just(Mode::Timeout)]
}

/// Submits `task` the way `mode` says, retrying until the pool takes it.
fn submit_with<F>(pool: &ThreadPoolExecutor, mode: Mode, mut task: F) -> TaskHandle<(usize, usize)>
where
    F: FnOnce() -> (usize, usize) + Send + 'static,
{
    loop {
        let refused = match mode {
            Mode::Blocking => return pool.submit(task),
            Mode::Try => pool.try_submit(task),
            Mode::Timeout => pool.submit_timeout(task, Duration::from_millis(1)),
        };
        match refused {
            Ok(handle) => return handle,
            Err(SubmitError::Full(f)) => {
                task = f;
                thread::yield_now();
            }
            Err(SubmitError::Timeout(f)) => task = f,
            Err(other) => panic!("unexpected refusal: {other:?}"),
        }
    }
}

struct Case {
    capacity: usize,
    workers: usize,
    producers: Vec<Mode>,
    per_producer: usize,
}

fn run(case: Case) -> Result<(), TestCaseError> {
    let Case {
        capacity,
        workers,
        producers,
        per_producer,
    } = case;
    let total = producers.len() * per_producer;
    let pool = Arc::new(
        ThreadPoolExecutor::builder()
            .max_workers(workers)
            .queue_capacity(capacity)
            .thread_name_prefix("qprop")
            .build()
            .unwrap(),
    );
    let gate = Gate::default();
    let accepted = Arc::new(AtomicUsize::new(0));
    let started = Arc::new(AtomicUsize::new(0));
    let ran = Arc::new(AtomicUsize::new(0));

    let threads: Vec<_> = producers
        .iter()
        .enumerate()
        .map(|(p, &mode)| {
            let (pool, gate) = (Arc::clone(&pool), gate.clone());
            let (accepted, started, ran) = (accepted.clone(), started.clone(), ran.clone());
            thread::spawn(move || {
                (0..per_producer)
                    .map(|i| {
                        let (gate, started, ran) = (gate.clone(), started.clone(), ran.clone());
                        let handle = submit_with(&pool, mode, move || {
                            started.fetch_add(1, Ordering::SeqCst);
                            gate.wait();
                            ran.fetch_add(1, Ordering::SeqCst);
                            (p, i)
                        });
                        accepted.fetch_add(1, Ordering::SeqCst);
                        handle
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();

    // Gated phase: at most `workers` tasks can leave the queue (each worker
    // then holds one, blocked), so at most `workers + capacity` are ever
    // accepted, and the queue never shows more than `capacity`.
    let holding = workers.min(total);
    let filled = (workers + capacity).min(total);
    let check = |phase: &str| -> Result<(), TestCaseError> {
        let queued = pool.stats().tasks_queued;
        prop_assert!(queued <= capacity, "{phase}: {queued} queued > {capacity}");
        let accepted = accepted.load(Ordering::SeqCst);
        prop_assert!(
            accepted <= workers + capacity,
            "{phase}: {accepted} accepted with {workers} workers blocked and capacity {capacity}"
        );
        Ok(())
    };
    let deadline = Instant::now() + HANG;
    while started.load(Ordering::SeqCst) < holding || accepted.load(Ordering::SeqCst) < filled {
        check("filling")?;
        prop_assert!(
            Instant::now() < deadline,
            "never filled: {} started, {} accepted; {:?}",
            started.load(Ordering::SeqCst),
            accepted.load(Ordering::SeqCst),
            pool.stats()
        );
        thread::sleep(Duration::from_micros(200));
    }
    // Full: the producers are stuck, and the queue holds exactly the rest.
    for _ in 0..10 {
        check("full")?;
        prop_assert_eq!(accepted.load(Ordering::SeqCst), filled);
        prop_assert_eq!(started.load(Ordering::SeqCst), holding);
        thread::sleep(Duration::from_millis(1));
    }
    prop_assert_eq!(pool.stats().tasks_queued, filled - holding);
    if total > filled {
        prop_assert!(threads.iter().any(|t| !t.is_finished()));
    }

    // Drain phase: the bound still holds while everything flows.
    gate.open();
    while !threads.iter().all(|t| t.is_finished()) {
        let queued = pool.stats().tasks_queued;
        prop_assert!(queued <= capacity, "draining: {queued} queued > {capacity}");
        prop_assert!(Instant::now() < deadline + HANG, "producers never finished");
        thread::sleep(Duration::from_micros(200));
    }
    for (p, producer) in threads.into_iter().enumerate() {
        let handles = producer.join().unwrap();
        prop_assert_eq!(handles.len(), per_producer);
        for (i, handle) in handles.into_iter().enumerate() {
            let Ok(result) = handle.result_timeout(HANG) else {
                return Err(TestCaseError::fail(format!(
                    "task ({p}, {i}) never resolved"
                )));
            };
            prop_assert_eq!(result.unwrap(), (p, i));
        }
    }
    prop_assert_eq!(
        ran.load(Ordering::SeqCst),
        total,
        "a task ran twice or not at all"
    );
    prop_assert_eq!(started.load(Ordering::SeqCst), total);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: if cfg!(miri) { 2 } else { 32 },
        ..ProptestConfig::default()
    })]

    #[test]
    fn queued_tasks_never_exceed_the_capacity(
        capacity in 1_usize..=6,
        workers in 1_usize..=4,
        producers in prop::collection::vec(mode(), 1..=4),
        per_producer in 0_usize..=24,
    ) {
        run(Case { capacity, workers, producers, per_producer })?;
    }
}
