//! The pool's timer methods: `submit_after`, `submit_at`,
//! `schedule_at_fixed_rate`, `schedule_with_fixed_delay`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::periodic::{Cadence, Periodic};
use crate::deadline::Deadline;
use crate::handle::TaskHandle;
use crate::pool::ThreadPoolExecutor;
use crate::task::{FnTask, Job};

/// A delayed task's handle is not claimable by a waiting worker (pool id
/// 0): running it inline would run it before it is due. A worker waiting
/// for it blocks, and the pool keeps its parallelism meanwhile.
const NOT_CLAIMABLE: usize = 0;

impl ThreadPoolExecutor {
    /// Runs `f` on a worker once `delay` has passed: Python's
    /// `threading.Timer(delay, f)`, Java's `schedule`. The handle is an
    /// ordinary one: [`cancel`](TaskHandle::cancel) before it is due and
    /// `f` never runs; `result`, callbacks and `.await` work as for
    /// [`submit`](Self::submit).
    ///
    /// The task waits in the pool's one timer (no thread per timer, no CPU
    /// while it waits), then is queued behind what is already queued, so it
    /// starts no earlier than `delay` from now, and later by the timer's
    /// wake-up latency and the queue ahead of it. A delay too large for
    /// `Instant` (`Duration::MAX`) never fires. After
    /// [`shutdown`](Self::shutdown) the handle is already `Rejected`; a
    /// task still waiting when the pool shuts down resolves to
    /// [`TaskError::Cancelled`](crate::TaskError::Cancelled) (with or
    /// without `cancel_futures`: a timer that has not fired is not queued
    /// work).
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    ///
    /// let pool = executor::ThreadPoolExecutor::new();
    /// let start = Instant::now();
    /// let handle = pool.submit_after(Duration::from_millis(20), move || start.elapsed());
    /// assert!(handle.result().unwrap() >= Duration::from_millis(20));
    ///
    /// let never = pool.submit_after(Duration::from_secs(3600), || unreachable!());
    /// assert!(never.cancel());
    /// assert!(never.result().unwrap_err().is_cancelled());
    /// ```
    pub fn submit_after<F, T>(&self, delay: Duration, f: F) -> TaskHandle<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        self.submit_delayed(Deadline::after(delay), f)
    }

    /// Like [`submit_after`](Self::submit_after), due at `at`; an instant
    /// already past is due at once (queued behind what is queued).
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    ///
    /// let pool = executor::ThreadPoolExecutor::new();
    /// let at = Instant::now() + Duration::from_millis(10);
    /// let handle = pool.submit_at(at, move || Instant::now() >= at);
    /// assert!(handle.result().unwrap());
    /// ```
    pub fn submit_at<F, T>(&self, at: Instant, f: F) -> TaskHandle<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        self.submit_delayed(Deadline::At(at), f)
    }

    fn submit_delayed<F, T>(&self, due: Deadline, f: F) -> TaskHandle<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let registry = &self.registry;
        if let Some(refusal) = registry.state().refusal() {
            registry.count_refused_at_once(refusal);
            return TaskHandle::new(FnTask::<F, T>::resolved(refusal, None), NOT_CLAIMABLE);
        }
        let task = FnTask::new(f, None, None);
        let handle = TaskHandle::new(task.clone(), NOT_CLAIMABLE);
        registry.count_submitted();
        registry.timer.schedule(registry, due, Job::Task(task));
        handle
    }

    /// Runs `f` first after `initial`, then every `period` on the grid
    /// `start + initial + k * period`, until the returned handle is
    /// cancelled or the pool shuts down: Java's `scheduleAtFixedRate`.
    ///
    /// Runs never overlap: the next beat is scheduled only once a run has
    /// returned. A run that overruns (or a pool too busy to start it on
    /// time) makes the schedule skip the beats it missed, never run them
    /// in a burst. A run that panics stops the schedule, and the handle
    /// resolves to [`TaskError::Panicked`](crate::TaskError::Panicked) with
    /// that panic; [`cancel`](TaskHandle::cancel) or shutdown resolve it to
    /// `Cancelled`. `cancel` succeeds at any time: a run in progress
    /// finishes (and one being started at that very instant may still
    /// run), and no later beat runs. The handle never completes otherwise.
    ///
    /// # Panics
    ///
    /// Panics if `period` is zero.
    ///
    /// ```
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    /// use std::sync::{mpsc, Arc};
    /// use std::time::Duration;
    ///
    /// let pool = executor::ThreadPoolExecutor::new();
    /// let (tx, rx) = mpsc::channel();
    /// let beats = Arc::new(AtomicUsize::new(0));
    /// let b = beats.clone();
    /// let schedule = pool.schedule_at_fixed_rate(Duration::ZERO, Duration::from_millis(5), move || {
    ///     if b.fetch_add(1, Ordering::SeqCst) == 2 {
    ///         tx.send(()).unwrap();
    ///     }
    /// });
    /// rx.recv().unwrap(); // three beats
    /// assert!(schedule.cancel());
    /// assert!(schedule.result().unwrap_err().is_cancelled());
    /// ```
    pub fn schedule_at_fixed_rate<F>(
        &self,
        initial: Duration,
        period: Duration,
        f: F,
    ) -> TaskHandle<()>
    where
        F: FnMut() + Send + 'static,
    {
        assert!(
            !period.is_zero(),
            "schedule_at_fixed_rate: the period must not be zero"
        );
        self.schedule_periodic(initial, Cadence::FixedRate(period), f)
    }

    /// Runs `f` first after `initial`, then again `delay` after each run
    /// returned, until the handle is cancelled or the pool shuts down:
    /// Java's `scheduleWithFixedDelay`. Panics, cancellation and shutdown
    /// as for [`schedule_at_fixed_rate`](Self::schedule_at_fixed_rate).
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let pool = executor::ThreadPoolExecutor::new();
    /// let mut polls = 0;
    /// let schedule = pool.schedule_with_fixed_delay(Duration::ZERO, Duration::from_millis(1), move || {
    ///     polls += 1;
    ///     assert!(polls < 3, "the third poll failed");
    /// });
    /// let err = schedule.result().unwrap_err();
    /// assert_eq!(err.to_string(), "task panicked: the third poll failed");
    /// ```
    pub fn schedule_with_fixed_delay<F>(
        &self,
        initial: Duration,
        delay: Duration,
        f: F,
    ) -> TaskHandle<()>
    where
        F: FnMut() + Send + 'static,
    {
        self.schedule_periodic(initial, Cadence::FixedDelay(delay), f)
    }

    fn schedule_periodic<F>(&self, initial: Duration, cadence: Cadence, f: F) -> TaskHandle<()>
    where
        F: FnMut() + Send + 'static,
    {
        let registry = &self.registry;
        if let Some(refusal) = registry.state().refusal() {
            registry.count_refused_at_once(refusal);
            return TaskHandle::new(FnTask::<fn(), ()>::resolved(refusal, None), NOT_CLAIMABLE);
        }
        let due = Deadline::after(initial);
        let first = match due {
            Deadline::At(at) => at,
            Deadline::Never => Instant::now(), // never fires: the grid does not matter
        };
        let periodic = Periodic::new(registry, f, cadence, first);
        let done: Arc<FnTask<_, ()>> = Arc::clone(&periodic.done);
        let handle = TaskHandle::new(done, NOT_CLAIMABLE);
        registry.count_submitted();
        registry.timer.schedule(registry, due, Job::Task(periodic));
        handle
    }
}
