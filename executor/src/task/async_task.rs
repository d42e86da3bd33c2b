//! Async tasks: `pool.spawn(future)` polls a future on the workers, queues
//! it again when its waker fires, and never polls it on two threads at once.
//!
//! The waker is the task's own `Arc` behind a hand-written vtable, so that
//! the task's state word counts the waker's clones: a task parked with no
//! waker left can never be queued again, and the pool must know that at
//! shutdown (it waits for every started task that can still be woken).

use std::future::Future;
use std::mem::ManuallyDrop;
use std::pin::Pin;
use std::sync::atomic::{fence, Ordering};
use std::sync::{Arc, Weak};
use std::task::{Context, Poll, RawWaker, RawWakerVTable, Waker};

use super::core::{Core, CoreRef};
use super::job::{Job, LiveTask, Runnable, Schedule, TaskRef};
use super::run_ctx::RunCtx;
use crate::capacity::Capacity;
use crate::error::{Panic, Refusal};
use crate::stats::Ran;
use crate::sync::UnsafeCell;
use crate::task::state::{Lifecycle, Snapshot};
use crate::unwind;

pub(crate) struct AsyncTask<Fut: Future> {
    core: Core<Fut::Output>,
    /// The future, pinned in place: it lives inside this `Arc` allocation
    /// and is dropped there (set to `None`), never moved.
    future: UnsafeCell<Option<Fut>>,
    /// The pool that runs it (its registry), known only as a [`Schedule`].
    registry: Weak<dyn Schedule>,
    /// Where this task sits in `Registry::async_tasks`.
    live_key: usize,
}

// SAFETY: `future` is only touched by the party that holds the task in
// RUNNING (polling it) or that moved it from SCHEDULED/IDLE to a terminal
// state (dropping it); both are won by a CAS on the state word, so there is
// one such party at a time, on any thread: hence `Fut: Send`.
unsafe impl<Fut: Future + Send> Sync for AsyncTask<Fut> where Fut::Output: Send {}

impl<Fut: Future> AsyncTask<Fut> {
    /// A task born in `stage` (`Scheduled`, or the refusal it was born
    /// with, then without a future), registered under `live_key` in its
    /// pool's live set.
    pub(crate) fn new(
        name: Option<&'static str>,
        stage: Lifecycle,
        place: Option<Arc<Capacity>>,
        future: Option<Fut>,
        registry: Weak<dyn Schedule>,
        live_key: usize,
    ) -> Arc<Self> {
        Arc::new(AsyncTask {
            core: Core::new(name, stage, place),
            future: UnsafeCell::new(future),
            registry,
            live_key,
        })
    }

    /// Leaves the pool's live set (once, as the task becomes terminal or is
    /// dropped unfinished).
    fn forget(&self) {
        if let Some(registry) = self.registry.upgrade() {
            registry.release(self.live_key, false);
        }
    }
}

impl<Fut: Future> Drop for AsyncTask<Fut> {
    fn drop(&mut self) {
        // Dropped unfinished (parked with no waker and no handle left, or
        // queued in a pool that is gone): nobody can resume it or wait for
        // it, but it must leave the live set, which a shutting-down pool
        // waits on.
        if !self.core.snapshot().is_terminal() {
            self.forget();
        }
    }
}

impl<Fut> AsyncTask<Fut>
where
    Fut: Future + Send + 'static,
    Fut::Output: Send + 'static,
{
    /// Drops the future in place.
    ///
    /// # Safety
    ///
    /// The caller must hold the exclusive right to `future` (see the `Sync`
    /// impl): it is the runner in RUNNING, or it just made the task terminal
    /// from a stage where nobody polls it.
    unsafe fn drop_future(&self) {
        // SAFETY: exclusive per this function's contract. Assigning `None`
        // drops the future where it is, keeping the pinning promise.
        let drop_it = || self.future.with_mut(|f| unsafe { *f = None });
        // A panicking destructor must not unwind into the worker.
        unwind::contain("dropping an async task's future", drop_it);
    }

    /// Queues the task again after a wake. `behind_queued`: the wake came
    /// during the task's own poll (it yielded, or woke itself), so it goes
    /// to the back of the injector: on this worker's LIFO deque it would be
    /// popped straight back, and a task that keeps waking itself would
    /// starve every job queued before it. Other wakes keep the local push,
    /// which runs a message's receiver hot on the sender's worker.
    fn schedule(self: &Arc<Self>, behind_queued: bool) {
        match self.registry.upgrade() {
            Some(registry) => registry.reschedule(Job::Task(self.clone()), behind_queued),
            // The pool is gone: nobody will ever poll this task again.
            // (Whether this call or a racing one resolves it makes no difference.)
            None => {
                let _ = Runnable::abort(&**self, Refusal::Rejected);
            }
        }
    }

    /// The task just became unwakeable (see `Snapshot::is_unwakeable`):
    /// parked, and its last waker gone. Once its pool is shutting down (or
    /// gone) nothing will ever finish it, so it is abandoned; before that it
    /// stays parked, and `Registry::shutdown` abandons it then.
    fn on_unwakeable(&self) {
        // SeqCst fence between the RMW that made the task unwakeable and the
        // flag load: pairs with the fence in `Registry::shutdown` between
        // setting SHUTDOWN and scanning the live tasks. Either we see the
        // flag here, or that scan sees the task unwakeable.
        fence(Ordering::SeqCst);
        let closing = match self.registry.upgrade() {
            Some(registry) => registry.is_closing(),
            None => true,
        };
        if closing {
            self.abandon_if_unwakeable();
        }
    }

    fn abandon_if_unwakeable(&self) -> bool {
        self.resolve(Snapshot::is_unwakeable, Lifecycle::Abandoned)
    }

    /// Resolves the task to `to` (terminal) if its state passes `from`, a
    /// stage where nobody polls it: drops the future, tells the waiters,
    /// then leaves the live set, so that a shutdown waiting for the last
    /// live task returns after its done callbacks ran.
    #[must_use]
    fn resolve(&self, from: impl Fn(Snapshot) -> bool, to: Lifecycle) -> bool {
        let resolved = self.core.transition_to_aborted(from, to, || {
            // SAFETY: called once the task left a non-running stage for us.
            unsafe { self.drop_future() };
        });
        if resolved {
            if let Some(registry) = self.registry.upgrade() {
                registry.release(self.live_key, to == Lifecycle::Abandoned);
            }
        }
        resolved
    }

    /// Wakes the task (`Waker::wake_by_ref`).
    fn wake(self: &Arc<Self>) {
        let wakeable = |s: Snapshot| {
            !s.is_notified() && matches!(s.lifecycle(), Lifecycle::Idle | Lifecycle::Running)
        };
        if let Ok(prev) = self
            .core
            .transition(wakeable, |s| Snapshot(s.0 | Snapshot::NOTIFIED))
        {
            // A running task is queued again by its runner when the poll ends.
            if prev.lifecycle() == Lifecycle::Idle {
                self.schedule(false);
            }
        }
    }

    // ---- the waker: an `Arc<Self>` whose clones the state word counts ----

    fn vtable() -> &'static RawWakerVTable {
        &RawWakerVTable::new(
            Self::clone_waker,
            Self::wake_by_value,
            Self::wake_by_ref,
            Self::drop_waker,
        )
    }

    /// The runner's waker: borrows the runner's `Arc`, counts nothing, and
    /// must never be dropped (hence `ManuallyDrop`); its clones count.
    fn borrowed_waker(self: &Arc<Self>) -> ManuallyDrop<Waker> {
        let raw = RawWaker::new(Arc::as_ptr(self).cast(), Self::vtable());
        // SAFETY: the vtable's functions uphold the `RawWaker` contract for
        // a pointer from `Arc::as_ptr` of a live `Arc<Self>` (each clone
        // owns one strong count); this one owns none and is never dropped,
        // and it lives no longer than the borrowed `Arc`.
        ManuallyDrop::new(unsafe { Waker::from_raw(raw) })
    }

    /// # Safety
    ///
    /// `ptr` is `Arc::as_ptr` of an `Arc<Self>` kept alive by the waker
    /// being cloned (a counted clone's strong count, or the runner's `Arc`).
    unsafe fn clone_waker(ptr: *const ()) -> RawWaker {
        let task = ptr.cast::<Self>();
        // SAFETY: per this function's contract the task is alive, and the
        // new waker owns the strong count taken here.
        unsafe { Arc::increment_strong_count(task) };
        // SAFETY: alive, as above.
        unsafe { &*task }.core.add_waker();
        RawWaker::new(ptr, Self::vtable())
    }

    /// # Safety
    ///
    /// `ptr` belongs to a counted waker, which this call consumes.
    unsafe fn wake_by_value(ptr: *const ()) {
        // SAFETY: the waker is alive until `drop_waker` consumes it.
        unsafe { Self::wake_by_ref(ptr) };
        // After the wake: dropping first could make the task look
        // unwakeable in between.
        // SAFETY: consumes the waker's count, as this function's contract allows.
        unsafe { Self::drop_waker(ptr) };
    }

    /// # Safety
    ///
    /// `ptr` belongs to a live waker (counted or borrowed).
    unsafe fn wake_by_ref(ptr: *const ()) {
        // SAFETY: the waker keeps the task alive; `ManuallyDrop` leaves its
        // strong count where it was.
        let task = ManuallyDrop::new(unsafe { Arc::from_raw(ptr.cast::<Self>()) });
        Self::wake(&task);
    }

    /// # Safety
    ///
    /// `ptr` belongs to a counted waker, which this call consumes.
    unsafe fn drop_waker(ptr: *const ()) {
        // SAFETY: takes over the strong count this waker owned.
        let task = unsafe { Arc::from_raw(ptr.cast::<Self>()) };
        let prev = task.core.drop_waker();
        // The last waker of a parked task that was not woken.
        if Snapshot(prev.0 - Snapshot::WAKER_ONE).is_unwakeable() {
            task.on_unwakeable();
        }
    }
}

impl<Fut> Runnable for AsyncTask<Fut>
where
    Fut: Future + Send + 'static,
    Fut::Output: Send + 'static,
{
    fn run(self: Arc<Self>, ctx: &RunCtx<'_>) -> Ran {
        let queued = |s: Snapshot| {
            s.lifecycle() == Lifecycle::Scheduled
                || (s.lifecycle() == Lifecycle::Idle && s.is_notified())
        };
        let started = self.core.transition(queued, |s| {
            Snapshot(s.0 & !Snapshot::NOTIFIED).with_lifecycle(Lifecycle::Running)
        });
        if started.is_err() {
            return self.core.not_run();
        }
        let waker = self.borrowed_waker();
        let mut cx = Context::from_waker(&waker);
        let id = Arc::as_ptr(&self).cast::<()>() as usize;
        let poll = ctx.around(id, &self.core, || {
            unwind::catch(|| {
                self.future.with_mut(|f| {
                    // SAFETY: we are the runner (we won the move to RUNNING
                    // above), so nobody else touches the slot while we poll.
                    let f = unsafe { (*f).as_mut() }.expect("a task being polled has its future");
                    // SAFETY: the future lives in this Arc allocation and is only
                    // ever dropped in place (`drop_future`), never moved.
                    unsafe { Pin::new_unchecked(f) }.poll(&mut cx)
                })
            })
            .map_err(|payload| Panic::new(payload, self.core.name()))
        });
        let output = match poll {
            Ok(Poll::Pending) => {
                // RUNNING → IDLE, keeping NOTIFIED if a wake came during the
                // poll: then it is our job to queue the task again, behind
                // the work queued meanwhile (see `schedule`).
                let prev = self
                    .core
                    .transition(
                        |s| s.lifecycle() == Lifecycle::Running,
                        |s| s.with_lifecycle(Lifecycle::Idle),
                    )
                    .expect("only the runner leaves RUNNING");
                if prev.is_notified() {
                    self.schedule(true);
                } else if prev.wakers() == 0 {
                    // Nobody kept a waker: parked for good.
                    self.on_unwakeable();
                }
                return Ran::Pending;
            }
            Ok(Poll::Ready(value)) => Ok(value),
            Err(panic) => Err(panic),
        };
        // SAFETY: still the runner.
        unsafe { self.drop_future() };
        let ran = if output.is_ok() {
            Ran::Completed
        } else {
            Ran::Panicked
        };
        ctx.stats.record(ran); // before publishing, as for closure tasks
        self.core.finish(output);
        self.forget();
        ran
    }

    /// Never polled: resolves to `refusal`. Started (parked on its
    /// waker, or woken and queued): it is running in Python's sense, so a
    /// cancellation (`cancel_futures`) leaves it alone; a pool that can no
    /// longer poll it (`REJECTED`: terminated; `BROKEN`) abandons it.
    fn abort(&self, refusal: Refusal) -> bool {
        let scheduled = |s: Snapshot| s.lifecycle() == Lifecycle::Scheduled;
        let parked = |s: Snapshot| s.lifecycle() == Lifecycle::Idle;
        // Never back to SCHEDULED once it left it, so a second try is sound.
        self.resolve(scheduled, refusal.into())
            || (refusal != Refusal::Cancelled && self.resolve(parked, Lifecycle::Abandoned))
    }

    fn snapshot(&self) -> Snapshot {
        self.core.snapshot()
    }

    fn tally_cancelled(&self) -> bool {
        self.core.tally_cancelled()
    }
}

impl<Fut> TaskRef<Fut::Output> for AsyncTask<Fut>
where
    Fut: Future + Send + 'static,
    Fut::Output: Send + 'static,
{
    fn core(&self) -> &dyn CoreRef<Fut::Output> {
        &self.core
    }

    fn job(self: Arc<Self>) -> Job {
        Job::Task(self)
    }

    /// Handles may only cancel a task that was never polled.
    fn abort(&self, refusal: Refusal) -> bool {
        if self.core.snapshot().lifecycle() != Lifecycle::Scheduled {
            return false;
        }
        let scheduled = |s: Snapshot| s.lifecycle() == Lifecycle::Scheduled;
        self.resolve(scheduled, refusal.into())
    }
}

impl<Fut> LiveTask for AsyncTask<Fut>
where
    Fut: Future + Send + 'static,
    Fut::Output: Send + 'static,
{
    fn abandon_if_unwakeable(&self) -> bool {
        AsyncTask::abandon_if_unwakeable(self)
    }
}
