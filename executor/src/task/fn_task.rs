//! A task made from a closure: `submit(f)`.

use super::core::{Core, CoreRef};
use super::job::{Job, Runnable, TaskRef};
use super::layout::{Extras, Labelled, Plain};
use super::run_ctx::RunCtx;
use super::state::{Lifecycle, Snapshot};
use crate::capacity::Capacity;
use crate::error::{Panic, Refusal};
use crate::stats::Ran;
use crate::unwind;
use std::sync::Arc;

/// The closure lives in the core's slot until it runs (then the output
/// does), so the cell is one `Core` and nothing else; `X` is `Plain` for a
/// task with no name and no queue place (see `layout.rs`).
pub(crate) struct FnTask<F, T, X = Labelled> {
    core: Core<T, F, X>,
}

impl<F, T> FnTask<F, T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    /// A task to queue; `place` is the queue place it holds until it
    /// leaves `SCHEDULED` (see `capacity.rs`), if it was reserved one.
    pub(crate) fn new(
        func: F,
        name: Option<&'static str>,
        place: Option<Arc<Capacity>>,
    ) -> Arc<Self> {
        Arc::new(Self {
            core: Core::with_body(Labelled { name, place }, Lifecycle::Scheduled, Some(func)),
        })
    }

    /// A task to queue, as its queue entry and its handle's side: the
    /// smallest cell that holds `name` and `place` (no bytes for them when
    /// both are `None`, the common case).
    pub(crate) fn queued(
        func: F,
        name: Option<&'static str>,
        place: Option<Arc<Capacity>>,
    ) -> (Job, Arc<dyn TaskRef<T>>) {
        if name.is_none() && place.is_none() {
            let task = Arc::new(FnTask {
                core: Core::with_body(Plain, Lifecycle::Scheduled, Some(func)),
            });
            (Job::Task(task.clone()), task)
        } else {
            let task = Self::new(func, name, place);
            (Job::Task(task.clone()), task)
        }
    }

    /// A task refused at birth (`refusal`): it will never run.
    pub(crate) fn resolved(refusal: Refusal, name: Option<&'static str>) -> Arc<Self> {
        Arc::new(Self {
            core: Core::with_body(Labelled { name, place: None }, refusal.into(), None),
        })
    }
}

impl<F, T, X> FnTask<F, T, X>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
    X: Extras,
{
    /// A task to queue with these extras (a stop policy, see `stop.rs`).
    pub(crate) fn with_extras(func: F, extras: X) -> Arc<Self> {
        Arc::new(Self {
            core: Core::with_body(extras, Lifecycle::Scheduled, Some(func)),
        })
    }

    /// The runner started the task, but a stop was requested before its
    /// body began: `RUNNING → CANCELLED`, dropping the closure unrun, so
    /// that a task either runs its body or is cancelled, never both.
    #[cold]
    fn stopped_before_start(&self) -> Ran {
        let running = |s: Snapshot| s.lifecycle() == Lifecycle::Running;
        let resolved = self
            .core
            .transition_to_aborted(running, Lifecycle::Cancelled, || {
                // SAFETY: we won SCHEDULED → RUNNING, so the body is ours.
                let func = unsafe { self.take_func() };
                unwind::contain("dropping a stopped task's closure", move || drop(func));
            });
        debug_assert!(resolved, "only the runner leaves RUNNING");
        self.core.not_run()
    }

    /// Takes the closure out.
    ///
    /// # Safety
    ///
    /// The caller must have just moved the state out of SCHEDULED itself.
    unsafe fn take_func(&self) -> Option<F> {
        // SAFETY: per the contract we are the one party allowed in the slot.
        unsafe { self.core.take_body() }
    }
}

impl<F, T, X> Runnable for FnTask<F, T, X>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
    X: Extras,
{
    fn run(self: Arc<Self>, ctx: &RunCtx<'_>) -> Ran {
        if !self.core.transition_to_running() {
            return self.core.not_run();
        }
        // The stop hooks (constant for a plain task, see `stop.rs`).
        let id = Arc::as_ptr(&self).cast::<()>() as usize;
        if !self.core.extras().begin(id) {
            return self.stopped_before_start();
        }
        // SAFETY: we won SCHEDULED → RUNNING just above.
        let func = unsafe { self.take_func() }.expect("a scheduled task has its closure");
        let output = ctx.around(id, &self.core, || {
            unwind::catch(func).map_err(|payload| Panic::new(payload, self.core.name()))
        });
        self.core.extras().end(id);
        let ran = if output.is_ok() {
            Ran::Completed
        } else {
            Ran::Panicked
        };
        // Counted before the result is published, so whoever sees it
        // finished also sees it in `stats()`.
        ctx.stats.record(ran);
        self.core.finish(output);
        ran
    }

    fn abort(&self, refusal: Refusal) -> bool {
        let scheduled = |s: Snapshot| s.lifecycle() == Lifecycle::Scheduled;
        self.core
            .transition_to_aborted(scheduled, refusal.into(), || {
                // SAFETY: `transition_to_aborted` calls us only once it has moved
                // the state out of SCHEDULED for us.
                let func = unsafe { self.take_func() };
                // Dropping user captures may panic; that must not unwind into the pool.
                unwind::contain("dropping a cancelled task's closure", move || drop(func));
            })
    }

    fn snapshot(&self) -> Snapshot {
        self.core.snapshot()
    }

    fn tally_cancelled(&self) -> bool {
        self.core.tally_cancelled()
    }
}

impl<F, T, X> TaskRef<T> for FnTask<F, T, X>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
    X: Extras,
{
    fn core(&self) -> &dyn CoreRef<T> {
        &self.core
    }

    fn job(self: Arc<Self>) -> Job {
        Job::Task(self)
    }

    fn abort(&self, refusal: Refusal) -> bool {
        Runnable::abort(self, refusal)
    }

    fn request_stop(&self) {
        self.core.extras().request_stop();
    }
}
