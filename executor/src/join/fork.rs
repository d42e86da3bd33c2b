//! A `join`'s second half as it waits on the joining worker's stack: the
//! frame, the type-erased reference the queues carry ([`ForkRef`]), and
//! the worker's list of frames not published yet ([`ForkStack`]).
//!
//! # Why the stack frame is safe to share
//!
//! A thief reaches a frame only through a `ForkRef` taken from a queue,
//! and the frame outlives every such reference because:
//!
//! 1. A frame is published (pushed as a `ForkRef`) at most once, by its own
//!    worker, while its `join` runs its first half.
//! 2. `join` does not return, normally or by unwinding, before it either
//!    took the `ForkRef` back off its own deque or saw `done`: the first
//!    half's panic is caught, and the wait runs under an abort guard.
//! 3. A fork's runner reads everything it needs (the owner's `Thread`)
//!    before it sets `done`, and touches the frame no more after that.
//! 4. A fork is never aborted or dropped by a drain: `Job::abort` refuses
//!    it, and whoever drains a queue queues it again.

use std::cell::{Cell, UnsafeCell};
use std::mem::MaybeUninit;
use std::ptr::{self, NonNull};
use std::sync::atomic::AtomicUsize;

use crate::sync::thread::{self, Thread};
use crate::sync::{AtomicBool, Ordering};
use crate::unwind::{self, Payload};

/// What every fork frame starts with, whatever its closure's type.
pub(crate) struct Header {
    /// Runs the fork through its frame's concrete type (`Fork::execute`).
    execute: unsafe fn(NonNull<Header>, Option<&AtomicUsize>),
    /// Set by the thread that ran a published fork, once the result is
    /// written. The frame may be gone right after (premise 3).
    done: AtomicBool,
    /// The joining thread (in its worker's `ForkStack`), unparked when
    /// `done` is set. Written before the fork is published, read by its
    /// runner only.
    owner: Cell<*const Thread>,
    /// Pushed on the deque (owner thread only).
    published: Cell<bool>,
    /// The next older frame on this worker's `ForkStack` (owner thread only).
    older: Cell<*const Header>,
}

impl Header {
    /// Whether a published fork has finished (Acquire: pairs with the
    /// Release store in `Fork::execute`, so its result is visible).
    pub(crate) fn is_done(&self) -> bool {
        self.done.load(Ordering::Acquire)
    }

    pub(crate) fn is_published(&self) -> bool {
        self.published.get()
    }

    /// The frame's address, as `Job::addr` names it.
    pub(crate) fn addr(&self) -> usize {
        ptr::from_ref(self) as usize
    }
}

/// The frame of one `join`'s second half, on the joining thread's stack.
/// `repr(C)` with the header first: a pointer to the header is a pointer
/// to the frame. Nothing in it needs dropping (the fast path pays for no
/// drop glue): `func` is moved out exactly once, by whoever runs the
/// fork, and `result` is written by a thief and read once by the owner.
#[repr(C)]
pub(crate) struct Fork<B, R> {
    header: Header,
    func: UnsafeCell<MaybeUninit<B>>,
    result: UnsafeCell<MaybeUninit<Result<R, Payload>>>,
}

impl<B, R> Fork<B, R>
where
    B: FnOnce() -> R + Send,
    R: Send,
{
    pub(crate) fn new(func: B) -> Self {
        Fork {
            header: Header {
                execute: Self::execute,
                done: AtomicBool::new(false),
                owner: Cell::new(ptr::null()),
                published: Cell::new(false),
                older: Cell::new(ptr::null()),
            },
            func: UnsafeCell::new(MaybeUninit::new(func)),
            result: UnsafeCell::new(MaybeUninit::uninit()),
        }
    }

    pub(crate) fn header(&self) -> &Header {
        &self.header
    }

    /// Runs the second half on the joining thread itself: it was never
    /// published, or was taken back off the deque before anyone stole it.
    ///
    /// # Safety
    ///
    /// Called at most once per frame, and only when the fork is in no
    /// queue and no other thread took it: its `func` is still there.
    pub(crate) unsafe fn run_inline(&self) -> R {
        // SAFETY: nothing else touches `func` (the fork is in no queue and
        // was not taken), and this is its one move out (the contract).
        let func = unsafe { (*self.func.get()).assume_init_read() };
        func()
    }

    /// The result a thief left, once `header().is_done()`.
    pub(crate) fn take_result(&self) -> Result<R, Payload> {
        debug_assert!(self.header.is_done());
        // SAFETY: `done` was seen set with Acquire, after the runner wrote
        // `result`, and the runner touches the frame no more; the owner
        // takes the result once (it calls this once, after its wait).
        unsafe { (*self.result.get()).assume_init_read() }
    }

    /// Runs a published fork on the thread that took it off a queue.
    ///
    /// # Safety
    ///
    /// `header` points at the header of a live `Fork<B, R>` that was
    /// published and has not run yet, and the caller got it from the one
    /// `ForkRef` that was queued for it.
    unsafe fn execute(header: NonNull<Header>, mark: Option<&AtomicUsize>) {
        let this = header.cast::<Self>().as_ptr();
        // SAFETY: (1) the frame is alive until `done` is set (premise 2);
        // (2) only this thread touches `func` and `result` until then: the
        // owner waits for `done`, having found nothing to take back (we
        // hold the one `ForkRef`), and this is `func`'s one move out;
        // (3) `owner` points at the `Thread` in the owner's `ForkStack`,
        // which outlives the join (its worker runs the waiting task).
        let (func, owner) = unsafe {
            let func = (*(*this).func.get()).assume_init_read();
            let owner = (*(*this).header.owner.get()).clone();
            (func, owner)
        };
        let result = unwind::catch(func);
        // SAFETY: as above; nothing else reads `result` before `done`.
        unsafe { (*(*this).result.get()).write(result) };
        if let Some(mark) = mark {
            // The frame's address may name another frame once `done` is
            // set: the help-under mark goes first.
            mark.store(0, Ordering::Release);
        }
        // SAFETY: still alive: `done` is not set yet. Release: pairs with
        // the owner's Acquire in `is_done`. After this store the frame may
        // be gone, so only the `owner` clone is used.
        unsafe { (*this).header.done.store(true, Ordering::Release) };
        owner.unpark();
    }
}

/// A published fork, as a queue holds it: the address of its frame.
pub(crate) struct ForkRef(NonNull<Header>);

// SAFETY: a `ForkRef` is handed to another thread only through the
// queues, and the frame's fields it reaches are either atomic, written
// before the push that publishes it (`owner`, `execute`), or used by the
// one thread that took it (`func`, `result`); the closure and the result
// are `Send` (`Fork::new`'s bounds).
unsafe impl Send for ForkRef {}

impl ForkRef {
    /// Runs the fork; clears `mark` before it completes (see
    /// `WorkerCtx::execute_at_bottom`).
    pub(crate) fn execute(self, mark: Option<&AtomicUsize>) {
        let header = self.0;
        // SAFETY: a `ForkRef` is made once per frame, when it is published
        // (`ForkStack::take_oldest_unpublished`), and consumed here by the
        // thread that took it off a queue; its frame is alive and not run
        // yet (premises 1 and 2).
        unsafe { (header.as_ref().execute)(header, mark) }
    }

    /// The frame's address (see `Job::addr`).
    pub(crate) fn addr(&self) -> usize {
        self.0.as_ptr() as usize
    }
}

/// The frames of the `join`s in progress on one worker, newest first: a
/// fork is kept as two stores on the stack (link in, link out) and
/// published only when another worker asks for work
/// (`WorkerCtx::publish_if_wanted`), oldest first, since the oldest half
/// is the largest.
///
/// Published frames are always the oldest ones, so the unpublished ones are
/// the newest: publishing walks down from `newest` to the first published
/// frame (a rare path, as deep as the recursion at most).
pub(crate) struct ForkStack {
    newest: Cell<*const Header>,
    /// The worker's thread, for thieves to unpark.
    thread: Thread,
}

impl ForkStack {
    /// The (empty) stack of the current thread.
    pub(crate) fn for_current_thread() -> Self {
        ForkStack {
            newest: Cell::new(ptr::null()),
            thread: thread::current(),
        }
    }

    /// Puts a new frame on top.
    ///
    /// # Safety
    ///
    /// `header` stays where it is, alive, until `pop(header)`, which the
    /// caller makes before it returns or unwinds, in LIFO order with every
    /// other push on this worker.
    #[inline]
    pub(crate) unsafe fn push(&self, header: &Header) {
        header.older.set(self.newest.get());
        self.newest.set(header);
    }

    /// Takes the newest frame, `header`, off again.
    #[inline]
    pub(crate) fn pop(&self, header: &Header) {
        debug_assert!(
            ptr::eq(self.newest.get(), header),
            "forks pop in LIFO order"
        );
        self.newest.set(header.older.get());
    }

    /// Marks the oldest unpublished frame published and returns its
    /// reference for the deque.
    pub(crate) fn take_oldest_unpublished(&self) -> Option<ForkRef> {
        let mut oldest: Option<&Header> = None;
        let mut frame = self.newest.get();
        while !frame.is_null() {
            // SAFETY: frames on the stack are alive (`push`'s contract).
            let header = unsafe { &*frame };
            if header.published.get() {
                break;
            }
            oldest = Some(header);
            frame = header.older.get();
        }
        let header = oldest?;
        header.published.set(true);
        header.owner.set(&self.thread);
        Some(ForkRef(NonNull::from(header)))
    }
}
