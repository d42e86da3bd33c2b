//! The part of a task that its handle sees: the state word, the output slot
//! and the waiters to tell when the task becomes terminal.
//!
//! Exactly one party writes the output (the runner, after it won the
//! `SCHEDULED → RUNNING` transition) and exactly one takes it (the handle's
//! owner, after it saw a terminal state with `Acquire`). Waiters are kept
//! behind a per-task mutex that is only touched when someone actually waits,
//! so the common path (the task finishes before anybody asks) takes no lock.

use std::task::Waker;

use super::state::Snapshot;
use crate::error::{Panic, TaskError};
use crate::handle::Outcome;
use crate::sync::{lock, thread, AtomicUsize, Mutex, Ordering, UnsafeCell};
use crate::unwind;

type Callback = Box<dyn FnOnce(Outcome) + Send + 'static>;

/// Whoever must hear about the task becoming terminal.
#[derive(Default)]
struct Waiters {
    threads: Vec<thread::Thread>,
    waker: Option<Waker>,
    callbacks: Vec<Callback>,
}

pub(crate) struct Core<T> {
    state: AtomicUsize,
    name: Option<&'static str>,
    /// Boxed so a task nobody waits on carries one word here, not three vectors.
    waiters: Mutex<Option<Box<Waiters>>>,
    output: UnsafeCell<Option<Result<T, Panic>>>,
}

// SAFETY: `output` is the only field that is not `Sync` on its own. It is
// written once by the runner while the state is RUNNING and read once by the
// handle's owner after a terminal state was observed with `Acquire`, which
// pairs with the `AcqRel` swap in `finish`; the two never overlap. The value
// moves between threads, hence `T: Send`.
unsafe impl<T: Send> Sync for Core<T> {}

impl<T> Core<T> {
    pub(crate) fn new(name: Option<&'static str>, lifecycle: usize) -> Self {
        Self {
            state: AtomicUsize::new(lifecycle),
            name,
            waiters: Mutex::new(None),
            output: UnsafeCell::new(None),
        }
    }

    pub(crate) fn name(&self) -> Option<&'static str> {
        self.name
    }

    /// The current state. `Acquire`, pairing with the `AcqRel` swap in
    /// `finish`, so a terminal snapshot makes the output visible.
    pub(crate) fn snapshot(&self) -> Snapshot {
        Snapshot(self.state.load(Ordering::Acquire))
    }

    /// Moves the state from one of `from` lifecycles to `to`, keeping the
    /// flags, unless it is elsewhere. Returns the snapshot it replaced.
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
            match self.state.compare_exchange_weak(
                current.0,
                to(current).0,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => return Ok(current),
                Err(actual) => current = Snapshot(actual),
            }
        }
    }

    /// `SCHEDULED → RUNNING`: the caller wins the right to run the task.
    pub(crate) fn transition_to_running(&self) -> bool {
        self.transition(
            |s| s.lifecycle() == Snapshot::SCHEDULED,
            |s| s.with_lifecycle(Snapshot::RUNNING),
        )
        .is_ok()
    }

    /// Resolves a task that never started to `CANCELLED`, `REJECTED` or
    /// `BROKEN`. `from` says which stages count as "not started" for this
    /// kind of task. On success the caller owns the task's body:
    /// `drop_body` runs (and must drop it) before the waiters hear of the
    /// new state, so "cancelled" also means "its captures are released".
    pub(crate) fn transition_to_aborted(
        &self,
        from: impl Fn(Snapshot) -> bool,
        to: usize,
        drop_body: impl FnOnce(),
    ) -> bool {
        debug_assert!(Snapshot(to).is_terminal());
        match self.transition(from, |_| Snapshot(to)) {
            Ok(prev) => {
                drop_body();
                self.notify_waiters(prev, Snapshot(to));
                true
            }
            Err(_) => false,
        }
    }

    /// Stores the task's output and makes it visible: `RUNNING → COMPLETE`
    /// or `PANICKED`. Only the runner calls this, once.
    pub(crate) fn finish(&self, output: Result<T, Panic>) {
        let lifecycle = if output.is_ok() {
            Snapshot::COMPLETE
        } else {
            Snapshot::PANICKED
        };
        // SAFETY: the caller is the runner: it won `transition_to_running`
        // (or the async equivalent), so nobody else touches `output` until
        // the terminal state below is published.
        self.output.with_mut(|slot| unsafe { *slot = Some(output) });
        // AcqRel: the release publishes the output to anyone who then loads a
        // terminal state with `Acquire`; the acquire makes the waiter list
        // that a registering thread published with HAS_WAITERS visible here.
        let prev = Snapshot(self.state.swap(lifecycle, Ordering::AcqRel));
        debug_assert_eq!(prev.lifecycle(), Snapshot::RUNNING, "finish from {prev:?}");
        self.notify_waiters(prev, Snapshot(lifecycle));
    }

    /// Tells every registered waiter that the task is terminal.
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
            waker.wake();
        }
        let outcome = Outcome::from_snapshot(now);
        for callback in waiters.callbacks {
            run_callback(callback, outcome);
        }
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
        if let Some(waiters) = lock(&self.waiters).as_mut() {
            waiters.threads.retain(|t| t.id() != me);
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

    /// Adds a done callback, or runs it here and now if the task is terminal.
    pub(crate) fn add_callback(&self, callback: Callback) {
        let mut slot = Some(callback);
        if let Err(terminal) = self.register(|w| w.callbacks.extend(slot.take())) {
            if let Some(callback) = slot.take() {
                run_callback(callback, Outcome::from_snapshot(terminal));
            }
        }
    }

    /// Takes the task's output.
    ///
    /// # Safety
    ///
    /// The caller must own the task's handle exclusively, must have observed
    /// a terminal state with `Acquire` (through [`Core::snapshot`]), and must
    /// call this at most once per task.
    pub(crate) unsafe fn take_output(&self) -> Result<T, TaskError> {
        let snapshot = self.snapshot();
        debug_assert!(snapshot.is_terminal());
        match snapshot.lifecycle() {
            Snapshot::CANCELLED => Err(TaskError::Cancelled),
            Snapshot::REJECTED => Err(TaskError::Rejected),
            Snapshot::BROKEN => Err(TaskError::Broken),
            _ => {
                // SAFETY: per this function's contract the state is terminal
                // (so the runner wrote the slot and will not touch it again)
                // and we are the only reader.
                let output = self.output.with_mut(|slot| unsafe { (*slot).take() });
                match output {
                    Some(Ok(value)) => Ok(value),
                    Some(Err(panic)) => Err(TaskError::Panicked(panic)),
                    None => panic!("a task's output was taken twice"),
                }
            }
        }
    }
}

/// Runs a done callback, containing its panic: a broken callback must not
/// take down the worker or the other callbacks.
fn run_callback(callback: Callback, outcome: Outcome) {
    unwind::contain("a done callback", || callback(outcome));
}
