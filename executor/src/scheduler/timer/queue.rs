//! The timer's queue: jobs ordered by due time, earliest first, ties in
//! the order they were scheduled. No clock of its own: the caller says
//! what time it is, so the ordering is testable with any clock.

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;
use std::time::Instant;

use crate::deadline::Deadline;
use crate::task::Job;

/// Jobs waiting for their due time.
#[derive(Debug, Default)]
pub(crate) struct TimerQueue {
    heap: BinaryHeap<Reverse<Entry>>,
    /// The sequence number of the next entry: ties fire in schedule order.
    next_seq: u64,
    /// Entries that are no task of their own (a limited view's runner
    /// waiting for a token), left out of `len`.
    internal: usize,
}

#[derive(Debug)]
struct Entry {
    due: Due,
    seq: u64,
    job: Job,
    internal: bool,
}

/// A due time; `Never` (a delay too large for `Instant`) sorts last.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Due {
    At(Instant),
    Never,
}

impl PartialEq for Entry {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Entry {}

impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Entry {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.due, self.seq).cmp(&(other.due, other.seq))
    }
}

impl TimerQueue {
    /// Adds `job`, due at `due`. Returns true when it is now the earliest
    /// entry (the timer thread must re-arm its wait).
    pub(crate) fn push(&mut self, due: Deadline, job: Job) -> bool {
        self.push_entry(due, job, false)
    }

    /// Like `push`, for a job that is no task (not counted by `len`).
    pub(crate) fn push_internal(&mut self, due: Deadline, job: Job) -> bool {
        self.internal += 1;
        self.push_entry(due, job, true)
    }

    fn push_entry(&mut self, due: Deadline, job: Job, internal: bool) -> bool {
        let due = match due {
            Deadline::At(at) => Due::At(at),
            Deadline::Never => Due::Never,
        };
        let seq = self.next_seq;
        self.next_seq += 1;
        let earliest = self
            .heap
            .peek()
            .map_or(true, |Reverse(head)| due < head.due);
        self.heap.push(Reverse(Entry {
            due,
            seq,
            job,
            internal,
        }));
        earliest
    }

    /// Takes every job due at or before `now`, earliest first.
    pub(crate) fn pop_due(&mut self, now: Instant) -> Vec<Job> {
        let mut due = Vec::new();
        while let Some(Reverse(head)) = self.heap.peek() {
            if head.due > Due::At(now) {
                break;
            }
            let Some(Reverse(entry)) = self.heap.pop() else {
                break;
            };
            self.internal -= usize::from(entry.internal);
            due.push(entry.job);
        }
        due
    }

    /// When the earliest job is due: `None` when empty, `Some(Never)` when
    /// it never is.
    pub(crate) fn next_due(&self) -> Option<Deadline> {
        self.heap.peek().map(|Reverse(head)| match head.due {
            Due::At(at) => Deadline::At(at),
            Due::Never => Deadline::Never,
        })
    }

    /// Tasks waiting (internal entries left out).
    pub(crate) fn len(&self) -> usize {
        self.heap.len() - self.internal
    }

    /// Takes every job, due or not (shutdown).
    pub(crate) fn drain(&mut self) -> Vec<Job> {
        self.internal = 0;
        self.heap.drain().map(|Reverse(entry)| entry.job).collect()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use proptest::prelude::*;

    use super::*;
    use crate::task::FnTask;

    /// A job whose address identifies it.
    fn job() -> Job {
        Job::Task(FnTask::new(|| (), None, None))
    }

    proptest! {
        /// With a clock that the test moves by hand: nothing fires before
        /// it is due, everything due fires, and jobs fire in due order
        /// (ties in schedule order), however pushes and clock steps interleave.
        #[test]
        fn fires_due_jobs_in_due_order(
            steps in prop::collection::vec((0u64..50, prop::option::of(0u64..20)), 1..60),
        ) {
            let base = Instant::now();
            let mut queue = TimerQueue::default();
            let mut now = 0u64;
            // (due, schedule order) of each pushed job, by address.
            let mut pushed = std::collections::HashMap::new();
            let mut fired: Vec<(u64, usize)> = Vec::new();
            let fire = |queue: &mut TimerQueue, now: u64, fired: &mut Vec<(u64, usize)>,
                            pushed: &std::collections::HashMap<usize, (u64, usize)>| {
                let batch = queue.pop_due(base + Duration::from_millis(now));
                let mut last: Option<(u64, usize)> = None;
                for job in batch {
                    let (due, order) = pushed[&job.addr()];
                    prop_assert!(due <= now, "fired at {now} a job due at {due}");
                    if let Some(prev) = last {
                        prop_assert!(prev < (due, order), "out of order in one batch");
                    }
                    last = Some((due, order));
                    fired.push((due, order));
                    drop(job);
                }
                if let Some(Deadline::At(next)) = queue.next_due() {
                    prop_assert!(next > base + Duration::from_millis(now), "a due job was left");
                }
                Ok(())
            };
            let mut jobs = Vec::new();
            for (order, (delay, advance)) in steps.into_iter().enumerate() {
                let j = job();
                pushed.insert(j.addr(), (now + delay, order));
                let Job::Task(task) = &j else { unreachable!() };
                jobs.push(Job::Task(Arc::clone(task))); // keeps addresses unique
                queue.push(Deadline::At(base + Duration::from_millis(now + delay)), j);
                if let Some(advance) = advance {
                    now += advance;
                    fire(&mut queue, now, &mut fired, &pushed)?;
                }
            }
            now += 100;
            fire(&mut queue, now, &mut fired, &pushed)?;
            prop_assert_eq!(queue.len(), 0);
            prop_assert_eq!(fired.len(), pushed.len(), "every job fired once");
            // Jobs due earlier fire no later than jobs due later, when both
            // were scheduled before the earlier one fired.
            let position: std::collections::HashMap<(u64, usize), usize> =
                fired.iter().enumerate().map(|(i, k)| (*k, i)).collect();
            for a in &fired {
                for b in &fired {
                    if a.0 < b.0 && a.1 > b.1 {
                        // a was pushed after b: fine either way only if b fired first.
                        continue;
                    }
                    if a < b {
                        prop_assert!(position[a] < position[b], "{:?} fired after {:?}", a, b);
                    }
                }
            }
        }
    }

    #[test]
    fn never_sorts_last_and_reports_earliest() {
        let base = Instant::now();
        let mut queue = TimerQueue::default();
        assert!(queue.push(Deadline::Never, job()));
        assert!(queue.push(Deadline::At(base), job()));
        assert!(!queue.push(Deadline::At(base + Duration::from_secs(1)), job()));
        assert_eq!(queue.next_due(), Some(Deadline::At(base)));
        assert_eq!(queue.pop_due(base).len(), 1);
        assert_eq!(queue.pop_due(base + Duration::from_secs(5)).len(), 1);
        assert_eq!(queue.next_due(), Some(Deadline::Never));
        assert!(!queue.push_internal(Deadline::Never, job()));
        assert_eq!(queue.len(), 1, "internal entries are not counted");
        assert_eq!(queue.drain().len(), 2);
        assert_eq!((queue.next_due(), queue.len()), (None, 0));
    }
}
