//! The pool's state flags: shut down, cancelling its queue, broken,
//! terminated. One atomic word, read through the small `PoolState` type
//! (as the sleep protocol's `Counts` reads its word).
//!
//! Flags are only ever set, never cleared, so every later snapshot holds
//! every flag an earlier one held:
//!
//! ```text
//! running ──shutdown──▶ SHUTDOWN (+ CANCEL_QUEUED) ──last worker left──▶ + TERMINATED
//!    └──────an initializer panicked──▶ BROKEN ─────last worker left──▶ + TERMINATED
//! ```

use std::fmt;

use crate::error::Refusal;
use crate::sync::{AtomicUsize, Ordering};

/// A copy of the pool's state flags at one instant.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct PoolState(usize);

impl PoolState {
    const SHUTDOWN: usize = 1;
    /// Set with `SHUTDOWN` by `shutdown_with(_, cancel_futures = true)`.
    const CANCEL_QUEUED: usize = 1 << 1;
    const BROKEN: usize = 1 << 2;
    /// Set once the last worker left a shut-down or broken pool.
    const TERMINATED: usize = 1 << 3;

    /// `shutdown` was called: no new work from outside.
    pub(crate) fn is_shutdown(self) -> bool {
        self.0 & Self::SHUTDOWN != 0
    }

    /// The shutdown cancels the tasks still queued.
    pub(crate) fn cancels_queued(self) -> bool {
        self.0 & Self::CANCEL_QUEUED != 0
    }

    /// A worker's initializer panicked: nothing runs any more.
    pub(crate) fn is_broken(self) -> bool {
        self.0 & Self::BROKEN != 0
    }

    /// The last worker left a closed pool: nothing queued will ever run.
    pub(crate) fn is_terminated(self) -> bool {
        self.0 & Self::TERMINATED != 0
    }

    /// Shut down or broken: refuses work from outside.
    pub(crate) fn is_closed(self) -> bool {
        self.0 & (Self::SHUTDOWN | Self::BROKEN) != 0
    }

    /// What a task the pool can no longer run resolves to: `Broken` in a
    /// broken pool, `Rejected` in a shut-down one, and nothing while open.
    pub(crate) fn refusal(self) -> Option<Refusal> {
        if self.is_broken() {
            Some(Refusal::Broken)
        } else if self.is_shutdown() {
            Some(Refusal::Rejected)
        } else {
            None
        }
    }
}

impl fmt::Debug for PoolState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PoolState")
            .field("shutdown", &self.is_shutdown())
            .field("cancels_queued", &self.cancels_queued())
            .field("broken", &self.is_broken())
            .field("terminated", &self.is_terminated())
            .finish()
    }
}

/// The atomic word behind `PoolState`. Every access is SeqCst: the flags
/// take part in the store-load handshakes documented at their uses
/// (`Registry::closed_after_submit`, `forget_async_task`, `shutdown`).
pub(crate) struct AtomicPoolState(AtomicUsize);

impl AtomicPoolState {
    /// A running pool: no flag set.
    pub(crate) fn new() -> Self {
        AtomicPoolState(AtomicUsize::new(0))
    }

    pub(crate) fn load(&self) -> PoolState {
        PoolState(self.0.load(Ordering::SeqCst))
    }

    /// Sets `SHUTDOWN` (and `CANCEL_QUEUED` if asked); returns the state before.
    pub(crate) fn shut_down(&self, cancel_queued: bool) -> PoolState {
        let cancel = if cancel_queued {
            PoolState::CANCEL_QUEUED
        } else {
            0
        };
        self.set(PoolState::SHUTDOWN | cancel)
    }

    /// Sets `BROKEN`; returns the state before.
    pub(crate) fn break_down(&self) -> PoolState {
        self.set(PoolState::BROKEN)
    }

    /// Sets `TERMINATED`; returns the state before.
    pub(crate) fn terminate(&self) -> PoolState {
        self.set(PoolState::TERMINATED)
    }

    fn set(&self, flags: usize) -> PoolState {
        PoolState(self.0.fetch_or(flags, Ordering::SeqCst))
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn flags_accumulate_and_map_to_one_refusal() {
        let state = AtomicPoolState::new();
        let open = state.load();
        assert!(!open.is_closed() && open.refusal().is_none());
        assert_eq!(state.shut_down(true), open);
        let shut = state.load();
        assert!(shut.is_shutdown() && shut.cancels_queued() && shut.is_closed());
        assert_eq!(shut.refusal(), Some(Refusal::Rejected));
        state.break_down();
        assert_eq!(state.load().refusal(), Some(Refusal::Broken), "broken wins");
        let before = state.terminate();
        assert!(!before.is_terminated());
        let end = state.load();
        assert!(end.is_terminated() && end.is_shutdown() && end.is_broken());
        assert_eq!(
            format!("{end:?}"),
            "PoolState { shutdown: true, cancels_queued: true, broken: true, terminated: true }"
        );
    }

    #[test]
    fn broken_without_shutdown_is_closed() {
        let state = AtomicPoolState::new();
        state.break_down();
        let s = state.load();
        assert!(s.is_closed() && !s.is_shutdown() && !s.cancels_queued());
    }
}
