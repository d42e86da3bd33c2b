//! `join(a, b)`: fork-join on the stack. Runs `a` here and offers `b` to
//! other workers, with no allocation per call.
//!
//! # How a fork costs almost nothing
//!
//! On a worker, `join` puts `b` in a frame on its own stack and links the
//! frame into the worker's [`ForkStack`](fork::ForkStack): a few plain stores. The frame is
//! *published*, pushed on the worker's deque for thieves, only when
//! another worker asked for work (a searching worker, or one waiting for
//! a task this worker runs, sets the slot's `wanted` flag; every fork
//! reads it), and then the oldest unpublished frame goes first, the
//! largest piece of work. This is lazy publishing in the spirit of
//! heartbeat scheduling (Acar et al., PLDI 2018), driven by requests
//! instead of a timer (work requesting with private deques, Acar,
//! Charguéraud and Rainey, PPoPP 2013).
//!
//! After `a`, a frame that was never published runs `b` inline. A
//! published one is popped back off the deque if it is still there (then
//! runs inline too); otherwise a thief runs it, and `join` waits through
//! the pool's one wait loop: it runs only what this wait depends on, work
//! published under the stolen half on the thief's deque (help-under, for
//! which it asks the thief to publish), never unrelated queued work.
//!
//! From a thread that is not a worker of the pool, `join` runs `a` on the
//! calling thread and `b` as a scoped task of the pool.

pub(crate) mod fork;
#[cfg(test)]
mod tests;

use std::panic;

use self::fork::{Fork, Header};
use crate::deadline::Deadline;
use crate::pool::ThreadPoolExecutor;
use crate::scheduler::blocking::{self, Awaited};
use crate::scheduler::worker::{self, WorkerCtx};
use crate::task::Job;
use crate::unwind::{self, AbortIfPanic, Payload};
use crate::TaskError;

/// Runs `a` and `b`, potentially in parallel, and returns both results:
/// on the pool of the worker calling it, or on [`global()`](crate::global)
/// from any other thread.
///
/// The closures may borrow from the caller's stack (they need to be
/// `Send`, not `'static`), and a `join` on a worker allocates nothing: `b`
/// waits in a frame on the stack, and is handed to another worker only
/// when one asks for work. Nest joins freely: it is made for recursive
/// divide and conquer down to tiny pieces.
///
/// If either closure panics, the panic is carried to the caller once both
/// have finished (`a`'s if both panic).
///
/// While it waits for `b` on a worker, `join` runs only work `b` itself
/// published, never unrelated queued tasks, so a lock held across a
/// `join` is never taken again by another task on the same thread.
///
/// ```
/// fn sum(xs: &[u64]) -> u64 {
///     if xs.len() <= 1024 {
///         return xs.iter().sum();
///     }
///     let (left, right) = xs.split_at(xs.len() / 2);
///     let (l, r) = executor::join(|| sum(left), || sum(right));
///     l + r
/// }
///
/// let xs: Vec<u64> = (1..=100_000).collect();
/// let total = executor::global().submit(move || sum(&xs)).result().unwrap();
/// assert_eq!(total, 5_000_050_000);
/// ```
///
/// A closure that is not `Send` cannot go to another worker:
///
/// ```compile_fail
/// let rc = std::rc::Rc::new(1);
/// executor::join(|| *rc, || 2);
/// ```
pub fn join<A, B, RA, RB>(a: A, b: B) -> (RA, RB)
where
    A: FnOnce() -> RA + Send,
    B: FnOnce() -> RB + Send,
    RA: Send,
    RB: Send,
{
    let ctx = worker::current_ptr();
    if ctx.is_null() {
        return join_outside(crate::global(), a, b);
    }
    // SAFETY: a non-null pointer is the worker running this thread, which
    // outlives every task it runs (`worker::current_ptr`).
    join_on_worker(unsafe { &*ctx }, a, b)
}

impl ThreadPoolExecutor {
    /// Runs `a` and `b` on this pool, potentially in parallel, and returns
    /// both results: [`join`](crate::join()) on this pool. From a worker of
    /// this pool it forks on the stack; from any other thread `a` runs on
    /// the calling thread while `b` runs as a task of the pool.
    ///
    /// ```
    /// let pool = executor::ThreadPoolExecutor::builder().max_workers(2).build().unwrap();
    /// let words = ["fork", "join"];
    /// let (a, b) = pool.join(|| words[0].len(), || words[1].to_uppercase());
    /// assert_eq!((a, b.as_str()), (4, "JOIN"));
    /// ```
    pub fn join<A, B, RA, RB>(&self, a: A, b: B) -> (RA, RB)
    where
        A: FnOnce() -> RA + Send,
        B: FnOnce() -> RB + Send,
        RA: Send,
        RB: Send,
    {
        match worker::current_of(&self.registry) {
            Some(ctx) => join_on_worker(&ctx, a, b),
            None => join_outside(self, a, b),
        }
    }
}

/// `join` on a worker: the frame on the stack, published on request.
#[inline]
fn join_on_worker<A, B, RA, RB>(ctx: &WorkerCtx, a: A, b: B) -> (RA, RB)
where
    A: FnOnce() -> RA + Send,
    B: FnOnce() -> RB + Send,
    RA: Send,
    RB: Send,
{
    let fork = Fork::new(b);
    let header = fork.header();
    // SAFETY: `fork` stays in this frame, unmoved, and is popped below
    // before this function returns: `a`'s panic is caught, and nothing
    // else between the push and the pop can unwind.
    unsafe { ctx.forks.push(header) };
    ctx.publish_if_wanted();
    let ra = unwind::catch(a);
    ctx.forks.pop(header);
    if !header.is_published() {
        return match ra {
            // `a` finished: `b`'s panic, if any, may go straight up.
            // SAFETY: never published, so in no queue: `func` is still
            // here, and this is its one run.
            Ok(ra) => (ra, unsafe { fork.run_inline() }),
            Err(payload) => {
                // Both halves run, then the first panic goes up.
                // SAFETY: as above (the other arm).
                drop(unwind::catch(|| unsafe { fork.run_inline() }));
                panic::resume_unwind(payload)
            }
        };
    }
    // A thief may hold the frame: until it is done or taken back, an
    // unwinding here would free it under the thief (premise 2 of
    // `fork.rs`).
    let guard = AbortIfPanic("join waiting for its forked half");
    let rb = if take_back(ctx, header.addr()) {
        // SAFETY: popped back off our own deque before anyone took it:
        // in no queue now, and not run.
        unwind::catch(|| unsafe { fork.run_inline() })
    } else {
        blocking::wait_until(&ForkWait { ctx, header }, Deadline::Never);
        fork.take_result()
    };
    guard.disarm();
    both(ra, rb)
}

/// The two results, or the first half's panic, or the second's.
fn both<RA, RB>(ra: Result<RA, Payload>, rb: Result<RB, Payload>) -> (RA, RB) {
    match (ra, rb) {
        (Ok(ra), Ok(rb)) => (ra, rb),
        (Err(payload), _) | (Ok(_), Err(payload)) => panic::resume_unwind(payload),
    }
}

/// Pops the published frame at `addr` back off this worker's deque, if no
/// thief took it. Jobs above it (tasks the first half submitted and left
/// queued) are put back in their order.
#[inline]
fn take_back(ctx: &WorkerCtx, addr: usize) -> bool {
    match ctx.pop() {
        None => false,
        Some(job) if job.addr() == addr => true,
        Some(other) => take_back_cold(ctx, addr, other),
    }
}

#[cold]
fn take_back_cold(ctx: &WorkerCtx, addr: usize, first: Job) -> bool {
    let mut above = vec![first];
    let found = loop {
        match ctx.pop() {
            None => break false,
            Some(job) if job.addr() == addr => break true,
            Some(job) => above.push(job),
        }
    };
    for job in above.into_iter().rev() {
        ctx.push(job);
    }
    found
}

/// A `join` waiting for its stolen half.
struct ForkWait<'a> {
    ctx: &'a WorkerCtx,
    header: &'a Header,
}

impl Awaited for ForkWait<'_> {
    fn is_ready(&self) -> bool {
        self.header.is_done()
    }

    fn register(&self) -> bool {
        // The fork's runner always unparks the owner after `done`.
        !self.is_ready()
    }

    fn deregister(&self) {}

    /// The fork itself, in the one case it is queued where its owner can
    /// find it: a shutdown or a broken pool drained the deque and queued it
    /// again on the injector, whose workers may all have left. Looks
    /// through the injector once, putting back what is not ours.
    fn claim(&self, _pool: usize) -> Option<Job> {
        let registry = self.ctx.registry();
        if !registry.state().is_closed() {
            return None;
        }
        let mut mine = None;
        for _ in 0..registry.injector.len() {
            let Some(job) = registry.injector.steal().success() else {
                break;
            };
            if job.addr() == self.header.addr() {
                mine = Some(job);
                break;
            }
            registry.injector.push(job);
        }
        mine
    }

    fn target(&self) -> Option<usize> {
        Some(self.header.addr())
    }
}

/// `join` from a thread that is not a worker of `pool`: `b` as a scoped
/// task, `a` here. A pool that refuses the task (shut down, broken) gets
/// `b` run here too.
#[cold]
fn join_outside<A, B, RA, RB>(pool: &ThreadPoolExecutor, a: A, b: B) -> (RA, RB)
where
    A: FnOnce() -> RA + Send,
    B: FnOnce() -> RB + Send,
    RA: Send,
    RB: Send,
{
    let b_slot = std::sync::Mutex::new(Some(b));
    let b_slot = &b_slot;
    pool.scope(|s| {
        let forked = s.submit(move || {
            let b = crate::sync::lock_std(b_slot).take();
            b.map(|b| b())
        });
        let ra = unwind::catch(a);
        let rb = match forked.result() {
            Ok(Some(rb)) => Ok(rb),
            Err(TaskError::Panicked(panic)) => Err(panic.into_payload()),
            // Refused, or cancelled by a shutdown: `b` never ran.
            Ok(None) | Err(_) => {
                let b = crate::sync::lock_std(b_slot).take();
                unwind::catch(b.expect("a refused task leaves its closure"))
            }
        };
        both(ra, rb)
    })
}
