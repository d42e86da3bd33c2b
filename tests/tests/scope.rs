//! Acceptance tests for `pool.scope`: borrowing, joining (also on panics),
//! nesting on workers. The first two tests are the Miri targets (the whole
//! file passes under Miri, in about a minute):
//!
//! ```text
//! MIRIFLAGS="-Zmiri-preemption-rate=0 -Zmiri-ignore-leaks -Zmiri-tree-borrows \
//!     -Zmiri-permissive-provenance" \
//!     cargo +nightly miri test -p executor-tests --test scope
//! ```
//!
//! Tree Borrows because crossbeam-epoch (under crossbeam-deque) trips
//! Stacked Borrows in its own list code; with `join_all` disabled, Miri
//! reports the use-after-free in `lend_then_free` as intended.

use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use executor::{MapOptions, ThreadPoolExecutor};

mod support;
use support::pool;

const TASKS: usize = if cfg!(miri) { 4 } else { 64 };

/// Lends a heap buffer and a stack array to scoped tasks that only write
/// after a pause, then frees both as soon as `scope` returns. Were `scope`
/// to return before its tasks finished, those writes would land in freed
/// memory: a use-after-free that Miri reports, and that the sums would
/// usually betray even without Miri.
fn lend_then_free(pool: &ThreadPoolExecutor, round: u64, panic_in_one: bool) -> u64 {
    let mut heap = vec![0_u64; TASKS];
    let mut stack = [0_u64; 4];
    let outcome = panic::catch_unwind(AssertUnwindSafe(|| {
        pool.scope(|s| {
            if panic_in_one {
                s.submit(|| panic!("one task fails at once"));
            }
            for (i, slot) in heap.iter_mut().enumerate() {
                s.submit(move || {
                    thread::sleep(Duration::from_millis(1));
                    *slot = i as u64 + round;
                });
            }
            let stack = &mut stack;
            s.submit(move || {
                thread::sleep(Duration::from_millis(2));
                stack.iter_mut().for_each(|x| *x = round);
            });
        })
    }));
    assert_eq!(outcome.is_err(), panic_in_one);
    let total = heap.iter().sum::<u64>() + stack.iter().sum::<u64>();
    drop(heap); // freed here: after `scope` returned (or unwound)
    total
}

fn expected(round: u64) -> u64 {
    (0..TASKS as u64).map(|i| i + round).sum::<u64>() + 4 * round
}

#[test]
fn scope_joins_every_task_before_the_borrowed_memory_is_freed() {
    let pool = pool(2);
    for round in 0..if cfg!(miri) { 2 } else { 20 } {
        assert_eq!(lend_then_free(&pool, round, false), expected(round));
    }
}

#[test]
fn scope_joins_every_task_before_re_raising_a_panic() {
    let pool = pool(2);
    for round in 0..if cfg!(miri) { 2 } else { 20 } {
        assert_eq!(lend_then_free(&pool, round, true), expected(round));
    }
}

#[test]
fn the_first_panic_is_re_raised_with_its_payload() {
    let pool = pool(1);
    let caught = panic::catch_unwind(AssertUnwindSafe(|| {
        pool.scope(|s| {
            s.submit(|| panic::panic_any(1_u32));
            s.submit(|| panic::panic_any(2_u32));
        })
    }));
    // One worker runs them in submission order: the first is 1.
    assert_eq!(*caught.unwrap_err().downcast::<u32>().unwrap(), 1);
}

#[test]
fn scoped_results_may_borrow() {
    let pool = pool(3);
    let text = String::from("a bb ccccc dd");
    let words: Vec<&str> = text.split(' ').collect();
    let longest = pool.scope(|s| {
        let handles: Vec<_> = words
            .chunks(2)
            .map(|pair| s.submit(move || *pair.iter().max_by_key(|w| w.len()).unwrap()))
            .collect();
        handles
            .into_iter()
            .map(|h| h.result().unwrap())
            .max_by_key(|w| w.len())
            .unwrap()
    });
    assert_eq!(longest, "ccccc");
}

#[test]
fn nested_scopes_on_one_and_two_workers() {
    for workers in [1, 2] {
        let pool = pool(workers);
        let data: Vec<u64> = (1..=64).collect();
        let total = AtomicUsize::new(0);
        pool.scope(|outer| {
            for quarter in data.chunks(16) {
                let pool = &pool;
                let total = &total;
                outer.submit(move || {
                    // A scope inside a task: it runs its own tasks while it waits.
                    let sum: u64 = pool.scope(|inner| {
                        let hs: Vec<_> = quarter
                            .chunks(4)
                            .map(|c| inner.submit(move || c.iter().sum::<u64>()))
                            .collect();
                        hs.into_iter().map(|h| h.result().unwrap()).sum()
                    });
                    total.fetch_add(sum as usize, Ordering::SeqCst);
                });
            }
        });
        assert_eq!(
            total.load(Ordering::SeqCst),
            64 * 65 / 2,
            "{workers} workers"
        );
    }
}

#[test]
fn scoped_map_over_a_borrowed_slice_with_a_borrowing_closure() {
    let pool = pool(4);
    let table: Vec<u32> = (0..100).map(|i| i * i).collect();
    let keys: Vec<usize> = (0..1000).map(|i| i % 100).collect();
    let looked_up: Vec<u32> = pool.scope(|s| {
        s.map_with(&keys, |&k| table[k], MapOptions::new().chunk_size(7))
            .map(Result::unwrap)
            .collect()
    });
    assert_eq!(looked_up.len(), 1000);
    assert!(looked_up
        .iter()
        .zip(&keys)
        .all(|(&v, &k)| v == (k * k) as u32));
}

#[test]
fn scope_after_shutdown_returns_with_rejections() {
    let pool = pool(2);
    pool.shutdown(true);
    let local = String::from("borrowed");
    let out = pool.scope(|s| s.submit(|| local.len()).result());
    assert!(out.is_err());
}

#[test]
fn cancelled_scoped_tasks_never_run_and_scope_still_returns() {
    let pool = Arc::new(pool(1));
    let ran = AtomicUsize::new(0);
    let (tx, rx) = std::sync::mpsc::channel::<()>();
    pool.scope(|s| {
        let blocker = s.submit(move || rx.recv().unwrap());
        let queued: Vec<_> = (0..10)
            .map(|_| s.submit(|| ran.fetch_add(1, Ordering::SeqCst)))
            .collect();
        assert!(queued.iter().all(|h| h.cancel()));
        tx.send(()).unwrap();
        blocker.result().unwrap();
    });
    assert_eq!(ran.load(Ordering::SeqCst), 0);
}

/// A scoped handle answers `running`, `cancelled`, `wait_timeout` and
/// `result_timeout` as a `TaskHandle` does: a queued task is neither
/// running nor done, a cancelled one reports it, a timed wait on an
/// unfinished task hands the handle back, and the value still arrives.
#[test]
fn scoped_handle_states_and_timed_waits() {
    let pool = pool(1);
    let gate = support::Gate::new();
    let (started_tx, started_rx) = std::sync::mpsc::channel();
    pool.scope(|s| {
        let g = gate.clone();
        let blocker = s.submit(move || {
            started_tx.send(()).unwrap();
            g.wait();
            7
        });
        started_rx.recv().unwrap();
        assert!(blocker.running() && !blocker.done() && !blocker.cancelled());
        // Behind the blocker on the only worker: queued, so not running.
        let queued = s.submit(|| 1);
        let cancelled = s.submit(|| 2);
        assert!(!queued.running() && !queued.done());
        assert!(cancelled.cancel() && cancelled.cancelled() && cancelled.done());
        assert!(!queued.wait_timeout(Duration::from_millis(1)));
        let blocker = blocker
            .result_timeout(Duration::from_millis(1))
            .unwrap_err();
        gate.open();
        assert!(blocker.wait_timeout(support::HANG));
        assert!(!blocker.running() && blocker.done() && !blocker.cancelled());
        assert_eq!(
            blocker.result_timeout(support::HANG).ok().unwrap().unwrap(),
            7
        );
        assert_eq!(
            queued.result_timeout(support::HANG).ok().unwrap().unwrap(),
            1
        );
        assert!(cancelled.result().unwrap_err().is_cancelled());
    });
}

/// A scoped group's tasks borrow a heap buffer; the first failure cancels
/// the rest (queued closures, holding borrows, are dropped unrun) and the
/// buffer is freed as soon as `scope` returns. A task writing after that
/// would be a use-after-free for Miri.
#[test]
fn a_scoped_groups_cancelled_tasks_never_touch_the_freed_borrow() {
    use executor::{GroupError, GroupPolicy};

    let pool = pool(2);
    for round in 0..if cfg!(miri) { 2 } else { 20 } {
        let mut heap = vec![0_u64; TASKS];
        let joined = pool.scope(|s| {
            let mut group = s.group::<(), usize>(GroupPolicy::FirstError).limit(2);
            group.submit(|| Err(usize::MAX)); // fails at once
            for (i, slot) in heap.iter_mut().enumerate() {
                group.submit_with_token(move |token| {
                    if token.wait_timeout(Duration::from_millis(1)) {
                        return Err(i);
                    }
                    *slot = round + 1;
                    Ok(())
                });
            }
            group.join()
        });
        assert!(
            matches!(joined, Err(GroupError::Failed(usize::MAX))),
            "round {round}: {joined:?}"
        );
        assert!(heap.iter().all(|&x| x == 0 || x == round + 1));
        drop(heap);
    }
}
