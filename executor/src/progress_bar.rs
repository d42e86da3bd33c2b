//! Progress bars for `map` and `as_completed` (feature `indicatif`): an
//! iterator adaptor that moves an `indicatif` bar as results come, from
//! the counters [`Map`] and [`AsCompleted`] keep anyway.

use indicatif::{ProgressBar, ProgressStyle};

use crate::completion::as_completed::AsCompleted;
use crate::handle::TaskHandle;
use crate::map::Map;
use crate::TaskError;

/// A [`Map`] or [`AsCompleted`] that moves a progress bar as it yields:
/// made by [`Map::progress`], [`AsCompleted::progress`] or their
/// `progress_with` variants. The bar's length is the iterator's total
/// (set once it is known, for a map over an input of unknown length); it
/// is finished when the iterator ends. *Needs the `indicatif` feature.*
///
/// ```
/// let pool = executor::ThreadPoolExecutor::new();
/// let bar = indicatif::ProgressBar::hidden(); // `progress()` draws a default one
/// let mut squares = pool.map(1..=100_u64, |x| x * x).progress_with(bar.clone());
/// let sum: u64 = squares.by_ref().map(Result::unwrap).sum();
/// assert_eq!(sum, 338_350);
/// assert_eq!((bar.position(), bar.length()), (100, Some(100)));
/// assert!(bar.is_finished());
/// ```
#[derive(Debug)]
#[must_use = "iterators are lazy; the bar moves as it is consumed"]
pub struct WithProgress<I> {
    inner: I,
    bar: ProgressBar,
    /// The length set on the bar, to set it only when it changes.
    length: Option<u64>,
}

impl<I> WithProgress<I> {
    fn new(inner: I, bar: ProgressBar, length: Option<usize>) -> Self {
        let mut this = WithProgress {
            inner,
            bar,
            length: None,
        };
        this.set_length(length);
        this
    }

    /// The bar, say to set its message after each item.
    pub fn bar(&self) -> &ProgressBar {
        &self.bar
    }

    /// The wrapped iterator, for its counters.
    pub fn get_ref(&self) -> &I {
        &self.inner
    }

    fn set_length(&mut self, length: Option<usize>) {
        let length = length.map(|n| n as u64);
        if length.is_some() && length != self.length {
            self.length = length;
            self.bar.set_length(length.unwrap_or(0));
        }
    }

    /// After each `next`: the position, or the end.
    fn advance<T>(&mut self, item: &Option<T>, position: usize, length: Option<usize>) {
        self.set_length(length);
        match item {
            Some(_) => self.bar.set_position(position as u64),
            None => {
                if !self.bar.is_finished() {
                    self.bar.finish();
                }
            }
        }
    }
}

/// The bar `progress()` draws: a bar when the length is known, a spinner
/// with a count while it is not.
fn default_bar(length: Option<usize>) -> ProgressBar {
    match length {
        Some(n) => ProgressBar::new(n as u64).with_style(
            ProgressStyle::with_template("[{elapsed_precise}] {wide_bar} {pos}/{len} (eta {eta})")
                .expect("a valid template"),
        ),
        None => ProgressBar::no_length().with_style(
            ProgressStyle::with_template("{spinner} [{elapsed_precise}] {pos} done")
                .expect("a valid template"),
        ),
    }
}

impl<'a, T> Map<'a, T> {
    /// This map with a progress bar drawn on stderr, moved after every
    /// result. *Needs the `indicatif` feature.*
    ///
    /// ```no_run
    /// let pool = executor::ThreadPoolExecutor::new();
    /// for result in pool.map(0..1_000_u64, |x| x * 2).progress() {
    ///     result.unwrap();
    /// }
    /// ```
    pub fn progress(self) -> WithProgress<Self> {
        let bar = default_bar(self.total());
        self.progress_with(bar)
    }

    /// This map moving `bar` (a styled one, one in a `MultiProgress`, a
    /// hidden one in tests) after every result. *Needs the `indicatif`
    /// feature.* See [`WithProgress`] for an example.
    pub fn progress_with(self, bar: ProgressBar) -> WithProgress<Self> {
        let total = self.total();
        WithProgress::new(self, bar, total)
    }
}

impl<T> Iterator for WithProgress<Map<'_, T>> {
    type Item = Result<T, TaskError>;

    fn next(&mut self) -> Option<Self::Item> {
        let item = self.inner.next();
        let (done, total) = (self.inner.done(), self.inner.total());
        self.advance(&item, done, total);
        item
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.inner.size_hint()
    }
}

impl<T> AsCompleted<T> {
    /// These completions with a progress bar drawn on stderr, moved as
    /// each handle is yielded. *Needs the `indicatif` feature.*
    ///
    /// ```no_run
    /// use executor::{as_completed, ThreadPoolExecutor};
    ///
    /// let pool = ThreadPoolExecutor::new();
    /// let handles: Vec<_> = (0..100).map(|i| pool.submit(move || i)).collect();
    /// for handle in as_completed(handles).progress() {
    ///     handle.result().unwrap();
    /// }
    /// ```
    pub fn progress(self) -> WithProgress<Self> {
        let bar = default_bar(Some(self.total()));
        self.progress_with(bar)
    }

    /// These completions moving `bar` as each handle is yielded. *Needs
    /// the `indicatif` feature.*
    ///
    /// ```
    /// use executor::{as_completed, ThreadPoolExecutor};
    ///
    /// let pool = ThreadPoolExecutor::new();
    /// let handles: Vec<_> = (0..10).map(|i| pool.submit(move || i)).collect();
    /// let mut completions = as_completed(handles).progress_with(indicatif::ProgressBar::hidden());
    /// let mut sum = 0;
    /// while let Some(handle) = completions.next() {
    ///     sum += handle.result().unwrap();
    ///     completions.bar().set_message(format!("sum so far: {sum}"));
    /// }
    /// assert_eq!(sum, 45);
    /// assert_eq!(completions.bar().position(), 10);
    /// ```
    pub fn progress_with(self, bar: ProgressBar) -> WithProgress<Self> {
        let total = self.total();
        WithProgress::new(self, bar, Some(total))
    }
}

impl<T> Iterator for WithProgress<AsCompleted<T>> {
    type Item = TaskHandle<T>;

    fn next(&mut self) -> Option<Self::Item> {
        let item = self.inner.next();
        let total = self.inner.total();
        self.advance(&item, total - self.inner.len(), Some(total));
        item
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.inner.size_hint()
    }
}
