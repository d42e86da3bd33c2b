//! Offloading blocking work from async code: Python's `asyncio.to_thread` /
//! `loop.run_in_executor`, with `pool.submit(..).await`.
//!
//! A single-threaded tokio runtime runs a ticker that should fire every
//! 10 ms. First the blocking jobs (a `std::thread::sleep` standing in for a
//! blocking client, then some hashing) run directly on the runtime and the
//! ticker stalls; then they are offloaded to the pool, awaited, and the
//! ticker keeps its beat.
//!
//! Run with `cargo run --release --example async_bridge`.

use std::hash::{Hash, Hasher};
use std::sync::Arc;
use std::time::{Duration, Instant};

use executor::ThreadPoolExecutor;

/// Stands in for a blocking client call plus some CPU work on its reply.
fn blocking_job(id: u64) -> u64 {
    std::thread::sleep(Duration::from_millis(50));
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    for i in 0..100_000u64 {
        (id, i).hash(&mut hasher);
    }
    hasher.finish()
}

/// Ticks every 10 ms until `stop`, returning the longest gap between ticks.
async fn ticker(stop: Arc<tokio::sync::Notify>) -> Duration {
    let mut interval = tokio::time::interval(Duration::from_millis(10));
    let mut last = Instant::now();
    let mut worst = Duration::ZERO;
    loop {
        tokio::select! {
            _ = interval.tick() => {
                worst = worst.max(last.elapsed());
                last = Instant::now();
            }
            _ = stop.notified() => return worst,
        }
    }
}

async fn run(pool: Option<Arc<ThreadPoolExecutor>>) -> (Duration, Duration, u64) {
    let stop = Arc::new(tokio::sync::Notify::new());
    let tick = tokio::spawn(ticker(stop.clone()));
    tokio::time::sleep(Duration::from_millis(20)).await;
    let start = Instant::now();
    let mut checksum = 0u64;
    match pool {
        // Blocking calls made straight from async code block the event loop.
        None => {
            for id in 0..8 {
                checksum ^= blocking_job(id);
                tokio::task::yield_now().await;
            }
        }
        // Offloaded: the pool runs them in parallel, the loop stays free.
        Some(pool) => {
            let handles: Vec<_> = (0..8)
                .map(|id| pool.submit(move || blocking_job(id)))
                .collect();
            for h in handles {
                checksum ^= h.await.expect("the job does not panic");
            }
        }
    }
    let elapsed = start.elapsed();
    stop.notify_one();
    (elapsed, tick.await.expect("ticker"), checksum)
}

fn main() {
    let pool = Arc::new(
        ThreadPoolExecutor::builder()
            .max_workers(8)
            .thread_name_prefix("blocking")
            .build()
            .unwrap(),
    );
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();

    let (inline_time, inline_gap, a) = rt.block_on(run(None));
    println!("blocking calls on the event loop: 8 jobs in {inline_time:>9.1?}, longest ticker gap {inline_gap:>9.1?}");

    let (pool_time, pool_gap, b) = rt.block_on(run(Some(pool.clone())));
    println!("offloaded with pool.submit().await: 8 jobs in {pool_time:>9.1?}, longest ticker gap {pool_gap:>9.1?}");

    assert_eq!(a, b, "same work, same results");
    println!(
        "the event loop stayed responsive: longest gap {:.1}x shorter, jobs {:.1}x faster",
        inline_gap.as_secs_f64() / pool_gap.as_secs_f64().max(1e-9),
        inline_time.as_secs_f64() / pool_time.as_secs_f64()
    );
}
