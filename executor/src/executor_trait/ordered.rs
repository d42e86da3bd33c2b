//! [`OrderedMap`]: the default `Executor::map`, built on `submit` alone.

use std::collections::VecDeque;
use std::fmt;
use std::iter::FusedIterator;
use std::sync::Arc;

use super::Executor;
use crate::error::TaskError;
use crate::handle::TaskHandle;

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
