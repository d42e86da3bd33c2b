//! Tasks: the one allocation that holds a submitted closure (or future), its
//! state, its output and its waiters, and the type-erased `Job` the queues carry.

mod async_task;
mod core;
mod fn_task;
pub(crate) mod id;
mod job;
mod layout;
mod run_ctx;
pub(crate) mod state;
pub(crate) mod stop;

pub(crate) use self::async_task::AsyncTask;
pub(crate) use self::core::CallbackKey;
#[cfg(all(test, loom))]
pub(crate) use self::core::Core;
pub(crate) use self::fn_task::FnTask;
pub use self::id::TaskId;
pub(crate) use self::job::{Job, LiveTask, QueuedJobs, Runnable, Schedule, TaskRef};
pub(crate) use self::run_ctx::RunCtx;
