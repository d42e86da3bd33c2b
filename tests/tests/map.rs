//! Acceptance tests for `pool.map` / `map_with` / `Scope::map`: input order,
//! per-item panics, laziness and the window, early drop, nesting.

use std::cell::Cell;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Duration;

use executor::{MapOptions, TaskError};

mod support;
use support::{pool, Gate, HANG};

#[test]
fn results_come_in_input_order_whatever_the_finish_order() {
    let pool = pool(4);
    // Early items are the slowest: they finish last.
    let out: Vec<u64> = pool
        .map_with(
            0..40_u64,
            |i| {
                std::thread::sleep(Duration::from_micros((40 - i) * 50));
                i * 3
            },
            MapOptions::new().chunk_size(1),
        )
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(out, (0..40).map(|i| i * 3).collect::<Vec<_>>());
}

#[test]
fn a_panicking_item_is_an_error_in_place_and_the_rest_arrive() {
    let pool = pool(3);
    let results: Vec<Result<u32, TaskError>> = pool
        .map(0..1000_u32, |i| {
            if i % 97 == 13 {
                panic!("item {i} failed");
            }
            i
        })
        .collect();
    assert_eq!(results.len(), 1000);
    for (i, r) in results.into_iter().enumerate() {
        let i = i as u32;
        match r {
            Ok(v) => assert_eq!(v, i),
            Err(e) => {
                assert_eq!(i % 97, 13, "item {i} should not have failed");
                let expected = format!("item {i} failed");
                assert_eq!(e.into_panic().message(), Some(expected.as_str()));
            }
        }
    }
    // The pool survived.
    assert_eq!(pool.submit(|| 7).result().unwrap(), 7);
}

#[test]
fn the_input_is_pulled_lazily_within_the_window() {
    let pool = pool(2);
    let pulled = Rc::new(Cell::new(0_usize));
    let counter = Rc::clone(&pulled);
    // An endless input, counted on the caller's thread (it may borrow and
    // need not be Send: it never leaves this thread).
    let inputs = (0_u64..).inspect(move |_| counter.set(counter.get() + 1));
    let mut map = pool.map_with(inputs, |x| x + 1, MapOptions::new().window(16));
    assert!(
        pulled.get() <= 16,
        "pulled {} before any result",
        pulled.get()
    );
    let first: Vec<u64> = map.by_ref().take(100).map(Result::unwrap).collect();
    assert_eq!(first, (1..=100).collect::<Vec<_>>());
    assert!(
        pulled.get() <= 100 + 16,
        "pulled {} for 100 results",
        pulled.get()
    );
    drop(map);
}

#[test]
fn the_default_window_is_bounded_too() {
    let pool = pool(2);
    let pulled = Rc::new(Cell::new(0_usize));
    let counter = Rc::clone(&pulled);
    let inputs = (0_u64..).inspect(move |_| counter.set(counter.get() + 1));
    let taken: u64 = pool
        .map(inputs, |x| x)
        .take(10_000)
        .map(Result::unwrap)
        .sum();
    assert_eq!(taken, 9_999 * 10_000 / 2);
    // Four chunks per worker of at most 65,536 items each.
    assert!(pulled.get() <= 10_000 + 4 * 2 * 65_536);
}

#[test]
fn dropping_early_cancels_unstarted_chunks_and_does_not_wait_for_running_ones() {
    let pool = pool(2);
    let gate = Arc::new(Gate::default());
    let started = Arc::new(AtomicUsize::new(0));
    let (g, s) = (Arc::clone(&gate), Arc::clone(&started));
    let map = pool.map_with(
        0..1_000_u32,
        move |i| {
            s.fetch_add(1, Ordering::SeqCst);
            g.wait();
            i
        },
        MapOptions::new().chunk_size(1).window(50),
    );
    // Let both workers get stuck in an item.
    while started.load(Ordering::SeqCst) < 2 {
        std::thread::yield_now();
    }
    // If drop waited for the running items it would not return before the
    // gate opens; a watchdog opens it after `HANG` so that such a bug fails
    // below instead of hanging.
    let (tx, rx) = mpsc::channel::<()>();
    let watchdog = {
        let gate = Arc::clone(&gate);
        std::thread::spawn(move || {
            let fired = rx.recv_timeout(HANG).is_err();
            gate.open();
            fired
        })
    };
    drop(map);
    tx.send(()).unwrap();
    assert!(
        !watchdog.join().unwrap(),
        "dropping the map waited for running items"
    );
    pool.shutdown(true);
    // Only the two items that were running ever ran; the 48 queued ones
    // were cancelled, and the rest of the input was never taken.
    assert_eq!(started.load(Ordering::SeqCst), 2);
    assert_eq!(pool.stats().tasks_cancelled, 48);
}

#[test]
fn map_inside_a_task_of_a_one_worker_pool() {
    let pool = Arc::new(pool(1));
    let inner = Arc::clone(&pool);
    let out = pool
        .submit(move || {
            inner
                .map_with(0..200_u32, |x| x * 2, MapOptions::new().chunk_size(3))
                .map(Result::unwrap)
                .collect::<Vec<_>>()
        })
        .result()
        .unwrap();
    assert_eq!(out, (0..200).map(|x| x * 2).collect::<Vec<_>>());
}

#[test]
fn many_cheap_items() {
    let pool = pool(4);
    let n = 200_000_u64;
    let sum: u64 = pool
        .map(0..n, |x| x.wrapping_mul(x) % 7)
        .map(Result::unwrap)
        .sum();
    assert_eq!(sum, (0..n).map(|x| x * x % 7).sum::<u64>());
}

#[test]
fn size_hint_bounds_hold() {
    let pool = pool(2);
    let mut map = pool.map(0..500_u32, |x| x);
    let (low, high) = map.size_hint();
    assert!(low <= 500 && high == Some(500), "{low} {high:?}");
    map.next();
    let (low, high) = map.size_hint();
    assert!(low <= 499 && high == Some(499), "{low} {high:?}");
    assert_eq!(map.count(), 499);
    // An endless input has no upper bound, and collecting must not trust
    // the input's lower bound (usize::MAX here).
    let endless = pool.map(0_u64.., |x| x);
    assert_eq!(endless.size_hint().1, None);
    assert_eq!(
        endless.take(3).map(Result::unwrap).collect::<Vec<_>>(),
        [0, 1, 2]
    );
}

#[test]
fn scoped_map_borrows_inputs_and_closure() {
    let pool = pool(3);
    let words: Vec<String> = (0..100).map(|i| format!("w{i}")).collect();
    let prefix = String::from(">");
    let out: Vec<String> = pool.scope(|s| {
        s.map(&words, |w| format!("{prefix}{w}"))
            .map(Result::unwrap)
            .collect()
    });
    assert_eq!(out[0], ">w0");
    assert_eq!(out[99], ">w99");
    assert_eq!(out.len(), 100);
}

#[test]
fn a_scoped_map_dropped_early_is_still_joined_by_the_scope() {
    let pool = pool(2);
    let touched = AtomicUsize::new(0);
    pool.scope(|s| {
        let mut map = s.map_with(
            0..10_000_u32,
            |i| {
                touched.fetch_add(1, Ordering::SeqCst);
                i
            },
            MapOptions::new().chunk_size(1).window(8),
        );
        assert_eq!(map.next().unwrap().unwrap(), 0);
    });
    // Everything that ran did so before scope returned; no more than the
    // window was ever taken (the refill for item 0 happens at the next call).
    let ran = touched.load(Ordering::SeqCst);
    assert!((1..=8).contains(&ran), "{ran} items ran");
}

#[test]
fn shutdown_while_mapping_ends_the_map_with_rejections() {
    let pool = pool(2);
    let mut map = pool.map_with(0_u64.., |x| x, MapOptions::new().chunk_size(4).window(32));
    assert_eq!(map.next().unwrap().unwrap(), 0);
    pool.shutdown(false);
    let rest: Vec<_> = map.collect();
    // Whatever was submitted before the shutdown still ran; after it, the
    // map rejected what it had taken and stopped taking input.
    assert!(
        rest.len() < 1000,
        "took {} items after the shutdown",
        rest.len()
    );
    let first_err = rest.iter().position(Result::is_err);
    if let Some(at) = first_err {
        assert!(rest[at..]
            .iter()
            .all(|r| matches!(r, Err(TaskError::Rejected))));
    }
}
