//! `pool.scope(|s| …)`: tasks that borrow from the caller's stack, every one
//! joined before `scope` returns (`std::thread::scope` on pool workers).
//!
//! # How borrowing is made sound
//!
//! A scoped closure lives for `'scope`, but the pool's queues hold
//! `'static` jobs, so [`Scope::submit`] erases the closure's lifetime. That
//! is sound because of three invariants, kept here and nowhere else:
//!
//! 1. Every job carries a [`Token`] that decrements the scope's `pending`
//!    count when dropped, and the token is the *last* field of the job: the
//!    closure, its captures and its output slot are gone before the count
//!    moves (fields drop in declaration order, also while unwinding). The
//!    job is dropped exactly once whether it runs, is cancelled, rejected or
//!    drained by a shutdown.
//! 2. `scope` does not return, normally or by unwinding, before `pending`
//!    is zero: the body runs under `catch_unwind` and the join comes before
//!    any panic is resumed.
//! 3. Nothing with the `'scope` lifetime escapes: handles and maps carry
//!    `'scope`, which the higher-ranked closure bound keeps out of `R`.

use std::any::Any;
use std::fmt;
use std::marker::PhantomData;
use std::panic;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, Thread};
use std::time::Duration;

use crate::deadline::Deadline;
use crate::error::{Panic, Refusal, TaskError};
use crate::handle::TaskHandle;
use crate::map::{Chunk, ChunkHandle, Feed, Map, MapOptions, PendingChunk};
use crate::pool::ThreadPoolExecutor;
use crate::scheduler::blocking::{self, Awaited};
use crate::scheduler::worker;
use crate::sync::lock_std as lock;
use crate::task::{Job, QueuedJobs};
use crate::unwind;

/// What the scope's owner and its jobs share.
struct ScopeState {
    /// Jobs submitted and not yet dropped (see invariant 1).
    pending: AtomicUsize,
    /// The thread that called `scope`: unparked when `pending` reaches zero.
    owner: Thread,
    /// The first panic of a task whose handle did not take it.
    panic: Mutex<Option<Box<dyn Any + Send + 'static>>>,
    /// The scope's tasks that may still be queued, for an owner that is a
    /// worker of the pool to run when it joins (`None` for other owners,
    /// who never run tasks).
    claims: Option<Mutex<QueuedJobs>>,
}

impl ScopeState {
    fn record_panic(&self, payload: Box<dyn Any + Send + 'static>) {
        let mut first = lock(&self.panic);
        if first.is_none() {
            *first = Some(payload);
        }
    }

    fn all_done(&self) -> bool {
        // Acquire: pairs with the AcqRel decrement in `Token::drop`, so
        // every write a task made is visible once the count reads zero.
        self.pending.load(Ordering::Acquire) == 0
    }

    /// Remembers a task just queued, for the owner to claim.
    fn record(&self, job: Option<Job>) {
        let (Some(claims), Some(job)) = (&self.claims, job) else {
            return;
        };
        lock(claims).push(job);
    }

    /// Blocks until every job is dropped. On a worker thread it runs the
    /// scope's own queued tasks meanwhile (newest first), and nothing else.
    fn join_all(&self) {
        blocking::wait_until(self, Deadline::Never);
        if let Some(claims) = &self.claims {
            lock(claims).clear();
        }
    }
}

impl Awaited for ScopeState {
    fn is_ready(&self) -> bool {
        self.all_done()
    }

    fn register(&self) -> bool {
        // The last token always unparks `owner`, the thread that joins.
        !self.all_done()
    }

    fn deregister(&self) {}

    fn claim(&self, _pool: usize) -> Option<Job> {
        lock(self.claims.as_ref()?).pop_queued()
    }
}

/// Held by each job; dropping it is the job's last act (invariant 1).
struct Token(Arc<ScopeState>);

impl Drop for Token {
    fn drop(&mut self) {
        // The `Arc` keeps the state alive past the decrement, so reading
        // `owner` afterwards is fine even if the scope returns meanwhile.
        // AcqRel: releases the job's writes to the owner's Acquire load.
        if self.0.pending.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.0.owner.unpark();
        }
    }
}

/// Where a scoped task leaves its result for its handle.
struct OutputSlot<T> {
    state: Mutex<OutputState<T>>,
}

struct OutputState<T> {
    output: Option<Result<T, Panic>>,
    /// The handle was dropped: a panic must go to the scope instead.
    orphaned: bool,
}

/// One scoped job. Field order is load-bearing: `_token` must stay last.
struct ScopedJob<F, T> {
    func: Option<F>,
    slot: Arc<OutputSlot<T>>,
    scope: Arc<ScopeState>,
    /// Never read: held only to be dropped after everything above.
    _token: Token,
}

impl<F: FnOnce() -> T, T> ScopedJob<F, T> {
    fn run(mut self) {
        let func = self.func.take().expect("a scoped job runs once");
        let output = unwind::catch(func);
        let mut state = lock(&self.slot.state);
        match output {
            Ok(value) if !state.orphaned => state.output = Some(Ok(value)),
            Err(payload) if !state.orphaned => {
                state.output = Some(Err(Panic::new(payload, None)));
            }
            Err(payload) => self.scope.record_panic(payload),
            Ok(_unwanted) => {} // dropped here, before the token
        }
        // `self` drops now: `slot`, then `_token` (invariant 1).
    }
}

/// The handle to a scoped task, from [`Scope::submit`]: like
/// [`TaskHandle`], but it cannot outlive the scope.
///
/// A task that panics hands the panic to its handle's
/// [`result`](Self::result); if the handle is dropped without taking it,
/// `scope` re-raises it once every task has been joined.
///
/// ```
/// let pool = executor::ThreadPoolExecutor::new();
/// let words = vec!["kiwi", "banana", "fig"];
/// let longest = pool.scope(|s| {
///     let handle = s.submit(|| words.iter().copied().max_by_key(|w| w.len()));
///     handle.result().unwrap() // borrows `words`: `T` may, in a scope
/// });
/// assert_eq!(longest, Some("banana"));
/// ```
pub struct ScopedHandle<'scope, T> {
    inner: TaskHandle<()>,
    slot: Arc<OutputSlot<T>>,
    scope: Arc<ScopeState>,
    _scope: PhantomData<&'scope ()>,
}

impl<T> ScopedHandle<'_, T> {
    /// The task's id, unique among the tasks alive in the process (as
    /// [`TaskHandle::id`]).
    ///
    /// ```
    /// let pool = executor::ThreadPoolExecutor::new();
    /// pool.scope(|s| {
    ///     let a = s.submit(|| 1);
    ///     let b = s.submit(|| 2);
    ///     assert_ne!(a.id(), b.id());
    /// });
    /// ```
    pub fn id(&self) -> crate::TaskId {
        self.inner.id()
    }

    /// The pool task that runs this scoped task.
    pub(crate) fn inner(&self) -> &TaskHandle<()> {
        &self.inner
    }

    /// True once the task is done (finished, panicked or cancelled).
    ///
    /// ```
    /// let pool = executor::ThreadPoolExecutor::new();
    /// pool.scope(|s| {
    ///     let handle = s.submit(|| 1);
    ///     handle.wait();
    ///     assert!(handle.done());
    /// });
    /// ```
    pub fn done(&self) -> bool {
        self.inner.done()
    }

    /// True while a worker runs the task.
    ///
    /// ```
    /// let pool = executor::ThreadPoolExecutor::new();
    /// let (tx, rx) = std::sync::mpsc::channel::<()>();
    /// pool.scope(|s| {
    ///     let handle = s.submit(move || rx.recv().unwrap());
    ///     while !handle.running() {
    ///         std::thread::yield_now();
    ///     }
    ///     tx.send(()).unwrap();
    ///     handle.wait();
    ///     assert!(!handle.running() && handle.done());
    /// });
    /// ```
    pub fn running(&self) -> bool {
        self.inner.running()
    }

    /// True if the task was cancelled (by [`cancel`](Self::cancel) or by
    /// `shutdown_with(_, true)`): it never ran.
    ///
    /// ```
    /// let pool = executor::ThreadPoolExecutor::builder().max_workers(1).build().unwrap();
    /// let (tx, rx) = std::sync::mpsc::channel::<()>();
    /// pool.scope(|s| {
    ///     let blocker = s.submit(move || rx.recv().unwrap());
    ///     let queued = s.submit(|| 1);
    ///     assert!(queued.cancel() && queued.cancelled());
    ///     tx.send(()).unwrap();
    ///     blocker.wait();
    /// });
    /// ```
    pub fn cancelled(&self) -> bool {
        self.inner.cancelled()
    }

    /// Blocks until the task is done or `timeout` passes; returns whether
    /// it is done (see [`TaskHandle::wait_timeout`]).
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let pool = executor::ThreadPoolExecutor::new();
    /// let (tx, rx) = std::sync::mpsc::channel::<()>();
    /// pool.scope(|s| {
    ///     let handle = s.submit(move || rx.recv().unwrap());
    ///     assert!(!handle.wait_timeout(Duration::from_millis(5)));
    ///     tx.send(()).unwrap();
    ///     assert!(handle.wait_timeout(Duration::MAX));
    /// });
    /// ```
    pub fn wait_timeout(&self, timeout: Duration) -> bool {
        self.inner.wait_timeout(timeout)
    }

    /// Like [`result`](Self::result) but gives up after `timeout`, handing
    /// the handle back (see [`TaskHandle::result_timeout`]).
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let pool = executor::ThreadPoolExecutor::new();
    /// let (tx, rx) = std::sync::mpsc::channel::<u32>();
    /// let got = pool.scope(|s| {
    ///     let handle = s.submit(move || rx.recv().unwrap() + 1);
    ///     let handle = handle.result_timeout(Duration::from_millis(5)).unwrap_err();
    ///     tx.send(41).unwrap();
    ///     handle.result_timeout(Duration::MAX).ok().unwrap()
    /// });
    /// assert_eq!(got.unwrap(), 42);
    /// ```
    pub fn result_timeout(self, timeout: Duration) -> Result<Result<T, TaskError>, Self> {
        if self.wait_timeout(timeout) {
            Ok(self.result())
        } else {
            Err(self)
        }
    }

    /// Blocks until the task is done; on a worker thread it runs the task
    /// itself if it is still queued, as [`TaskHandle::wait`] does.
    ///
    /// ```
    /// let pool = executor::ThreadPoolExecutor::new();
    /// let mut total = 0;
    /// pool.scope(|s| {
    ///     let handle = s.submit(|| total += 5);
    ///     handle.wait();
    /// });
    /// assert_eq!(total, 5);
    /// ```
    pub fn wait(&self) {
        self.inner.wait();
    }

    /// Cancels the task if it has not started; returns whether it is now
    /// cancelled. A cancelled task never runs.
    ///
    /// ```
    /// let pool = executor::ThreadPoolExecutor::builder().max_workers(1).build().unwrap();
    /// let (tx, rx) = std::sync::mpsc::channel::<()>();
    /// pool.scope(|s| {
    ///     let blocker = s.submit(move || rx.recv().unwrap());
    ///     let queued = s.submit(|| unreachable!("cancelled tasks never run"));
    ///     assert!(queued.cancel());
    ///     tx.send(()).unwrap();
    ///     blocker.result().unwrap();
    ///     assert!(queued.result().unwrap_err().is_cancelled());
    /// });
    /// ```
    pub fn cancel(&self) -> bool {
        self.inner.cancel()
    }

    /// Blocks until the task is done and returns its value, or why there is
    /// none. Taking a panic here means `scope` will not re-raise it.
    ///
    /// ```
    /// let pool = executor::ThreadPoolExecutor::new();
    /// let data = [1, 2, 3];
    /// pool.scope(|s| {
    ///     let sum = s.submit(|| data.iter().sum::<i32>());
    ///     let bad = s.submit(|| -> i32 { panic!("no") });
    ///     assert_eq!(sum.result().unwrap(), 6);
    ///     assert!(bad.result().unwrap_err().is_panic()); // handled: scope returns normally
    /// });
    /// ```
    pub fn result(self) -> Result<T, TaskError> {
        self.inner.wait();
        // A job that ran filled the slot before its inner task turned done.
        if let Some(output) = lock(&self.slot.state).output.take() {
            return output.map_err(TaskError::Panicked);
        }
        // It never ran: its closure was dropped unrun.
        let refusal = self.inner.outcome().and_then(Refusal::of);
        Err(refusal.unwrap_or(Refusal::Cancelled).error())
    }
}

impl<T> PendingChunk<T> for ScopedHandle<'_, Chunk<T>> {
    fn result(self: Box<Self>) -> Result<Chunk<T>, TaskError> {
        ScopedHandle::result(*self)
    }

    fn cancel(&self) -> bool {
        ScopedHandle::cancel(self)
    }
}

impl<T> Drop for ScopedHandle<'_, T> {
    fn drop(&mut self) {
        let mut state = lock(&self.slot.state);
        state.orphaned = true;
        if let Some(Err(panic)) = state.output.take() {
            self.scope.record_panic(panic.into_payload());
        }
    }
}

impl<T> fmt::Debug for ScopedHandle<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ScopedHandle").field(&self.inner).finish()
    }
}

/// The scope handed to the closure of [`ThreadPoolExecutor::scope`]:
/// submit tasks that borrow anything that outlives the `scope` call.
///
/// ```
/// let pool = executor::ThreadPoolExecutor::new();
/// let mut counts = [0_usize; 3];
/// let text = "a scoped task may borrow the caller's stack";
/// pool.scope(|s| {
///     let [words, letters, spaces] = &mut counts;
///     s.submit(|| *words = text.split(' ').count());
///     s.submit(|| *letters = text.chars().filter(|c| c.is_alphabetic()).count());
///     s.submit(|| *spaces = text.matches(' ').count());
/// });
/// assert_eq!(counts, [8, 35, 7]);
/// ```
///
/// Nothing tied to the scope can leave it:
///
/// ```compile_fail
/// let pool = executor::ThreadPoolExecutor::new();
/// let escaped = pool.scope(|s| s.submit(|| 1)); // error: borrowed data escapes
/// ```
///
/// and tasks still run on other threads, so what they capture must be `Send`:
///
/// ```compile_fail
/// let pool = executor::ThreadPoolExecutor::new();
/// let rc = std::rc::Rc::new(1);
/// pool.scope(|s| {
///     s.submit(|| *rc + 1); // error: `Rc` cannot be shared between threads
/// });
/// ```
pub struct Scope<'scope, 'env: 'scope> {
    pool: &'scope ThreadPoolExecutor,
    state: Arc<ScopeState>,
    /// Invariant in both lifetimes, as `std::thread::Scope` is.
    scope: PhantomData<&'scope mut &'scope ()>,
    env: PhantomData<&'env mut &'env ()>,
}

impl<'scope, 'env> Scope<'scope, 'env> {
    /// The pool the scope's tasks run on.
    pub(crate) fn pool(&self) -> &'scope ThreadPoolExecutor {
        self.pool
    }

    /// Submits `f` to the pool. It may borrow anything that outlives the
    /// scope (and even the scope itself, to submit more tasks); `scope`
    /// joins it before returning.
    ///
    /// ```
    /// let pool = executor::ThreadPoolExecutor::new();
    /// let numbers: Vec<u64> = (1..=100).collect();
    /// let (left, right) = numbers.split_at(50);
    /// let total = pool.scope(|s| {
    ///     let a = s.submit(|| left.iter().sum::<u64>());
    ///     let b = s.submit(|| right.iter().sum::<u64>());
    ///     a.result().unwrap() + b.result().unwrap()
    /// });
    /// assert_eq!(total, 5050);
    /// ```
    pub fn submit<F, T>(&'scope self, f: F) -> ScopedHandle<'scope, T>
    where
        F: FnOnce() -> T + Send + 'scope,
        T: Send + 'scope,
    {
        self.submit_stoppable(f, None)
    }

    /// [`submit`](Self::submit) with a [`CancelToken`](crate::CancelToken)
    /// for the task, as [`ThreadPoolExecutor::submit_with_token`](crate::ThreadPoolExecutor::submit_with_token): the
    /// handle's [`cancel`](ScopedHandle::cancel) asks a started task to
    /// stop through it.
    ///
    /// ```
    /// let pool = executor::ThreadPoolExecutor::new();
    /// let limit = 1_000_000_u64;
    /// pool.scope(|s| {
    ///     let counter = s.submit_with_token(|token| {
    ///         (0..limit).take_while(|_| !token.is_cancelled()).count()
    ///     });
    ///     counter.cancel(); // never ran, or asked to stop
    ///     let _ = counter.result();
    /// });
    /// ```
    pub fn submit_with_token<F, T>(&'scope self, f: F) -> ScopedHandle<'scope, T>
    where
        F: FnOnce(crate::CancelToken) -> T + Send + 'scope,
        T: Send + 'scope,
    {
        let token = crate::CancelToken::new();
        let for_task = token.clone();
        self.submit_stoppable(move || f(for_task), Some(token))
    }

    /// `submit`, with the task's token if it has one.
    pub(crate) fn submit_stoppable<F, T>(
        &'scope self,
        f: F,
        token: Option<crate::CancelToken>,
    ) -> ScopedHandle<'scope, T>
    where
        F: FnOnce() -> T + Send + 'scope,
        T: Send + 'scope,
    {
        let slot = Arc::new(OutputSlot {
            state: Mutex::new(OutputState {
                output: None,
                orphaned: false,
            }),
        });
        // Relaxed: the count cannot be zero-and-observed meanwhile. The
        // owner only waits after the body returned, and a task submitting
        // from inside holds its own count until after this increment.
        self.state.pending.fetch_add(1, Ordering::Relaxed);
        let job = ScopedJob {
            func: Some(f),
            slot: Arc::clone(&slot),
            scope: Arc::clone(&self.state),
            _token: Token(Arc::clone(&self.state)),
        };
        let body: Box<dyn FnOnce() + Send + 'scope> = Box::new(move || job.run());
        // SAFETY: only the lifetime bound of the trait object changes (same
        // layout: a box of the same closure with the same vtable). The box
        // is used past `'scope` by nobody: (1) the job inside it decrements
        // `pending` only after its closure, captures and output are gone,
        // whichever way it ends (invariant 1 in the module docs); (2) the
        // scope waits for `pending == 0` before it returns or unwinds
        // (invariant 2); (3) what remains of the box after that is a heap
        // allocation and a `'static` vtable, which borrow nothing.
        let body = unsafe {
            std::mem::transmute::<
                Box<dyn FnOnce() + Send + 'scope>,
                Box<dyn FnOnce() + Send + 'static>,
            >(body)
        };
        let inner = match token {
            None => self.pool.submit(body),
            Some(token) => self
                .pool
                .submit_with_given_token(None, token, move |_| body()),
        };
        self.state.record(inner.claimable(self.pool.registry.id()));
        ScopedHandle {
            inner,
            slot,
            scope: Arc::clone(&self.state),
            _scope: PhantomData,
        }
    }

    /// [`ThreadPoolExecutor::map`] for borrowed inputs and closures: the
    /// results in input order, every chunk joined by the scope.
    ///
    /// ```
    /// let pool = executor::ThreadPoolExecutor::new();
    /// let names = vec![String::from("ada"), String::from("grace")];
    /// let suffix = String::from("!");
    /// let shouted: Vec<String> = pool.scope(|s| {
    ///     s.map(&names, |n| n.to_uppercase() + &suffix)
    ///         .map(Result::unwrap)
    ///         .collect()
    /// });
    /// assert_eq!(shouted, ["ADA!", "GRACE!"]);
    /// ```
    pub fn map<I, F, T>(&'scope self, inputs: I, f: F) -> Map<'scope, T>
    where
        I: IntoIterator,
        I::IntoIter: 'scope,
        I::Item: Send + 'scope,
        F: Fn(I::Item) -> T + Send + Sync + 'scope,
        T: Send + 'scope,
    {
        self.map_with(inputs, f, MapOptions::new())
    }

    /// [`Scope::map`] with a window and chunk size (see [`MapOptions`]).
    ///
    /// ```
    /// use executor::MapOptions;
    ///
    /// let pool = executor::ThreadPoolExecutor::new();
    /// let base = 100;
    /// let out: Vec<i32> = pool.scope(|s| {
    ///     s.map_with(0..10, |x| x + base, MapOptions::new().window(4))
    ///         .map(Result::unwrap)
    ///         .collect()
    /// });
    /// assert_eq!(out, (100..110).collect::<Vec<_>>());
    /// ```
    pub fn map_with<I, F, T>(&'scope self, inputs: I, f: F, options: MapOptions) -> Map<'scope, T>
    where
        I: IntoIterator,
        I::IntoIter: 'scope,
        I::Item: Send + 'scope,
        F: Fn(I::Item) -> T + Send + Sync + 'scope,
        T: Send + 'scope,
    {
        let feed = ScopeFeed {
            scope: self,
            inputs: inputs.into_iter(),
            f: Arc::new(f),
        };
        Map::new(Box::new(feed), options, self.pool.max_workers())
    }
}

impl fmt::Debug for Scope<'_, '_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Scope")
            .field("pending", &self.state.pending.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

/// Feeds a scoped [`Map`]: every chunk is a scoped task.
struct ScopeFeed<'scope, 'env, I, F> {
    scope: &'scope Scope<'scope, 'env>,
    inputs: I,
    f: Arc<F>,
}

impl<'scope, I, F, T> Feed<'scope, T> for ScopeFeed<'scope, '_, I, F>
where
    I: Iterator,
    I::Item: Send + 'scope,
    F: Fn(I::Item) -> T + Send + Sync + 'scope,
    T: Send + 'scope,
{
    fn submit_chunk(
        &mut self,
        n: usize,
        abandoned: &Arc<std::sync::atomic::AtomicBool>,
    ) -> Option<(ChunkHandle<'scope, T>, usize)> {
        let items = crate::map::take_chunk(&mut self.inputs, n)?;
        let len = items.len();
        let task = crate::map::chunk_task(items, &self.f, abandoned);
        Some((ChunkHandle::Other(Box::new(self.scope.submit(task))), len))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.inputs.size_hint()
    }
}

impl ThreadPoolExecutor {
    /// Runs `f` with a [`Scope`] whose tasks may borrow from the caller's
    /// stack; returns once every task submitted in it has finished (or was
    /// cancelled), like `std::thread::scope`.
    ///
    /// If `f` panics, or a task panics and its handle did not take the
    /// panic with [`ScopedHandle::result`], `scope` still joins every task
    /// first, then re-raises the first such panic (`f`'s own first).
    /// Called on a worker of this pool, it runs the scope's own tasks that
    /// are still queued while it waits (never any other task), so it cannot
    /// deadlock, even with one worker.
    ///
    /// ```
    /// let pool = executor::ThreadPoolExecutor::new();
    /// let mut data = vec![1, 2, 3, 4, 5, 6];
    /// pool.scope(|s| {
    ///     for chunk in data.chunks_mut(2) {
    ///         s.submit(move || chunk.iter_mut().for_each(|x| *x *= 10));
    ///     }
    /// });
    /// assert_eq!(data, [10, 20, 30, 40, 50, 60]);
    /// ```
    ///
    /// A panic is re-raised after every task was joined:
    ///
    /// ```
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    ///
    /// let pool = executor::ThreadPoolExecutor::new();
    /// let finished = AtomicUsize::new(0);
    /// let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
    ///     pool.scope(|s| {
    ///         s.submit(|| panic!("task failed"));
    ///         for _ in 0..4 {
    ///             s.submit(|| finished.fetch_add(1, Ordering::SeqCst));
    ///         }
    ///     })
    /// }));
    /// assert_eq!(*caught.unwrap_err().downcast::<&str>().unwrap(), "task failed");
    /// assert_eq!(finished.load(Ordering::SeqCst), 4);
    /// ```
    pub fn scope<'env, F, R>(&self, f: F) -> R
    where
        F: for<'scope> FnOnce(&'scope Scope<'scope, 'env>) -> R,
    {
        let scope = Scope {
            pool: self,
            state: Arc::new(ScopeState {
                pending: AtomicUsize::new(0),
                owner: thread::current(),
                panic: Mutex::new(None),
                claims: worker::is_worker_of(&self.registry).then(Mutex::default),
            }),
            scope: PhantomData,
            env: PhantomData,
        };
        let result = unwind::catch(|| f(&scope));
        // Invariant 2: no return and no unwinding before every job is gone.
        scope.state.join_all();
        match result {
            Err(payload) => panic::resume_unwind(payload),
            Ok(value) => {
                if let Some(payload) = lock(&scope.state.panic).take() {
                    panic::resume_unwind(payload);
                }
                value
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::panic::AssertUnwindSafe;
    use std::sync::atomic::AtomicBool;
    use std::time::Duration;

    fn pool(workers: usize) -> ThreadPoolExecutor {
        ThreadPoolExecutor::builder()
            .max_workers(workers)
            .build()
            .unwrap()
    }

    #[test]
    fn tasks_see_and_mutate_the_stack() {
        let pool = pool(2);
        let mut slots = vec![0_u32; 16];
        pool.scope(|s| {
            for (i, slot) in slots.iter_mut().enumerate() {
                s.submit(move || *slot = i as u32 * 2);
            }
        });
        assert_eq!(slots, (0..16).map(|i| i * 2).collect::<Vec<_>>());
    }

    #[test]
    fn nested_submit_from_a_scoped_task() {
        let pool = pool(2);
        let hits = AtomicUsize::new(0);
        pool.scope(|s| {
            s.submit(|| {
                for _ in 0..8 {
                    s.submit(|| hits.fetch_add(1, Ordering::SeqCst));
                }
            });
        });
        assert_eq!(hits.load(Ordering::SeqCst), 8);
    }

    #[test]
    fn scope_inside_a_single_worker_task_does_not_deadlock() {
        let pool = Arc::new(pool(1));
        let inner = Arc::clone(&pool);
        let total = pool
            .submit(move || {
                let data: Vec<u64> = (1..=10).collect();
                inner.scope(|s| {
                    let handles: Vec<_> = data
                        .chunks(3)
                        .map(|c| s.submit(move || c.iter().sum::<u64>()))
                        .collect();
                    handles
                        .into_iter()
                        .map(|h| h.result().unwrap())
                        .sum::<u64>()
                })
            })
            .result()
            .unwrap();
        assert_eq!(total, 55);
    }

    #[test]
    fn body_panic_wins_and_tasks_are_joined() {
        let pool = pool(2);
        let ran = AtomicBool::new(false);
        let caught = panic::catch_unwind(AssertUnwindSafe(|| {
            pool.scope(|s| {
                s.submit(|| {
                    thread::sleep(Duration::from_millis(20));
                    ran.store(true, Ordering::SeqCst);
                });
                s.submit(|| panic!("task"));
                panic!("body");
            })
        }));
        assert_eq!(*caught.unwrap_err().downcast::<&str>().unwrap(), "body");
        assert!(ran.load(Ordering::SeqCst));
    }

    #[test]
    fn a_panic_taken_by_result_is_not_re_raised() {
        let pool = pool(2);
        let out = pool.scope(|s| s.submit(|| -> u8 { panic!("mine") }).result());
        assert_eq!(out.unwrap_err().into_panic().message(), Some("mine"));
    }

    #[test]
    fn a_panic_of_a_dropped_handle_is_re_raised() {
        let pool = pool(2);
        let caught = panic::catch_unwind(AssertUnwindSafe(|| {
            pool.scope(|s| {
                let handle = s.submit(|| -> u8 { panic!("orphan") });
                handle.wait();
                drop(handle);
            })
        }));
        assert_eq!(*caught.unwrap_err().downcast::<&str>().unwrap(), "orphan");
    }

    #[test]
    fn submit_after_shutdown_resolves_to_rejected_and_scope_returns() {
        let pool = pool(1);
        pool.shutdown(true);
        let local = 5;
        let err = pool.scope(|s| s.submit(|| local).result().unwrap_err());
        assert!(matches!(err, TaskError::Rejected));
    }
}
