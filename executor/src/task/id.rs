//! `TaskId`: a task's identity, a leaf that hooks, tracing and handles share.

#[cfg(doc)]
use crate::TaskHandle;

/// Identifies a task while it is alive; see [`TaskHandle::id`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TaskId(usize);

impl TaskId {
    /// The id of the task whose allocation is at `addr` (see `Job::addr`).
    pub(crate) fn from_addr(addr: usize) -> TaskId {
        TaskId(addr)
    }

    /// The address the id was made from.
    pub(crate) fn addr(self) -> usize {
        self.0
    }
}
