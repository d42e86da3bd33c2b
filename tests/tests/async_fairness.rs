//! Fairness between async tasks that wake themselves and queued work: a
//! task woken during its own poll goes to the back of the shared queue, so
//! the closures queued before it run before its next poll.

mod support;

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

use support::{within, HANG};

/// Polls after the queued work is in place, far above what a fair pool
/// needs (a few): without fairness the future would spin forever, so it
/// gives up there and the test fails on the counts instead of hanging.
const GIVE_UP: usize = 10_000;

/// Wakes itself and returns `Pending` until `done()` holds, or until its
/// poll count reaches `give_up_at`, counting its polls; resolves to the
/// number of polls.
struct SelfWaking<D> {
    polls: Arc<AtomicUsize>,
    done: D,
    /// `usize::MAX` until the test arms it, once the work it must let
    /// through is queued: how long the task spun before the test thread
    /// got the CPU says nothing about the pool.
    give_up_at: Arc<AtomicUsize>,
}

fn never() -> Arc<AtomicUsize> {
    Arc::new(AtomicUsize::new(usize::MAX))
}

/// Makes the task counting `polls` give up `GIVE_UP` polls from now;
/// returns the count it gives up at.
fn arm(polls: &AtomicUsize, give_up_at: &AtomicUsize) -> usize {
    let at = polls.load(Ordering::SeqCst) + GIVE_UP;
    give_up_at.store(at, Ordering::SeqCst);
    at
}

impl<D: Fn() -> bool + Unpin> Future for SelfWaking<D> {
    type Output = usize;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<usize> {
        let polls = self.polls.fetch_add(1, Ordering::SeqCst) + 1;
        if (self.done)() || polls >= self.give_up_at.load(Ordering::SeqCst) {
            return Poll::Ready(polls);
        }
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

/// On one worker: a self-waking task is polled once, then every closure
/// queued behind it runs before its second poll (FIFO), instead of the task
/// being popped again from the worker's own LIFO deque forever.
#[test]
fn self_waking_task_lets_queued_closures_run_between_its_polls() {
    const CLOSURES: usize = 8;
    let (polls_seen, task_polls) = within(HANG, "self-waking task and closures", || {
        let (pool, gate, blocker) = support::blocked_pool();
        let polls = Arc::new(AtomicUsize::new(0));
        let ran = Arc::new(AtomicUsize::new(0));
        let r = ran.clone();
        // Queued behind the blocker, ahead of the closures.
        let task = pool.spawn(SelfWaking {
            polls: polls.clone(),
            done: move || r.load(Ordering::SeqCst) == CLOSURES,
            give_up_at: Arc::new(AtomicUsize::new(GIVE_UP)),
        });
        let closures: Vec<_> = (0..CLOSURES)
            .map(|_| {
                let (polls, ran) = (polls.clone(), ran.clone());
                pool.submit(move || {
                    let seen = polls.load(Ordering::SeqCst);
                    ran.fetch_add(1, Ordering::SeqCst);
                    seen
                })
            })
            .collect();
        gate.open();
        blocker.result().unwrap();
        let seen: Vec<usize> = closures.into_iter().map(|h| h.result().unwrap()).collect();
        (seen, task.result().unwrap())
    });
    assert_eq!(
        polls_seen,
        vec![1; CLOSURES],
        "each closure ran after the task's first poll and before its second"
    );
    assert_eq!(
        task_polls, 2,
        "polled once, then once more after the closures"
    );
}

/// A task that loops until a closure submitted later sets its flag: the
/// closure gets the only worker while the task is still looping, and the
/// task stops on the very next poll.
#[test]
fn closure_submitted_while_a_task_spins_on_wakes_runs() {
    let (gives_up_at, seen, task_polls) = within(HANG, "closure behind a spinning task", || {
        let pool = support::pool(1);
        let polls = Arc::new(AtomicUsize::new(0));
        let give_up_at = never();
        let flag = Arc::new(AtomicBool::new(false));
        let f = flag.clone();
        let task = pool.spawn(SelfWaking {
            polls: polls.clone(),
            done: move || f.load(Ordering::SeqCst),
            give_up_at: give_up_at.clone(),
        });
        // It is looping on the worker now.
        while polls.load(Ordering::SeqCst) == 0 {
            std::thread::yield_now();
        }
        let p = polls.clone();
        let closure = pool.submit(move || {
            let seen = p.load(Ordering::SeqCst);
            flag.store(true, Ordering::SeqCst);
            seen
        });
        let gives_up_at = arm(&polls, &give_up_at);
        let seen = closure.result().unwrap();
        (gives_up_at, seen, task.result().unwrap())
    });
    assert!(
        seen < gives_up_at,
        "the closure ran while the task was still looping (it saw {seen} polls, the task gave up at {gives_up_at})"
    );
    assert_eq!(
        task_polls,
        seen + 1,
        "one worker: the task's next poll after the closure saw the flag"
    );
}

/// Two workers, each busy with a self-waking task: a closure from outside
/// still runs, and both tasks then stop.
#[test]
fn self_waking_tasks_on_every_worker_do_not_starve_a_closure() {
    let (gives_up_at, seen, tasks_polls) = within(HANG, "two spinning tasks and a closure", || {
        let pool = support::pool(2);
        let flag = Arc::new(AtomicBool::new(false));
        let counters: Vec<_> = (0..2).map(|_| Arc::new(AtomicUsize::new(0))).collect();
        let limits: Vec<_> = (0..2).map(|_| never()).collect();
        let tasks: Vec<_> = counters
            .iter()
            .zip(&limits)
            .map(|(polls, give_up_at)| {
                let f = flag.clone();
                pool.spawn(SelfWaking {
                    polls: polls.clone(),
                    done: move || f.load(Ordering::SeqCst),
                    give_up_at: give_up_at.clone(),
                })
            })
            .collect();
        while counters.iter().any(|c| c.load(Ordering::SeqCst) == 0) {
            std::thread::yield_now();
        }
        let c = counters.clone();
        let closure = pool.submit(move || {
            let seen: Vec<usize> = c.iter().map(|p| p.load(Ordering::SeqCst)).collect();
            flag.store(true, Ordering::SeqCst);
            seen
        });
        let gives_up_at: Vec<usize> = counters
            .iter()
            .zip(&limits)
            .map(|(polls, give_up_at)| arm(polls, give_up_at))
            .collect();
        let seen = closure.result().unwrap();
        let polls: Vec<usize> = tasks.into_iter().map(|t| t.result().unwrap()).collect();
        (gives_up_at, seen, polls)
    });
    for i in 0..2 {
        assert!(
            seen[i] < gives_up_at[i],
            "the closure ran while the tasks looped: it saw {seen:?} polls, they gave up at {gives_up_at:?}"
        );
        assert!(
            tasks_polls[i] >= seen[i] && tasks_polls[i] < gives_up_at[i],
            "each task stopped on the closure's flag: {tasks_polls:?} polls, {seen:?} when it ran, giving up at {gives_up_at:?}"
        );
    }
}

/// Ordinary async work is unaffected: tasks that wake themselves a few
/// times each, many of them, all finish with their values.
#[test]
fn many_yielding_tasks_all_finish() {
    let pool = support::pool(2);
    let handles: Vec<_> = (0..200usize)
        .map(|i| {
            let polls = Arc::new(AtomicUsize::new(0));
            let p = polls.clone();
            pool.spawn(async move {
                let n = SelfWaking {
                    polls,
                    done: move || p.load(Ordering::SeqCst) > i % 5,
                    give_up_at: never(),
                }
                .await;
                (i, n)
            })
        })
        .collect();
    let results = within(HANG, "yielding tasks", move || {
        handles
            .into_iter()
            .map(|h| h.result().unwrap())
            .collect::<Vec<_>>()
    });
    for (i, (j, polls)) in results.into_iter().enumerate() {
        assert_eq!(i, j);
        assert_eq!(
            polls,
            i % 5 + 1,
            "task {i}: polled until its count passed {}",
            i % 5
        );
    }
}

/// Two workers: one is held by a task that queued a closure on its own
/// deque and then blocks; the other polls a self-waking task, which goes
/// back to the shared queue after every poll. That worker must still steal
/// the closure from the busy worker's deque now and then, instead of
/// finding the self-waking task first in the shared queue every time.
#[test]
fn a_self_waking_task_does_not_keep_its_worker_from_stealing() {
    let outcome = within(HANG, "a closure on a busy worker's deque", || {
        let pool = Arc::new(support::pool(2));
        let gate = support::Gate::new();
        let ran = Arc::new(AtomicBool::new(false));
        let (started_tx, started_rx) = std::sync::mpsc::channel::<()>();
        let (queued_tx, queued_rx) = std::sync::mpsc::channel::<()>();
        let (p, g, r) = (pool.clone(), gate.clone(), ran.clone());
        // Holds one worker: waits until the self-waking task runs on the
        // other, queues the closure on its own deque, then blocks.
        let holder = pool.submit(move || {
            started_rx.recv().unwrap();
            let closure = p.submit(move || r.store(true, Ordering::SeqCst));
            queued_tx.send(()).unwrap();
            g.wait();
            closure
        });
        let (polls, give_up_at) = (Arc::new(AtomicUsize::new(0)), never());
        let done = ran.clone();
        let first_poll = std::sync::Mutex::new(Some(started_tx));
        let spinner = pool.spawn(SelfWaking {
            polls: polls.clone(),
            done: move || {
                if let Some(tx) = first_poll.lock().unwrap().take() {
                    tx.send(()).unwrap();
                }
                done.load(Ordering::SeqCst)
            },
            give_up_at: give_up_at.clone(),
        });
        queued_rx.recv().unwrap();
        let limit = arm(&polls, &give_up_at);
        let spun = spinner.result().unwrap();
        gate.open();
        let closure = holder.result().unwrap();
        closure.result().unwrap();
        (spun, limit, ran.load(Ordering::SeqCst))
    });
    let (spun, limit, ran) = outcome;
    assert!(ran);
    assert!(
        spun < limit,
        "the closure ran only after the self-waking task gave up ({spun} polls)"
    );
}
