//! The configuration a pool runs with, as checked by the builder.

use std::sync::Arc;
use std::time::Duration;

pub(crate) use crate::limits::{MAX_STACK_SIZE, MAX_WORKERS, MIN_STACK_SIZE};

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
