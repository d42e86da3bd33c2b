//! A task made from a closure: `submit(f)`.

use super::core::Core;
use super::job::{Job, Runnable, TaskRef};
use super::state::{Lifecycle, Snapshot};
use crate::capacity::Capacity;
use crate::error::{Panic, Refusal};
use crate::stats::{Ran, SlotStats};
use crate::sync::UnsafeCell;
use crate::unwind;
use std::sync::Arc;

pub(crate) struct FnTask<F, T> {
    core: Core<T>,
    func: UnsafeCell<Option<F>>,
}

// SAFETY: `func` is touched only by the party that moved the state out of
// SCHEDULED (the runner taking it, or the canceller dropping it); that
// transition is a CAS, so there is exactly one such party. `F: Send` because
// that party may be on any thread. `core` is `Sync` by its own argument.
unsafe impl<F: Send, T: Send> Sync for FnTask<F, T> {}

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
            core: Core::new(name, Lifecycle::Scheduled, place),
            func: UnsafeCell::new(Some(func)),
        })
    }

    /// A task refused at birth (`refusal`): it will never run.
    pub(crate) fn resolved(refusal: Refusal, name: Option<&'static str>) -> Arc<Self> {
        Arc::new(Self {
            core: Core::new(name, refusal.into(), None),
            func: UnsafeCell::new(None),
        })
    }

    /// Takes the closure out.
    ///
    /// # Safety
    ///
    /// The caller must have just moved the state out of SCHEDULED itself.
    unsafe fn take_func(&self) -> Option<F> {
        // SAFETY: per the contract we are the one party allowed in `func`.
        self.func.with_mut(|f| unsafe { (*f).take() })
    }
}

impl<F, T> Runnable for FnTask<F, T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    fn run(self: Arc<Self>, stats: &SlotStats) -> Ran {
        if !self.core.transition_to_running() {
            return self.core.not_run();
        }
        // SAFETY: we won SCHEDULED → RUNNING just above.
        let func = unsafe { self.take_func() }.expect("a scheduled task has its closure");
        let output = unwind::catch(func).map_err(|payload| Panic::new(payload, self.core.name()));
        let ran = if output.is_ok() {
            Ran::Completed
        } else {
            Ran::Panicked
        };
        // Counted before the result is published, so whoever sees it
        // finished also sees it in `stats()`.
        stats.record(ran);
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

impl<F, T> TaskRef<T> for FnTask<F, T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    fn core(&self) -> &Core<T> {
        &self.core
    }

    fn job(self: Arc<Self>) -> Job {
        Job::Task(self)
    }

    fn abort(&self, refusal: Refusal) -> bool {
        Runnable::abort(self, refusal)
    }
}
