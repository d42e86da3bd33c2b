//! The ways a task can fail to deliver its value, and the ways a submission
//! can be refused.

use std::any::Any;
use std::borrow::Cow;
use std::fmt;

use crate::limits as config;

/// A panic caught at a task boundary, carried to the task's handle.
///
/// The payload is kept intact so the caller can re-raise it with
/// [`Panic::resume`], the way `std::thread::JoinHandle::join` hands it back.
///
/// ```
/// let pool = executor::ThreadPoolExecutor::new();
/// let err = pool.submit(|| panic!("disk full")).result().unwrap_err();
/// let panic = err.into_panic();
/// assert_eq!(panic.message(), Some("disk full"));
/// ```
pub struct Panic(Box<PanicInner>);

/// Boxed so that a task's output slot (`Result<T, Panic>`) stays one word
/// wider than `T`: panics are rare, outputs are everywhere.
struct PanicInner {
    payload: Payload,
    /// A copy of the message, taken when the panic is caught, so `message()`
    /// never needs shared access to the payload.
    message: Option<Cow<'static, str>>,
    task_name: Option<&'static str>,
}

/// The payload, reachable only by value.
///
/// A panic payload is `Send` but not `Sync`. Without this wrapper `Panic`,
/// and so `TaskError`, would not be `Sync`, and `handle.result()?` would not
/// convert into `Box<dyn Error + Send + Sync>` or `anyhow::Error`.
struct Payload(Box<dyn Any + Send + 'static>);

// SAFETY: `Payload` offers no access to its content through `&Payload`: the
// only way in is `Payload::into_inner(self)`, which takes it by value. So a
// `&Payload` shared between threads can never reach the non-`Sync` value
// inside; moving it between threads is what `Send` (already given) covers.
unsafe impl Sync for Payload {}

impl Payload {
    fn into_inner(self) -> Box<dyn Any + Send + 'static> {
        self.0
    }
}

impl Panic {
    pub(crate) fn new(
        payload: Box<dyn Any + Send + 'static>,
        task_name: Option<&'static str>,
    ) -> Self {
        let message = if let Some(s) = payload.downcast_ref::<&'static str>() {
            Some(Cow::Borrowed(*s))
        } else {
            payload
                .downcast_ref::<String>()
                .map(|s| Cow::Owned(s.clone()))
        };
        Self(Box::new(PanicInner {
            payload: Payload(payload),
            message,
            task_name,
        }))
    }

    /// The panic message, when the payload is a `&str` or a `String` (what
    /// `panic!("...")` produces).
    pub fn message(&self) -> Option<&str> {
        self.0.message.as_deref()
    }

    /// The name the task was submitted under (see
    /// [`ThreadPoolExecutor::submit_named`](crate::ThreadPoolExecutor::submit_named)).
    pub fn task_name(&self) -> Option<&'static str> {
        self.0.task_name
    }

    /// The raw payload, as `std::panic::catch_unwind` returns it.
    pub fn into_payload(self) -> Box<dyn Any + Send + 'static> {
        self.0.payload.into_inner()
    }

    /// Re-raises the panic on the current thread with its original payload.
    pub fn resume(self) -> ! {
        std::panic::resume_unwind(self.0.payload.into_inner())
    }
}

impl fmt::Debug for Panic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Panic")
            .field("task_name", &self.0.task_name)
            .field("message", &self.message())
            .finish()
    }
}

impl fmt::Display for Panic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.task_name {
            Some(name) => write!(f, "task '{name}' panicked")?,
            None => f.write_str("task panicked")?,
        }
        match self.message() {
            Some(msg) => write!(f, ": {msg}"),
            None => f.write_str(" (non-string payload)"),
        }
    }
}

/// Why a [`TaskHandle`](crate::TaskHandle) holds no value.
///
/// The Rust counterpart of the exceptions `concurrent.futures.Future.result`
/// raises: the task's own exception, `CancelledError`, `RuntimeError` for a
/// submit after shutdown, and `BrokenThreadPool`.
///
/// ```
/// use executor::{TaskError, ThreadPoolExecutor};
///
/// let pool = ThreadPoolExecutor::new();
/// pool.shutdown(true);
/// let err = pool.submit(|| 1).result().unwrap_err();
/// assert!(matches!(err, TaskError::Rejected));
/// assert_eq!(err.to_string(), "task rejected: the pool is shut down");
/// ```
#[derive(Debug)]
pub enum TaskError {
    /// The task panicked; the payload is inside. The worker that ran it
    /// carried on serving other tasks.
    Panicked(Panic),
    /// The task was cancelled before it started, by
    /// [`TaskHandle::cancel`](crate::TaskHandle::cancel) or by
    /// `shutdown_with(_, true)`. It never ran.
    Cancelled,
    /// The task was submitted after the pool was shut down. It never ran.
    Rejected,
    /// The pool is broken (a worker's initializer panicked). The task never ran.
    Broken,
    /// An async task that had started (it was polled, so it counted as
    /// running) can never finish: it was parked on its waker when the pool
    /// shut down and no clone of that waker was left to wake it, or its
    /// pool broke. Its future was dropped unfinished.
    Abandoned,
}

impl TaskError {
    /// Whether the task panicked.
    pub fn is_panic(&self) -> bool {
        matches!(self, TaskError::Panicked(_))
    }

    /// Whether the task was cancelled.
    pub fn is_cancelled(&self) -> bool {
        matches!(self, TaskError::Cancelled)
    }

    /// The caught panic.
    ///
    /// # Panics
    ///
    /// Panics with a message naming the actual error when `self` is not
    /// [`TaskError::Panicked`]; use [`TaskError::try_into_panic`] to check.
    pub fn into_panic(self) -> Panic {
        match self.try_into_panic() {
            Ok(panic) => panic,
            Err(other) => {
                panic!("TaskError::into_panic called on a task that did not panic: {other}")
            }
        }
    }

    /// The caught panic, or `self` back when the task did not panic.
    pub fn try_into_panic(self) -> Result<Panic, TaskError> {
        match self {
            TaskError::Panicked(panic) => Ok(panic),
            other => Err(other),
        }
    }
}

impl fmt::Display for TaskError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TaskError::Panicked(panic) => panic.fmt(f),
            TaskError::Cancelled => f.write_str("task cancelled before it started"),
            TaskError::Rejected => f.write_str("task rejected: the pool is shut down"),
            TaskError::Broken => {
                f.write_str("task not run: the pool is broken (a worker initializer panicked)")
            }
            TaskError::Abandoned => f.write_str(
                "async task abandoned unfinished: no waker was left to resume it when its pool closed",
            ),
        }
    }
}

impl std::error::Error for TaskError {}

/// A submission the pool did not take, with the closure handed back so that
/// nothing is lost (as crossbeam's `TrySendError` hands back the message).
///
/// ```
/// use executor::{SubmitError, ThreadPoolExecutor};
///
/// let pool = ThreadPoolExecutor::new();
/// pool.shutdown(true);
/// match pool.try_submit(|| 2 + 2) {
///     Err(SubmitError::Shutdown(f)) => assert_eq!(f(), 4), // run it here instead
///     _ => unreachable!(),
/// }
/// ```
pub enum SubmitError<F> {
    /// The pool is shut down.
    Shutdown(F),
    /// The pool's queue is at its capacity (see
    /// [`ThreadPoolBuilder::queue_capacity`](crate::ThreadPoolBuilder::queue_capacity)).
    Full(F),
    /// The queue stayed full for the whole timeout of
    /// [`ThreadPoolExecutor::submit_timeout`](crate::ThreadPoolExecutor::submit_timeout).
    Timeout(F),
    /// The pool is broken: a worker initializer panicked.
    Broken(F),
}

impl<F> SubmitError<F> {
    /// The closure that was not submitted.
    pub fn into_inner(self) -> F {
        match self {
            SubmitError::Shutdown(f)
            | SubmitError::Full(f)
            | SubmitError::Timeout(f)
            | SubmitError::Broken(f) => f,
        }
    }

    fn reason(&self) -> &'static str {
        match self {
            SubmitError::Shutdown(_) => "the pool is shut down",
            SubmitError::Full(_) => "the pool's queue is full",
            SubmitError::Timeout(_) => "the pool's queue stayed full until the timeout",
            SubmitError::Broken(_) => "the pool is broken (a worker initializer panicked)",
        }
    }
}

impl<F> fmt::Debug for SubmitError<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let variant = match self {
            SubmitError::Shutdown(_) => "Shutdown",
            SubmitError::Full(_) => "Full",
            SubmitError::Timeout(_) => "Timeout",
            SubmitError::Broken(_) => "Broken",
        };
        write!(f, "SubmitError::{variant}(..)")
    }
}

impl<F> fmt::Display for SubmitError<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "task not submitted: {}", self.reason())
    }
}

impl<F> std::error::Error for SubmitError<F> {}

/// Why [`ThreadPoolBuilder::build`](crate::ThreadPoolBuilder::build) refused to build a pool.
///
/// ```
/// use executor::{BuildError, ThreadPoolExecutor};
///
/// let err = ThreadPoolExecutor::builder().thread_name_prefix("io\0").build().unwrap_err();
/// assert!(matches!(&err, BuildError::InvalidThreadName(prefix) if prefix == "io\0"));
/// assert_eq!(
///     err.to_string(),
///     r#"thread_name_prefix must not contain a NUL byte (got "io\0")"#
/// );
///
/// let err = ThreadPoolExecutor::builder().max_workers(usize::MAX).build().unwrap_err();
/// assert!(matches!(err, BuildError::TooManyWorkers { max: usize::MAX }));
/// assert_eq!(
///     err.to_string(),
///     format!("max_workers ({}) must not exceed 32767", usize::MAX)
/// );
///
/// let err = ThreadPoolExecutor::builder().stack_size(0).build().unwrap_err();
/// assert!(matches!(err, BuildError::InvalidStackSize { bytes: 0 }));
/// assert_eq!(
///     err.to_string(),
///     format!("stack_size (0 bytes) must be between 65536 and {} bytes", isize::MAX)
/// );
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum BuildError {
    /// `max_workers(0)`: a pool needs at least one worker.
    ZeroWorkers,
    /// `max_workers` is above [`ThreadPoolBuilder::MAX_WORKERS`](crate::ThreadPoolBuilder::MAX_WORKERS).
    TooManyWorkers {
        /// The requested maximum.
        max: usize,
    },
    /// `min_workers` is larger than `max_workers`.
    MinAboveMax {
        /// The requested minimum.
        min: usize,
        /// The requested maximum.
        max: usize,
    },
    /// `queue_capacity(0)`: no task could ever be queued.
    ZeroCapacity,
    /// `thread_name_prefix` contains a NUL byte, which no thread name may
    /// hold. Holds the prefix.
    InvalidThreadName(String),
    /// `stack_size` is outside [`ThreadPoolBuilder::MIN_STACK_SIZE`](crate::ThreadPoolBuilder::MIN_STACK_SIZE)..=[`ThreadPoolBuilder::MAX_STACK_SIZE`](crate::ThreadPoolBuilder::MAX_STACK_SIZE).
    InvalidStackSize {
        /// The requested stack size, in bytes.
        bytes: usize,
    },
    /// The operating system refused to start a worker thread.
    Spawn(std::io::Error),
}

impl fmt::Display for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BuildError::ZeroWorkers => f.write_str("max_workers must be at least 1"),
            BuildError::TooManyWorkers { max } => write!(
                f,
                "max_workers ({max}) must not exceed {}",
                config::MAX_WORKERS
            ),
            BuildError::MinAboveMax { min, max } => {
                write!(f, "min_workers ({min}) must not exceed max_workers ({max})")
            }
            BuildError::ZeroCapacity => f.write_str("queue_capacity must be at least 1"),
            BuildError::InvalidThreadName(prefix) => {
                write!(
                    f,
                    "thread_name_prefix must not contain a NUL byte (got {prefix:?})"
                )
            }
            BuildError::InvalidStackSize { bytes } => write!(
                f,
                "stack_size ({bytes} bytes) must be between {} and {} bytes",
                config::MIN_STACK_SIZE,
                config::MAX_STACK_SIZE
            ),
            BuildError::Spawn(e) => write!(f, "could not start a worker thread: {e}"),
        }
    }
}

impl std::error::Error for BuildError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            BuildError::Spawn(e) => Some(e),
            _ => None,
        }
    }
}

/// How a task ended, as a done callback is told.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// It returned a value.
    Completed,
    /// It panicked.
    Panicked,
    /// It was cancelled before it started.
    Cancelled,
    /// It was submitted after shutdown.
    Rejected,
    /// The pool was broken.
    Broken,
    /// An async task that started but can never finish: see
    /// [`TaskError::Abandoned`].
    Abandoned,
}

/// Why a task never ran: the refusals a queued task can be resolved with.
/// The one mapping from these to the public [`TaskError`] and [`Outcome`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// Cancelled before it started (`cancel`, `shutdown` with `cancel_futures`).
    Cancelled,
    /// Submitted to (or queued in) a pool that shut down before running it.
    Rejected,
    /// Submitted to (or queued in) a broken pool.
    Broken,
}

impl Refusal {
    /// The error a handle of a refused task reports.
    pub(crate) fn error(self) -> TaskError {
        match self {
            Refusal::Cancelled => TaskError::Cancelled,
            Refusal::Rejected => TaskError::Rejected,
            Refusal::Broken => TaskError::Broken,
        }
    }

    /// What a done callback of a refused task is told.
    pub(crate) fn outcome(self) -> Outcome {
        match self {
            Refusal::Cancelled => Outcome::Cancelled,
            Refusal::Rejected => Outcome::Rejected,
            Refusal::Broken => Outcome::Broken,
        }
    }

    /// The refusal an error reports, if it is one.
    pub(crate) fn of_error(error: &TaskError) -> Option<Refusal> {
        match error {
            TaskError::Cancelled => Some(Refusal::Cancelled),
            TaskError::Rejected => Some(Refusal::Rejected),
            TaskError::Broken => Some(Refusal::Broken),
            TaskError::Panicked(_) | TaskError::Abandoned => None,
        }
    }

    /// The refusal an outcome stands for, if it is one.
    pub(crate) fn of(outcome: Outcome) -> Option<Refusal> {
        match outcome {
            Outcome::Cancelled => Some(Refusal::Cancelled),
            Outcome::Rejected => Some(Refusal::Rejected),
            Outcome::Broken => Some(Refusal::Broken),
            Outcome::Completed | Outcome::Panicked | Outcome::Abandoned => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn panic_message_from_str_and_string() {
        let p = Panic::new(Box::new("boom"), None);
        assert_eq!(p.message(), Some("boom"));
        assert_eq!(p.to_string(), "task panicked: boom");
        let p = Panic::new(Box::new(format!("code {}", 7)), Some("fetch"));
        assert_eq!(p.message(), Some("code 7"));
        assert_eq!(p.to_string(), "task 'fetch' panicked: code 7");
        let p = Panic::new(Box::new(42_u32), None);
        assert_eq!(p.message(), None);
        assert_eq!(p.to_string(), "task panicked (non-string payload)");
        assert_eq!(*p.into_payload().downcast::<u32>().unwrap(), 42);
    }

    #[test]
    fn errors_are_send_and_sync_so_question_mark_converts_them() {
        fn send_sync<T: Send + Sync + 'static>() {}
        send_sync::<Panic>();
        send_sync::<TaskError>();
        fn boxed() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
            Err(TaskError::Panicked(Panic::new(Box::new("x"), None)))?;
            Ok(())
        }
        assert_eq!(boxed().unwrap_err().to_string(), "task panicked: x");
    }

    #[test]
    fn task_error_display_and_predicates() {
        let e = TaskError::Panicked(Panic::new(Box::new("x"), None));
        assert!(e.is_panic() && !e.is_cancelled());
        assert_eq!(e.to_string(), "task panicked: x");
        assert!(TaskError::Cancelled.is_cancelled());
        assert_eq!(
            TaskError::Cancelled.to_string(),
            "task cancelled before it started"
        );
        assert!(TaskError::Broken.to_string().contains("broken"));
        assert!(TaskError::Abandoned.to_string().contains("no waker"));
        assert!(matches!(
            TaskError::Rejected.try_into_panic(),
            Err(TaskError::Rejected)
        ));
        let err: Box<dyn std::error::Error> = Box::new(TaskError::Rejected);
        assert!(err.to_string().contains("shut down"));
    }

    #[test]
    #[should_panic(expected = "did not panic: task cancelled")]
    fn into_panic_on_other_error_says_what_it_was() {
        let _ = TaskError::Cancelled.into_panic();
    }

    #[test]
    fn submit_error_hands_the_closure_back() {
        let e = SubmitError::Full(|| 5);
        assert_eq!(format!("{e:?}"), "SubmitError::Full(..)");
        assert_eq!(
            e.to_string(),
            "task not submitted: the pool's queue is full"
        );
        assert_eq!((e.into_inner())(), 5);
    }
}
