//! Properties of `map`, `as_completed` and `wait`. Each
//! can fail: the comments say what a broken implementation would do.
//!
//! The default case count is modest so the file runs in seconds in debug;
//! raise it with `PROPTEST_CASES=1000`.

use std::panic::panic_any;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use executor::{as_completed, wait, MapOptions, ReturnWhen, TaskError};
use proptest::collection::vec;
use proptest::prelude::*;

mod support;
use support::{pool, Gate, HANG};

fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(24);
    ProptestConfig::with_cases(cases)
}

/// Busy-waits `micros` µs: tiny, uneven task durations without the
/// millisecond granularity of `sleep`.
fn spin(micros: u8) {
    let end = Instant::now() + Duration::from_micros(micros.into());
    while Instant::now() < end {
        std::hint::spin_loop();
    }
}

/// Runs `f`; if it has not returned after `HANG`, opens `gate` so that a
/// hang (e.g. `wait` not returning when it should) turns into an assertion
/// failure instead. Returns `f`'s value and whether the watchdog fired.
fn watchdog<R>(gate: &Arc<Gate>, f: impl FnOnce() -> R) -> (R, bool) {
    let (tx, rx) = std::sync::mpsc::channel::<()>();
    let gate = Arc::clone(gate);
    let dog = std::thread::spawn(move || {
        let fired = rx.recv_timeout(HANG).is_err();
        gate.open();
        fired
    });
    let value = f();
    let _ = tx.send(());
    (value, dog.join().unwrap())
}

/// The index a task returned or panicked with (`panic_any(index)`).
fn index_of(result: Result<usize, TaskError>) -> usize {
    match result {
        Ok(i) => i,
        Err(e) => *e.into_panic().into_payload().downcast::<usize>().unwrap(),
    }
}

#[derive(Clone, Debug)]
struct Item {
    value: u32,
    micros: u8,
    panics: bool,
}

fn item() -> impl Strategy<Value = Item> {
    (any::<u32>(), 0..30_u8, prop::bool::weighted(0.1)).prop_map(|(value, micros, panics)| Item {
        value,
        micros,
        panics,
    })
}

fn options(window: Option<usize>, chunk: Option<usize>) -> MapOptions {
    let mut options = MapOptions::new();
    if let Some(w) = window {
        options = options.window(w);
    }
    if let Some(c) = chunk {
        options = options.chunk_size(c);
    }
    options
}

/// `n` tasks in 1..=8 and a worker count that can run them all at once
/// (gated tasks block their worker).
fn tasks_and_enough_workers() -> impl Strategy<Value = (usize, usize)> {
    (1..=8_usize).prop_flat_map(|n| (Just(n), n..=8))
}

proptest! {
    #![proptest_config(config())]

    /// Results in input order, a panic exactly at its item's position and
    /// nowhere else. A map that yielded in finishing order, dropped or
    /// duplicated items, or let one panic spoil its chunk, fails here.
    #[test]
    fn map_yields_results_in_input_order(
        items in vec(item(), 0..150),
        workers in 1..=8_usize,
        window in proptest::option::of(1..48_usize),
        chunk in proptest::option::of(1..10_usize),
    ) {
        let pool = pool(workers);
        let results: Vec<Result<u32, TaskError>> = pool
            .map_with(
                items.clone(),
                |it: Item| {
                    spin(it.micros);
                    if it.panics {
                        panic_any(it.value);
                    }
                    it.value.wrapping_mul(3)
                },
                options(window, chunk),
            )
            .collect();
        prop_assert_eq!(results.len(), items.len());
        for (result, it) in results.into_iter().zip(&items) {
            match result {
                Ok(v) => {
                    prop_assert!(!it.panics);
                    prop_assert_eq!(v, it.value.wrapping_mul(3));
                }
                Err(e) => {
                    prop_assert!(it.panics, "{:?} failed: {}", it, e);
                    let payload = e.into_panic().into_payload();
                    prop_assert_eq!(*payload.downcast::<u32>().unwrap(), it.value);
                }
            }
        }
    }

    /// Items that have started and that the caller has not consumed never
    /// exceed the window, counted from inside the tasks, with a consumer
    /// that dawdles. A map that submitted eagerly, or refilled before the
    /// caller came back for the next item, exceeds it.
    #[test]
    fn map_never_has_more_in_flight_than_its_window(
        n in 0..300_usize,
        workers in 1..=8_usize,
        window in 1..40_usize,
        chunk in proptest::option::of(1..12_usize),
        item_micros in 0..5_u8,
        pauses in vec(0..20_u8, 1..50),
    ) {
        let pool = pool(workers);
        let in_flight = Arc::new(AtomicUsize::new(0));
        let max = Arc::new(AtomicUsize::new(0));
        let (f_in, f_max) = (Arc::clone(&in_flight), Arc::clone(&max));
        // A generated (not exact-size) input.
        let inputs = (0..n).filter(|i| i % 7 != 3);
        let expected: Vec<usize> = inputs.clone().collect();
        let map = pool.map_with(
            inputs,
            move |i| {
                let now = f_in.fetch_add(1, Ordering::SeqCst) + 1;
                f_max.fetch_max(now, Ordering::SeqCst);
                spin(item_micros);
                i
            },
            options(Some(window), chunk),
        );
        let mut got = Vec::new();
        for (k, result) in map.enumerate() {
            got.push(result.unwrap());
            in_flight.fetch_sub(1, Ordering::SeqCst);
            spin(pauses[k % pauses.len()]);
        }
        prop_assert_eq!(got, expected);
        let max = max.load(Ordering::SeqCst);
        prop_assert!(max <= window, "{} items in flight, window {}", max, window);
    }

    /// Every handle exactly once, in an order consistent with the order
    /// the tasks finished in.
    ///
    /// What can honestly be asserted: each task takes a global sequence
    /// number right before it returns, and its done callback runs on the
    /// same worker right after. A worker is inside that gap for at most one
    /// task at a time, so when X is yielded before Y although Y took the
    /// smaller number, Y was inside its gap when X took its number: at most
    /// `workers - 1` tasks can overtake one another that way. Hence, for
    /// every yielded handle, fewer than `workers` handles yielded after it
    /// have a smaller number, and with one worker the order is exact. A
    /// rescanning or batching implementation (or one that sorted by input
    /// order) breaks this bound. All callbacks are registered before any
    /// task may finish (the tasks wait on a gate opened afterwards), since
    /// handles already done are yielded first, in input order, by design.
    #[test]
    fn as_completed_yields_each_handle_once_in_finishing_order(
        tasks in vec((0..30_u8, prop::bool::weighted(0.15)), 0..80),
        workers in 1..=8_usize,
    ) {
        let pool = pool(workers);
        let gate = Arc::new(Gate::default());
        let sequence = Arc::new(AtomicUsize::new(0));
        let finished: Arc<Vec<AtomicUsize>> =
            Arc::new(tasks.iter().map(|_| AtomicUsize::new(usize::MAX)).collect());
        let handles: Vec<_> = tasks
            .iter()
            .enumerate()
            .map(|(i, &(micros, panics))| {
                let (gate, sequence, finished) =
                    (Arc::clone(&gate), Arc::clone(&sequence), Arc::clone(&finished));
                pool.submit(move || {
                    gate.wait();
                    spin(micros);
                    finished[i].store(sequence.fetch_add(1, Ordering::SeqCst), Ordering::SeqCst);
                    if panics {
                        panic_any(i);
                    }
                    i
                })
            })
            .collect();
        let completions = as_completed(handles);
        gate.open();
        let order: Vec<usize> = completions.map(|h| index_of(h.result())).collect();

        let mut sorted = order.clone();
        sorted.sort_unstable();
        prop_assert_eq!(sorted, (0..tasks.len()).collect::<Vec<_>>());
        let seq: Vec<usize> = order.iter().map(|&i| finished[i].load(Ordering::SeqCst)).collect();
        for (p, &s) in seq.iter().enumerate() {
            let overtaken_by = seq[p + 1..].iter().filter(|&&later| later < s).count();
            prop_assert!(
                overtaken_by < workers,
                "position {}: {} later-yielded tasks finished earlier ({} workers); seq {:?}",
                p, overtaken_by, workers, seq
            );
        }
    }

    /// FirstCompleted returns at least one done handle, and exactly the one
    /// that could finish when the others are blocked; nothing is lost.
    #[test]
    fn wait_first_completed_returns_a_done_handle(
        (n, workers) in tasks_and_enough_workers(),
        free in any::<prop::sample::Index>(),
        micros in 0..30_u8,
    ) {
        let free = free.index(n);
        let pool = pool(workers);
        let gate = Arc::new(Gate::default());
        let handles: Vec<_> = (0..n)
            .map(|i| {
                let gate = Arc::clone(&gate);
                pool.submit(move || {
                    if i != free {
                        gate.wait();
                    }
                    spin(micros);
                    i
                })
            })
            .collect();
        let (result, fired) = watchdog(&gate, || wait(handles, ReturnWhen::FirstCompleted, None));
        prop_assert!(!fired, "wait(FirstCompleted) did not return when one task finished");
        prop_assert!(result.done.iter().all(|h| h.done()));
        prop_assert_eq!(result.done.len() + result.not_done.len(), n);
        let done: Vec<usize> = result.done.into_iter().map(|h| index_of(h.result())).collect();
        prop_assert_eq!(done, vec![free]);
        let mut rest: Vec<usize> = result.not_done.into_iter().map(|h| index_of(h.result())).collect();
        rest.push(free);
        rest.sort_unstable();
        prop_assert_eq!(rest, (0..n).collect::<Vec<_>>());
    }

    /// FirstCompleted with free-running tasks: at least one done, every
    /// handle returned once. AllCompleted: all of them done.
    #[test]
    fn wait_first_and_all_completed_on_free_tasks(
        tasks in vec((0..30_u8, prop::bool::weighted(0.2)), 1..40),
        workers in 1..=8_usize,
    ) {
        let pool = pool(workers);
        let submit = || -> Vec<_> {
            tasks
                .iter()
                .enumerate()
                .map(|(i, &(micros, panics))| {
                    pool.submit(move || {
                        spin(micros);
                        if panics {
                            panic_any(i);
                        }
                        i
                    })
                })
                .collect()
        };
        let first = wait(submit(), ReturnWhen::FirstCompleted, None);
        prop_assert!(!first.done.is_empty());
        prop_assert!(first.done.iter().all(|h| h.done()));
        let mut all: Vec<usize> = first
            .done
            .into_iter()
            .chain(first.not_done)
            .map(|h| index_of(h.result()))
            .collect();
        all.sort_unstable();
        prop_assert_eq!(all, (0..tasks.len()).collect::<Vec<_>>());

        let every = wait(submit(), ReturnWhen::AllCompleted, None);
        prop_assert!(every.not_done.is_empty());
        prop_assert_eq!(every.done.len(), tasks.len());
        prop_assert!(every.done.iter().all(|h| h.done()));
    }

    /// FirstException returns once a task has panicked, while the others
    /// are still blocked (none of them is in `done`); with no panic it
    /// waits for all.
    #[test]
    fn wait_first_exception_returns_once_one_has_panicked(
        (n, workers) in tasks_and_enough_workers(),
        panicking in vec(any::<bool>(), 8),
    ) {
        let pool = pool(workers);
        let gate = Arc::new(Gate::default());
        let any_panics = panicking[..n].iter().any(|&p| p);
        let handles: Vec<_> = (0..n)
            .map(|i| {
                let (gate, panics) = (Arc::clone(&gate), panicking[i]);
                pool.submit(move || {
                    if panics {
                        panic_any(i);
                    }
                    gate.wait();
                    i
                })
            })
            .collect();
        if any_panics {
            let (result, fired) =
                watchdog(&gate, || wait(handles, ReturnWhen::FirstException, None));
            prop_assert!(!fired, "wait(FirstException) missed the panic");
            prop_assert!(!result.done.is_empty());
            let done: Vec<usize> = result.done.into_iter().map(|h| index_of(h.result())).collect();
            prop_assert!(done.iter().all(|&i| panicking[i]), "done: {:?}", done);
            for h in result.not_done {
                index_of(h.result());
            }
        } else {
            gate.open();
            let result = wait(handles, ReturnWhen::FirstException, None);
            prop_assert!(result.not_done.is_empty());
            prop_assert_eq!(result.done.len(), n);
        }
    }
}
