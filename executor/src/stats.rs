//! `pool.stats()`: counters cheap enough to poll for a progress bar.
//!
//! Hot counters live per worker slot on their own cache line and are only
//! written by the worker that owns the slot; `stats()` sums them.

use std::sync::atomic::{AtomicU64, Ordering};

/// A snapshot of a pool's activity, from [`ThreadPoolExecutor::stats`](crate::ThreadPoolExecutor::stats).
///
/// The counters are read one after another while the pool runs, so they
/// are each exact but not one atomic picture (e.g. a task may be counted as
/// both queued and completed in one snapshot).
///
/// They balance: once the pool is quiescent (no submit or shutdown in
/// progress, no async task parked on its waker), every task that produced a
/// handle is accounted for exactly once,
///
/// ```text
/// tasks_submitted == tasks_completed + tasks_panicked + tasks_cancelled
///                  + tasks_rejected + tasks_broken + tasks_abandoned
///                  + tasks_queued + tasks_running + tasks_delayed
/// ```
///
/// and after `shutdown(true)` nothing is queued or running.
///
/// ```
/// let pool = executor::ThreadPoolExecutor::builder().max_workers(2).build().unwrap();
/// let handles: Vec<_> = (0..10).map(|i| pool.submit(move || i)).collect();
/// for h in handles {
///     h.result().unwrap();
/// }
/// let stats = pool.stats();
/// assert_eq!(stats.tasks_completed, 10);
/// assert!(stats.workers_alive >= 1 && stats.workers_alive <= 2);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Stats {
    /// Worker threads running now.
    pub workers_alive: usize,
    /// Workers parked while waiting for work.
    pub workers_idle: usize,
    /// Workers blocked inside a task, waiting for a task that runs on
    /// another thread (or for an async task's waker, or another pool). They
    /// do not count against `max_workers`: the pool starts or wakes a spare
    /// for queued work meanwhile, so `workers_alive` may exceed
    /// `max_workers` by as many.
    pub workers_blocked: usize,
    /// Tasks that produced a handle: every `submit`, `submit_named` and
    /// `spawn`, every `try_submit` and `submit_timeout` that returned `Ok`,
    /// every chunk of a `map` and every scoped task, including those
    /// resolved at once to `Rejected` or `Broken`. A `try_submit` that hands
    /// its closure back counts nowhere.
    pub tasks_submitted: u64,
    /// Tasks waiting in the queues (including cancelled ones not yet
    /// discarded, which hold no place of a `queue_capacity`: this count may
    /// exceed the capacity).
    pub tasks_queued: usize,
    /// Delayed and periodic tasks waiting in the pool's timer for their
    /// due time (`submit_after`, `submit_at`, a schedule between runs);
    /// not counted in `tasks_queued` until due. A delayed task cancelled
    /// before it was due counts here until its due time (or shutdown), as
    /// a cancelled queued task counts as queued until a worker discards it.
    pub tasks_delayed: usize,
    /// Tasks being run now (a worker that waits on a handle and runs another
    /// task meanwhile counts both).
    pub tasks_running: u64,
    /// Tasks that finished and returned a value.
    pub tasks_completed: u64,
    /// Tasks that panicked.
    pub tasks_panicked: u64,
    /// Tasks cancelled before they started, counted when they leave the
    /// queue (until then a cancelled task also counts as queued).
    pub tasks_cancelled: u64,
    /// Tasks resolved to `Rejected`: submitted from outside after shutdown,
    /// or submitted while it began and left with no worker to run them.
    pub tasks_rejected: u64,
    /// Tasks resolved to `Broken`: queued when a worker initializer
    /// panicked, or submitted after.
    pub tasks_broken: u64,
    /// Async tasks resolved to `Abandoned`: started, then parked with no
    /// waker left when the pool shut down (or broke), so that nothing could
    /// ever poll them again.
    pub tasks_abandoned: u64,
    /// Tasks a worker took from another worker's deque.
    pub tasks_stolen: u64,
    /// Worker threads started since the pool was built.
    pub threads_started: u64,
    /// Worker threads that retired after `keep_alive` of idleness, or that
    /// stepped down as spares once the workers they stood in for resumed.
    pub threads_retired: u64,
}

/// One worker slot's counters; only the worker owning the slot writes them.
#[derive(Default)]
pub(crate) struct SlotStats {
    /// Tasks submitted (or spawned) from this slot's worker.
    pub(crate) submitted: AtomicU64,
    pub(crate) running: AtomicU64,
    pub(crate) completed: AtomicU64,
    pub(crate) panicked: AtomicU64,
    pub(crate) stolen: AtomicU64,
    /// The task the slot's worker runs now (for `shutdown_timeout`).
    pub(crate) now: crate::now_running::NowRunning,
}

impl SlotStats {
    /// Adds `delta` (which may be negative) to `counter`. Only the owning
    /// worker writes, so a plain load and store suffice (no locked
    /// read-modify-write on the hot path).
    pub(crate) fn bump(counter: &AtomicU64, delta: i64) {
        let value = counter.load(Ordering::Relaxed);
        counter.store(value.wrapping_add_signed(delta), Ordering::Relaxed);
    }

    /// A task this worker ran has finished: it is no longer running, and
    /// counts as completed or panicked. Called by the task just before it
    /// publishes its result.
    pub(crate) fn record(&self, ran: Ran) {
        Self::bump(&self.running, -1);
        match ran {
            Ran::Completed => Self::bump(&self.completed, 1),
            Ran::Panicked => Self::bump(&self.panicked, 1),
            _ => debug_assert!(false, "only finished tasks are recorded, not {ran:?}"),
        }
    }

    pub(crate) fn add_to(&self, stats: &mut Stats) {
        stats.tasks_submitted += self.submitted.load(Ordering::Relaxed);
        stats.tasks_running += self.running.load(Ordering::Relaxed);
        stats.tasks_completed += self.completed.load(Ordering::Relaxed);
        stats.tasks_panicked += self.panicked.load(Ordering::Relaxed);
        stats.tasks_stolen += self.stolen.load(Ordering::Relaxed);
    }
}

/// What running a job amounted to, for the pool's statistics.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Ran {
    /// The task finished and returned a value.
    Completed,
    /// The task panicked; the panic is in its output.
    Panicked,
    /// An async task returned `Pending`; its waker will queue it again.
    Pending,
    /// The task had been cancelled while queued, and the caller is the
    /// first to count it (see `Core::tally_cancelled`).
    Cancelled,
    /// The task had been resolved otherwise (rejected, broken, or
    /// cancelled and counted already) while queued.
    Skipped,
}
