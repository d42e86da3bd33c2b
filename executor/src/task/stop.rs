//! How `submit_with_token` and groups reach a task, at no cost to plain
//! `submit`: a task that can be stopped carries its stop hooks in its
//! cell's extras ([`Stopping`]); a plain one uses `Plain`/`Labelled`, whose
//! hooks are the constant defaults of `Extras`.

use std::sync::Arc;

use super::fn_task::FnTask;
use super::job::{Job, TaskRef};
use super::layout::Extras;
use crate::capacity::Capacity;

/// What a closure task does around its body to honour a stop request.
pub(crate) trait Stop: Send + Sync + 'static {
    /// Called by the runner after it won `SCHEDULED → RUNNING`, before the
    /// body. False: a stop was requested before the body began; the task
    /// then resolves to `Cancelled` and its body never runs. `task` is the
    /// task's id (its address), `name` its name.
    fn begin(&self, task: usize, name: Option<&'static str>) -> bool;

    /// Called by the runner once the body returned or panicked, before the
    /// result is published, when `begin` returned true.
    fn end(&self, task: usize);

    /// `TaskHandle::cancel` on a task that already started: ask it to stop.
    fn request(&self);
}

/// The extras of a task with a stop policy: its name, queue place and hooks.
pub(crate) struct Stopping<S> {
    pub(crate) name: Option<&'static str>,
    pub(crate) place: Option<Arc<Capacity>>,
    pub(crate) stop: S,
}

impl<S: Stop> Extras for Stopping<S> {
    fn name(&self) -> Option<&'static str> {
        self.name
    }

    fn place(&self) -> Option<&Arc<Capacity>> {
        self.place.as_ref()
    }

    fn begin(&self, task: usize) -> bool {
        self.stop.begin(task, self.name)
    }

    fn end(&self, task: usize) {
        self.stop.end(task);
    }

    fn request_stop(&self) {
        self.stop.request();
    }
}

/// How a submission makes its task cell: [`NoStop`] the smallest plain
/// cell, [`WithStop`] one carrying stop hooks.
pub(crate) trait MakeCell {
    fn make<F, T>(
        self,
        func: F,
        name: Option<&'static str>,
        place: Option<Arc<Capacity>>,
    ) -> (Job, Arc<dyn TaskRef<T>>)
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static;
}

/// A plain `submit`: no stop policy, and not a byte or an instruction for one.
pub(crate) struct NoStop;

impl MakeCell for NoStop {
    fn make<F, T>(
        self,
        func: F,
        name: Option<&'static str>,
        place: Option<Arc<Capacity>>,
    ) -> (Job, Arc<dyn TaskRef<T>>)
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        FnTask::queued(func, name, place)
    }
}

/// A submission with stop hooks `S`.
pub(crate) struct WithStop<S>(pub(crate) S);

impl<S: Stop> MakeCell for WithStop<S> {
    fn make<F, T>(
        self,
        func: F,
        name: Option<&'static str>,
        place: Option<Arc<Capacity>>,
    ) -> (Job, Arc<dyn TaskRef<T>>)
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let task = FnTask::with_extras(
            func,
            Stopping {
                name,
                place,
                stop: self.0,
            },
        );
        (Job::Task(task.clone()), task)
    }
}
