//! Release-build measurement (ignored by default; it times, it asserts only
//! the results): 1,000,000 no-op `submit` + `result` against rayon's `spawn`
//! sending each result over a channel, in one run.
//!
//! `cargo test --release -p executor-tests --test perf_submit -- --ignored --nocapture`

use std::time::{Duration, Instant};

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

#[test]
#[ignore = "a measurement: run in release with --ignored --nocapture"]
fn submit_result_million_vs_rayon_spawn() {
    const N: u64 = 1_000_000;
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
    let pool = executor::ThreadPoolExecutor::builder()
        .max_workers(workers)
        .build()
        .unwrap();
    let rayon = rayon::ThreadPoolBuilder::new()
        .num_threads(workers)
        .build()
        .unwrap();
    let expected = N * (N - 1) / 2;
    let (mut ours, mut theirs) = (Vec::new(), Vec::new());
    // Each side runs after a pause, so the other pool's workers have
    // stopped spinning and parked: on 2 cores they would steal its CPU.
    let settle = || std::thread::sleep(Duration::from_millis(50));
    for _ in 0..5 {
        settle();
        let start = Instant::now();
        let handles: Vec<_> = (0..N).map(|i| pool.submit(move || i)).collect();
        let sum: u64 = handles.into_iter().map(|h| h.result().unwrap()).sum();
        ours.push(start.elapsed());
        assert_eq!(sum, expected);

        settle();
        let start = Instant::now();
        let (tx, rx) = std::sync::mpsc::channel();
        for i in 0..N {
            let tx = tx.clone();
            rayon.spawn(move || tx.send(i).unwrap());
        }
        drop(tx);
        let sum: u64 = rx.iter().sum();
        theirs.push(start.elapsed());
        assert_eq!(sum, expected);
    }
    let (ours, theirs) = (median(ours), median(theirs));
    println!(
        "{N} no-op submit+result on {workers} workers: executor {ours:?} ({:.0} ns/task), \
         rayon spawn + channel {theirs:?} ({:.0} ns/task): {:.2}x",
        ours.as_nanos() as f64 / N as f64,
        theirs.as_nanos() as f64 / N as f64,
        ours.as_secs_f64() / theirs.as_secs_f64()
    );
}
