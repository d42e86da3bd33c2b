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

#[test]
fn shutdown_with_pending_async_tasks_resolves_every_handle() {
    let (handles, keep_senders) = within(HANG, "shutdown with pending async", || {
        let pool = ThreadPoolExecutor::builder()
            .max_workers(2)
            .build()
            .unwrap();
        let mut senders = Vec::new();
        let mut handles = Vec::new();
        for _ in 0..100 {
            let (tx, rx) = oneshot::channel::<u8>();
            senders.push(tx);
            handles.push(pool.spawn(async move { rx.await.unwrap_or(0) }));
        }
        // Let them all start and park on their channels.
        while handles.iter().any(|h| !h.running()) {
            std::thread::yield_now();
        }
        pool.shutdown(true);
        (handles, senders)
    });
    for h in handles {
        assert!(h.done(), "no handle pends after shutdown(wait)");
        assert!(matches!(h.result(), Err(TaskError::Cancelled)));
    }
    // A wake after termination is harmless.
    for tx in keep_senders {
        let _ = tx.send(1);
    }
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
