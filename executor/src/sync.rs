//! One place that chooses between `std` and `loom` primitives.
//!
//! Production code imports its atomics, locks, cells and thread parking from
//! here; under `--cfg loom` the same names resolve to loom's instrumented
//! versions so the loom models in `tests/loom.rs` explore every interleaving.

#[cfg(loom)]
pub(crate) use loom::{
    sync::atomic::{fence, AtomicBool, AtomicUsize, Ordering},
    sync::{Mutex, MutexGuard},
    thread,
};

#[cfg(not(loom))]
pub(crate) use std::{
    sync::atomic::{fence, AtomicBool, AtomicUsize, Ordering},
    sync::Mutex,
    thread,
};

/// Locks `mutex`, ignoring poisoning.
///
/// Every critical section in this crate only moves plain data in and out (it
/// never calls user code while holding a lock), so a poisoned lock still
/// guards consistent data.
#[cfg(loom)]
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[cfg(not(loom))]
pub(crate) use lock_std as lock;

/// [`lock`] for a `std` mutex even under loom: for the parts that loom does
/// not model (the collection APIs, a `Condvar` pairing).
pub(crate) fn lock_std<T>(mutex: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// An `UnsafeCell` with loom's closure-based API, so the same code checks
/// accesses under loom and compiles to a plain pointer access otherwise.
#[cfg(not(loom))]
#[derive(Debug)]
pub(crate) struct UnsafeCell<T>(std::cell::UnsafeCell<T>);

#[cfg(not(loom))]
impl<T> UnsafeCell<T> {
    pub(crate) const fn new(value: T) -> Self {
        Self(std::cell::UnsafeCell::new(value))
    }

    /// Gives `f` a mutable pointer to the contents. Dereferencing it is the
    /// caller's responsibility, exactly as with `std::cell::UnsafeCell::get`.
    pub(crate) fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
        f(self.0.get())
    }
}

#[cfg(loom)]
pub(crate) use loom::cell::UnsafeCell;

/// Parks the current thread for at most `timeout` (it may wake earlier).
#[cfg(not(loom))]
pub(crate) fn park_timeout(timeout: std::time::Duration) {
    thread::park_timeout(timeout);
}

/// Loom has no clock: a timed park is a park that may wake spuriously.
#[cfg(loom)]
pub(crate) fn park_timeout(_timeout: std::time::Duration) {
    thread::yield_now();
}

/// Spins very briefly for something about to happen (a task finishing),
/// then gives up so the caller can park.
///
/// Only briefly: on a machine with few cores the worker that will finish the
/// task may be queued on this very core, and parking hands it the core at
/// once, while spinning or `yield_now` can keep it waiting for a time slice
/// (measured on 2 vCPUs: ~100 µs per round trip with a 50 µs yield loop
/// here, a few µs without it).
pub(crate) fn spin_until(done: &dyn Fn() -> bool) -> bool {
    for round in 0..6 {
        if done() {
            return true;
        }
        for _ in 0..(1 << round) {
            std::hint::spin_loop();
        }
    }
    done()
}
