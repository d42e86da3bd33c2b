//! The seeds' "stop the workers with an Event" pattern, with a token.
//!
//! In Python:
//!
//! ```python
//! stop = threading.Event()
//! def worker(n):
//!     while not stop.is_set():
//!         do_a_unit_of_work(n)
//!         stop.wait(0.01)          # sleeps, but wakes at once on stop
//! with ThreadPoolExecutor(4) as pool:
//!     futures = [pool.submit(worker, n) for n in range(4)]
//!     time.sleep(0.1)
//!     stop.set()
//! ```
//!
//! Here the Event is a [`CancelToken`]: each worker gets a child of it
//! (so `handle.cancel()` could stop one worker alone), waits between units
//! of work with `wait_timeout` (which ends at once when cancelled), and
//! returns how many units it did. No hand-written flag, and no sleep that
//! delays the stop.
//!
//! Run with `cargo run --release --example stop_workers`.

use std::time::{Duration, Instant};

use executor::{CancelToken, ThreadPoolExecutor};

fn main() {
    let pool = ThreadPoolExecutor::builder()
        .max_workers(4)
        .build()
        .unwrap();
    let stop = CancelToken::new();

    let workers: Vec<_> = (0..4)
        .map(|n| {
            pool.submit_with_given_token(Some("worker"), stop.child(), move |token| {
                let mut units = 0u64;
                loop {
                    units += 1; // a unit of work
                    if token.wait_timeout(Duration::from_millis(10 + n)) {
                        return units;
                    }
                }
            })
        })
        .collect();

    // Stop one worker alone: its handle's cancel() reaches its token.
    std::thread::sleep(Duration::from_millis(30));
    workers[0].cancel();

    std::thread::sleep(Duration::from_millis(70));
    let asked = Instant::now();
    stop.cancel(); // stop.set()
    for (n, handle) in workers.into_iter().enumerate() {
        let units = handle.result().expect("a worker returns what it did");
        println!("worker {n}: {units} units of work");
    }
    println!(
        "all workers stopped {:.1?} after the request",
        asked.elapsed()
    );
    pool.shutdown(true);
}
