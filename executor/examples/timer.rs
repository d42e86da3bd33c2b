//! Python's `threading.Timer` and a periodic heartbeat, on a pool's one
//! timer instead of a thread per timer.
//!
//! ```python
//! t = threading.Timer(0.05, remind, args=("stand up",))
//! t.start()
//! t2 = threading.Timer(3600, remind, args=("never",))
//! t2.start(); t2.cancel()                 # cancelled before it fires
//!
//! def heartbeat():                        # a loop of Timers, by hand
//!     print("beat"); global hb
//!     hb = threading.Timer(0.02, heartbeat); hb.start()
//! ```
//!
//! Here: `pool.submit_after(delay, f)` is the Timer, with a handle that
//! can be cancelled, awaited or waited on; `schedule_at_fixed_rate` is
//! the heartbeat, stopped by `cancel()` or by shutting the pool down. A
//! thousand pending timers cost one heap entry each, not a thread each.
//!
//! Run with `cargo run --example timer`.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use executor::{TaskError, ThreadPoolExecutor};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let pool = ThreadPoolExecutor::builder().max_workers(2).build()?;
    let start = Instant::now();

    // threading.Timer(0.05, remind, ("stand up",)).start()
    let reminder = pool.submit_after(Duration::from_millis(50), move || {
        format!(
            "stand up (after {:.0} ms)",
            start.elapsed().as_secs_f64() * 1e3
        )
    });
    // A timer cancelled before it fires never runs.
    let never = pool.submit_after(Duration::from_secs(3600), || unreachable!());
    assert!(never.cancel());

    // A heartbeat every 20 ms, stopped after five beats.
    let beats = Arc::new(AtomicUsize::new(0));
    let b = Arc::clone(&beats);
    let heartbeat =
        pool.schedule_at_fixed_rate(Duration::ZERO, Duration::from_millis(20), move || {
            let n = b.fetch_add(1, Ordering::SeqCst) + 1;
            println!(
                "  beat {n} at {:.0} ms",
                start.elapsed().as_secs_f64() * 1e3
            );
        });

    // A thousand timers pending: one heap entry each, no thread each.
    let pending: Vec<_> = (0..1_000)
        .map(|i| pool.submit_after(Duration::from_secs(3600), move || i))
        .collect();
    println!("{} tasks wait in the timer", pool.stats().tasks_delayed);

    println!("{}", reminder.result()?);
    while beats.load(Ordering::SeqCst) < 5 {
        std::thread::sleep(Duration::from_millis(5));
    }
    heartbeat.cancel();
    assert!(matches!(never.result(), Err(TaskError::Cancelled)));

    // Shutting down cancels what has not fired yet.
    pool.shutdown(true);
    let cancelled = pending.into_iter().filter(|h| h.cancelled()).count();
    println!(
        "after shutdown: {cancelled} pending timers cancelled, heartbeat stopped after {} beats",
        beats.load(Ordering::SeqCst)
    );
    Ok(())
}
