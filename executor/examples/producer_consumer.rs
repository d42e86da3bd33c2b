//! The tutorials' producer/consumer over a bounded `queue.Queue`, done with a
//! bounded pool: `queue_capacity(n)` makes `submit` block while `n` tasks
//! wait, so a fast producer is held back (back-pressure) instead of filling
//! memory.
//!
//! The Python it mirrors:
//!
//! ```python
//! q = queue.Queue(maxsize=8)
//! def producer():
//!     for item in read_items():
//!         q.put(item)                  # blocks while 8 items wait
//!     for _ in consumers: q.put(None)  # one sentinel per consumer
//! def consumer():
//!     while (item := q.get()) is not None:
//!         results.put(process(item))
//!         q.task_done()
//! # start 1 producer thread, 4 consumer threads; q.join()
//! ```
//!
//! Here the pool's workers are the consumers and its queue is the `Queue`:
//! the producer submits one task per item, results go to an output channel,
//! and `shutdown(true)` is `q.join()` plus the sentinels. Three runs over
//! the same 60 items (produced every 0.5 ms, consumed in 10 ms each by 4
//! workers):
//!
//! 1. an unbounded pool: the producer finishes at once and the queue holds
//!    almost everything;
//! 2. `queue_capacity(8)`: the producer is paced by the consumers and the
//!    queue never holds more than 8;
//! 3. `try_submit` on the same bounded pool: when the queue is full the
//!    closure comes back, and the producer runs that item itself (a
//!    "caller runs" policy; dropping it, or `submit_timeout`, work too).
//!
//! Run with `cargo run --release --example producer_consumer`.

use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use executor::{SubmitError, ThreadPoolExecutor};

const ITEMS: u64 = 60;
const WORKERS: usize = 4;
const CAPACITY: usize = 8;
const PRODUCE: Duration = Duration::from_micros(500);
const CONSUME: Duration = Duration::from_millis(10);

/// The producer's side: reading or generating the next item.
fn produce(i: u64) -> u64 {
    thread::sleep(PRODUCE);
    i
}

/// The consumer's side: the slow processing of one item.
fn consume(item: u64) -> u64 {
    thread::sleep(CONSUME);
    item * item
}

/// What one run measured.
struct Run {
    /// When the producer had handed over its last item.
    producer_done: Duration,
    /// When every item was consumed (`shutdown(true)` returned).
    all_done: Duration,
    /// The most tasks seen waiting in the queue after a submission.
    peak_queued: usize,
    /// Items the producer ran itself because the queue was full.
    ran_inline: usize,
    /// The sum of the results, to show nothing was lost.
    checksum: u64,
}

/// Produces every item into `pool`, with `try_submit` (and running rejected
/// items inline) when `caller_runs`, with a blocking `submit` otherwise.
fn run(pool: ThreadPoolExecutor, caller_runs: bool) -> Run {
    let (results_tx, results_rx) = mpsc::channel();
    let start = Instant::now();
    let mut peak_queued = 0;
    let mut ran_inline = 0;
    for i in 0..ITEMS {
        let item = produce(i);
        let tx = results_tx.clone();
        let task = move || {
            tx.send(consume(item))
                .expect("the receiver outlives the pool")
        };
        if caller_runs {
            match pool.try_submit(task) {
                Ok(_handle) => {} // dropping a handle does not cancel its task
                Err(SubmitError::Full(task)) => {
                    task(); // the closure came back: run it here
                    ran_inline += 1;
                }
                Err(other) => panic!("the pool refused an item: {other}"),
            }
        } else {
            // Blocks while CAPACITY tasks wait (with a capacity set).
            let _handle = pool.submit(task);
        }
        peak_queued = peak_queued.max(pool.stats().tasks_queued);
    }
    let producer_done = start.elapsed();
    pool.shutdown(true); // q.join(): every queued item is consumed
    let all_done = start.elapsed();
    drop(results_tx);
    let results: Vec<u64> = results_rx.iter().collect();
    assert_eq!(results.len() as u64, ITEMS, "an item was lost");
    Run {
        producer_done,
        all_done,
        peak_queued,
        ran_inline,
        checksum: results.iter().sum(),
    }
}

fn print(label: &str, run: &Run) {
    println!(
        "  {label:<30} producer done {:>5.0} ms, all consumed {:>5.0} ms, peak queued {:>2}, run inline {:>2}, checksum {}",
        run.producer_done.as_secs_f64() * 1e3,
        run.all_done.as_secs_f64() * 1e3,
        run.peak_queued,
        run.ran_inline,
        run.checksum
    );
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!(
        "{ITEMS} items, one produced every {} us, each consumed in {} ms by {WORKERS} workers:",
        PRODUCE.as_micros(),
        CONSUME.as_millis()
    );

    let unbounded = ThreadPoolExecutor::builder()
        .max_workers(WORKERS)
        .min_workers(WORKERS)
        .build()?;
    print("unbounded queue", &run(unbounded, false));

    let bounded = || {
        ThreadPoolExecutor::builder()
            .max_workers(WORKERS)
            .min_workers(WORKERS)
            .queue_capacity(CAPACITY)
            .build()
    };
    let paced = run(bounded()?, false);
    print(&format!("queue_capacity({CAPACITY}), submit"), &paced);
    assert!(
        paced.peak_queued <= CAPACITY,
        "the queue outgrew its capacity"
    );

    print(
        &format!("queue_capacity({CAPACITY}), try_submit"),
        &run(bounded()?, true),
    );
    Ok(())
}
