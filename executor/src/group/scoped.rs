//! `ScopedTaskGroup`: a [`TaskGroup`](super::TaskGroup) whose tasks borrow
//! from the caller's stack, made inside `pool.scope` with
//! [`Scope::group`].
//!
//! Its tasks are scoped tasks (the scope's lifetime erasure and its join
//! keep them sound); the group adds to them what a pool group adds to pool
//! tasks: a child of the group's token, the wrapper that tells the group
//! how each one ended, the limit, and the join by policy. Both kinds share
//! that machinery ([`Members`]).

use std::fmt;

use super::{GroupError, GroupPolicy, Member, Members};
use crate::cancel::CancelToken;
use crate::error::TaskError;
use crate::handle::TaskHandle;
use crate::scope::{Scope, ScopedHandle};
use crate::task::TaskId;

impl<R> Member for ScopedHandle<'_, R> {
    type Output = R;
    type Inner = ();

    fn task(&self) -> &TaskHandle<()> {
        self.inner()
    }

    fn wait(&self) {
        ScopedHandle::wait(self);
    }

    fn into_result(self) -> Result<R, TaskError> {
        self.result()
    }
}

/// A [`TaskGroup`](super::TaskGroup) of tasks that may borrow from the
/// caller's stack: the same policy, limit, tokens and joins, made with
/// [`Scope::group`] inside [`pool.scope`](crate::ThreadPoolExecutor::scope).
///
/// **Dropping** a group that was not joined cancels it and waits for its
/// running tasks, as a pool group does. The scope then joins whatever is
/// left; a task that panicked and whose result nobody took has its panic
/// re-raised by `scope`, as for any [`ScopedHandle`] dropped unread (the
/// joins take every task's result, so a joined group's panics are
/// reported through the join only).
///
/// ```
/// use executor::{GroupError, GroupPolicy, ThreadPoolExecutor};
///
/// let pool = ThreadPoolExecutor::builder().max_workers(4).build().unwrap();
/// let lines = vec!["12", "7", "x", "40"];
/// let parsed = pool.scope(|s| {
///     let mut group = s.group(GroupPolicy::FirstError).limit(2);
///     for line in &lines {
///         group.submit(move || line.parse::<u32>()); // borrows `lines`
///     }
///     group.join()
/// });
/// assert!(matches!(parsed, Err(GroupError::Failed(_)))); // "x"
/// ```
///
/// The group cannot leave its scope:
///
/// ```compile_fail
/// use executor::GroupPolicy;
///
/// let pool = executor::ThreadPoolExecutor::new();
/// let escaped = pool.scope(|s| s.group::<(), ()>(GroupPolicy::All)); // error
/// ```
pub struct ScopedTaskGroup<'scope, 'env, T, E> {
    scope: &'scope Scope<'scope, 'env>,
    members: Members<ScopedHandle<'scope, Result<T, E>>>,
}

impl<'scope, 'env> Scope<'scope, 'env> {
    /// A new, empty [`ScopedTaskGroup`] in this scope, cancelling by
    /// `policy`: [`ThreadPoolExecutor::group`](crate::ThreadPoolExecutor::group)
    /// for tasks that borrow.
    ///
    /// ```
    /// use executor::GroupPolicy;
    ///
    /// let pool = executor::ThreadPoolExecutor::new();
    /// let words = ["alpha", "beta", "gamma"];
    /// let lengths = pool.scope(|s| {
    ///     let mut group = s.group::<usize, ()>(GroupPolicy::All);
    ///     for w in &words {
    ///         group.submit(move || Ok(w.len()));
    ///     }
    ///     group.join().unwrap()
    /// });
    /// assert_eq!(lengths, [5, 4, 5]);
    /// ```
    pub fn group<T, E>(&'scope self, policy: GroupPolicy) -> ScopedTaskGroup<'scope, 'env, T, E>
    where
        T: Send + 'scope,
        E: Send + 'scope,
    {
        ScopedTaskGroup {
            scope: self,
            members: Members::new(policy, self.pool().registry.id()),
        }
    }
}

impl<'scope, T, E> ScopedTaskGroup<'scope, '_, T, E>
where
    T: Send + 'scope,
    E: Send + 'scope,
{
    /// At most `max` tasks of this group in flight at once, as
    /// [`TaskGroup::limit`](super::TaskGroup::limit).
    ///
    /// # Panics
    ///
    /// If `max` is 0, or if tasks were already submitted.
    ///
    /// ```
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    /// use executor::GroupPolicy;
    ///
    /// let pool = executor::ThreadPoolExecutor::builder().max_workers(4).build().unwrap();
    /// let (now, most) = (AtomicUsize::new(0), AtomicUsize::new(0));
    /// pool.scope(|s| {
    ///     let mut group = s.group::<(), ()>(GroupPolicy::All).limit(2);
    ///     for _ in 0..8 {
    ///         group.submit(|| {
    ///             let n = now.fetch_add(1, Ordering::SeqCst) + 1;
    ///             most.fetch_max(n, Ordering::SeqCst);
    ///             std::thread::sleep(std::time::Duration::from_millis(1));
    ///             now.fetch_sub(1, Ordering::SeqCst);
    ///             Ok(())
    ///         });
    ///     }
    ///     group.join().unwrap();
    /// });
    /// assert!(most.load(Ordering::SeqCst) <= 2);
    /// ```
    pub fn limit(mut self, max: usize) -> Self {
        self.members.set_limit(max, "ScopedTaskGroup::limit");
        self
    }

    /// The group's token; each task gets a child of it.
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
    /// let seen = std::sync::atomic::AtomicUsize::new(0);
    /// pool.scope(|s| {
    ///     let mut group = s.group::<(), ()>(GroupPolicy::All);
    ///     group.cancel(); // before any task: none will start
    ///     group.submit(|| Ok(drop(seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst))));
    ///     assert_eq!(group.len(), 1);
    ///     assert!(group.join_all()[0].as_ref().unwrap_err().is_cancelled());
    /// });
    /// assert_eq!(seen.into_inner(), 0);
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

    /// Submits a task that may borrow, waiting for a place if the group
    /// has a limit. A task submitted after the group was cancelled never
    /// starts.
    pub fn submit<F>(&mut self, f: F) -> TaskId
    where
        F: FnOnce() -> Result<T, E> + Send + 'scope,
    {
        self.submit_with_token(move |_| f())
    }

    /// [`submit`](Self::submit), giving the task its token (a child of the
    /// group's).
    ///
    /// ```
    /// use std::time::Duration;
    /// use executor::{GroupError, GroupPolicy};
    ///
    /// let pool = executor::ThreadPoolExecutor::new();
    /// let hosts = ["slow.example", "fast.example"];
    /// let first = pool.scope(|s| {
    ///     let mut group = s.group::<&str, ()>(GroupPolicy::FirstSuccess);
    ///     group.submit_with_token(|token| {
    ///         token.wait_timeout(Duration::from_secs(60)); // the slow one
    ///         Err(())
    ///     });
    ///     group.submit(|| Ok(hosts[1]));
    ///     group.join_any()
    /// });
    /// assert_eq!(first.unwrap(), "fast.example");
    /// ```
    pub fn submit_with_token<F>(&mut self, f: F) -> TaskId
    where
        F: FnOnce(CancelToken) -> Result<T, E> + Send + 'scope,
    {
        self.members.take_place();
        self.submit_placed(f)
    }

    /// Like [`submit`](Self::submit), but hands `f` back instead of
    /// waiting when the group's limit is reached.
    pub fn try_submit<F>(&mut self, f: F) -> Result<TaskId, F>
    where
        F: FnOnce() -> Result<T, E> + Send + 'scope,
    {
        if !self.members.try_take_place() {
            return Err(f);
        }
        Ok(self.submit_placed(move |_| f()))
    }

    fn submit_placed<F>(&mut self, f: F) -> TaskId
    where
        F: FnOnce(CancelToken) -> Result<T, E> + Send + 'scope,
    {
        let (token, body) = self.members.wrap(f);
        let for_task = token.clone();
        let handle = self
            .scope
            .submit_stoppable(move || body(for_task), Some(token));
        self.members.push(handle)
    }

    /// Waits for every task; then all values in submission order, or the
    /// first failure the group saw (as [`TaskGroup::join`](super::TaskGroup::join)).
    ///
    /// ```
    /// let pool = executor::ThreadPoolExecutor::new();
    /// let data = vec![3_u64, 4, 5];
    /// let squares = pool.scope(|s| {
    ///     let mut group = s.group::<u64, ()>(executor::GroupPolicy::FirstError);
    ///     for x in &data {
    ///         group.submit(move || Ok(x * x));
    ///     }
    ///     group.join().unwrap()
    /// });
    /// assert_eq!(squares, [9, 16, 25]);
    /// ```
    pub fn join(mut self) -> Result<Vec<T>, GroupError<E>> {
        self.members.join()
    }

    /// Waits for every task; then each one's result, in submission order.
    ///
    /// ```
    /// let pool = executor::ThreadPoolExecutor::new();
    /// let inputs = ["1", "x"];
    /// let results = pool.scope(|s| {
    ///     let mut group = s.group(executor::GroupPolicy::All);
    ///     for text in &inputs {
    ///         group.submit(move || text.parse::<u8>());
    ///     }
    ///     group.join_all()
    /// });
    /// assert!(results[0].is_ok() && results[1].is_err());
    /// ```
    pub fn join_all(mut self) -> Vec<Result<T, GroupError<E>>> {
        self.members.join_all()
    }

    /// Waits for every task; then the first success in finishing order,
    /// or, if none succeeded, the first failure (as
    /// [`TaskGroup::join_any`](super::TaskGroup::join_any)).
    ///
    /// ```
    /// let pool = executor::ThreadPoolExecutor::new();
    /// let mirrors = ["down", "up"];
    /// let first = pool.scope(|s| {
    ///     let mut group = s.group(executor::GroupPolicy::FirstSuccess);
    ///     for m in &mirrors {
    ///         group.submit(move || if *m == "up" { Ok(*m) } else { Err(()) });
    ///     }
    ///     group.join_any()
    /// });
    /// assert_eq!(first.unwrap(), "up");
    /// ```
    pub fn join_any(mut self) -> Result<T, GroupError<E>> {
        self.members.join_any()
    }

    /// Hands the tasks' handles over, in submission order, without
    /// waiting. The policy still applies; the scope joins whatever is
    /// left.
    ///
    /// ```
    /// let pool = executor::ThreadPoolExecutor::new();
    /// let data = [2, 3];
    /// let total: i32 = pool.scope(|s| {
    ///     let mut group = s.group::<i32, ()>(executor::GroupPolicy::All);
    ///     for x in &data {
    ///         group.submit(move || Ok(x * 10));
    ///     }
    ///     group.into_handles().into_iter().map(|h| h.result().unwrap().unwrap()).sum()
    /// });
    /// assert_eq!(total, 50);
    /// ```
    pub fn into_handles(mut self) -> Vec<ScopedHandle<'scope, Result<T, E>>> {
        self.members.take_handles()
    }
}

impl<T, E> fmt::Debug for ScopedTaskGroup<'_, '_, T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.members.debug(f, "ScopedTaskGroup")
    }
}
