//! The registry: everything the workers of one pool share. The queues
//! (one `Injector` for submissions from outside, one `Worker` deque per
//! worker slot with its `Stealer`), the sleep state, the worker threads and
//! the pool's lifecycle flags.

use std::any::Any;
use std::sync::atomic::{fence, AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, OnceLock};
use std::thread::JoinHandle;
use std::time::Duration;

use crossbeam_deque::{Injector, Stealer, Worker};
use crossbeam_utils::CachePadded;

use super::config::Config;
use super::pool_state::{AtomicPoolState, PoolState};
use crate::capacity::{Capacity, OnFull};
use crate::deadline::Deadline;
use crate::error::BuildError;
use crate::error::Refusal;
use crate::scheduler::sleep::Sleep;
use crate::scheduler::worker;
use crate::stats::{SlotStats, Stats};
use crate::sync::{lock, lock_std, Mutex};
use crate::task::state::Lifecycle;
use crate::task::{Job, Runnable};

/// Slots beyond `max_workers` for spare workers: threads started while
/// workers are blocked in a wait, so that the pool keeps `max_workers`
/// threads running tasks (Java's ForkJoinPool compensation, which allows
/// 256 spares too). A wait never needs a spare to make progress on
/// closures it depends on (it claims them, or the thread running them is
/// not blocked); spares keep the pool's parallelism and run async tasks
/// woken while every worker waits.
pub(crate) const SPARE_SLOTS: usize = 256;

// Every alive thread may count as searching at once (a started thread
// searches from its start), and `Counts` holds that count in 16 bits:
// `MAX_WORKERS` keeps the pool's threads below it.
const _: () = assert!(
    super::config::MAX_WORKERS + SPARE_SLOTS <= crate::scheduler::sleep::Counts::MAX_SEARCHING
);

/// One worker position, made the first time a thread takes it (most spare
/// slots never are). Its deque outlives the threads that use it: a thread
/// takes the `Worker` end when it starts and gives it back when it
/// retires, so the `Stealer` in `Registry::stealers` stays valid.
pub(crate) struct Slot {
    pub(crate) deque: Mutex<Option<Worker<Job>>>,
    pub(crate) stats: CachePadded<SlotStats>,
    /// The task this slot's worker runs at the bottom of its stack, if it
    /// started it with an empty deque (0 otherwise): everything on the
    /// deque was then spawned under that task, so a worker waiting for it
    /// may take work from here (see `WorkerCtx::help_under`).
    pub(crate) root: CachePadded<AtomicUsize>,
    /// Another worker wants work: this slot's worker publishes the oldest
    /// `join` half it keeps unpublished at its next fork (the `join` module).
    /// Its own line: the owner reads it at every fork.
    pub(crate) wanted: CachePadded<AtomicBool>,
}

impl Slot {
    /// Asks this slot's worker to publish work. Reads first, so a flag that
    /// is set already costs the owner's cache line nothing.
    pub(crate) fn request_work(&self) {
        if !self.wanted.load(Ordering::Relaxed) {
            self.wanted.store(true, Ordering::Relaxed);
        }
    }
}

/// The worker threads, guarded by one lock that only starting, retiring,
/// exiting and shutting down take.
struct Threads {
    handles: Vec<Option<JoinHandle<()>>>,
    /// Per slot: a thread holds it now.
    occupied: Vec<bool>,
}

pub(crate) struct Registry {
    pub(crate) injector: Injector<Job>,
    /// Per slot, once it was first used: the thief's end of its deque.
    stealers: Box<[OnceLock<Stealer<Job>>]>,
    /// Per slot, once it was first used.
    slots: Box<[OnceLock<Arc<Slot>>]>,
    pub(crate) sleep: Sleep,
    pub(crate) config: Config,
    state: AtomicPoolState,
    /// Workers started and not yet exited (or retired). Written under `threads`.
    alive: AtomicUsize,
    /// Workers blocked in a wait for a task they cannot run (see
    /// `begin_blocking`): alive, but not running tasks.
    blocked: AtomicUsize,
    /// Tasks inside `shutdown(wait)` of this pool (see
    /// `wait_workers_from_a_task`): alive, but waiting for the others.
    shutting_down_from_tasks: AtomicUsize,
    /// One past the highest slot a thread holds: searches and re-checks look
    /// at the deques below it (the others are empty). Written under `threads`.
    scan_bound: AtomicUsize,
    threads: Mutex<Threads>,
    started: AtomicU64,
    retired: AtomicU64,
    /// Tasks cancelled through handles or by shutdown.
    pub(crate) cancelled: AtomicU64,
    /// The bounded queue's places, with `queue_capacity` set.
    capacity: Option<Arc<Capacity>>,
    /// How many `shutdown(wait = true)` callers are joining worker threads
    /// they took out of `threads.handles`. A caller that finds no handle
    /// left waits here until they are done (see `join_workers`). Changed
    /// under the `threads` lock, which is taken first.
    joining: (std::sync::Mutex<usize>, Condvar),
    /// Tasks submitted from outside the pool (the workers count theirs in
    /// their slots); its own line, as every outside submit bumps it.
    submitted: CachePadded<AtomicU64>,
    /// Tasks resolved to `REJECTED`, to `BROKEN` and to `ABANDONED`.
    rejected: AtomicU64,
    broken: AtomicU64,
    abandoned: AtomicU64,
    /// Async tasks that are alive, so termination can resolve them.
    pub(crate) async_tasks: super::live_tasks::LiveTasks,
    /// Delayed and periodic tasks waiting for their due time.
    pub(crate) timer: crate::scheduler::timer::Timer,
    /// Tasks waiting in the queues of limited views, and the views' runner
    /// jobs in the pool's queues, for `stats()`.
    pub(crate) views: super::view_counts::ViewCounts,
    /// Token tasks whose bodies run now, for `shutdown_timeout`: made on
    /// first use and type-erased, so that the scheduler does not depend on
    /// the cancellation modules above it (see `RunningTokens::of`).
    pub(crate) running_tokens: OnceLock<Arc<dyn Any + Send + Sync>>,
}

impl Registry {
    pub(crate) fn new(config: Config) -> Result<Arc<Registry>, BuildError> {
        let slots_n = config.max_workers + SPARE_SLOTS;
        let registry = Arc::new(Registry {
            injector: Injector::new(),
            stealers: (0..slots_n).map(|_| OnceLock::new()).collect(),
            slots: (0..slots_n).map(|_| OnceLock::new()).collect(),
            sleep: Sleep::new(slots_n, num_cpus::get()),
            state: AtomicPoolState::new(),
            alive: AtomicUsize::new(0),
            blocked: AtomicUsize::new(0),
            shutting_down_from_tasks: AtomicUsize::new(0),
            scan_bound: AtomicUsize::new(0),
            threads: Mutex::new(Threads {
                handles: (0..slots_n).map(|_| None).collect(),
                occupied: vec![false; slots_n],
            }),
            started: AtomicU64::new(0),
            retired: AtomicU64::new(0),
            cancelled: AtomicU64::new(0),
            capacity: config.queue_capacity.map(|n| Arc::new(Capacity::new(n))),
            joining: (std::sync::Mutex::new(0), Condvar::new()),
            submitted: CachePadded::new(AtomicU64::new(0)),
            rejected: AtomicU64::new(0),
            broken: AtomicU64::new(0),
            abandoned: AtomicU64::new(0),
            async_tasks: super::live_tasks::LiveTasks::default(),
            timer: crate::scheduler::timer::Timer::default(),
            views: super::view_counts::ViewCounts::default(),
            running_tokens: OnceLock::new(),
            config,
        });
        for _ in 0..registry.config.min_workers {
            if let Err(e) = registry.start_worker() {
                registry.shutdown(true, true);
                return Err(BuildError::Spawn(e));
            }
        }
        Ok(registry)
    }

    pub(crate) fn state(&self) -> PoolState {
        self.state.load()
    }

    pub(crate) fn alive(&self) -> usize {
        self.alive.load(Ordering::Relaxed)
    }

    /// Identifies this pool: the registry's address, stable while it lives.
    pub(crate) fn id(self: &Arc<Self>) -> usize {
        Arc::as_ptr(self) as usize
    }

    /// Workers that are alive and not blocked in a wait: the ones that may
    /// run tasks. (Two separate loads; a stale pair errs by one either way,
    /// which the checks under the `threads` lock correct.)
    fn unblocked(&self) -> usize {
        self.alive()
            .saturating_sub(self.blocked.load(Ordering::SeqCst))
    }

    /// More unblocked workers than `max_workers`: a blocked worker resumed
    /// while the spare started for it still runs. The next worker to look
    /// for work steps down (`try_begin_shed`).
    pub(crate) fn over_capacity(&self) -> bool {
        self.unblocked() > self.config.max_workers
    }

    /// Slot `index`, which must have been used (it is the slot of a running
    /// or exited worker).
    pub(crate) fn slot(&self, index: usize) -> &Arc<Slot> {
        self.slots[index]
            .get()
            .expect("a slot is made before its first thread starts")
    }

    /// Slot `index`, if a thread ever held it.
    pub(crate) fn used_slot(&self, index: usize) -> Option<&Arc<Slot>> {
        self.slots[index].get()
    }

    /// The thief's end of slot `index`'s deque, if the slot was ever used.
    pub(crate) fn stealer(&self, index: usize) -> Option<&Stealer<Job>> {
        self.stealers[index].get()
    }

    /// The slots a search must look at: those below `scan_bound`.
    pub(crate) fn scan_bound(&self) -> usize {
        // Acquire: pairs with the Release store under `threads` made before
        // the thread of a new slot was spawned.
        self.scan_bound.load(Ordering::Acquire)
    }

    /// Queues a job: on the current worker's own deque when called from a
    /// worker of this pool, else on the injector; then wakes or starts a
    /// worker if one is needed.
    pub(crate) fn schedule(self: &Arc<Self>, job: Job) {
        if let Err(job) = worker::push_local(self, job) {
            self.injector.push(job);
        }
        self.notify();
    }

    /// Queues a job on the injector from anywhere (a job that was queued
    /// already, moving; it takes no queue place), and notifies.
    pub(crate) fn inject(self: &Arc<Self>, job: Job) {
        self.injector.push(job);
        self.notify();
    }

    /// Wakes a sleeper for newly queued work, or starts a worker when all the
    /// alive ones are busy and the pool may grow.
    pub(crate) fn notify(self: &Arc<Self>) {
        if self.sleep.notify_one() && self.unblocked() < self.config.max_workers {
            self.start_worker_for_work();
        }
    }

    #[cold]
    fn start_worker_for_work(self: &Arc<Self>) {
        if let Err(e) = self.start_worker() {
            // Not fatal: the pool keeps at least `min_workers` (>= 1 unless
            // configured otherwise) who will get to the work.
            eprintln!("executor: could not start another worker thread: {e}");
        }
    }

    /// Starts one worker thread if the pool is below its maximum and open.
    pub(crate) fn start_worker(self: &Arc<Self>) -> std::io::Result<()> {
        let retired = self.start_worker_locked()?;
        // A thread that retired from the slot we took has given its deque
        // back and is exiting: reap it, outside the lock (it may itself be
        // waiting for the lock, to start a worker in `finish_retire`), and
        // never ourselves (that retiring thread may be the one starting).
        if let Some(old) = retired {
            if old.thread().id() != std::thread::current().id() {
                let _ = old.join();
            }
        }
        Ok(())
    }

    /// `start_worker` under the `threads` lock. Returns the handle of the
    /// retired thread that last used the slot, if any, for the caller to reap.
    fn start_worker_locked(self: &Arc<Self>) -> std::io::Result<Option<JoinHandle<()>>> {
        let mut threads = lock(&self.threads);
        // A pool that is shutting down still grows until it terminated:
        // running tasks may queue subtasks, a worker blocked in a wait needs
        // a spare to run them, and a parked async task woken after the
        // workers left needs one (see `terminate`). `terminate` sets its
        // flag under this lock with no worker alive, so none starts after.
        let state = self.state();
        if state.is_broken() || state.is_terminated() {
            return Ok(None);
        }
        if self.unblocked() >= self.config.max_workers {
            return Ok(None);
        }
        // The lowest free slot, so that the slots in use stay packed below
        // `scan_bound`.
        let Some(index) = threads.occupied.iter().position(|&o| !o) else {
            return Ok(None);
        };
        threads.occupied[index] = true;
        self.slots[index].get_or_init(|| {
            let deque = Worker::new_lifo();
            let _ = self.stealers[index].set(deque.stealer());
            Arc::new(Slot {
                deque: Mutex::new(Some(deque)),
                stats: CachePadded::new(SlotStats::default()),
                root: CachePadded::new(AtomicUsize::new(0)),
                wanted: CachePadded::new(AtomicBool::new(false)),
            })
        });
        if index >= self.scan_bound.load(Ordering::Relaxed) {
            // Release, before the thread that will push onto this slot's
            // deque exists: pairs with the Acquire in `scan_bound`.
            self.scan_bound.store(index + 1, Ordering::Release);
        }
        let retired = threads.handles[index].take();
        let mut builder = std::thread::Builder::new()
            .name(format!("{}-{}", self.config.thread_name_prefix, index));
        if let Some(bytes) = self.config.stack_size {
            builder = builder.stack_size(bytes);
        }
        let registry = Arc::clone(self);
        self.alive.fetch_add(1, Ordering::SeqCst);
        // The new worker counts as searching from now on: it is the worker
        // for the work that made us start it. Submitters arriving before it
        // runs rely on it instead of starting more threads, and when it finds
        // work it hands the rest on (waking or starting the next worker), so
        // a burst keeps growing the pool up to `max_workers`. Without this a
        // new worker took its first job without ever searching, and growth
        // stopped one thread above the sleepers (keep_alive_and_capacity.rs, burst test).
        self.sleep.add_searcher();
        match builder.spawn(move || worker::main(registry, index)) {
            Ok(handle) => {
                threads.handles[index] = Some(handle);
                self.started.fetch_add(1, Ordering::Relaxed);
                Ok(retired)
            }
            Err(e) => {
                self.sleep.stop_searching();
                self.alive.fetch_sub(1, Ordering::SeqCst);
                threads.handles[index] = retired;
                Self::free_slot(&mut threads, &self.scan_bound, index);
                Err(e)
            }
        }
    }

    /// A worker idle for `keep_alive` asks to retire; granted while the pool
    /// stays at or above `min_workers` and is open. On success the worker no
    /// longer counts as alive and must call `finish_retire` as it exits.
    #[must_use]
    pub(crate) fn try_begin_retire(&self) -> bool {
        let _threads = lock(&self.threads);
        if self.alive() <= self.config.min_workers || self.state().is_shutdown() {
            return false;
        }
        self.alive.fetch_sub(1, Ordering::SeqCst);
        self.retired.fetch_add(1, Ordering::Relaxed);
        true
    }

    /// A worker between tasks asks to step down because the pool runs more
    /// unblocked workers than `max_workers` (see `over_capacity`); granted
    /// to as many as there are too many. On success, as for
    /// `try_begin_retire`, the worker must call `finish_retire` as it exits.
    #[must_use]
    pub(crate) fn try_begin_shed(&self) -> bool {
        let _threads = lock(&self.threads);
        if !self.over_capacity() {
            return false;
        }
        self.alive.fetch_sub(1, Ordering::SeqCst);
        self.retired.fetch_add(1, Ordering::Relaxed);
        true
    }

    /// Gives slot `index` back (under the `threads` lock) and lowers
    /// `scan_bound` past the free slots at the top.
    fn free_slot(threads: &mut Threads, scan_bound: &AtomicUsize, index: usize) {
        threads.occupied[index] = false;
        let bound = threads
            .occupied
            .iter()
            .rposition(|&o| o)
            .map_or(0, |i| i + 1);
        scan_bound.store(bound, Ordering::Release);
    }

    /// A worker is about to park in a wait for something it cannot run
    /// (a task running on another thread, an async task waiting for its
    /// waker, a task of another pool). It stops counting as a worker that
    /// runs tasks until the returned guard drops, and if work is queued, a
    /// sleeper is woken or a spare thread started for it now, so the pool
    /// keeps `max_workers` threads running tasks (Java's ManagedBlocker
    /// compensation). Work queued later reaches a spare through `notify`,
    /// which counts blocked workers out.
    pub(crate) fn begin_blocking(self: &Arc<Self>) -> Blocking<'_> {
        self.blocked.fetch_add(1, Ordering::SeqCst);
        // SeqCst fence between our increment and the queue check: pairs with
        // the fence in `notify_one`, after a submitter's push and before its
        // `unblocked` load. Either it sees us blocked (and wakes or starts a
        // worker for its job), or we see its job here and do so ourselves.
        fence(Ordering::SeqCst);
        if self.has_work() {
            self.notify();
        }
        Blocking(self)
    }

    /// A retired worker gives its (empty) deque and its slot back, then
    /// makes sure no job queued meanwhile is left without a worker.
    ///
    /// Between its keep-alive timeout and this point the worker was neither
    /// asleep nor searching, so a submitter could find nobody to wake and no
    /// thread to start: either `alive` still counted the retiring worker at
    /// `max_workers`, or its slot was not free yet. With `min_workers(0)` that
    /// job would wait forever. So the retiring worker re-checks the queues
    /// after its slot is free and, if anything is queued, notifies on the
    /// submitter's behalf (keep_alive_and_capacity.rs, `no_task_is_stranded_by_a_retiring_worker`).
    pub(crate) fn finish_retire(self: &Arc<Self>, index: usize, deque: Worker<Job>) {
        debug_assert!(deque.is_empty(), "a retiring worker has no queued work");
        {
            let mut threads = lock(&self.threads);
            *lock(&self.slot(index).deque) = Some(deque);
            Self::free_slot(&mut threads, &self.scan_bound, index);
        }
        // SeqCst fence between our `alive` decrement (in `try_begin_retire`)
        // and the queue re-check: pairs with the fence in `notify_one`, after
        // the submitter's push and before its `alive` load. Either it saw
        // `alive` below the maximum (and started a thread, or found no free
        // slot under the `threads` lock before we freed ours, so its push is
        // visible to us now), or our re-check sees its job.
        fence(Ordering::SeqCst);
        if self.has_work() {
            self.notify();
        }
    }

    /// A worker leaves for good (shutdown, or its initializer panicked).
    pub(crate) fn exit_worker(self: &Arc<Self>, index: usize, deque: Worker<Job>) {
        let last = {
            let mut threads = lock(&self.threads);
            *lock(&self.slot(index).deque) = Some(deque);
            Self::free_slot(&mut threads, &self.scan_bound, index);
            self.alive.fetch_sub(1, Ordering::SeqCst) == 1
        };
        if last && self.state().is_closed() {
            self.terminate();
        }
    }

    /// Is there any queued job anywhere? Used for the re-checks of the
    /// sleep protocol, so it must look at every queue.
    pub(crate) fn has_work(&self) -> bool {
        !self.injector.is_empty()
            || self.stealers[..self.scan_bound()]
                .iter()
                .filter_map(OnceLock::get)
                .any(|s| !s.is_empty())
    }

    /// May a worker that found no work leave the pool for good? Once it is
    /// broken, yes; once it is shut down, unless a started async task is
    /// parked on a waker that can still fire: its wake needs a worker.
    pub(crate) fn may_exit(&self) -> bool {
        let state = self.state();
        state.is_broken() || (state.is_shutdown() && !self.async_tasks.any_parked())
    }

    /// An async task left the live set. If it was the last of a pool that
    /// is shutting down, every sleeper is woken: workers that stayed for a
    /// parked task may exit now.
    pub(crate) fn forget_async_task(&self, key: usize) {
        // The decrement in `remove` and this flag load are SeqCst, as are a
        // sleeper's loads of the flags and the count in `may_exit` (after it
        // announced itself). If the sleeper saw the flag and a count above
        // zero, our load comes later and sees the flag: we wake it.
        if self.async_tasks.remove(key) && self.state().is_shutdown() {
            self.sleep.notify_all();
        }
    }

    /// `shutdown(wait)` / `shutdown_with(wait, cancel_futures)`.
    pub(crate) fn shutdown(self: &Arc<Self>, wait: bool, cancel_queued: bool) {
        let _before = self.state.shut_down(cancel_queued);
        // Timers not yet due are not queued work: they resolve to Cancelled.
        self.timer.close(self, Refusal::Cancelled);
        // SeqCst fence between the flag and the scan: pairs with the fence
        // in `AsyncTask::on_unwakeable`. Either a task that became
        // unwakeable sees the flag and abandons itself, or we see it here.
        fence(Ordering::SeqCst);
        self.async_tasks.abandon_unwakeable();
        if cancel_queued {
            // Started async tasks woken meanwhile are running, not queued
            // work: they go back in the queue, and run. They left SCHEDULED,
            // so they hold no queue place and take none.
            for job in self.drain_queues(Refusal::Cancelled) {
                self.injector.push(job);
            }
        }
        self.sleep.notify_all();
        self.release_blocked_submitters();
        if self.alive() == 0 {
            self.terminate();
        }
        if wait {
            self.join_workers();
            self.terminate();
            // Nor may code on one of the pool's threads wait for the timer
            // thread: that thread may be joining this one (a done callback
            // it ran shut the pool down).
            if !worker::is_thread_of(self) {
                self.timer.wait_stopped();
            }
        }
    }

    /// Returns once every worker thread has exited, so every queued and
    /// running task has finished: the promise of `shutdown(wait = true)`,
    /// to every caller, however many call at once.
    ///
    /// Callers take the handles out of `threads.handles` and join them;
    /// one that finds none left while another caller is still joining
    /// waits for that caller (`joining`), then looks again. Repeats until
    /// no thread is left: a worker may start a spare while it drains (every
    /// thread is registered under the lock by a thread that is still alive,
    /// so a later round sees it).
    ///
    /// A task shutting its own pool down waits differently, see
    /// `wait_workers_from_a_task`; so does any code on one of the pool's
    /// threads (a hook, a done callback the last worker runs as it
    /// resolves what is left): a caller may be joining that very thread.
    fn join_workers(self: &Arc<Self>) {
        if worker::is_thread_of(self) {
            return self.wait_workers_from_a_task(worker::is_alive_thread_of(self));
        }
        let me = std::thread::current().id();
        loop {
            let handles: Vec<JoinHandle<()>> = {
                let mut threads = lock(&self.threads);
                let handles: Vec<_> = threads
                    .handles
                    .iter_mut()
                    .filter(|h| h.as_ref().is_some_and(|h| h.thread().id() != me))
                    .filter_map(Option::take)
                    .collect();
                // Under the `threads` lock: another caller sees either the
                // handles or our count, never neither.
                let mut joining = lock_std(&self.joining.0);
                if handles.is_empty() {
                    drop(threads);
                    if *joining == 0 {
                        return;
                    }
                    // Holding `joining` from the check to the wait: the
                    // joiner's decrement and notify cannot fall in between.
                    drop(
                        self.joining
                            .1
                            .wait_while(joining, |n| *n > 0)
                            .unwrap_or_else(|p| p.into_inner()),
                    );
                    continue;
                }
                *joining += 1;
                handles
            };
            for handle in handles {
                let _ = handle.join();
            }
            let mut joining = lock_std(&self.joining.0);
            *joining -= 1;
            if *joining == 0 {
                self.joining.1.notify_all();
            }
        }
    }

    /// `shutdown(wait)` called by a task of this pool. Its own task runs
    /// on until it returns, so it cannot wait for every worker to exit;
    /// nor for a worker blocked in a wait of the pool, or kept asleep for a
    /// parked async task (either may be waiting for this very task), nor
    /// for another task in this same call (it may wait for this one in
    /// turn). So it waits, in short timed parks, until every other worker
    /// has exited, is blocked in a wait, is in this call, or sleeps with
    /// nothing queued: the pool has nothing left to run but tasks that
    /// wait (or work that only a waiting worker can take, once it
    /// returns). It joins no thread (a joined worker could start waiting
    /// for this task after the join began); the handles stay for an
    /// outside caller, or are dropped with the pool.
    ///
    /// `alive`: the caller counts among the alive workers (it is not a
    /// leaving worker resolving what is left), so it counts as waiting.
    fn wait_workers_from_a_task(&self, alive: bool) {
        let me = usize::from(alive);
        self.shutting_down_from_tasks
            .fetch_add(me, Ordering::SeqCst);
        Deadline::Never.poll_until(|| {
            let alive = self.alive.load(Ordering::SeqCst);
            let waiting = self.blocked.load(Ordering::SeqCst)
                + self.shutting_down_from_tasks.load(Ordering::SeqCst);
            let sleeping = self.sleep.counts().sleeping();
            // Every worker waits: queued work (if any) waits for one of
            // them to return. Or the rest sleep with nothing to run.
            alive <= waiting || (alive <= waiting + sleeping && !self.has_work())
        });
        self.shutting_down_from_tasks
            .fetch_sub(me, Ordering::SeqCst);
    }

    /// A worker's initializer panicked: the pool is broken. Every queued
    /// task resolves to Broken, and so will every later one.
    pub(crate) fn break_pool(&self) {
        #[cfg(feature = "tracing")]
        crate::trace::pool_broken(&self.config.thread_name_prefix);
        let _before = self.state.break_down();
        self.timer.close(self, Refusal::Broken);
        // A broken pool abandons started tasks, so what is left are `join`
        // halves, which their joins wait for: they run on.
        for fork in self.drain_queues(Refusal::Broken) {
            self.injector.push(fork);
        }
        self.sleep.notify_all();
        self.release_blocked_submitters();
    }

    /// Resolves whatever is still queued to `refusal`. Only the injector
    /// and the stealers are reachable from here; a job a worker holds in
    /// its hand is resolved by that worker, which checks the flags first.
    /// Returns the jobs still queued after their abort failed: started
    /// async tasks, which a cancellation does not touch.
    fn drain_queues(&self, refusal: Refusal) -> Vec<Job> {
        let mut started = Vec::new();
        let mut resolve = |job: Job| {
            self.abort(&job, refusal);
            if job.is_queued() {
                started.push(job);
            }
        };
        loop {
            let mut found = false;
            while let Some(job) = self.injector.steal().success() {
                found = true;
                resolve(job);
            }
            for stealer in self.stealers.iter().filter_map(OnceLock::get) {
                while let Some(job) = stealer.steal().success() {
                    found = true;
                    resolve(job);
                }
            }
            if !found {
                return started;
            }
        }
    }

    /// Resolves a job taken off a queue (or an async task found parked)
    /// without running it. Cancellations are counted here, when the
    /// cancelled job leaves the queues, whoever cancelled it: once, by the
    /// first to find it cancelled (a task may have a stale queue entry
    /// besides, see `Core::tally_cancelled`).
    pub(crate) fn abort(&self, job: &Job, refusal: Refusal) {
        match job {
            Job::Task(task) => self.abort_task(&**task, refusal),
            // A fork is never aborted: its `join` runs it.
            Job::Fork(_) => {}
        }
    }

    /// [`abort`](Self::abort) for a task however it was found (a queue
    /// entry, the live async set, a wake after termination): every path
    /// that resolves a task unrun goes through here, so the one that made
    /// the transition counts it, exactly once.
    pub(crate) fn abort_task<T: Runnable + ?Sized>(&self, task: &T, refusal: Refusal) {
        let aborted = task.abort(refusal);
        if aborted && refusal != Refusal::Cancelled {
            // A started async task is abandoned instead, and counted so by
            // the task itself (`count_abandoned`).
            if task.snapshot().lifecycle() != Lifecycle::Abandoned {
                self.count_refused(refusal);
            }
        } else if task.tally_cancelled() {
            self.cancelled.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// A task was submitted from outside the pool (a worker counts its
    /// own submissions in its slot).
    pub(crate) fn count_submitted(&self) {
        self.submitted.fetch_add(1, Ordering::Relaxed);
    }

    /// A task was resolved to `Rejected` or `Broken` (whoever made the
    /// transition counts it, once); cancellations are counted apart, see
    /// `abort`.
    pub(crate) fn count_refused(&self, refusal: Refusal) {
        let counter = match refusal {
            Refusal::Rejected => &self.rejected,
            Refusal::Broken => &self.broken,
            Refusal::Cancelled => {
                return debug_assert!(false, "cancellations are tallied, see `abort`")
            }
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// A started async task was resolved to `ABANDONED` (by the one who
    /// made that transition).
    pub(crate) fn count_abandoned(&self) {
        self.abandoned.fetch_add(1, Ordering::Relaxed);
    }

    /// A submit from outside got a handle resolved at once to `refusal`
    /// (`Rejected` or `Broken`): it counts as submitted and refused.
    pub(crate) fn count_refused_at_once(&self, refusal: Refusal) {
        self.count_submitted();
        self.count_refused(refusal);
    }

    /// A submitter from outside queued a task and then found the pool
    /// closed (`closed_after_submit` returned `refusal`): `abort`
    /// resolves the task unless a worker started it first.
    pub(crate) fn refuse_after_submit(
        &self,
        refusal: Refusal,
        abort: impl FnOnce(Refusal) -> bool,
    ) {
        if abort(refusal) {
            self.count_refused(refusal);
        }
        self.drain_if_terminated();
    }

    /// After a job was queued from outside (a submit, an async task's
    /// waker) and its task resolved because the pool closed: if no worker
    /// is left, its queue entry would stay behind (`terminate` may have
    /// drained the queues before the push). It is taken out here, so a
    /// terminated pool holds no task and `stats()` counts none as queued.
    pub(crate) fn drain_if_terminated(&self) {
        let state = self.state();
        if let (true, Some(leftover)) = (state.is_terminated(), state.refusal()) {
            self.drain_queues(leftover);
        }
    }

    /// A worker popped a job that turned out cancelled.
    pub(crate) fn count_cancelled(&self) {
        self.cancelled.fetch_add(1, Ordering::Relaxed);
    }

    /// After the last worker exited: resolve what can no longer run. Jobs
    /// that raced into the queues become Rejected (or Broken), and so do
    /// async tasks that never started; started ones become Abandoned.
    /// Idempotent.
    ///
    /// A shut-down pool (not a broken one) with a started async task still
    /// parked on its waker does not terminate: its wake needs a worker, so
    /// one is started to wait for it and exits with the last such task.
    /// (Only a worker running a task can park one, and it checks
    /// `may_exit` before it leaves, so with no worker alive the parked set
    /// only shrinks.)
    fn terminate(self: &Arc<Self>) {
        if self.alive() != 0 || self.is_terminated() {
            return;
        }
        if !self.state().is_broken() && self.async_tasks.any_parked() {
            match self.start_worker() {
                Ok(()) if self.alive() != 0 => return,
                Ok(()) => {}
                Err(e) => eprintln!(
                    "executor: could not start a worker for the async tasks still running at shutdown: {e}"
                ),
            }
        }
        let prev = {
            let _threads = lock(&self.threads);
            if self.alive() != 0 {
                return; // a worker started meanwhile: it terminates the pool
            }
            self.state.terminate()
        };
        if prev.is_terminated() {
            return;
        }
        // Only a closed pool loses its last worker for good.
        let leftover = prev.refusal().unwrap_or(Refusal::Rejected);
        // Started tasks among them are abandoned by `abort`: none is left.
        let started = self.drain_queues(leftover);
        debug_assert!(started.is_empty());
        self.async_tasks
            .resolve_all(|task| self.abort_task(task, leftover));
    }

    /// After a submitter queued a job from outside the pool: if the pool
    /// closed meanwhile, no worker may be left to run it. Returns the
    /// refusal the submitter must abort its task to (a no-op if a worker
    /// already started it); the stale job in the queue is skipped later.
    pub(crate) fn closed_after_submit(&self) -> Option<Refusal> {
        // The SeqCst load follows the SeqCst fence in `notify_one`, which ran
        // after our push; `shutdown` and `break_pool` set their flag with a
        // SeqCst RMW before the workers' final re-checks. Either a worker's
        // re-check sees our job, or we see the flag here.
        self.state().refusal()
    }

    /// True once the last worker exited after shutdown. Checked by an
    /// async task's waker after it queued the task (as `closed_after_submit`
    /// is by a submitter): either `terminate`'s drain sees the job or the
    /// waker sees this flag and cancels the task itself.
    pub(crate) fn is_terminated(&self) -> bool {
        self.state().is_terminated()
    }

    // ---- queue capacity (back-pressure), see `capacity.rs` ----

    /// Takes a queue place for one task submitted from outside; `on_full`
    /// says whether (and how long) to block for room. Returns the
    /// place for the task to carry (`None` without a capacity), or `Err`
    /// when there is no room or the pool closed meanwhile.
    pub(crate) fn reserve(&self, on_full: OnFull) -> Result<Option<Arc<Capacity>>, ()> {
        let Some(capacity) = &self.capacity else {
            return Ok(None);
        };
        let closed = || self.state().is_closed();
        if capacity.reserve(on_full, closed) {
            Ok(Some(Arc::clone(capacity)))
        } else {
            Err(())
        }
    }

    /// Like `reserve`, but never waits for room (an async task spawned from
    /// outside the pool).
    pub(crate) fn force_reserve(&self) -> Option<Arc<Capacity>> {
        let capacity = self.capacity.as_ref()?;
        capacity.force_reserve();
        Some(Arc::clone(capacity))
    }

    fn release_blocked_submitters(&self) {
        if let Some(capacity) = &self.capacity {
            capacity.release_blocked_submitters();
        }
    }

    /// Queue entries, workers' deques first. The common move between
    /// queues is a batch stolen from the injector, which leaves it before
    /// it appears on the thief's deque: read in this order such a job is
    /// counted once or (for that instant) not at all. Read injector first,
    /// it could be counted twice, and a full bounded queue seemed to hold
    /// more than its capacity (`capacity_props.rs` saw 8 > 6 about once in
    /// 30 runs). Only a stepping-down spare moves jobs the other way.
    fn queued(&self) -> usize {
        let in_deques: usize = self
            .stealers
            .iter()
            .filter_map(OnceLock::get)
            .map(Stealer::len)
            .sum();
        in_deques + self.injector.len()
    }

    /// The task each worker runs now (the innermost, for a worker that
    /// runs a claimed task while it waits), with its name if it has one.
    pub(crate) fn running_now(&self) -> Vec<(usize, Option<&'static str>)> {
        self.slots
            .iter()
            .filter_map(OnceLock::get)
            .filter_map(|slot| slot.stats.now.read())
            .collect()
    }

    pub(crate) fn stats(&self) -> Stats {
        let mut stats = Stats {
            workers_alive: self.alive(),
            workers_idle: self.sleep.counts().sleeping(),
            workers_blocked: self.blocked.load(Ordering::Relaxed),
            tasks_queued: self.queued(),
            tasks_submitted: self.submitted.load(Ordering::Relaxed),
            tasks_cancelled: self.cancelled.load(Ordering::Relaxed),
            tasks_rejected: self.rejected.load(Ordering::Relaxed),
            tasks_broken: self.broken.load(Ordering::Relaxed),
            tasks_abandoned: self.abandoned.load(Ordering::Relaxed),
            threads_started: self.started.load(Ordering::Relaxed),
            threads_retired: self.retired.load(Ordering::Relaxed),
            ..Stats::default()
        };
        for slot in self.slots.iter().filter_map(OnceLock::get) {
            slot.stats.add_to(&mut stats);
        }
        stats.tasks_delayed = self.timer.pending();
        self.views.add_to(&mut stats);
        stats
    }

    pub(crate) fn keep_alive(&self) -> Option<Duration> {
        self.config.keep_alive
    }
}

/// A worker counted as blocked in a wait; see [`Registry::begin_blocking`].
#[must_use = "the worker counts as blocked only while the guard lives"]
pub(crate) struct Blocking<'a>(&'a Registry);

impl Drop for Blocking<'_> {
    fn drop(&mut self) {
        // The worker runs tasks again. If the spare started for it is still
        // busy, the pool is over capacity until a worker steps down between
        // tasks (`try_begin_shed`): never in the middle of one, so the
        // resumed waiter does not wait behind an unrelated task. A spare that
        // already sleeps is woken to step down, so an idle pool goes back to
        // `max_workers` threads.
        let registry = self.0;
        registry.blocked.fetch_sub(1, Ordering::SeqCst);
        if registry.over_capacity() {
            registry.sleep.wake_any();
        }
    }
}
