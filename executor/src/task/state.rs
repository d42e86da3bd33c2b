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

use crate::error::{Outcome, Refusal};

/// A task's stage, the low four bits of its state word.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(usize)]
pub(crate) enum Lifecycle {
    /// Queued and never started; the only stage `cancel` succeeds from.
    Scheduled = 0,
    /// A worker is running the closure or polling the future.
    Running = 1,
    /// An async task that returned `Pending` and waits for its waker.
    Idle = 2,
    /// Finished: the output slot holds the value.
    Complete = 3,
    /// Cancelled before it started.
    Cancelled = 4,
    /// Refused because the pool was shut down.
    Rejected = 5,
    /// Refused because the pool is broken.
    Broken = 6,
    /// Finished by panicking: the output slot holds the caught panic.
    Panicked = 7,
    /// An async task that started but that the pool can never poll again:
    /// parked with no waker left when the pool shut down, or its pool broke.
    Abandoned = 8,
}

impl Lifecycle {
    const ALL: [Lifecycle; 9] = [
        Lifecycle::Scheduled,
        Lifecycle::Running,
        Lifecycle::Idle,
        Lifecycle::Complete,
        Lifecycle::Cancelled,
        Lifecycle::Rejected,
        Lifecycle::Broken,
        Lifecycle::Panicked,
        Lifecycle::Abandoned,
    ];

    fn from_bits(bits: usize) -> Lifecycle {
        match Self::ALL.get(bits) {
            Some(&stage) => stage,
            None => unreachable!("invalid lifecycle bits {bits}"),
        }
    }

    fn bits(self) -> usize {
        self as usize
    }

    /// Once here, the lifecycle and flags never change again.
    pub(crate) fn is_terminal(self) -> bool {
        self.bits() >= Lifecycle::Complete.bits()
    }

    /// How a task in this stage ended: the one mapping from stages to the
    /// public `Outcome`; `None` while it has not ended.
    pub(crate) fn outcome(self) -> Option<Outcome> {
        if let Some(refusal) = self.refusal() {
            return Some(refusal.outcome());
        }
        match self {
            Lifecycle::Complete => Some(Outcome::Completed),
            Lifecycle::Panicked => Some(Outcome::Panicked),
            Lifecycle::Abandoned => Some(Outcome::Abandoned),
            _ => None,
        }
    }
}

impl Lifecycle {
    /// The refusal this terminal stage records, if the task never ran.
    pub(crate) fn refusal(self) -> Option<Refusal> {
        match self {
            Lifecycle::Cancelled => Some(Refusal::Cancelled),
            Lifecycle::Rejected => Some(Refusal::Rejected),
            Lifecycle::Broken => Some(Refusal::Broken),
            _ => None,
        }
    }
}

impl From<Refusal> for Lifecycle {
    fn from(refusal: Refusal) -> Lifecycle {
        match refusal {
            Refusal::Cancelled => Lifecycle::Cancelled,
            Refusal::Rejected => Lifecycle::Rejected,
            Refusal::Broken => Lifecycle::Broken,
        }
    }
}

/// A copy of the state word at one instant.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct Snapshot(pub(crate) usize);

impl Snapshot {
    pub(crate) const LIFECYCLE_MASK: usize = 0b1111;

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

    pub(crate) fn lifecycle(self) -> Lifecycle {
        Lifecycle::from_bits(self.0 & Self::LIFECYCLE_MASK)
    }

    pub(crate) fn is_terminal(self) -> bool {
        self.lifecycle().is_terminal()
    }

    /// How the task ended; only for a terminal snapshot.
    pub(crate) fn outcome(self) -> Outcome {
        match self.lifecycle().outcome() {
            Some(outcome) => outcome,
            None => unreachable!("the outcome of a task that has not ended: {self:?}"),
        }
    }

    /// A fresh state word in `stage`, with no flags.
    pub(crate) fn new(stage: Lifecycle) -> Snapshot {
        Snapshot(stage.bits())
    }

    /// Waiting in a queue to be run: never started, or an async task woken
    /// while idle (its waker queued it again).
    pub(crate) fn is_queued(self) -> bool {
        self.lifecycle() == Lifecycle::Scheduled
            || (self.lifecycle() == Lifecycle::Idle && self.is_notified())
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
        self.lifecycle() == Lifecycle::Idle && !self.is_notified() && self.wakers() == 0
    }

    /// The terminal state `lifecycle`, keeping only the waker count (which
    /// the outstanding wakers still decrement as they drop).
    pub(crate) fn resolved(self, stage: Lifecycle) -> Snapshot {
        debug_assert!(stage.is_terminal());
        Snapshot((self.0 & !(Self::WAKER_ONE - 1)) | stage.bits())
    }

    pub(crate) fn is_tallied(self) -> bool {
        self.0 & Self::TALLIED != 0
    }

    /// The same flags with another lifecycle stage.
    pub(crate) fn with_lifecycle(self, stage: Lifecycle) -> Snapshot {
        Snapshot((self.0 & !Self::LIFECYCLE_MASK) | stage.bits())
    }
}

impl fmt::Debug for Snapshot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Snapshot")
            .field("lifecycle", &self.lifecycle())
            .field("notified", &self.is_notified())
            .field("has_waiters", &self.has_waiters())
            .field("wakers", &self.wakers())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::{Lifecycle, Snapshot as S};

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
        let s = S(S::new(Lifecycle::Idle).0 | S::NOTIFIED | (3 * S::WAKER_ONE));
        assert_eq!((s.lifecycle(), s.wakers()), (Lifecycle::Idle, 3));
        assert_eq!(S(usize::MAX - S::LIFECYCLE_MASK).wakers(), S::MAX_WAKERS);
        for stage in Lifecycle::ALL {
            assert_eq!(stage.bits() & !S::LIFECYCLE_MASK, 0);
            let s = S(stage.bits() | S::NOTIFIED | S::HAS_WAITERS | S::TALLIED | S::WAKER_ONE);
            assert_eq!(s.lifecycle(), stage);
            assert!(s.is_notified() && s.has_waiters() && s.is_tallied());
            assert_eq!(s.wakers(), 1);
        }
    }

    #[test]
    fn terminal_stages_and_their_outcomes() {
        let terminal: Vec<Lifecycle> = Lifecycle::ALL
            .into_iter()
            .filter(|s| s.is_terminal())
            .collect();
        assert_eq!(
            terminal,
            [
                Lifecycle::Complete,
                Lifecycle::Cancelled,
                Lifecycle::Rejected,
                Lifecycle::Broken,
                Lifecycle::Panicked,
                Lifecycle::Abandoned
            ]
        );
        for stage in Lifecycle::ALL {
            assert_eq!(stage.outcome().is_some(), stage.is_terminal(), "{stage:?}");
        }
    }

    #[test]
    fn unwakeable_only_when_parked_unwoken_and_without_wakers() {
        let idle = S::new(Lifecycle::Idle).0;
        assert!(S(idle).is_unwakeable());
        assert!(S(idle | S::HAS_WAITERS).is_unwakeable());
        assert!(!S(idle | S::NOTIFIED).is_unwakeable());
        assert!(!S(idle | S::WAKER_ONE).is_unwakeable());
        assert!(
            !S::new(Lifecycle::Running).is_unwakeable(),
            "its runner still decides"
        );
        assert!(!S::new(Lifecycle::Scheduled).is_unwakeable());
    }

    #[test]
    fn resolved_keeps_only_the_waker_count() {
        let s = S(S::new(Lifecycle::Idle).0 | S::NOTIFIED | S::HAS_WAITERS | (2 * S::WAKER_ONE));
        let r = s.resolved(Lifecycle::Abandoned);
        assert_eq!(r.0, Lifecycle::Abandoned.bits() | (2 * S::WAKER_ONE));
        assert!(r.is_terminal() && !r.is_notified() && !r.has_waiters());
    }

    #[test]
    fn with_lifecycle_keeps_flags() {
        let s =
            S(S::new(Lifecycle::Running).0 | S::HAS_WAITERS).with_lifecycle(Lifecycle::Complete);
        assert_eq!(s.lifecycle(), Lifecycle::Complete);
        assert!(s.has_waiters() && !s.is_notified());
        assert_eq!(
            format!("{s:?}"),
            "Snapshot { lifecycle: Complete, notified: false, has_waiters: true, wakers: 0 }"
        );
    }
}
