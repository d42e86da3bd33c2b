//! A worker thread: its run loop, how it finds work, and how a worker that
//! blocks on a handle keeps running other tasks meanwhile.

use std::cell::{Cell, RefCell};
use std::panic::{self, AssertUnwindSafe};
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_deque::{Steal, Worker};

use crate::registry::{Registry, BROKEN, CANCEL_QUEUED, SHUTDOWN};
use crate::sleep::Wake;
use crate::stats::SlotStats;
use crate::sync::{fence, lock, Ordering};
use crate::task::state::Snapshot;
use crate::task::{Job, Ran};

/// Rounds of busy spinning (with a CPU pause hint, doubling each round)
/// before yielding. Kept short: a thread we just woke (the submitter waiting
/// on our result) may be queued behind us on this core, and pure spinning
/// keeps it waiting (measured: idle round trip p50 104 µs with 64 rounds,
/// 11 µs with 7 on 2 vCPUs).
const SPIN_ROUNDS: u32 = 7;
/// Rounds of `yield_now` after spinning, before parking.
const YIELD_ROUNDS: u32 = 32;

thread_local! {
    /// The worker running on this thread, if it is one of some pool's.
    static CURRENT: RefCell<Option<Rc<WorkerCtx>>> = const { RefCell::new(None) };
}

/// The worker-private half of a worker: its own deque end and identity.
pub(crate) struct WorkerCtx {
    registry: Arc<Registry>,
    index: usize,
    deque: Worker<Job>,
    /// Where the next steal attempt starts, so thieves spread out.
    next_victim: Cell<usize>,
    /// True until the first `next_job`: `Registry::start_worker` counted
    /// this worker as searching before the thread ran.
    searching_at_start: Cell<bool>,
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

fn current() -> Option<Rc<WorkerCtx>> {
    CURRENT.try_with(|c| c.borrow().clone()).ok().flatten()
}

/// Blocks until `done()`, running other queued tasks of the current
/// worker's pool meanwhile (rayon's work-while-waiting). `register` must
/// arrange for this thread to be unparked once `done()` turns true, and
/// return false if it already is. Returns false, doing nothing, when the
/// current thread is not a pool worker.
pub(crate) fn help_while_waiting(done: &dyn Fn() -> bool, register: &dyn Fn() -> bool) -> bool {
    help_while_waiting_until(done, register, None).is_some()
}

/// [`help_while_waiting`] with a deadline: `None` when the current thread is
/// not a pool worker, else whether `done()` held before `deadline`. A task
/// run meanwhile may carry the return past the deadline (it is not
/// interrupted).
pub(crate) fn help_while_waiting_until(
    done: &dyn Fn() -> bool,
    register: &dyn Fn() -> bool,
    deadline: Option<Instant>,
) -> Option<bool> {
    let ctx = current()?;
    loop {
        let timeout = match deadline {
            None => None,
            Some(deadline) => match deadline.checked_duration_since(Instant::now()) {
                Some(left) if !left.is_zero() => Some(left),
                _ => return Some(done()),
            },
        };
        match ctx.next_job(done, Some(register), false, timeout) {
            Next::Job(job) => ctx.execute(job),
            Next::Done => return Some(true),
            Next::TimedOut => {} // the loop top checks the deadline
            Next::Exit => unreachable!("a waiting worker does not exit"),
        }
    }
}

/// The body of every worker thread.
pub(crate) fn main(registry: Arc<Registry>, index: usize) {
    let deque = lock(&registry.slots[index].deque)
        .take()
        .expect("a starting worker finds its slot's deque");
    let ctx = Rc::new(WorkerCtx {
        registry: Arc::clone(&registry),
        index,
        deque,
        next_victim: Cell::new(index + 1),
        searching_at_start: Cell::new(true),
    });
    CURRENT.with(|c| *c.borrow_mut() = Some(Rc::clone(&ctx)));

    let initialized = match &registry.config.initializer {
        Some(init) => panic::catch_unwind(AssertUnwindSafe(|| init())).is_ok(),
        None => true,
    };
    let retired = if initialized {
        ctx.run_loop()
    } else {
        if ctx.searching_at_start.replace(false) {
            registry.sleep.stop_searching();
        }
        registry.break_pool();
        false
    };

    CURRENT.with(|c| c.borrow_mut().take());
    let ctx = Rc::into_inner(ctx).expect("no one else holds the worker context at exit");
    if retired {
        registry.finish_retire(index, ctx.deque);
    } else {
        registry.exit_worker(index, ctx.deque);
    }
}

enum Next {
    Job(Job),
    /// `done()` turned true.
    Done,
    /// The pool is shutting down or broken and no work is left.
    Exit,
    /// Slept for the whole timeout (the keep-alive, or a timed wait's deadline).
    TimedOut,
}

impl WorkerCtx {
    /// Queues `job` on this worker's own deque (LIFO end).
    pub(crate) fn push(&self, job: Job) {
        self.deque.push(job);
    }

    /// Runs jobs until the pool closes (returns false) or this worker may
    /// retire after `keep_alive` of idleness (returns true).
    fn run_loop(&self) -> bool {
        let never = || false;
        loop {
            let timeout = match self.registry.keep_alive() {
                Some(t) if self.registry.alive() > self.registry.config.min_workers => Some(t),
                _ => None,
            };
            match self.next_job(&never, None, true, timeout) {
                Next::Job(job) => self.execute(job),
                Next::Exit => return false,
                Next::TimedOut => {
                    if self.registry.try_begin_retire() {
                        return true;
                    }
                }
                Next::Done => unreachable!("the run loop's `done` is never true"),
            }
        }
    }

    /// Finds the next job: own deque, then the injector, then the other
    /// workers; spins a little, then sleeps until work arrives. Returns early
    /// when `done()` holds, or (if `exit_on_close`) when the pool closes.
    fn next_job(
        &self,
        done: &dyn Fn() -> bool,
        register: Option<&dyn Fn() -> bool>,
        exit_on_close: bool,
        timeout: Option<Duration>,
    ) -> Next {
        let registry = &*self.registry;
        let closing = || exit_on_close && registry.flags() & (SHUTDOWN | BROKEN) != 0;
        let mut searching = self.searching_at_start.replace(false);
        let mut rounds = 0;
        loop {
            if done() {
                return self.stop_searching(searching, Next::Done);
            }
            if let Some(job) = self.find_work() {
                return self.stop_searching(searching, Next::Job(job));
            }
            // Flags after the search: a shutdown flag seen here means the
            // search above already covered everything queued before it.
            if closing() {
                // One more look, after a SeqCst fence: pairs with the fence a
                // submitter runs between its push and its own flag check
                // (`closed_after_submit`). Either this search sees its job or
                // it sees the flag and resolves the job itself.
                fence(Ordering::SeqCst);
                if let Some(job) = self.find_work() {
                    return self.stop_searching(searching, Next::Job(job));
                }
                return self.stop_searching(searching, Next::Exit);
            }
            if rounds == 0 && !searching {
                searching = registry.sleep.start_searching();
            }
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
            if let Some(register) = register {
                if !register() {
                    continue; // already done: the loop top returns
                }
            }
            let wake = registry.sleep.sleep(
                self.index,
                searching,
                || registry.has_work() || closing(),
                done,
                timeout,
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
        let registry = &*self.registry;
        loop {
            let mut retry = false;
            // With a queue capacity every injector pop is counted, so take
            // one at a time; otherwise move a batch to our deque.
            let from_injector = if registry.config.queue_capacity.is_some() {
                registry.injector.steal()
            } else {
                registry.injector.steal_batch_and_pop(&self.deque)
            };
            match from_injector {
                Steal::Success(job) => {
                    registry.on_injector_pop();
                    return Some(job);
                }
                Steal::Retry => retry = true,
                Steal::Empty => {}
            }
            let n = registry.stealers.len();
            let start = self.next_victim.get();
            for offset in 0..n {
                let victim = (start + offset) % n;
                if victim == self.index {
                    continue;
                }
                match registry.stealers[victim].steal() {
                    Steal::Success(job) => {
                        self.next_victim.set(victim);
                        SlotStats::bump(&registry.slots[self.index].stats.stolen, 1);
                        return Some(job);
                    }
                    Steal::Retry => retry = true,
                    Steal::Empty => {}
                }
            }
            if !retry {
                return None;
            }
        }
    }

    fn execute(&self, job: Job) {
        let registry = &*self.registry;
        let flags = registry.flags();
        if flags & (CANCEL_QUEUED | BROKEN) != 0 {
            let lifecycle = if flags & BROKEN != 0 {
                Snapshot::BROKEN
            } else {
                Snapshot::CANCELLED
            };
            registry.abort(&job, lifecycle);
            return;
        }
        let stats = &registry.slots[self.index].stats;
        SlotStats::bump(&stats.running, 1);
        // The task catches its own panic; this catches one from dropping
        // what it left behind (a returned value whose handle is gone, whose
        // `Drop` panics), which must not kill the worker.
        let ran = match panic::catch_unwind(AssertUnwindSafe(|| job.run(stats))) {
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
}
