//! What the scheduler needs to know of a pool's limited views (the
//! `limited` module): their counts for `stats()`, kept in the registry,
//! and which view's task the current thread runs, for the waiting rules.

use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::stats::Stats;

/// Counts of a pool's views, for `stats()`.
#[derive(Debug, Default)]
pub(crate) struct ViewCounts {
    /// Tasks in the views' own queues (cancelled ones until discarded).
    pub(crate) queued: AtomicUsize,
    /// Runner jobs in the pool's queues: not tasks, so not counted queued.
    pub(crate) runners_queued: AtomicUsize,
}

impl ViewCounts {
    pub(crate) fn add_to(&self, stats: &mut Stats) {
        let runners = self.runners_queued.load(Ordering::Relaxed);
        stats.tasks_queued =
            stats.tasks_queued.saturating_sub(runners) + self.queued.load(Ordering::Relaxed);
    }
}

thread_local! {
    /// The view whose task this thread runs now (its id), 0 if none.
    static CURRENT_VIEW: Cell<usize> = const { Cell::new(0) };
}

/// This thread now runs a task of view `id` (0: of none); returns the
/// view it ran a task of before, to restore afterwards.
pub(crate) fn enter_view(id: usize) -> usize {
    CURRENT_VIEW.with(|c| c.replace(id))
}

/// True when this thread is running a task of view `id`: it may run
/// another task of that view inline while it waits for it.
pub(crate) fn is_current_view(id: usize) -> bool {
    id != 0 && CURRENT_VIEW.with(Cell::get) == id
}
