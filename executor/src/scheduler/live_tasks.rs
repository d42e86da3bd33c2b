//! The registry's list of live async tasks (see [`LiveTasks`]).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Weak};

use super::registry::Registry;
use crate::error::Refusal;
use crate::sync::{lock, Mutex};
use crate::task::state::Lifecycle;
use crate::task::{Job, LiveTask, Schedule};

/// The pool's async tasks that are not terminal: a shutting-down pool keeps
/// a worker while one of them is parked on a waker that can still fire,
/// abandons those whose waker is gone, and a terminated pool resolves the
/// rest. Touched twice per async task (spawn and finish), never on the
/// closure path, and scanned only at shutdown.
#[derive(Default)]
pub(crate) struct LiveTasks {
    slab: Mutex<Slab>,
    /// Tasks in the slab. SeqCst: see `Registry::forget_async_task`.
    live: AtomicUsize,
}

#[derive(Default)]
struct Slab {
    entries: Vec<Option<Weak<dyn LiveTask>>>,
    free: Vec<usize>,
}

impl LiveTasks {
    pub(crate) fn reserve(&self) -> usize {
        let mut slab = lock(&self.slab);
        match slab.free.pop() {
            Some(key) => key,
            None => {
                slab.entries.push(None);
                slab.entries.len() - 1
            }
        }
    }

    pub(crate) fn fill(&self, key: usize, task: Weak<dyn LiveTask>) {
        let mut slab = lock(&self.slab);
        slab.entries[key] = Some(task);
        self.live.fetch_add(1, Ordering::SeqCst);
    }

    /// Frees `key`; returns true when that left no live task.
    pub(crate) fn remove(&self, key: usize) -> bool {
        let mut slab = lock(&self.slab);
        if slab.entries[key].take().is_some() {
            slab.free.push(key);
            return self.live.fetch_sub(1, Ordering::SeqCst) == 1;
        }
        // Reserved for a task that was refused, never filled.
        if !slab.free.contains(&key) {
            slab.free.push(key);
        }
        false
    }

    pub(crate) fn live(&self) -> usize {
        self.live.load(Ordering::SeqCst)
    }

    /// The live tasks, upgraded under the lock. Dropped by the caller after
    /// the lock: the last reference to a task runs its `Drop`, which takes
    /// the lock again (and drops user data).
    fn upgraded(&self) -> Vec<Arc<dyn LiveTask>> {
        lock(&self.slab)
            .entries
            .iter()
            .flatten()
            .filter_map(Weak::upgrade)
            .collect()
    }

    /// At shutdown: abandons every task that can never be woken.
    pub(crate) fn abandon_unwakeable(&self) {
        if self.live() == 0 {
            return;
        }
        for task in self.upgraded() {
            task.abandon_if_unwakeable();
        }
    }

    /// Is some started task parked (IDLE), so that a worker must stay for
    /// its wake? A running task does not count: its runner is a worker that
    /// checks again when the poll ends.
    pub(crate) fn any_parked(&self) -> bool {
        self.live() != 0
            && self
                .upgraded()
                .iter()
                .any(|task| task.snapshot().lifecycle() == Lifecycle::Idle)
    }

    /// Resolves every task left once no worker can run one, through
    /// `abort` (the registry's counting `abort_task`): never started ones
    /// to the pool's refusal, started ones to `Abandoned`.
    pub(crate) fn resolve_all(&self, abort: impl Fn(&dyn LiveTask)) {
        for task in self.upgraded() {
            abort(&*task);
        }
    }
}

impl Schedule for Registry {
    fn reschedule(self: Arc<Self>, job: Job, behind_queued: bool) {
        let Job::Task(task) = &job else {
            unreachable!("only async tasks are rescheduled")
        };
        let task = Arc::clone(task);
        if behind_queued {
            self.inject(job);
        } else {
            self.schedule(job);
        }
        if self.is_terminated() {
            // No worker will ever run it (see `Runnable::abort`); whoever
            // resolves it first, the outcome is the same, and only that one
            // counts it.
            self.abort_task(&*task, Refusal::Rejected);
            self.drain_if_terminated();
        }
    }

    fn is_closing(&self) -> bool {
        self.state().is_closed()
    }

    fn release(&self, live_key: usize, abandoned: bool) {
        if abandoned {
            self.count_abandoned();
        }
        self.forget_async_task(live_key);
    }
}
