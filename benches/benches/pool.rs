//! criterion micro-benchmarks of `executor` through its public API:
//! submit, submit+result, a steal, the per-item cost of `map` and a tree of
//! `join`s, each beside the nearest rayon operation for scale. Short measurement times so that
//! `cargo bench -p executor-bench` finishes in a couple of minutes.

use std::hint::black_box;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use executor::ThreadPoolExecutor;
use rayon::prelude::*;

fn pool(workers: usize) -> Arc<ThreadPoolExecutor> {
    Arc::new(
        ThreadPoolExecutor::builder()
            .max_workers(workers)
            .build()
            .expect("building the pool"),
    )
}

fn rayon_pool(workers: usize) -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new()
        .num_threads(workers)
        .build()
        .expect("building the rayon pool")
}

/// The cost of `submit` alone: only the submitting loop is timed; the
/// handles are resolved afterwards, outside the clock. Beside the plain
/// pool: one with `before_task`/`after_task` hooks set (no-ops), which
/// must not slow `submit` (the hooks run on the workers). Built with
/// `--features tracing`, every variant pays for capturing the current span;
/// "in a span" adds a subscriber and an entered span at submission, so
/// each task makes its own span.
fn submit(c: &mut Criterion) {
    let exec = pool(num_cpus::get());
    let hooked = Arc::new(
        ThreadPoolExecutor::builder()
            .max_workers(num_cpus::get())
            .before_task(|t| {
                black_box(t);
            })
            .after_task(|t| {
                black_box(t);
            })
            .build()
            .expect("building the pool"),
    );
    let mut g = c.benchmark_group("submit");
    g.throughput(Throughput::Elements(1));
    g.bench_function("executor", |b| {
        b.iter_custom(|iters| submit_loop(&exec, iters))
    });
    g.bench_function("executor, task hooks", |b| {
        b.iter_custom(|iters| submit_loop(&hooked, iters))
    });
    #[cfg(feature = "tracing")]
    g.bench_function("executor, in a span", |b| {
        use tracing_subscriber::layer::SubscriberExt;
        let subscriber =
            tracing_subscriber::registry().with(tracing_subscriber::filter::LevelFilter::DEBUG);
        tracing::subscriber::with_default(subscriber, || {
            let span = tracing::info_span!("request");
            let _entered = span.enter();
            b.iter_custom(|iters| submit_loop(&exec, iters))
        })
    });
    g.finish();
}

/// Submits `iters` trivial tasks and returns how long the submitting took.
fn submit_loop(exec: &ThreadPoolExecutor, iters: u64) -> Duration {
    let mut handles = Vec::with_capacity(iters as usize);
    let start = Instant::now();
    for i in 0..iters {
        handles.push(exec.submit(move || black_box(i)));
    }
    let took = start.elapsed();
    for h in handles {
        h.result().expect("task");
    }
    took
}

/// The price of a token: `submit_with_token` (a token allocated, carried
/// and registered while the body runs) beside plain `submit` (which pays
/// nothing for tokens), both for the submit alone and for a round trip.
fn submit_with_token(c: &mut Criterion) {
    let exec = pool(num_cpus::get());
    let mut g = c.benchmark_group("submit_with_token");
    g.throughput(Throughput::Elements(1));
    let timed_submits = |b: &mut criterion::Bencher, with_token: bool| {
        b.iter_custom(|iters| {
            let mut handles = Vec::with_capacity(iters as usize);
            let start = Instant::now();
            for i in 0..iters {
                handles.push(if with_token {
                    exec.submit_with_token(move |_token| black_box(i))
                } else {
                    exec.submit(move || black_box(i))
                });
            }
            let took = start.elapsed();
            for h in handles {
                h.result().expect("task");
            }
            took
        });
    };
    g.bench_function("submit", |b| timed_submits(b, false));
    g.bench_function("submit_with_token", |b| timed_submits(b, true));
    g.bench_function("submit+result", |b| {
        b.iter(|| exec.submit(|| black_box(1u64)).result().expect("task"));
    });
    g.bench_function("submit_with_token+result", |b| {
        b.iter(|| {
            exec.submit_with_token(|_token| black_box(1u64))
                .result()
                .expect("task")
        });
    });
    g.finish();
}

/// One `submit(..).result()` round trip on a busy (not parked) pool;
/// rayon's `install` does the same round trip.
fn submit_result(c: &mut Criterion) {
    let workers = num_cpus::get();
    let exec = pool(workers);
    let ray = rayon_pool(workers);
    let mut g = c.benchmark_group("submit+result");
    g.bench_function("executor", |b| {
        b.iter(|| exec.submit(|| black_box(1u64)).result().expect("task"));
    });
    g.bench_function("rayon install", |b| {
        b.iter(|| ray.install(|| black_box(1u64)))
    });
    g.finish();
}

/// A steal: a task submits a child (which lands in its own worker's deque)
/// and then spins, without joining, until the child has run. Only another
/// worker can run it, by stealing it, so the time from submit to the child
/// running is the steal latency (including waking the thief if it slept).
fn steal(c: &mut Criterion) {
    let exec = pool(2);
    let mut g = c.benchmark_group("steal");
    g.bench_function("executor (2 workers)", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let inner = Arc::clone(&exec);
                let took = exec
                    .submit(move || {
                        let ran = Arc::new(AtomicBool::new(false));
                        let flag = Arc::clone(&ran);
                        let start = Instant::now();
                        let child = inner.submit(move || flag.store(true, Ordering::Release));
                        // Acquire pairs with the child's Release store.
                        while !ran.load(Ordering::Acquire) {
                            assert!(
                                start.elapsed() < Duration::from_secs(5),
                                "the child task was never stolen"
                            );
                            std::hint::spin_loop();
                        }
                        let took = start.elapsed();
                        child.result().expect("child task");
                        took
                    })
                    .result()
                    .expect("parent task");
                total += took;
            }
            total
        });
    });
    g.finish();
}

/// Per-item cost of `map` over trivial items (criterion reports it per
/// element), beside rayon's `par_iter().map().collect()`.
fn map_per_item(c: &mut Criterion) {
    const N: u64 = 20_000;
    let workers = num_cpus::get();
    let exec = pool(workers);
    let ray = rayon_pool(workers);
    let mut g = c.benchmark_group("map per item");
    g.throughput(Throughput::Elements(N));
    g.bench_function("executor map", |b| {
        b.iter(|| {
            exec.map(0..N, |x| black_box(x) ^ 1)
                .map(|r| r.expect("item"))
                .fold(0u64, u64::wrapping_add)
        });
    });
    g.bench_function("rayon par_iter", |b| {
        b.iter_batched(
            || (),
            |()| {
                ray.install(|| {
                    (0..N)
                        .into_par_iter()
                        .map(|x| black_box(x) ^ 1)
                        .collect::<Vec<u64>>()
                })
                .into_iter()
                .fold(0u64, u64::wrapping_add)
            },
            BatchSize::SmallInput,
        );
    });
    g.finish();
}

/// A `join` at every inner node of a 1,023-node binary tree (W6's small
/// size), timed inside the pool: criterion reports the time per tree,
/// beside `rayon::join` and the plain recursion. Per-join overhead is
/// (pool - sequential) / 511.
fn join_tree(c: &mut Criterion) {
    const DEPTH: u32 = 10;
    fn seq(depth: u32) -> u64 {
        if depth == 1 {
            return 1;
        }
        seq(black_box(depth - 1)) + seq(black_box(depth - 1)) + 1
    }
    fn ours(depth: u32) -> u64 {
        if depth == 1 {
            return 1;
        }
        let (a, b) = executor::join(|| ours(black_box(depth - 1)), || ours(black_box(depth - 1)));
        a + b + 1
    }
    fn theirs(depth: u32) -> u64 {
        if depth == 1 {
            return 1;
        }
        let (a, b) = rayon::join(
            || theirs(black_box(depth - 1)),
            || theirs(black_box(depth - 1)),
        );
        a + b + 1
    }
    let workers = num_cpus::get();
    let exec = pool(workers);
    let ray = rayon_pool(workers);
    let mut g = c.benchmark_group("join tree 2^10-1");
    g.bench_function("sequential", |b| b.iter(|| seq(DEPTH)));
    g.bench_function("executor join", |b| {
        b.iter_custom(|iters| {
            exec.submit(move || {
                let start = Instant::now();
                for _ in 0..iters {
                    black_box(ours(DEPTH));
                }
                start.elapsed()
            })
            .result()
            .expect("join task")
        });
    });
    g.bench_function("rayon join", |b| {
        b.iter_custom(|iters| {
            ray.install(|| {
                let start = Instant::now();
                for _ in 0..iters {
                    black_box(theirs(DEPTH));
                }
                start.elapsed()
            })
        });
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(1));
    targets = submit, submit_with_token, submit_result, steal, map_per_item, join_tree
}
criterion_main!(benches);
