//! The threading tutorials' first program, "start N threads, then join
//! them", rewritten as `submit` + `result` on a pool, with timings.
//!
//! The Python it mirrors:
//!
//! ```python
//! threads = [threading.Thread(target=fetch, args=(i,)) for i in range(32)]
//! for t in threads: t.start()
//! for t in threads: t.join()          # and the results? a shared list + a lock
//!
//! with ThreadPoolExecutor(max_workers=8) as pool:
//!     futures = [pool.submit(fetch, i) for i in range(32)]
//!     results = [f.result() for f in futures]
//! ```
//!
//! It times the same 32 jobs five ways: a sequential loop, one thread per
//! job, pools of 8 and 32 workers (`submit` + `result`), and `pool.map`. The
//! jobs sleep 20 ms, standing in for I/O (a socket read, a disk wait): on a
//! pool, waiting jobs cost a worker each, not a CPU, so more workers help.
//! A last line runs CPU-bound jobs, where more workers than cores do not.
//!
//! Run with `cargo run --release --example threads_to_pool`.

use std::hash::{Hash, Hasher};
use std::thread;
use std::time::{Duration, Instant};

use executor::ThreadPoolExecutor;

const JOBS: u64 = 32;
const IO_WAIT: Duration = Duration::from_millis(20);

/// Stands in for a blocking call: waits, then returns something computed
/// from its input.
fn fetch(id: u64) -> u64 {
    thread::sleep(IO_WAIT);
    id * 10
}

/// CPU-bound work: hashes two million values.
fn crunch(id: u64) -> u64 {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    for i in 0..2_000_000_u64 {
        (id, i).hash(&mut hasher);
    }
    hasher.finish()
}

fn report(label: &str, elapsed: Duration, results: &[u64]) {
    let checksum: u64 = results.iter().fold(0, |a, &r| a.wrapping_add(r));
    println!(
        "  {label:<34} {:>7.1} ms   ({} results, checksum {checksum})",
        elapsed.as_secs_f64() * 1e3,
        results.len()
    );
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!(
        "{JOBS} jobs that each wait {} ms (I/O-like):",
        IO_WAIT.as_millis()
    );

    // 1. Sequential: the baseline, JOBS x IO_WAIT.
    let start = Instant::now();
    let results: Vec<u64> = (0..JOBS).map(fetch).collect();
    report("sequential loop", start.elapsed(), &results);

    // 2. The tutorial's version: one OS thread per job, start them all, join
    //    them all. In Rust the join hands the result back, no shared list.
    let start = Instant::now();
    let threads: Vec<thread::JoinHandle<u64>> = (0..JOBS)
        .map(|id| thread::spawn(move || fetch(id)))
        .collect();
    let results: Vec<u64> = threads
        .into_iter()
        .map(|t| t.join().expect("a fetch thread panicked"))
        .collect();
    report(
        "one thread per job, spawn + join",
        start.elapsed(),
        &results,
    );

    // 3. The same with a pool: submit returns a handle (Python's Future),
    //    result() blocks for the value. 8 workers: 4 rounds of 20 ms.
    let pool = ThreadPoolExecutor::builder().max_workers(8).build()?;
    let start = Instant::now();
    let handles: Vec<_> = (0..JOBS).map(|id| pool.submit(move || fetch(id))).collect();
    let results = handles
        .into_iter()
        .map(|h| h.result())
        .collect::<Result<Vec<u64>, _>>()?;
    report("pool of 8: submit + result", start.elapsed(), &results);
    drop(pool); // shutdown(wait = true), like leaving a `with` block

    // 4. Enough workers for every job to wait at once: like the threads,
    //    but the 32 threads stay parked for the next batch instead of being
    //    created and destroyed each time.
    let pool = ThreadPoolExecutor::builder().max_workers(32).build()?;
    let start = Instant::now();
    let handles: Vec<_> = (0..JOBS).map(|id| pool.submit(move || fetch(id))).collect();
    let results = handles
        .into_iter()
        .map(|h| h.result())
        .collect::<Result<Vec<u64>, _>>()?;
    report("pool of 32: submit + result", start.elapsed(), &results);

    // 5. pool.map: the results in input order, one call.
    let start = Instant::now();
    let results = pool.map(0..JOBS, fetch).collect::<Result<Vec<u64>, _>>()?;
    report("pool of 32: map", start.elapsed(), &results);
    pool.shutdown(true);

    // CPU-bound jobs: the pool cannot beat the number of cores.
    let cores = num_cores();
    println!("\n{JOBS} CPU-bound jobs on {cores} core(s):");
    let start = Instant::now();
    let results: Vec<u64> = (0..JOBS).map(crunch).collect();
    let sequential = start.elapsed();
    report("sequential loop", sequential, &results);
    for workers in [cores, 4 * cores] {
        let pool = ThreadPoolExecutor::builder().max_workers(workers).build()?;
        let start = Instant::now();
        let results = pool.map(0..JOBS, crunch).collect::<Result<Vec<u64>, _>>()?;
        let elapsed = start.elapsed();
        report(&format!("pool of {workers}: map"), elapsed, &results);
        println!(
            "  {:<34} {:>7.2}x",
            "  speed-up over sequential",
            sequential.as_secs_f64() / elapsed.as_secs_f64()
        );
    }
    Ok(())
}

fn num_cores() -> usize {
    thread::available_parallelism().map_or(1, |n| n.get())
}
