use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};

use super::*;

fn pool(workers: usize) -> ThreadPoolExecutor {
    ThreadPoolExecutor::builder()
        .max_workers(workers)
        .build()
        .unwrap()
}

/// Library code: generic over where its tasks run.
fn sum_of_squares(on: &impl Executor, n: u64) -> u64 {
    let handles: Vec<_> = (1..=n).map(|i| on.submit(move || i * i)).collect();
    handles.into_iter().map(|h| h.result().unwrap()).sum()
}

#[test]
fn the_pool_a_reference_and_an_arc_are_executors() {
    let pool = Arc::new(pool(2));
    assert_eq!(sum_of_squares(&*pool, 4), 30);
    assert_eq!(sum_of_squares(&&*pool, 4), 30);
    assert_eq!(sum_of_squares(&pool, 4), 30);
    assert_eq!(sum_of_squares(&&pool, 4), 30);
}

#[test]
fn a_dyn_executor_runs_boxed_tasks() {
    let pool = Arc::new(pool(2));
    let executors: Vec<Box<dyn Executor + Send + Sync>> =
        vec![Box::new(pool.clone()), Box::new(Arc::clone(&pool))];
    let (tx, rx) = mpsc::channel();
    let handles: Vec<_> = executors
        .iter()
        .enumerate()
        .map(|(i, on)| {
            let tx = tx.clone();
            on.submit_boxed(Box::new(move || tx.send(i).unwrap()))
        })
        .collect();
    for handle in handles {
        handle.result().unwrap();
    }
    let mut got: Vec<usize> = rx.try_iter().collect();
    got.sort_unstable();
    assert_eq!(got, [0, 1]);
}

#[test]
fn a_shut_down_pool_refuses_through_the_trait_and_hands_the_closure_back() {
    let pool = pool(1);
    pool.shutdown(true);
    let on: &dyn Executor = &pool;
    let refused = on.try_submit_boxed(Box::new(|| ())).unwrap_err();
    assert!(matches!(refused, SubmitError::Shutdown(_)));

    match Executor::try_submit(&&pool, || 5) {
        Err(SubmitError::Shutdown(f)) => assert_eq!(f(), 5),
        _ => panic!("a shut-down pool took a task"),
    }
    let err = Executor::submit(&pool, || 5).result().unwrap_err();
    assert!(matches!(err, TaskError::Rejected), "{err:?}");
    assert!(matches!(
        on.submit_boxed(Box::new(|| ())).result(),
        Err(TaskError::Rejected)
    ));
}

/// A forwarding executor that uses the default `map`, as a view of a pool
/// might.
struct Counting<'a> {
    pool: &'a ThreadPoolExecutor,
    submitted: AtomicUsize,
}

impl Executor for Counting<'_> {
    fn submit<F, T>(&self, f: F) -> TaskHandle<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        self.submitted.fetch_add(1, Ordering::Relaxed);
        self.pool.submit(f)
    }

    fn try_submit<F, T>(&self, f: F) -> Result<TaskHandle<T>, SubmitError<F>>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        self.pool.try_submit(f)
    }

    fn submit_boxed(&self, task: BoxedTask) -> TaskHandle<()> {
        self.submit(task)
    }

    fn try_submit_boxed(&self, task: BoxedTask) -> Result<TaskHandle<()>, SubmitError<BoxedTask>> {
        self.try_submit(task)
    }
}

#[test]
fn the_default_map_keeps_input_order_one_task_per_item() {
    let pool = pool(3);
    let counting = Counting {
        pool: &pool,
        submitted: AtomicUsize::new(0),
    };
    // Later items finish first: the order comes from the map, not the pool.
    let out: Vec<u64> = counting
        .map(0..40_u64, |i| {
            std::thread::sleep(std::time::Duration::from_micros((40 - i) * 20));
            i * 3
        })
        .map(Result::unwrap)
        .collect();
    assert_eq!(out, (0..40).map(|i| i * 3).collect::<Vec<_>>());
    assert_eq!(counting.submitted.load(Ordering::Relaxed), 40);
    // Through a reference, the same default.
    let again: Vec<u64> = Executor::map(&&counting, [7_u64], |i| i)
        .map(Result::unwrap)
        .collect();
    assert_eq!(again, [7]);
}

#[test]
fn the_default_map_reports_a_panic_at_its_position_and_the_rest_arrive() {
    let pool = pool(2);
    let counting = Counting {
        pool: &pool,
        submitted: AtomicUsize::new(0),
    };
    let out: Vec<Result<u32, bool>> = counting
        .map([4_u32, 0, 2, 1], |d| 8 / d)
        .map(|r| r.map_err(|e| e.is_panic()))
        .collect();
    assert_eq!(out, [Ok(2), Err(true), Ok(4), Ok(8)]);
}

#[test]
fn the_default_map_pulls_at_most_a_window_of_an_endless_input() {
    let pool = pool(2);
    let counting = Counting {
        pool: &pool,
        submitted: AtomicUsize::new(0),
    };
    let taken = Arc::new(AtomicUsize::new(0));
    let t = taken.clone();
    let inputs = (0_u64..).inspect(move |_| {
        t.fetch_add(1, Ordering::Relaxed);
    });
    let mut results = OrderedMap::new(&counting, inputs, |i| i + 1);
    assert_eq!(taken.load(Ordering::Relaxed), 0, "lazy until next()");
    let first: Vec<u64> = results.by_ref().take(3).map(Result::unwrap).collect();
    assert_eq!(first, [1, 2, 3]);
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    let window = 4 * cpus;
    // The first `next` filled the window; each later one topped it up by one.
    assert_eq!(taken.load(Ordering::Relaxed), window + 2);
    assert_eq!(counting.submitted.load(Ordering::Relaxed), window + 2);
}

#[test]
fn the_pool_map_through_the_trait_is_the_batched_map() {
    let pool = pool(2);
    let out: Vec<u64> = Executor::map(&pool, 0..10_000_u64, |i| i)
        .map(Result::unwrap)
        .collect();
    assert_eq!(out, (0..10_000).collect::<Vec<_>>());
    // Batched: far fewer tasks than items ran.
    assert!(pool.stats().tasks_completed < 10_000);
}

#[cfg(feature = "async")]
#[test]
fn spawn_through_the_trait_on_every_form() {
    async fn plus_one<E: AsyncExecutor>(on: &E, x: u32) -> u32 {
        on.spawn(async move { x + 1 }).await.unwrap()
    }
    let pool = Arc::new(pool(2));
    let r = &*pool;
    let got = futures::executor::block_on(async {
        plus_one(r, 1).await + plus_one(&r, 2).await + plus_one(&pool, 3).await
    });
    assert_eq!(got, 2 + 3 + 4);

    let on: &dyn AsyncExecutor = &*pool;
    let (tx, rx) = mpsc::channel();
    on.spawn_boxed(Box::pin(async move { tx.send("ran").unwrap() }))
        .result()
        .unwrap();
    assert_eq!(rx.recv().unwrap(), "ran");
}
