//! A wait that returns leaves nothing registered on the handles it did not
//! consume: Python's polling idiom
//! `while not_done: done, not_done = wait(not_done, timeout, FIRST_COMPLETED)`
//! must run in bounded memory however often it polls, and so must
//! `as_completed` (timed or not) given up through `into_pending` or a drop,
//! and a handle's own timed `result_timeout` / `wait_timeout`.
//!
//! Memory is measured deterministically, not by RSS: a counting global
//! allocator keeps the bytes allocated and not yet freed, process-wide, and
//! the tests of this file run one at a time so that no other test's
//! allocations are counted. Each loop runs against tasks held back by a
//! gate, so nothing finishes (and nothing frees a callback by running it)
//! while it is measured.
//!
//! Nothing here asserts on time; `within(HANG, ..)` only turns a hang into
//! a failure.

mod support;

use std::alloc::{GlobalAlloc, Layout, System};
use std::collections::HashSet;
use std::sync::atomic::{AtomicIsize, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use executor::{as_completed, wait, ReturnWhen, TaskHandle};
use support::{blocked_pool, pool, within, Gate, HANG};

/// Bytes allocated and not freed yet, by any thread of this test binary.
static LIVE_BYTES: AtomicIsize = AtomicIsize::new(0);

struct Counting;

// SAFETY: every method forwards to `System` unchanged; the counter is a side
// effect that allocates nothing itself (a static atomic).
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded with the caller's own (valid) layout.
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            LIVE_BYTES.fetch_add(layout.size() as isize, Ordering::Relaxed);
        }
        ptr
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded with the caller's own (valid) layout.
        let ptr = unsafe { System.alloc_zeroed(layout) };
        if !ptr.is_null() {
            LIVE_BYTES.fetch_add(layout.size() as isize, Ordering::Relaxed);
        }
        ptr
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: `ptr` came from `System` with `layout` (every allocation
        // here goes through it), and the caller upholds `realloc`'s contract.
        let new = unsafe { System.realloc(ptr, layout, new_size) };
        if !new.is_null() {
            LIVE_BYTES.fetch_add(
                new_size as isize - layout.size() as isize,
                Ordering::Relaxed,
            );
        }
        new
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System` with this layout (above).
        unsafe { System.dealloc(ptr, layout) };
        LIVE_BYTES.fetch_sub(layout.size() as isize, Ordering::Relaxed);
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// The tests of this file measure process-wide, so they take turns.
fn one_at_a_time() -> MutexGuard<'static, ()> {
    static TURN: Mutex<()> = Mutex::new(());
    TURN.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Runs `f`; returns its value and how many more bytes are held after it
/// than before (what `f` returns included).
fn bytes_held_after<R>(f: impl FnOnce() -> R) -> (R, isize) {
    let before = LIVE_BYTES.load(Ordering::SeqCst);
    let value = f();
    (value, LIVE_BYTES.load(Ordering::SeqCst) - before)
}

/// Opens the gate when dropped, so that a failing test does not leave its
/// pool's worker blocked (and the pool's `Drop` waiting for it).
struct OpenOnDrop(Gate);

impl Drop for OpenOnDrop {
    fn drop(&mut self) {
        self.0.open();
    }
}

const HANDLES: usize = 1_000;
const ROUNDS: usize = 2_000;
const TINY: Duration = Duration::from_micros(1);
/// What a thousand pending handles may hold after thousands of polls: one
/// callback left per handle per poll would be tens of MiB, one inbox left
/// per poll hundreds of KiB.
const BOUND: isize = 64 << 10;

/// `HANDLES` tasks queued behind a blocked worker, returning their index.
fn gated_handles() -> (
    executor::ThreadPoolExecutor,
    OpenOnDrop,
    TaskHandle<()>,
    Vec<TaskHandle<usize>>,
) {
    let (pool, gate, blocker) = blocked_pool();
    let handles = (0..HANDLES).map(|i| pool.submit(move || i)).collect();
    (pool, OpenOnDrop(gate), blocker, handles)
}

/// Once the gate is open: a later `wait` and `as_completed` on the same
/// handles see every completion exactly once, each with its value.
fn all_resolve_exactly_once(handles: Vec<TaskHandle<usize>>, blocker: TaskHandle<()>) {
    within(
        HANG,
        "the handles resolve after the gate opens",
        move || {
            blocker.result().unwrap();
            let total = handles.len();
            let result = wait(handles, ReturnWhen::AllCompleted, None);
            assert_eq!((result.done.len(), result.not_done.len()), (total, 0));
            let mut ids = HashSet::new();
            let mut values: Vec<usize> = as_completed(result.done)
                .map(|handle| {
                    assert!(ids.insert(handle.id()), "a handle was yielded twice");
                    handle.result().unwrap()
                })
                .collect();
            values.sort_unstable();
            assert_eq!(values, (0..HANDLES).collect::<Vec<_>>());
        },
    );
}

#[test]
fn polling_wait_with_a_tiny_timeout_holds_bounded_memory() {
    let _turn = one_at_a_time();
    let (_pool, gate, blocker, handles) = gated_handles();
    let (not_done, held) = within(HANG, "polling wait", move || {
        bytes_held_after(|| {
            let mut not_done = handles;
            for _ in 0..ROUNDS {
                let result = wait(not_done, ReturnWhen::FirstCompleted, Some(TINY));
                assert!(result.done.is_empty(), "nothing can finish behind the gate");
                not_done = result.not_done;
            }
            not_done
        })
    });
    eprintln!("{ROUNDS} timed waits on {HANDLES} pending handles hold {held} bytes more");
    drop(gate);
    assert_eq!(not_done.len(), HANDLES);
    all_resolve_exactly_once(not_done, blocker);
    assert!(held < BOUND, "{ROUNDS} timed waits left {held} bytes held");
}

#[test]
fn polling_as_completed_with_a_tiny_timeout_holds_bounded_memory() {
    let _turn = one_at_a_time();
    let (_pool, gate, blocker, handles) = gated_handles();
    let (pending, held) = within(HANG, "polling as_completed", move || {
        bytes_held_after(|| {
            let mut pending = handles;
            for _ in 0..ROUNDS {
                let mut completions = as_completed(pending).timeout(TINY);
                pending = match completions.next() {
                    Some(Err(timed_out)) => timed_out.into_pending(),
                    other => panic!("expected a timeout, got {other:?}"),
                };
                assert!(completions.next().is_none(), "the timeout ends it");
            }
            pending
        })
    });
    eprintln!("{ROUNDS} timed as_completed on {HANDLES} pending handles hold {held} bytes more");
    drop(gate);
    assert_eq!(pending.len(), HANDLES);
    all_resolve_exactly_once(pending, blocker);
    assert!(
        held < BOUND,
        "{ROUNDS} timed as_completed left {held} bytes held"
    );
}

#[test]
fn as_completed_given_up_through_into_pending_holds_bounded_memory() {
    let _turn = one_at_a_time();
    let (_pool, gate, blocker, handles) = gated_handles();
    let (pending, held) = within(HANG, "as_completed then into_pending", move || {
        bytes_held_after(|| {
            let mut pending = handles;
            for round in 0..ROUNDS {
                let completions = as_completed(pending);
                pending = match round % 3 {
                    0 => completions.into_pending(),
                    1 => completions.timeout(HANG).into_pending(),
                    _ => completions.into_stream().into_pending(),
                };
            }
            pending
        })
    });
    eprintln!("{ROUNDS} as_completed given up on {HANDLES} pending handles hold {held} bytes more");
    drop(gate);
    assert_eq!(pending.len(), HANDLES);
    all_resolve_exactly_once(pending, blocker);
    assert!(held < BOUND, "{ROUNDS} into_pending left {held} bytes held");
}

#[test]
fn dropping_as_completed_early_leaves_nothing_registered() {
    const MANY: usize = 10_000;
    /// Well under one byte per handle: one callback left per handle is
    /// tens of bytes each.
    const SMALL: isize = 64 << 10;
    let _turn = one_at_a_time();
    let (pool, gate, blocker) = blocked_pool();
    let gate = OpenOnDrop(gate);
    let other = support::pool(1);
    let finished = other.submit(|| usize::MAX);
    finished.wait();
    let mut sets: Vec<Vec<TaskHandle<usize>>> = (0..3)
        .map(|_| (0..MANY).map(|i| pool.submit(move || i)).collect())
        .collect();
    sets[0].insert(0, finished);

    let (first, held_iter) = bytes_held_after(|| {
        let mut completions = as_completed(sets.remove(0));
        let first = completions.next().map(|h| h.result().unwrap());
        drop(completions);
        first
    });
    assert_eq!(first, Some(usize::MAX));
    let ((), held_timeout) = bytes_held_after(|| drop(as_completed(sets.remove(0)).timeout(HANG)));
    let ((), held_stream) = bytes_held_after(|| drop(as_completed(sets.remove(0)).into_stream()));
    eprintln!(
        "dropping as_completed over {MANY} pending handles holds {held_iter} / \
         {held_timeout} / {held_stream} bytes more (iterator / timeout / stream)"
    );
    drop(gate);
    within(HANG, "the dropped handles' tasks still run", move || {
        blocker.result().unwrap();
        pool.shutdown(true);
    });
    for held in [held_iter, held_timeout, held_stream] {
        assert!(held < SMALL, "dropping as_completed left {held} bytes held");
    }
}

#[test]
fn timed_result_on_a_pending_handle_holds_bounded_memory() {
    const TRIES: usize = 10_000;
    let _turn = one_at_a_time();
    let (pool, gate, blocker) = blocked_pool();
    let gate = OpenOnDrop(gate);
    let handle = pool.submit(|| 42_usize);
    let (handle, held) = within(HANG, "timed result", move || {
        bytes_held_after(|| {
            let mut handle = handle;
            for _ in 0..TRIES {
                handle = handle.result_timeout(TINY).expect_err("the gate is closed");
                assert!(!handle.wait_timeout(TINY), "the gate is closed");
            }
            handle
        })
    });
    eprintln!("{TRIES} result_timeout + wait_timeout on a pending handle hold {held} bytes more");
    drop(gate);
    within(HANG, "the handle resolves", move || {
        blocker.result().unwrap();
        assert_eq!(handle.result().unwrap(), 42);
    });
    // One thread entry left per call would be 8 bytes times 20,000 at
    // least; the bound leaves room for the test harness's own allocations.
    assert!(held < BOUND, "{TRIES} timed results left {held} bytes held");
}

#[test]
fn wait_that_returns_on_a_completion_removes_its_callbacks_from_the_rest() {
    const TASKS: usize = 1_000;
    const POLLS: usize = 500;
    let _turn = one_at_a_time();
    // The polling runs in a task on the only worker, so the tasks it waits
    // for stay queued until it claims them: each `wait` registers on every
    // pending handle, runs the first one inline, and returns on that
    // completion, with no timing involved.
    let pool = Arc::new(pool(1));
    let inner = Arc::clone(&pool);
    let driver = pool.submit(move || {
        let handles: Vec<_> = (0..TASKS).map(|i| inner.submit(move || i)).collect();
        bytes_held_after(|| {
            let mut not_done = handles;
            for expected in 0..POLLS {
                let result = wait(not_done, ReturnWhen::FirstCompleted, None);
                let done: Vec<usize> = result
                    .done
                    .into_iter()
                    .map(|h| h.result().unwrap())
                    .collect();
                assert_eq!(done, [expected], "the wait ran the first pending task");
                not_done = result.not_done;
            }
            not_done
        })
    });
    let (handles, held) = within(HANG, "waits that each run one task", move || {
        driver.result().unwrap()
    });
    eprintln!("{POLLS} waits that each saw one completion hold {held} bytes more");
    let values: Vec<usize> = within(HANG, "the rest finish", move || {
        let mut values: Vec<usize> = as_completed(handles).map(|h| h.result().unwrap()).collect();
        values.sort_unstable();
        values
    });
    assert_eq!(values, (POLLS..TASKS).collect::<Vec<_>>());
    assert!(
        held < BOUND,
        "{POLLS} satisfied waits left {held} bytes held"
    );
}

#[test]
fn user_done_callbacks_still_run_exactly_once_after_waits_gave_up() {
    const POLLS: usize = 50;
    let _turn = one_at_a_time();
    let (pool, gate, blocker, handles) = gated_handles();
    let calls: Arc<Vec<AtomicUsize>> =
        Arc::new((0..HANDLES).map(|_| AtomicUsize::new(0)).collect());
    for (i, handle) in handles.iter().enumerate() {
        let calls = Arc::clone(&calls);
        handle.add_done_callback(move |_| {
            calls[i].fetch_add(1, Ordering::SeqCst);
        });
    }
    let handles = within(HANG, "polls that give up", move || {
        let mut pending = handles;
        for _ in 0..POLLS {
            pending = wait(pending, ReturnWhen::FirstCompleted, Some(TINY)).not_done;
            pending = as_completed(pending).into_pending();
            pending = match as_completed(pending).timeout(TINY).next() {
                Some(Err(timed_out)) => timed_out.into_pending(),
                other => panic!("expected a timeout, got {other:?}"),
            };
        }
        pending
    });
    assert!(calls.iter().all(|c| c.load(Ordering::SeqCst) == 0));
    drop(gate);
    all_resolve_exactly_once(handles, blocker);
    // A callback runs after its task turned done: let the worker finish.
    pool.shutdown(true);
    let counts: Vec<usize> = calls.iter().map(|c| c.load(Ordering::SeqCst)).collect();
    assert!(
        counts.iter().all(|&c| c == 1),
        "every user callback runs exactly once: {counts:?}"
    );
}
