//! The configuration a pool runs with, as checked by the builder.

use std::sync::Arc;
use std::time::Duration;

/// The most workers a pool may have (see `ThreadPoolBuilder::MAX_WORKERS`):
/// the sleep counters pack the searching and sleeping worker counts into
/// 16-bit fields.
pub(crate) const MAX_WORKERS: usize = 32_767;

/// The smallest worker stack size a pool accepts (see
/// `ThreadPoolBuilder::MIN_STACK_SIZE`).
pub(crate) const MIN_STACK_SIZE: usize = 64 * 1024;

/// The largest worker stack size a pool accepts.
pub(crate) const MAX_STACK_SIZE: usize = isize::MAX as usize;

/// Everything a pool is configured with, checked and frozen by `build`.
pub(crate) struct Config {
    pub(crate) max_workers: usize,
    pub(crate) min_workers: usize,
    pub(crate) thread_name_prefix: String,
    pub(crate) stack_size: Option<usize>,
    pub(crate) initializer: Option<Arc<dyn Fn() + Send + Sync + 'static>>,
    pub(crate) keep_alive: Option<Duration>,
    pub(crate) queue_capacity: Option<usize>,
    pub(crate) hooks: crate::hooks::Hooks,
}
