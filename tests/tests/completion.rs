//! Acceptance tests for `as_completed` (iterator and stream) and `wait`.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Duration;

use executor::{as_completed, wait, ReturnWhen, TaskHandle, ThreadPoolExecutor};
use futures::StreamExt;

mod support;
use support::{pool, Gate, HANG};

/// `n` tasks, task `i` blocked on `gates[i]` and returning `i`.
fn gated(pool: &ThreadPoolExecutor, n: usize) -> (Vec<TaskHandle<usize>>, Vec<Arc<Gate>>) {
    let gates: Vec<Arc<Gate>> = (0..n).map(|_| Arc::new(Gate::default())).collect();
    let handles = gates
        .iter()
        .enumerate()
        .map(|(i, g)| {
            let g = Arc::clone(g);
            pool.submit(move || {
                g.wait();
                i
            })
        })
        .collect();
    (handles, gates)
}

#[test]
fn yields_in_the_order_tasks_finish() {
    let n = 6;
    let pool = pool(n);
    let (handles, gates) = gated(&pool, n);
    let mut completions = as_completed(handles);
    // Release the tasks in a scrambled order, one at a time: each is
    // yielded before the next is released, so the order is forced.
    for i in [3, 0, 5, 1, 4, 2] {
        gates[i].open();
        let handle = completions.next().unwrap();
        assert_eq!(handle.result().unwrap(), i);
    }
    assert!(completions.next().is_none());
}

#[test]
fn already_done_handles_come_first_in_input_order() {
    let pool = pool(2);
    let done: Vec<_> = (0..5).map(|i| pool.submit(move || i)).collect();
    for h in &done {
        h.wait();
    }
    let (mut pending, gates) = gated(&pool, 1);
    let mut handles = done;
    handles.insert(2, pending.pop().unwrap());
    let mut completions = as_completed(handles);
    assert_eq!(completions.len(), 6);
    let firsts: Vec<usize> = completions
        .by_ref()
        .take(5)
        .map(|h| h.result().unwrap())
        .collect();
    assert_eq!(firsts, [0, 1, 2, 3, 4]);
    gates[0].open();
    assert_eq!(completions.next().unwrap().result().unwrap(), 0);
    assert!(completions.next().is_none());
}

#[test]
fn each_handle_exactly_once_with_panics_and_cancellations() {
    let pool = pool(1);
    let (mut blocker, gate) = gated(&pool, 1);
    let handles: Vec<TaskHandle<usize>> = (0..50)
        .map(|i| {
            pool.submit(move || {
                if i % 7 == 0 {
                    panic!("task {i}");
                }
                i
            })
        })
        .collect();
    // Cancel a few while the only worker is blocked.
    let cancelled: usize = handles
        .iter()
        .step_by(5)
        .map(|h| usize::from(h.cancel()))
        .sum();
    assert_eq!(cancelled, 10);
    let mut all = handles;
    all.push(blocker.pop().unwrap());
    let completions = as_completed(all);
    gate[0].open();
    let (mut ok, mut panicked, mut was_cancelled) = (0, 0, 0);
    for handle in completions {
        match handle.result() {
            Ok(_) => ok += 1,
            Err(e) if e.is_panic() => panicked += 1,
            Err(e) if e.is_cancelled() => was_cancelled += 1,
            Err(e) => panic!("unexpected {e}"),
        }
    }
    // 0..50 step 7 panic except those cancelled (0 and 35 are multiples of 5).
    assert_eq!((ok, panicked, was_cancelled), (51 - 10 - 6, 6, 10));
}

#[test]
fn timeout_hands_back_the_unfinished_handles() {
    let pool = pool(5);
    let quick: Vec<_> = (0..3).map(|i| pool.submit(move || i)).collect();
    let (slow, gates) = gated(&pool, 2);
    let mut handles = quick;
    handles.extend(slow);
    let mut finished = 0;
    let mut pending = Vec::new();
    for next in as_completed(handles).timeout(Duration::from_millis(100)) {
        match next {
            Ok(h) => {
                h.result().unwrap();
                finished += 1;
            }
            Err(timed_out) => {
                assert_eq!(timed_out.pending().len(), 2);
                pending = timed_out.into_pending();
            }
        }
    }
    assert_eq!(finished, 3);
    for g in &gates {
        g.open();
    }
    let mut rest: Vec<usize> = pending.into_iter().map(|h| h.result().unwrap()).collect();
    rest.sort_unstable();
    assert_eq!(rest, [0, 1]);
}

#[test]
fn into_pending_after_a_partial_iteration() {
    // One worker per gated task: each must be able to start while the
    // others block.
    let pool = pool(4);
    let (handles, gates) = gated(&pool, 4);
    let mut completions = as_completed(handles);
    gates[2].open();
    assert_eq!(completions.next().unwrap().result().unwrap(), 2);
    let rest = completions.into_pending();
    assert_eq!(rest.len(), 3);
    for g in &gates {
        g.open();
    }
    let values: Vec<usize> = rest.into_iter().map(|h| h.result().unwrap()).collect();
    assert_eq!(values, [0, 1, 3]);
}

#[test]
fn as_completed_over_100_000_handles() {
    let pool = pool(4);
    let n = if cfg!(miri) { 64 } else { 100_000 };
    let handles: Vec<_> = (0..n).map(|i| pool.submit(move || i)).collect();
    let mut seen = vec![false; n];
    for handle in as_completed(handles) {
        let i = handle.result().unwrap();
        assert!(!seen[i], "handle {i} yielded twice");
        seen[i] = true;
    }
    assert!(seen.iter().all(|&s| s));
}

/// The 1,000,000-handle scale of the issue; run in release:
/// `cargo test --release -p executor-tests --test completion -- --ignored`.
#[test]
#[ignore = "a million tasks: run in release"]
fn as_completed_over_1_000_000_handles() {
    let pool = ThreadPoolExecutor::new();
    let n = 1_000_000;
    let handles: Vec<_> = (0..n).map(|i| pool.submit(move || i)).collect();
    let mut seen = vec![false; n];
    let mut count = 0;
    for handle in as_completed(handles) {
        let i = handle.result().unwrap();
        assert!(!seen[i]);
        seen[i] = true;
        count += 1;
    }
    assert_eq!(count, n);
}

#[test]
fn as_completed_is_a_stream() {
    let pool = pool(3);
    let (handles, gates) = gated(&pool, 3);
    let order = futures::executor::block_on(async {
        let mut stream = as_completed(handles).into_stream();
        let mut order = Vec::new();
        for i in [1, 2, 0] {
            gates[i].open();
            let handle = stream.next().await.unwrap();
            order.push(handle.await.unwrap());
        }
        assert!(stream.next().await.is_none());
        order
    });
    assert_eq!(order, [1, 2, 0]);
}

#[test]
fn stream_wakes_from_another_thread_many_times() {
    let pool = pool(4);
    let n = if cfg!(miri) { 64 } else { 10_000 };
    let handles: Vec<_> = (0..n)
        .map(|i| {
            pool.submit(move || {
                if i % 100 == 0 {
                    std::thread::sleep(Duration::from_micros(200));
                }
                i
            })
        })
        .collect();
    let total = futures::executor::block_on(
        as_completed(handles)
            .into_stream()
            .fold(0, |acc, h| async move { acc + h.await.unwrap() }),
    );
    assert_eq!(total, (0..n).sum::<usize>());
}

#[test]
fn wait_first_completed_returns_the_one_that_finished() {
    let pool = pool(4);
    let (handles, gates) = gated(&pool, 4);
    gates[2].open();
    let result = wait(handles, ReturnWhen::FirstCompleted, Some(HANG));
    assert_eq!(result.done.len(), 1);
    assert_eq!(result.not_done.len(), 3);
    for g in &gates {
        g.open();
    }
    let done = result.done.into_iter().next().unwrap();
    assert_eq!(done.result().unwrap(), 2);
}

#[test]
fn wait_first_exception_returns_at_the_first_panic() {
    let pool = pool(4);
    let (mut handles, gates) = gated(&pool, 3);
    handles.push(pool.submit(|| panic!("broken")));
    // The gated tasks cannot finish before `wait` returns: if it did not
    // return at the panic, it would wait for the timeout and the gated
    // tasks would still be not done; the watchdog timeout only ends a hang.
    let result = wait(handles, ReturnWhen::FirstException, Some(HANG));
    assert_eq!(result.done.len(), 1);
    assert_eq!(result.not_done.len(), 3);
    assert!(result.not_done.iter().all(|h| !h.done()));
    for g in &gates {
        g.open();
    }
    assert!(result
        .done
        .into_iter()
        .next()
        .unwrap()
        .result()
        .unwrap_err()
        .is_panic());
}

#[test]
fn wait_first_exception_ignores_cancellations_and_waits_for_all() {
    let pool = pool(1);
    let (mut blocker, gate) = gated(&pool, 1);
    let cancelled = pool.submit(|| 1);
    assert!(cancelled.cancel());
    let rest: Vec<_> = (0..5).map(|i| pool.submit(move || i)).collect();
    let mut handles = vec![cancelled];
    handles.extend(rest);
    handles.push(blocker.pop().unwrap());
    let (tx, rx) = mpsc::channel();
    std::thread::scope(|s| {
        s.spawn(move || tx.send(wait(handles, ReturnWhen::FirstException, None)));
        // Not returned yet: the cancelled task is not an exception.
        assert!(rx.recv_timeout(Duration::from_millis(50)).is_err());
        gate[0].open();
        let result = rx.recv_timeout(HANG).expect("wait never returned");
        assert_eq!(result.done.len(), 7);
        assert!(result.not_done.is_empty());
    });
}

#[test]
fn wait_all_completed_and_timeout_lose_nothing() {
    let pool = pool(2);
    let (handles, gates) = gated(&pool, 3);
    let result = wait(
        handles,
        ReturnWhen::AllCompleted,
        Some(Duration::from_millis(20)),
    );
    assert_eq!((result.done.len(), result.not_done.len()), (0, 3));
    for g in &gates {
        g.open();
    }
    let result = wait(result.not_done, ReturnWhen::AllCompleted, None);
    assert_eq!((result.done.len(), result.not_done.len()), (3, 0));
    let values: Vec<usize> = result
        .done
        .into_iter()
        .map(|h| h.result().unwrap())
        .collect();
    assert_eq!(values, [0, 1, 2]);
}

#[test]
fn wait_inside_a_task_of_a_one_worker_pool() {
    let pool = Arc::new(pool(1));
    let inner = Arc::clone(&pool);
    let ran = Arc::new(AtomicUsize::new(0));
    let r = Arc::clone(&ran);
    let done = pool
        .submit(move || {
            let handles: Vec<_> = (0..20)
                .map(|_| {
                    let r = Arc::clone(&r);
                    inner.submit(move || r.fetch_add(1, Ordering::SeqCst))
                })
                .collect();
            let first = wait(handles, ReturnWhen::FirstCompleted, None);
            assert!(!first.done.is_empty());
            let mut all = first.done;
            all.extend(first.not_done);
            wait(all, ReturnWhen::AllCompleted, None).done.len()
        })
        .result()
        .unwrap();
    assert_eq!(done, 20);
    assert_eq!(ran.load(Ordering::SeqCst), 20);
}

#[test]
fn as_completed_with_timeout_on_one_worker_runs_the_queued_tasks() {
    // Waiting, with a timeout, from the only worker on tasks queued behind
    // it: the wait runs them instead of timing out.
    let pool = std::sync::Arc::new(
        executor::ThreadPoolExecutor::builder()
            .max_workers(1)
            .build()
            .unwrap(),
    );
    let p = pool.clone();
    let values = pool
        .submit(move || {
            let handles: Vec<_> = (0..5u32).map(|i| p.submit(move || i)).collect();
            let mut got: Vec<u32> = executor::as_completed(handles)
                .timeout(std::time::Duration::from_secs(30))
                .map(|h| h.expect("no timeout").result().unwrap())
                .collect();
            got.sort();
            got
        })
        .result()
        .unwrap();
    assert_eq!(values, [0, 1, 2, 3, 4]);
}
