//! Async tasks: `pool.spawn(future)` polls a future on the workers, queues
//! it again when its waker fires, and never polls it on two threads at once.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Weak};
use std::task::{Context, Poll};

use futures_task::{waker_ref, ArcWake, FutureObj, Spawn, SpawnError};

use crate::error::Panic;
use crate::handle::TaskHandle;
use crate::pool::ThreadPoolExecutor;
use crate::registry::{Registry, BROKEN, SHUTDOWN};
use crate::stats::SlotStats;
use crate::sync::{lock, Mutex, UnsafeCell};
use crate::task::state::Snapshot;
use crate::task::{Core, Job, Ran, Runnable, TaskRef};
use crate::unwind;
use crate::worker;

pub(crate) struct AsyncTask<Fut: Future> {
    core: Core<Fut::Output>,
    /// The future, pinned in place: it lives inside this `Arc` allocation
    /// and is dropped there (set to `None`), never moved.
    future: UnsafeCell<Option<Fut>>,
    registry: Weak<Registry>,
    /// Where this task sits in `Registry::async_tasks`.
    live_key: usize,
}

// SAFETY: `future` is only touched by the party that holds the task in
// RUNNING (polling it) or that moved it from SCHEDULED/IDLE to a terminal
// state (dropping it); both are won by a CAS on the state word, so there is
// one such party at a time, on any thread: hence `Fut: Send`.
unsafe impl<Fut: Future + Send> Sync for AsyncTask<Fut> where Fut::Output: Send {}

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
            Some(registry) => {
                let job = Job(self.clone());
                if behind_queued {
                    registry.inject(job);
                } else {
                    registry.schedule(job);
                }
                if registry.is_terminated() {
                    Runnable::abort(&**self, Snapshot::CANCELLED);
                }
            }
            // The pool is gone: nobody will ever poll this task again.
            None => {
                Runnable::abort(&**self, Snapshot::CANCELLED);
            }
        }
    }

    fn forget(&self) {
        if let Some(registry) = self.registry.upgrade() {
            registry.async_tasks.remove(self.live_key);
        }
    }
}

impl<Fut> Runnable for AsyncTask<Fut>
where
    Fut: Future + Send + 'static,
    Fut::Output: Send + 'static,
{
    fn run(self: Arc<Self>, stats: &SlotStats) -> Ran {
        let queued = |s: Snapshot| {
            s.lifecycle() == Snapshot::SCHEDULED
                || (s.lifecycle() == Snapshot::IDLE && s.is_notified())
        };
        let started = self.core.transition(queued, |s| {
            Snapshot(s.0 & !Snapshot::NOTIFIED).with_lifecycle(Snapshot::RUNNING)
        });
        if let Err(now) = started {
            return Ran::not_run(now);
        }
        let waker = waker_ref(&self);
        let mut cx = Context::from_waker(&waker);
        let poll = unwind::catch(|| {
            self.future.with_mut(|f| {
                // SAFETY: we are the runner (we won the move to RUNNING
                // above), so nobody else touches the slot while we poll.
                let f = unsafe { (*f).as_mut() }.expect("a task being polled has its future");
                // SAFETY: the future lives in this Arc allocation and is only
                // ever dropped in place (`drop_future`), never moved.
                unsafe { Pin::new_unchecked(f) }.poll(&mut cx)
            })
        });
        let output = match poll {
            Ok(Poll::Pending) => {
                // RUNNING → IDLE, keeping NOTIFIED if a wake came during the
                // poll: then it is our job to queue the task again, behind
                // the work queued meanwhile (see `schedule`).
                let prev = self
                    .core
                    .transition(
                        |s| s.lifecycle() == Snapshot::RUNNING,
                        |s| s.with_lifecycle(Snapshot::IDLE),
                    )
                    .expect("only the runner leaves RUNNING");
                if prev.is_notified() {
                    self.schedule(true);
                }
                return Ran::Pending;
            }
            Ok(Poll::Ready(value)) => Ok(value),
            Err(payload) => Err(Panic::new(payload, self.core.name())),
        };
        // SAFETY: still the runner.
        unsafe { self.drop_future() };
        let ran = if output.is_ok() {
            Ran::Completed
        } else {
            Ran::Panicked
        };
        stats.record(ran); // before publishing, as for closure tasks
        self.core.finish(output);
        self.forget();
        ran
    }

    fn abort(&self, lifecycle: usize) -> bool {
        // Never polled, or parked on its waker: nobody is polling it.
        let not_running =
            |s: Snapshot| matches!(s.lifecycle(), Snapshot::SCHEDULED | Snapshot::IDLE);
        self.core.transition_to_aborted(not_running, lifecycle, || {
            // SAFETY: called once the task left a non-running stage for us.
            unsafe { self.drop_future() };
            self.forget();
        })
    }

    fn snapshot(&self) -> Snapshot {
        self.core.snapshot()
    }
}

impl<Fut> ArcWake for AsyncTask<Fut>
where
    Fut: Future + Send + 'static,
    Fut::Output: Send + 'static,
{
    fn wake_by_ref(arc_self: &Arc<Self>) {
        let wakeable = |s: Snapshot| {
            !s.is_notified() && matches!(s.lifecycle(), Snapshot::IDLE | Snapshot::RUNNING)
        };
        if let Ok(prev) = arc_self
            .core
            .transition(wakeable, |s| Snapshot(s.0 | Snapshot::NOTIFIED))
        {
            // A running task is queued again by its runner when the poll ends.
            if prev.lifecycle() == Snapshot::IDLE {
                arc_self.schedule(false);
            }
        }
    }
}

impl<Fut> TaskRef<Fut::Output> for AsyncTask<Fut>
where
    Fut: Future + Send + 'static,
    Fut::Output: Send + 'static,
{
    fn core(&self) -> &Core<Fut::Output> {
        &self.core
    }

    fn job(self: Arc<Self>) -> Job {
        Job(self)
    }

    /// Handles may only cancel a task that was never polled.
    fn abort(&self, lifecycle: usize) -> bool {
        if self.core.snapshot().lifecycle() != Snapshot::SCHEDULED {
            return false;
        }
        let scheduled = |s: Snapshot| s.lifecycle() == Snapshot::SCHEDULED;
        self.core.transition_to_aborted(scheduled, lifecycle, || {
            // SAFETY: called once the task left SCHEDULED for us.
            unsafe { self.drop_future() };
            self.forget();
        })
    }
}

/// The pool's alive async tasks, so that terminating the pool can cancel the
/// ones parked on a waker that will never fire. Touched twice per async
/// task (spawn and finish), never on the closure path.
#[derive(Default)]
pub(crate) struct LiveTasks {
    slab: Mutex<Slab>,
}

#[derive(Default)]
struct Slab {
    entries: Vec<Option<Weak<dyn Runnable>>>,
    free: Vec<usize>,
}

impl LiveTasks {
    fn reserve(&self) -> usize {
        let mut slab = lock(&self.slab);
        match slab.free.pop() {
            Some(key) => key,
            None => {
                slab.entries.push(None);
                slab.entries.len() - 1
            }
        }
    }

    fn fill(&self, key: usize, task: Weak<dyn Runnable>) {
        lock(&self.slab).entries[key] = Some(task);
    }

    fn remove(&self, key: usize) {
        let mut slab = lock(&self.slab);
        if slab.entries[key].take().is_some() || !slab.free.contains(&key) {
            slab.free.push(key);
        }
    }

    /// Cancels every async task that is not running. Called once the last
    /// worker has exited, so none is.
    pub(crate) fn cancel_all(&self, registry: &Registry) {
        let tasks: Vec<_> = lock(&self.slab)
            .entries
            .iter()
            .flatten()
            .filter_map(Weak::upgrade)
            .collect();
        for task in tasks {
            registry.abort(&Job(task), Snapshot::CANCELLED);
        }
    }
}

impl ThreadPoolExecutor {
    /// Runs an async task on the pool's workers and returns its handle: the
    /// same [`TaskHandle`] as `submit` gives, so it can be awaited, blocked
    /// on with `result()`, or cancelled before its first poll.
    ///
    /// The future is polled on a worker, queued again when its waker fires,
    /// and never polled by two workers at once. A wake during its own poll
    /// (a yield) queues it behind the work already queued, so a task that
    /// keeps waking itself does not starve the pool.
    ///
    /// ```
    /// let pool = executor::ThreadPoolExecutor::new();
    /// let inner = pool.submit(|| 20);
    /// let handle = pool.spawn(async move { inner.await.unwrap() + 22 });
    /// assert_eq!(handle.result().unwrap(), 42);
    /// ```
    pub fn spawn<Fut>(&self, future: Fut) -> TaskHandle<Fut::Output>
    where
        Fut: Future + Send + 'static,
        Fut::Output: Send + 'static,
    {
        self.spawn_inner(None, future)
    }

    /// Like [`spawn`](Self::spawn), naming the task for panic messages.
    pub fn spawn_named<Fut>(&self, name: &'static str, future: Fut) -> TaskHandle<Fut::Output>
    where
        Fut: Future + Send + 'static,
        Fut::Output: Send + 'static,
    {
        self.spawn_inner(Some(name), future)
    }

    fn spawn_inner<Fut>(&self, name: Option<&'static str>, future: Fut) -> TaskHandle<Fut::Output>
    where
        Fut: Future + Send + 'static,
        Fut::Output: Send + 'static,
    {
        let registry = &self.registry;
        let flags = registry.flags();
        let ctx = worker::current_of(registry);
        let inside = ctx.is_some();
        let refused = if flags & BROKEN != 0 {
            Some(Snapshot::BROKEN)
        } else if flags & SHUTDOWN != 0 && !inside {
            Some(Snapshot::REJECTED)
        } else {
            None
        };
        let live_key = registry.async_tasks.reserve();
        let lifecycle = refused.unwrap_or(Snapshot::SCHEDULED);
        // Queued on the injector from outside: it holds a queue place until
        // its first poll (or its cancel), without waiting for room.
        let place = if refused.is_none() && !inside {
            registry.force_reserve()
        } else {
            None
        };
        let task = Arc::new(AsyncTask {
            core: Core::new(name, lifecycle, place),
            future: UnsafeCell::new(refused.is_none().then_some(future)),
            registry: Arc::downgrade(registry),
            live_key,
        });
        let handle = TaskHandle::new(task.clone(), registry.id());
        if let Some(lifecycle) = refused {
            registry.async_tasks.remove(live_key);
            registry.count_refused_at_once(lifecycle);
            return handle;
        }
        match &ctx {
            Some(ctx) => ctx.count_submitted(),
            None => registry.count_submitted(),
        }
        let weak: Weak<dyn Runnable> = Arc::downgrade(&task) as Weak<dyn Runnable>;
        registry.async_tasks.fill(live_key, weak);
        registry.schedule(Job(task));
        if let Some(lifecycle) = registry.closed_after_submit() {
            if !inside {
                registry.refuse_after_submit(lifecycle, |l| handle.abort(l));
            }
        }
        handle
    }
}

impl Spawn for ThreadPoolExecutor {
    fn spawn_obj(&self, future: FutureObj<'static, ()>) -> Result<(), SpawnError> {
        if self.registry.flags() & (SHUTDOWN | BROKEN) != 0 && !worker::is_worker_of(&self.registry)
        {
            return Err(SpawnError::shutdown());
        }
        // Detached, as `Spawn` wants; a panic is kept in the dropped handle.
        drop(self.spawn(future));
        Ok(())
    }

    fn status(&self) -> Result<(), SpawnError> {
        if self.registry.flags() & (SHUTDOWN | BROKEN) != 0 {
            Err(SpawnError::shutdown())
        } else {
            Ok(())
        }
    }
}
