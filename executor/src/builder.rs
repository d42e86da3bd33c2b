//! `ThreadPoolBuilder`: configuring a pool before it starts.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::error::BuildError;
use crate::hooks::{Hooks, TaskInfo};
use crate::scheduler::config::{Config, MAX_STACK_SIZE, MAX_WORKERS, MIN_STACK_SIZE};
#[cfg(doc)]
use crate::ThreadPoolExecutor;

/// Configures and builds a [`ThreadPoolExecutor`]; the keyword arguments of
/// Python's `ThreadPoolExecutor(max_workers, thread_name_prefix, initializer)`
/// plus the knobs an I/O pool needs.
///
/// ```
/// use std::time::Duration;
///
/// let pool = executor::ThreadPoolExecutor::builder()
///     .max_workers(4)
///     .thread_name_prefix("io")
///     .keep_alive(Duration::from_secs(30))
///     .build()?;
/// let name = pool.submit(|| std::thread::current().name().map(String::from)).result()?;
/// assert!(name.unwrap().starts_with("io-"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[must_use = "a builder does nothing until `build` is called"]
pub struct ThreadPoolBuilder {
    max_workers: Option<usize>,
    min_workers: Option<usize>,
    thread_name_prefix: String,
    stack_size: Option<usize>,
    initializer: Option<Arc<dyn Fn() + Send + Sync + 'static>>,
    keep_alive: Option<Duration>,
    queue_capacity: Option<usize>,
    hooks: Hooks,
}

impl Default for ThreadPoolBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl ThreadPoolBuilder {
    /// The most workers a pool may have: a larger
    /// [`max_workers`](Self::max_workers) makes `build` fail with
    /// [`BuildError::TooManyWorkers`]. The pool counts its searching
    /// workers in 16 bits, which must hold `max_workers` plus the 256
    /// spare threads it may start while workers block; Java's
    /// `ForkJoinPool` has the same cap.
    ///
    /// ```
    /// use executor::{BuildError, ThreadPoolBuilder, ThreadPoolExecutor};
    ///
    /// let wanted = usize::MAX; // say, from a configuration file
    /// let pool = ThreadPoolExecutor::builder()
    ///     .max_workers(wanted.min(ThreadPoolBuilder::MAX_WORKERS))
    ///     .min_workers(0)
    ///     .build()?;
    /// assert_eq!(pool.max_workers(), 32_767);
    /// # Ok::<(), BuildError>(())
    /// ```
    pub const MAX_WORKERS: usize = MAX_WORKERS;

    /// The smallest [`stack_size`](Self::stack_size) `build` accepts, 64 KiB:
    /// twice what a worker was measured to need for its own code and the
    /// printing of a task's panic (a debug build printing a backtrace
    /// overflowed 24 KiB, not 32 KiB). Python's `threading.stack_size`
    /// likewise refuses less than 32 KiB. A smaller size makes `build`
    /// fail with [`BuildError::InvalidStackSize`].
    ///
    /// ```
    /// use executor::ThreadPoolBuilder;
    ///
    /// let pool = executor::ThreadPoolExecutor::builder()
    ///     .stack_size(ThreadPoolBuilder::MIN_STACK_SIZE)
    ///     .build()?;
    /// assert!(pool.submit(|| panic!("printed on a 64 KiB stack")).result().is_err());
    /// # Ok::<(), executor::BuildError>(())
    /// ```
    pub const MIN_STACK_SIZE: usize = MIN_STACK_SIZE;

    /// The largest [`stack_size`](Self::stack_size) `build` accepts:
    /// `isize::MAX` bytes, the most any Rust object may span. The operating
    /// system may refuse less, which `build` reports as [`BuildError::Spawn`].
    ///
    /// ```
    /// use executor::{BuildError, ThreadPoolBuilder};
    ///
    /// let err = executor::ThreadPoolExecutor::builder()
    ///     .stack_size(ThreadPoolBuilder::MAX_STACK_SIZE + 1)
    ///     .build()
    ///     .unwrap_err();
    /// assert!(matches!(err, BuildError::InvalidStackSize { .. }));
    /// ```
    pub const MAX_STACK_SIZE: usize = MAX_STACK_SIZE;

    /// A builder with the defaults: `num_cpus::get()` workers, started as work
    /// arrives, named `executor-0`, `executor-1`, …, never retired.
    pub fn new() -> Self {
        Self {
            max_workers: None,
            min_workers: None,
            thread_name_prefix: "executor".to_owned(),
            stack_size: None,
            initializer: None,
            keep_alive: None,
            queue_capacity: None,
            hooks: Hooks::default(),
        }
    }

    /// The most worker threads the pool runs at once. Default:
    /// `num_cpus::get()` (at most [`MAX_WORKERS`](Self::MAX_WORKERS)). `0`
    /// makes `build` fail with [`BuildError::ZeroWorkers`], more than
    /// [`MAX_WORKERS`](Self::MAX_WORKERS) with [`BuildError::TooManyWorkers`].
    pub fn max_workers(mut self, n: usize) -> Self {
        self.max_workers = Some(n);
        self
    }

    /// Workers started by `build` and never retired by `keep_alive`.
    /// Default: 1, so an idle pool holds one parked thread; the rest start
    /// one at a time when work arrives and no idle worker can take it, up to
    /// `max_workers`. `0` is allowed: an idle pool then holds no thread at
    /// all, and the next submission starts one. More than `max_workers`
    /// makes `build` fail with [`BuildError::MinAboveMax`].
    ///
    /// ```
    /// let pool = executor::ThreadPoolExecutor::builder()
    ///     .max_workers(64)
    ///     .min_workers(0)
    ///     .build()?;
    /// assert_eq!(pool.stats().workers_alive, 0); // a 64-worker pool, idle, costs nothing
    /// assert_eq!(pool.submit(|| 1 + 1).result()?, 2); // the first task starts a worker
    /// assert_eq!(pool.stats().threads_started, 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn min_workers(mut self, n: usize) -> Self {
        self.min_workers = Some(n);
        self
    }

    /// Names the workers `{prefix}-0`, `{prefix}-1`, … (default prefix:
    /// `executor`). A prefix with a NUL byte (`'\0'`), which no thread
    /// name may hold, makes `build` fail with [`BuildError::InvalidThreadName`].
    pub fn thread_name_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.thread_name_prefix = prefix.into();
        self
    }

    /// Stack size of each worker thread, in bytes (default: the platform's).
    /// Outside [`MIN_STACK_SIZE`](Self::MIN_STACK_SIZE)..=[`MAX_STACK_SIZE`](Self::MAX_STACK_SIZE)
    /// `build` fails with [`BuildError::InvalidStackSize`]; a size the
    /// operating system refuses, with [`BuildError::Spawn`].
    pub fn stack_size(mut self, bytes: usize) -> Self {
        self.stack_size = Some(bytes);
        self
    }

    /// Runs `f` once on each worker thread before it takes any work. If it
    /// panics the pool becomes *broken*: queued and later tasks resolve to
    /// [`TaskError::Broken`](crate::TaskError::Broken) (Python's `BrokenThreadPool`).
    pub fn initializer(mut self, f: impl Fn() + Send + Sync + 'static) -> Self {
        self.initializer = Some(Arc::new(f));
        self
    }

    /// Workers above `min_workers` exit after being idle this long (default:
    /// never). A later burst starts them again. A retiring worker leaves no
    /// queued task behind: its own deque is empty (idle workers have nothing
    /// in it), and a task submitted while it leaves gets another worker.
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    ///
    /// let pool = executor::ThreadPoolExecutor::builder()
    ///     .max_workers(8)
    ///     .keep_alive(Duration::from_millis(10))
    ///     .build()?;
    /// let burst: Vec<_> = (0..16)
    ///     .map(|_| pool.submit(|| std::thread::sleep(Duration::from_millis(5))))
    ///     .collect();
    /// for handle in burst {
    ///     handle.result()?;
    /// }
    /// // Idle again: back to the minimum (1) once keep_alive has passed.
    /// let deadline = Instant::now() + Duration::from_secs(10);
    /// while pool.stats().workers_alive > 1 && Instant::now() < deadline {
    ///     std::thread::sleep(Duration::from_millis(5));
    /// }
    /// let stats = pool.stats();
    /// assert_eq!(stats.workers_alive, 1);
    /// assert_eq!(stats.threads_started - stats.threads_retired, 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn keep_alive(mut self, idle: Duration) -> Self {
        self.keep_alive = Some(idle);
        self
    }

    /// Bounds the tasks queued from outside the pool, so a fast producer
    /// cannot fill memory: while `n` tasks wait to start,
    /// [`submit`](ThreadPoolExecutor::submit) blocks until one starts
    /// (back-pressure), [`try_submit`](ThreadPoolExecutor::try_submit) hands
    /// the closure back in [`SubmitError::Full`](crate::SubmitError::Full), and
    /// [`submit_timeout`](ThreadPoolExecutor::submit_timeout) waits at most
    /// its timeout. A task gives its place back the moment it starts or is
    /// [cancelled](crate::TaskHandle::cancel), so cancelled tasks never keep
    /// a full queue full. Async tasks spawned from outside take a place
    /// too, without waiting for one. [`shutdown`](ThreadPoolExecutor::shutdown) releases
    /// blocked submitters; their handles resolve to
    /// [`TaskError::Rejected`](crate::TaskError::Rejected). Tasks submitted by
    /// the pool's own tasks are not counted and never block (a worker waiting
    /// on its own full queue would deadlock). Default: unbounded. `0` makes
    /// `build` fail with [`BuildError::ZeroCapacity`].
    ///
    /// ```
    /// use std::sync::mpsc;
    /// use std::time::Duration;
    /// use executor::SubmitError;
    ///
    /// let pool = executor::ThreadPoolExecutor::builder()
    ///     .max_workers(1)
    ///     .queue_capacity(1)
    ///     .build()?;
    /// let (started_tx, started) = mpsc::channel();
    /// let (release, release_rx) = mpsc::channel::<()>();
    /// let busy = pool.submit(move || {
    ///     started_tx.send(()).unwrap();
    ///     release_rx.recv().unwrap();
    /// });
    /// started.recv()?; // the only worker is busy...
    /// let queued = pool.submit(|| 2); // ...and the queue's one place is taken
    ///
    /// match pool.try_submit(|| 3) {
    ///     Err(SubmitError::Full(f)) => assert_eq!(f(), 3), // handed back
    ///     _ => unreachable!(),
    /// }
    /// let waited = pool.submit_timeout(|| 4, Duration::from_millis(10));
    /// assert!(matches!(waited, Err(SubmitError::Timeout(_))));
    ///
    /// release.send(())?;
    /// busy.result()?;
    /// assert_eq!(queued.result()?, 2);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn queue_capacity(mut self, n: usize) -> Self {
        self.queue_capacity = Some(n);
        self
    }

    /// Runs `f` on each worker thread as it starts, before the
    /// [`initializer`](Self::initializer) and before it takes any work
    /// (tokio's `on_thread_start`). Unlike the initializer, a panicking hook
    /// does not break the pool: it is contained and reported on stderr, as a
    /// panicking done callback is, and the worker starts as usual. A worker
    /// started later (lazily, or as a spare while others wait) runs it too,
    /// so it runs once per thread in
    /// [`Stats::threads_started`](crate::Stats::threads_started).
    ///
    /// ```
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    /// use std::sync::Arc;
    ///
    /// let (started, stopped) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    /// let (s, t) = (Arc::clone(&started), Arc::clone(&stopped));
    /// let pool = executor::ThreadPoolExecutor::builder()
    ///     .max_workers(2)
    ///     .on_thread_start(move || { s.fetch_add(1, Ordering::SeqCst); })
    ///     .on_thread_stop(move || { t.fetch_add(1, Ordering::SeqCst); })
    ///     .build()?;
    /// pool.submit(|| ()).result()?;
    /// pool.shutdown(true); // every worker has stopped, and its hook ran
    /// let threads = pool.stats().threads_started as usize;
    /// assert_eq!(started.load(Ordering::SeqCst), threads);
    /// assert_eq!(stopped.load(Ordering::SeqCst), threads);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn on_thread_start(mut self, f: impl Fn() + Send + Sync + 'static) -> Self {
        self.hooks.on_thread_start = Some(Arc::new(f));
        self
    }

    /// Runs `f` on each worker thread as it stops: when the pool shuts down,
    /// or when the worker retires after [`keep_alive`](Self::keep_alive)
    /// (tokio's `on_thread_stop`): once per thread in
    /// [`Stats::threads_started`](crate::Stats::threads_started) by the time
    /// [`shutdown(true)`](ThreadPoolExecutor::shutdown) returns. A retiring
    /// thread runs it on its way out, just after
    /// [`Stats::threads_retired`](crate::Stats::threads_retired) counted it.
    /// A panicking hook is contained and reported. See
    /// [`on_thread_start`](Self::on_thread_start) for an example.
    pub fn on_thread_stop(mut self, f: impl Fn() + Send + Sync + 'static) -> Self {
        self.hooks.on_thread_stop = Some(Arc::new(f));
        self
    }

    /// Runs `f` on the worker just before each run of a task, with the
    /// task's [id](TaskInfo::id) and [name](TaskInfo::name): once for a
    /// closure, before each poll for an async task. Only tasks that run
    /// see it (not cancelled or rejected ones); a half of
    /// [`join`](crate::join()) that another worker stole is part of the task
    /// that forked it and sees none. A panicking hook is contained and
    /// reported; the task runs anyway.
    ///
    /// ```
    /// use std::sync::{Arc, Mutex};
    ///
    /// let log = Arc::new(Mutex::new(Vec::new()));
    /// let (before, after) = (Arc::clone(&log), Arc::clone(&log));
    /// let pool = executor::ThreadPoolExecutor::builder()
    ///     .before_task(move |t| before.lock().unwrap().push(format!("before {:?}", t.name())))
    ///     .after_task(move |t| after.lock().unwrap().push(format!("after {:?}", t.name())))
    ///     .build()?;
    /// pool.submit_named("report", || ()).result()?;
    /// // Both hooks ran before the result was published.
    /// assert_eq!(*log.lock().unwrap(), ["before Some(\"report\")", "after Some(\"report\")"]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn before_task(mut self, f: impl Fn(&TaskInfo) + Send + Sync + 'static) -> Self {
        self.hooks.task_mut().before = Some(Arc::new(f));
        self
    }

    /// Runs `f` on the worker just after each run of a task (after the
    /// closure returned or panicked, after each poll of an async task),
    /// before its result is published: whoever sees the result also sees
    /// what the hook did. A panicking hook is contained and reported; the
    /// task's result is kept. See [`before_task`](Self::before_task) for
    /// an example.
    pub fn after_task(mut self, f: impl Fn(&TaskInfo) + Send + Sync + 'static) -> Self {
        self.hooks.task_mut().after = Some(Arc::new(f));
        self
    }

    /// Checks every setting (the checks are the ones each setter lists)
    /// and freezes them; `build` (in `pool.rs`) starts the pool from that.
    pub(crate) fn checked_config(self) -> Result<Config, BuildError> {
        let max_workers = self
            .max_workers
            .unwrap_or_else(|| num_cpus::get().min(Self::MAX_WORKERS));
        if max_workers == 0 {
            return Err(BuildError::ZeroWorkers);
        }
        if max_workers > Self::MAX_WORKERS {
            return Err(BuildError::TooManyWorkers { max: max_workers });
        }
        let min_workers = self.min_workers.unwrap_or(1);
        if min_workers > max_workers {
            return Err(BuildError::MinAboveMax {
                min: min_workers,
                max: max_workers,
            });
        }
        if self.queue_capacity == Some(0) {
            return Err(BuildError::ZeroCapacity);
        }
        // `std::thread::Builder::spawn` panics on a name with a NUL byte;
        // the rest of a worker's name (`-{index}`) never has one.
        if self.thread_name_prefix.contains('\0') {
            return Err(BuildError::InvalidThreadName(self.thread_name_prefix));
        }
        if let Some(bytes) = self.stack_size {
            if !(Self::MIN_STACK_SIZE..=Self::MAX_STACK_SIZE).contains(&bytes) {
                return Err(BuildError::InvalidStackSize { bytes });
            }
        }
        Ok(Config {
            max_workers,
            min_workers,
            thread_name_prefix: self.thread_name_prefix,
            stack_size: self.stack_size,
            initializer: self.initializer,
            keep_alive: self.keep_alive,
            queue_capacity: self.queue_capacity,
            hooks: self.hooks,
        })
    }
}

impl fmt::Debug for ThreadPoolBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ThreadPoolBuilder")
            .field("max_workers", &self.max_workers)
            .field("min_workers", &self.min_workers)
            .field("thread_name_prefix", &self.thread_name_prefix)
            .field("stack_size", &self.stack_size)
            .field("initializer", &self.initializer.is_some())
            .field("keep_alive", &self.keep_alive)
            .field("queue_capacity", &self.queue_capacity)
            .field("hooks", &self.hooks)
            .finish()
    }
}
