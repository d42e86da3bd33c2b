//! `pool.spawn(future)` and the `futures::task::Spawn` impl: the public face
//! of async tasks (the task kind itself is `task::AsyncTask`).
//!
//! Both need the `async` feature. Without it the scheduler is the same (it
//! still knows how to run an async task), only nothing can spawn one.

use std::future::Future;
use std::sync::{Arc, Weak};

#[cfg(feature = "async")]
use futures_task::{FutureObj, Spawn, SpawnError};

use crate::error::Refusal;
use crate::handle::TaskHandle;
use crate::pool::ThreadPoolExecutor;
use crate::scheduler::worker;
use crate::task::state::Lifecycle;
use crate::task::{AsyncTask, Job, LiveTask, Schedule};

impl ThreadPoolExecutor {
    /// Runs an async task on the pool's workers and returns its handle: the
    /// same [`TaskHandle`] as `submit` gives, so it can be awaited, blocked
    /// on with `result()`, or cancelled before its first poll.
    ///
    /// The future is polled on a worker, queued again when its waker fires,
    /// and never polled by two workers at once. A wake during its own poll
    /// (a yield) queues it behind the work already queued, so a task that
    /// keeps waking itself does not starve the pool. Once polled, it counts
    /// as running: shutdown waits for it rather than cancel it (see
    /// [`shutdown`](Self::shutdown)).
    ///
    /// ```
    /// let pool = executor::ThreadPoolExecutor::new();
    /// let inner = pool.submit(|| 20);
    /// let handle = pool.spawn(async move { inner.await.unwrap() + 22 });
    /// assert_eq!(handle.result().unwrap(), 42);
    /// ```
    #[cfg(feature = "async")]
    #[cfg_attr(docsrs, doc(cfg(feature = "async")))]
    pub fn spawn<Fut>(&self, future: Fut) -> TaskHandle<Fut::Output>
    where
        Fut: Future + Send + 'static,
        Fut::Output: Send + 'static,
    {
        self.spawn_inner(None, future)
    }

    /// Like [`spawn`](Self::spawn), naming the task for panic messages.
    /// Needs the `async` feature (on by default).
    ///
    /// ```
    /// let pool = executor::ThreadPoolExecutor::new();
    /// let handle = pool.spawn_named("fail", async { panic!("boom") });
    /// let err = handle.result().unwrap_err();
    /// assert_eq!(err.to_string(), "task 'fail' panicked: boom");
    /// ```
    #[cfg(feature = "async")]
    #[cfg_attr(docsrs, doc(cfg(feature = "async")))]
    pub fn spawn_named<Fut>(&self, name: &'static str, future: Fut) -> TaskHandle<Fut::Output>
    where
        Fut: Future + Send + 'static,
        Fut::Output: Send + 'static,
    {
        self.spawn_inner(Some(name), future)
    }

    // Without `async` nothing calls it; kept so that the scheduler is the
    // same in every build.
    #[cfg_attr(not(feature = "async"), allow(dead_code))]
    fn spawn_inner<Fut>(&self, name: Option<&'static str>, future: Fut) -> TaskHandle<Fut::Output>
    where
        Fut: Future + Send + 'static,
        Fut::Output: Send + 'static,
    {
        let registry = &self.registry;
        let ctx = worker::current_of(registry);
        let inside = ctx.is_some();
        // From inside, a shutting-down pool still takes subtasks (as `submit`).
        let refused = match registry.state().refusal() {
            Some(Refusal::Rejected) if inside => None,
            refused => refused,
        };
        let live_key = registry.async_tasks.reserve();
        let stage = refused.map_or(Lifecycle::Scheduled, Lifecycle::from);
        // Queued on the injector from outside: it holds a queue place until
        // its first poll (or its cancel), without waiting for room.
        let place = if refused.is_none() && !inside {
            registry.force_reserve()
        } else {
            None
        };
        let schedule: Arc<dyn Schedule> = registry.clone();
        let task = AsyncTask::new(
            name,
            stage,
            place,
            refused.is_none().then_some(future),
            Arc::downgrade(&schedule),
            live_key,
        );
        let handle = TaskHandle::new(task.clone(), registry.id());
        if let Some(refusal) = refused {
            registry.async_tasks.remove(live_key);
            registry.count_refused_at_once(refusal);
            return handle;
        }
        match &ctx {
            Some(ctx) => ctx.count_submitted(),
            None => registry.count_submitted(),
        }
        let weak: Weak<dyn LiveTask> = Arc::downgrade(&task) as Weak<dyn LiveTask>;
        registry.async_tasks.fill(live_key, weak);
        registry.schedule(Job::Task(task));
        if let Some(refusal) = registry.closed_after_submit() {
            if !inside {
                registry.refuse_after_submit(refusal, |r| handle.abort(r));
            }
        }
        handle
    }
}

/// Detached async tasks for code written against `futures`'
/// [`Spawn`] (`futures::task::SpawnExt::spawn`). Needs
/// the `async` feature (on by default).
///
/// ```
/// use futures::task::SpawnExt;
///
/// let pool = executor::ThreadPoolExecutor::new();
/// let (tx, rx) = std::sync::mpsc::channel();
/// // `SpawnExt::spawn`, not the inherent `spawn` that returns a handle.
/// SpawnExt::spawn(&pool, async move { tx.send(7).unwrap() }).unwrap();
/// assert_eq!(rx.recv().unwrap(), 7);
/// ```
#[cfg(feature = "async")]
#[cfg_attr(docsrs, doc(cfg(feature = "async")))]
impl Spawn for ThreadPoolExecutor {
    fn spawn_obj(&self, future: FutureObj<'static, ()>) -> Result<(), SpawnError> {
        if self.registry.state().is_closed() && !worker::is_worker_of(&self.registry) {
            return Err(SpawnError::shutdown());
        }
        // Detached, as `Spawn` wants; a panic is kept in the dropped handle.
        drop(self.spawn(future));
        Ok(())
    }

    fn status(&self) -> Result<(), SpawnError> {
        if self.registry.state().is_closed() {
            Err(SpawnError::shutdown())
        } else {
            Ok(())
        }
    }
}
