//! Builder hooks: code the pool runs on its worker threads as they start
//! and stop (`on_thread_start`, `on_thread_stop`, tokio's names) and around
//! every run of a task (`before_task`, `after_task`).
//!
//! A hook that panics is contained and reported on stderr, as a panicking
//! done callback is: the worker lives on and the task still runs (after a
//! panicking `before_task`) or still publishes its result (after a
//! panicking `after_task`). Unset hooks cost one `Option` test per task.

use std::fmt;
use std::sync::Arc;

use crate::task::id::TaskId;
use crate::unwind;

/// A hook run on a worker thread as it starts or stops.
pub(crate) type ThreadHook = Arc<dyn Fn() + Send + Sync + 'static>;
/// A hook run on a worker thread around a task.
pub(crate) type TaskHook = Arc<dyn Fn(&TaskInfo) + Send + Sync + 'static>;

/// The task a [`before_task`](crate::ThreadPoolBuilder::before_task) or
/// [`after_task`](crate::ThreadPoolBuilder::after_task) hook is called for.
///
/// ```
/// use std::sync::{Arc, Mutex};
/// use executor::{TaskId, ThreadPoolExecutor};
///
/// let seen: Arc<Mutex<Vec<(TaskId, Option<&'static str>)>>> = Arc::default();
/// let log = Arc::clone(&seen);
/// let pool = ThreadPoolExecutor::builder()
///     .before_task(move |task| log.lock().unwrap().push((task.id(), task.name())))
///     .build()?;
/// let handle = pool.submit_named("resize", || 1);
/// let id = handle.id();
/// handle.result()?;
/// assert_eq!(*seen.lock().unwrap(), [(id, Some("resize"))]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TaskInfo {
    id: TaskId,
    name: Option<&'static str>,
}

impl TaskInfo {
    pub(crate) fn new(id: TaskId, name: Option<&'static str>) -> TaskInfo {
        TaskInfo { id, name }
    }

    /// The task's id: the same as its handle's [`TaskHandle::id`](crate::TaskHandle::id).
    ///
    /// ```
    /// let pool = executor::ThreadPoolExecutor::builder()
    ///     .after_task(|task| assert_ne!(format!("{:?}", task.id()), ""))
    ///     .build()?;
    /// pool.submit(|| ()).result()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn id(&self) -> TaskId {
        self.id
    }

    /// The task's name, from [`submit_named`](crate::ThreadPoolExecutor::submit_named),
    /// [`spawn_named`](crate::ThreadPoolExecutor::spawn_named) or `#[task(name = "..")]`.
    ///
    /// ```
    /// let pool = executor::ThreadPoolExecutor::builder()
    ///     .before_task(|task| assert_eq!(task.name(), Some("named")))
    ///     .build()?;
    /// pool.submit_named("named", || ()).result()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn name(&self) -> Option<&'static str> {
        self.name
    }
}

/// The hooks a builder was given.
#[derive(Clone, Default)]
pub(crate) struct Hooks {
    pub(crate) on_thread_start: Option<ThreadHook>,
    pub(crate) on_thread_stop: Option<ThreadHook>,
    /// `Some` only when a task hook is set, so the run path tests one `Option`.
    pub(crate) task: Option<TaskHooks>,
}

/// `before_task` and `after_task`, at least one of them set.
#[derive(Clone, Default)]
pub(crate) struct TaskHooks {
    pub(crate) before: Option<TaskHook>,
    pub(crate) after: Option<TaskHook>,
}

impl Hooks {
    /// Runs `on_thread_start`, if set, containing its panic.
    pub(crate) fn thread_started(&self) {
        if let Some(hook) = &self.on_thread_start {
            unwind::contain("an on_thread_start hook", || hook());
        }
    }

    /// Runs `on_thread_stop`, if set, containing its panic.
    pub(crate) fn thread_stopped(&self) {
        if let Some(hook) = &self.on_thread_stop {
            unwind::contain("an on_thread_stop hook", || hook());
        }
    }

    /// The task hooks, created on first use by a builder setter.
    pub(crate) fn task_mut(&mut self) -> &mut TaskHooks {
        self.task.get_or_insert_with(TaskHooks::default)
    }
}

impl TaskHooks {
    /// Runs `before_task`, if set, containing its panic.
    pub(crate) fn before(&self, task: &TaskInfo) {
        if let Some(hook) = &self.before {
            unwind::contain("a before_task hook", || hook(task));
        }
    }

    /// Runs `after_task`, if set, containing its panic.
    pub(crate) fn after(&self, task: &TaskInfo) {
        if let Some(hook) = &self.after {
            unwind::contain("an after_task hook", || hook(task));
        }
    }
}

impl fmt::Debug for Hooks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let task = self.task.as_ref();
        f.debug_struct("Hooks")
            .field("on_thread_start", &self.on_thread_start.is_some())
            .field("on_thread_stop", &self.on_thread_stop.is_some())
            .field("before_task", &task.is_some_and(|t| t.before.is_some()))
            .field("after_task", &task.is_some_and(|t| t.after.is_some()))
            .finish()
    }
}
