//! A work-stealing thread pool with futures: Python's
//! `concurrent.futures.ThreadPoolExecutor`, rebuilt for Rust on
//! `crossbeam-deque`.
//!
//! ```
//! use executor::ThreadPoolExecutor;
//!
//! let pool = ThreadPoolExecutor::new();
//! let handle = pool.submit(|| (1..=10).sum::<u32>());
//! assert_eq!(handle.result().unwrap(), 55);
//! ```

#![deny(missing_docs, missing_debug_implementations, unreachable_pub)]
#![deny(unsafe_op_in_unsafe_fn)]

mod builder;
mod error;
mod handle;
#[cfg(all(test, loom))]
mod loom_models;
mod pool;
mod registry;
mod sleep;
mod spawn;
mod stats;
mod sync;
mod task;
mod worker;

pub use builder::{BuildError, ThreadPoolBuilder};
pub use error::{Panic, SubmitError, TaskError};
pub use handle::{Outcome, TaskHandle};
pub use pool::{global, ThreadPoolExecutor};
pub use stats::Stats;
