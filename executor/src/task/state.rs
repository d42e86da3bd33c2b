//! The task state word: a lifecycle stage and two flags packed into one
//! atomic, read through the small `Snapshot` type.
//!
//! ```text
//!  bit:   4            3          2..0
//!       HAS_WAITERS  NOTIFIED   lifecycle
//! ```
//!
//! Lifecycle transitions (closure tasks never use `IDLE` or `NOTIFIED`):
//!
//! ```text
//! SCHEDULED ──run──▶ RUNNING ──finish──▶ COMPLETE or PANICKED
//!     │                 │  ▲
//!   cancel /        pending │ wake (async tasks only: IDLE|NOTIFIED is queued again)
//!   shutdown            ▼  │
//!     ▼               IDLE ┘
//! CANCELLED, REJECTED, BROKEN
//! ```
//! `COMPLETE`, `PANICKED`, `CANCELLED`, `REJECTED` and `BROKEN` are terminal: once there, the
//! word never changes again, which is what lets a waiter read the output after
//! one `Acquire` load.

use std::fmt;

/// A copy of the state word at one instant.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct Snapshot(pub(crate) usize);

impl Snapshot {
    pub(crate) const LIFECYCLE_MASK: usize = 0b111;
    /// Queued and never started; the only stage `cancel` succeeds from.
    pub(crate) const SCHEDULED: usize = 0;
    /// A worker is running the closure or polling the future.
    pub(crate) const RUNNING: usize = 1;
    /// An async task that returned `Pending` and waits for its waker.
    pub(crate) const IDLE: usize = 2;
    /// Finished: the output slot holds the value.
    pub(crate) const COMPLETE: usize = 3;
    /// Cancelled before it started.
    pub(crate) const CANCELLED: usize = 4;
    /// Refused because the pool was shut down.
    pub(crate) const REJECTED: usize = 5;
    /// Refused because the pool is broken.
    pub(crate) const BROKEN: usize = 6;
    /// Finished by panicking: the output slot holds the caught panic.
    pub(crate) const PANICKED: usize = 7;

    /// An async task was woken: while `RUNNING`, the runner polls it again;
    /// while `IDLE`, the waker has queued it again.
    pub(crate) const NOTIFIED: usize = 1 << 3;
    /// The waiter list is not empty: whoever makes the task terminal must
    /// drain it.
    pub(crate) const HAS_WAITERS: usize = 1 << 4;

    pub(crate) fn lifecycle(self) -> usize {
        self.0 & Self::LIFECYCLE_MASK
    }

    pub(crate) fn is_terminal(self) -> bool {
        self.lifecycle() >= Self::COMPLETE
    }

    /// Waiting in a queue to be run: never started, or an async task woken
    /// while idle (its waker queued it again).
    pub(crate) fn is_queued(self) -> bool {
        self.lifecycle() == Self::SCHEDULED
            || (self.lifecycle() == Self::IDLE && self.is_notified())
    }

    pub(crate) fn is_notified(self) -> bool {
        self.0 & Self::NOTIFIED != 0
    }

    pub(crate) fn has_waiters(self) -> bool {
        self.0 & Self::HAS_WAITERS != 0
    }

    /// The same flags with another lifecycle stage.
    pub(crate) fn with_lifecycle(self, lifecycle: usize) -> Snapshot {
        debug_assert!(lifecycle <= Self::LIFECYCLE_MASK);
        Snapshot((self.0 & !Self::LIFECYCLE_MASK) | lifecycle)
    }
}

impl fmt::Debug for Snapshot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let stage = match self.lifecycle() {
            Self::SCHEDULED => "SCHEDULED",
            Self::RUNNING => "RUNNING",
            Self::IDLE => "IDLE",
            Self::COMPLETE => "COMPLETE",
            Self::CANCELLED => "CANCELLED",
            Self::REJECTED => "REJECTED",
            Self::BROKEN => "BROKEN",
            _ => "PANICKED",
        };
        f.debug_struct("Snapshot")
            .field("lifecycle", &stage)
            .field("notified", &self.is_notified())
            .field("has_waiters", &self.has_waiters())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::Snapshot as S;

    #[test]
    fn masks_do_not_overlap() {
        let flags = [S::NOTIFIED, S::HAS_WAITERS];
        for flag in flags {
            assert_eq!(
                flag & S::LIFECYCLE_MASK,
                0,
                "flag {flag:#b} overlaps the lifecycle bits"
            );
        }
        assert_eq!(S::NOTIFIED & S::HAS_WAITERS, 0);
        for stage in [
            S::SCHEDULED,
            S::RUNNING,
            S::IDLE,
            S::COMPLETE,
            S::CANCELLED,
            S::REJECTED,
            S::BROKEN,
            S::PANICKED,
        ] {
            assert_eq!(stage & !S::LIFECYCLE_MASK, 0);
            let s = S(stage | S::NOTIFIED | S::HAS_WAITERS);
            assert_eq!(s.lifecycle(), stage);
            assert!(s.is_notified() && s.has_waiters());
        }
    }

    #[test]
    fn terminal_stages() {
        let terminal: Vec<usize> = (0..=7).filter(|&s| S(s).is_terminal()).collect();
        assert_eq!(
            terminal,
            vec![
                S::COMPLETE,
                S::CANCELLED,
                S::REJECTED,
                S::BROKEN,
                S::PANICKED
            ]
        );
    }

    #[test]
    fn with_lifecycle_keeps_flags() {
        let s = S(S::RUNNING | S::HAS_WAITERS).with_lifecycle(S::COMPLETE);
        assert_eq!(s.lifecycle(), S::COMPLETE);
        assert!(s.has_waiters() && !s.is_notified());
        assert_eq!(
            format!("{s:?}"),
            "Snapshot { lifecycle: \"COMPLETE\", notified: false, has_waiters: true }"
        );
    }
}
