//! All the panic plumbing in one place: catching a user panic at a task
//! boundary, reporting one that has nowhere else to go, and aborting when
//! the scheduler's own code panics (a worker must never die silently and
//! leave the pool's books wrong).

use std::any::Any;
use std::panic::{self, AssertUnwindSafe};

use crate::error::Panic;

/// What `catch_unwind` hands back.
pub(crate) type Payload = Box<dyn Any + Send + 'static>;

/// Runs `f`, catching its panic. Every call site is a boundary where the
/// state `f` may leave half-done is discarded or carried to a handle, which
/// is why asserting unwind safety is fine.
pub(crate) fn catch<R>(f: impl FnOnce() -> R) -> Result<R, Payload> {
    panic::catch_unwind(AssertUnwindSafe(f))
}

/// Runs `f` (a callback, a destructor of user data) and reports its panic
/// on stderr instead of propagating it: nobody waits for its outcome.
pub(crate) fn contain(what: &str, f: impl FnOnce()) {
    if let Err(payload) = catch(f) {
        let panic = Panic::new(payload, None);
        eprintln!(
            "executor: {what} panicked: {}",
            panic.message().unwrap_or("(non-string payload)")
        );
    }
}

/// Aborts the process if dropped during a panic. Armed around code whose
/// panic would break the pool's invariants (a worker's run loop: user code
/// inside it is caught, so anything unwinding out of it is our bug, and a
/// dead worker would strand the tasks and counts it holds). Disarm with
/// [`AbortIfPanic::disarm`] on the normal path.
#[must_use = "the guard protects only while it is alive"]
pub(crate) struct AbortIfPanic(pub(crate) &'static str);

impl AbortIfPanic {
    /// The guarded section ended normally.
    pub(crate) fn disarm(self) {
        std::mem::forget(self);
    }
}

impl Drop for AbortIfPanic {
    fn drop(&mut self) {
        eprintln!(
            "executor: internal error: {} panicked; aborting rather than leaving the pool inconsistent",
            self.0
        );
        std::process::abort();
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use std::process::Command;

    use super::*;

    const CHILD: &str = "EXECUTOR_UNWIND_CHILD";

    /// A panic inside a guarded section takes the whole process down with a
    /// message, instead of silently killing one thread. Run in a child
    /// process (this test binary again), since the point is the abort.
    #[test]
    fn a_panic_under_the_guard_aborts_the_process() {
        if std::env::var_os(CHILD).is_some() {
            let _guard = AbortIfPanic("the guarded test section");
            panic!("an internal invariant broke");
        }
        let exe = std::env::current_exe().expect("the test binary");
        let out = Command::new(exe)
            .args([
                "--exact",
                "unwind::tests::a_panic_under_the_guard_aborts_the_process",
                "--test-threads=1",
                "--nocapture",
            ])
            .env(CHILD, "1")
            .output()
            .expect("run the child");
        assert!(!out.status.success(), "the child must not survive");
        #[cfg(unix)]
        {
            use std::os::unix::process::ExitStatusExt;
            assert_eq!(
                out.status.signal(),
                Some(6),
                "SIGABRT, got {:?}",
                out.status
            );
        }
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("internal error: the guarded test section panicked"),
            "stderr: {stderr}"
        );
    }

    #[test]
    fn a_disarmed_guard_does_nothing() {
        let guard = AbortIfPanic("nothing");
        guard.disarm();
        assert_eq!(catch(|| 5).ok(), Some(5));
        assert!(catch(|| panic!("caught")).is_err());
        contain("a test closure", || panic!("contained"));
    }
}
