//! Stopping running work: `submit_with_token`, the set of running token
//! tasks, and `shutdown_timeout` (Java's `awaitTermination` followed by
//! `shutdownNow`).
//!
//! A task submitted with a token registers itself in its pool's
//! [`RunningTokens`] when its body begins and leaves when it ends (a lock
//! on a list as long as the number of token tasks running, paid only by
//! token tasks). When `shutdown_timeout` reaches its deadline it closes the
//! set, cancelling every token in it; a token task that begins after that
//! finds the set closed and is stopped before its body runs.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::cancel::CancelToken;
use crate::deadline::Deadline;
use crate::handle::TaskHandle;
use crate::pool::ThreadPoolExecutor;
use crate::scheduler::registry::Registry;
use crate::sync::{lock, Mutex};
use crate::task::stop::Stop;
use crate::task::TaskId;

/// The token tasks of one pool whose bodies are running now.
pub(crate) struct RunningTokens {
    inner: Mutex<Running>,
}

impl Default for RunningTokens {
    fn default() -> Self {
        Self {
            inner: Mutex::new(Running::default()),
        }
    }
}

#[derive(Default)]
struct Running {
    /// Set at `shutdown_timeout`'s deadline: every token, present and
    /// future, is cancelled.
    closed: bool,
    tasks: Vec<(usize, Option<&'static str>, CancelToken)>,
}

impl RunningTokens {
    /// The set of `registry`'s pool, made on first use.
    fn of(registry: &Registry) -> Arc<RunningTokens> {
        let any = registry
            .running_tokens
            .get_or_init(|| Arc::new(RunningTokens::default()));
        match Arc::clone(any).downcast::<RunningTokens>() {
            Ok(set) => set,
            Err(_) => unreachable!("only this module fills `Registry::running_tokens`"),
        }
    }

    fn enter(&self, task: usize, name: Option<&'static str>, token: &CancelToken) {
        let mut running = lock(&self.inner);
        if running.closed {
            drop(running);
            token.cancel();
            return;
        }
        running.tasks.push((task, name, token.clone()));
    }

    fn leave(&self, task: usize) {
        let mut running = lock(&self.inner);
        if let Some(i) = running.tasks.iter().position(|(t, ..)| *t == task) {
            running.tasks.swap_remove(i);
        }
    }

    /// Closes the set and cancels every token in it; returns who was in it.
    fn cancel_all(&self) -> Vec<RunningTask> {
        let tasks = {
            let mut running = lock(&self.inner);
            running.closed = true;
            running.tasks.clone()
        };
        tasks
            .into_iter()
            .map(|(task, name, token)| {
                token.cancel();
                RunningTask {
                    id: TaskId::from_addr(task),
                    name,
                }
            })
            .collect()
    }
}

/// The stop policy of a task with a token: it is stopped before its body
/// when its token is cancelled by then, and it is in its pool's running
/// set while its body runs.
pub(crate) struct TokenStop {
    pub(crate) token: CancelToken,
    pub(crate) running: Arc<RunningTokens>,
}

impl Stop for TokenStop {
    fn begin(&self, task: usize, name: Option<&'static str>) -> bool {
        // Enter first, then look: a deadline that passes in between either
        // finds us in the set or we find the set closed (both under its lock).
        self.running.enter(task, name, &self.token);
        if self.token.is_cancelled() {
            self.running.leave(task);
            return false;
        }
        true
    }

    fn end(&self, task: usize) {
        self.running.leave(task);
    }

    fn request(&self) {
        self.token.cancel();
    }
}

/// A task whose body was still running when
/// [`shutdown_timeout`](ThreadPoolExecutor::shutdown_timeout) gave up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RunningTask {
    /// The same id as its handle's [`TaskHandle::id`].
    pub id: TaskId,
    /// Its name, if it was submitted with one.
    pub name: Option<&'static str>,
}

/// What [`ThreadPoolExecutor::shutdown_timeout`] found.
///
/// ```
/// use std::time::Duration;
///
/// let pool = executor::ThreadPoolExecutor::new();
/// drop(pool.submit(|| 1 + 1));
/// let report = pool.shutdown_timeout(Duration::from_secs(5));
/// assert!(report.terminated && report.still_running == 0);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ShutdownReport {
    /// Every worker thread exited before the deadline: nothing was left
    /// running or queued, and the threads were joined.
    pub terminated: bool,
    /// Task bodies still running at the deadline, of every kind (closures,
    /// async tasks being polled), from the pool's counters.
    pub still_running: usize,
    /// The task each worker was running at the deadline: id, and name if
    /// it was given one (`submit_named`, `#[task(name = ..)]`, a token
    /// task's name). A worker that runs a task while waiting for another
    /// (a nested `result()` that runs the awaited task on its stack) lists
    /// the innermost one, so this may be shorter than `still_running`.
    pub running: Vec<RunningTask>,
    /// The tasks among them that were submitted with a token, whose tokens
    /// were cancelled at the deadline.
    pub asked_to_stop: Vec<RunningTask>,
    /// Queued tasks cancelled at the deadline, which never ran.
    pub cancelled_queued: u64,
}

impl fmt::Display for ShutdownReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.terminated {
            return f.write_str("every task finished before the deadline");
        }
        write!(
            f,
            "{} task(s) still running at the deadline ({} asked to stop), {} queued task(s) cancelled",
            self.still_running,
            self.asked_to_stop.len(),
            self.cancelled_queued
        )?;
        for (i, task) in self.running.iter().enumerate() {
            f.write_str(if i == 0 { "; running: " } else { ", " })?;
            match task.name {
                Some(name) => write!(f, "{name} ({:?})", task.id)?,
                None => write!(f, "{:?}", task.id)?,
            }
        }
        Ok(())
    }
}

impl ThreadPoolExecutor {
    /// Like [`submit`](Self::submit), giving the task a [`CancelToken`] to
    /// look at. [`TaskHandle::cancel`] then also reaches a task that has
    /// already started, by cancelling that token, and so does
    /// [`shutdown_timeout`](Self::shutdown_timeout) at its deadline.
    ///
    /// `cancel()` returning true means the task never ran (its body was not
    /// called); a token means the task was *asked* to stop, and its result
    /// is whatever it returns then. A task whose token is cancelled after a
    /// worker took it but before its body began is not started: it
    /// resolves to [`TaskError::Cancelled`](crate::TaskError::Cancelled).
    ///
    /// Plain `submit` pays nothing for this: a token task carries the
    /// token (one allocation more) and registers in the pool's list of
    /// running token tasks while its body runs.
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let pool = executor::ThreadPoolExecutor::new();
    /// let handle = pool.submit_with_token(|token| {
    ///     let mut rounds = 0;
    ///     while !token.wait_timeout(Duration::from_millis(1)) {
    ///         rounds += 1; // a unit of work, then look again
    ///     }
    ///     rounds
    /// });
    /// std::thread::sleep(Duration::from_millis(5));
    /// handle.cancel(); // not started: it never will; started: asks it to stop
    /// match handle.result() {
    ///     Ok(rounds) => println!("stopped after {rounds} rounds"),
    ///     Err(e) => assert!(e.is_cancelled()), // it never began
    /// }
    /// ```
    pub fn submit_with_token<F, T>(&self, f: F) -> TaskHandle<T>
    where
        F: FnOnce(CancelToken) -> T + Send + 'static,
        T: Send + 'static,
    {
        self.submit_with_given_token(None, CancelToken::new(), f)
    }

    /// [`submit_with_token`](Self::submit_with_token) with a token of your
    /// own (for example a [`child`](CancelToken::child) of a token that
    /// stops a whole job) and an optional task name.
    ///
    /// ```
    /// let pool = executor::ThreadPoolExecutor::new();
    /// let job = executor::CancelToken::new();
    /// job.cancel();
    /// let handle = pool.submit_with_given_token(Some("late"), job.child(), |_| 1);
    /// assert!(handle.result().unwrap_err().is_cancelled()); // never started
    /// ```
    pub fn submit_with_given_token<F, T>(
        &self,
        name: Option<&'static str>,
        token: CancelToken,
        f: F,
    ) -> TaskHandle<T>
    where
        F: FnOnce(CancelToken) -> T + Send + 'static,
        T: Send + 'static,
    {
        let for_task = token.clone();
        let stop = TokenStop {
            token,
            running: RunningTokens::of(&self.registry),
        };
        self.submit_stoppable(name, move || f(for_task), stop)
    }

    /// Shuts the pool down and waits at most `timeout` for it to finish:
    /// Java's `awaitTermination`, then `shutdownNow`.
    ///
    /// No new tasks are accepted from outside. Queued tasks run, and so do
    /// running ones, until every worker has exited (then the report says
    /// `terminated`) or the deadline passes. At the deadline, every running
    /// task submitted with a token has its token cancelled, tasks still
    /// queued are cancelled (their handles resolve to
    /// [`TaskError::Cancelled`](crate::TaskError::Cancelled)), and it
    /// returns at once with what was still running. It never waits past the
    /// deadline by more than about a millisecond (it looks for the workers'
    /// exit with a timed park of at most 1 ms).
    ///
    /// Tasks still running after it returned run to their end on their
    /// worker threads, which then exit; their handles resolve as usual, so
    /// nothing is lost and no handle hangs. Dropping the pool waits for
    /// them. Called from a task of this very pool, it waits out its full
    /// timeout (its own task is still running).
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let pool = executor::ThreadPoolExecutor::builder().max_workers(2).build().unwrap();
    /// let polite = pool.submit_with_token(|token| token.wait());
    /// while !polite.running() {
    ///     std::thread::yield_now();
    /// }
    /// let queued: Vec<_> = (0..4).map(|_| pool.submit(|| ())).collect();
    /// let report = pool.shutdown_timeout(Duration::from_millis(20));
    /// assert!(!report.terminated && report.asked_to_stop.len() == 1);
    /// polite.result().unwrap(); // it saw its token and returned
    /// for h in queued {
    ///     let _ = h.result(); // ran or cancelled: resolved either way
    /// }
    /// ```
    pub fn shutdown_timeout(&self, timeout: Duration) -> ShutdownReport {
        self.shutdown_timeout_with(timeout, false)
    }

    /// [`shutdown_timeout`](Self::shutdown_timeout), with Python's
    /// `cancel_futures`: queued tasks are cancelled at once instead of
    /// running before the deadline.
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let pool = executor::ThreadPoolExecutor::builder().max_workers(1).build().unwrap();
    /// let (tx, rx) = std::sync::mpsc::channel::<()>();
    /// let running = pool.submit(move || rx.recv().unwrap());
    /// while !running.running() {
    ///     std::thread::yield_now();
    /// }
    /// let queued = pool.submit(|| "never runs");
    /// std::thread::spawn(move || {
    ///     std::thread::sleep(Duration::from_millis(10));
    ///     tx.send(()).unwrap();
    /// });
    /// let report = pool.shutdown_timeout_with(Duration::from_secs(60), true);
    /// assert!(report.terminated);
    /// running.result().unwrap();
    /// assert!(queued.result().unwrap_err().is_cancelled());
    /// ```
    pub fn shutdown_timeout_with(&self, timeout: Duration, cancel_futures: bool) -> ShutdownReport {
        let deadline = Deadline::after(timeout);
        let registry = &self.registry;
        registry.shutdown(false, cancel_futures);
        // The workers exit once nothing is left, and the timer thread once
        // it resolved what it was firing.
        let settled = || registry.alive() == 0 && !registry.timer.is_running_elsewhere();
        if !deadline.poll_until(settled) {
            return self.give_up();
        }
        // Every worker and the timer thread are gone: joining them is
        // immediate.
        registry.shutdown(true, cancel_futures);
        ShutdownReport {
            terminated: true,
            ..ShutdownReport::default()
        }
    }

    /// The deadline passed: cancel what is queued, then stop what runs.
    /// In that order, so that a worker whose task stops at once finds
    /// nothing left to start, and the count of running tasks is taken
    /// before any was asked to stop.
    fn give_up(&self) -> ShutdownReport {
        let registry = &self.registry;
        let cancelled_before = registry.stats().tasks_cancelled;
        registry.shutdown(false, true);
        let stats = registry.stats();
        let running = registry
            .running_now()
            .into_iter()
            .map(|(task, name)| RunningTask {
                id: TaskId::from_addr(task),
                name,
            })
            .collect();
        let asked_to_stop = RunningTokens::of(registry).cancel_all();
        ShutdownReport {
            terminated: false,
            still_running: usize::try_from(stats.tasks_running).unwrap_or(usize::MAX),
            running,
            asked_to_stop,
            cancelled_queued: stats.tasks_cancelled.saturating_sub(cancelled_before),
        }
    }
}
