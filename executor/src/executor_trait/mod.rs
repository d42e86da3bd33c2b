//! The [`Executor`] trait: what code generic over "where tasks run" may ask
//! of a pool, and [`AsyncExecutor`] for futures (the `async` feature).
//!
//! The traits know nothing of the scheduler: an implementation needs only
//! the public API of whatever it forwards to, so a view of a pool (a
//! concurrency limit, a rate limit) or a test double implements them the
//! same way the pool does.

use std::collections::VecDeque;
use std::fmt;
use std::iter::FusedIterator;
use std::sync::Arc;

use crate::error::{SubmitError, TaskError};
use crate::handle::TaskHandle;
use crate::limited::Limited;
use crate::pool::ThreadPoolExecutor;

/// A closure as a `dyn Executor` takes it: boxed, returning nothing.
pub type BoxedTask = Box<dyn FnOnce() + Send + 'static>;

/// Something that runs `'static` closures somewhere and hands back a
/// [`TaskHandle`]: a [`ThreadPoolExecutor`], a reference to one, an
/// `Arc` of one, or a view of a pool. Libraries take `&impl Executor` (or
/// `E: Executor`) and let the application choose the pool.
///
/// `submit`, `try_submit` and `map` mean what the
/// [`ThreadPoolExecutor`] methods of the same names mean: `submit` resolves
/// the handle to [`TaskError::Rejected`] when the executor no longer takes
/// work, `try_submit` hands the closure back instead, and `map` yields
/// results in input order.
///
/// ```
/// use executor::{Executor, TaskError, ThreadPoolExecutor};
///
/// /// A library function: checksums of many buffers, on the caller's pool.
/// fn checksums(pool: &impl Executor, buffers: Vec<Vec<u8>>) -> Result<Vec<u32>, TaskError> {
///     pool.map(buffers, |bytes| bytes.iter().map(|&b| u32::from(b)).sum())
///         .collect()
/// }
///
/// let pool = ThreadPoolExecutor::builder().max_workers(2).build().unwrap();
/// let sums = checksums(&pool, vec![vec![1, 2], vec![3], vec![]]).unwrap();
/// assert_eq!(sums, [3, 3, 0]);
///
/// // An `Arc` works the same (and so does `&Arc`, or a view of a pool).
/// let shared = std::sync::Arc::new(pool);
/// assert_eq!(checksums(&shared, vec![vec![5; 4]]).unwrap(), [20]);
/// ```
///
/// # `dyn Executor`
///
/// The generic methods need `Self: Sized`; a `dyn Executor` offers the
/// boxed ones, [`submit_boxed`](Self::submit_boxed) and
/// [`try_submit_boxed`](Self::try_submit_boxed), for code that stores an
/// executor chosen at run time. The task reports through what it captures:
///
/// ```
/// use std::sync::mpsc;
/// use executor::{Executor, ThreadPoolExecutor};
///
/// struct Uploader {
///     runs_on: Box<dyn Executor + Send + Sync>,
/// }
///
/// let pool = ThreadPoolExecutor::new();
/// let uploader = Uploader { runs_on: Box::new(std::sync::Arc::new(pool)) };
/// let (tx, rx) = mpsc::channel();
/// let done = uploader.runs_on.submit_boxed(Box::new(move || tx.send("sent").unwrap()));
/// done.result().unwrap();
/// assert_eq!(rx.recv().unwrap(), "sent");
/// ```
///
/// # Implementing it
///
/// `submit`, `try_submit` and the two boxed methods are required, usually
/// by forwarding. `map` has a default built on `submit` (an
/// [`OrderedMap`]: one task per item, a bounded window in flight); the
/// pool overrides it with its batched [`Map`](crate::Map).
///
/// ```
/// use executor::{BoxedTask, Executor, SubmitError, TaskHandle, ThreadPoolExecutor};
/// use std::sync::atomic::{AtomicUsize, Ordering};
///
/// /// Counts what it forwards to a pool.
/// struct Counting<'a> {
///     pool: &'a ThreadPoolExecutor,
///     submitted: AtomicUsize,
/// }
///
/// impl Executor for Counting<'_> {
///     fn submit<F, T>(&self, f: F) -> TaskHandle<T>
///     where
///         F: FnOnce() -> T + Send + 'static,
///         T: Send + 'static,
///     {
///         self.submitted.fetch_add(1, Ordering::Relaxed);
///         self.pool.submit(f)
///     }
///
///     fn try_submit<F, T>(&self, f: F) -> Result<TaskHandle<T>, SubmitError<F>>
///     where
///         F: FnOnce() -> T + Send + 'static,
///         T: Send + 'static,
///     {
///         let handle = self.pool.try_submit(f)?;
///         self.submitted.fetch_add(1, Ordering::Relaxed);
///         Ok(handle)
///     }
///
///     fn submit_boxed(&self, task: BoxedTask) -> TaskHandle<()> {
///         self.submit(task)
///     }
///
///     fn try_submit_boxed(&self, task: BoxedTask) -> Result<TaskHandle<()>, SubmitError<BoxedTask>> {
///         self.try_submit(task)
///     }
/// }
///
/// let pool = ThreadPoolExecutor::new();
/// let counting = Counting { pool: &pool, submitted: AtomicUsize::new(0) };
/// let doubled: Vec<u32> = counting.map(1..=3, |x| x * 2).map(Result::unwrap).collect();
/// assert_eq!(doubled, [2, 4, 6]);
/// assert_eq!(counting.submitted.load(Ordering::Relaxed), 3); // the default map: one task each
/// ```
pub trait Executor {
    /// Runs `f` and returns its handle; see [`ThreadPoolExecutor::submit`].
    ///
    /// ```
    /// use executor::{Executor, ThreadPoolExecutor};
    ///
    /// fn answer(on: impl Executor) -> u32 {
    ///     on.submit(|| 6 * 7).result().unwrap()
    /// }
    /// assert_eq!(answer(&ThreadPoolExecutor::new()), 42);
    /// ```
    fn submit<F, T>(&self, f: F) -> TaskHandle<T>
    where
        Self: Sized,
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static;

    /// Runs `f` if the executor takes it now, without blocking; otherwise
    /// hands it back in the error. See [`ThreadPoolExecutor::try_submit`].
    ///
    /// ```
    /// use executor::{Executor, ThreadPoolExecutor};
    ///
    /// fn run_or_inline(on: &impl Executor, f: fn() -> u32) -> u32 {
    ///     match on.try_submit(f) {
    ///         Ok(handle) => handle.result().unwrap(),
    ///         Err(refused) => refused.into_inner()(), // run it on this thread
    ///     }
    /// }
    /// let pool = ThreadPoolExecutor::new();
    /// pool.shutdown(true);
    /// assert_eq!(run_or_inline(&pool, || 7), 7);
    /// ```
    fn try_submit<F, T>(&self, f: F) -> Result<TaskHandle<T>, SubmitError<F>>
    where
        Self: Sized,
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static;

    /// Runs `f` on every input and yields the results in input order; see
    /// [`ThreadPoolExecutor::map`]. The default submits one task per item
    /// with a bounded window in flight ([`OrderedMap`]).
    ///
    /// ```
    /// use executor::{Executor, ThreadPoolExecutor};
    ///
    /// fn lengths(on: &impl Executor, words: Vec<String>) -> Vec<usize> {
    ///     on.map(words, |w| w.len()).map(Result::unwrap).collect()
    /// }
    /// let pool = ThreadPoolExecutor::new();
    /// assert_eq!(lengths(&pool, vec!["a".into(), "abc".into()]), [1, 3]);
    /// ```
    fn map<'a, I, F, T>(
        &'a self,
        inputs: I,
        f: F,
    ) -> impl Iterator<Item = Result<T, TaskError>> + 'a
    where
        Self: Sized,
        I: IntoIterator,
        I::IntoIter: 'a,
        I::Item: Send + 'static,
        F: Fn(I::Item) -> T + Send + Sync + 'static,
        T: Send + 'static,
    {
        OrderedMap::new(self, inputs, f)
    }

    /// [`submit`](Self::submit) for a `dyn Executor`: a boxed closure, a
    /// handle to `()`.
    ///
    /// ```
    /// use executor::{Executor, ThreadPoolExecutor};
    ///
    /// let pool = ThreadPoolExecutor::new();
    /// let on: &dyn Executor = &pool;
    /// assert!(on.submit_boxed(Box::new(|| ())).result().is_ok());
    /// ```
    fn submit_boxed(&self, task: BoxedTask) -> TaskHandle<()>;

    /// [`try_submit`](Self::try_submit) for a `dyn Executor`.
    ///
    /// ```
    /// use executor::{Executor, ThreadPoolExecutor};
    ///
    /// let pool = ThreadPoolExecutor::new();
    /// pool.shutdown(true);
    /// let on: &dyn Executor = &pool;
    /// assert!(on.try_submit_boxed(Box::new(|| ())).is_err());
    /// ```
    fn try_submit_boxed(&self, task: BoxedTask) -> Result<TaskHandle<()>, SubmitError<BoxedTask>>;
}

/// An [`Executor`] that also runs futures: `spawn`. Needs the `async`
/// feature (on by default), as [`ThreadPoolExecutor::spawn`] does.
///
/// A separate trait rather than a method under a feature flag, so that
/// turning `async` on in one crate of a build never adds a required method
/// to another crate's `impl Executor`.
///
/// ```
/// use executor::{AsyncExecutor, ThreadPoolExecutor};
///
/// /// A library function: one async task per name, results in order.
/// fn greet_all(on: &impl AsyncExecutor, names: &[&'static str]) -> Vec<String> {
///     let handles: Vec<_> = names
///         .iter()
///         .map(|&name| on.spawn(async move { format!("hello, {name}") }))
///         .collect();
///     handles.into_iter().map(|h| h.result().unwrap()).collect()
/// }
///
/// let pool = ThreadPoolExecutor::new();
/// assert_eq!(greet_all(&pool, &["ada", "bo"]), ["hello, ada", "hello, bo"]);
/// ```
#[cfg(feature = "async")]
#[cfg_attr(docsrs, doc(cfg(feature = "async")))]
pub trait AsyncExecutor: Executor {
    /// Runs `future` as an async task; see [`ThreadPoolExecutor::spawn`].
    ///
    /// ```
    /// use executor::{AsyncExecutor, ThreadPoolExecutor};
    ///
    /// let pool = ThreadPoolExecutor::new();
    /// let handle = AsyncExecutor::spawn(&pool, async { 1 + 1 });
    /// assert_eq!(handle.result().unwrap(), 2);
    /// ```
    fn spawn<Fut>(&self, future: Fut) -> TaskHandle<Fut::Output>
    where
        Self: Sized,
        Fut: std::future::Future + Send + 'static,
        Fut::Output: Send + 'static;

    /// [`spawn`](Self::spawn) for a `dyn AsyncExecutor`: a boxed future of
    /// `()`.
    ///
    /// ```
    /// use executor::{AsyncExecutor, ThreadPoolExecutor};
    ///
    /// let pool = ThreadPoolExecutor::new();
    /// let on: &dyn AsyncExecutor = &pool;
    /// assert!(on.spawn_boxed(Box::pin(async {})).result().is_ok());
    /// ```
    fn spawn_boxed(&self, future: BoxedFuture) -> TaskHandle<()>;
}

/// A future as a `dyn AsyncExecutor` takes it: boxed, pinned, of `()`.
/// Needs the `async` feature.
#[cfg(feature = "async")]
#[cfg_attr(docsrs, doc(cfg(feature = "async")))]
pub type BoxedFuture = std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send + 'static>>;

/// Implements both traits for a type whose inherent methods have the same
/// shapes (the pool and its views): each method calls the inherent one.
macro_rules! executor_by_inherent_methods {
    ($ty:ty) => {
        impl Executor for $ty {
            fn submit<F, T>(&self, f: F) -> TaskHandle<T>
            where
                F: FnOnce() -> T + Send + 'static,
                T: Send + 'static,
            {
                <$ty>::submit(self, f)
            }

            fn try_submit<F, T>(&self, f: F) -> Result<TaskHandle<T>, SubmitError<F>>
            where
                F: FnOnce() -> T + Send + 'static,
                T: Send + 'static,
            {
                <$ty>::try_submit(self, f)
            }

            fn map<'a, I, F, T>(
                &'a self,
                inputs: I,
                f: F,
            ) -> impl Iterator<Item = Result<T, TaskError>> + 'a
            where
                I: IntoIterator,
                I::IntoIter: 'a,
                I::Item: Send + 'static,
                F: Fn(I::Item) -> T + Send + Sync + 'static,
                T: Send + 'static,
            {
                <$ty>::map(self, inputs, f)
            }

            fn submit_boxed(&self, task: BoxedTask) -> TaskHandle<()> {
                <$ty>::submit(self, task)
            }

            fn try_submit_boxed(
                &self,
                task: BoxedTask,
            ) -> Result<TaskHandle<()>, SubmitError<BoxedTask>> {
                <$ty>::try_submit(self, task)
            }
        }

        #[cfg(feature = "async")]
        impl AsyncExecutor for $ty {
            fn spawn<Fut>(&self, future: Fut) -> TaskHandle<Fut::Output>
            where
                Fut: std::future::Future + Send + 'static,
                Fut::Output: Send + 'static,
            {
                <$ty>::spawn(self, future)
            }

            fn spawn_boxed(&self, future: BoxedFuture) -> TaskHandle<()> {
                <$ty>::spawn(self, future)
            }
        }
    };
}

executor_by_inherent_methods!(ThreadPoolExecutor);
executor_by_inherent_methods!(Limited);

/// Forwards every method to `E`, so `&pool` and `&view` are executors too.
macro_rules! forward_executor {
    ($($impl_head:tt)*) => {
        $($impl_head)* {
            fn submit<F, T>(&self, f: F) -> TaskHandle<T>
            where
                F: FnOnce() -> T + Send + 'static,
                T: Send + 'static,
            {
                E::submit(self, f)
            }

            fn try_submit<F, T>(&self, f: F) -> Result<TaskHandle<T>, SubmitError<F>>
            where
                F: FnOnce() -> T + Send + 'static,
                T: Send + 'static,
            {
                E::try_submit(self, f)
            }

            fn map<'a, I, F, T>(
                &'a self,
                inputs: I,
                f: F,
            ) -> impl Iterator<Item = Result<T, TaskError>> + 'a
            where
                I: IntoIterator,
                I::IntoIter: 'a,
                I::Item: Send + 'static,
                F: Fn(I::Item) -> T + Send + Sync + 'static,
                T: Send + 'static,
            {
                E::map(self, inputs, f)
            }

            fn submit_boxed(&self, task: BoxedTask) -> TaskHandle<()> {
                E::submit_boxed(self, task)
            }

            fn try_submit_boxed(
                &self,
                task: BoxedTask,
            ) -> Result<TaskHandle<()>, SubmitError<BoxedTask>> {
                E::try_submit_boxed(self, task)
            }
        }
    };
}

forward_executor!(impl<E: Executor> Executor for &E);
forward_executor!(impl<E: Executor> Executor for Arc<E>);

/// The same for futures.
#[cfg(feature = "async")]
macro_rules! forward_async_executor {
    ($($impl_head:tt)*) => {
        $($impl_head)* {
            fn spawn<Fut>(&self, future: Fut) -> TaskHandle<Fut::Output>
            where
                Fut: std::future::Future + Send + 'static,
                Fut::Output: Send + 'static,
            {
                E::spawn(self, future)
            }

            fn spawn_boxed(&self, future: BoxedFuture) -> TaskHandle<()> {
                E::spawn_boxed(self, future)
            }
        }
    };
}

#[cfg(feature = "async")]
forward_async_executor!(impl<E: AsyncExecutor> AsyncExecutor for &E);
#[cfg(feature = "async")]
forward_async_executor!(impl<E: AsyncExecutor> AsyncExecutor for Arc<E>);

#[cfg(all(test, not(loom)))]
mod tests;

// ---- OrderedMap: the default `Executor::map`, built on `submit` alone ----

/// Items in flight per available CPU: enough to keep the workers busy
/// while the consumer takes results in order, few enough that an endless
/// input is fine.
const WINDOW_PER_CPU: usize = 4;

/// The iterator of the default [`Executor::map`]: one task per item, at most
/// a window of them in flight (4 per CPU), results in input order.
///
/// The input is pulled lazily on the consuming thread. Dropping the
/// iterator detaches the tasks in flight: they still run.
///
/// ```
/// use executor::{OrderedMap, ThreadPoolExecutor};
///
/// let pool = ThreadPoolExecutor::new();
/// let squares: Vec<u64> = OrderedMap::new(&pool, 1..=4_u64, |x| x * x)
///     .map(Result::unwrap)
///     .collect();
/// assert_eq!(squares, [1, 4, 9, 16]);
/// ```
#[must_use = "iterators are lazy: nothing is submitted until it is consumed"]
pub struct OrderedMap<'a, E, I, F, T> {
    executor: &'a E,
    inputs: I,
    f: Arc<F>,
    in_flight: VecDeque<TaskHandle<T>>,
    window: usize,
    exhausted: bool,
}

impl<'a, E, I, F, T> OrderedMap<'a, E, I, F, T>
where
    E: Executor,
    I: Iterator,
    I::Item: Send + 'static,
    F: Fn(I::Item) -> T + Send + Sync + 'static,
    T: Send + 'static,
{
    /// Maps `f` over `inputs` on `executor`, submitting nothing until the
    /// first `next`.
    pub fn new(executor: &'a E, inputs: impl IntoIterator<IntoIter = I>, f: F) -> Self {
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
        OrderedMap {
            executor,
            inputs: inputs.into_iter(),
            f: Arc::new(f),
            in_flight: VecDeque::new(),
            window: WINDOW_PER_CPU * cpus,
            exhausted: false,
        }
    }
}

impl<E, I, F, T> Iterator for OrderedMap<'_, E, I, F, T>
where
    E: Executor,
    I: Iterator,
    I::Item: Send + 'static,
    F: Fn(I::Item) -> T + Send + Sync + 'static,
    T: Send + 'static,
{
    type Item = Result<T, TaskError>;

    fn next(&mut self) -> Option<Self::Item> {
        while !self.exhausted && self.in_flight.len() < self.window {
            match self.inputs.next() {
                Some(item) => {
                    let f = Arc::clone(&self.f);
                    let handle = self.executor.submit(move || f(item));
                    self.in_flight.push_back(handle);
                }
                None => self.exhausted = true,
            }
        }
        self.in_flight.pop_front().map(TaskHandle::result)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let (low, high) = if self.exhausted {
            (0, Some(0))
        } else {
            self.inputs.size_hint()
        };
        let n = self.in_flight.len();
        (low.saturating_add(n), high.and_then(|h| h.checked_add(n)))
    }
}

impl<E, I, F, T> FusedIterator for OrderedMap<'_, E, I, F, T>
where
    E: Executor,
    I: Iterator,
    I::Item: Send + 'static,
    F: Fn(I::Item) -> T + Send + Sync + 'static,
    T: Send + 'static,
{
}

impl<E, I, F, T> fmt::Debug for OrderedMap<'_, E, I, F, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OrderedMap")
            .field("in_flight", &self.in_flight.len())
            .field("window", &self.window)
            .field("exhausted", &self.exhausted)
            .finish_non_exhaustive()
    }
}
