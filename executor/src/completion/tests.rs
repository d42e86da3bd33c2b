use std::sync::Arc;

use super::inbox::*;
use crate::ThreadPoolExecutor;

use super::as_completed::as_completed;
use super::wait::{wait, ReturnWhen};
use crate::error::Outcome;
use crate::handle::TaskHandle;
#[test]
fn empty_inputs() {
    assert_eq!(as_completed(Vec::<TaskHandle<()>>::new()).count(), 0);
    for when in [
        ReturnWhen::FirstCompleted,
        ReturnWhen::FirstException,
        ReturnWhen::AllCompleted,
    ] {
        let r = wait(Vec::<TaskHandle<()>>::new(), when, None);
        assert!(r.done.is_empty() && r.not_done.is_empty());
    }
}

#[test]
fn failures_are_errors_other_than_cancellation() {
    assert!(is_failure(Outcome::Panicked));
    assert!(is_failure(Outcome::Broken));
    assert!(is_failure(Outcome::Rejected));
    assert!(is_failure(Outcome::Abandoned));
    assert!(!is_failure(Outcome::Cancelled));
    assert!(!is_failure(Outcome::Completed));
}

#[test]
fn as_completed_on_a_single_worker_from_inside_a_task() {
    // The handles sit queued behind the task that waits for them: only
    // work-while-waiting lets this finish.
    let pool = ThreadPoolExecutor::builder()
        .max_workers(1)
        .build()
        .unwrap();
    let pool = Arc::new(pool);
    let inner = Arc::clone(&pool);
    let sum = pool
        .submit(move || {
            let handles: Vec<_> = (0..10_u32).map(|i| inner.submit(move || i)).collect();
            as_completed(handles)
                .map(|h| h.result().unwrap())
                .sum::<u32>()
        })
        .result()
        .unwrap();
    assert_eq!(sum, 45);
}

#[test]
fn dropping_early_stops_the_callbacks_from_recording() {
    let pool = ThreadPoolExecutor::builder()
        .max_workers(1)
        .build()
        .unwrap();
    let (tx, rx) = std::sync::mpsc::channel::<()>();
    let blocker = pool.submit(move || rx.recv().unwrap());
    let queued: Vec<_> = (0..3).map(|i| pool.submit(move || i)).collect();
    let completions = as_completed(queued);
    let inbox = Arc::clone(&completions.inbox);
    drop(completions);
    tx.send(()).unwrap();
    blocker.result().unwrap();
    pool.shutdown(true);
    assert_eq!(inbox.pushed(), 0);
    assert!(inbox.nothing_ready());
}
