//! What the threads of one case share, and how each operation is applied.

use std::collections::HashSet;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Barrier, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use executor::{
    as_completed, wait, Outcome, ReturnWhen, SubmitError, TaskHandle, TaskId, ThreadPoolExecutor,
};
use futures::channel::oneshot;

use crate::ops::{Body, Case, Op, GATES};
use crate::record::{Admission, Foreign, Kind, Places, Probe, Rec, SelfWaking};
use crate::support::Gate;
use crate::{
    EXPECT_CANCEL_FREES_QUEUE_PLACE, EXPECT_CONCURRENT_SHUTDOWN_WAITS,
    EXPECT_PANICKING_WAKER_CONTAINED,
};

pub(crate) struct World {
    pub(crate) pool: ThreadPoolExecutor,
    pub(crate) capacity: Option<usize>,
    pub(crate) places: Arc<Places>,
    pub(crate) records: Mutex<Vec<Arc<Rec>>>,
    pub(crate) gates: Vec<Gate>,
    pub(crate) channels: Mutex<Vec<(u64, Option<oneshot::Sender<u64>>)>>,
    pub(crate) next_id: AtomicUsize,
    pub(crate) shutdowns_begun: AtomicUsize,
    pub(crate) shutdowns_done: AtomicUsize,
    /// A `shutdown_with(_, true)` began.
    pub(crate) cancel_shutdown: AtomicBool,
    pub(crate) ops: AtomicU64,
}

impl Drop for World {
    /// A failing case must not then hang in the pool's `Drop`.
    fn drop(&mut self) {
        self.release_all();
    }
}

impl World {
    pub(crate) fn new(case: &Case) -> World {
        let mut builder = ThreadPoolExecutor::builder().max_workers(case.workers);
        if let Some(capacity) = case.capacity {
            builder = builder.queue_capacity(capacity);
        }
        if case.keep_alive {
            builder = builder
                .min_workers(0)
                .keep_alive(Duration::from_micros(200));
        }
        World {
            pool: builder.build().unwrap(),
            capacity: case.capacity,
            places: Arc::default(),
            records: Mutex::new(Vec::new()),
            gates: (0..GATES).map(|_| Gate::new()).collect(),
            channels: Mutex::new(Vec::new()),
            next_id: AtomicUsize::new(0),
            shutdowns_begun: AtomicUsize::new(0),
            shutdowns_done: AtomicUsize::new(0),
            cancel_shutdown: AtomicBool::new(false),
            ops: AtomicU64::new(0),
        }
    }

    pub(crate) fn new_rec(&self, kind: Kind, named: bool) -> Arc<Rec> {
        Rec::new(self.next_id.fetch_add(1, SeqCst), kind, named)
    }

    /// The record `pick` chooses among those made so far.
    /// Half the picks fall on the four latest records (likely still
    /// queued, so that cancellations succeed), half on any.
    pub(crate) fn pick(&self, pick: usize) -> Option<Arc<Rec>> {
        let records = self.records.lock().unwrap();
        let n = records.len();
        let index = match pick % 2 {
            0 => n.checked_sub(1 + (pick / 2) % n.clamp(1, 4))?,
            _ => (pick / 2) % n.max(1),
        };
        records.get(index).map(Arc::clone)
    }

    pub(crate) fn admit(&self, rec: Arc<Rec>, handle: TaskHandle<u64>, done_before: usize) {
        let admission = Admission {
            must_reject: done_before > 0,
            may_reject: self.shutdowns_begun.load(SeqCst) > 0,
        };
        rec.admission.set(admission).unwrap();
        rec.put_back(handle);
        self.records.lock().unwrap().push(rec);
    }

    /// The bound of `Places` for a submit that began when `freed` was
    /// `freed_before` and was handed its closure back.
    pub(crate) fn could_be_full(&self, freed_before: u64) -> bool {
        let Some(capacity) = self.capacity else {
            return false;
        };
        let taken = self.places.taken.load(SeqCst);
        taken.saturating_sub(freed_before).saturating_sub(1) >= capacity as u64
    }

    /// Opens every gate and fires every channel.
    pub(crate) fn release_all(&self) {
        for gate in &self.gates {
            gate.open();
        }
        for (value, sender) in self.channels.lock().unwrap().iter_mut() {
            if let Some(sender) = sender.take() {
                let _ = sender.send(*value);
            }
        }
    }

    pub(crate) fn closure(
        &self,
        rec: &Arc<Rec>,
        body: Body,
    ) -> impl FnOnce() -> u64 + Send + 'static {
        let (rec, places) = (Arc::clone(rec), Arc::clone(&self.places));
        let gate = match body {
            Body::Gated(g) => Some(self.gates[g as usize % GATES].clone()),
            _ => None,
        };
        move || {
            rec.runs.fetch_add(1, SeqCst);
            places.free(&rec);
            if let Some(gate) = gate {
                gate.wait();
            }
            match body {
                Body::Value(rounds) => (0..rounds).for_each(|_| std::hint::spin_loop()),
                Body::Panic => panic!("model panic {}", rec.id),
                Body::Gated(_) => {}
            }
            rec.value()
        }
    }

    /// Submits a closure from outside; returns its record if it produced a handle.
    pub(crate) fn submit(
        &self,
        rec: Arc<Rec>,
        f: impl FnOnce() -> u64 + Send + 'static,
        op: &Op,
    ) -> Option<Arc<Rec>> {
        self.places.taken.fetch_add(1, SeqCst);
        let freed_before = self.places.freed.load(SeqCst);
        let done_before = self.shutdowns_done.load(SeqCst);
        let result = match *op {
            Op::TrySubmit(_) => self.pool.try_submit(f),
            Op::Submit { timeout_us, .. } if self.capacity.is_some() => self
                .pool
                .submit_timeout(f, Duration::from_micros(timeout_us.into())),
            Op::Submit { named: true, .. } => Ok(self.pool.submit_named("model", f)),
            _ => Ok(self.pool.submit(f)),
        };
        let begun_after = self.shutdowns_begun.load(SeqCst);
        match result {
            Ok(handle) => {
                self.admit(Arc::clone(&rec), handle, done_before);
                Some(rec)
            }
            Err(refused) => {
                self.places.free(&rec);
                match &refused {
                    SubmitError::Shutdown(_) => {
                        assert!(begun_after > 0, "Shutdown before any shutdown began")
                    }
                    SubmitError::Full(_) | SubmitError::Timeout(_) => {
                        assert_eq!(done_before, 0, "{refused:?} after a shutdown returned");
                        assert!(
                            self.could_be_full(freed_before),
                            "{refused:?} while the queue cannot be full (capacity {:?}, places taken {}, freed {freed_before})",
                            self.capacity,
                            self.places.taken.load(SeqCst),
                        );
                    }
                    other => panic!("unexpected {other:?}"),
                }
                None
            }
        }
    }

    /// Spawns `future` from outside.
    pub(crate) fn spawn(&self, rec: Arc<Rec>, future: impl Future<Output = u64> + Send + 'static) {
        self.places.taken.fetch_add(1, SeqCst);
        let done_before = self.shutdowns_done.load(SeqCst);
        let handle = self.pool.spawn(future);
        // Its place (it holds at most one: queued once at a time) is free
        // once it is done, unless a cancellation keeps it (the defect).
        let (r, places) = (Arc::clone(&rec), Arc::clone(&self.places));
        handle.add_done_callback(move |outcome| {
            if outcome != Outcome::Cancelled || EXPECT_CANCEL_FREES_QUEUE_PLACE {
                places.free(&r);
            }
        });
        self.admit(rec, handle, done_before);
    }

    pub(crate) fn apply(&self, op: &Op) {
        self.ops.fetch_add(1, SeqCst);
        match op {
            Op::Submit { body, named, .. } => {
                // A bounded queue uses `submit_timeout`, which takes no name.
                let named = *named && self.capacity.is_none();
                let rec = self.new_rec(Kind::Closure(*body), named);
                let f = self.closure(&rec, *body);
                self.submit(rec, f, op);
            }
            Op::TrySubmit(body) => {
                let rec = self.new_rec(Kind::Closure(*body), false);
                let f = self.closure(&rec, *body);
                self.submit(rec, f, op);
            }
            Op::SpawnSelfWaking(n) => {
                let rec = self.new_rec(Kind::SelfWaking, false);
                let future = SelfWaking {
                    rec: Arc::clone(&rec),
                    left: *n,
                };
                self.spawn(rec, future);
            }
            Op::SpawnChannel => {
                let rec = self.new_rec(Kind::Channel, false);
                let (tx, rx) = oneshot::channel();
                self.channels.lock().unwrap().push((rec.value(), Some(tx)));
                let r = Arc::clone(&rec);
                self.spawn(rec, async move {
                    r.runs.fetch_add(1, SeqCst);
                    rx.await.unwrap_or(u64::MAX)
                });
            }
            Op::FairProbe => self.fair_probe(),
            Op::Cancel(pick) => {
                let Some(rec) = self.pick(*pick) else { return };
                let guard = rec.handle.lock().unwrap();
                if let Some(handle) = guard.as_ref() {
                    if handle.cancel() {
                        assert!(handle.done() && handle.cancelled());
                        rec.cancel_ok.store(true, SeqCst);
                        if EXPECT_CANCEL_FREES_QUEUE_PLACE && !rec.kind.is_async() {
                            self.places.free(&rec);
                        }
                    }
                }
            }
            Op::ResultTimeout(pick, us) => {
                let Some(rec) = self.pick(*pick) else { return };
                let Some(handle) = rec.take() else { return };
                match handle.result_timeout(Duration::from_micros((*us).into())) {
                    Ok(result) => rec.resolve(result),
                    Err(handle) => rec.put_back(handle),
                }
            }
            Op::Wait {
                picks,
                when,
                timeout_us,
                consume,
            } => self.wait(picks, *when, *timeout_us, *consume),
            Op::AsCompleted {
                picks,
                timeout_us,
                stop_after,
            } => self.as_completed(picks, *timeout_us, *stop_after),
            Op::AddCallback(pick) => {
                let Some(rec) = self.pick(*pick) else { return };
                let guard = rec.handle.lock().unwrap();
                if let Some(handle) = guard.as_ref() {
                    rec.callbacks_added.fetch_add(1, SeqCst);
                    let r = Arc::clone(&rec);
                    handle.add_done_callback(move |outcome| {
                        r.callbacks.lock().unwrap().push(outcome)
                    });
                }
            }
            Op::PollForeign(pick) => {
                let Some(rec) = self.pick(*pick) else { return };
                let Some(mut handle) = rec.take() else { return };
                let waker = futures::task::waker(Arc::new(Foreign {
                    wakes: Arc::clone(&rec.foreign_wakes),
                    panics: EXPECT_PANICKING_WAKER_CONTAINED,
                }));
                match Pin::new(&mut handle).poll(&mut Context::from_waker(&waker)) {
                    Poll::Ready(result) => rec.resolve(result),
                    Poll::Pending => {
                        rec.foreign.store(true, SeqCst);
                        rec.put_back(handle);
                    }
                }
            }
            Op::OpenGate(g) => self.gates[*g as usize % GATES].open(),
            Op::Fire(pick) => {
                let mut channels = self.channels.lock().unwrap();
                if !channels.is_empty() {
                    let n = channels.len();
                    let (value, sender) = &mut channels[pick % n];
                    if let Some(sender) = sender.take() {
                        let _ = sender.send(*value);
                    }
                }
            }
            Op::Shutdown { wait, cancel } => {
                if *wait {
                    std::thread::scope(|s| {
                        s.spawn(|| self.releaser());
                        self.shutdown(*cancel);
                    });
                } else {
                    if *cancel {
                        self.cancel_shutdown.store(true, SeqCst);
                    }
                    self.shutdowns_begun.fetch_add(1, SeqCst);
                    self.pool.shutdown_with(false, *cancel);
                    self.shutdowns_done.fetch_add(1, SeqCst);
                }
            }
            Op::ShutdownTwice { cancel } => {
                let barrier = Barrier::new(2);
                std::thread::scope(|s| {
                    s.spawn(|| self.releaser());
                    let other = s.spawn(|| {
                        barrier.wait();
                        self.shutdown(*cancel);
                    });
                    barrier.wait();
                    self.shutdown(*cancel);
                    other.join().unwrap();
                });
            }
        }
    }

    /// Once the pool is shutting down, lets every blocked task finish, so
    /// that `shutdown(true)` can return.
    pub(crate) fn releaser(&self) {
        while !self.pool.is_shutdown() {
            std::thread::yield_now();
        }
        self.release_all();
    }

    /// `shutdown_with(true, cancel)`, then: no worker is alive and every
    /// handle submitted before the call is done.
    pub(crate) fn shutdown(&self, cancel: bool) {
        if cancel {
            self.cancel_shutdown.store(true, SeqCst);
        }
        let before = self.records.lock().unwrap().len();
        let others_begun = self.shutdowns_begun.fetch_add(1, SeqCst);
        let others_done = self.shutdowns_done.load(SeqCst);
        self.pool.shutdown_with(true, cancel);
        let alone =
            others_begun == others_done && self.shutdowns_begun.load(SeqCst) == others_begun + 1;
        if alone || EXPECT_CONCURRENT_SHUTDOWN_WAITS {
            let stats = self.pool.stats();
            assert_eq!(
                stats.workers_alive, 0,
                "shutdown(true) returned with workers alive: {stats:?}"
            );
            let records: Vec<_> = self.records.lock().unwrap()[..before].to_vec();
            for rec in records {
                if let Ok(guard) = rec.handle.try_lock() {
                    if let Some(handle) = guard.as_ref() {
                        assert!(
                            handle.done(),
                            "shutdown(true) returned before task {} ({:?}, {:?}) was done; {:?}",
                            rec.id,
                            rec.kind,
                            handle,
                            self.pool.stats()
                        );
                    }
                }
            }
        }
        self.shutdowns_done.fetch_add(1, SeqCst);
    }

    /// A self-waking task that runs until the closure submitted right
    /// behind it has run (or its poll budget is spent).
    pub(crate) fn fair_probe(&self) {
        let flag = Arc::new(AtomicBool::new(false));
        let armed = Arc::new(AtomicBool::new(false));
        let started = Arc::new(AtomicBool::new(false));
        let probe = self.new_rec(Kind::Probe, false);
        self.spawn(
            Arc::clone(&probe),
            Probe {
                rec: Arc::clone(&probe),
                flag: Arc::clone(&flag),
                polls: 0,
                all_polls: 0,
                armed: Arc::clone(&armed),
                started: Arc::clone(&started),
            },
        );
        let rec = self.new_rec(Kind::Companion, false);
        let (r, places) = (Arc::clone(&rec), Arc::clone(&self.places));
        let f = move || {
            started.store(true, SeqCst);
            r.runs.fetch_add(1, SeqCst);
            places.free(&r);
            flag.store(true, SeqCst);
            r.value()
        };
        let submit = Op::Submit {
            body: Body::Value(0),
            named: false,
            timeout_us: 200,
        };
        if let Some(companion) = self.submit(rec, f, &submit) {
            assert!(probe.companion.set(companion).is_ok());
        }
        // The probe's budget runs from now on.
        armed.store(true, SeqCst);
    }

    /// Takes the handles `picks` chooses (distinct, present ones).
    pub(crate) fn take_many(&self, picks: &[usize]) -> Vec<(Arc<Rec>, TaskHandle<u64>)> {
        let mut seen = HashSet::new();
        let mut taken = Vec::new();
        for &pick in picks {
            let Some(rec) = self.pick(pick) else { continue };
            if seen.insert(rec.id) {
                if let Some(handle) = rec.take() {
                    taken.push((rec, handle));
                }
            }
        }
        taken
    }

    /// Matches handles that came back to their records: each exactly once.
    pub(crate) fn match_back(
        taken: &[(Arc<Rec>, TaskId)],
        back: impl IntoIterator<Item = TaskHandle<u64>>,
        seen: &mut HashSet<TaskId>,
    ) -> Vec<(Arc<Rec>, TaskHandle<u64>)> {
        back.into_iter()
            .map(|handle| {
                let id = handle.id();
                assert!(seen.insert(id), "a handle came back twice");
                let rec = taken
                    .iter()
                    .find(|(_, i)| *i == id)
                    .map(|(r, _)| Arc::clone(r))
                    .expect("a handle that was not passed in came back");
                (rec, handle)
            })
            .collect()
    }

    pub(crate) fn wait(&self, picks: &[usize], when: ReturnWhen, timeout_us: u16, consume: bool) {
        let taken = self.take_many(picks);
        let ids: Vec<_> = taken.iter().map(|(r, h)| (Arc::clone(r), h.id())).collect();
        let handles = taken.into_iter().map(|(_, h)| h);
        let result = wait(
            handles,
            when,
            Some(Duration::from_micros(timeout_us.into())),
        );
        let mut seen = HashSet::new();
        let done = Self::match_back(&ids, result.done, &mut seen);
        let not_done = Self::match_back(&ids, result.not_done, &mut seen);
        assert_eq!(seen.len(), ids.len(), "wait lost a handle");
        for (rec, handle) in done {
            assert!(handle.done(), "wait put an unfinished handle in `done`");
            if consume {
                rec.resolve(handle.result());
            } else {
                rec.put_back(handle);
            }
        }
        for (rec, handle) in not_done {
            rec.put_back(handle);
        }
    }

    pub(crate) fn as_completed(&self, picks: &[usize], timeout_us: u16, stop_after: Option<u8>) {
        let taken = self.take_many(picks);
        let ids: Vec<_> = taken.iter().map(|(r, h)| (Arc::clone(r), h.id())).collect();
        let mut completions = as_completed(taken.into_iter().map(|(_, h)| h))
            .timeout(Duration::from_micros(timeout_us.into()));
        let mut yielded = Vec::new();
        let mut pending = Vec::new();
        loop {
            if stop_after.is_some_and(|n| yielded.len() >= n.into()) {
                pending = completions.into_pending();
                break;
            }
            match completions.next() {
                Some(Ok(handle)) => {
                    assert!(handle.done(), "as_completed yielded an unfinished handle");
                    yielded.push(handle);
                }
                Some(Err(timed_out)) => {
                    pending = timed_out.into_pending();
                    assert!(
                        completions.next().is_none(),
                        "as_completed went on after its timeout"
                    );
                    break;
                }
                None => break,
            }
        }
        let mut seen = HashSet::new();
        let yielded = Self::match_back(&ids, yielded, &mut seen);
        let pending = Self::match_back(&ids, pending, &mut seen);
        assert_eq!(seen.len(), ids.len(), "as_completed lost a handle");
        for (rec, handle) in yielded {
            rec.resolve(handle.result());
        }
        for (rec, handle) in pending {
            rec.put_back(handle);
        }
    }
}
