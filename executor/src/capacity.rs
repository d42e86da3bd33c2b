//! The places of a bounded queue (`ThreadPoolBuilder::queue_capacity`).
//!
//! A task submitted from outside the pool takes a place before it is
//! queued on the injector and carries it (its `Core` holds the
//! `Arc<Capacity>`). It gives the place back on its one transition out of
//! `SCHEDULED`, whoever makes it: the worker that starts it (after a pop,
//! or a waiting worker claiming it in place), a `cancel`, or shutdown
//! resolving it to `Cancelled`, `Rejected` or `Broken`. That transition is
//! a compare-exchange on the task's state, so each place is freed exactly
//! once, and at once: a cancelled task leaves a stale entry in the queue,
//! but not a taken place. Popping a queue entry frees nothing.
//!
//! Invariant: `taken` = places reserved by submitters still on their way to
//! creating their task + tasks holding a place that are still `SCHEDULED`.
//! Tasks queued from inside the pool (a worker's own deque), async tasks
//! queued again by their waker and jobs moved between queues hold none.

use std::sync::Condvar;

use crate::deadline::Deadline;
use crate::sync::{lock_std, AtomicUsize, Ordering};

/// What a submission from outside does when the queue is full.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum OnFull {
    /// Give up at once (`try_submit`).
    Refuse,
    /// Block for room until the deadline (`submit`: never; `submit_timeout`).
    WaitUntil(Deadline),
}

pub(crate) struct Capacity {
    /// The most places that `reserve` hands out.
    limit: usize,
    /// Places taken (see the module docs).
    taken: AtomicUsize,
    /// Submitters blocked on a full queue wait here.
    space: (std::sync::Mutex<()>, Condvar),
    blocked_submitters: AtomicUsize,
}

impl Capacity {
    pub(crate) fn new(limit: usize) -> Capacity {
        Capacity {
            limit,
            taken: AtomicUsize::new(0),
            space: (std::sync::Mutex::new(()), Condvar::new()),
            blocked_submitters: AtomicUsize::new(0),
        }
    }

    /// Takes a place for one submission from outside; `on_full` says
    /// whether (and how long) to block for room. `closed` is checked
    /// before every wait: once the pool closes, a blocked submitter leaves
    /// with its closure, even if a place was freed meanwhile.
    /// Returns false when there is no room (or the pool closed meanwhile).
    pub(crate) fn reserve(&self, on_full: OnFull, closed: impl Fn() -> bool) -> bool {
        // SeqCst, also on the failing load: a blocked submitter increments
        // `blocked_submitters` and then reads `taken`; `release` decrements
        // `taken` and then reads `blocked_submitters`. With all four SeqCst
        // at least one sees the other, so a freed place never goes unnoticed
        // (no lost condvar wake-up).
        let try_reserve = || {
            self.taken
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |t| {
                    (t < self.limit).then_some(t + 1)
                })
                .is_ok()
        };
        if try_reserve() {
            return true;
        }
        let OnFull::WaitUntil(deadline) = on_full else {
            return false;
        };
        let (mutex, condvar) = &self.space;
        let mut guard = lock_std(mutex);
        self.blocked_submitters.fetch_add(1, Ordering::SeqCst);
        let reserved = loop {
            if closed() {
                break false;
            }
            if try_reserve() {
                break true;
            }
            guard = match deadline.remaining() {
                None => condvar.wait(guard).unwrap_or_else(|p| p.into_inner()),
                Some(left) if left.is_zero() => break false,
                Some(left) => {
                    condvar
                        .wait_timeout(guard, left)
                        .unwrap_or_else(|p| p.into_inner())
                        .0
                }
            };
        };
        self.blocked_submitters.fetch_sub(1, Ordering::SeqCst);
        reserved
    }

    /// Takes a place without waiting for room (an async task spawned from
    /// outside: `spawn` never blocks), so the count may pass the limit.
    pub(crate) fn force_reserve(&self) {
        // SeqCst: see `reserve`.
        self.taken.fetch_add(1, Ordering::SeqCst);
    }

    /// Gives a place back: its task left `SCHEDULED` (see the module docs).
    /// Wakes one submitter blocked on a full queue, if any.
    pub(crate) fn release(&self) {
        // SeqCst: see `reserve`.
        let before = self.taken.fetch_sub(1, Ordering::SeqCst);
        debug_assert!(before > 0, "a queue place was freed twice");
        if self.blocked_submitters.load(Ordering::SeqCst) > 0 {
            let _guard = lock_std(&self.space.0);
            self.space.1.notify_one();
        }
    }

    /// Wakes every blocked submitter: the pool closed.
    pub(crate) fn release_blocked_submitters(&self) {
        let _guard = lock_std(&self.space.0);
        self.space.1.notify_all();
    }

    /// Places taken now.
    #[cfg(test)]
    pub(crate) fn taken(&self) -> usize {
        self.taken.load(Ordering::SeqCst)
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::{Capacity, OnFull};
    use crate::deadline::Deadline;
    use std::time::Duration;

    #[test]
    fn reserve_stops_at_the_limit_and_release_makes_room() {
        let capacity = Capacity::new(2);
        assert!(capacity.reserve(OnFull::Refuse, || false));
        assert!(capacity.reserve(OnFull::Refuse, || false));
        assert!(!capacity.reserve(OnFull::Refuse, || false), "full");
        let timed = OnFull::WaitUntil(Deadline::after(Duration::from_millis(1)));
        assert!(!capacity.reserve(timed, || false), "still full");
        capacity.release();
        assert_eq!(capacity.taken(), 1);
        assert!(capacity.reserve(OnFull::Refuse, || false));
        capacity.force_reserve();
        assert_eq!(capacity.taken(), 3, "forced past the limit");
    }

    #[test]
    fn a_closed_pool_refuses_a_waiting_submitter() {
        let capacity = Capacity::new(1);
        assert!(capacity.reserve(OnFull::Refuse, || false));
        assert!(!capacity.reserve(OnFull::WaitUntil(Deadline::Never), || true));
        assert_eq!(capacity.taken(), 1);
    }
}
