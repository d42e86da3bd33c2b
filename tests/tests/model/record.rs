//! The model's record of each task, and the futures the model spawns.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex, OnceLock};
use std::task::{Context, Poll};

use executor::{Outcome, TaskError, TaskHandle};
use futures::task::ArcWake;

use crate::ops::Body;
use crate::PROBE_BUDGET;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Closure(Body),
    SelfWaking,
    Channel,
    Probe,
    /// The closure a probe waits for.
    Companion,
}

impl Kind {
    pub(crate) fn is_async(self) -> bool {
        matches!(self, Kind::SelfWaking | Kind::Channel | Kind::Probe)
    }
}

/// How a handle resolved, as the model saw it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Seen {
    Value(u64),
    Panicked(Option<String>, Option<&'static str>),
    Cancelled,
    Rejected,
    Broken,
    Abandoned,
}

impl Seen {
    pub(crate) fn outcome(&self) -> Outcome {
        match self {
            Seen::Value(_) => Outcome::Completed,
            Seen::Panicked(..) => Outcome::Panicked,
            Seen::Cancelled => Outcome::Cancelled,
            Seen::Rejected => Outcome::Rejected,
            Seen::Broken => Outcome::Broken,
            Seen::Abandoned => Outcome::Abandoned,
        }
    }
}

/// What the model knew when the submit returned.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Admission {
    /// A shutdown had returned before the submit began: `Rejected` is due.
    pub(crate) must_reject: bool,
    /// A shutdown had begun before the submit returned: `Rejected` is allowed.
    pub(crate) may_reject: bool,
}

pub(crate) struct Rec {
    pub(crate) id: usize,
    pub(crate) kind: Kind,
    pub(crate) named: bool,
    pub(crate) admission: OnceLock<Admission>,
    /// The handle while nobody holds it; `None` once its result was taken
    /// (then `seen` is set) or while an operation holds it.
    pub(crate) handle: Mutex<Option<TaskHandle<u64>>>,
    pub(crate) seen: Mutex<Option<Seen>>,
    /// Closure runs, or first polls of an async task.
    pub(crate) runs: AtomicUsize,
    pub(crate) cancel_ok: AtomicBool,
    /// Its place in a bounded queue is known to be free (see `Places`).
    pub(crate) freed: AtomicBool,
    pub(crate) callbacks_added: AtomicUsize,
    pub(crate) callbacks: Mutex<Vec<Outcome>>,
    /// A foreign waker was registered (the poll returned `Pending`).
    pub(crate) foreign: AtomicBool,
    pub(crate) foreign_wakes: Arc<AtomicUsize>,
    /// For a probe: the closure it waits for.
    pub(crate) companion: OnceLock<Arc<Rec>>,
}

impl Rec {
    pub(crate) fn new(id: usize, kind: Kind, named: bool) -> Arc<Rec> {
        Arc::new(Rec {
            id,
            kind,
            named,
            admission: OnceLock::new(),
            handle: Mutex::new(None),
            seen: Mutex::new(None),
            runs: AtomicUsize::new(0),
            cancel_ok: AtomicBool::new(false),
            freed: AtomicBool::new(false),
            callbacks_added: AtomicUsize::new(0),
            callbacks: Mutex::new(Vec::new()),
            foreign: AtomicBool::new(false),
            foreign_wakes: Arc::new(AtomicUsize::new(0)),
            companion: OnceLock::new(),
        })
    }

    pub(crate) fn value(&self) -> u64 {
        self.id as u64 * 7919 + 13
    }

    pub(crate) fn resolve(&self, result: Result<u64, TaskError>) {
        let seen = match result {
            Ok(v) => Seen::Value(v),
            Err(TaskError::Panicked(p)) => {
                Seen::Panicked(p.message().map(str::to_owned), p.task_name())
            }
            Err(TaskError::Cancelled) => Seen::Cancelled,
            Err(TaskError::Rejected) => Seen::Rejected,
            Err(TaskError::Broken) => Seen::Broken,
            Err(TaskError::Abandoned) => Seen::Abandoned,
        };
        let mut slot = self.seen.lock().unwrap();
        assert!(slot.is_none(), "task {} resolved twice", self.id);
        *slot = Some(seen);
    }

    pub(crate) fn take(&self) -> Option<TaskHandle<u64>> {
        self.handle.lock().unwrap().take()
    }

    pub(crate) fn put_back(&self, handle: TaskHandle<u64>) {
        *self.handle.lock().unwrap() = Some(handle);
    }
}

/// An upper bound on the places taken in a bounded queue: every task that
/// may take one counts in `taken` before it is submitted and in `freed`
/// once it surely holds none. At any instant the places held are at most
/// `taken - freed` (minus the caller's own, not yet queued), so a
/// `Full` answer is allowed only if `taken` after the call minus `freed`
/// before it reaches the capacity.
#[derive(Default)]
pub(crate) struct Places {
    pub(crate) taken: AtomicU64,
    pub(crate) freed: AtomicU64,
}

impl Places {
    pub(crate) fn free(&self, rec: &Rec) {
        if !rec.freed.swap(true, SeqCst) {
            self.freed.fetch_add(1, SeqCst);
        }
    }
}

/// Everything the threads of one case share.
/// Wakes itself `left` times, then returns its value.
pub(crate) struct SelfWaking {
    pub(crate) rec: Arc<Rec>,
    pub(crate) left: u8,
}

impl Future for SelfWaking {
    type Output = u64;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<u64> {
        if self.rec.runs.load(SeqCst) == 0 {
            self.rec.runs.store(1, SeqCst);
        }
        if self.left == 0 {
            return Poll::Ready(self.rec.value());
        }
        self.left -= 1;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

/// Wakes itself until `flag` is set or its budget is spent; returns how
/// many polls it took.
pub(crate) struct Probe {
    pub(crate) rec: Arc<Rec>,
    pub(crate) flag: Arc<AtomicBool>,
    /// Polls made while the companion was certainly still queued (see
    /// `companion_queued`): the number the fairness check judges.
    pub(crate) polls: u64,
    /// Every poll since `armed`, capped at `PROBE_BUDGET * 10` so that the
    /// probe ends even when it cannot see its companion (its handle taken
    /// by a wait, or the companion never runs).
    pub(crate) all_polls: u64,
    /// Set once the companion is queued: only polls after that count, so
    /// a test thread slow to queue the companion (descheduled, or waiting
    /// for a queue place) cannot use the budget up.
    pub(crate) armed: Arc<AtomicBool>,
    /// Set by the companion as it starts.
    pub(crate) started: Arc<AtomicBool>,
}

impl Probe {
    /// Is the companion certainly still waiting in a queue? Not once a
    /// worker took it (its handle says `running`, or it began): on 3
    /// workers over 2 cores that worker's thread may wait a whole time
    /// slice for a CPU between taking the task and calling it while the
    /// probe spins, which says nothing about the queue. The handle is only
    /// ever `try_lock`ed (a test thread may hold its lock while it waits);
    /// a poll that cannot tell does not count.
    fn companion_queued(&self) -> bool {
        if self.started.load(SeqCst) {
            return false;
        }
        let Some(companion) = self.rec.companion.get() else {
            return false;
        };
        let Ok(handle) = companion.handle.try_lock() else {
            return false;
        };
        handle.as_ref().is_some_and(|h| !h.running() && !h.done())
    }
}

impl Future for Probe {
    type Output = u64;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<u64> {
        self.rec.runs.store(1, SeqCst);
        if self.armed.load(SeqCst) {
            self.all_polls += 1;
            if self.companion_queued() {
                self.polls += 1;
            }
        }
        if self.flag.load(SeqCst)
            || self.polls >= PROBE_BUDGET
            || self.all_polls >= PROBE_BUDGET * 10
        {
            return Poll::Ready(self.polls);
        }
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

/// The message of a foreign waker's panic.
pub(crate) const FOREIGN_PANIC: &str = "a foreign waker panicked";

/// A waker from outside the pool (another runtime's), counting its wakes.
pub(crate) struct Foreign {
    pub(crate) wakes: Arc<AtomicUsize>,
    pub(crate) panics: bool,
}

impl ArcWake for Foreign {
    fn wake_by_ref(arc_self: &Arc<Self>) {
        arc_self.wakes.fetch_add(1, SeqCst);
        if arc_self.panics {
            panic!("{FOREIGN_PANIC}");
        }
    }
}
