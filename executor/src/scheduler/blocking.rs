//! The one wait loop. Every blocking wait in the crate (a handle's
//! `result` and `wait_timeout`, `as_completed`, `wait`, a `Map`, a scope's
//! join) is [`wait_until`] over an [`Awaited`].
//!
//! A worker that waits runs only work its wait depends on, never unrelated
//! queued tasks (that is rayon's design, and it deadlocks on a lock held
//! across the wait, nests waits until the stack overflows and can run a
//! task that waits for the waiter):
//!
//! 1. **Claim.** A task the wait depends on that is still queued, anywhere
//!    in the pool, is claimed and run inline. The task's own
//!    `SCHEDULED → RUNNING` transition decides, exactly once, whether the
//!    claimer or a worker that pops it runs it.
//! 2. **Help under.** When the one awaited task runs on another worker that
//!    started it with an empty deque, that deque holds only work spawned
//!    under it: the waiter may take from there (`WorkerCtx::help_under`).
//! 3. **Block.** Otherwise the waiter parks until its wait is over, and
//!    while it does it does not count as a worker running tasks: the pool
//!    wakes a sleeper or starts a spare for queued work
//!    (`Registry::begin_blocking`), so waits never cost the pool its
//!    parallelism and nested waits never deadlock.
//!
//! A thread that is not a worker of the awaited tasks' pool only blocks.

use std::time::Duration;

use crate::deadline::Deadline;
use crate::scheduler::worker::{self, WorkerCtx};
use crate::sync::{park_timeout, spin_until, thread};
use crate::task::Job;

/// How long a wait parks before it counts as blocked and the pool wakes
/// or starts a spare for queued work: about what starting a thread costs
/// here (measured ~50–100 µs on 2 vCPUs), so a wait never pays more than
/// twice the better of the two choices (the ski-rental bound).
const BLOCKING_GRACE: Duration = Duration::from_micros(100);

/// What a wait waits for.
pub(crate) trait Awaited {
    /// True once the wait is over.
    fn is_ready(&self) -> bool;

    /// Arranges for the current thread to be unparked once `is_ready` may
    /// have turned true. Returns false, registering nothing, when it
    /// already is (checked so that no wake-up falls between the check and
    /// the registration).
    fn register(&self) -> bool;

    /// Takes back what `register` left: a wait that gives up leaves
    /// nothing behind on what it waited for.
    fn deregister(&self);

    /// A task of the pool `pool` (see `Registry::id`) that this wait
    /// depends on and that is still queued, for the caller to run inline;
    /// `None` when there is none (left).
    fn claim(&self, pool: usize) -> Option<Job>;

    /// The task this wait is for (its `Job::addr`), when it is one task
    /// that may be running on another worker; see `WorkerCtx::help_under`.
    fn target(&self) -> Option<usize> {
        None
    }
}

/// Waits until `awaited` is ready or `deadline` passes; returns whether it
/// is ready. On a worker thread it claims and helps as the module docs
/// say, and counts as blocked while it parks.
pub(crate) fn wait_until(awaited: &dyn Awaited, deadline: Deadline) -> bool {
    if awaited.is_ready() {
        return true;
    }
    let worker = worker::current();
    match worker.as_deref() {
        Some(ctx) => wait_loop(
            awaited,
            deadline,
            BLOCKING_GRACE,
            || run_dependencies(ctx, awaited),
            || ctx.registry().begin_blocking(),
        ),
        None => wait_loop(awaited, deadline, Duration::ZERO, || false, || ()),
    }
}

/// The wait loop itself, with what only a worker does passed in:
/// `run_dependencies` (claim or help; true if it ran anything), `block`
/// (count as blocked until the returned guard drops) and `grace`.
///
/// The first park lasts at most `grace` and does not call `block`: most
/// waits of a worker for a running task end within it (a stolen fork-join
/// half), and a spare is a thread to wake or start. A longer wait then
/// counts as blocked, so the pool's parallelism is lost for at most
/// `grace`. (A thread that calls for no spare passes zero: a timed park
/// wakes measurably slower than a plain one, ~23 µs against ~6 µs for an
/// idle round trip on 2 vCPUs.)
pub(crate) fn wait_loop<G>(
    awaited: &dyn Awaited,
    deadline: Deadline,
    grace: Duration,
    run_dependencies: impl Fn() -> bool,
    block: impl Fn() -> G,
) -> bool {
    let mut grace = (!grace.is_zero()).then_some(grace);
    loop {
        if awaited.is_ready() {
            return true;
        }
        if run_dependencies() {
            continue;
        }
        // What we wait for is running elsewhere: it may be about to finish.
        if spin_until(&|| awaited.is_ready()) {
            return true;
        }
        if deadline.has_passed() {
            awaited.deregister();
            return awaited.is_ready();
        }
        if !awaited.register() {
            return true;
        }
        if let Some(grace) = grace.take() {
            park_timeout(deadline.remaining().map_or(grace, |left| left.min(grace)));
            continue;
        }
        let _blocking = block();
        // Any early or spurious return is fine: the loop checks again.
        match deadline.remaining() {
            None => thread::park(),
            Some(left) => park_timeout(left),
        }
    }
}

/// Runs what the wait depends on, on this worker: every queued task it can
/// claim, then work spawned under its one target. True if it ran anything.
fn run_dependencies(ctx: &WorkerCtx, awaited: &dyn Awaited) -> bool {
    let pool = ctx.registry().id();
    let mut ran = false;
    while let Some(job) = awaited.claim(pool) {
        ctx.execute(ctx.claim(job));
        ran = true;
        if awaited.is_ready() {
            return true;
        }
    }
    if let Some(target) = awaited.target() {
        ran |= ctx.help_under(target, &|| awaited.is_ready());
    }
    ran
}
