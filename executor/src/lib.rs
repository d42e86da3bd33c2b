//! A work-stealing thread pool with futures: Python's
//! `concurrent.futures.ThreadPoolExecutor`, rebuilt for Rust on
//! `crossbeam-deque`.
//!
//! Submit closures to a [`ThreadPoolExecutor`], get a [`TaskHandle`] back
//! (Python's `Future`), and collect results with
//! [`map`](ThreadPoolExecutor::map), [`as_completed`] or [`wait`]. Panics
//! are values ([`TaskError::Panicked`]), a task may wait for tasks of its
//! own pool without deadlocking, and handles are awaitable from async code.
//!
//! # Quick start
//!
//! ```
//! use executor::{as_completed, TaskError, ThreadPoolExecutor};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let pool = ThreadPoolExecutor::builder().max_workers(4).build()?;
//!
//! // submit + result: Python's `pool.submit(fn, x).result()`.
//! let handle = pool.submit(|| (1..=10).sum::<u32>());
//! assert_eq!(handle.result()?, 55);
//!
//! // map: results in input order, whatever order the tasks finish in.
//! let squares: Vec<u64> = pool.map(1..=5_u64, |x| x * x).collect::<Result<_, _>>()?;
//! assert_eq!(squares, [1, 4, 9, 16, 25]);
//!
//! // as_completed: each handle as soon as its task finishes; a panic is a value.
//! let handles: Vec<_> = [4, 0, 2].map(|d: u32| pool.submit(move || 8 / d)).into();
//! let mut total = 0;
//! for handle in as_completed(handles) {
//!     match handle.result() {
//!         Ok(value) => total += value,
//!         Err(TaskError::Panicked(panic)) => println!("a task failed: {panic}"),
//!         Err(other) => println!("a task did not run: {other}"),
//!     }
//! }
//! assert_eq!(total, 2 + 4);
//!
//! pool.shutdown(true); // or let it drop: the end of Python's `with` block
//! # Ok(())
//! # }
//! ```
//!
//! # Concepts
//!
//! - **Pools.** [`ThreadPoolExecutor::new`] uses one worker per CPU;
//!   [`ThreadPoolExecutor::builder`] sets `max_workers`, `thread_name_prefix`,
//!   an `initializer`, lazy workers with `keep_alive`, and a
//!   [`queue_capacity`](ThreadPoolBuilder::queue_capacity) for
//!   back-pressure. [`global()`] is a process-wide default pool.
//! - **Submitting.** [`ThreadPoolExecutor::submit`] runs a `'static`
//!   closure and returns its [`TaskHandle`];
//!   [`try_submit`](ThreadPoolExecutor::try_submit) hands the closure back
//!   in a [`SubmitError`] instead of blocking or failing late.
//! - **Handles.** [`TaskHandle`] has `done`, `running`, `cancel`, `result`,
//!   `result_timeout`, `add_done_callback` (told the [`Outcome`]), and is
//!   a [`Future`](std::future::Future). [`TaskError`] says why there is no
//!   value: the task panicked, was cancelled, was rejected after shutdown,
//!   or the pool is broken.
//! - **Collections.** [`ThreadPoolExecutor::map`] yields results in input
//!   order with a bounded window and automatic batching ([`MapOptions`]);
//!   [`as_completed`] yields handles in finishing order; [`wait`] splits
//!   handles into done and not done by a [`ReturnWhen`] condition.
//! - **Borrowing.** [`ThreadPoolExecutor::scope`] runs tasks that borrow
//!   from the caller's stack and joins them all before returning.
//! - **Async** (the `async` feature). `ThreadPoolExecutor::spawn` runs a
//!   future on the workers and `AsCompleted::into_stream` is a `Stream`;
//!   any handle can be `.await`ed, with or without the feature.
//! - **Declaring tasks** (the `macros` feature). `#[task]` turns a
//!   function into a task with `name::submit(&pool, ..)` and
//!   `name::map(&pool, ..)`.
//! - **Generic code.** The [`Executor`] trait (`submit`, `try_submit`,
//!   `map`, and boxed forms for `dyn Executor`) is implemented by the pool,
//!   `&pool` and `Arc<pool>`, so a library can take `&impl Executor` and
//!   leave the choice of pool to the application; `AsyncExecutor` adds
//!   `spawn`.
//! - **Timers and limits.** [`submit_after`](ThreadPoolExecutor::submit_after)
//!   and [`schedule_at_fixed_rate`](ThreadPoolExecutor::schedule_at_fixed_rate)
//!   run tasks later or periodically on the pool's one timer;
//!   [`limited`](ThreadPoolExecutor::limited) gives a [`Limited`] view
//!   running at most k tasks at once (and optionally at most n per period).
//! - **Stopping running work.** [`ThreadPoolExecutor::submit_with_token`]
//!   gives a task a [`CancelToken`] to look at; `cancel()` on its handle
//!   then asks it to stop once it runs. A [`TaskGroup`]
//!   ([`ThreadPoolExecutor::group`]) cancels its other tasks at the first
//!   error or success ([`GroupPolicy`]) and limits the tasks in flight;
//!   [`Scope::group`] makes a [`ScopedTaskGroup`] of tasks that borrow.
//! - **Shutdown.** [`ThreadPoolExecutor::shutdown`] and
//!   [`shutdown_with`](ThreadPoolExecutor::shutdown_with); dropping a pool
//!   shuts it down and waits; [`shutdown_timeout`](ThreadPoolExecutor::shutdown_timeout)
//!   gives up at a deadline and reports what still ran. [`global_guard`]
//!   joins [`global()`] when `main` returns. [`ThreadPoolExecutor::stats`]
//!   gives counters cheap enough for a progress bar.
//! - **Observing.** Builder hooks ([`on_thread_start`](ThreadPoolBuilder::on_thread_start),
//!   [`on_thread_stop`](ThreadPoolBuilder::on_thread_stop),
//!   [`before_task`](ThreadPoolBuilder::before_task),
//!   [`after_task`](ThreadPoolBuilder::after_task)) and, with the `tracing`
//!   feature, a span per task (see below).
//!
//! Calling [`TaskHandle::result`] (or `wait`, `as_completed`, a `Map`, a
//! `scope`) on a worker of the same pool runs the awaited task right there
//! when it is still queued, so nested submit-and-wait cannot deadlock, even
//! with one worker: the case where Python's pool hangs. It never runs
//! *unrelated* queued tasks while it waits (rayon does, which deadlocks on a
//! lock held across the wait); when the awaited task runs elsewhere, the
//! waiter blocks and the pool starts or wakes another worker meanwhile.
//!
//! # Features
//!
//! | feature | default | adds | dependencies |
//! |---|---|---|---|
//! | `async` | yes | `spawn`, `spawn_named`, `map_async`, `impl futures::task::Spawn`, `AsCompleted::into_stream`, `AsyncExecutor` | `futures-core`, `futures-task` |
//! | `macros` | yes | `#[executor::task]` | `executor-macros` |
//!
//! With `default-features = false` the crate depends on `crossbeam-deque`,
//! `crossbeam-utils` and `num_cpus` only; pools, handles, `map`, `scope`,
//! `as_completed`, `wait` and the [`Executor`] trait are all there, and a
//! [`TaskHandle`] is still a `Future`. An `async fn` under `#[task]` needs
//! both features. The API docs on docs.rs mark each item that needs a
//! feature.
//!
//! # Tracing (feature `tracing`)
//!
//! With the `tracing` feature each run of a task (a closure's run, each
//! poll of an async task) is a `task` span (target
//! `executor`, level DEBUG) with the fields `task.id` (its
//! [`TaskId`]), `task.name` and `pool` (the `thread_name_prefix`). Its
//! parent is the span that was current where the task was submitted, so a
//! request's span reaches the work it fans out, across the pool, and a task
//! submitted by a task nests under it; the submitter's subscriber comes
//! along. Events: `task panicked` (WARN, in the task's span), `task cancelled`
//! (DEBUG), `task rejected`, `task refused: the pool is broken`, `task
//! abandoned` (WARN, in the submitter's span), and `worker initializer
//! panicked: the pool is broken` (ERROR). Without the feature none of this
//! is compiled in.
//!
//! ```
//! # #[cfg(feature = "tracing")] {
//! use tracing_subscriber::fmt::format::FmtSpan;
//!
//! let subscriber = tracing_subscriber::fmt()
//!     .with_max_level(tracing::Level::DEBUG)
//!     .with_span_events(FmtSpan::NEW)
//!     .without_time()
//!     .finish();
//! tracing::subscriber::with_default(subscriber, || {
//!     let pool = executor::ThreadPoolExecutor::builder()
//!         .thread_name_prefix("thumbs")
//!         .build()
//!         .unwrap();
//!     let request = tracing::info_span!("request", user = 7);
//!     let _in_request = request.enter();
//!     let pool = std::sync::Arc::new(pool);
//!     let inner = pool.clone();
//!     pool.submit_named("resize", move || {
//!         tracing::info!("resizing");
//!         inner.submit_named("encode", || panic!("bad pixel")).result().unwrap_err();
//!     })
//!     .result()
//!     .unwrap();
//! });
//! // Prints the task tree, each line under its spans (ids vary):
//! //  INFO request{user=7}: new
//! // DEBUG request{user=7}:task{task.id=94… task.name="resize" pool="thumbs"}: executor: new
//! //  INFO request{user=7}:task{task.id=94… task.name="resize" pool="thumbs"}: rust_out: resizing
//! // DEBUG request{user=7}:task{… task.name="resize" …}:task{task.id=94… task.name="encode" pool="thumbs"}: executor: new
//! //  WARN request{user=7}:task{… task.name="resize" …}:task{… task.name="encode" …}: executor: task panicked panic=task 'encode' panicked: bad pixel
//! # }
//! ```
//!
//! # For Python users
//!
//! | Python `concurrent.futures` | `executor` |
//! |---|---|
//! | `ThreadPoolExecutor(max_workers=8, thread_name_prefix="io")` | `ThreadPoolExecutor::builder().max_workers(8).thread_name_prefix("io").build()?` |
//! | `initializer=f, initargs=(a,)` | `.initializer(move \|\| f(a))` |
//! | `with ThreadPoolExecutor() as pool:` | `let pool = ThreadPoolExecutor::new();` (dropping it waits) |
//! | `pool.submit(fn, x)` | `pool.submit(move \|\| fn(x))` |
//! | `pool.map(fn, xs)` | `pool.map(xs, fn)`: `Result`s in input order |
//! | `pool.shutdown(wait=True, cancel_futures=False)` | `pool.shutdown(true)`, `pool.shutdown_with(true, false)` |
//! | `f.result()`, `f.result(timeout=t)` | `h.result()`, `h.result_timeout(t)` |
//! | `f.done()`, `f.running()`, `f.cancel()`, `f.cancelled()` | the same names |
//! | `f.add_done_callback(fn)` | `h.add_done_callback(\|outcome\| ..)` |
//! | `as_completed(fs, timeout=t)` | `as_completed(hs).timeout(t)` |
//! | `wait(fs, return_when=FIRST_EXCEPTION)` | `wait(hs, ReturnWhen::FirstException, None)` |
//! | the task's exception | `TaskError::Panicked`, or an `Err` the task returns |
//! | `CancelledError`, `BrokenThreadPool`, `RuntimeError` after shutdown | `TaskError::Cancelled`, `TaskError::Broken`, `TaskError::Rejected` |
//! | `await asyncio.to_thread(fn)` | `pool.submit(fn).await` |
//! | `threading.Timer(t, fn).start()` | `pool.submit_after(t, fn)` |
//! | a `Semaphore(k)` around each task | `pool.limited(k).submit(fn)` |
//!
//! The guide, `docs/guide.md` in the repository, covers every
//! `concurrent.futures` name, worker counts for I/O and CPU work,
//! cancellation, shutdown, async interop and the common mistakes; the
//! `examples/` directory has the threading tutorials' patterns as
//! runnable programs.

#![deny(missing_docs, missing_debug_implementations, unreachable_pub)]
// docs.rs (`--cfg docsrs`, on nightly) marks what needs a feature.
#![cfg_attr(docsrs, feature(doc_cfg))]
#![deny(unsafe_op_in_unsafe_fn)]

mod builder;
mod cancel;
mod capacity;
mod completion;
mod deadline;
mod error;
mod executor_trait;
mod global_exit;
mod group;
mod handle;
mod hooks;
mod join;
mod limited;
mod limits;
#[cfg(feature = "macros")]
mod macro_support;
mod map;
mod now_running;
mod pool;
#[cfg(feature = "indicatif")]
mod progress_bar;
mod scheduler;
mod scope;
mod shutdown_timeout;
mod spawn;
mod stats;
mod sync;
mod task;
#[cfg(test)]
mod tests;
mod timer;
#[cfg(feature = "tracing")]
mod trace;
mod unwind;

pub use builder::ThreadPoolBuilder;
pub use cancel::{CancelToken, Cancelled, CancelledFuture};
#[cfg(feature = "async")]
pub use completion::as_completed::AsCompletedStream;
pub use completion::as_completed::{as_completed, AsCompleted, AsCompletedTimeout, TimedOut};
pub use completion::wait::{wait, ReturnWhen, WaitResult};
pub use error::{BuildError, Outcome, Panic, SubmitError, TaskError};
#[cfg(feature = "async")]
pub use executor_trait::{AsyncExecutor, BoxedFuture};
pub use executor_trait::{BoxedTask, Executor, OrderedMap};
pub use global_exit::{global_guard, shutdown_global, shutdown_global_timeout, GlobalGuard};
pub use group::{GroupError, GroupPolicy, ScopedTaskGroup, TaskGroup};
pub use handle::TaskHandle;
pub use hooks::TaskInfo;
pub use join::join;
pub use limited::Limited;
#[cfg(feature = "async")]
pub use map::async_map::MapAsync;
pub use map::{Map, MapOptions};
pub use pool::{global, ThreadPoolExecutor};
#[cfg(feature = "indicatif")]
pub use progress_bar::WithProgress;
pub use scope::{Scope, ScopedHandle};
pub use shutdown_timeout::{RunningTask, ShutdownReport};
pub use stats::Stats;
pub use task::TaskId;

/// The README's example runs as a doc test, so it stays true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

/// What `#[task]`'s generated code calls; not a public interface.
#[cfg(feature = "macros")]
#[doc(hidden)]
pub mod __private {
    pub use crate::macro_support::AsyncTasks;
}

/// Declares a function as a pool task: `#[executor::task]`. Needs the
/// `macros` feature (on by default).
///
/// The function stays callable as written. A module of the same name holds
/// its pool entry points: `submit(&pool, args...)` returns a [`TaskHandle`],
/// `map(&pool, items)` yields results in input order (each item is the
/// argument, or a tuple of the arguments), and `submit_global` / `map_global`
/// do the same on [`global()`].
///
/// Declare tasks at module level (in a doctest, next to an explicit
/// `fn main`): the generated module cannot see a function declared inside a
/// function body.
///
/// ```
/// use executor::{task, ThreadPoolExecutor};
///
/// /// The area of a rectangle.
/// #[task]
/// fn area(width: u32, height: u32) -> u32 {
///     width * height
/// }
///
/// #[task]
/// fn parse_port(text: String) -> Result<u16, std::num::ParseIntError> {
///     text.parse()
/// }
///
/// fn main() {
///     let pool = ThreadPoolExecutor::new();
///     assert_eq!(area(2, 3), 6); // still an ordinary function
///     assert_eq!(area::submit(&pool, 2, 3).result().unwrap(), 6);
///
///     let areas: Vec<u32> = area::map(&pool, [(1, 1), (2, 2), (3, 3)])
///         .map(Result::unwrap)
///         .collect();
///     assert_eq!(areas, [1, 4, 9]); // in input order
///
///     let port = parse_port::submit_global("8080".to_string()).result().unwrap();
///     assert_eq!(port, Ok(8080));
/// }
/// ```
///
/// `name = "..."` names the task in panic messages (the default is the
/// function's name):
///
/// ```
/// #[executor::task(name = "resize")]
/// fn resize(width: u32) -> u32 {
///     assert!(width > 0, "zero width");
///     width
/// }
///
/// fn main() {
///     let err = resize::submit_global(0).result().unwrap_err();
///     assert_eq!(err.to_string(), "task 'resize' panicked: zero width");
/// }
/// ```
///
/// An `async fn` task is spawned on the pool's workers (this needs the
/// `async` feature too; without it, the error says so):
///
#[cfg_attr(feature = "async", doc = "```")]
#[cfg_attr(not(feature = "async"), doc = "```compile_fail,E0277")]
/// #[executor::task]
/// async fn label(id: u64) -> String {
///     format!("item {id}")
/// }
///
/// fn main() {
///     let pool = executor::ThreadPoolExecutor::new();
///     assert_eq!(label::submit(&pool, 7).result().unwrap(), "item 7");
/// }
/// ```
///
/// When Cargo.toml renames the dependency (`exec = { package = "executor", ... }`),
/// say where it is with `#[exec::task(crate = "exec")]`.
///
/// A task runs on another thread after `submit` returns, so borrowed
/// arguments are a compile error on the borrowed type:
///
/// ```compile_fail
/// #[executor::task]
/// fn word_count(text: &str) -> usize {
///     text.split_whitespace().count()
/// }
/// # fn main() {}
/// ```
///
/// and so are arguments that are not `Send`:
///
/// ```compile_fail
/// #[executor::task]
/// fn count(shared: std::rc::Rc<Vec<u8>>) -> usize {
///     shared.len()
/// }
/// # fn main() {}
/// ```
#[cfg(feature = "macros")]
#[cfg_attr(docsrs, doc(cfg(feature = "macros")))]
pub use executor_macros::task;
