//! Measurements of `map` and `as_completed` at scale, not timed tests: nothing here
//! asserts on a duration. Run in release, on a quiet machine:
//!
//! ```text
//! cargo test --release -p executor-tests --test perf_map -- --ignored --nocapture --test-threads 1
//! ```

use std::hint::black_box;
use std::time::{Duration, Instant};

use executor::{as_completed, ThreadPoolExecutor};
use rayon::prelude::*;

const N: usize = 1_000_000;
const RUNS: usize = 7;

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort_unstable();
    times[times.len() / 2]
}

fn time<R>(mut f: impl FnMut() -> R) -> Duration {
    let mut times = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        let start = Instant::now();
        black_box(f());
        times.push(start.elapsed());
    }
    median(times)
}

/// A cheap item: `rounds` of xorshift (0 rounds: a multiply).
fn work(x: u64, rounds: u32) -> u64 {
    let mut v = x.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    for _ in 0..rounds {
        v ^= v << 13;
        v ^= v >> 7;
        v ^= v << 17;
    }
    v
}

#[test]
#[ignore = "a measurement: run in release with --ignored --nocapture"]
fn map_of_a_million_cheap_items_vs_rayon() {
    let pool = ThreadPoolExecutor::new();
    let threads = rayon::current_num_threads();
    println!(
        "map of {N} items: executor {} workers, rayon {threads} threads, median of {RUNS}",
        pool.max_workers()
    );
    let inputs: Vec<u64> = (0..N as u64).collect();
    for rounds in [0_u32, 16, 64, 256] {
        let expected: Vec<u64> = inputs.iter().map(|&x| work(x, rounds)).collect();
        let ours = pool
            .map(inputs.iter().copied(), move |x| work(x, rounds))
            .collect::<Result<Vec<u64>, _>>()
            .unwrap();
        assert_eq!(ours, expected);
        let sequential = time(|| inputs.iter().map(|&x| work(x, rounds)).collect::<Vec<_>>());
        let rayon = time(|| {
            inputs
                .par_iter()
                .map(|&x| work(x, rounds))
                .collect::<Vec<_>>()
        });
        let executor = time(|| {
            pool.map(inputs.iter().copied(), move |x| work(x, rounds))
                .collect::<Result<Vec<u64>, _>>()
                .unwrap()
        });
        println!(
            "  {rounds:>3} xorshift rounds/item ({:>6.1} ns/item sequential): \
             sequential {sequential:>9.2?}  rayon {rayon:>9.2?}  executor {executor:>9.2?}  \
             executor/rayon {:.2}x",
            sequential.as_nanos() as f64 / N as f64,
            executor.as_secs_f64() / rayon.as_secs_f64(),
        );
    }
}

#[test]
#[ignore = "a measurement: run in release with --ignored --nocapture"]
fn as_completed_over_a_million_handles() {
    let pool = ThreadPoolExecutor::new();
    let mut submit_times = Vec::new();
    let mut drain_times = Vec::new();
    for _ in 0..RUNS {
        let start = Instant::now();
        let handles: Vec<_> = (0..N).map(|i| pool.submit(move || i)).collect();
        let submitted = start.elapsed();
        let mut seen = vec![false; N];
        for handle in as_completed(handles) {
            let i = handle.result().unwrap();
            assert!(!std::mem::replace(&mut seen[i], true));
        }
        let total = start.elapsed();
        assert!(seen.iter().all(|&s| s));
        submit_times.push(submitted);
        drain_times.push(total);
    }
    println!(
        "as_completed over {N} handles ({} workers, median of {RUNS}): submit {:.2?}, \
         submit + as_completed + result {:.2?}",
        pool.max_workers(),
        median(submit_times),
        median(drain_times),
    );
}
