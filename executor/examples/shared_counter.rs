//! The tutorials' shared counter: first protected by a lock, then the better
//! way, where each task returns its own count and the caller adds them up.
//!
//! The Python it mirrors:
//!
//! ```python
//! counter = 0
//! lock = threading.Lock()
//! def work(chunk):
//!     global counter
//!     for x in chunk:
//!         if x % 3 == 0:
//!             with lock:          # forget this and the count comes out wrong
//!                 counter += 1
//! ```
//!
//! In Rust, forgetting the lock is not a wrong answer but a compile error:
//! a closure sent to the pool cannot mutate a plain captured variable
//! (`counter += 1` inside `pool.submit(move || ..)` changes the task's own
//! copy, and without `move` the borrow does not live long enough). Shared
//! mutable state must be behind `Mutex` or an atomic, and `Arc` to share it.
//!
//! Four versions count the multiples of 3 below 8,000,000 on a pool:
//! `Arc<Mutex<u64>>` locked per match, an `AtomicU64`, each task returning
//! its count for the caller to sum (`pool.map`), and `pool.scope` with tasks
//! borrowing slices of a local vector, no `Arc` at all. Each prints its
//! count (all equal) and its time.
//!
//! Run with `cargo run --release --example shared_counter`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use executor::ThreadPoolExecutor;

const N: u64 = 8_000_000;
const TASKS: u64 = 16;

fn report(label: &str, count: u64, elapsed: Duration) {
    println!(
        "  {label:<44} count = {count}   {:>7.1} ms",
        elapsed.as_secs_f64() * 1e3
    );
}

/// The numbers task `i` of `TASKS` looks at.
fn chunk(i: u64) -> std::ops::Range<u64> {
    let len = N / TASKS;
    i * len..(i + 1) * len
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let pool = ThreadPoolExecutor::builder().max_workers(4).build()?;
    println!(
        "multiples of 3 below {N}, {TASKS} tasks on {} workers:",
        pool.max_workers()
    );

    // 1. The tutorial's fix: a lock around every increment. Correct, but the
    //    workers queue up on the lock.
    let start = Instant::now();
    let counter = Arc::new(Mutex::new(0_u64));
    let handles: Vec<_> = (0..TASKS)
        .map(|i| {
            let counter = Arc::clone(&counter);
            pool.submit(move || {
                for x in chunk(i) {
                    if x % 3 == 0 {
                        *counter.lock().unwrap() += 1;
                    }
                }
            })
        })
        .collect();
    for h in handles {
        h.result()?; // a panicking task would surface here, not vanish
    }
    let count = *counter.lock().unwrap();
    report(
        "Arc<Mutex<u64>>, locked per increment",
        count,
        start.elapsed(),
    );

    // 2. An atomic counter: no lock, but every increment still fights over
    //    one cache line.
    let start = Instant::now();
    let counter = Arc::new(AtomicU64::new(0));
    let handles: Vec<_> = (0..TASKS)
        .map(|i| {
            let counter = Arc::clone(&counter);
            pool.submit(move || {
                for x in chunk(i) {
                    if x % 3 == 0 {
                        counter.fetch_add(1, Ordering::Relaxed);
                    }
                }
            })
        })
        .collect();
    for h in handles {
        h.result()?;
    }
    report(
        "Arc<AtomicU64>, fetch_add per increment",
        counter.load(Ordering::Relaxed),
        start.elapsed(),
    );

    // 3. The better way: share nothing. Each task counts its own chunk and
    //    returns the count; the caller reduces. No lock, no Arc, no races.
    let start = Instant::now();
    let count = pool
        .map(0..TASKS, |i| chunk(i).filter(|x| x % 3 == 0).count() as u64)
        .sum::<Result<u64, _>>()?;
    report(
        "tasks return counts, caller sums (map)",
        count,
        start.elapsed(),
    );

    // 4. The same over data the caller owns: scoped tasks borrow slices of a
    //    local vector, and `scope` joins them all before returning.
    let numbers: Vec<u64> = (0..N).collect();
    let start = Instant::now();
    let count = pool.scope(|s| {
        let handles: Vec<_> = numbers
            .chunks(numbers.len() / TASKS as usize)
            .map(|part| s.submit(move || part.iter().filter(|&&x| x % 3 == 0).count() as u64))
            .collect();
        handles
            .into_iter()
            .map(|h| h.result())
            .sum::<Result<u64, _>>()
    })?;
    report(
        "scoped tasks borrow a local Vec, caller sums",
        count,
        start.elapsed(),
    );

    assert_eq!(count, N.div_ceil(3));
    Ok(())
}
