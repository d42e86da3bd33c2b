//! `CancelToken`: a cooperative request to stop, shared by cheap clones.
//!
//! A token is one flag plus a list of listeners to tell when it flips:
//! threads blocked in [`CancelToken::wait`], wakers of
//! [`CancelToken::cancelled`] futures, and child tokens. The flag is set
//! once, by the first `cancel`; the listeners are taken under the lock and
//! told outside it.
//!
//! **No lost wake-up.** `cancel` stores the flag (SeqCst), then takes the
//! listener lock and empties the list. A listener registers under that
//! lock and, still under it, re-reads the flag, failing when it is set
//! (the caller then serves itself). So a listener is either in the list
//! when `cancel` empties it, or it saw the flag. (Loom:
//! `loom_token_cancel_vs_register`.)
//!
//! **Children.** A child is registered on its parent as a listener; it
//! keeps its parent alive and takes itself off the parent's list when it
//! is dropped, so a long-lived parent with many short-lived children holds
//! no memory for the ones that are gone. `is_cancelled` also asks the
//! ancestors: once a parent's flag is set, every descendant reads
//! cancelled at once, before the parent has told them one by one.

use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Weak};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use crate::deadline::Deadline;
use crate::error::TaskError;
use crate::scheduler::blocking::{self, Awaited};
use crate::sync::{lock, thread, AtomicUsize, Mutex, Ordering};
use crate::task::Job;

/// A request to stop, for tasks that check it: .NET's `CancellationToken`,
/// Go's `context.Context` cancellation, the seeds' `threading.Event` used
/// as a stop flag.
///
/// Clones share one flag. [`cancel`](Self::cancel) sets it for good;
/// tasks look at it with [`is_cancelled`](Self::is_cancelled), return
/// early with [`check`](Self::check)`?`, block on it with
/// [`wait_timeout`](Self::wait_timeout), or `.await`
/// [`cancelled`](Self::cancelled). A [`child`](Self::child) is cancelled
/// with its parent, never the reverse.
///
/// Nothing is interrupted: a task that never looks at its token runs to
/// its end.
///
/// ```
/// use executor::CancelToken;
///
/// let token = CancelToken::new();
/// let child = token.child();
/// assert!(!child.is_cancelled());
/// token.cancel();
/// assert!(child.is_cancelled() && token.is_cancelled());
/// assert!(child.check().is_err());
/// ```
#[derive(Clone)]
pub struct CancelToken {
    inner: Arc<Inner>,
}

struct Inner {
    /// 0 until cancelled, then 1 for good.
    cancelled: AtomicUsize,
    listeners: Mutex<Listeners>,
    /// The parent, and this token's key in its list.
    parent: Option<(Arc<Inner>, usize)>,
}

#[derive(Default)]
struct Listeners {
    next_key: usize,
    /// By key, so that one can be taken off again; `None` once cancelled
    /// (nothing registers after that).
    entries: Option<BTreeMap<usize, Listener>>,
}

enum Listener {
    Thread(thread::Thread),
    Waker(Waker),
    Child(Weak<Inner>),
}

impl Inner {
    fn new(parent: Option<(Arc<Inner>, usize)>) -> Inner {
        Inner {
            cancelled: AtomicUsize::new(0),
            listeners: Mutex::new(Listeners {
                next_key: 0,
                entries: Some(BTreeMap::new()),
            }),
            parent,
        }
    }

    fn own_flag(&self) -> bool {
        // SeqCst: pairs with the store in `cancel`, and orders this read
        // with the ancestors' reads in `is_cancelled` and with a gate's
        // state transition before it (see `FnTask::run`).
        self.cancelled.load(Ordering::SeqCst) != 0
    }

    fn is_cancelled(&self) -> bool {
        let mut token = self;
        loop {
            if token.own_flag() {
                return true;
            }
            match &token.parent {
                Some((parent, _)) => token = parent,
                None => return false,
            }
        }
    }

    /// Adds `listener` unless the token is cancelled; returns its key.
    fn register(&self, listener: Listener) -> Option<usize> {
        let mut listeners = lock(&self.listeners);
        // Under the lock: `cancel` stores the flag before it takes the lock,
        // so either it finds us in the list or we see the flag here.
        if self.own_flag() {
            return None;
        }
        let key = listeners.next_key;
        listeners.next_key += 1;
        listeners.entries.as_mut()?.insert(key, listener);
        Some(key)
    }

    /// Takes listener `key` off, if it is still there.
    fn deregister(&self, key: usize) {
        if let Some(entries) = lock(&self.listeners).entries.as_mut() {
            entries.remove(&key);
        }
    }

    /// Replaces the waker of listener `key`; false if it is gone (cancelled).
    fn update_waker(&self, key: usize, waker: &Waker) -> bool {
        let mut listeners = lock(&self.listeners);
        match listeners.entries.as_mut().and_then(|e| e.get_mut(&key)) {
            Some(Listener::Waker(old)) => {
                if !old.will_wake(waker) {
                    old.clone_from(waker);
                }
                true
            }
            _ => false,
        }
    }

    /// Sets the flag; true for the first caller only, who then tells the
    /// listeners.
    fn flip(&self) -> bool {
        // SeqCst: see `own_flag`.
        self.cancelled.swap(1, Ordering::SeqCst) == 0
    }

    /// Cancels this token and its descendants. A loop over a work list,
    /// not a recursion: a chain of a million `child()`s must not overflow
    /// the stack.
    fn cancel(&self) {
        if !self.flip() {
            return;
        }
        let mut children = Vec::new();
        self.tell_listeners(&mut children);
        while let Some(child) = children.pop() {
            if child.flip() {
                child.tell_listeners(&mut children);
            }
        }
    }

    /// Empties the listener list (the flag is set): wakes the threads and
    /// wakers, and adds the children still alive to `children`.
    fn tell_listeners(&self, children: &mut Vec<Arc<Inner>>) {
        let entries = lock(&self.listeners).entries.take();
        // Outside the lock: a dropped child takes our lock to leave the
        // (now empty) list.
        for (_, listener) in entries.into_iter().flatten() {
            match listener {
                Listener::Thread(t) => t.unpark(),
                Listener::Waker(w) => {
                    crate::unwind::contain("a waker of a cancelled() future", || w.wake())
                }
                Listener::Child(child) => children.extend(child.upgrade()),
            }
        }
    }
}

impl Drop for Inner {
    /// Leaves the parent's list, and drops the ancestors this was the last
    /// holder of one by one (a recursive drop of a long chain of `child()`s
    /// would overflow the stack).
    fn drop(&mut self) {
        let mut next = self.parent.take();
        while let Some((parent, key)) = next {
            parent.deregister(key);
            // The parent's own drop then finds no parent to recurse into.
            next = Arc::into_inner(parent).and_then(|mut inner| inner.parent.take());
        }
    }
}

impl CancelToken {
    /// A token that is not cancelled, with no parent.
    ///
    /// ```
    /// let token = executor::CancelToken::new();
    /// assert!(!token.is_cancelled());
    /// ```
    pub fn new() -> CancelToken {
        CancelToken {
            inner: Arc::new(Inner::new(None)),
        }
    }

    /// A new token that is cancelled when this one is (at once if it
    /// already is). Cancelling the child leaves this one alone.
    ///
    /// ```
    /// let parent = executor::CancelToken::new();
    /// let child = parent.child();
    /// child.cancel();
    /// assert!(!parent.is_cancelled());
    /// parent.cancel();
    /// assert!(parent.child().is_cancelled());
    /// ```
    pub fn child(&self) -> CancelToken {
        // The key is known only once registered: take it first, then
        // register a `Weak` to the child made with it.
        let parent = Arc::clone(&self.inner);
        let inner = Arc::new_cyclic(|weak: &Weak<Inner>| {
            match self.inner.register(Listener::Child(weak.clone())) {
                Some(key) => Inner::new(Some((parent, key))),
                None => {
                    let inner = Inner::new(None);
                    inner.cancelled.store(1, Ordering::SeqCst);
                    *lock(&inner.listeners) = Listeners::default();
                    inner
                }
            }
        });
        // A parent cancelled between our registration and the end of
        // `new_cyclic` found no child to upgrade: tell the child here. One
        // cancelled later finds it (its flag store comes before its drain),
        // and so does an ancestor's cancel that has not reached the parent
        // yet: the parent's own flag is enough (and O(1) for deep chains).
        if self.inner.own_flag() {
            inner.cancel();
        }
        CancelToken { inner }
    }

    /// Requests a stop: every clone and every descendant reads cancelled
    /// from now on, and whoever waits on one of them is woken. Idempotent.
    ///
    /// ```
    /// let token = executor::CancelToken::new();
    /// token.cancel();
    /// token.cancel();
    /// assert!(token.is_cancelled());
    /// ```
    pub fn cancel(&self) {
        self.inner.cancel();
    }

    /// True once this token or one of its ancestors was cancelled.
    ///
    /// ```
    /// let job = executor::CancelToken::new();
    /// let step = job.child();
    /// job.cancel();
    /// assert!(step.is_cancelled()); // through its parent
    /// ```
    pub fn is_cancelled(&self) -> bool {
        self.inner.is_cancelled()
    }

    /// `Err(Cancelled)` once cancelled, for returning early with `?`.
    /// [`Cancelled`] converts into [`TaskError::Cancelled`], so a task
    /// returning `Result<T, TaskError>` resolves to `Cancelled` when it
    /// stops this way.
    ///
    /// ```
    /// use executor::{TaskError, ThreadPoolExecutor};
    ///
    /// let pool = ThreadPoolExecutor::new();
    /// let handle = pool.submit_with_token(|token| -> Result<u64, TaskError> {
    ///     let mut sum = 0;
    ///     for i in 0.. {
    ///         token.check()?; // returns Err(TaskError::Cancelled) once asked to stop
    ///         sum += i;
    ///     }
    ///     Ok(sum)
    /// });
    /// handle.cancel(); // it may have started: then this asks it to stop
    /// let stopped = handle.result();
    /// assert!(matches!(stopped, Err(e) | Ok(Err(e)) if e.is_cancelled()));
    /// ```
    pub fn check(&self) -> Result<(), Cancelled> {
        if self.is_cancelled() {
            Err(Cancelled)
        } else {
            Ok(())
        }
    }

    /// Blocks until the token is cancelled. On a worker of a pool this
    /// counts as blocked, so the pool keeps its parallelism meanwhile.
    ///
    /// ```
    /// let pool = executor::ThreadPoolExecutor::new();
    /// let stop = executor::CancelToken::new();
    /// let waiter = pool.submit({
    ///     let stop = stop.clone();
    ///     move || stop.wait() // the seeds' `stop_event.wait()`
    /// });
    /// stop.cancel();
    /// waiter.result().unwrap();
    /// ```
    pub fn wait(&self) {
        blocking::wait_until(&self.awaited(), Deadline::Never);
    }

    /// Blocks until the token is cancelled or `timeout` passes; returns
    /// whether it is cancelled. The seeds' `stop_event.wait(timeout)`:
    /// a sleep that ends early when asked to stop.
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let token = executor::CancelToken::new();
    /// assert!(!token.wait_timeout(Duration::from_millis(1)));
    /// token.cancel();
    /// assert!(token.wait_timeout(Duration::MAX));
    /// ```
    pub fn wait_timeout(&self, timeout: Duration) -> bool {
        blocking::wait_until(&self.awaited(), Deadline::after(timeout))
    }

    pub(crate) fn awaited(&self) -> impl Awaited + '_ {
        TokenWait {
            token: self,
            key: std::cell::Cell::new(None),
        }
    }

    /// A future that resolves once the token is cancelled, for async tasks
    /// (`select!` it against the work). Dropping it unregisters its waker.
    ///
    /// ```
    /// let token = executor::CancelToken::new();
    /// let t = token.clone();
    /// std::thread::spawn(move || t.cancel());
    /// futures::executor::block_on(async {
    ///     token.cancelled().await; // in a task: select! it against the work
    /// });
    /// assert!(token.is_cancelled());
    /// ```
    pub fn cancelled(&self) -> CancelledFuture<'_> {
        CancelledFuture {
            token: self,
            key: None,
        }
    }

    /// This token's own flag (not its ancestors'): whether a cancel reached
    /// it. For the tests of the child protocol.
    #[cfg(test)]
    pub(crate) fn is_told(&self) -> bool {
        self.inner.own_flag()
    }

    /// Whether `self` and `other` are clones of one token.
    ///
    /// ```
    /// let token = executor::CancelToken::new();
    /// assert!(token.same_as(&token.clone()));
    /// assert!(!token.same_as(&token.child()));
    /// ```
    pub fn same_as(&self, other: &CancelToken) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }
}

impl Default for CancelToken {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for CancelToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CancelToken")
            .field("cancelled", &self.is_cancelled())
            .finish()
    }
}

/// A blocking wait for a token (see `blocking::wait_until`).
struct TokenWait<'a> {
    token: &'a CancelToken,
    /// Our thread's listener key, once registered (one per wait).
    key: std::cell::Cell<Option<usize>>,
}

impl TokenWait<'_> {
    /// Where the thread registers: on the token itself, which an
    /// ancestor's cancel reaches through its children.
    fn inner(&self) -> &Inner {
        &self.token.inner
    }
}

impl Awaited for TokenWait<'_> {
    fn is_ready(&self) -> bool {
        self.token.is_cancelled()
    }

    fn register(&self) -> bool {
        if self.key.get().is_some() {
            // Still registered from an earlier round (a spurious wake-up).
            return !self.is_ready();
        }
        match self.inner().register(Listener::Thread(thread::current())) {
            Some(key) => {
                self.key.set(Some(key));
                // An ancestor may be cancelled while it has not yet told
                // this token: then the wait is over already.
                if self.is_ready() {
                    self.deregister();
                    return false;
                }
                true
            }
            None => false,
        }
    }

    fn deregister(&self) {
        if let Some(key) = self.key.take() {
            self.inner().deregister(key);
        }
    }

    fn claim(&self, _pool: usize) -> Option<Job> {
        None
    }
}

impl Drop for TokenWait<'_> {
    fn drop(&mut self) {
        self.deregister();
    }
}

/// The future of [`CancelToken::cancelled`]: ready once the token is
/// cancelled.
#[must_use = "futures do nothing unless polled"]
pub struct CancelledFuture<'a> {
    token: &'a CancelToken,
    key: Option<usize>,
}

impl Future for CancelledFuture<'_> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.token.is_cancelled() {
            return Poll::Ready(());
        }
        let inner = &self.token.inner;
        let registered = match self.key {
            Some(key) => inner.update_waker(key, cx.waker()),
            None => match inner.register(Listener::Waker(cx.waker().clone())) {
                Some(key) => {
                    self.key = Some(key);
                    true
                }
                None => false,
            },
        };
        // Registered after the check: look again, for a cancel in between
        // (an ancestor's cancel reaches our list a little later; a poll
        // that misses it now is woken by it).
        if !registered || self.token.is_cancelled() {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}

impl Drop for CancelledFuture<'_> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            self.token.inner.deregister(key);
        }
    }
}

impl fmt::Debug for CancelledFuture<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CancelledFuture")
            .field("token", self.token)
            .finish()
    }
}

/// The error of [`CancelToken::check`]: the token was cancelled. Converts
/// into [`TaskError::Cancelled`].
///
/// ```
/// use executor::{CancelToken, TaskError};
///
/// fn step(token: &CancelToken) -> Result<(), TaskError> {
///     token.check()?;
///     Ok(())
/// }
/// let token = CancelToken::new();
/// token.cancel();
/// assert!(step(&token).unwrap_err().is_cancelled());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Cancelled;

impl fmt::Display for Cancelled {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the task was asked to stop")
    }
}

impl std::error::Error for Cancelled {}

impl From<Cancelled> for TaskError {
    fn from(_: Cancelled) -> TaskError {
        TaskError::Cancelled
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    fn entries(token: &CancelToken) -> usize {
        lock(&token.inner.listeners)
            .entries
            .as_ref()
            .map_or(0, BTreeMap::len)
    }

    #[test]
    fn dropped_children_leave_the_parent_list() {
        let parent = CancelToken::new();
        let children: Vec<_> = (0..100).map(|_| parent.child()).collect();
        assert_eq!(entries(&parent), 100);
        drop(children);
        assert_eq!(entries(&parent), 0);
    }

    #[test]
    fn grandchildren_are_cancelled_and_a_child_never_cancels_its_parent() {
        let root = CancelToken::new();
        let child = root.child();
        let grandchild = child.child();
        grandchild.cancel();
        assert!(!child.is_cancelled() && !root.is_cancelled());
        let other = child.child();
        root.cancel();
        assert!(other.is_cancelled() && child.is_cancelled());
        // Told, not only read through the ancestors: its own flag is set.
        assert!(other.inner.own_flag());
    }

    #[test]
    fn a_child_made_while_its_parent_is_cancelled_is_always_told() {
        for _ in 0..2_000 {
            let parent = CancelToken::new();
            let p = parent.clone();
            let maker = std::thread::spawn(move || p.child());
            parent.cancel();
            let child = maker.join().unwrap();
            assert!(
                child.is_told(),
                "the parent's cancel never reached the child"
            );
        }
    }

    #[test]
    fn a_timed_wait_leaves_nothing_registered() {
        let token = CancelToken::new();
        for _ in 0..10 {
            assert!(!token.wait_timeout(Duration::from_micros(50)));
        }
        assert_eq!(entries(&token), 0);
    }

    #[test]
    fn a_waiting_thread_is_woken() {
        let token = CancelToken::new();
        let t = token.clone();
        let waiter = std::thread::spawn(move || t.wait());
        std::thread::sleep(Duration::from_millis(5));
        token.cancel();
        waiter.join().unwrap();
    }

    #[test]
    fn the_future_resolves_and_its_waker_goes_when_dropped() {
        let token = CancelToken::new();
        let mut fut = Box::pin(token.cancelled());
        struct Noop;
        impl std::task::Wake for Noop {
            fn wake(self: Arc<Self>) {}
        }
        let waker = Waker::from(Arc::new(Noop));
        let mut cx = Context::from_waker(&waker);
        assert!(fut.as_mut().poll(&mut cx).is_pending());
        assert!(fut.as_mut().poll(&mut cx).is_pending());
        assert_eq!(entries(&token), 1);
        drop(fut);
        assert_eq!(entries(&token), 0);
        let mut fut = Box::pin(token.cancelled());
        assert!(fut.as_mut().poll(&mut cx).is_pending());
        token.cancel();
        assert!(fut.as_mut().poll(&mut cx).is_ready());
    }

    /// A chain of 200,000 `child()`s: building it, cancelling its root
    /// (every descendant told, not only reading its ancestors' flags) and
    /// dropping it, from either end, neither overflows the stack nor takes
    /// quadratic time.
    #[test]
    fn a_deep_chain_of_children_is_cancelled_and_dropped_without_recursion() {
        for drop_root_first in [true, false] {
            let root = CancelToken::new();
            let mut last = root.clone();
            for _ in 0..200_000 {
                last = last.child();
            }
            assert!(!last.is_cancelled());
            root.cancel();
            assert!(last.is_told(), "the cancel reached the deepest child");
            if drop_root_first {
                drop(root);
                drop(last);
            } else {
                drop(last);
                drop(root);
            }
        }
        // Uncancelled chains are dropped the same way.
        let root = CancelToken::new();
        let mut last = root.child();
        for _ in 0..200_000 {
            last = last.child();
        }
        drop(last);
        assert_eq!(entries(&root), 0, "the whole chain left the root's list");
    }

    /// A `cancelled()` future whose waker panics when woken: `cancel` does
    /// not unwind, and the other listeners (a child, a second future) are
    /// still told.
    #[test]
    fn a_panicking_waker_does_not_stop_the_others_being_told() {
        struct Panics;
        impl std::task::Wake for Panics {
            fn wake(self: Arc<Self>) {
                panic!("a waker that panics");
            }
        }
        struct Counts(std::sync::atomic::AtomicUsize);
        impl std::task::Wake for Counts {
            fn wake(self: Arc<Self>) {
                self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            }
        }
        let token = CancelToken::new();
        let bad = Waker::from(Arc::new(Panics));
        let counts = Arc::new(Counts(std::sync::atomic::AtomicUsize::new(0)));
        let good = Waker::from(Arc::clone(&counts));
        let mut first = Box::pin(token.cancelled());
        let mut second = Box::pin(token.cancelled());
        assert!(first
            .as_mut()
            .poll(&mut Context::from_waker(&bad))
            .is_pending());
        assert!(second
            .as_mut()
            .poll(&mut Context::from_waker(&good))
            .is_pending());
        let child = token.child();
        token.cancel(); // must not panic
        assert_eq!(counts.0.load(std::sync::atomic::Ordering::SeqCst), 1);
        assert!(child.is_told());
        assert!(second
            .as_mut()
            .poll(&mut Context::from_waker(&good))
            .is_ready());
    }
}
