//! The [`Inbox`]: where the done callbacks of many handles report, and
//! where the one consumer (`as_completed`, `wait`) waits for them.

use std::cell::Cell;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::Waker;
use std::thread::{self, Thread};

use crate::deadline::Deadline;
use crate::error::Outcome;
use crate::handle::TaskHandle;
use crate::scheduler::blocking::{self, Awaited};
use crate::sync::lock_std as lock;
use crate::task::{CallbackKey, Job};

/// Where done callbacks report, and where the one consumer waits for them.
pub(crate) struct Inbox {
    state: Mutex<InboxState>,
    /// How many completions were pushed so far. Written under `state`'s lock
    /// so that a waiter who checks it under the lock cannot miss a push.
    pushed: AtomicUsize,
    /// A task ended in an error other than cancellation (see
    /// [`ReturnWhen::FirstException`](crate::ReturnWhen::FirstException)).
    pub(crate) failed: AtomicBool,
    /// The consumer is gone: late callbacks push nothing.
    closed: AtomicBool,
}

struct InboxState {
    /// Indices of finished handles, in the order their callbacks ran.
    ready: Vec<usize>,
    /// A thread parked until the next push.
    thread: Option<Thread>,
    /// An async consumer to wake on the next push.
    waker: Option<Waker>,
}

impl Inbox {
    /// No completion is waiting to be consumed (for the unit tests).
    #[cfg(test)]
    pub(super) fn nothing_ready(&self) -> bool {
        lock(&self.state).ready.is_empty()
    }

    pub(crate) fn new() -> Arc<Inbox> {
        Arc::new(Inbox {
            state: Mutex::new(InboxState {
                ready: Vec::new(),
                thread: None,
                waker: None,
            }),
            pushed: AtomicUsize::new(0),
            failed: AtomicBool::new(false),
            closed: AtomicBool::new(false),
        })
    }

    /// Registers a done callback on `handle` that reports `index` here.
    /// With `record` false only the counters move (for [`wait`](crate::wait()), which
    /// needs no order). Returns the callback's key, for [`Inbox::unwatch`];
    /// `None` if the handle was done and the callback ran already.
    pub(crate) fn watch<T>(
        self: &Arc<Self>,
        handle: &TaskHandle<T>,
        index: usize,
        record: bool,
    ) -> Option<CallbackKey> {
        let inbox = Arc::clone(self);
        handle.add_done_callback_keyed(move |outcome| inbox.push(index, outcome, record))
    }

    /// Takes the callback that [`watch`](Self::watch) registered off
    /// `handle`, if it has not run. One that is already running (its task
    /// just finished) finds the inbox closed, if the consumer closed it
    /// first, and pushes nothing.
    pub(crate) fn unwatch<T>(handle: &TaskHandle<T>, key: Option<CallbackKey>) {
        // A done task's finisher takes (or took) its whole waiter list:
        // the callback goes with it, no lock needed here.
        if handle.done() {
            return;
        }
        if let Some(key) = key {
            handle.remove_done_callback(key);
        }
    }

    /// Called once per handle, by its done callback.
    fn push(&self, index: usize, outcome: Outcome, record: bool) {
        if self.closed.load(Ordering::Relaxed) {
            return;
        }
        if is_failure(outcome) {
            // Relaxed: the lock below orders it before the `pushed` bump,
            // which is what a waiter checks under the same lock.
            self.failed.store(true, Ordering::Relaxed);
        }
        let (thread, waker) = {
            let mut state = lock(&self.state);
            // Checked again under the lock that `close` takes after setting
            // it: a closed inbox stays empty.
            if self.closed.load(Ordering::Relaxed) {
                return;
            }
            if record {
                state.ready.push(index);
            }
            // Release: pairs with the Acquire loads in `has_news`, so a
            // consumer that sees the count also sees the handle finished.
            self.pushed.fetch_add(1, Ordering::Release);
            (state.thread.take(), state.waker.take())
        };
        if let Some(thread) = thread {
            thread.unpark();
        }
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    pub(crate) fn pushed(&self) -> usize {
        self.pushed.load(Ordering::Acquire)
    }

    /// Appends every index pushed so far to `into`; returns how many.
    pub(super) fn drain_into(&self, into: &mut VecDeque<usize>) -> usize {
        let mut state = lock(&self.state);
        let n = state.ready.len();
        into.extend(state.ready.drain(..));
        n
    }

    /// Arranges for the current thread to be unparked by the next push,
    /// unless `ready()` already holds (checked under the lock, so a push
    /// cannot slip between the check and the registration). Returns whether
    /// it registered.
    fn register_thread(&self, ready: &dyn Fn() -> bool) -> bool {
        let mut state = lock(&self.state);
        if ready() {
            return false;
        }
        state.thread = Some(thread::current());
        true
    }

    /// Blocks until `ready()` holds or `deadline` passes; returns `ready()`.
    /// On a worker thread, runs the tasks that `claim` hands out (queued
    /// tasks of the handles waited for) meanwhile, and nothing else.
    pub(crate) fn block_until(
        &self,
        ready: &dyn Fn() -> bool,
        claim: &dyn Fn(usize) -> Option<Job>,
        deadline: Deadline,
    ) -> bool {
        let wait = InboxWait {
            inbox: self,
            ready,
            claim,
        };
        blocking::wait_until(&wait, deadline)
    }

    /// Registers (or replaces) the async consumer's waker, unless something
    /// is ready already. Returns whether it registered. (Only the stream,
    /// an `async` feature, has a waker to register.)
    #[cfg(feature = "async")]
    pub(super) fn register_waker(&self, waker: &Waker, ready: &dyn Fn() -> bool) -> bool {
        let mut state = lock(&self.state);
        if ready() {
            return false;
        }
        match &state.waker {
            Some(old) if old.will_wake(waker) => {}
            _ => state.waker = Some(waker.clone()),
        }
        true
    }

    pub(crate) fn close(&self) {
        self.closed.store(true, Ordering::Relaxed);
        let mut state = lock(&self.state);
        state.ready = Vec::new();
        state.thread = None;
        state.waker = None;
    }
}

/// A wait for the next completions reported to an [`Inbox`].
struct InboxWait<'a> {
    inbox: &'a Inbox,
    ready: &'a dyn Fn() -> bool,
    claim: &'a dyn Fn(usize) -> Option<Job>,
}

impl Awaited for InboxWait<'_> {
    fn is_ready(&self) -> bool {
        (self.ready)()
    }

    fn register(&self) -> bool {
        self.inbox.register_thread(self.ready)
    }

    fn deregister(&self) {
        // A later push must not unpark a thread that no longer waits for it.
        lock(&self.inbox.state).thread = None;
    }

    fn claim(&self, pool: usize) -> Option<Job> {
        (self.claim)(pool)
    }
}

/// Hands out the queued tasks among the `len` handles that `handle_at`
/// gives (`None` for one already taken), for a worker that waits for them,
/// scanning from `next` on. A handle passed over is running, done or of
/// another pool; it is not queued again later (an async task woken again
/// is left to the other workers), so the scan is O(n) in total.
pub(crate) fn claim_next<'h, T: 'h>(
    len: usize,
    handle_at: impl Fn(usize) -> Option<&'h TaskHandle<T>>,
    next: &Cell<usize>,
    pool: usize,
) -> Option<Job> {
    while next.get() < len {
        if let Some(job) = handle_at(next.get()).and_then(|h| h.claimable(pool)) {
            return Some(job);
        }
        next.set(next.get() + 1);
    }
    None
}

/// An error that is not a cancellation: what Python's `wait` counts as an
/// exception.
pub(crate) fn is_failure(outcome: Outcome) -> bool {
    matches!(
        outcome,
        Outcome::Panicked | Outcome::Broken | Outcome::Rejected | Outcome::Abandoned
    )
}
