//! What a worker lends a task while running it: its slot's counters, the
//! pool's task hooks and (feature `tracing`) the pool's name for the span.

use super::core::Core;
use super::id::TaskId;
use super::layout::Extras;
use crate::error::Panic;
use crate::hooks::{TaskHooks, TaskInfo};
use crate::now_running::{NowRunning, Outer};
use crate::stats::SlotStats;

pub(crate) struct RunCtx<'a> {
    /// The running worker's counters (see [`SlotStats::record`]).
    pub(crate) stats: &'a SlotStats,
    /// `before_task`/`after_task`, when the pool has either.
    pub(crate) hooks: Option<&'a TaskHooks>,
    /// The pool's `thread_name_prefix`, recorded on the task's span.
    #[cfg(feature = "tracing")]
    pub(crate) pool: &'a str,
}

impl<'a> RunCtx<'a> {
    /// A context with no hooks, for tests that run jobs by hand.
    #[cfg(all(test, loom))]
    pub(crate) fn bare(stats: &'a SlotStats) -> Self {
        RunCtx {
            stats,
            hooks: None,
            #[cfg(feature = "tracing")]
            pool: "test",
        }
    }

    /// Runs `body`, one run of the task `id` with core `core` (its
    /// closure, or one poll of its future), between the pool's
    /// `before_task` and `after_task` hooks and inside the task's span.
    /// Both hooks run before the task's result is published, so whoever
    /// sees the result also sees their effects.
    #[inline]
    pub(crate) fn around<T, B, X: Extras, R>(
        &self,
        id: usize,
        core: &Core<T, B, X>,
        body: impl FnOnce() -> Result<R, Panic>,
    ) -> Result<R, Panic> {
        #[cfg(feature = "tracing")]
        let _entered = core.trace().enter(self.pool, id, core.name());
        let _now = NowGuard {
            now: &self.stats.now,
            outer: self.stats.now.enter(id, core.name()),
        };
        let output = match self.hooks {
            None => body(),
            Some(hooks) => Self::hooked(
                hooks,
                TaskInfo::new(TaskId::from_addr(id), core.name()),
                body,
            ),
        };
        #[cfg(feature = "tracing")]
        if let Err(panic) = &output {
            crate::trace::panicked(panic);
        }
        #[cfg(not(feature = "tracing"))]
        let _ = core;
        output
    }

    #[inline(never)]
    fn hooked<R>(
        hooks: &TaskHooks,
        task: TaskInfo,
        body: impl FnOnce() -> Result<R, Panic>,
    ) -> Result<R, Panic> {
        hooks.before(&task);
        let output = body();
        hooks.after(&task);
        output
    }
}

/// Puts back the worker's previous task in progress when a run ends, also
/// if a hook panics.
struct NowGuard<'a> {
    now: &'a NowRunning,
    outer: Outer,
}

impl Drop for NowGuard<'_> {
    #[inline(always)]
    fn drop(&mut self) {
        self.now.leave(self.outer);
    }
}
