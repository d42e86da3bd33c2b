//! Timers and views, measured (never asserted):
//!
//! - criterion: the cost of a task through a limited view against a plain
//!   `submit` (each batch of 1,000 tasks submitted, then all results
//!   collected), and through a view with a limit of 1;
//! - printed once before criterion runs, when `EXECUTOR_TIMER_REPORT` is
//!   set: the firing lateness (start time minus due time) of 10,000 delayed
//!   tasks, p50 / p99 / max; and the rate a rate-limited view keeps, as the
//!   most starts seen in any window of one period.
//!
//! `cargo bench -p executor-bench --bench timers_and_views` (criterion),
//! `EXECUTOR_TIMER_REPORT=1 cargo bench -p executor-bench --bench timers_and_views -- --test`
//! (the report alone, with each criterion bench run once).

use std::hint::black_box;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use executor::ThreadPoolExecutor;

const BATCH: u64 = 1_000;

fn pool() -> ThreadPoolExecutor {
    ThreadPoolExecutor::builder()
        .max_workers(num_cpus::get())
        .build()
        .expect("building the pool")
}

fn view_overhead(c: &mut Criterion) {
    report_once();
    let pool = pool();
    let wide = pool.limited(num_cpus::get());
    let narrow = pool.limited(1);
    let mut g = c.benchmark_group("submit 1000 + results");
    g.throughput(Throughput::Elements(BATCH));
    g.bench_function("pool.submit", |b| {
        b.iter(|| {
            let hs: Vec<_> = (0..BATCH)
                .map(|i| pool.submit(move || black_box(i)))
                .collect();
            hs.into_iter().map(|h| h.result().unwrap()).sum::<u64>()
        });
    });
    g.bench_function("limited(workers).submit", |b| {
        b.iter(|| {
            let hs: Vec<_> = (0..BATCH)
                .map(|i| wide.submit(move || black_box(i)))
                .collect();
            hs.into_iter().map(|h| h.result().unwrap()).sum::<u64>()
        });
    });
    g.bench_function("limited(1).submit", |b| {
        b.iter(|| {
            let hs: Vec<_> = (0..BATCH)
                .map(|i| narrow.submit(move || black_box(i)))
                .collect();
            hs.into_iter().map(|h| h.result().unwrap()).sum::<u64>()
        });
    });
    g.finish();
}

fn report_once() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    if std::env::var_os("EXECUTOR_TIMER_REPORT").is_none() {
        return;
    }
    ONCE.call_once(|| {
        lateness();
        rate();
    });
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

/// 10,000 delayed tasks due over one second: how late each starts.
fn lateness() {
    let pool = pool();
    let base = Instant::now() + Duration::from_millis(50);
    let handles: Vec<_> = (0..10_000u64)
        .map(|i| {
            let due = base + Duration::from_micros(i * 100);
            pool.submit_at(due, move || Instant::now().saturating_duration_since(due))
        })
        .collect();
    let mut late: Vec<Duration> = handles.into_iter().map(|h| h.result().unwrap()).collect();
    late.sort();
    println!(
        "lateness of 10,000 delayed tasks (due every 100 µs over 1 s, {} workers): \
         p50 {:?}, p99 {:?}, max {:?}",
        pool.max_workers(),
        percentile(&late, 0.5),
        percentile(&late, 0.99),
        late[late.len() - 1]
    );
}

/// A view limited to 200 starts per second, burst 10, given 1,000 tasks
/// at once: the most starts seen in any one-second window.
fn rate() {
    let pool = pool();
    let api = pool
        .rate_limited(200, Duration::from_secs(1))
        .with_burst(10);
    let starts = Arc::new(Mutex::new(Vec::with_capacity(1_000)));
    let t0 = Instant::now();
    let handles: Vec<_> = (0..1_000)
        .map(|_| {
            let starts = Arc::clone(&starts);
            api.submit(move || starts.lock().unwrap().push(Instant::now()))
        })
        .collect();
    for h in handles {
        h.result().unwrap();
    }
    let took = t0.elapsed();
    let mut starts = starts.lock().unwrap().clone();
    starts.sort();
    let window = Duration::from_secs(1);
    let mut most = 0;
    let mut lo = 0;
    for hi in 0..starts.len() {
        while starts[hi] - starts[lo] >= window {
            lo += 1;
        }
        most = most.max(hi - lo + 1);
    }
    println!(
        "rate_limited(200/s, burst 10), 1,000 tasks: took {took:?} (ideal {:?}); \
         most starts in any 1 s window: {most} (bucket allows 210)",
        Duration::from_millis(5 * (1_000 - 10))
    );
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .measurement_time(Duration::from_secs(3))
        .warm_up_time(Duration::from_secs(1));
    targets = view_overhead
}
criterion_main!(benches);
