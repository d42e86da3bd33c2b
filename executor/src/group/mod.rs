//! `TaskGroup`: structured tasks on a pool, with a join policy and an
//! optional limit on tasks in flight (Go's `errgroup` with `SetLimit`,
//! Java's `StructuredTaskScope`, Trio's nurseries).
//!
//! Each task runs with a child of the group's token, inside a wrapper that
//! tells the group how it ended *before* its handle resolves. The first
//! failure (an `Err` or a panic) or the first success, in the order the
//! group is told (the finishing order), is recorded under one lock; when
//! the policy says so, the group then cancels its token (reaching every
//! running task's token and, through the task's start gate, every task a
//! worker is about to start) and resolves its still-queued tasks to
//! `Cancelled`. A task starts only if its gate, right after the worker won
//! `SCHEDULED → RUNNING`, finds the group token not cancelled; so once the
//! group has cancelled, no task of it begins.
//!
//! The limit is a count of tasks in flight (submitted and not yet
//! resolved), taken before a task is submitted and given back by a done
//! callback on its handle, which runs however the task ends.
//!
//! [`ScopedTaskGroup`] (in `scoped.rs`) is the same group for tasks that
//! borrow, inside `pool.scope`: both are thin fronts over one [`Members`]
//! core, whose handles are pool handles or scoped handles.

use std::fmt;
use std::sync::Arc;

use crate::cancel::CancelToken;
use crate::deadline::Deadline;
use crate::error::{Refusal, TaskError};
use crate::handle::TaskHandle;
use crate::pool::ThreadPoolExecutor;
use crate::scheduler::blocking::{self, Awaited};
use crate::sync::{lock, thread, AtomicUsize, Mutex, Ordering};
use crate::task::TaskId;
use crate::task::{Job, QueuedJobs};
use crate::unwind;

mod scoped;

pub use self::scoped::ScopedTaskGroup;

/// When a [`TaskGroup`] cancels the rest of its tasks.
///
/// ```
/// use executor::GroupPolicy;
///
/// let pool = executor::ThreadPoolExecutor::new();
/// let mut all = pool.group::<u8, u8>(GroupPolicy::All);
/// all.submit(|| Err(1));
/// all.submit(|| Ok(2)); // runs despite the failure
/// assert_eq!(all.join_all().into_iter().filter(Result::is_ok).count(), 1);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum GroupPolicy {
    /// Never: every task runs to its end. Join with
    /// [`join_all`](TaskGroup::join_all) (every result) or
    /// [`join`](TaskGroup::join). Java's `Joiner.awaitAll`.
    All,
    /// The first failure (a task's `Err`, or a panic) cancels the others:
    /// Go's `errgroup.WithContext`, Java's `allSuccessfulOrThrow`. Join
    /// with [`join`](TaskGroup::join).
    FirstError,
    /// The first success cancels the others: Java's
    /// `anySuccessfulResultOrThrow`, a hedged request. Join with
    /// [`join_any`](TaskGroup::join_any).
    FirstSuccess,
}

/// Why a group's join has no value for a task.
#[derive(Debug)]
pub enum GroupError<E> {
    /// The task returned this error.
    Failed(E),
    /// The task has no value: it panicked, was cancelled (by the group,
    /// its handle or a shutdown), rejected or broken.
    Task(TaskError),
    /// [`join_any`](TaskGroup::join_any) on a group with no tasks.
    NoTasks,
}

impl<E> GroupError<E> {
    /// True if the task was cancelled (it never ran).
    ///
    /// ```
    /// use executor::GroupPolicy;
    ///
    /// let pool = executor::ThreadPoolExecutor::new();
    /// let mut group = pool.group::<(), ()>(GroupPolicy::All);
    /// group.cancel(); // before any task: none will start
    /// group.submit(|| Ok(()));
    /// assert!(group.join_all()[0].as_ref().unwrap_err().is_cancelled());
    /// ```
    pub fn is_cancelled(&self) -> bool {
        matches!(self, GroupError::Task(e) if e.is_cancelled())
    }
}

impl<E: fmt::Display> fmt::Display for GroupError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GroupError::Failed(e) => write!(f, "a task of the group failed: {e}"),
            GroupError::Task(e) => write!(f, "{e}"),
            GroupError::NoTasks => f.write_str("the group has no tasks"),
        }
    }
}

impl<E: std::error::Error + 'static> std::error::Error for GroupError<E> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            GroupError::Failed(e) => Some(e),
            GroupError::Task(e) => Some(e),
            GroupError::NoTasks => None,
        }
    }
}

/// A structured set of tasks on one pool: they share a cancellation, an
/// optional limit on how many are in flight, and a join.
///
/// Tasks return `Result<T, E>`. Under [`GroupPolicy::FirstError`] the
/// first task to fail (return `Err` or panic) cancels its siblings: their
/// tokens are cancelled, queued ones resolve to `Cancelled` without
/// running, and none starts afterwards. [`join`](Self::join) waits for
/// every task and returns all values in submission order, or that first
/// failure.
///
/// **Dropping** a group that was not joined cancels it (as above,
/// whatever its policy) and waits for its running tasks to return: no
/// task outlives its group unnoticed, and nothing leaks. (Java's
/// `StructuredTaskScope.close`, Trio's nursery on an exception.)
///
/// ```
/// use executor::{GroupError, GroupPolicy, ThreadPoolExecutor};
///
/// let pool = ThreadPoolExecutor::builder().max_workers(4).build().unwrap();
/// let mut group = pool.group(GroupPolicy::FirstError).limit(2);
/// for n in [1, 2, 0, 4] {
///     group.submit(move || if n == 0 { Err("zero") } else { Ok(10 / n) });
/// }
/// match group.join() {
///     Err(GroupError::Failed(e)) => assert_eq!(e, "zero"),
///     other => panic!("expected the failure, got {other:?}"),
/// }
/// ```
pub struct TaskGroup<'p, T, E> {
    pool: &'p ThreadPoolExecutor,
    members: Members<TaskHandle<Result<T, E>>>,
}

/// What the group and its tasks' wrappers share.
struct Shared {
    policy: GroupPolicy,
    token: CancelToken,
    /// The pool the tasks are queued on (`Registry::id`).
    pool: usize,
    firsts: Mutex<Firsts>,
    /// The queue sides of the tasks that may still be queued (pruned of
    /// started ones as it grows), to cancel or claim them; emptied when the
    /// group ends (a queued task's closure holds this `Shared`).
    jobs: Mutex<QueuedJobs>,
}

#[derive(Default)]
struct Firsts {
    failure: Option<usize>,
    success: Option<usize>,
}

impl Shared {
    /// Task `index` ended, well or not (called before its handle resolves).
    fn saw(&self, index: usize, success: bool) {
        let stop = {
            let mut firsts = lock(&self.firsts);
            let (first, policy) = if success {
                (&mut firsts.success, GroupPolicy::FirstSuccess)
            } else {
                (&mut firsts.failure, GroupPolicy::FirstError)
            };
            first.is_none() && {
                *first = Some(index);
                self.policy == policy
            }
        };
        if stop {
            self.stop();
        }
    }

    /// Cancels the group: every task's token, then every queued task.
    fn stop(&self) {
        self.token.cancel();
        let jobs: Vec<Job> = lock(&self.jobs).iter().filter_map(share).collect();
        for job in jobs {
            // False for those that started or ended: the token reaches them.
            let _ = job.abort(Refusal::Cancelled);
        }
    }
}

/// Another reference to a group task's queue side (a group holds only
/// heap tasks, never a `join`'s fork).
fn share(job: &Job) -> Option<Job> {
    match job {
        Job::Task(task) => Some(Job::Task(Arc::clone(task))),
        Job::Fork(_) => None,
    }
}

/// The limit on tasks in flight.
struct Limit {
    max: usize,
    in_flight: AtomicUsize,
    /// Threads waiting for a place.
    waiters: Mutex<Vec<thread::Thread>>,
}

impl Limit {
    fn try_acquire(&self) -> bool {
        // SeqCst: a waiter registers, then reads the count; `release`
        // lowers the count, then takes the waiters. One sees the other.
        self.in_flight
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                (n < self.max).then_some(n + 1)
            })
            .is_ok()
    }

    fn has_room(&self) -> bool {
        self.in_flight.load(Ordering::SeqCst) < self.max
    }

    fn release(&self) {
        self.in_flight.fetch_sub(1, Ordering::SeqCst);
        let waiters = std::mem::take(&mut *lock(&self.waiters));
        for t in waiters {
            t.unpark();
        }
    }
}

/// A submitter's wait for a place.
struct LimitWait<'a> {
    limit: &'a Limit,
    shared: &'a Shared,
}

impl Awaited for LimitWait<'_> {
    fn is_ready(&self) -> bool {
        self.limit.has_room()
    }

    fn register(&self) -> bool {
        let mut waiters = lock(&self.limit.waiters);
        // Under the lock that `release` takes after lowering the count.
        if self.limit.has_room() {
            return false;
        }
        let me = thread::current();
        if !waiters.iter().any(|t| t.id() == me.id()) {
            waiters.push(me);
        }
        true
    }

    fn deregister(&self) {
        let me = thread::current().id();
        lock(&self.limit.waiters).retain(|t| t.id() != me);
    }

    /// A place frees when a task of the group ends: a queued one may be
    /// run right here (a worker submitting to a full group on a one-worker
    /// pool would otherwise wait for a spare).
    fn claim(&self, pool: usize) -> Option<Job> {
        if pool != self.shared.pool {
            return None;
        }
        lock(&self.shared.jobs).pop_queued()
    }
}

/// A group member's handle: a pool task's or, in a scope, a scoped one's.
pub(crate) trait Member {
    type Output;
    /// The output type of the pool task under it.
    type Inner;
    /// The pool task under it: itself, or a scoped task's inner task.
    fn task(&self) -> &TaskHandle<Self::Inner>;
    fn wait(&self);
    fn into_result(self) -> Result<Self::Output, TaskError>;
}

impl<R> Member for TaskHandle<R> {
    type Output = R;
    type Inner = R;

    fn task(&self) -> &TaskHandle<R> {
        self
    }

    fn wait(&self) {
        TaskHandle::wait(self);
    }

    fn into_result(self) -> Result<R, TaskError> {
        self.result()
    }
}

/// What both kinds of group are made of: the shared state, the handles
/// in submission order, and the limit. Dropped with handles left (the
/// group was not joined), it cancels the group and waits for them.
pub(crate) struct Members<H: Member> {
    shared: Arc<Shared>,
    handles: Vec<H>,
    limit: Option<Arc<Limit>>,
}

impl<H: Member> Members<H> {
    /// No tasks yet, on the pool whose registry id is `pool`.
    pub(crate) fn new(policy: GroupPolicy, pool: usize) -> Self {
        Members {
            shared: Arc::new(Shared {
                policy,
                token: CancelToken::new(),
                pool,
                firsts: Mutex::new(Firsts::default()),
                jobs: Mutex::new(QueuedJobs::default()),
            }),
            handles: Vec::new(),
            limit: None,
        }
    }

    /// `caller` names the method in the panic messages.
    pub(crate) fn set_limit(&mut self, max: usize, caller: &str) {
        assert!(max > 0, "{caller}: the limit must be at least 1, got 0");
        assert!(
            self.handles.is_empty(),
            "{caller}: set the limit before submitting tasks"
        );
        self.limit = Some(Arc::new(Limit {
            max,
            in_flight: AtomicUsize::new(0),
            waiters: Mutex::new(Vec::new()),
        }));
    }

    pub(crate) fn token(&self) -> &CancelToken {
        &self.shared.token
    }

    pub(crate) fn cancel(&self) {
        self.shared.stop();
    }

    pub(crate) fn len(&self) -> usize {
        self.handles.len()
    }

    /// Waits until the group has room for one more task, and takes it.
    pub(crate) fn take_place(&self) {
        if let Some(limit) = &self.limit {
            while !limit.try_acquire() {
                let wait = LimitWait {
                    limit,
                    shared: &self.shared,
                };
                blocking::wait_until(&wait, Deadline::Never);
            }
        }
    }

    /// Takes a place if there is room now.
    pub(crate) fn try_take_place(&self) -> bool {
        match &self.limit {
            Some(limit) => limit.try_acquire(),
            None => true,
        }
    }

    /// The next task's token and body: `f`, telling the group how it ended
    /// before its handle resolves (a panic is re-raised after).
    pub(crate) fn wrap<F, T, E>(
        &self,
        f: F,
    ) -> (CancelToken, impl FnOnce(CancelToken) -> Result<T, E>)
    where
        F: FnOnce(CancelToken) -> Result<T, E>,
    {
        let index = self.handles.len();
        let shared = Arc::clone(&self.shared);
        let body = move |token: CancelToken| {
            let output = unwind::catch(|| f(token));
            shared.saw(index, matches!(output, Ok(Ok(_))));
            match output {
                Ok(result) => result,
                Err(payload) => std::panic::resume_unwind(payload),
            }
        };
        (self.shared.token.child(), body)
    }

    /// Adds the handle of the task just submitted.
    pub(crate) fn push(&mut self, handle: H) -> TaskId {
        let task = handle.task();
        if let Some(limit) = &self.limit {
            let limit = Arc::clone(limit);
            task.add_done_callback(move |_| limit.release());
        }
        lock(&self.shared.jobs).push(task.job());
        let id = task.id();
        self.handles.push(handle);
        id
    }

    /// The handles, handed over without waiting.
    pub(crate) fn take_handles(&mut self) -> Vec<H> {
        let handles = std::mem::take(&mut self.handles);
        lock(&self.shared.jobs).clear();
        handles
    }

    /// Waits for every task and ends the group.
    fn finish(&mut self) -> (Vec<H>, Firsts) {
        let handles = std::mem::take(&mut self.handles);
        for handle in &handles {
            handle.wait();
        }
        lock(&self.shared.jobs).clear();
        let firsts = std::mem::take(&mut *lock(&self.shared.firsts));
        (handles, firsts)
    }

    pub(crate) fn max(&self) -> Option<usize> {
        self.limit.as_ref().map(|l| l.max)
    }
}

impl<H, T, E> Members<H>
where
    H: Member<Output = Result<T, E>>,
{
    pub(crate) fn join(&mut self) -> Result<Vec<T>, GroupError<E>> {
        let (handles, firsts) = self.finish();
        let mut results = results_of(handles);
        if let Some(i) = firsts.failure {
            if let Some(Err(e)) = results[i].take() {
                return Err(e);
            }
        }
        results.into_iter().flatten().collect()
    }

    pub(crate) fn join_all(&mut self) -> Vec<Result<T, GroupError<E>>> {
        let (handles, _) = self.finish();
        handles
            .into_iter()
            .map(|h| flatten(h.into_result()))
            .collect()
    }

    pub(crate) fn join_any(&mut self) -> Result<T, GroupError<E>> {
        let (handles, firsts) = self.finish();
        let mut results = results_of(handles);
        for i in [firsts.success, firsts.failure].into_iter().flatten() {
            if let Some(result) = results[i].take() {
                return result;
            }
        }
        results
            .into_iter()
            .flatten()
            .next()
            .unwrap_or(Err(GroupError::NoTasks))
    }
}

/// Every handle's result, taken (so a scoped task's panic is handled).
fn results_of<H, T, E>(handles: Vec<H>) -> Vec<Option<Result<T, GroupError<E>>>>
where
    H: Member<Output = Result<T, E>>,
{
    handles
        .into_iter()
        .map(|h| Some(flatten(h.into_result())))
        .collect()
}

fn flatten<T, E>(result: Result<Result<T, E>, TaskError>) -> Result<T, GroupError<E>> {
    match result {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(e)) => Err(GroupError::Failed(e)),
        Err(e) => Err(GroupError::Task(e)),
    }
}

impl<H: Member> Drop for Members<H> {
    fn drop(&mut self) {
        if self.handles.is_empty() {
            return;
        }
        self.shared.stop();
        for handle in &self.handles {
            handle.wait();
        }
        lock(&self.shared.jobs).clear();
    }
}

impl<H: Member> Members<H> {
    /// The group's `Debug`, under the name of its public type.
    pub(crate) fn debug(&self, f: &mut fmt::Formatter<'_>, name: &str) -> fmt::Result {
        f.debug_struct(name)
            .field("policy", &self.shared.policy)
            .field("tasks", &self.handles.len())
            .field("limit", &self.max())
            .field("cancelled", &self.shared.token.is_cancelled())
            .finish()
    }
}

impl ThreadPoolExecutor {
    /// A new, empty [`TaskGroup`] on this pool, cancelling by `policy`.
    /// For tasks that borrow from the caller's stack, see
    /// [`Scope::group`](crate::Scope::group).
    ///
    /// ```
    /// use executor::GroupPolicy;
    ///
    /// let pool = executor::ThreadPoolExecutor::new();
    /// let mut group = pool.group::<u32, String>(GroupPolicy::All);
    /// group.submit(|| Ok(1));
    /// group.submit(|| Err("no".to_string()));
    /// let results = group.join_all();
    /// assert_eq!(results[0].as_ref().ok(), Some(&1));
    /// assert!(results[1].is_err());
    /// ```
    pub fn group<T, E>(&self, policy: GroupPolicy) -> TaskGroup<'_, T, E>
    where
        T: Send + 'static,
        E: Send + 'static,
    {
        TaskGroup {
            pool: self,
            members: Members::new(policy, self.registry.id()),
        }
    }
}

impl<'p, T, E> TaskGroup<'p, T, E>
where
    T: Send + 'static,
    E: Send + 'static,
{
    /// At most `max` tasks of this group in flight (submitted and not
    /// finished) at once: [`submit`](Self::submit) waits for a place,
    /// [`try_submit`](Self::try_submit) hands the closure back. Go's
    /// `errgroup.SetLimit`.
    ///
    /// # Panics
    ///
    /// If `max` is 0 (no task could ever run), or if tasks were already
    /// submitted.
    ///
    /// ```
    /// use executor::GroupPolicy;
    ///
    /// let pool = executor::ThreadPoolExecutor::new();
    /// let (tx, rx) = std::sync::mpsc::channel::<()>();
    /// let mut group = pool.group::<(), ()>(GroupPolicy::All).limit(1);
    /// group.submit(move || Ok(rx.recv().unwrap()));
    /// let back = group.try_submit(|| Ok(())); // the one place is taken
    /// assert!(back.is_err());
    /// tx.send(()).unwrap();
    /// group.join().unwrap();
    /// ```
    pub fn limit(mut self, max: usize) -> Self {
        self.members.set_limit(max, "TaskGroup::limit");
        self
    }

    /// The group's token: cancelled when the policy cancels the group (or
    /// when you cancel it, which stops the running tasks and keeps the
    /// queued ones from starting). Each task gets a child of it.
    pub fn token(&self) -> &CancelToken {
        self.members.token()
    }

    /// Cancels the group now: every task's token is cancelled and queued
    /// tasks resolve to `Cancelled`.
    ///
    /// ```
    /// use executor::GroupPolicy;
    ///
    /// let pool = executor::ThreadPoolExecutor::new();
    /// let mut group = pool.group::<u32, ()>(GroupPolicy::All);
    /// group.submit_with_token(|token| {
    ///     token.wait(); // until the group is cancelled
    ///     Ok(1)
    /// });
    /// assert_eq!(group.len(), 1);
    /// group.cancel();
    /// assert!(group.token().is_cancelled());
    /// // Stopped through its token, or never started: either way it ends.
    /// let _ = group.join_all();
    /// ```
    pub fn cancel(&self) {
        self.members.cancel();
    }

    /// How many tasks were submitted.
    pub fn len(&self) -> usize {
        self.members.len()
    }

    /// True if no task was submitted.
    pub fn is_empty(&self) -> bool {
        self.members.len() == 0
    }

    /// Submits a task, waiting for a place if the group has a limit.
    /// Returns the task's id (its handle's [`TaskHandle::id`]). A task
    /// submitted after the group was cancelled never starts.
    pub fn submit<F>(&mut self, f: F) -> TaskId
    where
        F: FnOnce() -> Result<T, E> + Send + 'static,
    {
        self.submit_with_token(move |_| f())
    }

    /// [`submit`](Self::submit), giving the task its token (a child of the
    /// group's): check it to stop early when the group is cancelled.
    ///
    /// ```
    /// use std::time::Duration;
    /// use executor::{GroupError, GroupPolicy};
    ///
    /// let pool = executor::ThreadPoolExecutor::new();
    /// let mut group = pool.group::<u32, &str>(GroupPolicy::FirstError);
    /// group.submit_with_token(|token| {
    ///     token.wait_timeout(Duration::from_secs(60)); // stops early
    ///     Err("stopped")
    /// });
    /// group.submit(|| Err("bad input"));
    /// assert!(matches!(group.join(), Err(GroupError::Failed("bad input"))));
    /// ```
    pub fn submit_with_token<F>(&mut self, f: F) -> TaskId
    where
        F: FnOnce(CancelToken) -> Result<T, E> + Send + 'static,
    {
        self.members.take_place();
        self.submit_placed(f)
    }

    /// Like [`submit`](Self::submit), but hands `f` back instead of
    /// waiting when the group's limit is reached.
    pub fn try_submit<F>(&mut self, f: F) -> Result<TaskId, F>
    where
        F: FnOnce() -> Result<T, E> + Send + 'static,
    {
        if !self.members.try_take_place() {
            return Err(f);
        }
        Ok(self.submit_placed(move |_| f()))
    }

    /// Submits `f`, whose place (if the group has a limit) is taken.
    fn submit_placed<F>(&mut self, f: F) -> TaskId
    where
        F: FnOnce(CancelToken) -> Result<T, E> + Send + 'static,
    {
        let (token, body) = self.members.wrap(f);
        let handle = self.pool.submit_with_given_token(None, token, body);
        self.members.push(handle)
    }

    /// Waits for every task; then all values in submission order, or the
    /// first failure the group saw (in finishing order). With no failure
    /// but a task without a value (cancelled through its handle, rejected
    /// by a shut-down pool), that task's error, the first in submission
    /// order.
    ///
    /// ```
    /// let pool = executor::ThreadPoolExecutor::new();
    /// let mut group = pool.group::<u64, std::io::Error>(executor::GroupPolicy::FirstError);
    /// for i in 0..4 {
    ///     group.submit(move || Ok(i * i));
    /// }
    /// assert_eq!(group.join().unwrap(), [0, 1, 4, 9]);
    /// ```
    pub fn join(mut self) -> Result<Vec<T>, GroupError<E>> {
        self.members.join()
    }

    /// Waits for every task; then each one's result, in submission order.
    ///
    /// ```
    /// use executor::{GroupError, GroupPolicy};
    ///
    /// let pool = executor::ThreadPoolExecutor::new();
    /// let mut group = pool.group::<u8, &str>(GroupPolicy::All);
    /// group.submit(|| Ok(1));
    /// group.submit(|| Err("two"));
    /// let results = group.join_all();
    /// assert!(matches!(results[..], [Ok(1), Err(GroupError::Failed("two"))]));
    /// ```
    pub fn join_all(mut self) -> Vec<Result<T, GroupError<E>>> {
        self.members.join_all()
    }

    /// Waits for every task (under [`GroupPolicy::FirstSuccess`], the
    /// others are cancelled once one succeeds); then the first success in
    /// finishing order, or, if none succeeded, the first failure.
    ///
    /// ```
    /// use std::time::Duration;
    /// use executor::GroupPolicy;
    ///
    /// let pool = executor::ThreadPoolExecutor::new();
    /// let mut group = pool.group::<&str, ()>(GroupPolicy::FirstSuccess);
    /// group.submit_with_token(|token| {
    ///     token.wait_timeout(Duration::from_secs(60)); // the slow mirror
    ///     Err(())
    /// });
    /// group.submit(|| Ok("fast mirror"));
    /// assert_eq!(group.join_any().unwrap(), "fast mirror");
    /// ```
    pub fn join_any(mut self) -> Result<T, GroupError<E>> {
        self.members.join_any()
    }

    /// Hands the tasks' handles over, in submission order, without
    /// waiting: for [`as_completed`](crate::as_completed) or
    /// [`wait`](crate::wait). The policy still applies (the tasks tell the
    /// group as they end), but nothing joins the tasks for you any more.
    ///
    /// ```
    /// use executor::{as_completed, GroupPolicy};
    ///
    /// let pool = executor::ThreadPoolExecutor::new();
    /// let mut group = pool.group::<u32, ()>(GroupPolicy::FirstError);
    /// for i in 0..3 {
    ///     group.submit(move || Ok(i));
    /// }
    /// let mut sum = 0;
    /// for handle in as_completed(group.into_handles()) {
    ///     sum += handle.result().unwrap().unwrap();
    /// }
    /// assert_eq!(sum, 3);
    /// ```
    pub fn into_handles(mut self) -> Vec<TaskHandle<Result<T, E>>> {
        self.members.take_handles()
    }
}

impl<T, E> fmt::Debug for TaskGroup<'_, T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.members.debug(f, "TaskGroup")
    }
}
