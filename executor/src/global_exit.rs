//! Joining [`global()`](crate::global) at process exit, which Rust does not
//! do by itself (statics are never dropped).

use std::time::Duration;

use crate::pool::GLOBAL;
use crate::shutdown_timeout::ShutdownReport;

/// Shuts [`global()`](crate::global) down, as
/// [`ThreadPoolExecutor::shutdown`](crate::ThreadPoolExecutor::shutdown)
/// would: with `wait`, returns once its queued and running tasks have
/// finished. Does nothing if the global pool was never used. Afterwards
/// `global()` still returns the (shut down) pool, whose submissions
/// resolve to `Rejected`.
///
/// ```
/// use std::sync::atomic::{AtomicBool, Ordering};
///
/// static SAVED: AtomicBool = AtomicBool::new(false);
///
/// drop(executor::global().submit(|| SAVED.store(true, Ordering::SeqCst)));
/// executor::shutdown_global(true); // the end of main
/// assert!(SAVED.load(Ordering::SeqCst));
/// ```
pub fn shutdown_global(wait: bool) {
    if let Some(pool) = GLOBAL.get() {
        pool.shutdown(wait);
    }
}

/// [`shutdown_global`] with a deadline (see
/// [`ThreadPoolExecutor::shutdown_timeout`](crate::ThreadPoolExecutor::shutdown_timeout));
/// `None` if the global pool was never used.
///
/// ```
/// use std::time::Duration;
///
/// drop(executor::global().submit(|| 1 + 1));
/// let report = executor::shutdown_global_timeout(Duration::from_secs(60))
///     .expect("global() was used");
/// assert!(report.terminated); // the task finished well before the deadline
/// ```
pub fn shutdown_global_timeout(timeout: Duration) -> Option<ShutdownReport> {
    GLOBAL.get().map(|pool| pool.shutdown_timeout(timeout))
}

/// Returns a guard that joins [`global()`](crate::global) when dropped:
/// put it at the top of `main`, and work queued on the global pool is not
/// lost when `main` returns (Python's behaviour at interpreter exit).
///
/// ```
/// // At the top of `main`: the global pool is joined when `main` returns.
/// let _global = executor::global_guard();
/// drop(executor::global().submit(|| println!("still printed")));
/// ```
pub fn global_guard() -> GlobalGuard {
    GlobalGuard { _private: () }
}

/// Joins [`global()`](crate::global) when dropped; see [`global_guard`].
#[derive(Debug)]
#[must_use = "the guard joins the global pool when it is dropped: bind it to a variable (`let _global = ...`)"]
pub struct GlobalGuard {
    _private: (),
}

impl Drop for GlobalGuard {
    fn drop(&mut self) {
        shutdown_global(true);
    }
}
