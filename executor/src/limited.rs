//! Views of a pool: [`Limited`], at most k of its tasks running at once
//! (Kotlin's `limitedParallelism`, the tutorials' `Semaphore`), and
//! optionally at most n task starts per period (a token bucket, for API
//! clients).
//!
//! A limited view shares the pool's workers. Its tasks wait in the view's
//! own queue, holding no worker; the view keeps at most `limit` *runners*
//! in the pool's queues: a runner is an internal job that takes the view's
//! tasks one at a time off its queue and runs each on the worker that runs
//! the runner. A runner is a permit: there are never more runners than the
//! limit (a lowered limit retires runners as they finish a task), so never
//! more than `limit` of the view's tasks run at once. A runner gives its
//! worker back after a few tasks (it queues itself again), so a busy view
//! does not keep a worker from the pool's other work.
//!
//! With a rate limit, a runner takes a token before each task; when the
//! next token is not due yet, the runner waits for it in the pool's timer
//! (holding its permit, not a worker) and runs the task when it fires.
//!
//! **Waiting inside a view.** A view task's handle is claimable only by a
//! thread running a task of the same view: a task of view V waiting for
//! another task of V still in V's queue runs it inline, on its own permit
//! (it is blocked meanwhile, so V still runs at most `limit` tasks of its
//! own code at once). So a task waiting for its own view's tasks never
//! deadlocks, even with limit 1. Any other waiter (a plain task, another
//! view's task, a thread outside the pool) blocks until a runner starts
//! the task, as the pool's waiting rules say for a task it may not run.

use std::collections::VecDeque;
use std::fmt;
#[cfg(feature = "async")]
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
#[cfg(feature = "async")]
use std::sync::Weak;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::deadline::Deadline;
use crate::error::Refusal;
use crate::error::SubmitError;
use crate::handle::TaskHandle;
use crate::map::{chunk_task, take_chunk, ChunkHandle, Feed, Map, MapOptions};
use crate::pool::ThreadPoolExecutor;
use crate::scheduler::registry::Registry;
use crate::scheduler::view_counts;
use crate::scheduler::worker;
use crate::stats::Ran;
use crate::sync::lock_std;
use crate::task::state::{Lifecycle, Snapshot};
#[cfg(feature = "async")]
use crate::task::{AsyncTask, LiveTask, Schedule};
use crate::task::{FnTask, Job, RunCtx, Runnable};

/// Tasks a runner runs before it queues itself again.
const RUNNER_BATCH: usize = 16;

/// A task in a view's queue.
struct Entry {
    job: Job,
    /// An async task's permit state (`PERMIT_*`): the permit its first
    /// poll takes is held until the task finishes, not given back when a
    /// poll returns `Pending`. `None` for a closure.
    permit: Option<Arc<AtomicUsize>>,
}

/// An async task not started by a runner yet.
const PERMIT_PENDING: usize = 0;
/// A runner gave its permit to the async task, which holds it until done.
const PERMIT_GRANTED: usize = 1;
/// The task finished (or was cancelled): its done callback ran.
#[cfg(feature = "async")]
const PERMIT_DONE: usize = 2;

struct Shared {
    registry: Arc<Registry>,
    state: Mutex<ViewState>,
}

struct ViewState {
    queue: VecDeque<Entry>,
    /// Runners alive (queued, running, or waiting for a token): permits taken.
    runners: usize,
    limit: usize,
    /// The rate limit, if any: a runner takes a token before each task.
    bucket: Option<Bucket>,
}

impl Shared {
    /// Queues a new task's `entry` in the view, starting a runner if the
    /// view is below its limit; then, for a submission from outside, the
    /// pool's closed-after-submit check (`abort` resolves the task).
    fn enqueue(self: &Arc<Self>, entry: Entry, inside: bool, abort: impl FnOnce(Refusal) -> bool) {
        let registry = &self.registry;
        registry.views.queued.fetch_add(1, Ordering::Relaxed);
        let start = {
            let mut state = lock_std(&self.state);
            state.queue.push_back(entry);
            let start = state.runners < state.limit;
            state.runners += usize::from(start);
            start
        };
        if start {
            self.start_runners(1);
        }
        if !inside {
            if let Some(refusal) = registry.closed_after_submit() {
                registry.refuse_after_submit(refusal, abort);
            }
        }
    }

    /// This view's id: its address, never a pool's (a different allocation).
    fn id(self: &Arc<Self>) -> usize {
        Arc::as_ptr(self) as usize
    }

    /// Queues `runners` new runners on the pool.
    fn start_runners(self: &Arc<Self>, runners: usize) {
        let registry = &self.registry;
        let inside = worker::is_worker_of(registry);
        for _ in 0..runners {
            let runner = Arc::new(Runner::new(Arc::clone(self), false));
            registry
                .views
                .runners_queued
                .fetch_add(1, Ordering::Relaxed);
            registry.schedule(Job::Task(Arc::clone(&runner) as Arc<dyn Runnable>));
            if !inside && registry.closed_after_submit().is_some() {
                // No worker may be left to run it: resolve the view's queue.
                let _ = runner.abort(Refusal::Rejected);
                registry.drain_if_terminated();
            }
        }
    }

    /// A runner stops: its permit is free.
    fn retire_runner(&self) {
        lock_std(&self.state).runners -= 1;
    }

    /// An async task that held a permit finished: the permit is free, and
    /// goes to a new runner if tasks are waiting.
    #[cfg(feature = "async")]
    fn release_permit(self: &Arc<Self>) {
        let start = {
            let mut state = lock_std(&self.state);
            state.runners -= 1;
            let start = state.runners < state.limit && !state.queue.is_empty();
            state.runners += usize::from(start);
            start
        };
        if start {
            self.start_runners(1);
        }
    }
}

/// A permit at work: takes the view's tasks off its queue and runs them.
struct Runner {
    view: Arc<Shared>,
    /// Set by whichever of `run` and `abort` comes first: a runner job in
    /// the pool's queues acts once.
    taken: AtomicBool,
    /// It waited in the timer for a rate token it holds now.
    token: bool,
}

impl Runner {
    fn new(view: Arc<Shared>, token: bool) -> Runner {
        Runner {
            view,
            taken: AtomicBool::new(false),
            token,
        }
    }
}

/// What a runner does next.
enum Step {
    Run(Entry),
    /// Wait in the timer for a token due then.
    WaitFor(Instant),
    Retire,
}

impl Runnable for Runner {
    fn run(self: Arc<Self>, _ctx: &RunCtx<'_>) -> Ran {
        if self.taken.swap(true, Ordering::Relaxed) {
            return Ran::Skipped;
        }
        let view = &self.view;
        let registry = &view.registry;
        registry
            .views
            .runners_queued
            .fetch_sub(1, Ordering::Relaxed);
        let Some(ctx) = worker::current_of(registry) else {
            // Runners are run only by the pool's workers; if not, hand on.
            view.start_runners(1);
            view.retire_runner();
            return Ran::Skipped;
        };
        let id = view.id();
        let mut token = self.token;
        for _ in 0..RUNNER_BATCH {
            let step = {
                let mut state = lock_std(&view.state);
                if state.runners > state.limit || state.queue.is_empty() {
                    // The limit was lowered, or nothing is left to run.
                    state.runners -= 1;
                    Step::Retire
                } else {
                    let now = Instant::now();
                    let wait = match (&mut state.bucket, token) {
                        (Some(bucket), false) => Some(bucket.reserve(now)).filter(|&at| at > now),
                        _ => None,
                    };
                    token = false;
                    match wait {
                        Some(at) => Step::WaitFor(at),
                        None => match state.queue.pop_front() {
                            Some(job) => Step::Run(job),
                            None => unreachable!("the queue was not empty"),
                        },
                    }
                }
            };
            match step {
                Step::Retire => return Ran::Skipped,
                Step::WaitFor(at) => {
                    // The permit waits with the token, in the timer: no
                    // worker is held meanwhile.
                    registry
                        .views
                        .runners_queued
                        .fetch_add(1, Ordering::Relaxed);
                    let next = Runner::new(Arc::clone(view), true);
                    registry.timer.schedule_internal(
                        registry,
                        Deadline::At(at),
                        Job::Task(Arc::new(next)),
                    );
                    return Ran::Skipped;
                }
                Step::Run(Entry { job, permit }) => {
                    registry.views.queued.fetch_sub(1, Ordering::Relaxed);
                    // An async task takes this runner's permit for good
                    // (until its done callback gives it back), unless it
                    // is done already (cancelled): then the runner keeps
                    // it, and `execute` only counts the cancellation.
                    let hand_over = permit.as_ref().is_some_and(|p| {
                        p.compare_exchange(
                            PERMIT_PENDING,
                            PERMIT_GRANTED,
                            Ordering::AcqRel,
                            Ordering::Acquire,
                        )
                        .is_ok()
                    });
                    let outer = view_counts::enter_view(id);
                    // `execute` counts the task, skips it if cancelled or
                    // claimed, and contains what it leaves behind.
                    ctx.execute(job);
                    view_counts::enter_view(outer);
                    if hand_over {
                        return Ran::Skipped;
                    }
                }
            }
        }
        // Give the worker back to the pool's other work; the permit moves
        // to the new runner.
        registry
            .views
            .runners_queued
            .fetch_add(1, Ordering::Relaxed);
        registry.schedule(Job::Task(Arc::new(Runner::new(Arc::clone(view), false))));
        Ran::Skipped
    }

    /// The pool will run no more queued work (shutdown with
    /// `cancel_futures`, broken, terminated): the view's queued tasks
    /// resolve to `refusal`. Returns false: a runner is no task, nothing
    /// to count.
    fn abort(&self, refusal: Refusal) -> bool {
        if self.taken.swap(true, Ordering::Relaxed) {
            return false;
        }
        let view = &self.view;
        let registry = &view.registry;
        registry
            .views
            .runners_queued
            .fetch_sub(1, Ordering::Relaxed);
        let jobs: Vec<Job> = {
            let mut state = lock_std(&view.state);
            state.runners -= 1;
            state.queue.drain(..).map(|entry| entry.job).collect()
        };
        registry
            .views
            .queued
            .fetch_sub(jobs.len(), Ordering::Relaxed);
        for job in jobs {
            registry.abort(&job, refusal);
        }
        false
    }

    fn snapshot(&self) -> Snapshot {
        // Queued until taken (so the timer fires one waiting for a token);
        // once aborted, shutdown's drain must not queue it again.
        if self.taken.load(Ordering::Relaxed) {
            Snapshot::new(Lifecycle::Complete)
        } else {
            Snapshot::new(Lifecycle::Scheduled)
        }
    }

    fn tally_cancelled(&self) -> bool {
        false
    }
}

/// A view of a pool that runs at most `limit` of its tasks at once:
/// Kotlin's `limitedParallelism(n)`, a `Semaphore` around each task without
/// a blocked thread per waiting task. Made by [`ThreadPoolExecutor::limited`].
///
/// Cheap to clone (clones are the same view, sharing its limit and queue).
/// Tasks beyond the limit wait in the view's own queue, holding no worker;
/// views of one pool are independent of each other and of plain
/// submissions. The limit can change at run time ([`set_limit`](Self::set_limit)).
///
/// Submitting works as on the pool: handles, cancellation, `map`, and
/// shutdown of the pool (queued tasks of the view run, or resolve to
/// `Cancelled` with `cancel_futures`; after shutdown submissions are
/// `Rejected`). A task of the view that waits for another task of the same
/// view still in its queue runs it inline on its own permit, so it cannot
/// deadlock, even with a limit of 1 (see the module docs).
///
/// It implements [`Executor`](crate::Executor) (and `AsyncExecutor` with
/// the `async` feature), so code written against the trait runs on a view
/// as on the pool.
///
/// ```
/// use std::sync::atomic::{AtomicUsize, Ordering};
/// use std::sync::Arc;
///
/// let pool = executor::ThreadPoolExecutor::builder().max_workers(8).build().unwrap();
/// let downloads = pool.limited(2); // at most 2 at once
/// let (now, peak) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
/// let handles: Vec<_> = (0..20)
///     .map(|_| {
///         let (now, peak) = (now.clone(), peak.clone());
///         downloads.submit(move || {
///             let n = now.fetch_add(1, Ordering::SeqCst) + 1;
///             peak.fetch_max(n, Ordering::SeqCst);
///             std::thread::sleep(std::time::Duration::from_millis(1));
///             now.fetch_sub(1, Ordering::SeqCst);
///         })
///     })
///     .collect();
/// handles.into_iter().for_each(|h| h.result().unwrap());
/// assert!(peak.load(Ordering::SeqCst) <= 2);
/// ```
#[derive(Clone)]
pub struct Limited {
    shared: Arc<Shared>,
}

impl ThreadPoolExecutor {
    /// A view of this pool running at most `limit` of its tasks at once;
    /// see [`Limited`].
    ///
    /// # Panics
    ///
    /// Panics if `limit` is zero.
    ///
    /// ```
    /// let pool = executor::ThreadPoolExecutor::new();
    /// let db = pool.limited(4);
    /// assert_eq!(db.submit(|| 1 + 1).result().unwrap(), 2);
    /// ```
    pub fn limited(&self, limit: usize) -> Limited {
        assert!(
            limit > 0,
            "ThreadPoolExecutor::limited: the limit must be at least 1"
        );
        Limited {
            shared: Arc::new(Shared {
                registry: Arc::clone(&self.registry),
                state: Mutex::new(ViewState {
                    queue: VecDeque::new(),
                    runners: 0,
                    limit,
                    bucket: None,
                }),
            }),
        }
    }

    /// A view of this pool that starts at most `n` tasks per `per`, for
    /// API clients: a token bucket holding up to `n` tokens (a burst of `n`
    /// after an idle spell, then one every `per / n`), with no limit on
    /// how many run at once. The same [`Limited`] view as
    /// [`limited`](Self::limited) with [`with_rate`](Limited::with_rate);
    /// cap concurrency as well with `pool.limited(k).with_rate(n, per)`.
    ///
    /// # Panics
    ///
    /// Panics if `n` is zero or `per` is zero.
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let pool = executor::ThreadPoolExecutor::new();
    /// let api = pool.rate_limited(100, Duration::from_secs(1));
    /// assert_eq!(api.submit(|| "ok").result().unwrap(), "ok");
    /// ```
    pub fn rate_limited(&self, n: u32, per: Duration) -> Limited {
        self.limited(usize::MAX).with_rate(n, per)
    }
}

impl Limited {
    /// Runs `f` as a task of this view: on one of the pool's workers once
    /// fewer than `limit` of the view's tasks run. Like
    /// [`ThreadPoolExecutor::submit`], the handle is already `Rejected`
    /// after shutdown (`Broken` if the pool broke).
    ///
    /// ```
    /// let pool = executor::ThreadPoolExecutor::new();
    /// let view = pool.limited(1);
    /// assert_eq!(view.submit(|| 6 * 7).result().unwrap(), 42);
    /// ```
    pub fn submit<F, T>(&self, f: F) -> TaskHandle<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        self.submit_or_resolve(None, f)
    }

    /// Like [`submit`](Self::submit), naming the task for panic messages.
    ///
    /// ```
    /// let pool = executor::ThreadPoolExecutor::new();
    /// let err = pool.limited(1).submit_named("fetch", || panic!("404")).result().unwrap_err();
    /// assert_eq!(err.to_string(), "task 'fetch' panicked: 404");
    /// ```
    pub fn submit_named<F, T>(&self, name: &'static str, f: F) -> TaskHandle<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        self.submit_or_resolve(Some(name), f)
    }

    /// Like [`submit`](Self::submit), but hands the closure back when the
    /// pool is shut down or broken. (The view's queue is unbounded: it
    /// never reports `Full`.)
    ///
    /// ```
    /// use executor::SubmitError;
    ///
    /// let pool = executor::ThreadPoolExecutor::new();
    /// let view = pool.limited(2);
    /// assert_eq!(view.try_submit(|| 1).unwrap().result().unwrap(), 1);
    /// pool.shutdown(true);
    /// assert!(matches!(view.try_submit(|| 1), Err(SubmitError::Shutdown(_))));
    /// ```
    pub fn try_submit<F, T>(&self, f: F) -> Result<TaskHandle<T>, SubmitError<F>>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        self.submit_inner(None, f)
    }

    fn submit_or_resolve<F, T>(&self, name: Option<&'static str>, f: F) -> TaskHandle<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        match self.submit_inner(name, f) {
            Ok(handle) => handle,
            Err(e) => {
                let refusal = match e {
                    SubmitError::Broken(_) => Refusal::Broken,
                    _ => Refusal::Rejected,
                };
                self.shared.registry.count_refused_at_once(refusal);
                TaskHandle::new(FnTask::<F, T>::resolved(refusal, name), 0)
            }
        }
    }

    fn submit_inner<F, T>(
        &self,
        name: Option<&'static str>,
        f: F,
    ) -> Result<TaskHandle<T>, SubmitError<F>>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let shared = &self.shared;
        let registry = &shared.registry;
        let state = registry.state();
        if state.is_broken() {
            return Err(SubmitError::Broken(f));
        }
        let inside = worker::is_worker_of(registry);
        // From inside the pool, accepted while a shutdown drains it (as
        // the pool's own submit is).
        if state.is_shutdown() && !inside {
            return Err(SubmitError::Shutdown(f));
        }
        let task = FnTask::new(f, name, None);
        // Claimable only by a thread running a task of this view.
        let handle = TaskHandle::new(task.clone(), shared.id());
        registry.count_submitted();
        let entry = Entry {
            job: Job::Task(task),
            permit: None,
        };
        shared.enqueue(entry, inside, |r| handle.abort(r));
        Ok(handle)
    }

    /// Runs an async task as a task of this view: it counts against the
    /// limit from its first poll until it finishes (parked on its waker or
    /// not), as a running task does. Otherwise as
    /// [`ThreadPoolExecutor::spawn`]: the handle is awaitable, cancellable
    /// before the first poll, and already `Rejected` after shutdown.
    ///
    /// ```
    /// let pool = executor::ThreadPoolExecutor::new();
    /// let view = pool.limited(2);
    /// let inner = view.submit(|| 20);
    /// let handle = view.spawn(async move { inner.await.unwrap() + 22 });
    /// assert_eq!(handle.result().unwrap(), 42);
    /// ```
    #[cfg(feature = "async")]
    #[cfg_attr(docsrs, doc(cfg(feature = "async")))]
    pub fn spawn<Fut>(&self, future: Fut) -> TaskHandle<Fut::Output>
    where
        Fut: Future + Send + 'static,
        Fut::Output: Send + 'static,
    {
        let shared = &self.shared;
        let registry = &shared.registry;
        let inside = worker::is_worker_of(registry);
        let refused = match registry.state().refusal() {
            Some(Refusal::Rejected) if inside => None,
            refused => refused,
        };
        if let Some(refusal) = refused {
            registry.count_refused_at_once(refusal);
            return TaskHandle::new(
                FnTask::<fn() -> Fut::Output, Fut::Output>::resolved(refusal, None),
                0,
            );
        }
        let live_key = registry.async_tasks.reserve();
        let schedule: Arc<dyn Schedule> = registry.clone();
        let task = AsyncTask::new(
            None,
            Lifecycle::Scheduled,
            None,
            Some(future),
            Arc::downgrade(&schedule),
            live_key,
        );
        let handle = TaskHandle::new(task.clone(), shared.id());
        registry.count_submitted();
        let live: Weak<dyn LiveTask> = Arc::downgrade(&task) as Weak<dyn LiveTask>;
        registry.async_tasks.fill(live_key, live);
        // The permit goes back when the task is done; a task cancelled
        // before any runner granted it one has none to give back.
        let permit = Arc::new(AtomicUsize::new(PERMIT_PENDING));
        let (view, p) = (Arc::clone(shared), Arc::clone(&permit));
        handle.add_done_callback(move |_| {
            if p.swap(PERMIT_DONE, Ordering::AcqRel) == PERMIT_GRANTED {
                view.release_permit();
            }
        });
        let entry = Entry {
            job: Job::Task(task),
            permit: Some(permit),
        };
        shared.enqueue(entry, inside, |r| handle.abort(r));
        handle
    }

    /// Maps `f` over `inputs` as tasks of this view, yielding results in
    /// input order: [`ThreadPoolExecutor::map`] with this view's limit (a
    /// chunk of items is one task, so at most `limit` items run at once;
    /// with a rate limit, each item is a task of its own, taking a token).
    ///
    /// ```
    /// let pool = executor::ThreadPoolExecutor::new();
    /// let view = pool.limited(2);
    /// let doubled: Vec<u32> = view.map(1..=4_u32, |x| x * 2).map(Result::unwrap).collect();
    /// assert_eq!(doubled, [2, 4, 6, 8]);
    /// ```
    pub fn map<'a, I, F, T>(&'a self, inputs: I, f: F) -> Map<'a, T>
    where
        I: IntoIterator,
        I::IntoIter: 'a,
        I::Item: Send + 'static,
        F: Fn(I::Item) -> T + Send + Sync + 'static,
        T: Send + 'static,
    {
        let rated = lock_std(&self.shared.state).bucket.is_some();
        // With a rate limit, one token per item: one item per task.
        let options = if rated {
            MapOptions::new().chunk_size(1)
        } else {
            MapOptions::new()
        };
        self.map_with(inputs, f, options)
    }

    /// [`map`](Self::map) with explicit [`MapOptions`].
    ///
    /// ```
    /// use executor::MapOptions;
    ///
    /// let pool = executor::ThreadPoolExecutor::new();
    /// let view = pool.limited(3);
    /// let out: Vec<u8> = view.map_with(0..5_u8, |x| x, MapOptions::new().chunk_size(1)).map(Result::unwrap).collect();
    /// assert_eq!(out, [0, 1, 2, 3, 4]);
    /// ```
    pub fn map_with<'a, I, F, T>(&'a self, inputs: I, f: F, options: MapOptions) -> Map<'a, T>
    where
        I: IntoIterator,
        I::IntoIter: 'a,
        I::Item: Send + 'static,
        F: Fn(I::Item) -> T + Send + Sync + 'static,
        T: Send + 'static,
    {
        let workers = self.limit().min(self.shared.registry.config.max_workers);
        let feed = ViewFeed {
            submit: move |task: Box<dyn FnOnce() -> _ + Send>| self.submit(task),
            inputs: inputs.into_iter(),
            f: Arc::new(f),
        };
        Map::new(Box::new(feed), options, workers)
    }

    /// Adds a rate limit: the view starts at most `n` tasks per `per` (a
    /// token bucket holding up to `n` tokens: a burst of `n` after an idle
    /// spell, then one every `per / n`), besides running at most
    /// [`limit`](Self::limit) at once.
    ///
    /// A runner takes a token before each task; when the next token is
    /// not due yet, the runner (and its permit) waits in the pool's timer
    /// until it is, holding no worker. So in any window of length `w` at
    /// most `burst + w / (per / n)` of the view's tasks start, each no
    /// earlier than its token. A token whose task was cancelled meanwhile
    /// is spent. At shutdown, tasks still waiting for a token resolve to
    /// `Cancelled`, as delayed tasks do.
    ///
    /// # Panics
    ///
    /// Panics if `n` is zero or `per` is zero.
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    ///
    /// let pool = executor::ThreadPoolExecutor::new();
    /// // At most 2 at once, and at most 100 starts per second, no burst.
    /// let api = pool.limited(2).with_rate(100, Duration::from_secs(1)).with_burst(1);
    /// let start = Instant::now();
    /// let handles: Vec<_> = (0..3).map(|_| api.submit(move || start.elapsed())).collect();
    /// let mut starts: Vec<Duration> = handles.into_iter().map(|h| h.result().unwrap()).collect();
    /// starts.sort();
    /// // One token every 10 ms: the third task starts 20 ms in or later.
    /// assert!(starts[2] >= Duration::from_millis(20));
    /// ```
    pub fn with_rate(self, n: u32, per: Duration) -> Self {
        assert!(n > 0, "Limited::with_rate: n must be at least 1");
        assert!(
            !per.is_zero(),
            "Limited::with_rate: the period must not be zero"
        );
        lock_std(&self.shared.state).bucket = Some(Bucket {
            interval: per / n,
            burst: n,
            tat: None,
        });
        self
    }

    /// Sets the rate limit's burst: how many tasks may start at once after
    /// an idle spell (the bucket's size); the rate stays the same.
    ///
    /// # Panics
    ///
    /// Panics if `burst` is zero, or if the view has no rate limit.
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let pool = executor::ThreadPoolExecutor::new();
    /// let api = pool.rate_limited(5, Duration::from_secs(1)).with_burst(2);
    /// assert_eq!(api.submit(|| 1).result().unwrap(), 1);
    /// ```
    pub fn with_burst(self, burst: u32) -> Self {
        assert!(
            burst > 0,
            "Limited::with_burst: the burst must be at least 1"
        );
        lock_std(&self.shared.state)
            .bucket
            .as_mut()
            .expect("Limited::with_burst: the view has no rate limit (call with_rate first)")
            .burst = burst;
        self
    }

    /// Changes the limit. Raising it starts queued tasks at once; lowering
    /// it lets running tasks finish and starts no new one until fewer than
    /// the new limit run.
    ///
    /// # Panics
    ///
    /// Panics if `limit` is zero.
    ///
    /// ```
    /// let pool = executor::ThreadPoolExecutor::new();
    /// let view = pool.limited(1);
    /// view.set_limit(8);
    /// assert_eq!(view.limit(), 8);
    /// ```
    pub fn set_limit(&self, limit: usize) {
        assert!(
            limit > 0,
            "Limited::set_limit: the limit must be at least 1"
        );
        let start = {
            let mut state = lock_std(&self.shared.state);
            state.limit = limit;
            let start = limit.saturating_sub(state.runners).min(state.queue.len());
            state.runners += start;
            start
        };
        self.shared.start_runners(start);
    }

    /// The current limit (`usize::MAX` for a view made by
    /// [`ThreadPoolExecutor::rate_limited`], which limits only the rate).
    pub fn limit(&self) -> usize {
        lock_std(&self.shared.state).limit
    }

    /// Tasks of this view waiting in its queue (cancelled ones until a
    /// runner discards them).
    ///
    /// ```
    /// let pool = executor::ThreadPoolExecutor::new();
    /// assert_eq!(pool.limited(1).queued(), 0);
    /// ```
    pub fn queued(&self) -> usize {
        lock_std(&self.shared.state).queue.len()
    }
}

impl fmt::Debug for Limited {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = lock_std(&self.shared.state);
        f.debug_struct("Limited")
            .field("limit", &state.limit)
            .field("running", &state.runners)
            .field("queued", &state.queue.len())
            .field("rate", &state.bucket)
            .finish()
    }
}

/// A `map` feed that submits each chunk through a view.
struct ViewFeed<S, I, F> {
    submit: S,
    inputs: I,
    f: Arc<F>,
}

type ChunkFn<T> = Box<dyn FnOnce() -> crate::map::Chunk<T> + Send>;

impl<'a, S, I, F, T> Feed<'a, T> for ViewFeed<S, I, F>
where
    S: FnMut(ChunkFn<T>) -> TaskHandle<crate::map::Chunk<T>>,
    I: Iterator,
    I::Item: Send + 'static,
    F: Fn(I::Item) -> T + Send + Sync + 'static,
    T: Send + 'static,
{
    fn submit_chunk(
        &mut self,
        n: usize,
        abandoned: &Arc<AtomicBool>,
    ) -> Option<(ChunkHandle<'a, T>, usize)> {
        let items = take_chunk(&mut self.inputs, n)?;
        let len = items.len();
        let task = chunk_task(items, &self.f, abandoned);
        Some((ChunkHandle::Pool((self.submit)(Box::new(task))), len))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.inputs.size_hint()
    }
}

/// A token bucket as a schedule: each task is given the earliest start
/// that keeps the bucket's promise (the generic cell rate algorithm).
#[derive(Debug)]
struct Bucket {
    /// One token every `interval`.
    interval: Duration,
    /// Tokens the bucket holds when full: the largest burst.
    burst: u32,
    /// The theoretical arrival time: when the bucket would be full again
    /// had every reserved start happened. `None` before the first.
    tat: Option<Instant>,
}

impl Bucket {
    /// Reserves a token for a task submitted at `now`; returns its start.
    fn reserve(&mut self, now: Instant) -> Instant {
        let tolerance = self.interval * (self.burst - 1);
        let tat = self.tat.map_or(now, |t| t.max(now));
        let start = tat.checked_sub(tolerance).map_or(now, |t| t.max(now));
        self.tat = Some(tat.max(start) + self.interval);
        start
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn the_bucket_allows_a_burst_then_one_per_interval() {
        let t0 = Instant::now();
        let ms = Duration::from_millis;
        let mut bucket = Bucket {
            interval: ms(10),
            burst: 3,
            tat: None,
        };
        let starts: Vec<Duration> = (0..6).map(|_| bucket.reserve(t0) - t0).collect();
        assert_eq!(starts, [ms(0), ms(0), ms(0), ms(10), ms(20), ms(30)]);
        // After a long idle spell the bucket is full again.
        let later = t0 + ms(1000);
        let starts: Vec<Duration> = (0..4).map(|_| bucket.reserve(later) - later).collect();
        assert_eq!(starts, [ms(0), ms(0), ms(0), ms(10)]);
    }
}
