//! [`as_completed`]: each handle as soon as its task finishes, as an
//! iterator, with a deadline, or as a `Stream` (with the `async` feature).

use std::cell::Cell;
use std::collections::VecDeque;
use std::fmt;
#[cfg(feature = "async")]
use std::pin::Pin;
use std::sync::Arc;
#[cfg(feature = "async")]
use std::task::{Context, Poll};
use std::time::Duration;

#[cfg(feature = "async")]
use futures_core::stream::{FusedStream, Stream};

use super::inbox::{claim_next, Inbox};
use crate::deadline::Deadline;
use crate::handle::TaskHandle;
use crate::task::CallbackKey;

/// Yields every handle exactly once, in the order the tasks finish: Python's
/// `concurrent.futures.as_completed`.
///
/// Handles whose tasks are already done when this is called come first (in
/// input order). The iterator blocks while nothing new has finished;
/// [`AsCompleted::timeout`] bounds the whole iteration. Each handle gets one
/// done callback, so `n` handles cost O(n) in total, and a million is fine.
/// Once the iteration ends, is dropped, or gives its handles back
/// ([`into_pending`](AsCompleted::into_pending), a [`TimedOut`]), nothing of
/// it stays registered on the handles not yielded.
/// For async code, `AsCompleted::into_stream` (with the `async` feature)
/// makes it a `futures_core::Stream`.
///
/// Called on a worker thread of a pool, it runs the given tasks that are
/// still queued there while it waits (like [`TaskHandle::result`], and
/// never any other task), so it cannot deadlock on tasks queued behind the
/// caller.
///
/// ```
/// use executor::{as_completed, ThreadPoolExecutor};
///
/// let pool = ThreadPoolExecutor::new();
/// let handles: Vec<_> = (1..=5_u64).map(|i| pool.submit(move || i * 10)).collect();
/// let mut total = 0;
/// for handle in as_completed(handles) {
///     match handle.result() {
///         Ok(value) => total += value,
///         Err(e) => eprintln!("a task failed: {e}"),
///     }
/// }
/// assert_eq!(total, 150);
/// ```
pub fn as_completed<T, I>(handles: I) -> AsCompleted<T>
where
    I: IntoIterator<Item = TaskHandle<T>>,
{
    let inbox = Inbox::new();
    let handles: Vec<Option<TaskHandle<T>>> = handles.into_iter().map(Some).collect();
    // A handle that is already done runs the callback right here, so those
    // come first, in input order.
    let keys = handles
        .iter()
        .enumerate()
        .map(|(index, handle)| handle.as_ref().and_then(|h| inbox.watch(h, index, true)))
        .collect();
    AsCompleted {
        remaining: handles.len(),
        handles,
        keys,
        inbox,
        local: VecDeque::new(),
        seen: 0,
        claim_from: Cell::new(0),
    }
}

/// The iterator (and stream) returned by [`as_completed`].
///
/// It knows exactly how many handles it has yet to yield
/// ([`ExactSizeIterator::len`]); [`into_pending`](Self::into_pending) hands
/// the not-yet-yielded handles back.
///
/// ```
/// use executor::{as_completed, ThreadPoolExecutor};
///
/// let pool = ThreadPoolExecutor::new();
/// let handles: Vec<_> = (0..3).map(|i| pool.submit(move || i)).collect();
/// let mut completions = as_completed(handles);
/// assert_eq!(completions.len(), 3);
/// completions.next().unwrap().result().unwrap();
/// assert_eq!(completions.len(), 2);
/// ```
#[must_use = "iterators are lazy; the handles come back as it is consumed"]
pub struct AsCompleted<T> {
    /// Input order; `None` once yielded.
    handles: Vec<Option<TaskHandle<T>>>,
    /// The key of each handle's done callback (`None` if it ran at once),
    /// to take the callbacks of the handles not yielded off again.
    keys: Vec<Option<CallbackKey>>,
    remaining: usize,
    pub(super) inbox: Arc<Inbox>,
    /// Finished indices moved out of the inbox, not yet yielded.
    local: VecDeque<usize>,
    /// How many indices were moved out of the inbox so far.
    seen: usize,
    /// Where a waiting worker looks for the next queued task to run (see
    /// [`claim_next`]).
    claim_from: Cell<usize>,
}

impl<T> AsCompleted<T> {
    /// How many handles it was given.
    ///
    /// ```
    /// use executor::{as_completed, ThreadPoolExecutor};
    ///
    /// let pool = ThreadPoolExecutor::new();
    /// let handles: Vec<_> = (0..4).map(|i| pool.submit(move || i)).collect();
    /// let mut completions = as_completed(handles);
    /// assert_eq!(completions.total(), 4);
    /// completions.next();
    /// assert!(completions.done() >= 1); // finished: yielded or about to be
    /// completions.by_ref().for_each(drop);
    /// assert_eq!((completions.done(), completions.in_flight()), (4, 0));
    /// ```
    pub fn total(&self) -> usize {
        self.handles.len()
    }

    /// How many of the tasks have finished, whether yielded yet or not.
    /// One atomic load (the completion callbacks count them), so cheap
    /// enough to call after every handle. The handles yielded so far are
    /// `total() - len()`.
    pub fn done(&self) -> usize {
        self.inbox.pushed().min(self.handles.len())
    }

    /// How many of the tasks have not finished yet: `total() - done()`.
    pub fn in_flight(&self) -> usize {
        self.total() - self.done()
    }

    /// Ends the iteration with an error once `timeout` has passed (counted
    /// from this call), handing back the handles that had not finished:
    /// Python's `as_completed(fs, timeout)`, minus the lost futures.
    ///
    /// ```
    /// use std::time::Duration;
    /// use executor::{as_completed, ThreadPoolExecutor};
    ///
    /// let pool = ThreadPoolExecutor::new();
    /// let (tx, rx) = std::sync::mpsc::channel::<()>();
    /// let quick = pool.submit(|| "quick");
    /// let slow = pool.submit(move || { rx.recv().unwrap(); "slow" });
    ///
    /// let mut finished = Vec::new();
    /// let mut unfinished = Vec::new();
    /// for next in as_completed([quick, slow]).timeout(Duration::from_millis(50)) {
    ///     match next {
    ///         Ok(handle) => finished.push(handle.result().unwrap()),
    ///         Err(timed_out) => unfinished = timed_out.into_pending(),
    ///     }
    /// }
    /// assert_eq!(finished, ["quick"]);
    /// assert_eq!(unfinished.len(), 1);
    /// tx.send(()).unwrap();
    /// assert_eq!(unfinished.pop().unwrap().result().unwrap(), "slow");
    /// ```
    pub fn timeout(self, timeout: Duration) -> AsCompletedTimeout<T> {
        AsCompletedTimeout {
            inner: Some(self),
            deadline: Deadline::after(timeout),
        }
    }

    /// The handles not yielded yet, in input order (some may have finished
    /// in the meantime). Use it to stop early without losing any task.
    /// The done callbacks this iteration registered are taken off them
    /// first: nothing stays registered on the handles returned, so they
    /// can be passed to `as_completed` or [`wait`](crate::wait()) again
    /// and again at no growing cost.
    ///
    /// ```
    /// use executor::{as_completed, ThreadPoolExecutor};
    ///
    /// let pool = ThreadPoolExecutor::new();
    /// let handles: Vec<_> = (0..4).map(|i| pool.submit(move || i)).collect();
    /// let mut completions = as_completed(handles);
    /// let first = completions.next().unwrap();
    /// let rest = completions.into_pending();
    /// assert_eq!(rest.len(), 3);
    /// # drop((first, rest));
    /// ```
    pub fn into_pending(mut self) -> Vec<TaskHandle<T>> {
        self.release();
        self.remaining = 0;
        std::mem::take(&mut self.handles)
            .into_iter()
            .flatten()
            .collect()
    }

    /// Stops listening: closes the inbox and takes the done callbacks off
    /// the handles not yielded yet (a yielded handle's callback has run),
    /// so nothing of this iteration stays registered on them. Idempotent.
    fn release(&mut self) {
        self.inbox.close();
        for (handle, key) in self.handles.iter().zip(self.keys.iter_mut()) {
            if let Some(handle) = handle {
                Inbox::unwatch(handle, key.take());
            }
        }
        self.keys = Vec::new();
    }

    /// Whether a completion is waiting to be yielded, without blocking.
    fn has_news(&self) -> bool {
        !self.local.is_empty() || self.inbox.pushed() > self.seen
    }

    /// The next finished handle, if one is known to be finished now.
    fn try_next(&mut self) -> Option<TaskHandle<T>> {
        if self.local.is_empty() && self.inbox.pushed() > self.seen {
            self.seen += self.inbox.drain_into(&mut self.local);
        }
        let index = self.local.pop_front()?;
        let handle = self.handles[index].take();
        debug_assert!(handle.is_some(), "handle {index} completed twice");
        self.remaining -= 1;
        handle
    }

    /// The next handle, waiting at most until `deadline`; `Err(())` on timeout.
    fn next_until(&mut self, deadline: Deadline) -> Result<Option<TaskHandle<T>>, ()> {
        loop {
            if self.remaining == 0 {
                return Ok(None);
            }
            if let Some(handle) = self.try_next() {
                return Ok(Some(handle));
            }
            let inbox = &*self.inbox;
            let seen = self.seen;
            let ready = || inbox.pushed() > seen;
            let (handles, next) = (&self.handles, &self.claim_from);
            let claim = |pool| claim_next(handles.len(), |i| handles[i].as_ref(), next, pool);
            if !inbox.block_until(&ready, &claim, deadline) {
                return Err(());
            }
        }
    }
}

impl<T> Iterator for AsCompleted<T> {
    type Item = TaskHandle<T>;

    fn next(&mut self) -> Option<TaskHandle<T>> {
        match self.next_until(Deadline::Never) {
            Ok(next) => next,
            Err(()) => unreachable!("waiting without a deadline does not time out"),
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.remaining, Some(self.remaining))
    }
}

impl<T> ExactSizeIterator for AsCompleted<T> {}

impl<T> std::iter::FusedIterator for AsCompleted<T> {}

#[cfg(feature = "async")]
impl<T> AsCompleted<T> {
    /// The same completions as a [`futures_core::Stream`], for async code:
    /// waiting costs no thread. (A separate type, so that `StreamExt` and
    /// `Iterator` methods never clash.) Needs the `async` feature (on by
    /// default).
    ///
    /// ```
    /// use futures::StreamExt;
    /// use executor::{as_completed, ThreadPoolExecutor};
    ///
    /// let pool = ThreadPoolExecutor::new();
    /// let handles: Vec<_> = (1..=3_u32).map(|i| pool.submit(move || i)).collect();
    /// let sum = futures::executor::block_on(async {
    ///     let mut sum = 0;
    ///     let mut completions = as_completed(handles).into_stream();
    ///     while let Some(handle) = completions.next().await {
    ///         sum += handle.await.unwrap(); // a yielded handle is ready at once
    ///     }
    ///     sum
    /// });
    /// assert_eq!(sum, 6);
    /// ```
    #[cfg_attr(docsrs, doc(cfg(feature = "async")))]
    pub fn into_stream(self) -> AsCompletedStream<T> {
        AsCompletedStream { inner: self }
    }
}

/// [`as_completed`] as a [`futures_core::Stream`], from
/// [`AsCompleted::into_stream`]: handles in finishing order, each once.
/// Needs the `async` feature (on by default).
///
/// For a deadline, wrap it in your runtime's timeout (or use
/// `futures::StreamExt::take_until`); nothing is lost when it is dropped:
/// [`into_pending`](Self::into_pending) gives the rest back.
///
/// ```
/// use futures::StreamExt;
/// use executor::{as_completed, ThreadPoolExecutor};
///
/// let pool = ThreadPoolExecutor::new();
/// let handles: Vec<_> = (0..4_u32).map(|i| pool.submit(move || i)).collect();
/// let results: Vec<u32> = futures::executor::block_on(
///     as_completed(handles)
///         .into_stream()
///         .then(|handle| async move { handle.await.unwrap() })
///         .collect(),
/// );
/// assert_eq!(results.len(), 4);
/// ```
#[cfg(feature = "async")]
#[cfg_attr(docsrs, doc(cfg(feature = "async")))]
#[must_use = "streams are lazy; the handles come back as it is polled"]
pub struct AsCompletedStream<T> {
    inner: AsCompleted<T>,
}

#[cfg(feature = "async")]
impl<T> AsCompletedStream<T> {
    /// The handles not yielded yet, in input order. As with
    /// [`AsCompleted::into_pending`], nothing stays registered on them.
    ///
    /// ```
    /// use executor::{as_completed, ThreadPoolExecutor};
    ///
    /// let pool = ThreadPoolExecutor::new();
    /// let handles: Vec<_> = (0..2).map(|i| pool.submit(move || i)).collect();
    /// assert_eq!(as_completed(handles).into_stream().into_pending().len(), 2);
    /// ```
    pub fn into_pending(self) -> Vec<TaskHandle<T>> {
        self.inner.into_pending()
    }
}

#[cfg(feature = "async")]
impl<T> Stream for AsCompletedStream<T> {
    type Item = TaskHandle<T>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<TaskHandle<T>>> {
        let this = &mut self.get_mut().inner;
        loop {
            if this.remaining == 0 {
                return Poll::Ready(None);
            }
            if let Some(handle) = this.try_next() {
                return Poll::Ready(Some(handle));
            }
            let seen = this.seen;
            let inbox = &*this.inbox;
            if inbox.register_waker(cx.waker(), &|| inbox.pushed() > seen) {
                return Poll::Pending;
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.inner.remaining, Some(self.inner.remaining))
    }
}

#[cfg(feature = "async")]
impl<T> FusedStream for AsCompletedStream<T> {
    fn is_terminated(&self) -> bool {
        self.inner.remaining == 0
    }
}

#[cfg(feature = "async")]
impl<T> fmt::Debug for AsCompletedStream<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("AsCompletedStream")
            .field(&self.inner)
            .finish()
    }
}

impl<T> Drop for AsCompleted<T> {
    fn drop(&mut self) {
        self.release();
    }
}

impl<T> fmt::Debug for AsCompleted<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsCompleted")
            .field("total", &self.handles.len())
            .field("remaining", &self.remaining)
            .field("ready", &self.has_news())
            .finish()
    }
}

/// [`as_completed`] with a deadline, from [`AsCompleted::timeout`].
///
/// Yields `Ok(handle)` in finishing order; if the deadline passes first, it
/// yields one `Err(`[`TimedOut`]`)` holding every handle not yielded yet,
/// then ends.
///
/// ```
/// use std::time::Duration;
/// use executor::{as_completed, ThreadPoolExecutor};
///
/// let pool = ThreadPoolExecutor::new();
/// let handles: Vec<_> = (0..3).map(|i| pool.submit(move || i)).collect();
/// let mut sum = 0;
/// for next in as_completed(handles).timeout(Duration::from_secs(60)) {
///     sum += next.expect("all finish well within a minute").result().unwrap();
/// }
/// assert_eq!(sum, 3);
/// ```
#[must_use = "iterators are lazy; the handles come back as it is consumed"]
pub struct AsCompletedTimeout<T> {
    /// `None` once the timeout was reported.
    inner: Option<AsCompleted<T>>,
    /// `None` when the timeout was too long to represent: never expires.
    deadline: Deadline,
}

impl<T> AsCompletedTimeout<T> {
    /// The handles not yielded yet, in input order (empty after the
    /// timeout was reported: they went with the error). As with
    /// [`AsCompleted::into_pending`], nothing stays registered on them.
    ///
    /// ```
    /// use std::time::Duration;
    /// use executor::{as_completed, ThreadPoolExecutor};
    ///
    /// let pool = ThreadPoolExecutor::new();
    /// let handles: Vec<_> = (0..3).map(|i| pool.submit(move || i)).collect();
    /// let completions = as_completed(handles).timeout(Duration::from_secs(60));
    /// assert_eq!(completions.into_pending().len(), 3);
    /// ```
    pub fn into_pending(mut self) -> Vec<TaskHandle<T>> {
        self.inner
            .take()
            .map(AsCompleted::into_pending)
            .unwrap_or_default()
    }
}

impl<T> Iterator for AsCompletedTimeout<T> {
    type Item = Result<TaskHandle<T>, TimedOut<T>>;

    fn next(&mut self) -> Option<Self::Item> {
        let inner = self.inner.as_mut()?;
        match inner.next_until(self.deadline) {
            Ok(next) => next.map(Ok),
            Err(()) => {
                let pending = self.inner.take().map(AsCompleted::into_pending);
                Some(Err(TimedOut {
                    pending: pending.unwrap_or_default(),
                }))
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        match &self.inner {
            // At most one more item (the timeout error) than handles left.
            Some(inner) => (0, Some(inner.remaining + 1)),
            None => (0, Some(0)),
        }
    }
}

impl<T> std::iter::FusedIterator for AsCompletedTimeout<T> {}

impl<T> fmt::Debug for AsCompletedTimeout<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsCompletedTimeout")
            .field("inner", &self.inner)
            .field("deadline", &self.deadline)
            .finish()
    }
}

/// The timeout of [`AsCompleted::timeout`] passed: the handles that had not
/// been yielded come back here, still running, nothing lost (Python raises
/// `TimeoutError` and leaves you the futures), and nothing of the
/// iteration left registered on them.
///
/// ```
/// use std::time::Duration;
/// use executor::{as_completed, ThreadPoolExecutor};
///
/// let pool = ThreadPoolExecutor::new();
/// let (tx, rx) = std::sync::mpsc::channel::<()>();
/// let stuck = pool.submit(move || rx.recv().unwrap());
/// let err = as_completed([stuck])
///     .timeout(Duration::from_millis(10))
///     .next()
///     .unwrap()
///     .unwrap_err();
/// assert_eq!(err.to_string(), "as_completed timed out with 1 task(s) unfinished");
/// tx.send(()).unwrap();
/// for handle in err.into_pending() {
///     handle.result().unwrap();
/// }
/// ```
pub struct TimedOut<T> {
    pending: Vec<TaskHandle<T>>,
}

impl<T> TimedOut<T> {
    /// The handles that were not yielded, in input order.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # let pool = executor::ThreadPoolExecutor::new();
    /// # let (tx, rx) = std::sync::mpsc::channel::<()>();
    /// # let stuck = pool.submit(move || rx.recv().unwrap());
    /// # let err = executor::as_completed([stuck]).timeout(Duration::ZERO).next().unwrap().unwrap_err();
    /// assert_eq!(err.pending().len(), 1);
    /// # tx.send(()).unwrap();
    /// ```
    pub fn pending(&self) -> &[TaskHandle<T>] {
        &self.pending
    }

    /// Takes the handles that were not yielded, in input order.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # let pool = executor::ThreadPoolExecutor::new();
    /// # let (tx, rx) = std::sync::mpsc::channel::<()>();
    /// # let stuck = pool.submit(move || rx.recv().unwrap());
    /// # let err = executor::as_completed([stuck]).timeout(Duration::ZERO).next().unwrap().unwrap_err();
    /// let pending = err.into_pending();
    /// tx.send(()).unwrap();
    /// assert!(pending.into_iter().all(|h| h.result().is_ok()));
    /// ```
    pub fn into_pending(self) -> Vec<TaskHandle<T>> {
        self.pending
    }
}

impl<T> fmt::Debug for TimedOut<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TimedOut")
            .field("pending", &self.pending.len())
            .finish()
    }
}

impl<T> fmt::Display for TimedOut<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "as_completed timed out with {} task(s) unfinished",
            self.pending.len()
        )
    }
}

impl<T> std::error::Error for TimedOut<T> {}
