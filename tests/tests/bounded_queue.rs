//! The places of a bounded queue (`queue_capacity`): a task submitted from
//! outside holds one from its submission until it leaves the queue for good,
//! whichever way it leaves: a worker starts it, a waiting worker claims and
//! runs it in place, a handle cancels it, or shutdown resolves it. A place
//! is freed exactly once, at that moment, not when a worker later pops the
//! stale queue entry.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::thread;
use std::time::Duration;

use executor::{SubmitError, TaskError, TaskHandle, ThreadPoolExecutor};
use proptest::prelude::*;

mod support;
use support::{within, Gate, HANG};

/// The value of a handle, failing the test (instead of hanging) if it never
/// resolves.
fn value<T>(handle: TaskHandle<T>) -> Result<T, TaskError> {
    match handle.result_timeout(HANG) {
        Ok(result) => result,
        Err(_) => panic!("a handle did not resolve within {HANG:?}"),
    }
}

/// A one-worker pool with `capacity` places, its worker held by a task
/// blocked on the returned gate (already started, so it holds no place).
///
/// "Started" is what the task itself says: a task frees its place right
/// after its state turns to running, so `running()` alone may be seen a
/// moment before the place is free; the task's own code runs after.
fn blocked_bounded_pool(capacity: usize) -> (ThreadPoolExecutor, Gate, TaskHandle<usize>) {
    let pool = ThreadPoolExecutor::builder()
        .max_workers(1)
        .queue_capacity(capacity)
        .build()
        .unwrap();
    let gate = Gate::new();
    let g = gate.clone();
    let (started_tx, started) = mpsc::channel();
    let blocker = pool.submit(move || {
        started_tx.send(()).unwrap();
        g.wait();
        0
    });
    started.recv_timeout(HANG).expect("the blocker started");
    (pool, gate, blocker)
}

/// `try_submit` is refused with `Full`.
fn assert_full<T: Send + 'static>(pool: &ThreadPoolExecutor, probe: T) {
    match pool.try_submit(move || probe) {
        Err(SubmitError::Full(_)) => {}
        Err(other) => panic!("expected Full, got {other:?}"),
        Ok(_) => panic!("a full queue accepted a task"),
    }
}

#[test]
fn cancelling_queued_tasks_frees_their_places_at_once() {
    let (pool, gate, blocker) = blocked_bounded_pool(2);
    let first = pool.try_submit(|| 1).expect("room for two");
    let second = pool.try_submit(|| 2).expect("room for two");
    assert_full(&pool, 3);

    assert!(first.cancel() && second.cancel());
    // The stale entries are still queued (nobody popped them), but they
    // hold no place: exactly two new tasks fit.
    let third = pool
        .try_submit(|| 3)
        .expect("a cancelled task's place is free");
    let fourth = pool
        .try_submit(|| 4)
        .expect("a cancelled task's place is free");
    assert_full(&pool, 5);
    // Cancelling again frees nothing more.
    assert!(first.cancel());
    assert_full(&pool, 6);

    gate.open();
    assert_eq!(value(blocker).unwrap(), 0);
    assert!(matches!(value(first), Err(TaskError::Cancelled)));
    assert!(matches!(value(second), Err(TaskError::Cancelled)));
    assert_eq!(value(third).unwrap(), 3);
    assert_eq!(value(fourth).unwrap(), 4);
    let stats = pool.stats();
    assert_eq!(stats.tasks_cancelled, 2, "{stats:?}");
    assert_eq!(stats.tasks_completed, 3, "{stats:?}");
}

#[test]
fn cancelling_a_queued_task_releases_a_blocked_submitter() {
    let (pool, gate, blocker) = blocked_bounded_pool(1);
    let pool = Arc::new(pool);
    let queued = pool.submit(|| 1);
    let entered = Arc::new(AtomicUsize::new(0));
    let submitter = {
        let (pool, entered) = (Arc::clone(&pool), entered.clone());
        thread::spawn(move || {
            entered.fetch_add(1, Ordering::SeqCst);
            pool.submit(|| 2) // blocks: the queue's one place is taken
        })
    };
    while entered.load(Ordering::SeqCst) == 0 {
        thread::yield_now();
    }
    thread::sleep(Duration::from_millis(20));
    assert!(queued.cancel());
    // The gate is still closed: only the cancel can have made room.
    let late = within(HANG, "a submitter blocked on a full queue", move || {
        submitter.join().unwrap()
    });
    assert!(!late.done());
    gate.open();
    assert_eq!(value(blocker).unwrap(), 0);
    assert!(matches!(value(queued), Err(TaskError::Cancelled)));
    assert_eq!(value(late).unwrap(), 2);
}

#[test]
fn a_claimed_task_frees_its_place_when_it_runs() {
    // The pool's one worker waits for a queued task: it claims the task and
    // runs it in place, leaving a stale entry in the queue. The place is
    // free as soon as the task started, while the stale entry is still there.
    let pool = Arc::new(
        ThreadPoolExecutor::builder()
            .max_workers(1)
            .queue_capacity(1)
            .build()
            .unwrap(),
    );
    let (handle_tx, handle_rx) = mpsc::channel::<TaskHandle<usize>>();
    let gate = Gate::new();
    let (started_tx, started) = mpsc::channel();
    let waiter = {
        let gate = gate.clone();
        pool.submit(move || {
            started_tx.send(()).unwrap();
            let claimed = handle_rx.recv().unwrap().result().unwrap();
            gate.wait();
            claimed
        })
    };
    started.recv_timeout(HANG).expect("the waiter started");
    let (ran_tx, ran_rx) = mpsc::channel();
    let claimed = pool
        .try_submit(move || {
            ran_tx.send(()).unwrap();
            7
        })
        .unwrap();
    assert_full(&pool, 0);
    handle_tx.send(claimed).unwrap();
    ran_rx
        .recv_timeout(HANG)
        .expect("the waiting worker ran it");
    let next = pool
        .try_submit(|| 8)
        .expect("the claimed task's place is free");
    assert_full(&pool, 0);
    gate.open();
    assert_eq!(value(waiter).unwrap(), 7);
    assert_eq!(value(next).unwrap(), 8);
}

/// Many threads submit and cancel at once while two workers run the tasks,
/// so cancels race workers starting the same tasks. Each task leaves the
/// queue once, so afterwards, with both workers held, exactly `CAPACITY`
/// tasks fit again: no place leaked, none freed twice.
#[test]
fn cancels_racing_workers_free_each_place_exactly_once() {
    const CAPACITY: usize = 4;
    const THREADS: usize = 4;
    let rounds = support::stress_size(300, 3_000);
    let pool = Arc::new(
        ThreadPoolExecutor::builder()
            .max_workers(2)
            .queue_capacity(CAPACITY)
            .build()
            .unwrap(),
    );
    let ran = Arc::new(AtomicUsize::new(0));
    let threads: Vec<_> = (0..THREADS)
        .map(|t| {
            let (pool, ran) = (Arc::clone(&pool), ran.clone());
            thread::spawn(move || {
                let mut seed = 0x9e37_79b9_u32.wrapping_mul(t as u32 + 1);
                let mut cancelled = 0;
                let mut kept = Vec::new();
                for i in 0..rounds {
                    seed ^= seed << 13;
                    seed ^= seed >> 17;
                    seed ^= seed << 5;
                    let ran = ran.clone();
                    let handle = pool
                        .submit_timeout(
                            move || {
                                ran.fetch_add(1, Ordering::SeqCst);
                                i
                            },
                            HANG,
                        )
                        .expect("the queue drains");
                    if seed % 2 == 0 && handle.cancel() {
                        cancelled += 1;
                        assert!(matches!(value(handle), Err(TaskError::Cancelled)));
                    } else {
                        kept.push((i, handle));
                    }
                }
                for (i, handle) in kept {
                    assert_eq!(value(handle).unwrap(), i);
                }
                cancelled
            })
        })
        .collect();
    let cancelled: usize = threads.into_iter().map(|t| t.join().unwrap()).sum();
    assert_eq!(ran.load(Ordering::SeqCst) + cancelled, THREADS * rounds);

    // Hold both workers, then count the places.
    let gate = Gate::new();
    let started = Arc::new(AtomicUsize::new(0));
    let holders: Vec<_> = (0..2)
        .map(|_| {
            let (gate, started) = (gate.clone(), started.clone());
            pool.submit(move || {
                started.fetch_add(1, Ordering::SeqCst);
                gate.wait();
            })
        })
        .collect();
    while started.load(Ordering::SeqCst) < 2 {
        thread::yield_now();
    }
    let fill: Vec<_> = (0..CAPACITY)
        .map(|i| {
            pool.try_submit(move || i)
                .unwrap_or_else(|e| panic!("place {i} of {CAPACITY} leaked: {e:?}"))
        })
        .collect();
    assert_full(&pool, CAPACITY);
    gate.open();
    for h in holders {
        value(h).unwrap();
    }
    for (i, h) in fill.into_iter().enumerate() {
        assert_eq!(value(h).unwrap(), i);
    }
}

// ---- property: random cancel / claim / submit / run sequences ----

#[derive(Clone, Copy, Debug)]
enum Op {
    /// `try_submit` a task: accepted exactly while fewer than `capacity`
    /// accepted tasks are still queued.
    Submit,
    /// Cancel the n-th queued task (modulo how many there are).
    Cancel(usize),
    /// Cancel the n-th cancelled task again: frees nothing.
    CancelAgain(usize),
    /// The worker claims the n-th queued task through its handle and runs
    /// it in place, leaving a stale entry in the queue.
    Claim(usize),
    /// Let the worker run everything queued, then hold it again.
    Run,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => Just(Op::Submit),
        2 => any::<usize>().prop_map(Op::Cancel),
        1 => any::<usize>().prop_map(Op::CancelAgain),
        2 => any::<usize>().prop_map(Op::Claim),
        1 => Just(Op::Run),
    ]
}

/// The pool's only worker runs this task: it claims the handles it is
/// sent (running each queued one in place) until it receives `None`.
struct Controller {
    commands: mpsc::Sender<Option<TaskHandle<usize>>>,
    values: mpsc::Receiver<usize>,
    handle: TaskHandle<()>,
}

impl Controller {
    fn start(pool: &ThreadPoolExecutor) -> Controller {
        let (commands, rx) = mpsc::channel::<Option<TaskHandle<usize>>>();
        let (tx, values) = mpsc::channel();
        let handle = pool
            .try_submit(move || {
                tx.send(usize::MAX).unwrap(); // started: its place is free
                while let Ok(Some(handle)) = rx.recv_timeout(HANG) {
                    tx.send(handle.result().unwrap()).unwrap();
                }
            })
            .expect("an idle queue has room");
        assert_eq!(
            values.recv_timeout(HANG),
            Ok(usize::MAX),
            "the controller started"
        );
        Controller {
            commands,
            values,
            handle,
        }
    }

    fn claim(&self, handle: TaskHandle<usize>) -> usize {
        self.commands.send(Some(handle)).unwrap();
        self.values.recv_timeout(HANG).expect("the claim ran")
    }

    fn stop(self) {
        self.commands.send(None).unwrap();
        value(self.handle).unwrap();
    }
}

fn run_ops(capacity: usize, ops: &[Op]) -> Result<(), TestCaseError> {
    let pool = ThreadPoolExecutor::builder()
        .max_workers(1)
        .queue_capacity(capacity)
        .build()
        .unwrap();
    let mut controller = Controller::start(&pool);
    let mut queued: Vec<(usize, TaskHandle<usize>)> = Vec::new();
    let mut cancelled: Vec<TaskHandle<usize>> = Vec::new();
    let mut next = 0;
    for (step, &op) in ops.iter().enumerate() {
        match op {
            Op::Submit => {
                let v = next;
                next += 1;
                match pool.try_submit(move || v) {
                    Ok(h) => {
                        prop_assert!(
                            queued.len() < capacity,
                            "step {step}: accepted with {} of {capacity} places taken",
                            queued.len()
                        );
                        queued.push((v, h));
                    }
                    Err(SubmitError::Full(_)) => prop_assert_eq!(
                        queued.len(),
                        capacity,
                        "step {}: Full with places free",
                        step
                    ),
                    Err(other) => panic!("unexpected refusal: {other:?}"),
                }
            }
            Op::Cancel(n) if !queued.is_empty() => {
                let (_, h) = queued.remove(n % queued.len());
                prop_assert!(
                    h.cancel(),
                    "step {step}: a queued task could not be cancelled"
                );
                cancelled.push(h);
            }
            Op::CancelAgain(n) if !cancelled.is_empty() => {
                let len = cancelled.len();
                prop_assert!(cancelled[n % len].cancel());
            }
            Op::Claim(n) if !queued.is_empty() => {
                let (v, h) = queued.remove(n % queued.len());
                prop_assert_eq!(controller.claim(h), v);
            }
            Op::Run => {
                controller.stop();
                for (v, h) in queued.drain(..) {
                    prop_assert_eq!(value(h).unwrap(), v);
                }
                controller = Controller::start(&pool);
            }
            _ => {}
        }
    }
    for h in cancelled {
        prop_assert!(matches!(value(h), Err(TaskError::Cancelled)));
    }
    controller.stop();
    for (v, h) in queued.drain(..) {
        prop_assert_eq!(value(h).unwrap(), v);
    }
    // Idle, worker held: exactly `capacity` more fit.
    let controller = Controller::start(&pool);
    let fill: Vec<_> = (0..capacity)
        .map(|i| pool.try_submit(move || i))
        .collect::<Result<_, _>>()
        .map_err(|e| TestCaseError::fail(format!("a place leaked: {e:?}")))?;
    prop_assert!(
        matches!(pool.try_submit(|| 0), Err(SubmitError::Full(_))),
        "more than {} places",
        capacity
    );
    controller.stop();
    for (i, h) in fill.into_iter().enumerate() {
        prop_assert_eq!(value(h).unwrap(), i);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: if cfg!(miri) { 2 } else { 64 },
        ..ProptestConfig::default()
    })]

    #[test]
    fn places_are_freed_exactly_once_whatever_the_sequence(
        capacity in 1_usize..=4,
        ops in prop::collection::vec(op(), 0..40),
    ) {
        run_ops(capacity, &ops)?;
    }
}
