//! The part of a task that its handle sees: the state word, the output slot
//! and the waiters to tell when the task becomes terminal.
//!
//! Exactly one party writes the output (the runner, after it won the
//! `SCHEDULED → RUNNING` transition) and exactly one takes it (the handle's
//! owner, after it saw a terminal state with `Acquire`). Waiters are kept
//! behind a per-task mutex that is only touched when someone actually waits,
//! so the common path (the task finishes before anybody asks) takes no lock.
//!
//! A waiter that gives up takes itself off the list again (a timed wait's
//! thread, a done callback by its [`CallbackKey`]), and the list is freed
//! once empty: waits that return leave nothing behind on a task that is
//! still pending, however often they poll it.
//!
//! A task submitted from outside a pool with a bounded queue holds a queue
//! place, freed by whoever moves the task out of `SCHEDULED` (see
//! `capacity.rs`): every such move goes through [`Core::transition`].

use std::sync::Arc;
use std::task::Waker;

use super::layout::{Extras, Labelled, Slot};
use super::state::{Lifecycle, Snapshot};
use crate::capacity::Capacity;
use crate::error::Outcome;
use crate::error::{Panic, TaskError};
use crate::stats::Ran;
use crate::sync::{lock, thread, AtomicUsize, Mutex, Ordering, UnsafeCell};
use crate::unwind;

type Callback = Box<dyn FnOnce(Outcome) + Send + 'static>;

/// Whoever must hear about the task becoming terminal.
#[derive(Default)]
struct Waiters {
    threads: Vec<thread::Thread>,
    waker: Option<Waker>,
    /// In the order they were added, which is the order they run in.
    callbacks: Vec<(CallbackKey, Callback)>,
    /// The key the next callback gets.
    next_key: usize,
}

impl Waiters {
    fn is_empty(&self) -> bool {
        self.threads.is_empty() && self.waker.is_none() && self.callbacks.is_empty()
    }
}

/// Names a done callback registered on a task, to take it off again with
/// [`Core::remove_callback`] (a wait that returns removes what it added).
///
/// Keys count up within one waiter list, and a list is freed only once
/// empty, so no two callbacks registered on a task at the same time share
/// a key. A key is not `Clone` and removal consumes it: a stale key (its
/// callback ran, so the task is terminal and has no list any more) can
/// never remove a later callback.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct CallbackKey(usize);

/// A task's state, waiters and slot. `B` is the body the slot holds until
/// the task starts (a closure task's closure; `()` for tasks that keep
/// their body elsewhere), `X` its name and queue place (see `layout.rs`).
pub(crate) struct Core<T, B = (), X = Labelled> {
    state: AtomicUsize,
    /// Boxed so a task nobody waits on carries one word here, not three vectors.
    waiters: Mutex<Option<Box<Waiters>>>,
    /// The body until the task starts, then its output (see `Slot`).
    slot: UnsafeCell<Slot<B, T>>,
    /// The name, and the queue place this task holds while `SCHEDULED` if it
    /// was queued from outside a pool with a `queue_capacity`.
    extras: X,
    /// The submitter's span (feature `tracing`).
    #[cfg(feature = "tracing")]
    trace: crate::trace::TaskTrace,
}

// SAFETY: `slot` is the only field that is not `Sync` on its own. (1) Its
// body is taken once, by the one party that moved the state out of
// SCHEDULED (a compare-exchange in `transition`). (2) Its output is written
// once by the runner while the state is RUNNING and read once by the
// handle's owner after a terminal state was observed with `Acquire`, which
// pairs with the `AcqRel` swap in `finish`. No two of these overlap. The
// body and the value move between threads, hence `B: Send` and `T: Send`.
unsafe impl<T: Send, B: Send, X: Extras> Sync for Core<T, B, X> {}

impl<T> Core<T> {
    /// A task born in `stage` (`Scheduled`, or refused at once) with no
    /// body in its slot, holding queue place `place` (which it gives back
    /// when it leaves `Scheduled`).
    pub(crate) fn new(
        name: Option<&'static str>,
        stage: Lifecycle,
        place: Option<Arc<Capacity>>,
    ) -> Self {
        Self::with_body(Labelled { name, place }, stage, None)
    }
}

impl<T, B, X: Extras> Core<T, B, X> {
    /// A task born in `stage` whose slot holds `body` until it starts.
    pub(crate) fn with_body(extras: X, stage: Lifecycle, body: Option<B>) -> Self {
        debug_assert!(extras.place().is_none() || stage == Lifecycle::Scheduled);
        let core = Self {
            state: AtomicUsize::new(Snapshot::new(stage).0),
            waiters: Mutex::new(None),
            slot: UnsafeCell::new(body.map_or(Slot::Empty, Slot::Body)),
            extras,
            #[cfg(feature = "tracing")]
            trace: crate::trace::TaskTrace::capture(),
        };
        // Born refused (submitted after shutdown, or to a broken pool).
        #[cfg(feature = "tracing")]
        core.trace.refused(core.extras.name(), stage);
        core
    }

    /// The task's extras (name, queue place, stop hooks).
    pub(crate) fn extras(&self) -> &X {
        &self.extras
    }

    pub(crate) fn name(&self) -> Option<&'static str> {
        self.extras.name()
    }

    /// Takes the body out of the slot.
    ///
    /// # Safety
    ///
    /// The caller must have just moved the state out of SCHEDULED itself
    /// (so it is the one party allowed in the slot until it publishes).
    pub(crate) unsafe fn take_body(&self) -> Option<B> {
        // SAFETY: per the contract we are the one party in the slot.
        let slot = self
            .slot
            .with_mut(|slot| unsafe { std::ptr::replace(slot, Slot::Empty) });
        match slot {
            Slot::Body(body) => Some(body),
            _ => None,
        }
    }

    #[cfg(feature = "tracing")]
    pub(crate) fn trace(&self) -> &crate::trace::TaskTrace {
        &self.trace
    }

    /// The current state. `Acquire`, pairing with the `AcqRel` swap in
    /// `finish`, so a terminal snapshot makes the output visible.
    pub(crate) fn snapshot(&self) -> Snapshot {
        Snapshot(self.state.load(Ordering::Acquire))
    }

    /// Moves the state from one of `from` lifecycles to `to`, keeping the
    /// flags, unless it is elsewhere. Returns the snapshot it replaced.
    ///
    /// The caller that moves the task out of `SCHEDULED` (to run it or to
    /// resolve it unrun) frees its queue place here: that move happens once
    /// per task, and only through this compare-exchange, so the place is
    /// freed exactly once.
    pub(crate) fn transition(
        &self,
        from: impl Fn(Snapshot) -> bool,
        to: impl Fn(Snapshot) -> Snapshot,
    ) -> Result<Snapshot, Snapshot> {
        let mut current = Snapshot(self.state.load(Ordering::Acquire));
        loop {
            if !from(current) {
                return Err(current);
            }
            // AcqRel: acquiring pairs with the previous owner's release (a
            // waker that queued the task, a registering waiter); releasing
            // publishes our writes to whoever sees the new state.
            let next = to(current);
            match self.state.compare_exchange_weak(
                current.0,
                next.0,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => {
                    if current.lifecycle() == Lifecycle::Scheduled
                        && next.lifecycle() != Lifecycle::Scheduled
                    {
                        self.left_scheduled();
                    }
                    return Ok(current);
                }
                Err(actual) => current = Snapshot(actual),
            }
        }
    }

    /// The task left `SCHEDULED`, for good: free its queue place, if any,
    /// before it runs or its waiters hear of it.
    fn left_scheduled(&self) {
        if let Some(place) = self.extras.place() {
            place.release();
        }
    }

    /// `SCHEDULED → RUNNING`: the caller wins the right to run the task.
    #[must_use]
    pub(crate) fn transition_to_running(&self) -> bool {
        self.transition(
            |s| s.lifecycle() == Lifecycle::Scheduled,
            |s| s.with_lifecycle(Lifecycle::Running),
        )
        .is_ok()
    }

    /// Resolves a task that never started to `CANCELLED`, `REJECTED` or
    /// `BROKEN`. `from` says which stages count as "not started" for this
    /// kind of task. On success the caller owns the task's body:
    /// `drop_body` runs (and must drop it) before the waiters hear of the
    /// new state, so "cancelled" also means "its captures are released".
    #[must_use]
    pub(crate) fn transition_to_aborted(
        &self,
        from: impl Fn(Snapshot) -> bool,
        to: Lifecycle,
        drop_body: impl FnOnce(),
    ) -> bool {
        debug_assert!(to.is_terminal());
        match self.transition(from, |s| s.resolved(to)) {
            Ok(prev) => {
                drop_body();
                #[cfg(feature = "tracing")]
                self.trace.refused(self.name(), to);
                self.notify_waiters(prev, prev.resolved(to));
                true
            }
            Err(_) => false,
        }
    }

    /// Why a queued task did not run (its state is terminal): cancelled and
    /// counted by this caller, or resolved otherwise.
    pub(crate) fn not_run(&self) -> Ran {
        if self.tally_cancelled() {
            Ran::Cancelled
        } else {
            Ran::Skipped
        }
    }

    /// True for the first caller to find the task cancelled: that caller
    /// counts it in the pool's `tasks_cancelled`. Several parties may see
    /// one cancelled task (each of its queue entries, a claim, `cancel_all`
    /// at termination); the `TALLIED` flag makes the count exactly once.
    #[must_use]
    pub(crate) fn tally_cancelled(&self) -> bool {
        self.transition(
            |s| s.lifecycle() == Lifecycle::Cancelled && !s.is_tallied(),
            |s| Snapshot(s.0 | Snapshot::TALLIED),
        )
        .is_ok()
    }

    /// Stores the task's output and makes it visible: `RUNNING → COMPLETE`
    /// or `PANICKED`. Only the runner calls this, once.
    pub(crate) fn finish(&self, output: Result<T, Panic>) {
        let lifecycle = if output.is_ok() {
            Lifecycle::Complete
        } else {
            Lifecycle::Panicked
        };
        // SAFETY: the caller is the runner: it won `transition_to_running`
        // (or the async equivalent), so nobody else touches `output` until
        // the terminal state below is published.
        // The slot is `Empty` here (the runner took the body), so the
        // assignment drops nothing.
        self.slot
            .with_mut(|slot| unsafe { *slot = Slot::Output(output) });
        // AcqRel: the release publishes the output to anyone who then loads a
        // terminal state with `Acquire`; the acquire makes the waiter list
        // that a registering thread published with HAS_WAITERS visible here.
        // XOR flips RUNNING to `lifecycle` (only the runner leaves RUNNING)
        // and keeps the async waker count, which wakers still decrement.
        let prev = Snapshot(self.state.fetch_xor(
            Snapshot::new(Lifecycle::Running).0 ^ Snapshot::new(lifecycle).0,
            Ordering::AcqRel,
        ));
        debug_assert_eq!(prev.lifecycle(), Lifecycle::Running, "finish from {prev:?}");
        self.notify_waiters(prev, prev.with_lifecycle(lifecycle));
    }

    /// Tells every registered waiter that the task is terminal. Each is
    /// served whatever another does: a waker (another runtime's) or a
    /// callback that panics is contained, and the rest still run.
    fn notify_waiters(&self, prev: Snapshot, now: Snapshot) {
        if !prev.has_waiters() {
            return;
        }
        let Some(waiters) = lock(&self.waiters).take() else {
            return;
        };
        for t in waiters.threads {
            t.unpark();
        }
        if let Some(waker) = waiters.waker {
            unwind::contain("a waker of a handle's awaiter", || waker.wake());
        }
        let outcome = now.outcome();
        for (_, callback) in waiters.callbacks {
            run_callback(callback, outcome);
        }
    }

    /// Counts a new clone of an async task's waker. The caller holds a
    /// waker (or is the runner), so the count cannot reach zero meanwhile.
    pub(crate) fn add_waker(&self) {
        // Relaxed, as in `Arc::clone`: every decision on the count is made
        // by an RMW on this word, which sees every earlier increment.
        let prev = Snapshot(self.state.fetch_add(Snapshot::WAKER_ONE, Ordering::Relaxed));
        if prev.wakers() == Snapshot::MAX_WAKERS {
            // The count wrapped into the flags; as `Arc` does, give up.
            eprintln!("executor: too many wakers of one task");
            std::process::abort();
        }
    }

    /// Counts a dropped clone of an async task's waker; returns the state
    /// it replaced.
    pub(crate) fn drop_waker(&self) -> Snapshot {
        // AcqRel: whoever finds the task unwakeable after the last drop
        // (here or in a later RMW) sees everything done before the drops.
        Snapshot(self.state.fetch_sub(Snapshot::WAKER_ONE, Ordering::AcqRel))
    }

    /// Adds a waiter, unless the task is already terminal, in which case the
    /// waiter is handed back to be served by the caller.
    fn register(&self, add: impl FnOnce(&mut Waiters)) -> Result<(), Snapshot> {
        let mut waiters = lock(&self.waiters);
        // Setting HAS_WAITERS while holding the lock: a task that becomes
        // terminal after this succeeded drains the list (and must wait for
        // our lock to do so); one that became terminal before makes it fail.
        match self.transition(
            |s| !s.is_terminal(),
            |s| Snapshot(s.0 | Snapshot::HAS_WAITERS),
        ) {
            Ok(_) => {
                add(waiters.get_or_insert_with(Box::default));
                Ok(())
            }
            Err(terminal) => Err(terminal),
        }
    }

    /// Registers the current thread to be unparked on completion. Returns
    /// false when the task is already terminal.
    pub(crate) fn register_thread(&self) -> bool {
        let me = thread::current();
        self.register(|w| {
            if !w.threads.iter().any(|t| t.id() == me.id()) {
                w.threads.push(me);
            }
        })
        .is_ok()
    }

    /// Takes the current thread off the waiter list: a timed wait that gave
    /// up leaves nothing behind.
    pub(crate) fn deregister_thread(&self) {
        let me = thread::current().id();
        let mut slot = lock(&self.waiters);
        if let Some(waiters) = slot.as_mut() {
            waiters.threads.retain(|t| t.id() != me);
            if waiters.is_empty() {
                *slot = None;
            }
        }
    }

    /// Registers (or replaces) the async waker. Returns false when the task
    /// is already terminal.
    pub(crate) fn register_waker(&self, waker: &Waker) -> bool {
        self.register(|w| match &w.waker {
            Some(old) if old.will_wake(waker) => {}
            _ => w.waker = Some(waker.clone()),
        })
        .is_ok()
    }

    /// Adds a done callback and returns its key, or runs it here and now
    /// (returning `None`) if the task is terminal.
    pub(crate) fn add_callback(&self, callback: Callback) -> Option<CallbackKey> {
        let mut slot = Some(callback);
        let mut key = None;
        let registered = self.register(|w| {
            if let Some(callback) = slot.take() {
                let k = w.next_key;
                w.next_key += 1;
                w.callbacks.push((CallbackKey(k), callback));
                key = Some(CallbackKey(k));
            }
        });
        if let Err(terminal) = registered {
            if let Some(callback) = slot.take() {
                run_callback(callback, terminal.outcome());
            }
        }
        key
    }

    /// Takes the callback `key` off the task, unless the task became
    /// terminal first. Returns whether it did.
    ///
    /// Each callback runs at most once, and exactly once unless removed:
    /// - `true`: it was removed (and dropped); it never runs.
    /// - `false`: the task became terminal first and its finisher took the
    ///   whole list (under the same lock), so the callback has run, is
    ///   running or is about to run, exactly once; possibly after this
    ///   returned. A caller whose callback must not act late makes it check
    ///   a flag of its own (as the `Inbox` does with `closed`).
    #[must_use]
    pub(crate) fn remove_callback(&self, key: CallbackKey) -> bool {
        let removed = {
            let mut slot = lock(&self.waiters);
            let Some(waiters) = slot.as_mut() else {
                return false;
            };
            let Some(at) = waiters.callbacks.iter().position(|(k, _)| *k == key) else {
                return false;
            };
            let removed = waiters.callbacks.remove(at);
            if waiters.is_empty() {
                *slot = None;
            }
            removed
        };
        // Dropped here, after the lock: a callback's captures may run code
        // of their own when dropped.
        drop(removed);
        true
    }

    /// Takes the task's output.
    ///
    /// # Safety
    ///
    /// The caller must own the task's handle exclusively (so no two takes
    /// overlap) and must have observed a terminal state with `Acquire`
    /// (through [`Core::snapshot`]). A second take of a finished task's
    /// output finds the slot empty and panics; a refused task's error can
    /// be taken again.
    pub(crate) unsafe fn take_output(&self) -> Result<T, TaskError> {
        let snapshot = self.snapshot();
        debug_assert!(snapshot.is_terminal());
        let stage = snapshot.lifecycle();
        if let Some(refusal) = stage.refusal() {
            return Err(refusal.error());
        }
        match stage {
            Lifecycle::Abandoned => Err(TaskError::Abandoned),
            _ => {
                // SAFETY: per this function's contract the state is terminal
                // (so the runner wrote the slot and will not touch it again)
                // and we are the only reader.
                let output = self
                    .slot
                    .with_mut(|slot| unsafe { std::ptr::replace(slot, Slot::Empty) });
                match output {
                    Slot::Output(Ok(value)) => Ok(value),
                    Slot::Output(Err(panic)) => Err(TaskError::Panicked(panic)),
                    _ => panic!(
                        "a task's output was taken twice (a TaskHandle polled after it returned its result)"
                    ),
                }
            }
        }
    }
}

/// What a handle needs of its task's core, whatever the body and extras
/// of the cell: the handle holds the task type-erased.
pub(crate) trait CoreRef<T>: Send + Sync {
    /// See [`Core::snapshot`].
    fn snapshot(&self) -> Snapshot;
    /// See [`Core::name`].
    fn name(&self) -> Option<&'static str>;
    /// See [`Core::register_thread`].
    fn register_thread(&self) -> bool;
    /// See [`Core::deregister_thread`].
    fn deregister_thread(&self);
    /// See [`Core::register_waker`].
    fn register_waker(&self, waker: &Waker) -> bool;
    /// See [`Core::add_callback`].
    fn add_callback(&self, callback: Callback) -> Option<CallbackKey>;
    /// See [`Core::remove_callback`].
    fn remove_callback(&self, key: CallbackKey) -> bool;
    /// See [`Core::take_output`].
    ///
    /// # Safety
    ///
    /// As for [`Core::take_output`].
    unsafe fn take_output(&self) -> Result<T, TaskError>;
}

impl<T: Send, B: Send, X: Extras> CoreRef<T> for Core<T, B, X> {
    fn snapshot(&self) -> Snapshot {
        Core::snapshot(self)
    }
    fn name(&self) -> Option<&'static str> {
        Core::name(self)
    }
    fn register_thread(&self) -> bool {
        Core::register_thread(self)
    }
    fn deregister_thread(&self) {
        Core::deregister_thread(self)
    }
    fn register_waker(&self, waker: &Waker) -> bool {
        Core::register_waker(self, waker)
    }
    fn add_callback(&self, callback: Callback) -> Option<CallbackKey> {
        Core::add_callback(self, callback)
    }
    fn remove_callback(&self, key: CallbackKey) -> bool {
        Core::remove_callback(self, key)
    }
    unsafe fn take_output(&self) -> Result<T, TaskError> {
        // SAFETY: our caller upholds the same contract.
        unsafe { Core::take_output(self) }
    }
}

/// Runs a done callback, containing its panic: a broken callback must not
/// take down the worker or the other callbacks.
fn run_callback(callback: Callback, outcome: Outcome) {
    unwind::contain("a done callback", || callback(outcome));
}

#[cfg(all(test, not(loom)))]
mod tests {
    use std::sync::atomic::AtomicUsize as StdAtomicUsize;
    use std::sync::Arc;

    use super::*;

    fn pending() -> Core<u32> {
        Core::new(None, Lifecycle::Scheduled, None)
    }

    fn finish(core: &Core<u32>) {
        assert!(core.transition_to_running());
        core.finish(Ok(1));
    }

    /// A callback that counts its runs in `calls`.
    fn counting(calls: &Arc<StdAtomicUsize>) -> Callback {
        let calls = Arc::clone(calls);
        Box::new(move |_| {
            calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        })
    }

    fn runs(calls: &Arc<StdAtomicUsize>) -> usize {
        calls.load(std::sync::atomic::Ordering::SeqCst)
    }

    #[test]
    fn a_removed_callback_never_runs_and_the_others_still_do() {
        let core = pending();
        let (a, b, c) = (Arc::default(), Arc::default(), Arc::default());
        let key_a = core.add_callback(counting(&a)).unwrap();
        let key_b = core.add_callback(counting(&b)).unwrap();
        let key_c = core.add_callback(counting(&c)).unwrap();
        assert_ne!(key_a, key_b);
        assert_ne!(key_b, key_c);
        assert!(core.remove_callback(key_b));
        finish(&core);
        assert_eq!((runs(&a), runs(&b), runs(&c)), (1, 0, 1));
        assert!(!core.remove_callback(key_a), "it ran: nothing to remove");
        assert!(!core.remove_callback(key_c));
        assert_eq!((runs(&a), runs(&c)), (1, 1));
    }

    #[test]
    fn a_callback_added_to_a_done_task_runs_at_once_and_has_no_key() {
        let core = pending();
        finish(&core);
        let calls = Arc::default();
        assert!(core.add_callback(counting(&calls)).is_none());
        assert_eq!(runs(&calls), 1);
    }

    #[test]
    fn removing_the_last_waiter_frees_the_list() {
        let core = pending();
        let calls = Arc::default();
        let key = core.add_callback(counting(&calls)).unwrap();
        assert!(core.register_thread());
        core.deregister_thread();
        assert!(lock(&core.waiters).is_some(), "the callback is still there");
        assert!(core.remove_callback(key));
        assert!(lock(&core.waiters).is_none());
        // Keys restart with a fresh list; the task still finishes cleanly.
        let key = core.add_callback(counting(&calls)).unwrap();
        assert!(core.remove_callback(key));
        assert!(lock(&core.waiters).is_none());
        finish(&core);
        assert_eq!(runs(&calls), 0);
    }

    #[test]
    fn keys_stay_distinct_among_live_callbacks_after_removals() {
        let core = pending();
        let calls: Vec<Arc<StdAtomicUsize>> = (0..4).map(|_| Arc::default()).collect();
        let k0 = core.add_callback(counting(&calls[0])).unwrap();
        let k1 = core.add_callback(counting(&calls[1])).unwrap();
        assert!(core.remove_callback(k0));
        let k2 = core.add_callback(counting(&calls[2])).unwrap();
        assert_ne!(k1, k2);
        assert!(core.remove_callback(k2));
        let k3 = core.add_callback(counting(&calls[3])).unwrap();
        assert_ne!(k1, k3);
        finish(&core);
        let counts: Vec<usize> = calls.iter().map(runs).collect();
        assert_eq!(counts, [0, 1, 0, 1]);
        assert!(!core.remove_callback(k1) && !core.remove_callback(k3));
    }
}
