//! Handles are std futures; async tasks run on the pool's workers.

mod support;

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

use executor::{TaskError, ThreadPoolExecutor};
use futures::channel::oneshot;
use futures::executor::block_on;
use futures::task::SpawnExt;
use support::{within, HANG};

#[test]
fn handle_awaited_under_block_on() {
    let pool = ThreadPoolExecutor::new();
    let h = pool.submit(|| 21 * 2);
    assert_eq!(block_on(h).unwrap(), 42);
}

#[test]
fn handle_awaited_from_tokio() {
    let pool = Arc::new(
        ThreadPoolExecutor::builder()
            .max_workers(2)
            .build()
            .unwrap(),
    );
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    let sum = rt.block_on(async {
        let handles: Vec<_> = (0..100u64).map(|i| pool.submit(move || i * i)).collect();
        let mut sum = 0;
        for h in handles {
            sum += h.await.unwrap();
        }
        sum
    });
    assert_eq!(sum, (0..100u64).map(|i| i * i).sum::<u64>());
}

#[test]
fn tokio_tasks_join_pool_handles_concurrently() {
    let pool = Arc::new(
        ThreadPoolExecutor::builder()
            .max_workers(2)
            .build()
            .unwrap(),
    );
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    let total = rt.block_on(async {
        let joins: Vec<_> = (0..200u64)
            .map(|i| {
                let pool = pool.clone();
                tokio::spawn(async move { pool.submit(move || i).await.unwrap() })
            })
            .collect();
        let mut total = 0;
        for j in joins {
            total += j.await.unwrap();
        }
        total
    });
    assert_eq!(total, (0..200).sum::<u64>());
}

#[test]
fn async_task_awaits_another_pool_handle() {
    let pool = ThreadPoolExecutor::builder()
        .max_workers(1)
        .build()
        .unwrap();
    let inner = pool.submit(|| 20);
    let outer = pool.spawn(async move { inner.await.unwrap() + 22 });
    assert_eq!(within(HANG, "outer", move || outer.result().unwrap()), 42);
}

#[test]
fn thousands_of_async_tasks_each_awaiting_a_channel() {
    let n = support::stress_size(5_000, 100_000);
    let pool = ThreadPoolExecutor::builder()
        .max_workers(2)
        .build()
        .unwrap();
    let polls = Arc::new(AtomicUsize::new(0));
    let mut senders = Vec::with_capacity(n);
    let mut handles = Vec::with_capacity(n);
    for i in 0..n {
        let (tx, rx) = oneshot::channel::<usize>();
        let polls = polls.clone();
        senders.push(tx);
        handles.push(pool.spawn(async move {
            polls.fetch_add(1, Ordering::Relaxed);
            rx.await.unwrap() + i
        }));
    }
    // Send from another thread, in reverse, while the tasks park on their wakers.
    let sender = std::thread::spawn(move || {
        for (i, tx) in senders.into_iter().enumerate().rev() {
            tx.send(i).unwrap();
        }
    });
    let values = within(HANG, "async tasks", move || {
        handles
            .into_iter()
            .map(|h| h.result().unwrap())
            .collect::<Vec<_>>()
    });
    sender.join().unwrap();
    assert_eq!(values, (0..n).map(|i| 2 * i).collect::<Vec<_>>());
    assert_eq!(
        polls.load(Ordering::Relaxed),
        n,
        "each future body started exactly once"
    );
}

#[test]
fn async_task_is_never_polled_concurrently() {
    // A future that yields many times, waking itself from another thread,
    // and checks that no two polls overlap.
    struct Probe {
        in_poll: Arc<AtomicUsize>,
        remaining: usize,
    }
    impl std::future::Future for Probe {
        type Output = usize;
        fn poll(mut self: std::pin::Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<usize> {
            assert_eq!(
                self.in_poll.fetch_add(1, Ordering::SeqCst),
                0,
                "polled concurrently"
            );
            std::thread::yield_now();
            self.in_poll.fetch_sub(1, Ordering::SeqCst);
            if self.remaining == 0 {
                return Poll::Ready(7);
            }
            self.remaining -= 1;
            let (w1, w2) = (cx.waker().clone(), cx.waker().clone());
            std::thread::spawn(move || w1.wake());
            w2.wake(); // two wakes for one pending: must still poll once at a time
            Poll::Pending
        }
    }
    let pool = ThreadPoolExecutor::builder()
        .max_workers(4)
        .build()
        .unwrap();
    let handles: Vec<_> = (0..20)
        .map(|_| {
            pool.spawn(Probe {
                in_poll: Arc::new(AtomicUsize::new(0)),
                remaining: 50,
            })
        })
        .collect();
    for h in handles {
        assert_eq!(within(HANG, "probe", move || h.result().unwrap()), 7);
    }
}

#[test]
fn panicking_async_task_resolves_to_panicked() {
    let pool = ThreadPoolExecutor::new();
    let h = pool.spawn_named("fetch", async { panic!("connection reset") });
    let err: TaskError = h.result().unwrap_err();
    assert_eq!(err.to_string(), "task 'fetch' panicked: connection reset");
    assert_eq!(
        pool.spawn(async { 1 }).result().unwrap(),
        1,
        "the pool still works"
    );
}

#[test]
fn never_polled_async_task_can_be_cancelled() {
    let (pool, gate, blocker) = support::blocked_pool();
    let polled = Arc::new(AtomicUsize::new(0));
    let p = polled.clone();
    let h = pool.spawn(async move {
        p.fetch_add(1, Ordering::SeqCst);
    });
    assert!(h.cancel());
    gate.open();
    blocker.result().unwrap();
    pool.shutdown(true);
    assert!(matches!(h.result(), Err(TaskError::Cancelled)));
    assert_eq!(polled.load(Ordering::SeqCst), 0);
}

#[test]
fn started_async_task_cannot_be_cancelled() {
    let pool = ThreadPoolExecutor::new();
    let (tx, rx) = oneshot::channel::<u8>();
    let (started_tx, started_rx) = std::sync::mpsc::channel();
    let h = pool.spawn(async move {
        started_tx.send(()).unwrap();
        rx.await.unwrap()
    });
    started_rx.recv().unwrap();
    assert!(!h.cancel(), "an async task that was polled is running");
    assert!(h.running());
    tx.send(3).unwrap();
    assert_eq!(h.result().unwrap(), 3);
}

/// Waits (within `HANG`) until `cond` holds.
fn wait_until(what: &str, cond: impl Fn() -> bool + Send + 'static) {
    within(HANG, what, move || {
        while !cond() {
            std::thread::yield_now();
        }
    });
}

/// Spawns `fut` wrapped so that its first poll is signalled, and returns
/// once it has been polled (it is then running, in Python's sense).
fn spawn_started<T: Send + 'static>(
    pool: &ThreadPoolExecutor,
    fut: impl Future<Output = T> + Send + 'static,
) -> executor::TaskHandle<T> {
    let (started_tx, started_rx) = std::sync::mpsc::channel();
    let h = pool.spawn(async move {
        let _ = started_tx.send(());
        fut.await
    });
    started_rx.recv().unwrap();
    h
}

/// Calls `shutdown_with(true, cancel)` on another thread; the thread
/// returns whether `finished` was already set when `shutdown` returned.
fn shutdown_on_thread(
    pool: &Arc<ThreadPoolExecutor>,
    cancel: bool,
    finished: &Arc<std::sync::atomic::AtomicBool>,
) -> std::thread::JoinHandle<bool> {
    let (pool, finished) = (pool.clone(), finished.clone());
    std::thread::spawn(move || {
        pool.shutdown_with(true, cancel);
        finished.load(Ordering::SeqCst)
    })
}

/// Calls `shutdown(true)` on another thread while the only worker of
/// `pool` is busy, so that what the worker does next is decided with the
/// flag set (stay for the parked task `h` and sleep, or exit and let the
/// pool resolve it); returns once it decided, checking that `h` was not
/// resolved while its waker could still fire. The thread returns whether
/// `h` was done when `shutdown` returned.
fn shut_down_around_a_parked_task<T>(
    pool: &Arc<ThreadPoolExecutor>,
    h: &executor::TaskHandle<T>,
) -> std::thread::JoinHandle<bool> {
    let finished = flag_when_done(h);
    let (gate, busy) = occupy_the_worker(pool);
    let shutter = shutdown_on_thread(pool, false, &finished);
    let p = pool.clone();
    wait_until("shutdown flag", move || p.is_shutdown());
    gate.open();
    busy.result().unwrap();
    let (p, f) = (pool.clone(), finished.clone());
    wait_until("worker asleep, or task resolved", move || {
        f.load(Ordering::SeqCst) || p.stats().workers_idle == 1
    });
    assert!(
        !h.done(),
        "resolved while its waker could still fire: {:?}",
        h.outcome()
    );
    shutter
}

/// Occupies the only worker of `pool` with a task blocked on the returned
/// gate, and returns once it runs.
fn occupy_the_worker(pool: &ThreadPoolExecutor) -> (support::Gate, executor::TaskHandle<()>) {
    let gate = support::Gate::new();
    let g = gate.clone();
    let busy = pool.submit(move || g.wait());
    while !busy.running() {
        std::thread::yield_now();
    }
    (gate, busy)
}

/// Sets `flag` when `h` is done, whatever its outcome.
fn flag_when_done<T>(h: &executor::TaskHandle<T>) -> Arc<std::sync::atomic::AtomicBool> {
    let flag = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let f = flag.clone();
    h.add_done_callback(move |_| f.store(true, Ordering::SeqCst));
    flag
}

/// A started async task is running, in Python's sense: `shutdown(wait)`
/// waits for it to finish instead of cancelling it, and returns after it.
#[test]
fn shutdown_waits_for_a_started_async_task() {
    let pool = Arc::new(support::pool(1));
    let (tx, rx) = oneshot::channel::<u32>();
    let h = spawn_started(&pool, async move { rx.await.unwrap() * 2 });
    assert!(h.running(), "polled once, parked on its channel");
    let shutter = shut_down_around_a_parked_task(&pool, &h);
    tx.send(21).unwrap();
    assert_eq!(within(HANG, "the task", move || h.result()).unwrap(), 42);
    let returned_after = within(HANG, "shutdown", move || shutter.join().unwrap());
    assert!(
        returned_after,
        "shutdown(wait) returned before the task finished"
    );
}

/// Many started tasks, their senders firing only after `shutdown(wait)`
/// began (some sending, some dropped): every handle gets its value.
#[test]
fn shutdown_waits_for_every_started_async_task() {
    let pool = Arc::new(support::pool(1));
    let mut senders = Vec::new();
    let mut handles = Vec::new();
    for i in 0..100u32 {
        let (tx, rx) = oneshot::channel::<u32>();
        senders.push(tx);
        handles.push(spawn_started(&pool, async move {
            rx.await.map_or(i, |v| v + i)
        }));
    }
    let all_done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let any_done = Arc::new(AtomicUsize::new(0));
    for h in &handles {
        let d = any_done.clone();
        h.add_done_callback(move |_| {
            d.fetch_add(1, Ordering::SeqCst);
        });
    }
    let (gate, busy) = occupy_the_worker(&pool);
    let shutter = shutdown_on_thread(&pool, false, &all_done);
    let p = pool.clone();
    wait_until("shutdown flag", move || p.is_shutdown());
    gate.open();
    busy.result().unwrap();
    let (p, d) = (pool.clone(), any_done.clone());
    wait_until("worker asleep, or tasks resolved", move || {
        d.load(Ordering::SeqCst) > 0 || p.stats().workers_idle == 1
    });
    assert_eq!(
        any_done.load(Ordering::SeqCst),
        0,
        "resolved while their wakers could still fire"
    );
    for (i, tx) in senders.into_iter().enumerate() {
        if i % 3 == 0 {
            drop(tx); // wakes the receiver with an error: still a wake
        } else {
            tx.send(1000).unwrap();
        }
    }
    let values = within(HANG, "async tasks", move || {
        handles.into_iter().map(|h| h.result()).collect::<Vec<_>>()
    });
    all_done.store(true, Ordering::SeqCst);
    within(HANG, "shutdown", move || shutter.join().unwrap());
    for (i, v) in values.into_iter().enumerate() {
        let expected = if i % 3 == 0 {
            i as u32
        } else {
            i as u32 + 1000
        };
        assert_eq!(v.unwrap(), expected, "task {i}");
    }
}

/// `shutdown_with(wait, cancel_futures)` cancels async tasks that never
/// started, and only those: a started task, parked or already woken and
/// queued again, runs to its end.
#[test]
fn cancel_futures_cancels_only_never_started_async_tasks() {
    let pool = Arc::new(support::pool(1));
    let (parked_tx, parked_rx) = oneshot::channel::<u32>();
    let parked = spawn_started(&pool, async move { parked_rx.await.unwrap() + 1 });
    let (woken_tx, woken_rx) = oneshot::channel::<u32>();
    let woken = spawn_started(&pool, async move { woken_rx.await.unwrap() + 2 });
    let (gate, busy) = occupy_the_worker(&pool);
    // Queued behind `busy`: woken (so queued again) and never started.
    woken_tx.send(10).unwrap();
    let polls = Arc::new(AtomicUsize::new(0));
    let p = polls.clone();
    let never_started = ThreadPoolExecutor::spawn(&pool, async move {
        p.fetch_add(1, Ordering::SeqCst);
    });
    let parked_done = flag_when_done(&parked);
    let shutter = shutdown_on_thread(&pool, true, &parked_done);
    let h = never_started;
    let never_started = within(HANG, "cancellation", move || {
        while !h.done() {
            std::thread::yield_now();
        }
        h
    });
    assert!(never_started.cancelled(), "{:?}", never_started.outcome());
    gate.open();
    busy.result().unwrap();
    assert_eq!(
        within(HANG, "woken task", move || woken.result()).unwrap(),
        12
    );
    assert!(
        !parked.done(),
        "the parked task is not cancelled: {:?}",
        parked.outcome()
    );
    parked_tx.send(20).unwrap();
    assert_eq!(
        within(HANG, "parked task", move || parked.result()).unwrap(),
        21
    );
    assert!(within(HANG, "shutdown", move || shutter.join().unwrap()));
    assert!(matches!(never_started.result(), Err(TaskError::Cancelled)));
    assert_eq!(
        polls.load(Ordering::SeqCst),
        0,
        "a cancelled task never runs"
    );
}

/// Counts drops of the value it wraps.
struct DropCount(Arc<AtomicUsize>);
impl Drop for DropCount {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// A started task parked with no clone of its waker left can never be
/// resumed: shutdown resolves it to `Abandoned` (not `Cancelled`: it ran)
/// and drops its future, instead of waiting forever.
#[test]
fn started_async_task_without_a_waker_is_abandoned_at_shutdown() {
    let drops = Arc::new(AtomicUsize::new(0));
    let guard = DropCount(drops.clone());
    let pool = Arc::new(support::pool(2));
    let h = spawn_started(&pool, async move {
        let _guard = guard;
        std::future::pending::<()>().await // keeps no waker
    });
    assert!(h.running());
    let outcome = Arc::new(std::sync::Mutex::new(None));
    let o = outcome.clone();
    h.add_done_callback(move |outcome| *o.lock().unwrap() = Some(outcome));
    let p = pool.clone();
    within(HANG, "shutdown", move || p.shutdown(true));
    let stats = pool.stats();
    assert_eq!(
        (
            stats.tasks_abandoned,
            stats.tasks_rejected,
            stats.tasks_cancelled
        ),
        (1, 0, 0),
        "counted once, as abandoned"
    );
    let err = h.result().unwrap_err();
    assert!(matches!(err, TaskError::Abandoned), "{err}");
    assert_eq!(*outcome.lock().unwrap(), Some(executor::Outcome::Abandoned));
    assert_eq!(
        drops.load(Ordering::SeqCst),
        1,
        "its future was dropped once"
    );
}

/// A started task whose last waker is dropped while `shutdown(wait)` waits
/// for it is abandoned then, and `shutdown` returns.
#[test]
fn async_task_whose_waker_drops_during_shutdown_is_abandoned() {
    let pool = Arc::new(support::pool(1));
    let slot: Arc<std::sync::Mutex<Option<Waker>>> = Arc::default();
    let s = slot.clone();
    let h = spawn_started(
        &pool,
        std::future::poll_fn(move |cx| {
            *s.lock().unwrap() = Some(cx.waker().clone());
            Poll::<u8>::Pending
        }),
    );
    let shutter = shut_down_around_a_parked_task(&pool, &h);
    drop(slot.lock().unwrap().take()); // the last waker
    let err = within(HANG, "the task", move || h.result()).unwrap_err();
    assert!(matches!(err, TaskError::Abandoned), "{err}");
    assert!(within(HANG, "shutdown", move || shutter.join().unwrap()));
}

/// A pool whose workers all retired still runs a started task woken after
/// `shutdown(wait)`: a worker is started to wait for it.
#[test]
fn shutdown_with_no_worker_alive_waits_for_a_started_async_task() {
    let pool = Arc::new(
        ThreadPoolExecutor::builder()
            .max_workers(1)
            .min_workers(0)
            .keep_alive(std::time::Duration::from_millis(1))
            .build()
            .unwrap(),
    );
    let (tx, rx) = oneshot::channel::<u32>();
    let h = spawn_started(&pool, async move { rx.await.unwrap() + 1 });
    let p = pool.clone();
    wait_until("the worker retires", move || p.stats().workers_alive == 0);
    let finished = flag_when_done(&h);
    let shutter = shutdown_on_thread(&pool, false, &finished);
    let (p, f) = (pool.clone(), finished.clone());
    wait_until(
        "a worker waits for the task, or it is resolved",
        move || f.load(Ordering::SeqCst) || (p.is_shutdown() && p.stats().workers_idle == 1),
    );
    assert!(
        !h.done(),
        "resolved while its waker could still fire: {:?}",
        h.outcome()
    );
    tx.send(1).unwrap();
    assert_eq!(within(HANG, "the task", move || h.result()).unwrap(), 2);
    assert!(within(HANG, "shutdown", move || shutter.join().unwrap()));
}

/// An async task may shut its own pool down and wait: the pool waits for
/// the other workers, not for the task that called it.
#[test]
fn async_task_can_shut_its_own_pool_down() {
    let pool = Arc::new(support::pool(2));
    let p = pool.clone();
    let h = ThreadPoolExecutor::spawn(&pool, async move {
        p.shutdown(true);
        7
    });
    assert_eq!(
        within(HANG, "self shutdown", move || h.result()).unwrap(),
        7
    );
    assert!(pool.is_shutdown());
}

#[test]
fn spawn_trait_and_spawn_with_handle() {
    let pool = ThreadPoolExecutor::new();
    let h = pool.spawn_with_handle(async { 5 }).unwrap();
    assert_eq!(block_on(h), 5);
    pool.spawn(async {}).result().unwrap();
    pool.shutdown(true);
    assert!(futures::task::Spawn::status(&pool).is_err());
    assert!(
        pool.spawn_with_handle(async {}).is_err(),
        "spawning after shutdown is refused"
    );
}

/// Polls one handle with a succession of different wakers while it
/// completes on a worker: the last registered waker must be woken (never a
/// lost wake-up), whatever the interleaving.
#[test]
fn repoll_with_a_new_waker_is_never_lost() {
    struct Flag(AtomicUsize);
    impl Wake for Flag {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
    let rounds = support::stress_size(2_000, 50_000);
    let pool = ThreadPoolExecutor::builder()
        .max_workers(2)
        .build()
        .unwrap();
    for i in 0..rounds {
        let mut h = pool.submit(move || i);
        let mut flags = Vec::new();
        let value = loop {
            let flag = Arc::new(Flag(AtomicUsize::new(0)));
            let waker = Waker::from(flag.clone());
            let mut cx = Context::from_waker(&waker);
            flags.push(flag);
            match std::pin::Pin::new(&mut h).poll(&mut cx) {
                Poll::Ready(v) => break v.unwrap(),
                Poll::Pending if flags.len() % 2 == 0 => {
                    // Wait for the wake-up of the latest waker only.
                    let latest = flags.last().unwrap().clone();
                    within(HANG, "latest waker", move || {
                        while latest.0.load(Ordering::SeqCst) == 0 {
                            std::thread::yield_now();
                        }
                    });
                }
                Poll::Pending => {}
            }
        };
        assert_eq!(value, i);
    }
}

/// A waker of another runtime that panics when the handle completes: the
/// pool still unparks the threads and runs the done callbacks registered
/// beside it, and its worker carries on.
#[test]
fn a_panicking_foreign_waker_does_not_skip_done_callbacks() {
    struct Exploding;
    impl futures::task::ArcWake for Exploding {
        fn wake_by_ref(_: &Arc<Self>) {
            panic!("the other runtime's waker exploded");
        }
    }
    let (pool, gate, _blocker) = support::blocked_pool();
    let mut h = pool.submit(|| 5);
    let waker = futures::task::waker(Arc::new(Exploding));
    let mut cx = Context::from_waker(&waker);
    assert!(
        std::pin::Pin::new(&mut h).poll(&mut cx).is_pending(),
        "queued behind the blocker"
    );
    let calls = Arc::new(AtomicUsize::new(0));
    let c = calls.clone();
    h.add_done_callback(move |outcome| {
        assert_eq!(outcome, executor::Outcome::Completed);
        c.fetch_add(1, Ordering::SeqCst);
    });
    gate.open();
    // One worker: this runs after the worker finished `h`, waiters and all.
    let later = within(HANG, "a later task", move || {
        let v = pool.submit(|| 6).result().unwrap();
        (pool, v)
    });
    assert_eq!(later.1, 6, "the pool still works");
    assert_eq!(
        calls.load(Ordering::SeqCst),
        1,
        "the done callback ran once"
    );
    assert_eq!(h.result().unwrap(), 5);
}
