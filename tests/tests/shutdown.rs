//! `shutdown(wait = true)` called from several threads at once: each caller
//! returns only once everything `wait` promises has happened.

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use support::{within, Gate, HANG};

/// Two threads call `shutdown(true)` while one task runs (held on a gate)
/// and more are queued. Whichever caller comes second finds the worker
/// threads already being joined by the first: it must still wait, as
/// Python's second `shutdown(wait=True)` does, and not return while queued
/// tasks have yet to run.
#[test]
fn every_waiting_shutdown_returns_after_all_tasks_finished() {
    const TASKS: usize = 50;
    let pool = Arc::new(support::pool(1));
    let finished = Arc::new(AtomicUsize::new(0));
    let gate = Gate::new();
    let running = {
        let (gate, finished) = (gate.clone(), finished.clone());
        pool.submit(move || {
            gate.wait();
            finished.fetch_add(1, Ordering::SeqCst);
        })
    };
    while !running.running() {
        thread::yield_now();
    }
    for _ in 1..TASKS {
        let finished = finished.clone();
        drop(pool.submit(move || {
            finished.fetch_add(1, Ordering::SeqCst);
        }));
    }
    let entered = Arc::new(AtomicUsize::new(0));
    let callers: Vec<_> = (0..2)
        .map(|_| {
            let (pool, finished, entered) = (pool.clone(), finished.clone(), entered.clone());
            thread::spawn(move || {
                entered.fetch_add(1, Ordering::SeqCst);
                pool.shutdown(true);
                // Read right after the return: what the caller was promised.
                (finished.load(Ordering::SeqCst), pool.stats().workers_alive)
            })
        })
        .collect();
    while entered.load(Ordering::SeqCst) < 2 {
        thread::yield_now();
    }
    // Room for a caller that does not wait to return early (not a timing
    // assertion: a correct shutdown passes whatever the timing).
    thread::sleep(Duration::from_millis(50));
    gate.open();
    let seen = within(HANG, "two waiting shutdowns", move || {
        callers
            .into_iter()
            .map(|c| c.join().unwrap())
            .collect::<Vec<_>>()
    });
    assert_eq!(
        seen,
        [(TASKS, 0), (TASKS, 0)],
        "each caller returned after all {TASKS} tasks finished and every worker exited"
    );
    assert!(running.done());
}

/// A task that shuts its own pool down with `wait` while a thread outside
/// does the same: the task's call must not wait for its own worker (or for
/// the outside caller, which is joining that worker), and the outside call
/// still returns only after every task, the calling one included, finished.
#[test]
fn waiting_shutdowns_from_a_task_and_from_outside_together() {
    const TASKS: usize = 20;
    let pool = Arc::new(support::pool(2));
    let finished = Arc::new(AtomicUsize::new(0));
    let gate = Gate::new();
    let task = {
        let (pool, gate, finished) = (pool.clone(), gate.clone(), finished.clone());
        pool.clone().submit(move || {
            gate.wait();
            pool.shutdown(true);
            finished.fetch_add(1, Ordering::SeqCst);
            pool.is_shutdown()
        })
    };
    while !task.running() {
        thread::yield_now();
    }
    for _ in 1..TASKS {
        let finished = finished.clone();
        drop(pool.submit(move || {
            finished.fetch_add(1, Ordering::SeqCst);
        }));
    }
    let outside = {
        let (pool, finished) = (pool.clone(), finished.clone());
        thread::spawn(move || {
            pool.shutdown(true);
            (finished.load(Ordering::SeqCst), pool.stats().workers_alive)
        })
    };
    thread::sleep(Duration::from_millis(20));
    gate.open();
    let (seen, shut) = within(HANG, "shutdown from a task and from outside", move || {
        (outside.join().unwrap(), task.result().unwrap())
    });
    assert!(shut);
    assert_eq!(seen, (TASKS, 0));
}

/// Tasks on every worker shut their own pool down with `wait`, all at
/// once, while more tasks are queued. None can wait for the others (each is
/// inside a task that only ends after its call returns): each call returns
/// once every other worker is in such a call too (or done), so they do not
/// wait for each other in a circle, and every queued task still runs. Each
/// call used to join the other workers' threads, and two of them waited
/// for each other forever.
#[test]
fn tasks_on_every_worker_shutting_their_pool_down_with_wait_at_once() {
    const WORKERS: usize = 3;
    const QUEUED: usize = 30;
    let pool = Arc::new(support::pool(WORKERS));
    let finished = Arc::new(AtomicUsize::new(0));
    // The shutters and this thread: no shutdown before all 30 are queued
    // (a submit from outside after it would be rejected).
    let all_running = Arc::new(std::sync::Barrier::new(WORKERS + 1));
    let shutters: Vec<_> = (0..WORKERS)
        .map(|_| {
            let (pool, all_running, finished) =
                (pool.clone(), all_running.clone(), finished.clone());
            pool.clone().submit(move || {
                all_running.wait();
                pool.shutdown(true);
                finished.fetch_add(1, Ordering::SeqCst);
                pool.is_shutdown()
            })
        })
        .collect();
    let queued: Vec<_> = (0..QUEUED)
        .map(|_| {
            let finished = finished.clone();
            pool.submit(move || {
                finished.fetch_add(1, Ordering::SeqCst);
            })
        })
        .collect();
    let go = all_running.clone();
    within(HANG, "every worker running a shutter", move || {
        go.wait();
    });
    let shut = within(
        HANG,
        "every worker's task shutting the pool down",
        move || {
            shutters
                .into_iter()
                .map(|h| h.result().unwrap())
                .collect::<Vec<_>>()
        },
    );
    assert_eq!(shut, [true; WORKERS]);
    pool.shutdown(true);
    assert_eq!(finished.load(Ordering::SeqCst), WORKERS + QUEUED);
    assert!(queued.into_iter().all(|h| h.result().is_ok()));
    assert_eq!(pool.stats().workers_alive, 0);
}

/// A task shuts its pool down with `wait` while a sibling waits for it:
/// the sibling cannot finish before the task does, so the task's call must
/// not wait for it. `awaiter` starts the sibling (it gets the task's handle
/// and says on `started` that it runs); the task calls `shutdown` once
/// `waits(stats)` shows the sibling waiting. The sibling returns 6 times
/// the task's 7.
fn shut_down_from_a_task_a_sibling_waits_for(
    what: &'static str,
    waits: fn(&executor::Stats) -> bool,
    awaiter: impl FnOnce(
        &executor::ThreadPoolExecutor,
        executor::TaskHandle<u32>,
        std::sync::mpsc::Sender<()>,
    ) -> executor::TaskHandle<u32>,
) {
    let pool = Arc::new(support::pool(2));
    let (started, rx) = std::sync::mpsc::channel::<()>();
    let shutter = {
        let p = pool.clone();
        pool.submit(move || {
            rx.recv().unwrap();
            while !waits(&p.stats()) {
                thread::yield_now();
            }
            p.shutdown(true);
            7
        })
    };
    // Running before the sibling starts: a waiter claims a task it waits
    // for that is still queued, and would run it inline, on its own stack.
    while !shutter.running() {
        thread::yield_now();
    }
    let sibling = awaiter(&pool, shutter, started);
    let answer = within(HANG, what, move || sibling.result());
    assert_eq!(answer.unwrap(), 42);
    pool.shutdown(true);
    assert_eq!(pool.stats().workers_alive, 0);
}

/// The sibling is blocked in `result()` on its worker (a wait of the pool).
#[test]
fn a_task_shutting_its_pool_down_does_not_wait_for_a_task_waiting_for_it() {
    shut_down_from_a_task_a_sibling_waits_for(
        "a shutdown from a task that another task waits for",
        |s| s.workers_blocked > 0,
        |pool, shutter, started| {
            pool.submit(move || {
                started.send(()).unwrap();
                shutter.result().unwrap() * 6
            })
        },
    );
}

/// The sibling is an async task awaiting the handle: parked on its waker,
/// it keeps a worker (asleep) for its wake, and that worker must not hold
/// the task's shutdown either.
#[test]
fn a_task_shutting_its_pool_down_does_not_wait_for_an_async_task_awaiting_it() {
    shut_down_from_a_task_a_sibling_waits_for(
        "a shutdown from a task that an async task awaits",
        // The awaiter's worker sleeps only once its poll returned Pending.
        |s| s.workers_idle > 0,
        |pool, shutter, started| {
            pool.spawn(async move {
                let awaited = shutter;
                started.send(()).unwrap();
                awaited.await.unwrap() * 6
            })
        },
    );
}

/// Code on a worker thread outside any task (here its stop hook; also the
/// done callbacks the last worker runs as it resolves what is left) shuts
/// the pool down with `wait` while a caller from outside is joining that
/// very thread. It must not wait for that caller (which waits for it): it
/// returns, the thread exits, and the outside call returns too.
#[test]
fn a_worker_thread_shutting_its_pool_down_while_it_is_joined() {
    use std::sync::OnceLock;
    let pool_slot: Arc<OnceLock<Arc<executor::ThreadPoolExecutor>>> = Arc::default();
    let hook_calls = Arc::new(AtomicUsize::new(0));
    let pool = {
        let (slot, calls) = (pool_slot.clone(), hook_calls.clone());
        Arc::new(
            executor::ThreadPoolExecutor::builder()
                .max_workers(1)
                .on_thread_stop(move || {
                    calls.fetch_add(1, Ordering::SeqCst);
                    if let Some(pool) = slot.get() {
                        pool.shutdown(true);
                    }
                })
                .build()
                .unwrap(),
        )
    };
    assert!(pool_slot.set(pool.clone()).is_ok());
    assert_eq!(pool.submit(|| 5).result().unwrap(), 5);
    let p = pool.clone();
    within(
        HANG,
        "a stop hook shutting the pool down while joined",
        move || p.shutdown(true),
    );
    assert_eq!(hook_calls.load(Ordering::SeqCst), 1);
    assert_eq!(pool.stats().workers_alive, 0);
}

/// A task queued while the pool's only worker is retiring (its keep-alive
/// passed: it no longer counts as alive, but still holds its slot until its
/// `on_thread_stop` hook returns) runs, also when a shutdown comes inside
/// that window and finds no worker alive: the submitter starts a worker on
/// a spare slot, and the shutdown waits for it (or, without `wait`, the
/// task still runs). The hook holds the window open.
#[test]
fn a_task_queued_while_the_last_worker_retires_runs_before_shutdown_returns() {
    within(HANG, "shutdown during a retirement", || {
        for wait in [true, false] {
            let stopping = Gate::new();
            let release = Gate::new();
            let (s, r) = (stopping.clone(), release.clone());
            let pool = executor::ThreadPoolExecutor::builder()
                .max_workers(1)
                .min_workers(0)
                .keep_alive(Duration::from_millis(1))
                .on_thread_stop(move || {
                    s.open();
                    r.wait();
                })
                .build()
                .unwrap();
            pool.submit(|| ()).result().unwrap();
            stopping.wait(); // the worker retires, and is held in its hook
            let queued = pool.submit(|| 42);
            let opener = {
                let release = release.clone();
                thread::spawn(move || {
                    thread::sleep(Duration::from_millis(20));
                    release.open();
                })
            };
            pool.shutdown(wait);
            assert_eq!(
                queued.result().map_err(|e| e.to_string()),
                Ok(42),
                "shutdown({wait}) rejected a task queued before it began"
            );
            opener.join().unwrap();
            pool.shutdown(true);
            let stats = pool.stats();
            assert_eq!(
                (stats.tasks_completed, stats.tasks_rejected),
                (2, 0),
                "{stats:?}"
            );
        }
    });
}

/// Wakes itself `left` times before it is ready (an async task that goes
/// back to the queue between polls).
struct SelfWaking {
    left: u32,
}

impl std::future::Future for SelfWaking {
    type Output = u32;

    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<u32> {
        if self.left == 0 {
            return std::task::Poll::Ready(1);
        }
        self.left -= 1;
        cx.waker().wake_by_ref();
        std::task::Poll::Pending
    }
}

/// Submissions of every kind (plain, named, async that wakes itself, async
/// woken from another thread) from two threads, straddling a
/// `shutdown(true)` on pools with and without keep-alive and a queue bound:
/// every handle a submitter held when `shutdown(true)` returned is done
/// (`shutdown(wait)` joins all accepted work), and after the submitters stop,
/// `stats()` agrees with the handles. The model test once saw
/// "shutdown(true) returned before task N was done"; this aims at that
/// window with nothing else going on.
#[test]
fn every_handle_held_when_a_waiting_shutdown_returns_is_done() {
    use executor::Outcome;
    use std::sync::Mutex;

    for round in 0..support::stress_size(200, 5_000) {
        within(HANG, "submits straddling shutdown(true)", move || {
            let mut builder = executor::ThreadPoolExecutor::builder().max_workers(1 + round % 3);
            if round % 4 == 1 {
                builder = builder.min_workers(0).keep_alive(Duration::from_micros(50));
            }
            if round % 5 == 2 {
                builder = builder.queue_capacity(1_000_000);
            }
            let pool = Arc::new(builder.build().unwrap());
            let held: Arc<Mutex<Vec<executor::TaskHandle<u32>>>> = Arc::default();
            let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
            let submitters: Vec<_> = (0..2)
                .map(|who| {
                    let (pool, held, stop) = (pool.clone(), held.clone(), stop.clone());
                    thread::spawn(move || {
                        let mut wakers = Vec::new();
                        let mut i = 0u32;
                        while !stop.load(Ordering::SeqCst) && i < 20_000 {
                            i += 1;
                            let h = match (i + who) % 4 {
                                0 => pool.submit(|| 1),
                                1 => pool.submit_named("straddle", || 1),
                                2 => pool.spawn(SelfWaking { left: i % 3 }),
                                _ => {
                                    let (tx, rx) = futures::channel::oneshot::channel::<u32>();
                                    wakers.push(tx);
                                    pool.spawn(async move { rx.await.unwrap_or(1) })
                                }
                            };
                            held.lock().unwrap().push(h);
                            if pool.is_shutdown() {
                                // A dropped sender wakes its task: the
                                // waiting shutdown needs them to finish.
                                wakers.clear();
                            } else if wakers.len() > 2 {
                                let _ = wakers.remove(0).send(1);
                            }
                        }
                    })
                })
                .collect();
            while held.lock().unwrap().len() < (round % 7) * 3 {
                thread::yield_now();
            }
            pool.shutdown(true);
            {
                let held = held.lock().unwrap();
                for (i, h) in held.iter().enumerate() {
                    assert!(
                        h.done(),
                        "round {round}: handle {i} of {} ({h:?}) pends after shutdown(true) returned; {:?}",
                        held.len(),
                        pool.stats()
                    );
                }
            }
            stop.store(true, Ordering::SeqCst);
            for s in submitters {
                s.join().unwrap();
            }
            let held = std::mem::take(&mut *held.lock().unwrap());
            let mut seen = [0u64; 3];
            for h in &held {
                assert!(h.done(), "round {round}: {h:?} pends after the last submit");
                match h.outcome().unwrap() {
                    Outcome::Completed => seen[0] += 1,
                    Outcome::Rejected => seen[1] += 1,
                    _ => seen[2] += 1,
                }
            }
            let s = pool.stats();
            assert_eq!(
                [s.tasks_submitted, s.tasks_completed, s.tasks_rejected],
                [held.len() as u64, seen[0], seen[1]],
                "round {round}: {s:?}"
            );
            assert_eq!(seen[2], 0, "round {round}: only completed or rejected");
        });
    }
}
