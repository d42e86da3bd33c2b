//! `pool.map(inputs, f)`: results in input order, a bounded window of items
//! in flight, and cheap items batched into chunks.
//!
//! # How it works
//!
//! The input iterator is pulled on the caller's thread, `chunk` items at a
//! time; each chunk becomes one task that runs `f` on its items (catching a
//! panic per item) and times itself. The [`Map`] iterator keeps the chunks'
//! handles in a queue in input order, blocks on the oldest one, and yields
//! its results one by one; every yielded result frees a place in the window,
//! which is refilled with new chunks as soon as a whole chunk fits.
//!
//! Chunk size adapts unless fixed. The map starts with one single-item
//! chunk per worker (so expensive items get going at once), and after each
//! chunk it consumes it moves the size toward what takes a target time on a
//! worker: [`TARGET_NANOS_PER_WORKER`] times the worker count, within
//! [`MIN_TARGET_NANOS`]..=[`MAX_TARGET_NANOS`]. The target grows with the
//! pool because one thread hands out every chunk in order: with `w`
//! workers it must submit (and collect) a chunk every `target / w`, and a
//! submit plus a wake-up costs a few microseconds. Growth is capped at
//! [`FIRST_CHUNK_CAP`] after the first (noisy, single-item) measurement
//! and [`CHUNK_GROWTH`]-fold per chunk after that. Expensive items stay
//! one per task; a million trivial ones run as a few dozen chunks.

#[cfg(feature = "async")]
pub(crate) mod async_map;

use std::collections::VecDeque;
use std::fmt;
use std::iter::FusedIterator;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use crate::error::{Panic, Refusal, TaskError};
use crate::handle::TaskHandle;
use crate::pool::ThreadPoolExecutor;
use crate::unwind;

/// With an automatic window: chunks in flight per worker, once the chunk
/// size is measured (before that, one per worker).
const AUTO_CHUNKS_PER_WORKER: usize = 4;
/// Adaptive chunks aim at this much work per worker of the pool...
const TARGET_NANOS_PER_WORKER: u64 = 50_000;
/// ...but at least this: the per-chunk cost (a task, its handle, a result
/// vector, the consumer's turn) is a few microseconds, and on 2 workers
/// 50 µs chunks left W2 at 1.12x rayon's `par_iter`, 200 µs at 1.02x...
const MIN_TARGET_NANOS: u64 = 200_000;
/// ...and at most this (so the load still balances).
const MAX_TARGET_NANOS: u64 = 1_000_000;
/// The largest adaptive chunk.
const MAX_CHUNK: usize = 1 << 16;
/// The largest chunk the first measurement may lead to.
const FIRST_CHUNK_CAP: usize = 1 << 10;
/// How much an adaptive chunk may grow from one chunk to the next.
const CHUNK_GROWTH: usize = 8;

/// How [`ThreadPoolExecutor::map_with`] (and [`Scope::map_with`](crate::Scope::map_with))
/// paces its work: the window of items in flight and the chunk size.
///
/// The defaults suit most uses: an automatic window of four chunks per
/// worker, and chunks sized adaptively to about 50 µs of work per worker
/// of the pool (200 µs to 1 ms each), measured as the map goes.
///
/// ```
/// use executor::{MapOptions, ThreadPoolExecutor};
///
/// let pool = ThreadPoolExecutor::new();
/// // Lines of an endless source: at most 64 in memory at once.
/// let lines = (0_u64..).map(|i| format!("line {i}"));
/// let lengths: Vec<usize> = pool
///     .map_with(lines, |line| line.len(), MapOptions::new().window(64))
///     .take(1000)
///     .map(Result::unwrap)
///     .collect();
/// assert_eq!(lengths.len(), 1000);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MapOptions {
    window: Option<usize>,
    chunk_size: Option<usize>,
}

impl MapOptions {
    /// The defaults: automatic window, adaptive chunks.
    ///
    /// ```
    /// assert_eq!(executor::MapOptions::new(), executor::MapOptions::default());
    /// ```
    pub fn new() -> MapOptions {
        MapOptions::default()
    }

    /// At most `items` items in flight: taken from the input and not yet
    /// consumed (an item counts until the caller asks for the next one),
    /// Python 3.14's `buffersize`. Chunks are
    /// then capped so that every worker can have two in flight.
    ///
    /// # Panics
    ///
    /// Panics if `items` is zero.
    ///
    /// ```
    /// let opts = executor::MapOptions::new().window(256);
    /// # let _ = opts;
    /// ```
    pub fn window(mut self, items: usize) -> MapOptions {
        assert!(items > 0, "a map window must hold at least one item");
        self.window = Some(items);
        self
    }

    /// A fixed number of items per task instead of adaptive chunking (never
    /// more than the window). `chunk_size(1)` makes every item its own task.
    ///
    /// # Panics
    ///
    /// Panics if `items` is zero.
    ///
    /// ```
    /// let opts = executor::MapOptions::new().chunk_size(1).window(8);
    /// # let _ = opts;
    /// ```
    pub fn chunk_size(mut self, items: usize) -> MapOptions {
        assert!(items > 0, "a map chunk must hold at least one item");
        self.chunk_size = Some(items);
        self
    }
}

/// What one chunk task returns.
pub(crate) struct Chunk<T> {
    /// The values of the items that did not panic, in order.
    values: Vec<T>,
    /// The items that panicked, by position in the chunk, ascending.
    panics: Vec<(usize, Panic)>,
    /// How long the items took on the worker.
    nanos: u64,
}

/// Takes the next chunk of at most `n` inputs; `None` once they run out.
pub(crate) fn take_chunk<I: Iterator>(inputs: &mut I, n: usize) -> Option<Vec<I::Item>> {
    let items: Vec<I::Item> = inputs.by_ref().take(n).collect();
    (!items.is_empty()).then_some(items)
}

/// The task that maps one chunk. Shared by the pool's and the scope's
/// feeds, which differ only in how they submit it.
pub(crate) fn chunk_task<X, F, T>(
    items: Vec<X>,
    f: &Arc<F>,
    abandoned: &Arc<AtomicBool>,
) -> impl FnOnce() -> Chunk<T> + Send
where
    X: Send,
    F: Fn(X) -> T + Send + Sync,
    T: Send,
{
    let f = Arc::clone(f);
    let abandoned = Arc::clone(abandoned);
    move || run_chunk(items, &*f, &abandoned)
}

/// The body of a chunk task: `f` on every item, each panic caught on its
/// own so that the other items still deliver. Stops early once the map was
/// dropped (nobody will read the rest).
fn run_chunk<X, T, F>(items: Vec<X>, f: &F, abandoned: &AtomicBool) -> Chunk<T>
where
    F: Fn(X) -> T,
{
    let start = Instant::now();
    let mut values = Vec::with_capacity(items.len());
    let mut panics = Vec::new();
    let mut items = items.into_iter();
    // One `catch_unwind` per run of items rather than per item: after a
    // panic the loop resumes with the item after the one that panicked
    // (`items` has already moved past it). Every item before it left a
    // value or a panic, so its position is the sum of both.
    loop {
        let run = unwind::catch(|| {
            for item in items.by_ref() {
                if abandoned.load(Ordering::Relaxed) {
                    return;
                }
                values.push(f(item));
            }
        });
        match run {
            Ok(()) => break,
            Err(payload) => {
                let position = values.len() + panics.len();
                panics.push((position, Panic::new(payload, None)));
            }
        }
    }
    Chunk {
        values,
        panics,
        nanos: u64::try_from(start.elapsed().as_nanos()).unwrap_or(u64::MAX),
    }
}

/// A chunk's handle: a plain task, or another kind of handle (a scoped
/// one, for `Scope::map`), boxed so that this module need not know it.
pub(crate) enum ChunkHandle<'a, T> {
    Pool(TaskHandle<Chunk<T>>),
    Other(Box<dyn PendingChunk<T> + 'a>),
}

/// What a map needs of a chunk's handle that is not a [`TaskHandle`].
pub(crate) trait PendingChunk<T> {
    /// Blocks for the chunk (as `TaskHandle::result`).
    fn result(self: Box<Self>) -> Result<Chunk<T>, TaskError>;

    /// Cancels the chunk if it has not started (as `TaskHandle::cancel`).
    fn cancel(&self) -> bool;
}

impl<T> ChunkHandle<'_, T> {
    fn result(self) -> Result<Chunk<T>, TaskError> {
        match self {
            ChunkHandle::Pool(h) => h.result(),
            ChunkHandle::Other(h) => h.result(),
        }
    }

    fn cancel(&self) -> bool {
        match self {
            ChunkHandle::Pool(h) => h.cancel(),
            ChunkHandle::Other(h) => h.cancel(),
        }
    }
}

/// The input side of a [`Map`], with the input and item types erased.
pub(crate) trait Feed<'a, T> {
    /// Takes up to `n` items from the input and submits them as one chunk;
    /// returns its handle and how many items it holds, or `None` when the
    /// input is exhausted.
    fn submit_chunk(
        &mut self,
        n: usize,
        abandoned: &Arc<AtomicBool>,
    ) -> Option<(ChunkHandle<'a, T>, usize)>;

    /// The input's size hint.
    fn size_hint(&self) -> (usize, Option<usize>);
}

struct PoolFeed<'a, I, F> {
    pool: &'a ThreadPoolExecutor,
    inputs: I,
    f: Arc<F>,
}

impl<'a, I, F, T> Feed<'a, T> for PoolFeed<'a, I, F>
where
    I: Iterator,
    I::Item: Send + 'static,
    F: Fn(I::Item) -> T + Send + Sync + 'static,
    T: Send + 'static,
{
    fn submit_chunk(
        &mut self,
        n: usize,
        abandoned: &Arc<AtomicBool>,
    ) -> Option<(ChunkHandle<'a, T>, usize)> {
        let items = take_chunk(&mut self.inputs, n)?;
        let len = items.len();
        let task = chunk_task(items, &self.f, abandoned);
        Some((ChunkHandle::Pool(self.pool.submit(task)), len))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.inputs.size_hint()
    }
}

/// The chunk whose results are being yielded.
struct Current<T> {
    values: std::vec::IntoIter<T>,
    /// Items before this position are plain values (the fast path).
    fast_until: usize,
    position: usize,
    len: usize,
    /// The next item that panicked, then the ones after it.
    next_panic: Option<(usize, Panic)>,
    panics: std::vec::IntoIter<(usize, Panic)>,
    /// The whole chunk failed (cancelled, rejected, broken): every item
    /// gets this error.
    failed: Option<TaskError>,
}

impl<T> Current<T> {
    fn empty() -> Self {
        Current::failed(TaskError::Cancelled, 0)
    }

    fn failed(error: TaskError, len: usize) -> Self {
        Current {
            values: Vec::new().into_iter(),
            fast_until: 0,
            position: 0,
            len,
            next_panic: None,
            panics: Vec::new().into_iter(),
            failed: Some(error),
        }
    }

    fn values(chunk: Chunk<T>, len: usize) -> Self {
        let mut panics = chunk.panics.into_iter();
        let next_panic = panics.next();
        Current {
            values: chunk.values.into_iter(),
            fast_until: next_panic.as_ref().map_or(len, |(at, _)| *at),
            position: 0,
            len,
            next_panic,
            panics,
            failed: None,
        }
    }

    #[inline]
    fn next(&mut self) -> Option<Result<T, TaskError>> {
        if self.position < self.fast_until {
            self.position += 1;
            // A chunk cut short (only once the map was dropped, so never
            // observed) would run out of values here.
            return Some(self.values.next().ok_or(TaskError::Cancelled));
        }
        self.next_cold()
    }

    #[cold]
    fn next_cold(&mut self) -> Option<Result<T, TaskError>> {
        if self.position >= self.len {
            return None;
        }
        self.position += 1;
        if let Some(error) = &self.failed {
            return Some(Err(replicate(error)));
        }
        let (at, panic) = self.next_panic.take()?;
        debug_assert_eq!(at + 1, self.position, "panics are in position order");
        self.next_panic = self.panics.next();
        self.fast_until = self.next_panic.as_ref().map_or(self.len, |(at, _)| *at);
        Some(Err(TaskError::Panicked(panic)))
    }
}

/// A chunk-level error, once per item of the chunk.
fn replicate(error: &TaskError) -> TaskError {
    if let Some(refusal) = Refusal::of_error(error) {
        return refusal.error();
    }
    match error {
        // Per-item panics are caught inside the chunk; this is a panic of
        // the chunk itself (say, an input's destructor). Carry its message.
        TaskError::Panicked(panic) => TaskError::Panicked(Panic::new(
            Box::new(panic.message().unwrap_or("a map chunk panicked").to_owned()),
            panic.task_name(),
        )),
        _ => TaskError::Abandoned,
    }
}

/// The iterator returned by [`ThreadPoolExecutor::map`]: one
/// `Result<T, TaskError>` per input item, **in input order**.
///
/// The lifetime `'a` is the borrow of the pool (or [`Scope`](crate::Scope))
/// and of the input iterator, which is pulled on the thread that consumes
/// the `Map`: only the items and `f` travel to the workers.
///
/// Dropping the iterator early cancels the chunks that have not started,
/// tells running ones to stop after their current item, and returns at
/// once (for a scoped map, the scope still joins what was running).
///
/// It is not `Send`: it stays on the thread that pulls the input.
///
/// ```
/// use executor::ThreadPoolExecutor;
///
/// let pool = ThreadPoolExecutor::new();
/// let mut lengths = pool.map(["a", "bb", "ccc"], str::len);
/// assert_eq!(lengths.next().unwrap().unwrap(), 1);
/// drop(lengths); // stops early: unstarted chunks are cancelled
/// ```
#[must_use = "work is submitted as the iterator is consumed (the first window at once)"]
pub struct Map<'a, T> {
    feed: Box<dyn Feed<'a, T> + 'a>,
    /// Submitted chunks and their item counts, oldest first.
    pending: VecDeque<(ChunkHandle<'a, T>, usize)>,
    current: Current<T>,
    /// Items taken from the input and not yet consumed: yielded, and the
    /// caller came back for the next one.
    in_flight: usize,
    /// Items taken from the input so far (progress: `taken - in_flight`
    /// have been yielded).
    taken: usize,
    /// Still taking items from the input.
    feeding: bool,
    /// Refill once `in_flight` is at most this: a whole chunk fits.
    refill_at: usize,
    /// Set when the map is dropped; running chunks check it per item.
    abandoned: Arc<AtomicBool>,
    sizing: Sizing,
}

/// The window and the chunk size, and how the latter adapts.
#[derive(Debug)]
struct Sizing {
    /// Explicit window in items; `None`: `AUTO_CHUNKS_PER_WORKER` chunks per worker.
    window: Option<usize>,
    workers: usize,
    adaptive: bool,
    chunk: usize,
    max_chunk: usize,
    /// Smoothed nanoseconds per item, once measured.
    nanos_per_item: Option<u64>,
}

impl Sizing {
    fn new(options: MapOptions, workers: usize) -> Sizing {
        let workers = workers.max(1);
        let max_chunk = match options.window {
            Some(window) => (window / (2 * workers)).clamp(1, MAX_CHUNK),
            None => MAX_CHUNK,
        };
        let (adaptive, chunk) = match options.chunk_size {
            Some(size) => (false, size.min(options.window.unwrap_or(usize::MAX))),
            None => (true, 1),
        };
        Sizing {
            window: options.window,
            workers,
            adaptive,
            chunk,
            max_chunk,
            nanos_per_item: None,
        }
    }

    fn window_items(&self) -> usize {
        let chunks = match self.nanos_per_item {
            Some(_) => AUTO_CHUNKS_PER_WORKER * self.workers,
            // Until the first chunk is measured: one each, to find out.
            None => self.workers,
        };
        self.window.unwrap_or(chunks * self.chunk)
    }

    fn target_nanos(&self) -> u64 {
        (TARGET_NANOS_PER_WORKER * self.workers as u64).clamp(MIN_TARGET_NANOS, MAX_TARGET_NANOS)
    }

    /// Learns from a finished chunk of `len` items that took `nanos`.
    fn adapt(&mut self, nanos: u64, len: usize) {
        if !self.adaptive || len == 0 {
            return;
        }
        let per_item = (nanos / len as u64).max(1);
        let (smoothed, growth_cap) = match self.nanos_per_item {
            Some(previous) => (
                (previous + per_item) / 2,
                self.chunk.saturating_mul(CHUNK_GROWTH),
            ),
            None => (per_item, FIRST_CHUNK_CAP),
        };
        self.nanos_per_item = Some(smoothed);
        let ideal = usize::try_from(self.target_nanos() / smoothed).unwrap_or(usize::MAX);
        self.chunk = ideal.min(growth_cap).min(self.max_chunk).max(1);
    }
}

impl<'a, T> Map<'a, T> {
    pub(crate) fn new(
        feed: Box<dyn Feed<'a, T> + 'a>,
        options: MapOptions,
        workers: usize,
    ) -> Self {
        let mut map = Map {
            feed,
            pending: VecDeque::new(),
            current: Current::empty(),
            in_flight: 0,
            taken: 0,
            feeding: true,
            refill_at: 0,
            abandoned: Arc::new(AtomicBool::new(false)),
            sizing: Sizing::new(options, workers),
        };
        map.refill();
        map
    }

    /// Submits chunks while a whole one fits in the window.
    #[inline(never)]
    fn refill(&mut self) {
        while self.feeding && self.in_flight + self.sizing.chunk <= self.sizing.window_items() {
            let chunk = self.sizing.chunk;
            match self.feed.submit_chunk(chunk, &self.abandoned) {
                Some((handle, len)) => {
                    self.in_flight += len;
                    self.taken += len;
                    self.pending.push_back((handle, len));
                    self.feeding = len == chunk;
                }
                None => self.feeding = false,
            }
        }
        self.update_refill_at();
    }

    fn update_refill_at(&mut self) {
        self.refill_at = self.sizing.window_items().saturating_sub(self.sizing.chunk);
    }

    /// The current chunk is used up: wait for the next one.
    #[inline(never)]
    fn next_chunk(&mut self) -> Option<Result<T, TaskError>> {
        loop {
            let (handle, len) = self.pending.pop_front()?;
            self.current = Current::empty();
            let current = match handle.result() {
                Ok(chunk) => {
                    self.sizing.adapt(chunk.nanos, len);
                    self.update_refill_at();
                    Current::values(chunk, len)
                }
                Err(error) => {
                    if !error.is_panic() {
                        // Cancelled by a shutdown, rejected or broken: the
                        // pool will not run more, so take no more input.
                        self.feeding = false;
                    }
                    Current::failed(error, len)
                }
            };
            self.current = current;
            if let Some(item) = self.current.next() {
                self.in_flight -= 1;
                return Some(item);
            }
        }
    }

    /// The current chunk size (adaptive unless fixed by [`MapOptions`]).
    fn chunk_size(&self) -> usize {
        self.sizing.chunk
    }

    /// Results yielded so far. They come in input order, so an item that
    /// finished early counts once its turn comes. Cheap (counters kept per
    /// chunk, nothing allocated): fine to call after every item, as a
    /// progress display does. See also [`in_flight`](Self::in_flight) and
    /// [`total`](Self::total).
    ///
    /// ```
    /// let pool = executor::ThreadPoolExecutor::new();
    /// let mut squares = pool.map(1..=10_u64, |x| x * x);
    /// assert_eq!((squares.done(), squares.total()), (0, Some(10)));
    /// squares.next();
    /// squares.next();
    /// assert_eq!(squares.done(), 2);
    /// assert_eq!(squares.done() + squares.in_flight() <= 10, true);
    /// squares.by_ref().for_each(drop);
    /// assert_eq!((squares.done(), squares.in_flight()), (10, 0));
    /// ```
    pub fn done(&self) -> usize {
        self.taken - self.in_flight
    }

    /// Items taken from the input and submitted whose results were not
    /// yielded yet: queued, running, or finished and waiting for their turn.
    /// At most the window (see [`MapOptions::window`]).
    pub fn in_flight(&self) -> usize {
        self.in_flight
    }

    /// How many results the map yields in all, when known: once the input
    /// is used up, or while the input's `size_hint` is exact (a range, a
    /// `Vec`, ...). `None` for an input of unknown length. A map that ends
    /// early (the pool shut down) yields fewer.
    ///
    /// ```
    /// let pool = executor::ThreadPoolExecutor::new();
    /// let unknown = (0..100_u32).filter(|x| x % 3 == 0); // size_hint is not exact
    /// let mut map = pool.map(unknown, |x| x + 1);
    /// assert_eq!(map.total(), None);
    /// map.by_ref().for_each(drop);
    /// assert_eq!(map.total(), Some(34)); // known once the input ran out
    /// ```
    pub fn total(&self) -> Option<usize> {
        if !self.feeding {
            return Some(self.taken);
        }
        match self.feed.size_hint() {
            (low, Some(high)) if low == high => self.taken.checked_add(high),
            _ => None,
        }
    }
}

impl<T> Iterator for Map<'_, T> {
    type Item = Result<T, TaskError>;

    #[inline]
    fn next(&mut self) -> Option<Result<T, TaskError>> {
        // The item yielded last time counts as consumed only now, so the
        // window also bounds what the caller still holds.
        if self.feeding && self.in_flight <= self.refill_at {
            self.refill();
        }
        match self.current.next() {
            Some(item) => {
                self.in_flight -= 1;
                Some(item)
            }
            None => self.next_chunk(),
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        // Every item taken yields a result; the rest of the input might not
        // be taken at all (a shutdown ends the map early), so it only
        // raises the upper bound.
        let high = if self.feeding {
            self.feed.size_hint().1
        } else {
            Some(0)
        };
        (
            self.in_flight,
            high.and_then(|h| h.checked_add(self.in_flight)),
        )
    }
}

impl<T> FusedIterator for Map<'_, T> {}

impl<T> Drop for Map<'_, T> {
    fn drop(&mut self) {
        self.abandoned.store(true, Ordering::Relaxed);
        for (handle, _) in self.pending.drain(..) {
            handle.cancel();
        }
    }
}

impl<T> fmt::Debug for Map<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Map")
            .field("in_flight", &self.in_flight)
            .field("chunks_pending", &self.pending.len())
            .field("chunk_size", &self.chunk_size())
            .field("window", &self.sizing.window_items())
            .field("exhausted", &!self.feeding)
            .finish()
    }
}

impl ThreadPoolExecutor {
    /// Runs `f` on every item of `inputs` and yields the results **in input
    /// order**, whatever order they finish in: Python's `executor.map`.
    ///
    /// The input is pulled lazily, on the thread that consumes the
    /// iterator, with a bounded window of items in flight, so an endless
    /// input works; cheap items are batched into chunks automatically. A
    /// panic in `f` yields `Err(`[`TaskError::Panicked`]`)` at that item's
    /// position and every other item still arrives. The first window of
    /// work is submitted before this returns. See [`map_with`](Self::map_with)
    /// to set the window or the chunk size.
    ///
    /// Consuming it on a worker of this pool runs queued tasks while it
    /// waits, so it cannot deadlock. If the pool is shut down meanwhile,
    /// the items already taken resolve to [`TaskError::Rejected`] and the
    /// map ends without taking more input.
    ///
    /// ```
    /// use executor::ThreadPoolExecutor;
    ///
    /// let pool = ThreadPoolExecutor::new();
    /// let squares: Vec<u64> = pool
    ///     .map(1..=5_u64, |x| x * x)
    ///     .collect::<Result<_, _>>()
    ///     .unwrap();
    /// assert_eq!(squares, [1, 4, 9, 16, 25]);
    ///
    /// // A panicking item is an error at its position; the rest arrive.
    /// let results: Vec<_> = pool
    ///     .map([4, 0, 2], |d: u32| 8 / d)
    ///     .map(|r| r.map_err(|e| e.is_panic()))
    ///     .collect();
    /// assert_eq!(results, [Ok(2), Err(true), Ok(4)]);
    /// ```
    ///
    /// The input iterator may borrow (it stays on this thread); the items
    /// and `f` must be `'static`, or use [`Scope::map`](crate::Scope::map):
    ///
    /// ```
    /// let pool = executor::ThreadPoolExecutor::new();
    /// let words = vec!["a".to_string(), "bb".to_string()];
    /// let lens: Vec<usize> = pool.map(words.iter().cloned(), |w| w.len()).map(Result::unwrap).collect();
    /// assert_eq!(lens, [1, 2]);
    /// ```
    pub fn map<'a, I, F, T>(&'a self, inputs: I, f: F) -> Map<'a, T>
    where
        I: IntoIterator,
        I::IntoIter: 'a,
        I::Item: Send + 'static,
        F: Fn(I::Item) -> T + Send + Sync + 'static,
        T: Send + 'static,
    {
        self.map_with(inputs, f, MapOptions::new())
    }

    /// [`map`](Self::map) with explicit [`MapOptions`]: the window of items
    /// in flight and the chunk size.
    ///
    /// ```
    /// use executor::{MapOptions, ThreadPoolExecutor};
    ///
    /// let pool = ThreadPoolExecutor::new();
    /// // Slow, uneven items: one per task, at most 8 in flight.
    /// let options = MapOptions::new().chunk_size(1).window(8);
    /// let out: Vec<u32> = pool
    ///     .map_with(0..20_u32, |ms| { std::thread::sleep(std::time::Duration::from_millis((ms % 3).into())); ms }, options)
    ///     .map(Result::unwrap)
    ///     .collect();
    /// assert_eq!(out, (0..20).collect::<Vec<_>>());
    /// ```
    pub fn map_with<'a, I, F, T>(&'a self, inputs: I, f: F, options: MapOptions) -> Map<'a, T>
    where
        I: IntoIterator,
        I::IntoIter: 'a,
        I::Item: Send + 'static,
        F: Fn(I::Item) -> T + Send + Sync + 'static,
        T: Send + 'static,
    {
        let feed = PoolFeed {
            pool: self,
            inputs: inputs.into_iter(),
            f: Arc::new(f),
        };
        Map::new(Box::new(feed), options, self.max_workers())
    }
}

#[cfg(test)]
mod tests;
