//! `ThreadPoolExecutor`: submitting closures, shutting down, statistics,
//! and the process-wide default pool.

use std::fmt;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use crate::builder::ThreadPoolBuilder;
use crate::capacity::OnFull;
use crate::deadline::Deadline;
use crate::error::SubmitError;
use crate::error::{BuildError, Refusal};
use crate::handle::TaskHandle;
use crate::scheduler::registry::Registry;
use crate::scheduler::worker;
use crate::stats::Stats;
use crate::task::stop::{MakeCell, NoStop, Stop, WithStop};
use crate::task::FnTask;

/// A pool of worker threads that run submitted closures and async tasks:
/// Python's `concurrent.futures.ThreadPoolExecutor`, work-stealing.
///
/// Tasks submitted from outside the pool go to a shared injector queue and
/// run in submission order on a one-worker pool; tasks submitted from inside
/// a task go to that worker's own deque, where idle workers steal them.
/// Dropping the pool shuts it down and waits for queued and running tasks
/// (Python's `with ThreadPoolExecutor() as pool:` block).
///
/// ```
/// use executor::ThreadPoolExecutor;
///
/// let pool = ThreadPoolExecutor::builder().max_workers(4).build().unwrap();
/// let handles: Vec<_> = (0..8_u64).map(|i| pool.submit(move || i * i)).collect();
/// let squares: Vec<u64> = handles.into_iter().map(|h| h.result().unwrap()).collect();
/// assert_eq!(squares, [0, 1, 4, 9, 16, 25, 36, 49]);
/// ```
///
/// A closure must own what it uses (`'static`) and be `Send`; borrowing
/// from the caller's stack is what [`scope`](ThreadPoolExecutor::scope) is for:
///
/// ```compile_fail
/// let pool = executor::ThreadPoolExecutor::new();
/// let local = vec![1, 2, 3];
/// pool.submit(|| local.len()); // error: `local` does not live long enough
/// ```
///
/// ```compile_fail
/// let pool = executor::ThreadPoolExecutor::new();
/// let rc = std::rc::Rc::new(5);
/// pool.submit(move || *rc); // error: `Rc` cannot be sent between threads
/// ```
pub struct ThreadPoolExecutor {
    pub(crate) registry: Arc<Registry>,
}

impl ThreadPoolBuilder {
    /// Checks the configuration and starts the pool's first workers. Every
    /// setting is checked here, so a pool that builds never fails later
    /// because of one (a worker started on demand has a valid name and
    /// stack size); the checks are the ones each setter lists.
    pub fn build(self) -> Result<ThreadPoolExecutor, BuildError> {
        Ok(ThreadPoolExecutor {
            registry: Registry::new(self.checked_config()?)?,
        })
    }
}

impl ThreadPoolExecutor {
    /// A pool with the defaults of [`ThreadPoolBuilder::new`].
    ///
    /// # Panics
    ///
    /// Panics if the operating system refuses to start the first worker
    /// thread; use [`ThreadPoolExecutor::builder`] to get that as an error.
    pub fn new() -> ThreadPoolExecutor {
        match Self::builder().build() {
            Ok(pool) => pool,
            Err(e) => panic!("executor: could not build the default pool: {e}"),
        }
    }

    /// Starts configuring a pool.
    pub fn builder() -> ThreadPoolBuilder {
        ThreadPoolBuilder::new()
    }

    /// Schedules `f` to run on a worker and returns its handle at once.
    ///
    /// After [`shutdown`](Self::shutdown) the handle is already resolved to
    /// [`TaskError::Rejected`](crate::TaskError::Rejected) (Python raises
    /// `RuntimeError`); [`try_submit`](Self::try_submit) reports that as an
    /// `Err` instead. With a [`queue_capacity`](ThreadPoolBuilder::queue_capacity),
    /// blocks while the queue is full.
    ///
    /// ```
    /// let pool = executor::ThreadPoolExecutor::new();
    /// let handle = pool.submit(|| "hello".to_uppercase());
    /// assert_eq!(handle.result().unwrap(), "HELLO");
    /// ```
    pub fn submit<F, T>(&self, f: F) -> TaskHandle<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        self.submit_or_resolve(None, f)
    }

    /// Like [`submit`](Self::submit), naming the task; the name appears in
    /// its panic message and in the handle's `Debug` output.
    ///
    /// ```
    /// let pool = executor::ThreadPoolExecutor::new();
    /// let err = pool.submit_named("resize", || panic!("bad header")).result().unwrap_err();
    /// assert_eq!(err.to_string(), "task 'resize' panicked: bad header");
    /// ```
    pub fn submit_named<F, T>(&self, name: &'static str, f: F) -> TaskHandle<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        self.submit_or_resolve(Some(name), f)
    }

    /// Like [`submit`](Self::submit), but never blocks and never returns a
    /// resolved-to-error handle: when the pool is shut down, broken or its
    /// queue is full, the closure comes back inside the error.
    ///
    /// ```
    /// use executor::SubmitError;
    ///
    /// let pool = executor::ThreadPoolExecutor::new();
    /// assert_eq!(pool.try_submit(|| 1).unwrap().result().unwrap(), 1);
    /// pool.shutdown(true);
    /// assert!(matches!(pool.try_submit(|| 1), Err(SubmitError::Shutdown(_))));
    /// ```
    pub fn try_submit<F, T>(&self, f: F) -> Result<TaskHandle<T>, SubmitError<F>>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        self.submit_inner(None, f, OnFull::Refuse)
    }

    /// Like [`submit`](Self::submit), but waits at most `timeout` for room in
    /// a full queue, then hands the closure back as [`SubmitError::Timeout`].
    /// A timeout too large to represent (`Duration::MAX`) waits for good.
    pub fn submit_timeout<F, T>(
        &self,
        f: F,
        timeout: Duration,
    ) -> Result<TaskHandle<T>, SubmitError<F>>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        self.submit_inner(None, f, OnFull::WaitUntil(Deadline::after(timeout)))
    }

    fn submit_or_resolve<F, T>(&self, name: Option<&'static str>, f: F) -> TaskHandle<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        self.submit_made(name, f, NoStop)
    }

    /// `submit` with stop hooks (`task/stop.rs`): the path of
    /// `submit_with_token` and of groups.
    pub(crate) fn submit_stoppable<F, T, S>(
        &self,
        name: Option<&'static str>,
        f: F,
        stop: S,
    ) -> TaskHandle<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
        S: Stop,
    {
        self.submit_made(name, f, WithStop(stop))
    }

    /// `submit`, making the task's cell with `make`.
    fn submit_made<F, T, M>(&self, name: Option<&'static str>, f: F, make: M) -> TaskHandle<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
        M: MakeCell,
    {
        match self.submit_inner_with(name, f, OnFull::WaitUntil(Deadline::Never), make) {
            Ok(handle) => handle,
            Err(e) => {
                let refusal = match e {
                    SubmitError::Broken(_) => Refusal::Broken,
                    _ => Refusal::Rejected,
                };
                self.registry.count_refused_at_once(refusal);
                TaskHandle::new(FnTask::<F, T>::resolved(refusal, name), 0)
            }
        }
    }

    /// The one submit path. `on_full`: whether, and how long, to wait for
    /// queue room.
    fn submit_inner<F, T>(
        &self,
        name: Option<&'static str>,
        f: F,
        on_full: OnFull,
    ) -> Result<TaskHandle<T>, SubmitError<F>>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        self.submit_inner_with(name, f, on_full, NoStop)
    }

    fn submit_inner_with<F, T, M>(
        &self,
        name: Option<&'static str>,
        f: F,
        on_full: OnFull,
        make: M,
    ) -> Result<TaskHandle<T>, SubmitError<F>>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
        M: MakeCell,
    {
        let registry = &self.registry;
        if registry.state().is_broken() {
            return Err(SubmitError::Broken(f));
        }
        if let Some(ctx) = worker::current_of(registry) {
            // From inside the pool: onto this worker's deque. Accepted while a
            // shutdown drains the pool, so running work can finish its subtasks;
            // never counted against the queue capacity (a worker blocked on
            // its own full queue would deadlock).
            let (job, task) = make.make(f, name, None);
            let handle = TaskHandle::new(task, registry.id());
            ctx.count_submitted();
            ctx.push(job);
            registry.notify();
            return Ok(handle);
        }
        if registry.state().is_shutdown() {
            return Err(SubmitError::Shutdown(f));
        }
        let Ok(place) = registry.reserve(on_full) else {
            return Err(match (registry.state().refusal(), on_full) {
                (Some(Refusal::Broken), _) => SubmitError::Broken(f),
                (Some(_), _) => SubmitError::Shutdown(f),
                (None, OnFull::WaitUntil(_)) => SubmitError::Timeout(f),
                (None, OnFull::Refuse) => SubmitError::Full(f),
            });
        };
        // The task carries its place and frees it when it starts or is
        // resolved unrun (cancelled, rejected below, drained by shutdown).
        let (job, task) = make.make(f, name, place);
        let handle = TaskHandle::new(task, registry.id());
        registry.count_submitted();
        registry.injector.push(job);
        registry.notify();
        if let Some(refusal) = registry.closed_after_submit() {
            registry.refuse_after_submit(refusal, |r| handle.abort(r));
        }
        Ok(handle)
    }

    /// Stops accepting tasks from outside the pool. With `wait`, returns once
    /// every queued and running task has finished and every worker thread
    /// has exited (and the timer thread too, having resolved the delayed
    /// tasks still waiting: `stats()` is final then); that holds for every
    /// caller, also when several threads call at once (as Python's second
    /// `shutdown(wait=True)` joins too). Python's `shutdown(wait)`.
    ///
    /// Idempotent, and callable from a task of this very pool (or a done
    /// callback run by one). Such a call cannot wait for its own task, nor
    /// for tasks that may be waiting for it: tasks blocked in a wait of the
    /// pool, parked async tasks, other tasks in the same call. It returns
    /// once every other worker has exited, waits so, or sleeps with nothing
    /// queued, and it waits for no other caller. Where Python would
    /// deadlock, these calls return; the call from outside, or the pool's
    /// `Drop`, still waits for everything.
    ///
    /// Unlike Python, tasks already running may still submit subtasks while
    /// the pool drains (so a fork-join computation in flight completes);
    /// submissions from outside resolve to [`TaskError::Rejected`](crate::TaskError::Rejected).
    ///
    /// An async task that was polled once is running, as in Python: with
    /// `wait` this returns after it finished (a worker stays for it while it
    /// is parked on its waker), and `cancel_futures` leaves it alone. One
    /// parked with no clone of its waker left can never be resumed: it
    /// resolves to [`TaskError::Abandoned`](crate::TaskError::Abandoned) (at
    /// shutdown, or when its last waker drops). One whose waker is kept but
    /// never woken keeps `shutdown(true)`, and the pool's `Drop`, waiting,
    /// as a closure that never returns would.
    ///
    /// ```
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    /// use std::sync::Arc;
    ///
    /// let pool = executor::ThreadPoolExecutor::new();
    /// let ran = Arc::new(AtomicUsize::new(0));
    /// for _ in 0..100 {
    ///     let ran = ran.clone();
    ///     drop(pool.submit(move || ran.fetch_add(1, Ordering::Relaxed)));
    /// }
    /// pool.shutdown(true);
    /// assert_eq!(ran.load(Ordering::Relaxed), 100);
    /// assert!(pool.submit(|| ()).result().is_err());
    /// ```
    pub fn shutdown(&self, wait: bool) {
        self.registry.shutdown(wait, false);
    }

    /// Python's `shutdown(wait, cancel_futures)`: with `cancel_futures`,
    /// tasks still queued resolve to [`TaskError::Cancelled`](crate::TaskError::Cancelled)
    /// instead of running. Async tasks that already started are not
    /// cancelled, even when woken and queued again (see [`shutdown`](Self::shutdown)).
    pub fn shutdown_with(&self, wait: bool, cancel_futures: bool) {
        self.registry.shutdown(wait, cancel_futures);
    }

    /// True once [`shutdown`](Self::shutdown) was called.
    pub fn is_shutdown(&self) -> bool {
        self.registry.state().is_shutdown()
    }

    /// True once a worker initializer panicked.
    pub fn is_broken(&self) -> bool {
        self.registry.state().is_broken()
    }

    /// A snapshot of the pool's counters.
    pub fn stats(&self) -> Stats {
        self.registry.stats()
    }

    /// The most workers this pool runs at once.
    pub fn max_workers(&self) -> usize {
        self.registry.config.max_workers
    }
}

impl Default for ThreadPoolExecutor {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for ThreadPoolExecutor {
    fn drop(&mut self) {
        self.registry.shutdown(true, false);
    }
}

impl fmt::Debug for ThreadPoolExecutor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ThreadPoolExecutor")
            .field("max_workers", &self.max_workers())
            .field(
                "thread_name_prefix",
                &self.registry.config.thread_name_prefix,
            )
            .field("shutdown", &self.is_shutdown())
            .field("broken", &self.is_broken())
            .finish_non_exhaustive()
    }
}

/// The pool behind [`global()`], once built.
pub(crate) static GLOBAL: OnceLock<ThreadPoolExecutor> = OnceLock::new();

/// The process-wide pool with default settings, built on first use. For
/// code that has no pool of its own to pass around.
///
/// **At process exit.** Rust never drops statics, so when `main` returns
/// the process ends and tasks still queued or running on this pool are
/// lost without a word (Python's interpreter instead joins its pools'
/// workers at exit). To get Python's behaviour, put
/// [`global_guard()`](crate::global_guard) at the top of `main`, or call
/// [`shutdown_global(true)`](crate::shutdown_global) before returning:
/// queued tasks then run and running ones finish first. After that,
/// submissions to `global()` resolve to `Rejected`.
///
/// ```
/// let handle = executor::global().submit(|| 2 + 2);
/// assert_eq!(handle.result().unwrap(), 4);
/// ```
pub fn global() -> &'static ThreadPoolExecutor {
    GLOBAL.get_or_init(ThreadPoolExecutor::new)
}
