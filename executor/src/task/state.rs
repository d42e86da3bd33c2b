//! The task state word: a lifecycle stage, two flags and an async task's
//! waker count packed into one atomic, read through the small `Snapshot` type.
//!
//! ```text
//!  bit:   63..7     6          5            4          3..0
//!        WAKERS   TALLIED   HAS_WAITERS  NOTIFIED   lifecycle
//! ```
//!
//! Lifecycle transitions (closure tasks never use `IDLE`, `NOTIFIED`,
//! `WAKERS` or `ABANDONED`):
//!
//! ```text
//! SCHEDULED ──run──▶ RUNNING ──finish──▶ COMPLETE or PANICKED
//!     │                 │  ▲
//!   cancel /        pending │ wake (async tasks only: IDLE|NOTIFIED is queued again)
//!   shutdown            ▼  │
//!     ▼               IDLE ┘──── no waker left, pool shut down or broken ──▶ ABANDONED
//! CANCELLED, REJECTED, BROKEN
//! ```
//! `COMPLETE`, `PANICKED`, `CANCELLED`, `REJECTED`, `BROKEN` and `ABANDONED`
//! are terminal: once there, the lifecycle and flags never change again
//! (only the count of an async task's outstanding wakers still falls as they
//! drop), which is what lets a waiter read the output after one `Acquire` load.
//!
//! `WAKERS` counts the clones of an async task's waker that exist (the
//! runner's borrowed one is not counted). It shares the word with the
//! lifecycle so that "parked, not woken, and no waker anywhere" is one
//! atomic fact (`is_unwakeable`): read from two words, a task woken and
//! re-polled in between could look unwakeable while it holds a fresh waker.

use std::fmt;

/// A copy of the state word at one instant.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct Snapshot(pub(crate) usize);

impl Snapshot {
    pub(crate) const LIFECYCLE_MASK: usize = 0b1111;
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
    /// An async task that started but that the pool can never poll again:
    /// parked with no waker left when the pool shut down, or its pool broke.
    pub(crate) const ABANDONED: usize = 8;

    /// An async task was woken: while `RUNNING`, the runner polls it again;
    /// while `IDLE`, the waker has queued it again.
    pub(crate) const NOTIFIED: usize = 1 << 4;
    /// The waiter list is not empty: whoever makes the task terminal must
    /// drain it.
    pub(crate) const HAS_WAITERS: usize = 1 << 5;
    /// A cancelled task was counted in the pool's `tasks_cancelled`: set
    /// once, by the first to count it (only ever on a `CANCELLED` word).
    pub(crate) const TALLIED: usize = 1 << 6;
    /// One outstanding waker of an async task; the count fills the bits
    /// from here up.
    pub(crate) const WAKER_ONE: usize = 1 << 7;
    /// The most wakers the count can hold.
    pub(crate) const MAX_WAKERS: usize = usize::MAX / Self::WAKER_ONE;

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

    /// How many clones of the async task's waker exist.
    pub(crate) fn wakers(self) -> usize {
        self.0 / Self::WAKER_ONE
    }

    /// An async task parked on its waker that nothing can ever queue again:
    /// not woken, and no waker left to wake it. Nobody can make a new
    /// waker either (only a poll can, and only a wake leads to a poll), so
    /// this stays true until someone resolves the task.
    pub(crate) fn is_unwakeable(self) -> bool {
        self.lifecycle() == Self::IDLE && !self.is_notified() && self.wakers() == 0
    }

    /// The terminal state `lifecycle`, keeping only the waker count (which
    /// the outstanding wakers still decrement as they drop).
    pub(crate) fn resolved(self, lifecycle: usize) -> Snapshot {
        debug_assert!(Snapshot(lifecycle).is_terminal());
        Snapshot((self.0 & !(Self::WAKER_ONE - 1)) | lifecycle)
    }

    pub(crate) fn is_tallied(self) -> bool {
        self.0 & Self::TALLIED != 0
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
            Self::PANICKED => "PANICKED",
            Self::ABANDONED => "ABANDONED",
            _ => "(invalid)",
        };
        f.debug_struct("Snapshot")
            .field("lifecycle", &stage)
            .field("notified", &self.is_notified())
            .field("has_waiters", &self.has_waiters())
            .field("wakers", &self.wakers())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::Snapshot as S;

    #[test]
    fn masks_do_not_overlap() {
        let flags = [S::NOTIFIED, S::HAS_WAITERS, S::TALLIED];
        for flag in flags {
            assert_eq!(
                flag & S::LIFECYCLE_MASK,
                0,
                "flag {flag:#b} overlaps the lifecycle bits"
            );
            assert!(
                flag < S::WAKER_ONE,
                "flag {flag:#b} overlaps the waker count"
            );
        }
        assert_eq!(S::NOTIFIED & S::HAS_WAITERS, 0);
        assert_eq!((S::NOTIFIED | S::HAS_WAITERS) & S::TALLIED, 0);
        assert_eq!(
            S::WAKER_ONE - 1,
            S::LIFECYCLE_MASK | S::NOTIFIED | S::HAS_WAITERS | S::TALLIED
        );
        let s = S(S::IDLE | S::NOTIFIED | (3 * S::WAKER_ONE));
        assert_eq!((s.lifecycle(), s.wakers()), (S::IDLE, 3));
        assert_eq!(S(usize::MAX).wakers(), S::MAX_WAKERS);
        for stage in [
            S::SCHEDULED,
            S::RUNNING,
            S::IDLE,
            S::COMPLETE,
            S::CANCELLED,
            S::REJECTED,
            S::BROKEN,
            S::PANICKED,
            S::ABANDONED,
        ] {
            assert_eq!(stage & !S::LIFECYCLE_MASK, 0);
            let s = S(stage | S::NOTIFIED | S::HAS_WAITERS | S::TALLIED | S::WAKER_ONE);
            assert_eq!(s.lifecycle(), stage);
            assert!(s.is_notified() && s.has_waiters() && s.is_tallied());
            assert_eq!(s.wakers(), 1);
        }
    }

    #[test]
    fn terminal_stages() {
        let terminal: Vec<usize> = (0..=8).filter(|&s| S(s).is_terminal()).collect();
        assert_eq!(
            terminal,
            vec![
                S::COMPLETE,
                S::CANCELLED,
                S::REJECTED,
                S::BROKEN,
                S::PANICKED,
                S::ABANDONED
            ]
        );
    }

    #[test]
    fn unwakeable_only_when_parked_unwoken_and_without_wakers() {
        assert!(S(S::IDLE).is_unwakeable());
        assert!(S(S::IDLE | S::HAS_WAITERS).is_unwakeable());
        assert!(!S(S::IDLE | S::NOTIFIED).is_unwakeable());
        assert!(!S(S::IDLE | S::WAKER_ONE).is_unwakeable());
        assert!(!S(S::RUNNING).is_unwakeable(), "its runner still decides");
        assert!(!S(S::SCHEDULED).is_unwakeable());
    }

    #[test]
    fn resolved_keeps_only_the_waker_count() {
        let s = S(S::IDLE | S::NOTIFIED | S::HAS_WAITERS | (2 * S::WAKER_ONE));
        let r = s.resolved(S::ABANDONED);
        assert_eq!(r.0, S::ABANDONED | (2 * S::WAKER_ONE));
        assert!(r.is_terminal() && !r.is_notified() && !r.has_waiters());
    }

    #[test]
    fn with_lifecycle_keeps_flags() {
        let s = S(S::RUNNING | S::HAS_WAITERS).with_lifecycle(S::COMPLETE);
        assert_eq!(s.lifecycle(), S::COMPLETE);
        assert!(s.has_waiters() && !s.is_notified());
        assert_eq!(
            format!("{s:?}"),
            "Snapshot { lifecycle: \"COMPLETE\", notified: false, has_waiters: true, wakers: 0 }"
        );
    }
}
