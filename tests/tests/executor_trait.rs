//! The `Executor` trait as library code sees it: the same results in the
//! same order through the pool, a reference, an `Arc`, a limited view, a forwarding
//! implementation that uses the default `map`, and a `dyn Executor`.
//!
//! The default case count is modest; raise it with `PROPTEST_CASES=1000`.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use executor::{BoxedTask, Executor, SubmitError, TaskError, TaskHandle, ThreadPoolExecutor};
use proptest::collection::vec;
use proptest::prelude::*;

mod support;
use support::{pool, within, HANG};

fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(24);
    ProptestConfig::with_cases(cases)
}

/// Busy-waits `micros` µs: uneven task durations, so that tasks finish out
/// of input order.
fn spin(micros: u8) {
    let end = Instant::now() + Duration::from_micros(micros.into());
    while Instant::now() < end {
        std::hint::spin_loop();
    }
}

/// What a library would write: generic over where its work runs. An item
/// of 0 panics, so errors have positions too.
fn library_map(on: &impl Executor, items: Vec<(u8, u32)>) -> Vec<Result<u32, bool>> {
    on.map(items, |(micros, value)| {
        spin(micros);
        assert!(value != 0, "zero");
        value * 2
    })
    .map(|r| r.map_err(|e| e.is_panic()))
    .collect()
}

/// A forwarding executor with the default `map` (one task per item), as a
/// view of a pool would be.
struct Forward(Arc<ThreadPoolExecutor>, AtomicUsize);

impl Executor for Forward {
    fn submit<F, T>(&self, f: F) -> TaskHandle<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        self.1.fetch_add(1, Ordering::Relaxed);
        self.0.submit(f)
    }

    fn try_submit<F, T>(&self, f: F) -> Result<TaskHandle<T>, SubmitError<F>>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        self.0.try_submit(f)
    }

    fn submit_boxed(&self, task: BoxedTask) -> TaskHandle<()> {
        self.submit(task)
    }

    fn try_submit_boxed(&self, task: BoxedTask) -> Result<TaskHandle<()>, SubmitError<BoxedTask>> {
        self.try_submit(task)
    }
}

proptest! {
    #![proptest_config(config())]

    /// Every form yields what a sequential loop yields, in input order. A
    /// default `map` that yielded in finishing order, lost an item or
    /// stopped at a panic fails this.
    #[test]
    fn every_form_maps_in_input_order(
        workers in 1_usize..4,
        items in vec((0_u8..60, 0_u32..5), 0..60),
    ) {
        let expected: Vec<Result<u32, bool>> =
            items.iter().map(|&(_, v)| if v == 0 { Err(true) } else { Ok(v * 2) }).collect();
        let got = within(HANG, "maps through every form", move || {
            let pool = Arc::new(pool(workers));
            let forward = Forward(pool.clone(), AtomicUsize::new(0));
            let view = pool.limited(workers.div_ceil(2));
            let runs = [
                library_map(&*pool, items.clone()),
                library_map(&&*pool, items.clone()),
                library_map(&pool, items.clone()),
                library_map(&forward, items.clone()),
                library_map(&view, items.clone()),
            ];
            (runs, forward.1.load(Ordering::Relaxed), items.len())
        });
        let (runs, forwarded, n) = got;
        for run in &runs {
            prop_assert_eq!(run, &expected);
        }
        prop_assert_eq!(forwarded, n, "the default map submits one task per item");
    }
}

#[test]
fn dyn_executors_chosen_at_run_time_run_every_boxed_task_once() {
    within(HANG, "boxed tasks", || {
        let pool = Arc::new(pool(2));
        let forward: Box<dyn Executor + Send + Sync> =
            Box::new(Forward(pool.clone(), AtomicUsize::new(0)));
        let view = pool.limited(1);
        let executors: [&(dyn Executor + Send + Sync); 3] = [&*pool, &*forward, &view];
        let (tx, rx) = mpsc::channel();
        let handles: Vec<TaskHandle<()>> = (0..100)
            .map(|i| {
                let tx = tx.clone();
                executors[i % 3].submit_boxed(Box::new(move || tx.send(i).unwrap()))
            })
            .collect();
        for handle in handles {
            handle.result().unwrap();
        }
        drop(tx);
        let mut got: Vec<usize> = rx.iter().collect();
        got.sort_unstable();
        assert_eq!(got, (0..100).collect::<Vec<_>>());

        pool.shutdown(true);
        for on in executors {
            let refused = on.try_submit_boxed(Box::new(|| ())).unwrap_err();
            assert!(matches!(refused, SubmitError::Shutdown(_)));
            let rejected = on.submit_boxed(Box::new(|| ())).result();
            assert!(matches!(rejected, Err(TaskError::Rejected)));
        }
    });
}
