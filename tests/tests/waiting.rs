//! What a pool worker does while a task it runs blocks on a handle
//! (`result`, `wait`, their timed forms, `executor::wait`, `as_completed`).
//!
//! A waiting worker may run the very task it waits for, inline, while that
//! task is still queued; it never runs any *other* queued task on its own
//! stack meanwhile. Running unrelated tasks there (work-while-waiting) goes
//! wrong in ways these tests pin down:
//!
//! - a task that holds a lock while it waits would run a queued task that
//!   takes the same lock, on the same thread: self-deadlock;
//! - thousands of queued tasks that each wait would nest one inside another
//!   until the worker's stack overflows and the process dies;
//! - a queued task that waits for the suspended task below it can never
//!   finish: the worker is stuck on top of what it waits for;
//! - unrelated tasks run nested, seeing the waiter's thread-local state.
//!
//! Blocked waiters must still make progress (an async task re-queued by its
//! waker, nested submit-and-wait on one worker), and the extreme timeout
//! `Duration::MAX` means "wait for good", never a panic or a hang.
//!
//! Every limit here only turns a hang into a failure; nothing asserts on
//! time.

mod support;

use std::cell::Cell;
use std::io::Read;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Barrier, Mutex, OnceLock};
use std::time::{Duration, Instant};

use executor::{as_completed, Outcome, ReturnWhen, TaskHandle, ThreadPoolExecutor};
use support::{within, Gate, HANG};

// ---------------------------------------------------------------------------
// Lock re-entry (rayon#592's shape)
// ---------------------------------------------------------------------------

/// Task P takes a mutex and, still holding it, waits for task `c`. Queued
/// ahead of `c` are many unrelated tasks that take the same mutex: every
/// other worker blocks on it, and more of them stay queued. P's worker must
/// run `c` (or wait for it), never one of those lock-takers: on P's thread
/// it would try to take the mutex P holds.
fn lock_held_across_a_wait(workers: usize) {
    let pool = support::pool(workers);
    let lock = Arc::new(Mutex::new(0_usize)); // lock-takers that ran
    let (held_tx, held_rx) = mpsc::channel();
    let (c_tx, c_rx) = mpsc::channel::<TaskHandle<u32>>();

    let l = Arc::clone(&lock);
    let p = pool.submit(move || {
        let guard = l.lock().unwrap();
        held_tx.send(()).unwrap();
        let c = c_rx.recv().unwrap();
        let from_c = c.result().unwrap();
        (from_c, *guard)
    });
    held_rx.recv().unwrap(); // P holds the lock

    // Enough lock-takers that each other worker blocks on the mutex and
    // many more stay queued ahead of `c`.
    let takers = workers * 64;
    let started = Arc::new(AtomicUsize::new(0));
    let takers: Vec<_> = (0..takers)
        .map(|_| {
            let l = Arc::clone(&lock);
            let started = Arc::clone(&started);
            pool.submit(move || {
                started.fetch_add(1, Ordering::SeqCst);
                *l.lock().unwrap() += 1;
            })
        })
        .collect();
    while started.load(Ordering::SeqCst) < workers - 1 {
        std::thread::sleep(Duration::from_millis(1));
    }

    let c = pool.submit(|| 7_u32);
    c_tx.send(c).unwrap();

    assert_eq!(
        p.result().unwrap(),
        (7, 0),
        "P got c's value, and no lock-taker ran while P held the lock"
    );
    let n = takers.len();
    for t in takers {
        t.result().unwrap();
    }
    assert_eq!(*lock.lock().unwrap(), n, "every lock-taker ran once");
}

#[test]
fn lock_held_across_a_wait_on_one_worker() {
    within(HANG, "lock held across a wait, 1 worker", || {
        lock_held_across_a_wait(1)
    });
}

#[test]
fn lock_held_across_a_wait_on_two_workers() {
    within(HANG, "lock held across a wait, 2 workers", || {
        lock_held_across_a_wait(2)
    });
}

#[test]
fn lock_held_across_a_wait_on_four_workers() {
    within(HANG, "lock held across a wait, 4 workers", || {
        lock_held_across_a_wait(4)
    });
}

// ---------------------------------------------------------------------------
// No stack overflow from nested waits
// ---------------------------------------------------------------------------

/// Set in the child process that runs the scenario itself.
const CHILD_ENV: &str = "EXECUTOR_WAITING_CHILD";
/// Queued tasks that each block on one slow task of another pool.
const NESTED_WAITERS: usize = 50_000;
/// Printed by the child once every waiter's result checked out.
const ALL_WAITS_FINISHED: &str = "all 50000 waits finished";

/// 50,000 queued tasks of a two-worker pool each wait on one task of
/// another pool, which is blocked on a gate. A waiting worker must not take
/// the next waiter onto its own stack, and that one the next: the stack
/// would overflow and kill the process. The scenario runs in a child
/// process so that such a crash fails this test instead of the whole run.
#[test]
fn queued_waiters_do_not_nest_until_the_stack_overflows() {
    let name = "queued_waiters_do_not_nest_until_the_stack_overflows";
    if std::env::var_os(CHILD_ENV).is_some() {
        within(HANG, "50,000 waiters on another pool's task", || {
            fifty_thousand_waiters()
        });
        return;
    }
    let (success, status, stdout) = run_self_in_child(name, HANG * 2);
    assert!(
        success,
        "the child process failed ({status}); a stack overflow ends it with SIGABRT/SIGSEGV. \
         stdout:\n{stdout}"
    );
    assert!(
        stdout.contains(ALL_WAITS_FINISHED),
        "the child never reported that every wait finished; stdout:\n{stdout}"
    );
}

fn fifty_thousand_waiters() {
    let pool_b = support::pool(1);
    let gate = Gate::new();
    let g = gate.clone();
    let slow = Arc::new(pool_b.submit(move || g.wait()));

    let pool_a = support::pool(2);
    let started = Arc::new(AtomicUsize::new(0));
    let waiters: Vec<_> = (0..NESTED_WAITERS)
        .map(|i| {
            let slow = Arc::clone(&slow);
            let started = Arc::clone(&started);
            pool_a.submit(move || {
                started.fetch_add(1, Ordering::SeqCst);
                slow.wait();
                assert!(slow.done());
                i
            })
        })
        .collect();

    // Let the waiters pile up before the gate opens: until all of them have
    // started, or no more start (the pool keeps the rest queued).
    loop {
        let before = started.load(Ordering::SeqCst);
        if before == NESTED_WAITERS {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
        if started.load(Ordering::SeqCst) == before {
            break;
        }
    }
    gate.open();

    let mut sum = 0;
    for (i, waiter) in waiters.into_iter().enumerate() {
        let value = waiter.result().unwrap();
        assert_eq!(value, i);
        sum += value;
    }
    assert_eq!(sum, NESTED_WAITERS * (NESTED_WAITERS - 1) / 2);
    assert_eq!(slow.outcome(), Some(Outcome::Completed));
    println!("{ALL_WAITS_FINISHED}");
}

/// Re-runs this test binary with only the test `name`, in child mode; kills
/// it and fails after `limit`. Returns (exited successfully, status, stdout).
fn run_self_in_child(name: &str, limit: Duration) -> (bool, String, String) {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([name, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, "1")
        .stdout(Stdio::piped())
        .spawn()
        .expect("start the child test process");
    let mut pipe = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut out = String::new();
        let _ = pipe.read_to_string(&mut out);
        out
    });
    let give_up = Instant::now() + limit;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() >= give_up {
            let _ = child.kill();
            let _ = child.wait();
            let stdout = reader.join().unwrap();
            panic!("the child process still ran after {limit:?} (deadlock?); stdout:\n{stdout}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let stdout = reader.join().unwrap();
    (status.success(), status.to_string(), stdout)
}

// ---------------------------------------------------------------------------
// A waiter never runs a task that waits for it
// ---------------------------------------------------------------------------

/// One worker. P waits for `c`; queued ahead of `c` is Q, which waits for P.
/// Run on top of P's suspended stack, Q could never finish: P is below it.
#[test]
fn a_waiting_worker_never_runs_a_task_that_waits_for_it() {
    within(HANG, "Q waits for P, queued while P waits", || {
        let pool = support::pool(1);
        let (running_tx, running_rx) = mpsc::channel();
        let (c_tx, c_rx) = mpsc::channel::<TaskHandle<u32>>();

        let p = pool.submit(move || {
            running_tx.send(()).unwrap();
            let c = c_rx.recv().unwrap();
            c.result().unwrap() + 1
        });
        let p_slot = Arc::new(OnceLock::new());
        assert!(p_slot.set(p).is_ok());
        running_rx.recv().unwrap(); // P runs on the only worker

        let slot = Arc::clone(&p_slot);
        let q = pool.submit(move || {
            let p: &TaskHandle<u32> = slot.get().expect("P's handle is set before Q exists");
            p.wait();
            p.outcome()
        });
        let c = pool.submit(|| 41_u32);
        c_tx.send(c).unwrap();

        assert_eq!(q.result().unwrap(), Some(Outcome::Completed));
        let p = Arc::try_unwrap(p_slot)
            .expect("Q's share of P's handle is gone with Q")
            .into_inner()
            .unwrap();
        assert_eq!(p.result().unwrap(), 42);
    });
}

// ---------------------------------------------------------------------------
// Unrelated tasks never nest on a waiter's stack
// ---------------------------------------------------------------------------

thread_local! {
    /// How many task bodies of this file are on the current thread's stack.
    static DEPTH: Cell<usize> = const { Cell::new(0) };
}

/// Runs `f` as one task body: returns the nesting depth seen at entry
/// (1 = nothing else of ours below it on this thread) with `f`'s value.
fn tracked<T>(f: impl FnOnce() -> T) -> (usize, T) {
    struct Leave;
    impl Drop for Leave {
        fn drop(&mut self) {
            DEPTH.with(|d| d.set(d.get() - 1));
        }
    }
    let depth = DEPTH.with(|d| {
        d.set(d.get() + 1);
        d.get()
    });
    let _leave = Leave;
    (depth, f())
}

/// Each worker runs a parent that submits a child and waits for it, while
/// many unrelated tasks are queued ahead of the child (the child is
/// submitted from a non-worker thread, so it queues behind them). Only the
/// awaited child may run nested on a parent's stack.
fn unrelated_tasks_run_at_depth_one(workers: usize) {
    let pool = Arc::new(support::pool(workers));
    let (started_tx, started_rx) = mpsc::channel();
    let go = Gate::new();

    let parents: Vec<_> = (0..workers)
        .map(|i| {
            let pool2 = Arc::clone(&pool);
            let started_tx = started_tx.clone();
            let go = go.clone();
            pool.submit(move || {
                tracked(move || {
                    started_tx.send(()).unwrap();
                    go.wait();
                    let child =
                        std::thread::spawn(move || pool2.submit(move || tracked(move || i * 10)))
                            .join()
                            .unwrap();
                    child.result().unwrap()
                })
            })
        })
        .collect();
    for _ in 0..workers {
        started_rx.recv().unwrap(); // every worker holds a parent
    }

    let unrelated: Vec<_> = (0..200_usize)
        .map(|j| pool.submit(move || tracked(move || j)))
        .collect();
    go.open();

    for (i, parent) in parents.into_iter().enumerate() {
        let (parent_depth, (child_depth, value)) = parent.result().unwrap();
        assert_eq!(parent_depth, 1, "parent {i} ran nested");
        assert!(
            (1..=2).contains(&child_depth),
            "child {i} ran at depth {child_depth}"
        );
        assert_eq!(value, i * 10);
    }
    let depths: Vec<(usize, usize)> = unrelated.into_iter().map(|h| h.result().unwrap()).collect();
    let nested: Vec<_> = depths
        .iter()
        .enumerate()
        .filter(|(_, (depth, _))| *depth != 1)
        .collect();
    assert!(
        nested.is_empty(),
        "{workers} worker(s): {} unrelated task(s) ran nested on a waiting worker's stack \
         (index, (depth, value)): {:?}",
        nested.len(),
        &nested[..nested.len().min(5)]
    );
    for (j, (_, value)) in depths.into_iter().enumerate() {
        assert_eq!(value, j);
    }
}

#[test]
fn unrelated_tasks_never_nest_on_a_waiter_stack() {
    for workers in [1, 2] {
        within(HANG, "unrelated tasks vs. waiting parents", move || {
            unrelated_tasks_run_at_depth_one(workers)
        });
    }
}

// ---------------------------------------------------------------------------
// Blocked waiters stay live
// ---------------------------------------------------------------------------

/// The only worker waits for an async task whose future is pending on a
/// channel; once the value is sent, the re-queued task must still be polled.
#[test]
fn a_lone_waiting_worker_still_gets_its_async_task_polled() {
    let value = within(HANG, "async task awaited by the only worker", || {
        let pool = Arc::new(support::pool(1));
        let (tx, rx) = futures::channel::oneshot::channel::<u32>();
        let p = Arc::clone(&pool);
        let outer = pool.submit(move || {
            let inner = p.spawn(async move { rx.await.unwrap() + 1 });
            inner.result().unwrap()
        });
        let sender = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(20));
            tx.send(41).unwrap();
        });
        let value = outer.result().unwrap();
        sender.join().unwrap();
        value
    });
    assert_eq!(value, 42);
}

fn leaves_below(pool: &Arc<ThreadPoolExecutor>, depth: u32) -> u64 {
    if depth == 0 {
        return 1;
    }
    let children: Vec<_> = (0..3)
        .map(|_| {
            let p = Arc::clone(pool);
            pool.submit(move || leaves_below(&p, depth - 1))
        })
        .collect();
    children.into_iter().map(|h| h.result().unwrap()).sum()
}

/// Submit-and-wait three levels deep on one worker: every leaf is counted.
#[test]
fn nested_submit_and_wait_on_one_worker_counts_every_leaf() {
    let leaves = within(HANG, "nested submit-and-wait on one worker", || {
        let pool = Arc::new(support::pool(1));
        let p = Arc::clone(&pool);
        pool.submit(move || leaves_below(&p, 3)).result().unwrap()
    });
    assert_eq!(leaves, 27);
}

// ---------------------------------------------------------------------------
// Duration::MAX means "for good"
// ---------------------------------------------------------------------------

/// Two tasks that only finish together: the pool must run both at once, so
/// its second worker starts (and later idles with its keep-alive).
fn both_workers_busy(pool: &ThreadPoolExecutor, base: u32) -> u32 {
    let barrier = Arc::new(Barrier::new(2));
    let pair: Vec<_> = (0..2)
        .map(|i| {
            let b = Arc::clone(&barrier);
            pool.submit(move || {
                b.wait();
                base + i
            })
        })
        .collect();
    let small: Vec<_> = (0..100).map(|i| pool.submit(move || i)).collect();
    let pair: u32 = pair.into_iter().map(|h| h.result().unwrap()).sum();
    let small: u32 = small.into_iter().map(|h| h.result().unwrap()).sum();
    pair + small
}

#[test]
fn keep_alive_of_duration_max_keeps_idle_workers_working() {
    for min_workers in [0, 1] {
        within(HANG, "keep_alive(Duration::MAX)", move || {
            let pool = ThreadPoolExecutor::builder()
                .max_workers(2)
                .min_workers(min_workers)
                .keep_alive(Duration::MAX)
                .build()
                .unwrap();
            for round in 0..3 {
                assert_eq!(
                    both_workers_busy(&pool, 10 * round),
                    20 * round + 1 + 4950,
                    "min_workers {min_workers}, round {round}"
                );
                // Not a measurement: only lets the workers reach their idle
                // (keep-alive) wait before the next round.
                std::thread::sleep(Duration::from_millis(50));
            }
            let stats = pool.stats();
            assert!(stats.workers_alive <= 2, "{stats:?}");
            assert_eq!(stats.threads_retired, 0, "{stats:?}");
            pool.shutdown(true);
            assert!(pool.is_shutdown());
        });
    }
}

#[test]
fn submit_timeout_of_duration_max_submits() {
    within(HANG, "submit_timeout(Duration::MAX)", || {
        // Unbounded queue, from outside and from a task.
        let pool = Arc::new(support::pool(2));
        let Ok(h) = pool.submit_timeout(|| 1_u32, Duration::MAX) else {
            panic!("submit_timeout(Duration::MAX) refused a task")
        };
        assert_eq!(h.result().unwrap(), 1);
        let p = Arc::clone(&pool);
        let from_task = pool.submit(move || {
            let Ok(h) = p.submit_timeout(|| 2_u32, Duration::MAX) else {
                panic!("submit_timeout(Duration::MAX) refused a task's task")
            };
            h.result().unwrap()
        });
        assert_eq!(from_task.result().unwrap(), 2);

        // A full bounded queue: the submitter waits for room, for good.
        let (bounded, gate, blocker) = support::blocked_bounded_pool(1);
        let queued = bounded.submit(|| 3_u32); // fills the queue
        let bounded = Arc::new(bounded);
        let b = Arc::clone(&bounded);
        let submitter = std::thread::spawn(move || {
            let Ok(h) = b.submit_timeout(|| 4_u32, Duration::MAX) else {
                panic!("submit_timeout(Duration::MAX) gave up on a full queue")
            };
            h.result().unwrap()
        });
        gate.open();
        blocker.result().unwrap();
        assert_eq!(queued.result().unwrap(), 3);
        assert_eq!(submitter.join().unwrap(), 4);
    });
}

/// Every timed wait with `Duration::MAX` on tasks that are still running.
fn waits_with_duration_max(pool: &ThreadPoolExecutor) -> u32 {
    let slow = |v: u32| {
        move || {
            std::thread::sleep(Duration::from_millis(5));
            v
        }
    };
    let Ok(a) = pool.submit(slow(1)).result_timeout(Duration::MAX) else {
        panic!("result_timeout(Duration::MAX) gave up")
    };
    let h = pool.submit(slow(2));
    assert!(h.wait_timeout(Duration::MAX), "wait_timeout(Duration::MAX)");
    let b = h.result().unwrap();

    let handles: Vec<_> = (0..4).map(|i| pool.submit(slow(10 + i))).collect();
    let all = executor::wait(handles, ReturnWhen::AllCompleted, Some(Duration::MAX));
    assert!(all.not_done.is_empty(), "wait(.., Some(Duration::MAX))");
    let c: u32 = all.done.into_iter().map(|h| h.result().unwrap()).sum();

    let handles: Vec<_> = (0..4).map(|i| pool.submit(slow(100 + i))).collect();
    let mut d = 0;
    for next in as_completed(handles).timeout(Duration::MAX) {
        match next {
            Ok(h) => d += h.result().unwrap(),
            Err(timed_out) => panic!("as_completed(..).timeout(Duration::MAX): {timed_out}"),
        }
    }
    a.unwrap() + b + c + d
}

#[test]
fn waits_with_duration_max_wait_for_good() {
    const EXPECTED: u32 = 1 + 2 + 46 + 406;
    within(HANG, "timed waits with Duration::MAX", || {
        let pool = Arc::new(support::pool(2));
        assert_eq!(waits_with_duration_max(&pool), EXPECTED, "from outside");
        let p = Arc::clone(&pool);
        let from_task = pool.submit(move || waits_with_duration_max(&p));
        assert_eq!(from_task.result().unwrap(), EXPECTED, "from a task");
    });
}
