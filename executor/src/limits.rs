//! The bounds a pool's configuration must stay within: a leaf that the
//! builder, the scheduler and the build errors share.

/// The most workers a pool may have (see `ThreadPoolBuilder::MAX_WORKERS`):
/// the sleep counters pack the searching and sleeping worker counts into
/// 16-bit fields.
pub(crate) const MAX_WORKERS: usize = 32_767;

/// The smallest worker stack size a pool accepts (see
/// `ThreadPoolBuilder::MIN_STACK_SIZE`).
pub(crate) const MIN_STACK_SIZE: usize = 64 * 1024;

/// The largest worker stack size a pool accepts.
pub(crate) const MAX_STACK_SIZE: usize = isize::MAX as usize;
