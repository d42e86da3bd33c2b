//! The pool's timer facility (the public API is in the `timer` module): delayed tasks (`submit_after`, `submit_at`) and the
//! beats of periodic ones wait here until they are due, then go to the
//! pool's injector like any submission from outside.
//!
//! One timer per pool: a [`TimerQueue`] (a binary heap) under a mutex and
//! one thread, started on the first timer and named `<prefix>-timer`, that
//! sleeps on a condition variable until the earliest entry is due (or a
//! new entry is earlier still). No thread per timer, no polling: an idle
//! pool with timers pending uses no CPU until the first one is due.
//!
//! A queued entry is the task's own `Job`; the task's `SCHEDULED` state
//! is what a cancel and the firing race for. Cancelling a delayed task is
//! its handle's ordinary `cancel` (`SCHEDULED → CANCELLED`); the entry
//! stays in the heap until its due time, then finds the task no longer
//! scheduled and is discarded (counted as cancelled then, as a cancelled
//! queued task is when a worker pops it). A fired entry is injected; the
//! worker that pops it runs it only if its `SCHEDULED → RUNNING` transition
//! wins. So a delayed task runs at most once, and never after a
//! successful cancel.
//!
//! Shutdown (and a broken pool) closes the timer: every entry still
//! waiting resolves to `Cancelled` (`Broken`), and later ones at once.

mod queue;

use std::sync::{Arc, Condvar};
use std::time::Instant;

pub(crate) use self::queue::TimerQueue;

use crate::deadline::Deadline;
use crate::error::Refusal;
use crate::scheduler::registry::Registry;
use crate::sync::lock_std;
use crate::task::Job;

/// A pool's timer facility; see the module docs.
#[derive(Debug, Default)]
pub(crate) struct Timer {
    state: std::sync::Mutex<State>,
    /// The timer thread waits here for the earliest due time or a change.
    wake: Condvar,
    /// `shutdown(wait)` waits here for the timer thread to stop.
    stopped: Condvar,
}

#[derive(Debug, Default)]
struct State {
    queue: TimerQueue,
    /// The timer thread is running: started on the first timer, until it
    /// returns after the timer closed.
    thread: bool,
    /// That thread, once started: it must not wait for itself.
    thread_id: Option<std::thread::ThreadId>,
    /// Closed by shutdown (`Cancelled`) or a broken pool (`Broken`): what
    /// later entries resolve to at once.
    closed: Option<Refusal>,
}

impl Timer {
    /// Queues `job` to be injected into `registry` at `due`. The caller
    /// counted the task as submitted. On a closed timer the task resolves
    /// at once.
    pub(crate) fn schedule(&self, registry: &Arc<Registry>, due: Deadline, job: Job) {
        self.schedule_entry(registry, due, job, false);
    }

    /// Like `schedule`, for a job that is no task (a limited view's runner
    /// waiting for a token): not counted in `pending`.
    pub(crate) fn schedule_internal(&self, registry: &Arc<Registry>, due: Deadline, job: Job) {
        self.schedule_entry(registry, due, job, true);
    }

    fn schedule_entry(&self, registry: &Arc<Registry>, due: Deadline, job: Job, internal: bool) {
        let mut state = lock_std(&self.state);
        if let Some(refusal) = state.closed {
            drop(state);
            registry.abort(&job, refusal);
            return;
        }
        let earliest = if internal {
            state.queue.push_internal(due, job)
        } else {
            state.queue.push(due, job)
        };
        if !state.thread {
            state.thread = true;
            let name = format!("{}-timer", registry.config.thread_name_prefix);
            let for_thread = Arc::clone(registry);
            let spawned = std::thread::Builder::new()
                .name(name)
                .spawn(move || run(&for_thread));
            match spawned {
                Ok(thread) => state.thread_id = Some(thread.thread().id()),
                Err(e) => {
                    // Without its thread the timer cannot fire: refuse what it holds.
                    state.thread = false;
                    let jobs = state.queue.drain();
                    drop(state);
                    eprintln!("executor: could not start the timer thread: {e}");
                    for job in jobs {
                        registry.abort(&job, Refusal::Rejected);
                    }
                }
            }
        } else if earliest {
            self.wake.notify_one();
        }
    }

    /// Resolves every waiting entry to `refusal` (`Cancelled` at
    /// shutdown, `Broken` when the pool broke) and refuses later ones;
    /// the timer thread exits. Idempotent.
    pub(crate) fn close(&self, registry: &Registry, refusal: Refusal) {
        let jobs = {
            let mut state = lock_std(&self.state);
            if state.closed.is_some() {
                return;
            }
            state.closed = Some(refusal);
            self.wake.notify_all();
            state.queue.drain()
        };
        // Outside the lock: resolving runs the tasks' done callbacks.
        for job in jobs {
            registry.abort(&job, refusal);
        }
    }

    /// After `close`: returns once the timer thread has stopped, so that
    /// the entries it was firing when the timer closed are resolved and
    /// counted (`shutdown(wait)` promises a settled pool). Returns at once
    /// on the timer thread itself (a done callback it ran shuts the pool
    /// down) and when no thread was started.
    pub(crate) fn wait_stopped(&self) {
        let state = lock_std(&self.state);
        debug_assert!(
            state.closed.is_some(),
            "the timer thread stops only once closed"
        );
        if state.thread_id == Some(std::thread::current().id()) {
            return;
        }
        drop(
            self.stopped
                .wait_while(state, |s| s.thread)
                .unwrap_or_else(|p| p.into_inner()),
        );
    }

    /// The timer thread is still running (firing, or not yet told of
    /// the close), and it is not the caller: what `wait_stopped` would
    /// wait for, polled (by `shutdown_timeout`).
    pub(crate) fn is_running_elsewhere(&self) -> bool {
        let state = lock_std(&self.state);
        state.thread && state.thread_id != Some(std::thread::current().id())
    }

    /// Entries waiting for their due time, for `stats()`.
    pub(crate) fn pending(&self) -> usize {
        lock_std(&self.state).queue.len()
    }
}

/// The timer thread: waits for the earliest due time, fires what is due,
/// until the timer is closed.
fn run(registry: &Arc<Registry>) {
    let timer = &registry.timer;
    let _stopped = Stopped(timer);
    let mut state = lock_std(&timer.state);
    loop {
        if state.closed.is_some() {
            // Every entry this thread took is resolved by now (it fires
            // them outside the lock and checks here again after): `_stopped`
            // tells the waiting shutdowns.
            return;
        }
        let now = Instant::now();
        let due = state.queue.pop_due(now);
        if !due.is_empty() {
            drop(state);
            for job in due {
                fire(registry, job);
            }
            state = lock_std(&timer.state);
            continue;
        }
        state = match state.queue.next_due() {
            None | Some(Deadline::Never) => {
                timer.wake.wait(state).unwrap_or_else(|p| p.into_inner())
            }
            Some(Deadline::At(at)) => {
                timer
                    .wake
                    .wait_timeout(state, at.saturating_duration_since(now))
                    .unwrap_or_else(|p| p.into_inner())
                    .0
            }
        };
    }
}

/// Marks the timer thread stopped when it returns (or, should it ever,
/// unwinds), and wakes `wait_stopped`.
struct Stopped<'a>(&'a Timer);

impl Drop for Stopped<'_> {
    fn drop(&mut self) {
        lock_std(&self.0.state).thread = false;
        self.0.stopped.notify_all();
    }
}

/// The timer's half of the race with a cancel: a due entry's job, to be
/// queued, if its task is still scheduled; `None` if it was cancelled
/// while it waited, and then `count_cancelled` runs if this is the first
/// to count it (the worker that pops a stale entry may be another). Either
/// way the task's own `SCHEDULED → RUNNING` transition, when a worker runs
/// the queued job, decides against a cancel that comes later.
/// (loom: `loom_timer_fire_vs_cancel`.)
pub(crate) fn release_due(job: Job, count_cancelled: impl FnOnce()) -> Option<Job> {
    if job.is_queued() {
        return Some(job);
    }
    if job.tally_cancelled() {
        count_cancelled();
    }
    None
}

/// A due entry: into the injector if its task is still scheduled,
/// otherwise (cancelled meanwhile) discarded and counted.
fn fire(registry: &Arc<Registry>, job: Job) {
    let Some(job) = release_due(job, || registry.count_cancelled()) else {
        return;
    };
    let Job::Task(task) = &job else {
        unreachable!("the timer holds tasks, never join forks")
    };
    let keep = Job::Task(Arc::clone(task));
    registry.inject(job);
    // The same race as a submit from outside against shutdown: either a
    // worker's last re-check sees the job, or we see the flag and resolve
    // it (a no-op if a worker started it already).
    if let Some(closed) = registry.closed_after_submit() {
        let refusal = match closed {
            Refusal::Broken => Refusal::Broken,
            _ => Refusal::Cancelled,
        };
        registry.abort(&keep, refusal);
        registry.drain_if_terminated();
    }
}
