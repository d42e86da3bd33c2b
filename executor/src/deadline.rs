//! `Deadline`: the one way every timed API turns a timeout into a point in
//! time. A timeout too large to add to `Instant::now()` (`Duration::MAX`, the
//! natural way to say "forever") means "no deadline", never a panic.

use std::time::{Duration, Instant};

/// When a timed wait gives up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Deadline {
    /// Wait for as long as it takes.
    Never,
    /// Give up at this instant.
    At(Instant),
}

impl Deadline {
    /// `timeout` from now; [`Deadline::Never`] when the sum overflows `Instant`.
    pub(crate) fn after(timeout: Duration) -> Deadline {
        match Instant::now().checked_add(timeout) {
            Some(at) => Deadline::At(at),
            None => Deadline::Never,
        }
    }

    /// `Never` for `None`, else [`Deadline::after`].
    pub(crate) fn from_timeout(timeout: Option<Duration>) -> Deadline {
        timeout.map_or(Deadline::Never, Deadline::after)
    }

    /// What is left: `None` for no deadline, `Some(ZERO)` once it has passed.
    pub(crate) fn remaining(self) -> Option<Duration> {
        match self {
            Deadline::Never => None,
            Deadline::At(at) => Some(at.saturating_duration_since(Instant::now())),
        }
    }

    /// True once the deadline has passed (never for [`Deadline::Never`]).
    pub(crate) fn has_passed(self) -> bool {
        self.remaining() == Some(Duration::ZERO)
    }

    /// Polls `done` in timed parks (20 µs, doubling up to 1 ms, never past
    /// the deadline) for a condition nobody signals; true once it holds,
    /// false when the deadline passed first (kept to within one park).
    pub(crate) fn poll_until(self, done: impl Fn() -> bool) -> bool {
        let mut step = Duration::from_micros(20);
        while !done() {
            match self.remaining() {
                Some(left) if left.is_zero() => return false,
                Some(left) => crate::sync::park_timeout(left.min(step)),
                None => crate::sync::park_timeout(step),
            }
            step = (step * 2).min(Duration::from_millis(1));
        }
        true
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn the_largest_timeout_is_no_deadline() {
        assert_eq!(Deadline::after(Duration::MAX), Deadline::Never);
        assert_eq!(Deadline::from_timeout(None), Deadline::Never);
        assert_eq!(Deadline::Never.remaining(), None);
        assert!(!Deadline::Never.has_passed());
    }

    #[test]
    fn polling_stops_when_done_or_at_the_deadline() {
        let polls = std::cell::Cell::new(0);
        let third = || {
            polls.set(polls.get() + 1);
            polls.get() == 3
        };
        assert!(Deadline::Never.poll_until(third));
        assert_eq!(polls.get(), 3);
        assert!(!Deadline::after(Duration::ZERO).poll_until(|| false));
        assert!(Deadline::after(Duration::ZERO).poll_until(|| true));
    }

    #[test]
    fn a_zero_timeout_has_passed_at_once() {
        let deadline = Deadline::after(Duration::ZERO);
        assert!(matches!(deadline, Deadline::At(_)));
        assert!(deadline.has_passed());
        assert_eq!(deadline.remaining(), Some(Duration::ZERO));
    }

    /// Durations spread over the whole range, with the edges weighted in.
    fn any_duration() -> impl Strategy<Value = Duration> {
        prop_oneof![
            Just(Duration::ZERO),
            Just(Duration::MAX),
            Just(Duration::new(u64::MAX, 0)),
            (0..u64::MAX, 0..1_000_000_000u32).prop_map(|(s, n)| Duration::new(s, n)),
            (0..10_000_000_000u64).prop_map(Duration::from_nanos),
            (0..u64::MAX).prop_map(Duration::from_secs),
        ]
    }

    proptest! {
        /// Any duration gives a deadline without panicking; what is left
        /// never exceeds the timeout, and a deadline is either reachable or
        /// `Never` (only for timeouts that do not fit in an `Instant`).
        #[test]
        fn every_duration_makes_a_deadline(timeout in any_duration()) {
            let before = Instant::now();
            let deadline = Deadline::after(timeout);
            match deadline {
                Deadline::Never => {
                    prop_assert!(before.checked_add(timeout).is_none());
                }
                Deadline::At(at) => {
                    prop_assert!(at >= before);
                    let left = deadline.remaining().expect("a deadline has time left");
                    prop_assert!(left <= timeout);
                    prop_assert_eq!(deadline.has_passed(), left.is_zero());
                }
            }
        }
    }
}
