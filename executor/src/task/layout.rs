//! What makes a task cell small: the closure and its output share one slot
//! (a task never holds both), and the rarely used name and queue place live
//! in a type parameter, so a plain `submit` pays no bytes for them.
//!
//! A pending `submit(move || i)` cell is 56 bytes (64 with the allocator's
//! header): `Arc` counts 16, state word 8, waiter lock and list 16, and a
//! 16-byte [`Slot`] that holds the closure, then its output. The test at the
//! bottom pins those sizes.

use std::sync::Arc;

use crate::capacity::Capacity;
use crate::error::Panic;

/// The closure (or nothing, for a task resolved at birth) until the task
/// starts, its output once it finished, and `Empty` in between and after
/// the output was taken. Only one of the two ever exists, so one slot holds
/// either.
pub(crate) enum Slot<B, T> {
    /// The body, waiting for whoever moves the task out of `SCHEDULED`.
    Body(B),
    /// What the task returned or how it panicked, waiting for its handle.
    Output(Result<T, Panic>),
    /// Running, resolved without running, or the output was taken.
    Empty,
}

/// The optional labels of a task: its name and its queue place.
pub(crate) trait Extras: Send + Sync + 'static {
    /// The name given with `submit_named` or `#[task(name = ..)]`.
    fn name(&self) -> Option<&'static str>;

    /// The queue place it holds while `SCHEDULED` (see `capacity.rs`).
    fn place(&self) -> Option<&Arc<Capacity>>;

    /// Stop hooks (`stop.rs`), constant unless the task has a token: the
    /// runner calls `begin` after it won `SCHEDULED → RUNNING`; false
    /// means "stopped before the body began".
    #[inline(always)]
    fn begin(&self, _task: usize) -> bool {
        true
    }

    /// The runner calls this after the body, when `begin` returned true.
    #[inline(always)]
    fn end(&self, _task: usize) {}

    /// `TaskHandle::cancel` on a started task.
    fn request_stop(&self) {}
}

/// No name and no queue place: what `submit` from an unbounded pool, or
/// from inside a pool, makes. Zero bytes.
#[derive(Debug)]
pub(crate) struct Plain;

impl Extras for Plain {
    fn name(&self) -> Option<&'static str> {
        None
    }

    fn place(&self) -> Option<&Arc<Capacity>> {
        None
    }
}

/// A name, a queue place, or both.
pub(crate) struct Labelled {
    pub(crate) name: Option<&'static str>,
    pub(crate) place: Option<Arc<Capacity>>,
}

impl Extras for Labelled {
    fn name(&self) -> Option<&'static str> {
        self.name
    }

    fn place(&self) -> Option<&Arc<Capacity>> {
        self.place.as_ref()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use std::mem::size_of;

    use super::super::core::Core;
    use super::super::fn_task::FnTask;
    use super::*;

    /// What `submit(move || i)` allocates: an `ArcInner` of its `FnTask`.
    #[test]
    fn a_plain_task_cell_is_56_bytes() {
        let i = 7_u64;
        let closure = move || i;
        fn size_of_val_type<F>(_: &F) -> usize {
            size_of::<F>()
        }
        assert_eq!(size_of_val_type(&closure), 8);
        // The closure and the output share one slot: no bigger than the
        // output alone (a tag and the value).
        assert_eq!(size_of::<Slot<[u64; 1], u64>>(), 16);
        // The `tracing` feature adds the submitter's span, and only it.
        #[cfg(feature = "tracing")]
        let traced = size_of::<crate::trace::TaskTrace>();
        #[cfg(not(feature = "tracing"))]
        let traced = 0;
        assert_eq!(size_of::<Core<u64, [u64; 1], Plain>>(), 40 + traced);
        // Plus the Arc's two counts.
        assert_eq!(size_of::<FnTask<[u64; 1], u64, Plain>>() + 16, 56 + traced);
        assert_eq!(size_of::<Plain>(), 0);
    }

    /// A handle is the task's fat pointer and its pool's id: no flag.
    #[test]
    fn a_handle_is_three_words() {
        assert_eq!(size_of::<crate::TaskHandle<u64>>(), 24);
    }
}
