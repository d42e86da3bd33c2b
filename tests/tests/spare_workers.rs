//! Waits that block keep the pool's parallelism: while a worker is blocked
//! in a wait for something it cannot run, the pool runs queued work on a
//! spare, and once the waiter resumes the pool steps back down to
//! `max_workers` threads. Plus a property over random trees of nested
//! waits, some holding a lock across the wait: they always finish with the
//! right value.

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use executor::{as_completed, wait, ReturnWhen, TaskHandle, ThreadPoolExecutor};
use proptest::prelude::*;
use support::{pool, within, Gate, HANG};

/// Polls `cond` until it holds; a hang guard (never a timing assertion).
fn eventually(what: &str, cond: impl Fn() -> bool) {
    let start = std::time::Instant::now();
    while !cond() {
        assert!(start.elapsed() < HANG, "{what}: never happened");
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
}

#[test]
fn a_blocked_worker_is_stood_in_for_and_the_spare_steps_down() {
    within(HANG, "spare worker", || {
        let a = Arc::new(pool(1));
        let b = pool(1);
        let gate = Gate::new();
        let g = gate.clone();
        let slow = Arc::new(b.submit(move || g.wait()));
        let waiting = {
            let slow = slow.clone();
            a.submit(move || {
                slow.wait(); // another pool's task: nothing to claim, so block
                "resumed"
            })
        };
        eventually("the waiter counts as blocked", || {
            a.stats().workers_blocked == 1
        });
        // The only worker is blocked, yet queued work runs (on a spare).
        let ran: Vec<_> = (0..20).map(|i| a.submit(move || i * 2)).collect();
        let values: Vec<i32> = ran.into_iter().map(|h| h.result().unwrap()).collect();
        assert_eq!(values, (0..20).map(|i| i * 2).collect::<Vec<_>>());
        assert!(!waiting.done(), "the waiter is still blocked");
        assert_eq!(a.stats().workers_blocked, 1);
        assert_eq!(
            a.stats().workers_alive,
            2,
            "one blocked worker and one spare"
        );

        gate.open();
        assert_eq!(waiting.result().unwrap(), "resumed");
        eventually("the pool is back to max_workers threads", || {
            let stats = a.stats();
            stats.workers_alive == 1 && stats.workers_blocked == 0
        });
        assert!(a.stats().threads_retired >= 1);
        // Still fully working afterwards.
        assert_eq!(a.submit(|| 5).result().unwrap(), 5);
    });
}

#[test]
fn a_waiter_claims_its_queued_task_without_a_spare() {
    within(HANG, "claim", || {
        let pool = Arc::new(pool(1));
        let p = pool.clone();
        let value = pool
            .submit(move || {
                let child = p.submit(|| 21);
                child.result().unwrap() * 2
            })
            .result()
            .unwrap();
        assert_eq!(value, 42);
        let stats = pool.stats();
        assert_eq!(
            stats.threads_started, 1,
            "the child ran on the waiter itself"
        );
        assert_eq!(stats.tasks_completed, 2);
    });
}

/// While `shutdown(wait)` drains the pool, its only worker waits for an
/// async task whose waker fires only then: the re-queued task still gets a
/// worker (a spare may start while the pool drains), and `shutdown`
/// returns once everything ran.
#[test]
fn a_pool_that_drains_still_stands_in_for_a_blocked_worker() {
    within(HANG, "drain with a blocked worker", || {
        let pool = Arc::new(pool(1));
        let (tx, rx) = futures::channel::oneshot::channel::<u32>();
        let (started_tx, started_rx) = std::sync::mpsc::channel();
        let p = pool.clone();
        let outer = pool.submit(move || {
            let inner = p.spawn(async move { rx.await.unwrap() + 1 });
            started_tx.send(()).unwrap();
            inner.result().unwrap()
        });
        started_rx.recv().unwrap();
        eventually("the worker blocks on its async task", || {
            pool.stats().workers_blocked == 1
        });
        let closer = {
            let pool = pool.clone();
            std::thread::spawn(move || pool.shutdown(true))
        };
        eventually("shutdown has begun", || pool.is_shutdown());
        tx.send(41).unwrap(); // only now can the async task finish
        closer.join().unwrap();
        assert_eq!(outer.result().unwrap(), 42);
        let stats = pool.stats();
        assert_eq!((stats.workers_alive, stats.workers_blocked), (0, 0));
        assert_eq!(stats.tasks_completed, 2);
    });
}

/// A worker blocked on another pool while its own pool shuts down without
/// waiting: `shutdown(false)` returns at once, the waiter finishes once
/// the other pool's task does, and then every thread exits.
#[test]
fn shutdown_without_waiting_leaves_a_blocked_worker_to_finish() {
    within(HANG, "shutdown(false) with a blocked worker", || {
        let a = Arc::new(pool(2));
        let b = pool(1);
        let gate = Gate::new();
        let g = gate.clone();
        let slow = Arc::new(b.submit(move || g.wait()));
        let s = slow.clone();
        let waiting = a.submit(move || {
            s.wait();
            7
        });
        eventually("the waiter blocks", || a.stats().workers_blocked == 1);
        a.shutdown(false);
        assert!(!waiting.done());
        gate.open();
        assert_eq!(waiting.result().unwrap(), 7);
        a.shutdown(true);
        assert_eq!(a.stats().workers_alive, 0);
    });
}

/// How a node of a random tree waits for its children.
#[derive(Clone, Copy, Debug)]
enum Join {
    Result,
    AsCompleted,
    Wait,
    Scope,
    Map,
}

fn any_join() -> impl Strategy<Value = Join> {
    prop_oneof![
        Just(Join::Result),
        Just(Join::AsCompleted),
        Just(Join::Wait),
        Just(Join::Scope),
        Just(Join::Map),
    ]
}

/// A tree node: its own weight, how it joins, and its children.
#[derive(Clone, Debug)]
struct Node {
    weight: u64,
    join: Join,
    children: Vec<Node>,
}

fn any_tree() -> impl Strategy<Value = Node> {
    let leaf = (1..100u64).prop_map(|weight| Node {
        weight,
        join: Join::Result,
        children: Vec::new(),
    });
    leaf.prop_recursive(4, 40, 4, |inner| {
        (1..100u64, any_join(), prop::collection::vec(inner, 1..4)).prop_map(
            |(weight, join, children)| Node {
                weight,
                join,
                children,
            },
        )
    })
}

fn total(node: &Node) -> u64 {
    node.weight + node.children.iter().map(total).sum::<u64>()
}

/// Computes a subtree on the pool, each node forking its children and
/// joining them the way it says.
fn compute(pool: &Arc<ThreadPoolExecutor>, node: Node) -> u64 {
    let weight = node.weight;
    if node.children.is_empty() {
        // A leaf takes a moment, so idle workers steal its siblings.
        std::thread::sleep(std::time::Duration::from_micros(200));
    }
    let spawn = |child: Node| -> TaskHandle<u64> {
        let p = Arc::clone(pool);
        pool.submit(move || compute(&p, child))
    };
    let children: u64 = match node.join {
        Join::Result => node
            .children
            .into_iter()
            .map(spawn)
            .collect::<Vec<_>>()
            .into_iter()
            .map(|h| h.result().unwrap())
            .sum(),
        Join::AsCompleted => {
            let handles: Vec<_> = node.children.into_iter().map(spawn).collect();
            as_completed(handles).map(|h| h.result().unwrap()).sum()
        }
        Join::Wait => {
            let handles: Vec<_> = node.children.into_iter().map(spawn).collect();
            let done = wait(handles, ReturnWhen::AllCompleted, None);
            assert!(done.not_done.is_empty());
            done.done.into_iter().map(|h| h.result().unwrap()).sum()
        }
        Join::Scope => pool.scope(|s| {
            let handles: Vec<_> = node
                .children
                .into_iter()
                .map(|child| s.submit(move || compute(pool, child)))
                .collect();
            handles.into_iter().map(|h| h.result().unwrap()).sum()
        }),
        Join::Map => {
            let p = Arc::clone(pool);
            pool.map(node.children, move |child| compute(&p, child))
                .map(Result::unwrap)
                .sum()
        }
    };
    weight + children
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(support::stress_size(32, 2_000) as u32))]

    /// Random trees of nested waits of every kind, several roots at once,
    /// each root holding one shared lock across its whole subtree's joins
    /// (the inner nodes never take it). The first root takes the lock
    /// before the others are queued, so while it waits for children stolen
    /// by other workers, the others are queued in the pool: a waiter that
    /// ran one of them on its stack would take the lock its own stack holds
    /// and hang. 32 cases by default, 2,000 with `EXECUTOR_STRESS=full`.
    #[test]
    fn nested_waits_of_every_kind_finish_with_the_right_values(
        workers in 1usize..=4,
        trees in prop::collection::vec(any_tree(), 2..5),
    ) {
        let expected: Vec<u64> = trees.iter().map(total).collect();
        let got = within(HANG, "random nested waits", move || {
            let pool = Arc::new(pool(workers));
            let lock = Arc::new(Mutex::new(()));
            let entered = Arc::new(AtomicUsize::new(0));
            let submit_root = |tree: Node| {
                let (p, lock, entered) = (pool.clone(), lock.clone(), entered.clone());
                pool.submit(move || {
                    let _guard = lock.lock().unwrap();
                    entered.fetch_add(1, Ordering::SeqCst);
                    compute(&p, tree)
                })
            };
            let mut trees = trees.into_iter();
            let mut roots = vec![submit_root(trees.next().unwrap())];
            eventually("the first root holds the lock", || {
                entered.load(Ordering::SeqCst) == 1
            });
            roots.extend(trees.map(submit_root));
            let values: Vec<u64> = roots.into_iter().map(|h| h.result().unwrap()).collect();
            (values, entered.load(Ordering::SeqCst))
        });
        prop_assert_eq!(got.1, expected.len());
        prop_assert_eq!(got.0, expected);
    }
}

/// A worker waiting for a task that runs on another worker helps with the
/// work spawned under that task (it took it from that worker's deque), and
/// with nothing else: on two workers, T runs on one, queues three children
/// on its own deque and blocks; P, on the other, waits for T. With no idle
/// worker and no spare needed yet, only P's help can run the children:
/// they run on P's thread while T still blocks.
#[test]
fn a_waiter_helps_with_work_spawned_under_the_task_it_waits_for() {
    within(HANG, "help under a running task", || {
        let pool = Arc::new(pool(2));
        let gate = Gate::new();
        let ran_on = Arc::new(Mutex::new(Vec::new()));
        let (pushed_tx, pushed_rx) = std::sync::mpsc::channel::<()>();
        let t = {
            let (p, g, ran_on) = (pool.clone(), gate.clone(), ran_on.clone());
            pool.submit(move || {
                let children: Vec<_> = (0..3)
                    .map(|_| {
                        let ran_on = ran_on.clone();
                        p.submit(move || ran_on.lock().unwrap().push(std::thread::current().id()))
                    })
                    .collect();
                pushed_tx.send(()).unwrap();
                g.wait(); // blocks its worker; the children wait in its deque
                children.into_iter().for_each(|c| c.result().unwrap());
            })
        };
        pushed_rx.recv().unwrap();
        let t = Arc::new(t);
        let waiter = {
            let t = t.clone();
            pool.submit(move || {
                // Times out (T blocks on the gate), after helping.
                assert!(!t.wait_timeout(std::time::Duration::from_millis(20)));
                std::thread::current().id()
            })
        };
        let helper = waiter.result().unwrap();
        let ran = ran_on.lock().unwrap().clone();
        assert_eq!(ran, vec![helper; 3], "all three children ran on the waiter");
        assert!(!t.done());
        gate.open();
        let t = Arc::into_inner(t).expect("the waiter is done with it");
        t.result().unwrap();
    });
}
