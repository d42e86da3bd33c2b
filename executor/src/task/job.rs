//! The type-erased faces of a task: [`Job`] for the queues, [`TaskRef`] for
//! handles, and the traits both task kinds (`FnTask`, `AsyncTask`) implement.

use std::sync::Arc;

use super::core::CoreRef;
use super::run_ctx::RunCtx;
use super::state;
use crate::error::Refusal;
use crate::join::fork::ForkRef;
use crate::stats::Ran;

/// Something a worker can run: the queue side of a task.
pub(crate) trait Runnable: Send + Sync {
    /// Runs the task, unless it was cancelled or aborted meanwhile. Catches
    /// the task's panic into its output. A task that finishes records it in
    /// `ctx.stats` (see [`SlotStats::record`](crate::stats::SlotStats::record))
    /// before publishing its result; a run goes through [`RunCtx::around`]
    /// (hooks, tracing span).
    fn run(self: Arc<Self>, ctx: &RunCtx<'_>) -> Ran;

    /// Resolves the task to `refusal`
    /// if it has not started, dropping its body. Returns whether it did.
    #[must_use]
    fn abort(&self, refusal: Refusal) -> bool;

    /// The task's current state.
    fn snapshot(&self) -> state::Snapshot;

    /// See [`Core::tally_cancelled`](super::core::Core::tally_cancelled).
    fn tally_cancelled(&self) -> bool;
}

/// What an async task needs of the pool that runs it. The task module knows
/// the scheduler only through this trait (the registry implements it), so
/// that tasks sit below the scheduler with no arrow back up.
pub(crate) trait Schedule: Send + Sync {
    /// Queues a woken task again: `behind_queued`, at the back of the
    /// shared queue; otherwise on the current worker's deque when there is
    /// one. A pool that can no longer run it resolves it (see
    /// [`Runnable::abort`]).
    fn reschedule(self: Arc<Self>, job: Job, behind_queued: bool);

    /// Is the pool shutting down or broken? Then a parked task whose last
    /// waker is gone will never finish.
    fn is_closing(&self) -> bool;

    /// The task registered under `live_key` is no longer live; `abandoned`
    /// when it was given up unfinished (counted in the pool's statistics).
    fn release(&self, live_key: usize, abandoned: bool);
}

/// What the pool's live set needs of an async task, beyond `Runnable`.
pub(crate) trait LiveTask: Runnable {
    /// Abandons the task if it is unwakeable; returns whether it did.
    fn abandon_if_unwakeable(&self) -> bool;
}

/// A queued job, as the deques and the injector hold it: a heap task, or
/// the second half of a `join` waiting on some worker's stack.
pub(crate) enum Job {
    /// A submitted task: one allocation shared with its handle.
    Task(Arc<dyn Runnable>),
    /// A `join`'s forked half (see the `join` module). Never aborted, and
    /// never left in a queue once its `join` returns.
    Fork(ForkRef),
}

impl Job {
    /// Runs the job. A task runs through `ctx` (hooks, tracing span); a
    /// join's forked half is part of the task that forked it, so it sees
    /// neither hooks nor a span of its own.
    pub(crate) fn run_in(self, ctx: &RunCtx<'_>) -> Ran {
        match self {
            Job::Task(task) => task.run(ctx),
            Job::Fork(fork) => {
                fork.execute(None);
                Ran::Completed
            }
        }
    }

    /// Runs the job with no hooks (the loom models' worker).
    #[cfg(all(test, loom))]
    pub(crate) fn run(self, stats: &crate::stats::SlotStats) -> Ran {
        self.run_in(&RunCtx::bare(stats))
    }

    /// See [`Runnable::abort`]. A fork is never aborted: the `join` that
    /// owns it waits for it, so it must run (and this returns false).
    #[must_use]
    pub(crate) fn abort(&self, refusal: Refusal) -> bool {
        match self {
            Job::Task(task) => task.abort(refusal),
            Job::Fork(_) => false,
        }
    }

    /// See [`Core::tally_cancelled`](super::core::Core::tally_cancelled).
    #[must_use]
    pub(crate) fn tally_cancelled(&self) -> bool {
        match self {
            Job::Task(task) => task.tally_cancelled(),
            Job::Fork(_) => false,
        }
    }

    /// Still waiting in a queue (see `Snapshot::is_queued`). A fork always
    /// is until it runs: a drain moves it on instead of dropping it.
    pub(crate) fn is_queued(&self) -> bool {
        match self {
            Job::Task(task) => task.snapshot().is_queued(),
            Job::Fork(_) => true,
        }
    }

    /// The task's address: the same for every `Job` and handle of one
    /// task while it lives (a fork's: its frame on the joining stack).
    pub(crate) fn addr(&self) -> usize {
        match self {
            Job::Task(task) => Arc::as_ptr(task).cast::<()>() as usize,
            Job::Fork(fork) => fork.addr(),
        }
    }
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Job")
    }
}

/// The handle side of a task: reach the core, and abort (which has to drop
/// the concrete body, so it lives with the concrete type).
pub(crate) trait TaskRef<T>: Send + Sync {
    fn core(&self) -> &dyn CoreRef<T>;

    /// The queue side of the same task, for a waiter that claims it.
    fn job(self: Arc<Self>) -> Job;

    /// See [`Runnable::abort`].
    #[must_use]
    fn abort(&self, refusal: Refusal) -> bool;

    /// Asks a started task to stop (`stop.rs`); nothing for tasks that
    /// have no stop policy.
    fn request_stop(&self) {}
}

/// Jobs that may still be queued, kept for a waiter to claim (a scope's
/// owner, a group's submitter) or for a group to cancel. Started ones are
/// pruned each time the list doubles, so it holds O(queued) entries at
/// O(1) amortised per push: a long scope or a big group stays cheap to
/// search.
#[derive(Default)]
pub(crate) struct QueuedJobs {
    jobs: Vec<Job>,
    prune_at: usize,
}

impl QueuedJobs {
    pub(crate) fn push(&mut self, job: Job) {
        self.jobs.push(job);
        if self.jobs.len() >= self.prune_at {
            self.jobs.retain(Job::is_queued);
            self.prune_at = (self.jobs.len() * 2).max(64);
        }
    }

    /// The newest job still queued, taken off the list with the started
    /// ones above it.
    pub(crate) fn pop_queued(&mut self) -> Option<Job> {
        while let Some(job) = self.jobs.pop() {
            if job.is_queued() {
                return Some(job);
            }
        }
        None
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = &Job> {
        self.jobs.iter()
    }

    /// Forgets every job (and frees the list).
    pub(crate) fn clear(&mut self) {
        self.jobs = Vec::new();
        self.prune_at = 0;
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::error::Refusal;
    use crate::task::FnTask;

    #[test]
    fn queued_jobs_keep_only_the_queued_ones_as_they_grow() {
        let mut list = QueuedJobs::default();
        let mut still_queued = Vec::new();
        for i in 0..10_000_u32 {
            let (job, _handle_side) = FnTask::queued(move || i, None, None);
            let Job::Task(task) = &job else {
                unreachable!("a closure task")
            };
            list.push(Job::Task(Arc::clone(task)));
            if i % 1000 == 0 {
                still_queued.push(job);
            } else {
                assert!(job.abort(Refusal::Cancelled));
            }
        }
        assert!(
            list.iter().count() <= 128,
            "{} entries kept",
            list.iter().count()
        );
        let mut popped = 0;
        while let Some(job) = list.pop_queued() {
            assert!(job.is_queued());
            popped += 1;
        }
        assert_eq!(popped, still_queued.len());
    }
}
