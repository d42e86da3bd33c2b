//! `tracing` support (feature `tracing`): each task gets a span, `task`,
//! whose parent is the span that was current where the task was submitted
//! (so a request's span reaches the tasks it fans out to), with the fields
//! `task.id` (as [`TaskId`](crate::TaskId), the task's address), `task.name`
//! and `pool` (the `thread_name_prefix`). Events: `task panicked` (WARN,
//! inside the task's span), `task cancelled` (DEBUG), `task rejected`,
//! `task refused: the pool is broken`, `task abandoned` (WARN; these three
//! and the cancellation as children of the submitter's span), and
//! `worker initializer panicked: the pool is broken` (ERROR). All have the
//! target `executor`.
//!
//! The span lives for one run of the task: a closure's whole run, or one
//! poll of an async task (each poll is a `task` span with the same
//! `task.id`, under the same parent). The task keeps only its parent.
//! The submitter's subscriber comes along with its span: while the task
//! runs, the subscriber of the span that was current at submission is the
//! worker's default (so a scoped subscriber, `tracing::subscriber::set_default`,
//! sees the tasks its thread submits). With no span current at submission,
//! the worker's own default subscriber is used.

use tracing::dispatcher::{self, DefaultGuard};
use tracing::span::EnteredSpan;
use tracing::Span;

use crate::error::Panic;
use crate::task::state::Lifecycle;

/// What a task keeps for tracing: the span current where it was submitted.
pub(crate) struct TaskTrace {
    parent: Span,
}

/// While alive, the task's span is entered (under the submitter's
/// subscriber, if it had a span). Fields drop in order: exit and close the
/// span, then restore the worker's default subscriber.
pub(crate) struct InTask {
    _entered: EnteredSpan,
    _default: Option<DefaultGuard>,
}

impl TaskTrace {
    /// Captures the current span as the parent of the task's. Nothing to
    /// capture when no subscriber takes even WARN events (the least
    /// verbose ones this module emits): a level check, no thread-local.
    pub(crate) fn capture() -> TaskTrace {
        let parent = if tracing::level_enabled!(tracing::Level::WARN) {
            Span::current()
        } else {
            Span::none()
        };
        TaskTrace { parent }
    }

    /// Makes the submitter's subscriber the default, then makes and enters
    /// the span of this run of the task.
    pub(crate) fn enter(&self, pool: &str, id: usize, name: Option<&str>) -> InTask {
        let default = self
            .parent
            .with_subscriber(|(_, dispatch)| dispatcher::set_default(dispatch));
        let span = tracing::debug_span!(
            target: "executor",
            parent: &self.parent,
            "task",
            task.id = id,
            task.name = name,
            pool = pool,
        );
        InTask {
            _entered: span.entered(),
            _default: default,
        }
    }

    /// Reports a task resolved without running, to `lifecycle`, as a child
    /// of the submitter's span (to its subscriber, if it had one).
    pub(crate) fn refused(&self, name: Option<&str>, lifecycle: Lifecycle) {
        let emit = || self.emit_refused(name, lifecycle);
        if self
            .parent
            .with_subscriber(|(_, dispatch)| dispatcher::with_default(dispatch, emit))
            .is_none()
        {
            emit();
        }
    }

    fn emit_refused(&self, name: Option<&str>, lifecycle: Lifecycle) {
        let parent = &self.parent;
        match lifecycle {
            Lifecycle::Cancelled => {
                tracing::debug!(target: "executor", parent: parent, { task.name = name }, "task cancelled");
            }
            Lifecycle::Rejected => {
                tracing::warn!(target: "executor", parent: parent, { task.name = name }, "task rejected");
            }
            Lifecycle::Broken => tracing::warn!(
                target: "executor",
                parent: parent,
                { task.name = name },
                "task refused: the pool is broken"
            ),
            Lifecycle::Abandoned => {
                tracing::warn!(target: "executor", parent: parent, { task.name = name }, "task abandoned");
            }
            _ => {}
        }
    }
}

/// Reports a task's panic, inside its (entered) span.
pub(crate) fn panicked(panic: &Panic) {
    tracing::warn!(target: "executor", panic = %panic, "task panicked");
}

/// Reports that a worker's initializer panicked and broke pool `pool`.
pub(crate) fn pool_broken(pool: &str) {
    tracing::error!(
        target: "executor",
        pool = pool,
        "worker initializer panicked: the pool is broken"
    );
}
