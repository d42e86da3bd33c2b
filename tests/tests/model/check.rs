//! The checks made once a case has finished: each outcome is one the
//! model allows, and every waiter was served.

use std::sync::atomic::Ordering::SeqCst;

use executor::Outcome;

use crate::ops::Body;
use crate::record::{Kind, Rec, Seen};
use crate::world::World;
use crate::{EXPECT_FAIR_SELF_WAKE, EXPECT_STARTED_ASYNC_SURVIVES_SHUTDOWN, PROBE_BUDGET};

/// Where `outcome` is counted in `counts` and `Totals::outcomes`.
pub(crate) fn outcome_index(outcome: Outcome) -> usize {
    match outcome {
        Outcome::Completed => 0,
        Outcome::Panicked => 1,
        Outcome::Cancelled => 2,
        Outcome::Rejected => 3,
        Outcome::Broken => 4,
        Outcome::Abandoned => 5,
    }
}

/// The outcome is one the model allows for this task.
pub(crate) fn check_outcome(world: &World, rec: &Rec, seen: &Seen) {
    let admission = rec.admission.get().expect("admitted");
    let runs = rec.runs.load(SeqCst);
    let what = format!(
        "task {} ({:?}, {admission:?}) resolved to {seen:?}",
        rec.id, rec.kind
    );
    if rec.cancel_ok.load(SeqCst) {
        assert_eq!(*seen, Seen::Cancelled, "{what}, but cancel() returned true");
    }
    if admission.must_reject {
        assert_eq!(
            *seen,
            Seen::Rejected,
            "{what}, but it was submitted after a shutdown returned"
        );
    }
    match seen {
        Seen::Value(v) => {
            match rec.kind {
                Kind::Probe => {
                    assert!(*v <= PROBE_BUDGET, "{what}");
                    let companion_ran = rec
                        .companion
                        .get()
                        .is_some_and(|c| matches!(*c.seen.lock().unwrap(), Some(Seen::Value(_))));
                    if EXPECT_FAIR_SELF_WAKE && companion_ran {
                        assert!(
                            *v < PROBE_BUDGET,
                            "{what}: a self-waking task kept the closure queued behind it from running for {PROBE_BUDGET} polls"
                        );
                    }
                }
                Kind::Closure(Body::Panic) => panic!("{what}, but it panics"),
                _ => assert_eq!(*v, rec.value(), "{what}: wrong value"),
            }
            assert_eq!(runs, 1, "{what}, but it ran {runs} times");
        }
        Seen::Panicked(message, name) => {
            assert_eq!(rec.kind, Kind::Closure(Body::Panic), "{what}");
            assert_eq!(
                message.as_deref(),
                Some(format!("model panic {}", rec.id).as_str()),
                "{what}"
            );
            assert_eq!(*name, rec.named.then_some("model"), "{what}");
            assert_eq!(runs, 1, "{what}, but it ran {runs} times");
        }
        Seen::Cancelled => {
            let by_shutdown = world.cancel_shutdown.load(SeqCst);
            let async_cancelled_by_shutdown = rec.kind.is_async()
                && !EXPECT_STARTED_ASYNC_SURVIVES_SHUTDOWN
                && world.shutdowns_begun.load(SeqCst) > 0;
            assert!(
                rec.cancel_ok.load(SeqCst) || by_shutdown || async_cancelled_by_shutdown,
                "{what} without a successful cancel() or a cancelling shutdown"
            );
            if !rec.kind.is_async() {
                assert_eq!(runs, 0, "{what}, but it ran");
            }
        }
        Seen::Rejected => {
            // A started async task woken as the last worker left is
            // rejected with what is still queued (the same defect).
            let async_rejected_by_shutdown = rec.kind.is_async()
                && !EXPECT_STARTED_ASYNC_SURVIVES_SHUTDOWN
                && world.shutdowns_begun.load(SeqCst) > 0;
            assert!(
                admission.may_reject || async_rejected_by_shutdown,
                "{what}, but no shutdown had begun"
            );
            if !async_rejected_by_shutdown {
                assert_eq!(runs, 0, "{what}, but it ran");
            }
        }
        Seen::Broken => panic!("{what}: no pool here is ever broken"),
        Seen::Abandoned => {
            // Only a started async task with no waker left, once the pool
            // shuts down, can never be polled again.
            assert!(rec.kind.is_async(), "{what}, but it is not async");
            assert!(
                world.shutdowns_begun.load(SeqCst) > 0,
                "{what}, but no shutdown had begun"
            );
        }
    }
}

/// Every done callback ran once, told the outcome; a foreign waker was woken.
pub(crate) fn check_waiters(rec: &Rec, seen: &Seen) {
    let added = rec.callbacks_added.load(SeqCst);
    let told = rec.callbacks.lock().unwrap().clone();
    assert_eq!(
        told.len(),
        added,
        "task {}: {added} callbacks added, {} ran",
        rec.id,
        told.len()
    );
    assert!(
        told.iter().all(|&o| o == seen.outcome()),
        "task {}: callbacks told {told:?}, the handle says {seen:?}",
        rec.id
    );
    if rec.foreign.load(SeqCst) {
        assert!(
            rec.foreign_wakes.load(SeqCst) >= 1,
            "task {}: its foreign waker was never woken",
            rec.id
        );
    }
}
