//! `pool.map_async(items, f)`: an async function over many inputs, results
//! in input order, with a bounded window of tasks in flight (the async
//! counterpart of [`map`](ThreadPoolExecutor::map); `#[task]` uses it for an
//! `async fn`).

use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::iter::FusedIterator;

use crate::error::TaskError;
use crate::handle::TaskHandle;
use crate::pool::ThreadPoolExecutor;

/// Async tasks in flight per worker: an async task holds no worker while it
/// waits, so the window is wider than `map`'s, for I/O concurrency.
const WINDOW_PER_WORKER: usize = 16;

/// The iterator returned by [`ThreadPoolExecutor::map_async`]: results in
/// input order, at most a window of tasks in flight. Needs the `async`
/// feature (on by default).
///
/// ```
/// let pool = executor::ThreadPoolExecutor::new();
/// let mut doubled = pool.map_async(1..=3, |i: u32| async move { i * 2 });
/// assert_eq!(doubled.next().unwrap().unwrap(), 2);
/// assert_eq!(doubled.size_hint(), (2, Some(2)));
/// ```
#[cfg_attr(docsrs, doc(cfg(feature = "async")))]
#[must_use = "iterators are lazy: nothing is spawned until it is consumed"]
pub struct MapAsync<'a, I, F, Fut>
where
    Fut: Future,
{
    pool: &'a ThreadPoolExecutor,
    inputs: I,
    f: F,
    in_flight: VecDeque<TaskHandle<Fut::Output>>,
    window: usize,
    exhausted: bool,
    name: Option<&'static str>,
}

impl<I, F, Fut> Iterator for MapAsync<'_, I, F, Fut>
where
    I: Iterator,
    F: FnMut(I::Item) -> Fut,
    Fut: Future + Send + 'static,
    Fut::Output: Send + 'static,
{
    type Item = Result<Fut::Output, TaskError>;

    fn next(&mut self) -> Option<Self::Item> {
        while !self.exhausted && self.in_flight.len() < self.window {
            match self.inputs.next() {
                Some(item) => {
                    let future = (self.f)(item);
                    let handle = match self.name {
                        Some(name) => self.pool.spawn_named(name, future),
                        None => self.pool.spawn(future),
                    };
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

impl<I, F, Fut> FusedIterator for MapAsync<'_, I, F, Fut>
where
    I: Iterator,
    F: FnMut(I::Item) -> Fut,
    Fut: Future + Send + 'static,
    Fut::Output: Send + 'static,
{
}

impl<I, F, Fut: Future> fmt::Debug for MapAsync<'_, I, F, Fut> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MapAsync")
            .field("in_flight", &self.in_flight.len())
            .field("window", &self.window)
            .field("exhausted", &self.exhausted)
            .finish_non_exhaustive()
    }
}

impl ThreadPoolExecutor {
    /// Runs `f(item)`'s future as an async task for every input and yields
    /// the results in input order, like [`map`](Self::map) does for
    /// closures. At most 16 tasks per worker are in flight: the input is
    /// taken lazily, so an endless iterator is fine, and a slow first item
    /// holds back only what the window holds.
    ///
    /// `f` runs on the calling thread (it only builds the future); the
    /// futures run on the pool's workers.
    ///
    /// Needs the `async` feature (on by default).
    ///
    /// ```
    /// let pool = executor::ThreadPoolExecutor::new();
    /// let lengths: Vec<usize> = pool
    ///     .map_async(["a", "bb", "ccc"], |s| async move { s.len() })
    ///     .collect::<Result<_, _>>()
    ///     .unwrap();
    /// assert_eq!(lengths, [1, 2, 3]);
    ///
    /// // Lazy: the first results of an endless input.
    /// let first: Vec<u64> = pool
    ///     .map_async(0.., |i: u64| async move { i * i })
    ///     .take(4)
    ///     .map(Result::unwrap)
    ///     .collect();
    /// assert_eq!(first, [0, 1, 4, 9]);
    /// ```
    #[cfg_attr(docsrs, doc(cfg(feature = "async")))]
    pub fn map_async<I, F, Fut>(&self, inputs: I, f: F) -> MapAsync<'_, I::IntoIter, F, Fut>
    where
        I: IntoIterator,
        F: FnMut(I::Item) -> Fut,
        Fut: Future + Send + 'static,
        Fut::Output: Send + 'static,
    {
        self.map_async_inner(None, inputs, f)
    }

    /// Like [`map_async`](Self::map_async), naming the tasks for panic
    /// messages (what `#[task]` does for an `async fn`). Needs the `async`
    /// feature (on by default).
    ///
    /// ```
    /// let pool = executor::ThreadPoolExecutor::new();
    /// let mut results = pool.map_async_named("parse", ["1", "x"], |s| async move {
    ///     s.parse::<u32>().expect("a number")
    /// });
    /// assert_eq!(results.next().unwrap().unwrap(), 1);
    /// let err = results.next().unwrap().unwrap_err();
    /// assert!(err.to_string().starts_with("task 'parse' panicked"));
    /// ```
    #[cfg_attr(docsrs, doc(cfg(feature = "async")))]
    pub fn map_async_named<I, F, Fut>(
        &self,
        name: &'static str,
        inputs: I,
        f: F,
    ) -> MapAsync<'_, I::IntoIter, F, Fut>
    where
        I: IntoIterator,
        F: FnMut(I::Item) -> Fut,
        Fut: Future + Send + 'static,
        Fut::Output: Send + 'static,
    {
        self.map_async_inner(Some(name), inputs, f)
    }

    fn map_async_inner<I, F, Fut>(
        &self,
        name: Option<&'static str>,
        inputs: I,
        f: F,
    ) -> MapAsync<'_, I::IntoIter, F, Fut>
    where
        I: IntoIterator,
        Fut: Future,
    {
        MapAsync {
            pool: self,
            inputs: inputs.into_iter(),
            f,
            in_flight: VecDeque::new(),
            window: WINDOW_PER_WORKER * self.max_workers(),
            exhausted: false,
            name,
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    use super::*;

    #[test]
    fn the_window_bounds_what_is_taken_from_the_input() {
        let pool = ThreadPoolExecutor::builder()
            .max_workers(2)
            .build()
            .unwrap();
        let taken = Arc::new(AtomicUsize::new(0));
        let t = taken.clone();
        let inputs = (0..).inspect(move |_| {
            t.fetch_add(1, Ordering::SeqCst);
        });
        let mut results = pool.map_async(inputs, |i: u32| async move { i + 1 });
        assert_eq!(
            taken.load(Ordering::SeqCst),
            0,
            "lazy until the first next()"
        );
        assert_eq!(results.next().unwrap().unwrap(), 1);
        assert_eq!(taken.load(Ordering::SeqCst), 2 * WINDOW_PER_WORKER);
        let rest: Vec<u32> = results.by_ref().take(99).map(Result::unwrap).collect();
        assert_eq!(rest, (2..=100).collect::<Vec<_>>());
        assert_eq!(
            taken.load(Ordering::SeqCst),
            100 + 2 * WINDOW_PER_WORKER - 1
        );
    }

    #[test]
    fn a_panicking_future_is_an_error_in_its_place() {
        let pool = ThreadPoolExecutor::new();
        let results: Vec<_> = pool
            .map_async(0..4, |i: u32| async move {
                assert!(i != 2, "item two");
                i
            })
            .collect();
        assert_eq!(results.len(), 4);
        assert_eq!(*results[1].as_ref().unwrap(), 1);
        assert!(results[2].as_ref().unwrap_err().is_panic());
        assert_eq!(*results[3].as_ref().unwrap(), 3);
    }
}
