//! Every `TaskHandle` method and every `TaskError` variant, on a real pool.

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Duration;

use executor::{Outcome, TaskError, ThreadPoolExecutor};
use support::{blocked_pool, within, HANG};

fn one_worker() -> ThreadPoolExecutor {
    ThreadPoolExecutor::builder()
        .max_workers(1)
        .build()
        .unwrap()
}

#[test]
fn result_returns_the_value() {
    let pool = ThreadPoolExecutor::new();
    assert_eq!(
        pool.submit(|| vec![1, 2, 3]).result().unwrap(),
        vec![1, 2, 3]
    );
}

#[test]
fn done_running_cancelled_follow_the_lifecycle() {
    let (pool, gate, blocker) = blocked_pool();
    let queued = pool.submit(|| 7);
    while !blocker.running() {
        std::thread::yield_now();
    }
    assert!(blocker.running() && !blocker.done() && !blocker.cancelled());
    assert!(!queued.running() && !queued.done() && !queued.cancelled());
    assert_eq!(queued.outcome(), None);
    gate.open();
    blocker.wait();
    queued.wait();
    assert!(blocker.done() && !blocker.running());
    assert!(queued.done() && !queued.cancelled());
    assert_eq!(queued.outcome(), Some(Outcome::Completed));
    assert_eq!(queued.result().unwrap(), 7);
}

#[test]
fn cancel_before_start_means_never_run() {
    let (pool, gate, blocker) = blocked_pool();
    let ran = Arc::new(AtomicUsize::new(0));
    let r = ran.clone();
    let victim = pool.submit(move || r.fetch_add(1, Ordering::SeqCst));
    assert!(victim.cancel());
    assert!(victim.cancel(), "cancelling twice still reports cancelled");
    assert!(victim.cancelled() && victim.done());
    gate.open();
    blocker.result().unwrap();
    pool.shutdown(true);
    assert_eq!(
        ran.load(Ordering::SeqCst),
        0,
        "a cancelled task must never run"
    );
    assert!(matches!(victim.result(), Err(TaskError::Cancelled)));
    assert_eq!(pool.stats().tasks_cancelled, 1);
}

#[test]
fn cancel_drops_the_closure_at_once() {
    let (pool, gate, blocker) = blocked_pool();
    let token = Arc::new(());
    let held = token.clone();
    let victim = pool.submit(move || drop(held));
    assert_eq!(Arc::strong_count(&token), 2);
    assert!(victim.cancel());
    assert_eq!(
        Arc::strong_count(&token),
        1,
        "the cancelled closure's captures are released"
    );
    gate.open();
    blocker.result().unwrap();
}

#[test]
fn cancel_fails_once_running_or_done() {
    let (pool, gate, blocker) = blocked_pool();
    while !blocker.running() {
        std::thread::yield_now();
    }
    assert!(!blocker.cancel(), "a running task cannot be cancelled");
    gate.open();
    blocker.wait();
    assert!(!blocker.cancel(), "a finished task cannot be cancelled");
    assert!(!blocker.cancelled());
    blocker.result().unwrap();
    drop(pool);
}

#[test]
fn result_timeout_hands_the_handle_back_and_loses_nothing() {
    let pool = ThreadPoolExecutor::new();
    let (tx, rx) = mpsc::channel::<u64>();
    let mut handle = pool.submit(move || rx.recv().unwrap() * 2);
    for _ in 0..3 {
        handle = match handle.result_timeout(Duration::from_millis(5)) {
            Err(back) => back,
            Ok(r) => panic!("the task cannot have finished: {r:?}"),
        };
    }
    assert!(!handle.wait_timeout(Duration::from_millis(1)));
    tx.send(21).unwrap();
    assert!(handle.wait_timeout(HANG));
    assert_eq!(handle.result_timeout(HANG).unwrap().unwrap(), 42);
}

#[test]
fn done_callback_runs_on_completion_and_at_once_when_done() {
    let (pool, gate, blocker) = blocked_pool();
    let (tx, rx) = mpsc::channel();
    let tx2 = tx.clone();
    let queued = pool.submit(|| 1);
    queued.add_done_callback(move |o| tx.send(("late", o, std::thread::current().id())).unwrap());
    assert!(rx.try_recv().is_err(), "not done yet, so not called yet");
    gate.open();
    blocker.result().unwrap();
    let (which, outcome, _) = rx.recv_timeout(HANG).unwrap();
    assert_eq!((which, outcome), ("late", Outcome::Completed));
    queued.wait();
    let me = std::thread::current().id();
    queued.add_done_callback(move |o| tx2.send(("early", o, std::thread::current().id())).unwrap());
    let (which, outcome, thread) = rx
        .try_recv()
        .expect("a callback on a done task runs at once");
    assert_eq!((which, outcome, thread), ("early", Outcome::Completed, me));
}

#[test]
fn done_callback_hears_cancellation_and_panics_are_contained() {
    let (pool, gate, blocker) = blocked_pool();
    let (tx, rx) = mpsc::channel();
    let victim = pool.submit(|| ());
    victim.add_done_callback(|_| panic!("a broken callback"));
    victim.add_done_callback(move |o| tx.send(o).unwrap());
    assert!(victim.cancel());
    assert_eq!(
        rx.try_recv().unwrap(),
        Outcome::Cancelled,
        "the second callback still ran"
    );
    gate.open();
    blocker.result().unwrap();
    // The pool survives a callback that panics on a worker, too.
    let h = pool.submit(|| 5);
    h.add_done_callback(|_| panic!("on the worker"));
    assert_eq!(h.result().unwrap(), 5);
    assert_eq!(pool.submit(|| 6).result().unwrap(), 6);
}

#[test]
fn panicking_task_resolves_its_handle_and_the_worker_lives_on() {
    let pool = one_worker();
    let err = pool
        .submit(|| -> u8 { panic!("boom {}", 7) })
        .result()
        .unwrap_err();
    assert!(err.is_panic());
    assert_eq!(err.to_string(), "task panicked: boom 7");
    let panic = err.into_panic();
    assert_eq!(panic.message(), Some("boom 7"));
    assert_eq!(
        pool.submit(|| 1).result().unwrap(),
        1,
        "the one worker still serves"
    );
    let stats = pool.stats();
    assert_eq!((stats.tasks_panicked, stats.tasks_completed), (1, 1));
    assert_eq!(stats.workers_alive, 1);
}

#[test]
fn panic_payload_can_be_resumed() {
    let pool = ThreadPoolExecutor::new();
    let err = pool
        .submit(|| std::panic::panic_any(42_i32))
        .result()
        .unwrap_err();
    let panic = std::panic::AssertUnwindSafe(err.into_panic());
    let caught = std::panic::catch_unwind(move || {
        let whole = panic;
        whole.0.resume()
    })
    .unwrap_err();
    assert_eq!(*caught.downcast::<i32>().unwrap(), 42);
}

#[test]
fn rejected_after_shutdown_and_try_submit_says_so() {
    let pool = ThreadPoolExecutor::new();
    pool.shutdown(true);
    let h = pool.submit(|| 1);
    assert!(h.done() && !h.cancelled());
    assert_eq!(h.outcome(), Some(Outcome::Rejected));
    assert!(matches!(h.result(), Err(TaskError::Rejected)));
    match pool.try_submit(|| 3) {
        Err(executor::SubmitError::Shutdown(f)) => assert_eq!(f(), 3),
        other => panic!("expected Shutdown, got {other:?}"),
    }
}

#[test]
fn handle_debug_shows_state_and_name() {
    let pool = ThreadPoolExecutor::new();
    let h = pool.submit_named("named", || 1);
    h.wait();
    let text = format!("{h:?}");
    assert!(
        text.contains("done") && text.contains("Completed") && text.contains("named"),
        "{text}"
    );
}

#[test]
fn waiting_from_many_threads_on_one_handle() {
    let (pool, gate, blocker) = blocked_pool();
    let target = Arc::new(pool.submit(|| 9));
    let waiters: Vec<_> = (0..4)
        .map(|_| {
            let t = target.clone();
            std::thread::spawn(move || {
                t.wait();
                t.done()
            })
        })
        .collect();
    gate.open();
    for w in waiters {
        assert!(within(HANG, "waiter", move || w.join().unwrap()));
    }
    blocker.result().unwrap();
    let target = Arc::try_unwrap(target).unwrap();
    assert_eq!(target.result().unwrap(), 9);
}

#[test]
fn ids_of_live_tasks_are_distinct_and_stable() {
    let (pool, gate, blocker) = blocked_pool();
    let handles: Vec<_> = (0..100).map(|i| pool.submit(move || i)).collect();
    let ids: std::collections::HashSet<_> = handles.iter().map(|h| h.id()).collect();
    assert_eq!(ids.len(), 100, "no two live tasks share an id");
    assert!(!ids.contains(&blocker.id()));
    let before: Vec<_> = handles.iter().map(|h| h.id()).collect();
    gate.open();
    blocker.result().unwrap();
    for (h, id) in handles.iter().zip(&before) {
        h.wait();
        assert_eq!(h.id(), *id, "an id does not change when the task finishes");
    }
}

/// A handle polled again after it returned its result panics, saying so,
/// rather than returning the value twice (the output slot is empty then).
#[test]
fn polling_a_handle_after_its_result_panics() {
    use std::future::Future;
    use std::pin::Pin;
    use std::task::{Context, Poll};

    let pool = ThreadPoolExecutor::builder()
        .max_workers(1)
        .build()
        .unwrap();
    let mut handle = pool.submit(|| 5_u32);
    handle.wait();
    let waker = futures::task::noop_waker();
    let mut cx = Context::from_waker(&waker);
    match Pin::new(&mut handle).poll(&mut cx) {
        Poll::Ready(Ok(5)) => {}
        other => panic!("expected Ready(Ok(5)), got {other:?}"),
    }
    let again = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let _ = Pin::new(&mut handle).poll(&mut cx);
    }));
    let payload = again.expect_err("a second poll must panic");
    let message = payload
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| payload.downcast_ref::<&str>().copied())
        .unwrap_or("");
    assert!(
        message.contains("polled after it returned its result"),
        "unexpected panic message: {message:?}"
    );
}
