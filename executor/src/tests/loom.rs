//! Loom models of the two protocols that must never lose a wake-up: a
//! worker going to sleep racing a submitter, and a task finishing racing a
//! cancel and a waiter (or a done callback being taken off again). Run with
//! `RUSTFLAGS="--cfg loom" cargo test -p executor --lib --release loom_`.
//!
//! Loom reports a deadlock if any interleaving leaves a thread parked
//! forever, which is exactly what a lost wake-up looks like.

use loom::sync::atomic::{AtomicUsize, Ordering};
use loom::sync::Arc;
use loom::thread;

use crate::capacity::Capacity;
use crate::deadline::Deadline;
use crate::error::TaskError;
use crate::handle::TaskHandle;
use crate::scheduler::blocking::wait_loop;
use crate::scheduler::sleep::{Sleep, Wake};
use crate::stats::Ran;
use crate::stats::SlotStats;
use crate::task::state::Lifecycle;
use crate::task::{Core, FnTask, Job};

/// A stand-in for the run queues: a count of queued jobs.
struct Queue(AtomicUsize);

impl Queue {
    fn push(&self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }

    fn pop(&self) -> bool {
        self.0
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
    }

    fn has_work(&self) -> bool {
        self.0.load(Ordering::SeqCst) > 0
    }
}

/// The worker side of the run loop, reduced to the protocol: search once
/// (optionally as a counted searcher), then sleep with the re-check, until
/// `wanted` jobs were taken.
fn worker(sleep: &Sleep, queue: &Queue, index: usize, wanted: usize, search_first: bool) {
    let mut taken = 0;
    let mut searching = search_first && sleep.start_searching();
    while taken < wanted {
        if queue.pop() {
            taken += 1;
            if searching {
                searching = false;
                if sleep.stop_searching() && queue.has_work() {
                    sleep.notify_one();
                }
            }
            continue;
        }
        let wake = sleep.sleep(index, searching, || queue.has_work(), Deadline::Never);
        searching = wake == Wake::Notified;
    }
    if searching && sleep.stop_searching() && queue.has_work() {
        sleep.notify_one();
    }
}

#[test]
fn loom_submit_racing_a_worker_going_to_sleep() {
    loom::model(|| {
        let sleep = Arc::new(Sleep::new(1, 2));
        let queue = Arc::new(Queue(AtomicUsize::new(0)));
        let w = {
            let (sleep, queue) = (sleep.clone(), queue.clone());
            thread::spawn(move || worker(&sleep, &queue, 0, 1, false))
        };
        queue.push();
        sleep.notify_one();
        w.join().unwrap();
        assert!(!queue.has_work());
    });
}

#[test]
fn loom_two_submits_two_workers_one_searching() {
    loom::model(|| {
        let sleep = Arc::new(Sleep::new(2, 2));
        let queue = Arc::new(Queue(AtomicUsize::new(0)));
        let done = Arc::new(AtomicUsize::new(0));
        let workers: Vec<_> = (0..2)
            .map(|i| {
                let (sleep, queue, done) = (sleep.clone(), queue.clone(), done.clone());
                thread::spawn(move || {
                    worker(&sleep, &queue, i, 1, i == 0);
                    done.fetch_add(1, Ordering::SeqCst);
                })
            })
            .collect();
        for _ in 0..2 {
            queue.push();
            sleep.notify_one();
        }
        for w in workers {
            w.join().unwrap();
        }
        assert_eq!(done.load(Ordering::SeqCst), 2);
        assert!(!queue.has_work());
    });
}

#[test]
fn loom_notify_all_wakes_every_sleeper() {
    loom::model(|| {
        let sleep = Arc::new(Sleep::new(2, 2));
        let closed = Arc::new(AtomicUsize::new(0));
        let workers: Vec<_> = (0..2)
            .map(|i| {
                let (sleep, closed) = (sleep.clone(), closed.clone());
                thread::spawn(move || {
                    let mut searching = false;
                    while closed.load(Ordering::SeqCst) == 0 {
                        let wake = sleep.sleep(
                            i,
                            searching,
                            || closed.load(Ordering::SeqCst) == 1,
                            Deadline::Never,
                        );
                        searching = wake == Wake::Notified;
                    }
                    if searching {
                        sleep.stop_searching();
                    }
                })
            })
            .collect();
        closed.store(1, Ordering::SeqCst);
        sleep.notify_all();
        for w in workers {
            w.join().unwrap();
        }
    });
}

/// Finishing, cancelling and waiting on one task: exactly one of run and
/// cancel wins, the waiter always wakes, and it reads what the winner wrote.
#[test]
fn loom_complete_vs_cancel_vs_wait() {
    loom::model(|| {
        let core = Arc::new(Core::<u32>::new(None, Lifecycle::Scheduled, None));
        let runner = {
            let core = core.clone();
            thread::spawn(move || {
                if core.transition_to_running() {
                    core.finish(Ok(7));
                    true
                } else {
                    false
                }
            })
        };
        let canceller = {
            let core = core.clone();
            thread::spawn(move || {
                core.transition_to_aborted(
                    |s| s.lifecycle() == Lifecycle::Scheduled,
                    Lifecycle::Cancelled,
                    || {},
                )
            })
        };
        while core.register_thread() && !core.snapshot().is_terminal() {
            thread::park();
        }
        // SAFETY: this thread is the only reader, and it saw a terminal
        // state through `snapshot` (Acquire) just above.
        let output = unsafe { core.take_output() };
        let ran = runner.join().unwrap();
        let cancelled = canceller.join().unwrap();
        assert!(ran != cancelled, "exactly one of run and cancel wins");
        match output {
            Ok(v) => assert!(ran && v == 7),
            Err(TaskError::Cancelled) => assert!(cancelled),
            Err(e) => panic!("unexpected {e:?}"),
        }
    });
}

/// A done callback registered while the task finishes runs exactly once.
#[test]
fn loom_callback_vs_finish() {
    loom::model(|| {
        let core = Arc::new(Core::<u32>::new(None, Lifecycle::Scheduled, None));
        let calls = Arc::new(AtomicUsize::new(0));
        let runner = {
            let core = core.clone();
            thread::spawn(move || {
                assert!(core.transition_to_running());
                core.finish(Ok(1));
            })
        };
        let c = calls.clone();
        core.add_callback(Box::new(move |_| {
            c.fetch_add(1, Ordering::SeqCst);
        }));
        runner.join().unwrap();
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    });
}

/// A done callback taken off while the task finishes: removal and the
/// finisher's drain meet under the waiter lock, so the callback runs
/// exactly once (the finisher won) or never (the removal won, reported by
/// `remove_callback` returning true, and then not even later). A callback
/// nobody removes runs exactly once either way.
#[test]
fn loom_remove_callback_vs_finish() {
    loom::model(|| {
        let core = Arc::new(Core::<u32>::new(None, Lifecycle::Scheduled, None));
        let kept = Arc::new(AtomicUsize::new(0));
        let removable = Arc::new(AtomicUsize::new(0));
        let k = kept.clone();
        let key = core.add_callback(Box::new(move |_| {
            k.fetch_add(1, Ordering::SeqCst);
        }));
        assert!(key.is_some(), "the task is pending");
        let runner = {
            let core = core.clone();
            thread::spawn(move || {
                assert!(core.transition_to_running());
                core.finish(Ok(1));
            })
        };
        let r = removable.clone();
        let removed = match core.add_callback(Box::new(move |_| {
            r.fetch_add(1, Ordering::SeqCst);
        })) {
            Some(key) => core.remove_callback(key),
            // The task finished first: the callback ran right here.
            None => false,
        };
        if removed {
            assert_eq!(removable.load(Ordering::SeqCst), 0);
        }
        runner.join().unwrap();
        assert_eq!(removable.load(Ordering::SeqCst), usize::from(!removed));
        assert_eq!(kept.load(Ordering::SeqCst), 1);
    });
}

/// The pool id the claim models use: the waiter is "a worker of this pool".
const POOL: usize = 1;

/// A waiter on a worker of the task's pool, as `blocking::wait_until` runs
/// it: claim the task if it is still queued and run it here, else register
/// and park. Returns what the claim's run amounted to, if it ran.
fn claim_or_block(handle: &TaskHandle<u32>) -> Option<Ran> {
    let stats = SlotStats::default();
    let ran = std::cell::Cell::new(None);
    let ready = wait_loop(
        &handle.awaited(),
        Deadline::Never,
        std::time::Duration::from_micros(100),
        || match handle.claimable(POOL) {
            Some(job) => {
                ran.set(Some(job.run(&stats)));
                true
            }
            None => false,
        },
        || (),
    );
    assert!(ready, "a wait without a deadline returns only when ready");
    ran.get()
}

/// A task returning 7 that counts its runs in `runs`.
fn counting_task(
    runs: &Arc<AtomicUsize>,
) -> std::sync::Arc<FnTask<impl FnOnce() -> u32 + Send, u32>> {
    let runs = runs.clone();
    FnTask::new(
        move || {
            runs.fetch_add(1, Ordering::SeqCst);
            7
        },
        None,
        None,
    )
}

/// The claim-or-block decision: a worker pops the task's queue entry while
/// a waiter tries to claim it. The task runs exactly once, by one of them;
/// the waiter never parks for good (loom reports that as a deadlock) and
/// gets the value.
#[test]
fn loom_claim_vs_queue_pop_vs_block() {
    loom::model(|| {
        let runs = Arc::new(AtomicUsize::new(0));
        let task = counting_task(&runs);
        let handle = TaskHandle::new(task.clone(), POOL);
        let worker = thread::spawn(move || Job::Task(task).run(&SlotStats::default()));
        let claimed = claim_or_block(&handle);
        let popped = worker.join().unwrap();
        assert_eq!(runs.load(Ordering::SeqCst), 1, "the task ran exactly once");
        let claim_won = claimed == Some(Ran::Completed);
        assert!(
            claim_won != (popped == Ran::Completed),
            "one of the two ran it"
        );
        assert_eq!(handle.result().unwrap(), 7);
    });
}

/// A claim racing a cancel: the task either runs (by the claimer) or is
/// cancelled, never both, and the waiter always returns.
#[test]
fn loom_claim_vs_cancel() {
    loom::model(|| {
        let runs = Arc::new(AtomicUsize::new(0));
        let task = counting_task(&runs);
        let handle = Arc::new(TaskHandle::new(task, POOL));
        let canceller = {
            let handle = handle.clone();
            thread::spawn(move || handle.cancel())
        };
        claim_or_block(&handle);
        let cancelled = canceller.join().unwrap();
        let handle = Arc::try_unwrap(handle).ok().expect("the canceller is done");
        match handle.result() {
            Ok(7) => assert!(!cancelled && runs.load(Ordering::SeqCst) == 1),
            Err(TaskError::Cancelled) => assert!(cancelled && runs.load(Ordering::SeqCst) == 0),
            other => panic!("unexpected {other:?}"),
        }
    });
}

/// A task holding a queue place is cancelled, popped by a worker and
/// claimed by a waiter, all at once: whichever of them moves it out of
/// SCHEDULED frees the place, exactly once (a second free would trip the
/// debug assertion in `Capacity::release`, or leave `taken` wrong).
#[test]
fn loom_queue_place_is_freed_once_by_cancel_pop_or_claim() {
    loom::model(|| {
        let capacity = std::sync::Arc::new(Capacity::new(1));
        assert!(capacity.reserve(crate::capacity::OnFull::Refuse, || false));
        let runs = Arc::new(AtomicUsize::new(0));
        let r = runs.clone();
        let task = FnTask::new(
            move || {
                r.fetch_add(1, Ordering::SeqCst);
                7
            },
            None,
            Some(capacity.clone()),
        );
        let handle = Arc::new(TaskHandle::new(task.clone(), POOL));
        let worker = thread::spawn(move || Job::Task(task).run(&SlotStats::default()));
        let canceller = {
            let handle = handle.clone();
            thread::spawn(move || handle.cancel())
        };
        let claimed = handle
            .claimable(POOL)
            .map(|job| job.run(&SlotStats::default()));
        let popped = worker.join().unwrap();
        let cancelled = canceller.join().unwrap();
        assert_eq!(capacity.taken(), 0, "the place was freed, once");
        let ran =
            usize::from(popped == Ran::Completed) + usize::from(claimed == Some(Ran::Completed));
        assert_eq!(ran, runs.load(Ordering::SeqCst));
        assert_eq!(ran + usize::from(cancelled), 1, "run once or cancelled");
    });
}

/// `Registry::begin_blocking` against a submitter, reduced to the protocol:
/// the pool's only worker blocks in a wait while a job is pushed from
/// outside. Whatever the interleaving, one of the two decides to start (or
/// wake) a worker for the job: the blocker re-checks the queue after its
/// increment and fence, the submitter reads `blocked` after its push and
/// the fence in `notify_one`.
#[test]
fn loom_blocking_worker_vs_submit_starts_a_spare() {
    const MAX_WORKERS: usize = 1;
    const ALIVE: usize = 1;
    loom::model(|| {
        let sleep = Arc::new(Sleep::new(2, 2));
        let queue = Arc::new(Queue(AtomicUsize::new(0)));
        let blocked = Arc::new(AtomicUsize::new(0));
        let starts = Arc::new(AtomicUsize::new(0));
        // `Registry::notify`: wake a sleeper, or start a worker while fewer
        // than `max_workers` are unblocked.
        let notify = |sleep: &Sleep, blocked: &AtomicUsize, starts: &AtomicUsize| {
            if sleep.notify_one() && ALIVE - blocked.load(Ordering::SeqCst) < MAX_WORKERS {
                starts.fetch_add(1, Ordering::SeqCst);
            }
        };
        let blocker = {
            let (sleep, queue, blocked, starts) = (
                sleep.clone(),
                queue.clone(),
                blocked.clone(),
                starts.clone(),
            );
            thread::spawn(move || {
                blocked.fetch_add(1, Ordering::SeqCst);
                loom::sync::atomic::fence(Ordering::SeqCst);
                if queue.has_work() {
                    notify(&sleep, &blocked, &starts);
                }
            })
        };
        queue.push();
        notify(&sleep, &blocked, &starts);
        blocker.join().unwrap();
        assert!(
            starts.load(Ordering::SeqCst) >= 1,
            "the job was left with no unblocked worker"
        );
    });
}

/// A `join`'s published half, run by a thief, against its owner waiting
/// for it: the owner sees the result once it sees `done`, is never left
/// parked (the thief unparks it after `done`, with a `Thread` it read
/// before), and a half taken back by its owner never runs twice.
#[test]
fn loom_fork_done_vs_owner_wait() {
    use crate::join::fork::{Fork, ForkStack};
    loom::model(|| {
        let stack = ForkStack::for_current_thread();
        let fork = Fork::new(|| 7_u64);
        // SAFETY: `fork` stays in this frame until the model ends, and is
        // popped before then.
        unsafe { stack.push(fork.header()) };
        let published = stack.take_oldest_unpublished().expect("one frame");
        let (queue_tx, queue_rx) = loom::sync::mpsc::channel();
        queue_tx.send(published).unwrap();
        // The thief: takes the fork off the "queue" if the owner has not.
        let queue = Arc::new(loom::sync::Mutex::new(Some(queue_rx)));
        let thief_queue = Arc::clone(&queue);
        let thief = thread::spawn(move || {
            let job = thief_queue
                .lock()
                .unwrap()
                .take()
                .and_then(|rx| rx.try_recv().ok());
            if let Some(job) = job {
                job.execute(None);
            }
        });
        stack.pop(fork.header());
        // The owner: take it back, or wait for it.
        let mine = queue
            .lock()
            .unwrap()
            .take()
            .and_then(|rx| rx.try_recv().ok());
        let result = if mine.is_some() {
            // SAFETY: taken back before the thief got it: it runs here, once.
            unsafe { fork.run_inline() }
        } else {
            while !fork.header().is_done() {
                thread::park();
            }
            fork.take_result().ok().expect("the fork did not panic")
        };
        assert_eq!(result, 7);
        thief.join().unwrap();
    });
}

/// A delayed task is cancelled while the timer fires it and a worker runs
/// what was queued (`timer::fire`): the task runs exactly once or is
/// cancelled, never both, a successful cancel means it never runs, and
/// its cancellation is counted exactly once, by the timer or the worker.
#[test]
fn loom_timer_fire_vs_cancel() {
    loom::model(|| {
        let runs = Arc::new(AtomicUsize::new(0));
        let counted = Arc::new(AtomicUsize::new(0));
        let task = counting_task(&runs);
        // Not claimable (pool 0), as a delayed task's handle is.
        let handle = Arc::new(TaskHandle::new(task.clone(), 0));
        let canceller = {
            let handle = handle.clone();
            thread::spawn(move || handle.cancel())
        };
        let timer = {
            let counted = counted.clone();
            thread::spawn(move || {
                let count = || {
                    counted.fetch_add(1, Ordering::SeqCst);
                };
                let queued = crate::scheduler::timer::release_due(Job::Task(task), count);
                // The worker that pops the queued job.
                if let Some(job) = queued {
                    if job.run(&SlotStats::default()) == Ran::Cancelled {
                        counted.fetch_add(1, Ordering::SeqCst);
                    }
                }
            })
        };
        timer.join().unwrap();
        let cancelled = canceller.join().unwrap();
        assert_eq!(runs.load(Ordering::SeqCst), usize::from(!cancelled));
        assert_eq!(counted.load(Ordering::SeqCst), usize::from(cancelled));
        let handle = Arc::try_unwrap(handle).ok().expect("the canceller is done");
        match handle.result() {
            Ok(7) => assert!(!cancelled),
            Err(TaskError::Cancelled) => assert!(cancelled),
            other => panic!("unexpected {other:?}"),
        }
    });
}

/// A thread waits on a token while another cancels it: the waiter's
/// registration (under the listener lock, re-reading the flag) either is
/// in the list that `cancel` empties, or sees the flag. A lost wake-up
/// would leave the waiter parked forever, which loom reports.
#[test]
fn loom_token_cancel_vs_register() {
    use crate::cancel::CancelToken;
    loom::model(|| {
        let token = CancelToken::new();
        let t = token.clone();
        let waiter = thread::spawn(move || {
            let awaited = t.awaited();
            wait_loop(
                &awaited,
                Deadline::Never,
                std::time::Duration::ZERO,
                || false,
                || (),
            );
            assert!(t.is_cancelled());
        });
        token.cancel();
        waiter.join().unwrap();
    });
}

/// A child is made while its parent is cancelled: however the child's
/// registration on the parent and the parent's drain interleave, the child
/// ends up told (its own flag set, its own waiters woken), not only
/// cancelled through its parent. (The window in which the parent's drain
/// finds the child registered but not yet built lies inside
/// `Arc::new_cyclic`, which loom does not instrument; `cancel.rs` covers it
/// with a stress test and the re-check after building.)
#[test]
fn loom_child_made_while_the_parent_is_cancelled_is_told() {
    use crate::cancel::CancelToken;
    loom::model(|| {
        let parent = CancelToken::new();
        let p = parent.clone();
        let maker = thread::spawn(move || p.child());
        parent.cancel();
        let child = maker.join().unwrap();
        assert!(
            child.is_told(),
            "the parent's cancel never reached the child"
        );
    });
}
