//! `TaskHandle`: Python's `concurrent.futures.Future`, for one submitted task.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use crate::deadline::Deadline;
use crate::error::{Outcome, Refusal, TaskError};
use crate::scheduler::blocking::{self, Awaited};
use crate::scheduler::view_counts;
use crate::task::state::{Lifecycle, Snapshot};
use crate::task::{CallbackKey, Job, TaskId, TaskRef};

/// A handle to a submitted task: ask whether it is done, cancel it before
/// it starts, block for its result, or `.await` it.
///
/// Dropping the handle does not cancel the task (as in Python, a future
/// nobody looks at still runs); the result is then discarded.
///
/// ```
/// use executor::ThreadPoolExecutor;
///
/// let pool = ThreadPoolExecutor::new();
/// let handle = pool.submit(|| 6 * 7);
/// assert_eq!(handle.result().unwrap(), 42);
/// ```
#[must_use = "a handle is how you get the task's result; drop it explicitly to detach"]
pub struct TaskHandle<T> {
    task: Arc<dyn TaskRef<T>>,
    /// The pool the task was queued on (`Registry::id`), 0 if none: only
    /// that pool's workers may claim it.
    pool: usize,
}

impl<T> TaskHandle<T> {
    /// A handle to `task`, queued on the pool with id `pool` (0: never queued).
    pub(crate) fn new(task: Arc<dyn TaskRef<T>>, pool: usize) -> Self {
        Self { task, pool }
    }

    fn snapshot(&self) -> Snapshot {
        self.task.core().snapshot()
    }

    /// Resolves a task that has not started to `refusal`.
    #[must_use]
    pub(crate) fn abort(&self, refusal: Refusal) -> bool {
        self.task.abort(refusal)
    }

    /// True once the task finished, panicked, or was cancelled, rejected or
    /// broken: `result` will not block.
    pub fn done(&self) -> bool {
        self.snapshot().is_terminal()
    }

    /// True while a worker is running the task (for async tasks: from the
    /// first poll until it finishes).
    pub fn running(&self) -> bool {
        matches!(
            self.snapshot().lifecycle(),
            Lifecycle::Running | Lifecycle::Idle
        )
    }

    /// True if the task was cancelled (by [`cancel`](Self::cancel) or by
    /// `shutdown_with(_, true)`).
    pub fn cancelled(&self) -> bool {
        self.snapshot().lifecycle() == Lifecycle::Cancelled
    }

    /// Cancels the task if it has not started; returns whether it is now
    /// cancelled. A task that is running or done cannot be cancelled (as in
    /// Python); a cancelled task never runs, and its closure is dropped here.
    ///
    /// A task submitted with a token
    /// ([`submit_with_token`](crate::ThreadPoolExecutor::submit_with_token),
    /// a [`TaskGroup`](crate::TaskGroup)'s tasks) that has already started
    /// is *asked* to stop: its token is cancelled. This still returns
    /// false then (it ran), and its result is whatever it returns.
    ///
    /// ```
    /// let pool = executor::ThreadPoolExecutor::builder().max_workers(1).build().unwrap();
    /// let (tx, rx) = std::sync::mpsc::channel::<()>();
    /// let blocker = pool.submit(move || rx.recv().unwrap());
    /// let queued = pool.submit(|| unreachable!("cancelled tasks never run"));
    /// assert!(queued.cancel());
    /// assert!(queued.cancelled() && queued.done());
    /// tx.send(()).unwrap();
    /// blocker.result().unwrap();
    /// assert!(queued.result().unwrap_err().is_cancelled());
    /// ```
    pub fn cancel(&self) -> bool {
        if self.task.abort(Refusal::Cancelled) {
            return true;
        }
        self.task.request_stop();
        self.cancelled()
    }

    /// Blocks until the task is done and returns its value or why there is
    /// none.
    ///
    /// Called on a worker of the task's pool while the task is still queued,
    /// it runs the task right here, so nested submit-and-wait cannot
    /// deadlock, even on one worker. It never runs *other* queued tasks
    /// while it waits: a task holding a lock across `result()` cannot have
    /// an unrelated task that takes the same lock run on its stack. While it
    /// blocks, the pool starts or wakes another worker to keep its
    /// parallelism.
    ///
    /// ```
    /// use std::sync::{Arc, Mutex};
    /// use executor::ThreadPoolExecutor;
    ///
    /// let pool = Arc::new(ThreadPoolExecutor::builder().max_workers(1).build().unwrap());
    /// let log = Arc::new(Mutex::new(Vec::new()));
    /// let (p, l) = (pool.clone(), log.clone());
    /// let parent = pool.submit(move || {
    ///     let mut guard = l.lock().unwrap(); // held across the wait
    ///     let child = p.submit(|| 21);
    ///     guard.push("waiting");
    ///     child.result().unwrap() * 2 // runs the child here, nothing else
    /// });
    /// for _ in 0..3 {
    ///     let l = log.clone();
    ///     drop(pool.submit(move || l.lock().unwrap().push("unrelated")));
    /// }
    /// assert_eq!(parent.result().unwrap(), 42);
    /// ```
    pub fn result(mut self) -> Result<T, TaskError> {
        // A task already done (the common case when collecting many
        // results) needs none of the wait's machinery.
        if !self.done() {
            self.wait();
        }
        self.take()
    }

    /// Like [`result`](Self::result) but gives up after `timeout`, handing
    /// the handle back: the task keeps running and its result is not lost,
    /// and nothing of the wait stays registered on the task, so calling it
    /// again and again on a pending handle holds no more memory than once.
    /// A timeout too large to represent (`Duration::MAX`) waits for good.
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let pool = executor::ThreadPoolExecutor::new();
    /// let (tx, rx) = std::sync::mpsc::channel::<u32>();
    /// let handle = pool.submit(move || rx.recv().unwrap() + 1);
    /// let handle = handle.result_timeout(Duration::from_millis(10)).unwrap_err(); // not yet
    /// tx.send(41).unwrap();
    /// assert_eq!(handle.result().unwrap(), 42);
    /// ```
    pub fn result_timeout(
        mut self,
        timeout: Duration,
    ) -> Result<Result<T, TaskError>, TaskHandle<T>> {
        if self.wait_timeout(timeout) {
            Ok(self.take())
        } else {
            Err(self)
        }
    }

    /// Blocks until the task is done (see [`result`](Self::result) for what a
    /// worker does meanwhile).
    pub fn wait(&self) {
        blocking::wait_until(&self.awaited(), Deadline::Never);
    }

    /// Blocks until the task is done or `timeout` passes; returns whether it
    /// is done. Nothing is lost on timeout, and nothing stays registered on
    /// the task once it returns (its thread is taken off the task's waiter
    /// list), however often it is called. A timeout too large to represent
    /// waits for good.
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let pool = executor::ThreadPoolExecutor::new();
    /// let handle = pool.submit(|| 7);
    /// assert!(handle.wait_timeout(Duration::MAX));
    /// assert_eq!(handle.result().unwrap(), 7);
    /// ```
    pub fn wait_timeout(&self, timeout: Duration) -> bool {
        blocking::wait_until(&self.awaited(), Deadline::after(timeout))
    }

    /// This handle as a wait's target (see `blocking`).
    pub(crate) fn awaited(&self) -> impl Awaited + '_ {
        HandleWait(self)
    }

    /// The task's queue side, whatever its state (a group keeps it to
    /// cancel the task if it is still queued).
    pub(crate) fn job(&self) -> Job {
        Arc::clone(&self.task).job()
    }

    /// The task's queue entry, if the task is still queued on pool `pool`:
    /// for a worker of that pool that waits for it and will run it inline.
    /// A task of a limited view is claimable only by a thread running a
    /// task of the same view (see the `limited` module).
    pub(crate) fn claimable(&self, pool: usize) -> Option<Job> {
        let mine = self.pool == pool || view_counts::is_current_view(self.pool);
        (mine && self.snapshot().is_queued()).then(|| Arc::clone(&self.task).job())
    }

    /// Calls `f` once the task is done, with how it ended. If it already is,
    /// `f` runs at once on this thread; otherwise on the thread that finishes
    /// (or cancels) the task. A panic in `f` is caught and reported on
    /// stderr, never propagated.
    ///
    /// ```
    /// use std::sync::mpsc;
    /// use executor::Outcome;
    ///
    /// let pool = executor::ThreadPoolExecutor::new();
    /// let (tx, rx) = mpsc::channel();
    /// let handle = pool.submit(|| 1 + 1);
    /// handle.add_done_callback(move |outcome| tx.send(outcome).unwrap());
    /// assert_eq!(rx.recv().unwrap(), Outcome::Completed);
    /// ```
    pub fn add_done_callback(&self, f: impl FnOnce(Outcome) + Send + 'static) {
        // No key: a user's callback stays until it runs.
        self.add_done_callback_keyed(f);
    }

    /// [`add_done_callback`](Self::add_done_callback), returning the key
    /// that takes the callback off again ([`remove_done_callback`](Self::remove_done_callback));
    /// `None` when the task was done and `f` ran here already.
    pub(crate) fn add_done_callback_keyed(
        &self,
        f: impl FnOnce(Outcome) + Send + 'static,
    ) -> Option<CallbackKey> {
        self.task.core().add_callback(Box::new(f))
    }

    /// Takes the callback `key` off the task unless the task finished
    /// first; returns whether it did. If not, the callback has run or is
    /// running, once (see `Core::remove_callback`).
    pub(crate) fn remove_done_callback(&self, key: CallbackKey) -> bool {
        self.task.core().remove_callback(key)
    }

    /// The outcome, once done.
    pub fn outcome(&self) -> Option<Outcome> {
        self.snapshot().lifecycle().outcome()
    }

    /// An identifier for the task, for keeping track of which handle is
    /// which (Python's `{future: url}` idiom): no two tasks alive at the
    /// same time share one. Once the task and its handle are gone, a later
    /// task may reuse it.
    ///
    /// ```
    /// use std::collections::HashMap;
    ///
    /// let pool = executor::ThreadPoolExecutor::new();
    /// let mut urls = HashMap::new();
    /// let handles: Vec<_> = ["a.example", "b.example"]
    ///     .into_iter()
    ///     .map(|url| {
    ///         let h = pool.submit(move || url.len());
    ///         urls.insert(h.id(), url);
    ///         h
    ///     })
    ///     .collect();
    /// for h in executor::as_completed(handles) {
    ///     let url = urls[&h.id()];
    ///     assert_eq!(h.result().unwrap(), url.len());
    /// }
    /// ```
    pub fn id(&self) -> TaskId {
        // The address of the task's one allocation: unique while it lives,
        // and the handle keeps it alive.
        TaskId::from_addr(Arc::as_ptr(&self.task).cast::<()>() as usize)
    }

    /// Takes the output. A second take (a handle polled again after it
    /// returned `Ready`) finds the task's slot empty and panics; no flag
    /// here, so a handle is two words and a pool id.
    fn take(&mut self) -> Result<T, TaskError> {
        // SAFETY: (1) `self` is the only handle of the task and we hold it
        // mutably, so no two takes overlap; (2) every caller checked
        // `done()` (an Acquire load of a terminal state) first.
        unsafe { self.task.core().take_output() }
    }
}

/// A wait for one handle's task.
struct HandleWait<'a, T>(&'a TaskHandle<T>);

impl<T> Awaited for HandleWait<'_, T> {
    fn is_ready(&self) -> bool {
        self.0.done()
    }

    fn register(&self) -> bool {
        self.0.task.core().register_thread()
    }

    fn deregister(&self) {
        self.0.task.core().deregister_thread();
    }

    fn claim(&self, pool: usize) -> Option<Job> {
        self.0.claimable(pool)
    }

    fn target(&self) -> Option<usize> {
        let running = self.0.snapshot().lifecycle() == Lifecycle::Running;
        running.then(|| self.0.id().addr())
    }
}

impl<T> Future for TaskHandle<T> {
    type Output = Result<T, TaskError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let core = self.task.core();
        if core.snapshot().is_terminal() || !core.register_waker(cx.waker()) {
            return Poll::Ready(self.take());
        }
        Poll::Pending
    }
}

impl<T> Unpin for TaskHandle<T> {}

impl<T> fmt::Debug for TaskHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.snapshot();
        let state = match s.lifecycle() {
            Lifecycle::Scheduled => "pending",
            Lifecycle::Running | Lifecycle::Idle => "running",
            _ => "done",
        };
        let mut d = f.debug_struct("TaskHandle");
        d.field("state", &state);
        if let Some(outcome) = self.outcome() {
            d.field("outcome", &outcome);
        }
        if let Some(name) = self.task.core().name() {
            d.field("name", &name);
        }
        d.finish()
    }
}
