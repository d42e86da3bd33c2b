//! A worker thread: its run loop, how it finds work, and the two ways a
//! worker waiting for a task may run work that wait depends on (claiming
//! the task itself, helping with work spawned under it). The wait loop
//! that uses them is in `blocking.rs`.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_deque::{Steal, Worker};

use crate::deadline::Deadline;
use crate::error::Refusal;
use crate::join::fork::ForkStack;
use crate::scheduler::registry::{Registry, Slot};
use crate::scheduler::sleep::Wake;
use crate::stats::Ran;
use crate::stats::SlotStats;
use crate::sync::{fence, lock, Ordering};
use crate::task::{Job, RunCtx};
use crate::unwind::{self, AbortIfPanic};

/// Rounds of busy spinning (with a CPU pause hint, doubling each round)
/// before yielding. Kept short: a thread we just woke (the submitter waiting
/// on our result) may be queued behind us on this core, and pure spinning
/// keeps it waiting (measured: idle round trip p50 104 µs with 64 rounds,
/// 11 µs with 7 on 2 vCPUs).
const SPIN_ROUNDS: u32 = 7;
/// One search in this many tries the other workers' deques before the
/// injector (see `WorkerCtx::find_work`).
const STEAL_FIRST_EVERY: u32 = 61;
/// How often a searching worker asks busy ones to publish `join` halves
/// (see `request_work`): about chili's and Spice's heartbeat.
const REQUEST_INTERVAL: Duration = Duration::from_micros(100);
/// Spins (CPU pause hints) a waiter gives the worker it asked for work
/// under its target before it looks again (see `help_under`): a few µs.
const HELP_SPINS: u32 = 256;
/// Rounds of `yield_now` after spinning, before parking.
const YIELD_ROUNDS: u32 = 32;

thread_local! {
    /// The worker running on this thread, if it is one of some pool's.
    static CURRENT: RefCell<Option<Rc<WorkerCtx>>> = const { RefCell::new(None) };
    /// The same worker as a plain pointer, for `join`'s fast path (no
    /// borrow, no reference count). Set and cleared with `CURRENT`, which
    /// keeps the context alive in between.
    static CURRENT_PTR: Cell<*const WorkerCtx> = const { Cell::new(std::ptr::null()) };
    /// The registry (its address) whose worker thread this is, from the
    /// thread's first line to its last: also while its hooks run and while
    /// it resolves what is left at exit, when `CURRENT` is already gone.
    static THREAD_OF: Cell<usize> = const { Cell::new(0) };
    /// That thread no longer counts as alive (it is leaving the pool).
    static LEAVING: Cell<bool> = const { Cell::new(false) };
}

/// The worker-private half of a worker: its own deque end and identity.
pub(crate) struct WorkerCtx {
    registry: Arc<Registry>,
    index: usize,
    /// `registry.slot(index)`, kept at hand for the per-task counters.
    slot: Arc<Slot>,
    deque: Worker<Job>,
    /// Where the next steal attempt starts, so thieves spread out.
    next_victim: Cell<usize>,
    /// Searches so far (see `find_work`).
    searches: Cell<u32>,
    /// True until the first `next_job`: `Registry::start_worker` counted
    /// this worker as searching before the thread ran.
    searching_at_start: Cell<bool>,
    /// When this worker, searching, last asked the others for work.
    last_request: Cell<Option<Instant>>,
    /// The `join`s in progress on this thread whose second half is not
    /// published yet (see the `join` module).
    pub(crate) forks: ForkStack,
}

/// Pushes `job` on the current thread's own deque if it is a worker of
/// `registry`; hands it back otherwise.
pub(crate) fn push_local(registry: &Arc<Registry>, job: Job) -> Result<(), Job> {
    match current_of(registry) {
        Some(ctx) => {
            ctx.push(job);
            Ok(())
        }
        None => Err(job),
    }
}

/// The current thread's worker, if it is a worker of `registry`.
pub(crate) fn current_of(registry: &Arc<Registry>) -> Option<Rc<WorkerCtx>> {
    current().filter(|ctx| Arc::ptr_eq(&ctx.registry, registry))
}

/// True when the current thread is a worker of `registry`.
pub(crate) fn is_worker_of(registry: &Arc<Registry>) -> bool {
    current_of(registry).is_some()
}

/// True when the current thread is one of `registry`'s worker threads,
/// running a task or not: also in its start and stop hooks and while it
/// resolves what is left as the pool's last worker (done callbacks run
/// there). Such a thread must never wait for the pool's threads to exit.
/// (The registry outlives its threads, which hold it: no address reuse.)
pub(crate) fn is_thread_of(registry: &Arc<Registry>) -> bool {
    THREAD_OF.try_with(Cell::get).unwrap_or(0) == Arc::as_ptr(registry) as usize
}

/// `is_thread_of`, and the thread still counts among the pool's alive
/// workers (it is not leaving).
pub(crate) fn is_alive_thread_of(registry: &Arc<Registry>) -> bool {
    is_thread_of(registry) && !LEAVING.try_with(Cell::get).unwrap_or(true)
}

/// The worker running on this thread, of any pool, without touching its
/// reference count: valid for as long as the caller runs on this thread
/// inside a task (the worker outlives every task it runs).
#[inline]
pub(crate) fn current_ptr() -> *const WorkerCtx {
    CURRENT_PTR.try_with(Cell::get).unwrap_or(std::ptr::null())
}

/// The worker running on this thread, of any pool.
pub(crate) fn current() -> Option<Rc<WorkerCtx>> {
    CURRENT.try_with(|c| c.borrow().clone()).ok().flatten()
}

/// The body of every worker thread.
pub(crate) fn main(registry: Arc<Registry>, index: usize) {
    // Everything below is the scheduler's own code (user code inside it is
    // caught at the task boundary): a panic here is our bug, and a worker
    // that died of it would strand the tasks and counts it holds.
    let guard = AbortIfPanic("a worker's run loop");
    THREAD_OF.with(|t| t.set(Arc::as_ptr(&registry) as usize));
    // Before the thread counts as this pool's worker: what the hook
    // submits goes to the shared queue, as from any other thread.
    registry.config.hooks.thread_started();
    let slot = Arc::clone(registry.slot(index));
    let deque = lock(&slot.deque)
        .take()
        .expect("a starting worker finds its slot's deque");
    let ctx = Rc::new(WorkerCtx {
        registry: Arc::clone(&registry),
        index,
        slot,
        deque,
        next_victim: Cell::new(index + 1),
        searches: Cell::new(0),
        searching_at_start: Cell::new(true),
        last_request: Cell::new(None),
        forks: ForkStack::for_current_thread(),
    });
    CURRENT.with(|c| *c.borrow_mut() = Some(Rc::clone(&ctx)));
    CURRENT_PTR.with(|c| c.set(Rc::as_ptr(&ctx)));

    let initialized = match &registry.config.initializer {
        Some(init) => unwind::catch(|| init()).is_ok(),
        None => true,
    };
    let leave = if initialized {
        ctx.run_loop()
    } else {
        if ctx.searching_at_start.replace(false) {
            registry.sleep.stop_searching();
        }
        registry.break_pool();
        Leave::Exit
    };

    CURRENT_PTR.with(|c| c.set(std::ptr::null()));
    CURRENT.with(|c| c.borrow_mut().take());
    // No longer counted as alive: a retiring worker stopped counting in
    // its run loop, an exiting one stops first thing in `exit_worker`
    // (then it may run done callbacks, resolving what is left).
    let leaving = |l: &Cell<bool>| l.set(true);
    if matches!(leave, Leave::Retire) {
        LEAVING.with(leaving);
    }
    // Before the thread gives its slot back, so `shutdown(true)`, which
    // waits for that, returns after the hook ran.
    registry.config.hooks.thread_stopped();
    let ctx = Rc::into_inner(ctx).expect("no one else holds the worker context at exit");
    LEAVING.with(leaving);
    match leave {
        Leave::Retire => registry.finish_retire(index, ctx.deque),
        Leave::Exit => registry.exit_worker(index, ctx.deque),
    }
    guard.disarm();
}

/// How a worker thread ends.
enum Leave {
    /// Idle for `keep_alive`, or a spare no longer needed: its slot is free.
    Retire,
    /// The pool closed (or broke).
    Exit,
}

enum Next {
    Job(Job),
    /// The pool is shutting down or broken and no work is left.
    Exit,
    /// Slept for the whole keep-alive.
    TimedOut,
    /// Found no work while the pool runs more workers than `max_workers`.
    Surplus,
}

impl WorkerCtx {
    /// Queues `job` on this worker's own deque (LIFO end).
    pub(crate) fn push(&self, job: Job) {
        self.deque.push(job);
    }

    /// Counts a task submitted (or spawned) from this worker.
    pub(crate) fn count_submitted(&self) {
        SlotStats::bump(&self.slot.stats.submitted, 1);
    }

    /// The pool this worker belongs to.
    pub(crate) fn registry(&self) -> &Arc<Registry> {
        &self.registry
    }

    /// Runs jobs until the pool closes, or until this worker may retire
    /// (idle for `keep_alive`) or step down (a spare the pool no longer needs).
    fn run_loop(&self) -> Leave {
        let registry = &*self.registry;
        loop {
            if registry.over_capacity() && self.try_step_down() {
                return Leave::Retire;
            }
            // The clock is read only if the worker goes to sleep.
            let keep_alive = match registry.keep_alive() {
                Some(t) if registry.alive() > registry.config.min_workers => Some(t),
                _ => None,
            };
            match self.next_job(keep_alive) {
                Next::Job(job) => self.execute_at_bottom(job),
                Next::Exit => return Leave::Exit,
                Next::TimedOut => {
                    if registry.try_begin_retire() {
                        return Leave::Retire;
                    }
                }
                Next::Surplus => {
                    if self.try_step_down() {
                        return Leave::Retire;
                    }
                }
            }
        }
    }

    /// Leaves the pool as a surplus worker if it still is one. What its
    /// deque holds goes to the injector first (a retiring worker's deque is
    /// empty: only its owner pushes onto it).
    fn try_step_down(&self) -> bool {
        if !self.registry.try_begin_shed() {
            return false;
        }
        // A spare may step down before its first search: it was counted as
        // searching when it was started, and must stop being so (else every
        // later submitter relies on a searcher that is gone). `finish_retire`
        // then re-checks the queues, as a last searcher does.
        if self.searching_at_start.replace(false) {
            self.registry.sleep.stop_searching();
        }
        while let Some(job) = self.deque.pop() {
            self.registry.inject(job);
        }
        true
    }

    /// Finds the next job: own deque, then the injector, then the other
    /// workers; spins a little, then sleeps until work arrives, the pool
    /// closes, or `keep_alive` (from when it falls asleep) passes.
    fn next_job(&self, keep_alive: Option<Duration>) -> Next {
        let registry = &*self.registry;
        let closing = || registry.state().is_closed();
        let mut searching = self.searching_at_start.replace(false);
        let mut rounds = 0;
        loop {
            if let Some(job) = self.find_work() {
                return self.stop_searching(searching, Next::Job(job));
            }
            // Flags after the search: a shutdown flag seen here means the
            // search above already covered everything queued before it.
            if closing() {
                if registry.may_exit() {
                    // One more look, after a SeqCst fence: pairs with the
                    // fence a submitter runs between its push and its own
                    // flag check (`closed_after_submit`). Either this search
                    // sees its job or it sees the flag and resolves the job
                    // itself.
                    fence(Ordering::SeqCst);
                    if let Some(job) = self.find_work() {
                        return self.stop_searching(searching, Next::Job(job));
                    }
                    return self.stop_searching(searching, Next::Exit);
                }
                // Shut down, but a started async task is parked on a waker
                // that can still fire: sleep until it is queued again, or
                // until the last live task ends (`forget_async_task`). No
                // spinning: nothing else will arrive.
                rounds = rounds.max(SPIN_ROUNDS + YIELD_ROUNDS);
            }
            if rounds == 0 && !searching {
                searching = registry.sleep.start_searching();
            }
            self.request_work();
            if rounds < SPIN_ROUNDS + YIELD_ROUNDS {
                if rounds < SPIN_ROUNDS {
                    for _ in 0..(1 << rounds.min(6)) {
                        std::hint::spin_loop();
                    }
                } else {
                    std::thread::yield_now();
                }
                rounds += 1;
                continue;
            }
            if registry.over_capacity() {
                return self.stop_searching(searching, Next::Surplus);
            }
            let wake = registry.sleep.sleep(
                self.index,
                searching,
                || registry.has_work() || (closing() && registry.may_exit()),
                Deadline::from_timeout(keep_alive),
            );
            searching = wake == Wake::Notified;
            rounds = 0;
            if wake == Wake::TimedOut {
                return Next::TimedOut;
            }
        }
    }

    /// Leaves the searching state on the way out of `next_job`. The last
    /// searcher to leave re-checks the queues and hands leftover work to
    /// another worker (invariant 3 of the sleep README).
    fn stop_searching(&self, searching: bool, next: Next) -> Next {
        if searching && self.registry.sleep.stop_searching() && self.registry.has_work() {
            self.registry.notify();
        }
        next
    }

    fn find_work(&self) -> Option<Job> {
        if let Some(job) = self.deque.pop() {
            return Some(job);
        }
        // Now and then the other workers' deques come before the injector:
        // a task that keeps queueing itself on the injector (a self-waking
        // async task) would otherwise keep this worker from ever stealing,
        // and work batched onto a busy worker's deque would wait behind it.
        let searches = self.searches.get().wrapping_add(1);
        self.searches.set(searches);
        if searches % STEAL_FIRST_EVERY == 0 {
            if let Steal::Success(job) = self.steal_from_others() {
                return Some(job);
            }
        }
        let registry = &*self.registry;
        loop {
            // A batch moves to our deque. Popping frees no queue place: a
            // task frees its own when it leaves SCHEDULED (`capacity.rs`).
            let from_injector = registry.injector.steal_batch_and_pop(&self.deque);
            if let Steal::Success(job) = from_injector {
                return Some(job);
            }
            match self.steal_from_others() {
                Steal::Success(job) => return Some(job),
                Steal::Empty if !from_injector.is_retry() => return None,
                _ => {} // a steal lost a race: look again
            }
        }
    }

    /// Asks the other workers to publish the oldest `join` half they keep
    /// unpublished (see the `join` module): a flag each reads at its next fork.
    /// At most once per `REQUEST_INTERVAL`: a published half that is stolen
    /// costs its owner a wait and the thief its cache misses, which a tiny
    /// fork-join tree does not pay back (the heartbeat of heartbeat
    /// scheduling, here on the idle side, whose time is free).
    fn request_work(&self) {
        let now = Instant::now();
        if let Some(last) = self.last_request.get() {
            if now.saturating_duration_since(last) < REQUEST_INTERVAL {
                return;
            }
        }
        self.last_request.set(Some(now));
        let registry = &*self.registry;
        for i in 0..registry.scan_bound() {
            if i != self.index {
                if let Some(slot) = registry.used_slot(i) {
                    slot.request_work();
                }
            }
        }
    }

    /// Publishes the oldest unpublished `join` half on this worker's deque
    /// for thieves, if another worker asked for work and there is one.
    #[inline]
    pub(crate) fn publish_if_wanted(&self) {
        if self.slot.wanted.load(Ordering::Relaxed) {
            self.publish_cold();
        }
    }

    #[cold]
    #[inline(never)]
    fn publish_cold(&self) {
        if let Some(fork) = self.forks.take_oldest_unpublished() {
            self.slot.wanted.store(false, Ordering::Relaxed);
            self.deque.push(Job::Fork(fork));
            self.registry.notify();
        }
    }

    /// Takes the job on top of this worker's deque.
    pub(crate) fn pop(&self) -> Option<Job> {
        self.deque.pop()
    }

    /// One job stolen from another worker's deque, trying each once from
    /// where the last steal succeeded: `Retry` if a steal lost a race and
    /// none succeeded.
    fn steal_from_others(&self) -> Steal<Job> {
        let registry = &*self.registry;
        let mut retry = false;
        let n = registry.scan_bound();
        let start = self.next_victim.get();
        for offset in 0..n {
            let victim = (start + offset) % n;
            if victim == self.index {
                continue;
            }
            let Some(stealer) = registry.stealer(victim) else {
                continue;
            };
            match stealer.steal() {
                Steal::Success(job) => {
                    self.next_victim.set(victim);
                    SlotStats::bump(&self.slot.stats.stolen, 1);
                    return Steal::Success(job);
                }
                Steal::Retry => retry = true,
                Steal::Empty => {}
            }
        }
        if retry {
            Steal::Retry
        } else {
            Steal::Empty
        }
    }

    /// Runs a job from the run loop, at the bottom of this thread's stack.
    /// When the deque is empty as it starts, everything pushed onto the
    /// deque until it ends is spawned under it: the slot's `root` says so,
    /// for a worker that waits for this task (`help_under`).
    fn execute_at_bottom(&self, job: Job) {
        if !self.deque.is_empty() {
            return self.execute(job);
        }
        let root = &self.slot.root;
        // The mark names the task by address, so the task is kept alive
        // until the mark is cleared: a new task at the same address must
        // never find a stale mark naming it.
        let keep_alive = match job {
            Job::Task(ref task) => Job::Task(Arc::clone(task)),
            Job::Fork(fork) => {
                // A fork's frame may be reused as soon as it completes, so
                // the fork clears the mark itself, before it completes.
                root.store(fork.addr(), Ordering::Release);
                return fork.execute(Some(root));
            }
        };
        // Each store comes before every push this task (or the next one)
        // makes; a waiter that steals one of those pushes therefore sees
        // this store or a later one (see `help_under`).
        root.store(job.addr(), Ordering::Release);
        self.execute(job);
        root.store(0, Ordering::Release);
        // Possibly the last reference: dropping it may drop a result nobody
        // claimed, whose `Drop` may panic (as `execute` guards against too).
        unwind::contain("dropping a finished task", move || drop(keep_alive));
    }

    /// Runs `job` on this thread (from the run loop, or claimed by a wait).
    pub(crate) fn execute(&self, job: Job) {
        let job = match job {
            // A fork is not a task: its `join` counts nothing and waits for
            // it whatever the pool's state (see `Job::abort`).
            Job::Fork(fork) => return fork.execute(None),
            job @ Job::Task(_) => job,
        };
        let registry = &*self.registry;
        let state = registry.state();
        if state.cancels_queued() || state.is_broken() {
            let refusal = if state.is_broken() {
                Refusal::Broken
            } else {
                Refusal::Cancelled
            };
            registry.abort(&job, refusal);
            // Still queued: a started async task, which `cancel_futures`
            // leaves running. It runs on.
            if !job.is_queued() {
                return;
            }
        }
        let stats = &self.slot.stats;
        SlotStats::bump(&stats.running, 1);
        let ctx = RunCtx {
            stats,
            hooks: registry.config.hooks.task.as_ref(),
            #[cfg(feature = "tracing")]
            pool: &registry.config.thread_name_prefix,
        };
        // The task catches its own panic; this catches one from dropping
        // what it left behind (a returned value whose handle is gone, whose
        // `Drop` panics), which must not kill the worker.
        let ran = match unwind::catch(|| job.run_in(&ctx)) {
            Ok(ran) => ran,
            Err(payload) => {
                let panic = crate::error::Panic::new(payload, None);
                eprintln!("executor: dropping a finished task panicked: {panic}");
                return;
            }
        };
        match ran {
            // Already recorded by the task itself, before it published.
            Ran::Completed | Ran::Panicked => {}
            Ran::Cancelled => {
                SlotStats::bump(&stats.running, -1);
                registry.count_cancelled();
            }
            Ran::Pending | Ran::Skipped => SlotStats::bump(&stats.running, -1),
        }
    }

    /// Takes `task` to run it here, if it is still queued: popped when it is
    /// on top of this worker's deque, else claimed where it is (its queue
    /// entry then finds it started and does nothing). Whether the claim
    /// wins is decided by the task's own state transition when it runs.
    pub(crate) fn claim(&self, task: Job) -> Job {
        if let Some(top) = self.deque.pop() {
            if top.addr() == task.addr() {
                return top;
            }
            // Not ours: back where it was (the owner's end of a LIFO deque).
            self.deque.push(top);
        }
        task
    }

    /// Helps a wait for task `target` (an address, see `Job::addr`) that is
    /// running on another worker: if that worker started it at the bottom
    /// of its stack with an empty deque, its deque holds only work spawned
    /// under `target`, which may run here (Java's ForkJoinPool "helpStealer",
    /// rayon's "leapfrogging", restricted to the awaited task's own work).
    /// Runs such jobs until `ready()` or none is left; returns whether it ran any.
    pub(crate) fn help_under(&self, target: usize, ready: &dyn Fn() -> bool) -> bool {
        let registry = &self.registry;
        let bound = registry.scan_bound();
        let marks_target = |i: usize| {
            i != self.index
                && registry
                    .used_slot(i)
                    .is_some_and(|slot| slot.root.load(Ordering::Acquire) == target)
        };
        let Some(victim) = (0..bound).find(|&i| marks_target(i)) else {
            return false;
        };
        let Some(stealer) = registry.stealer(victim) else {
            return false;
        };
        if stealer.is_empty() {
            // The worker running `target` may hold `join` halves under it
            // unpublished: ask for one, and give it a moment (it publishes
            // at its next fork, usually within nanoseconds) before the wait
            // parks, which would leave that half alone for the grace period.
            if let Some(slot) = registry.used_slot(victim) {
                slot.request_work();
                for _ in 0..HELP_SPINS {
                    if !stealer.is_empty() || ready() {
                        break;
                    }
                    std::hint::spin_loop();
                }
            }
        }
        let mut ran = false;
        while !ready() {
            let job = match stealer.steal() {
                Steal::Success(job) => job,
                Steal::Retry => continue,
                Steal::Empty => break,
            };
            // The steal synchronised with the push of `job`, which came
            // after any later change of the victim's root: if the mark
            // still names `target`, `job` was spawned under it.
            if !marks_target(victim) {
                registry.inject(job);
                break;
            }
            SlotStats::bump(&self.slot.stats.stolen, 1);
            self.execute(job);
            ran = true;
        }
        ran
    }
}
