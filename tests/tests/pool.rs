//! Building, scheduling order, nested waits, broken pools and shutdown.

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};

use executor::{BuildError, TaskError, TaskHandle, ThreadPoolBuilder, ThreadPoolExecutor};
use support::{within, Gate, HANG};

#[test]
fn builder_rejects_bad_configurations() {
    let err = ThreadPoolExecutor::builder()
        .max_workers(0)
        .build()
        .unwrap_err();
    assert!(matches!(err, BuildError::ZeroWorkers));
    assert_eq!(err.to_string(), "max_workers must be at least 1");
    let err = ThreadPoolExecutor::builder()
        .max_workers(2)
        .min_workers(3)
        .build()
        .unwrap_err();
    assert!(
        matches!(err, BuildError::MinAboveMax { min: 3, max: 2 }),
        "{err:?}"
    );
    let err = ThreadPoolExecutor::builder()
        .queue_capacity(0)
        .build()
        .unwrap_err();
    assert!(matches!(err, BuildError::ZeroCapacity));
}

#[test]
fn builder_rejects_a_thread_name_prefix_with_a_nul_byte() {
    // std's thread builder panics on such a name when it spawns the thread:
    // `build` must say so instead, also when it starts no thread itself
    // (`min_workers(0)`: the first submit would have started one).
    for min in [1, 0] {
        let err = ThreadPoolExecutor::builder()
            .thread_name_prefix("io\0pool")
            .min_workers(min)
            .build()
            .unwrap_err();
        assert!(
            matches!(&err, BuildError::InvalidThreadName(prefix) if prefix == "io\0pool"),
            "{err:?}"
        );
        assert_eq!(
            err.to_string(),
            r#"thread_name_prefix must not contain a NUL byte (got "io\0pool")"#
        );
    }
}

#[test]
fn builder_rejects_more_workers_than_the_pool_can_count() {
    let cap = ThreadPoolBuilder::MAX_WORKERS;
    assert_eq!(cap, 32_767);
    // Neither overflows (`max_workers + spare slots`) nor allocates slots
    // for them: refused before anything is made.
    for max in [cap + 1, usize::MAX / 2, usize::MAX] {
        let err = ThreadPoolExecutor::builder()
            .max_workers(max)
            .min_workers(0)
            .build()
            .unwrap_err();
        assert!(
            matches!(err, BuildError::TooManyWorkers { max: m } if m == max),
            "{err:?}"
        );
        assert_eq!(
            err.to_string(),
            format!("max_workers ({max}) must not exceed 32767")
        );
    }
    // The cap itself builds, lazily, and runs tasks.
    let pool = ThreadPoolExecutor::builder()
        .max_workers(cap)
        .min_workers(0)
        .build()
        .unwrap();
    assert_eq!(pool.max_workers(), cap);
    assert_eq!(pool.submit(|| 6 * 7).result().unwrap(), 42);
    assert_eq!(pool.stats().threads_started, 1);
}

#[test]
fn builder_rejects_stack_sizes_a_worker_cannot_run_on() {
    let (min, max) = (
        ThreadPoolBuilder::MIN_STACK_SIZE,
        ThreadPoolBuilder::MAX_STACK_SIZE,
    );
    assert_eq!((min, max), (64 * 1024, isize::MAX as usize));
    // 0 used to build (std raises it to the platform minimum) and then
    // crash the process when a task panicked on that stack.
    for bytes in [0, 1, 16 * 1024, min - 1, max + 1, usize::MAX] {
        let err = ThreadPoolExecutor::builder()
            .stack_size(bytes)
            .build()
            .unwrap_err();
        assert!(
            matches!(err, BuildError::InvalidStackSize { bytes: b } if b == bytes),
            "{bytes}: {err:?}"
        );
        assert_eq!(
            err.to_string(),
            format!("stack_size ({bytes} bytes) must be between 65536 and {max} bytes")
        );
    }
    // The smallest accepted size runs tasks, even one whose panic the
    // worker catches and reports on that stack.
    let pool = ThreadPoolExecutor::builder()
        .stack_size(min)
        .max_workers(1)
        .build()
        .unwrap();
    let err = pool
        .submit(|| -> u32 { panic!("on a small stack") })
        .result()
        .unwrap_err();
    assert_eq!(err.into_panic().message(), Some("on a small stack"));
    assert_eq!(pool.submit(|| 2).result().unwrap(), 2);
}

#[test]
fn builder_accepts_the_extremes_of_the_other_settings() {
    // Nothing to refuse: these run as documented rather than panic.
    // keep_alive(0): a worker above the minimum retires as soon as it is
    // idle; keep_alive(Duration::MAX): never; queue_capacity(usize::MAX):
    // as good as unbounded.
    use std::time::Duration;
    for keep_alive in [Duration::ZERO, Duration::MAX] {
        let pool = ThreadPoolExecutor::builder()
            .max_workers(2)
            .min_workers(0)
            .keep_alive(keep_alive)
            .queue_capacity(usize::MAX)
            .build()
            .unwrap();
        let handles: Vec<_> = (0..100).map(|i| pool.submit(move || i * 2)).collect();
        let sum: usize = handles.into_iter().map(|h| h.result().unwrap()).sum();
        assert_eq!(sum, 9_900, "{keep_alive:?}");
    }
}

#[test]
fn failed_thread_spawn_is_a_build_error() {
    // An absurd stack size makes the OS refuse the thread.
    let err = ThreadPoolExecutor::builder()
        .stack_size(usize::MAX / 2)
        .min_workers(1)
        .build()
        .unwrap_err();
    assert!(matches!(err, BuildError::Spawn(_)), "{err:?}");
    assert!(err
        .to_string()
        .starts_with("could not start a worker thread"));
}

#[test]
fn default_max_workers_is_the_cpu_count() {
    assert_eq!(ThreadPoolExecutor::new().max_workers(), num_cpus());
}

fn num_cpus() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
}

#[test]
fn workers_are_named_with_the_prefix() {
    let pool = ThreadPoolExecutor::builder()
        .max_workers(3)
        .min_workers(3)
        .thread_name_prefix("io")
        .build()
        .unwrap();
    let gate = Gate::new();
    let names = Arc::new(Mutex::new(Vec::new()));
    let handles: Vec<_> = (0..3)
        .map(|_| {
            let (g, n) = (gate.clone(), names.clone());
            pool.submit(move || {
                n.lock()
                    .unwrap()
                    .push(std::thread::current().name().unwrap().to_owned());
                g.wait();
            })
        })
        .collect();
    while names.lock().unwrap().len() < 3 {
        std::thread::yield_now();
    }
    gate.open();
    handles.into_iter().for_each(|h| h.result().unwrap());
    let mut names = names.lock().unwrap().clone();
    names.sort();
    assert_eq!(names, ["io-0", "io-1", "io-2"]);
}

#[test]
fn stack_size_is_applied() {
    let pool = ThreadPoolExecutor::builder()
        .stack_size(16 << 20)
        .max_workers(1)
        .build()
        .unwrap();
    // 8 MiB on the stack overflows a default 2 MiB worker stack; 16 MiB fits it.
    let ok = pool.submit(|| {
        let big = [1_u8; 8 << 20];
        std::hint::black_box(&big)
            .iter()
            .map(|&b| b as usize)
            .sum::<usize>()
    });
    assert_eq!(ok.result().unwrap(), 8 << 20);
}

#[test]
fn single_worker_runs_outside_submissions_in_order() {
    let pool = ThreadPoolExecutor::builder()
        .max_workers(1)
        .build()
        .unwrap();
    let order = Arc::new(Mutex::new(Vec::new()));
    let handles: Vec<_> = (0..1000)
        .map(|i| {
            let order = order.clone();
            pool.submit(move || order.lock().unwrap().push(i))
        })
        .collect();
    handles.into_iter().for_each(|h| h.result().unwrap());
    assert_eq!(*order.lock().unwrap(), (0..1000).collect::<Vec<_>>());
}

/// fib through submit + result from inside tasks: every level waits on its
/// children from a worker thread.
fn fib(pool: &Arc<ThreadPoolExecutor>, n: u64) -> u64 {
    if n < 2 {
        return n;
    }
    let p = pool.clone();
    let left = pool.submit(move || fib(&p, n - 1));
    let right = fib(pool, n - 2);
    left.result().unwrap() + right
}

#[test]
fn nested_submit_and_wait_does_not_deadlock_on_one_worker() {
    for workers in [1, 2] {
        let value = within(HANG, "nested fib", move || {
            let pool = Arc::new(
                ThreadPoolExecutor::builder()
                    .max_workers(workers)
                    .build()
                    .unwrap(),
            );
            let p = pool.clone();
            let v = pool.submit(move || fib(&p, 16)).result().unwrap();
            drop(pool);
            v
        });
        assert_eq!(value, 987, "fib(16) on {workers} worker(s)");
    }
}

#[test]
fn three_levels_of_nested_waits_on_one_worker() {
    // Python's pool deadlocks here: the only worker waits for a task that
    // can only run on that worker.
    let levels = within(HANG, "three nested levels", || {
        let pool = Arc::new(
            ThreadPoolExecutor::builder()
                .max_workers(1)
                .build()
                .unwrap(),
        );
        let (p1, p2) = (pool.clone(), pool.clone());
        let outer = pool.submit(move || {
            let middle = p1.submit(move || {
                let inner = p2.submit(|| 1);
                inner.result().unwrap() + 1
            });
            middle.result().unwrap() + 1
        });
        outer.result().unwrap()
    });
    assert_eq!(levels, 3);
}

#[test]
fn waiting_worker_picks_up_work_submitted_later_from_outside() {
    // The only worker waits on a handle whose task is submitted from
    // outside after the wait began: the sleep protocol must wake it.
    let got = within(HANG, "late outside submit", || {
        let pool = Arc::new(
            ThreadPoolExecutor::builder()
                .max_workers(1)
                .build()
                .unwrap(),
        );
        let (tx, rx) = mpsc::channel::<TaskHandle<u32>>();
        let waiter = pool.submit(move || rx.recv().unwrap().result().unwrap());
        std::thread::sleep(std::time::Duration::from_millis(20));
        tx.send(pool.submit(|| 40)).unwrap();
        waiter.result().unwrap() + 2
    });
    assert_eq!(got, 42);
}

#[test]
fn tasks_submitted_inside_a_worker_are_stolen_by_others() {
    let pool = Arc::new(
        ThreadPoolExecutor::builder()
            .max_workers(2)
            .min_workers(2)
            .build()
            .unwrap(),
    );
    let gate = Gate::new();
    let (p, g) = (pool.clone(), gate.clone());
    let (tx, rx) = mpsc::channel();
    // The parent pushes a child on its own deque and then blocks on the
    // gate without helping, so only the other worker can run the child.
    let parent = pool.submit(move || {
        let child = p.submit(|| std::thread::current().name().map(String::from));
        tx.send(child).unwrap();
        g.wait();
        std::thread::current().name().map(String::from)
    });
    let child = rx.recv().unwrap();
    let child_name = within(HANG, "the child is stolen", move || child.result().unwrap());
    gate.open();
    let parent_name = parent.result().unwrap();
    assert_ne!(child_name, parent_name, "the child ran on the other worker");
    assert_eq!(pool.stats().tasks_stolen, 1);
}

#[test]
fn panicking_initializer_breaks_the_pool_without_hanging() {
    let outcome = within(HANG, "broken pool", || {
        let pool = ThreadPoolExecutor::builder()
            .max_workers(2)
            .initializer(|| panic!("no database"))
            .build()
            .unwrap();
        let handles: Vec<_> = (0..50).map(|i| pool.submit(move || i)).collect();
        let results: Vec<_> = handles.into_iter().map(TaskHandle::result).collect();
        let later = pool.submit(|| 1).result();
        (
            pool.is_broken(),
            results,
            later,
            pool.try_submit(|| 2).map(|_| ()),
        )
    });
    let (broken, results, later, try_later) = outcome;
    assert!(broken);
    assert!(
        results.iter().all(|r| matches!(r, Err(TaskError::Broken))),
        "{results:?}"
    );
    assert!(matches!(later, Err(TaskError::Broken)));
    assert!(matches!(try_later, Err(executor::SubmitError::Broken(_))));
}

#[test]
fn initializer_runs_once_per_worker_before_work() {
    let inits = Arc::new(AtomicUsize::new(0));
    let i = inits.clone();
    let pool = ThreadPoolExecutor::builder()
        .max_workers(2)
        .min_workers(2)
        .initializer(move || {
            i.fetch_add(1, Ordering::SeqCst);
        })
        .build()
        .unwrap();
    let seen = pool.submit({
        let inits = inits.clone();
        move || inits.load(Ordering::SeqCst)
    });
    assert!(
        seen.result().unwrap() >= 1,
        "the initializer ran before the task"
    );
    pool.shutdown(true);
    assert_eq!(inits.load(Ordering::SeqCst), 2);
}

#[test]
fn shutdown_wait_runs_every_queued_task_and_joins_workers() {
    let pool = ThreadPoolExecutor::builder()
        .max_workers(2)
        .build()
        .unwrap();
    let ran = Arc::new(AtomicUsize::new(0));
    let handles: Vec<_> = (0..500)
        .map(|_| {
            let ran = ran.clone();
            pool.submit(move || ran.fetch_add(1, Ordering::SeqCst))
        })
        .collect();
    pool.shutdown(true);
    assert_eq!(ran.load(Ordering::SeqCst), 500);
    assert!(handles.iter().all(TaskHandle::done));
    assert_eq!(pool.stats().workers_alive, 0, "every worker exited");
    pool.shutdown(true); // idempotent
    pool.shutdown_with(false, true);
}

#[test]
fn shutdown_with_cancel_futures_cancels_the_queue() {
    let pool = ThreadPoolExecutor::builder()
        .max_workers(1)
        .build()
        .unwrap();
    let gate = Gate::new();
    let g = gate.clone();
    let running = pool.submit(move || {
        g.wait();
        "finished"
    });
    while !running.running() {
        std::thread::yield_now();
    }
    let queued: Vec<_> = (0..100).map(|i| pool.submit(move || i)).collect();
    let opener = {
        let gate = gate.clone();
        std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(10));
            gate.open();
        })
    };
    within(HANG, "shutdown with cancel", move || {
        pool.shutdown_with(true, true);
        assert_eq!(
            running.result().unwrap(),
            "finished",
            "the running task finishes"
        );
        for h in queued {
            assert!(matches!(h.result(), Err(TaskError::Cancelled)));
        }
        assert_eq!(pool.stats().tasks_cancelled, 100);
    });
    opener.join().unwrap();
}

#[test]
fn shutdown_from_inside_a_worker_does_not_deadlock() {
    let done = within(HANG, "shutdown from a task", || {
        let pool = Arc::new(
            ThreadPoolExecutor::builder()
                .max_workers(2)
                .build()
                .unwrap(),
        );
        let p = pool.clone();
        let h = pool.submit(move || {
            p.shutdown(true);
            p.is_shutdown()
        });
        h.result().unwrap()
    });
    assert!(done);
}

#[test]
fn drop_waits_for_queued_work() {
    let ran = Arc::new(AtomicUsize::new(0));
    {
        let pool = ThreadPoolExecutor::builder()
            .max_workers(2)
            .build()
            .unwrap();
        for _ in 0..200 {
            let ran = ran.clone();
            drop(pool.submit(move || {
                std::thread::yield_now();
                ran.fetch_add(1, Ordering::SeqCst)
            }));
        }
    }
    assert_eq!(ran.load(Ordering::SeqCst), 200);
}

#[test]
fn global_pool_is_shared_and_works() {
    let a = executor::global() as *const ThreadPoolExecutor;
    let b = executor::global() as *const ThreadPoolExecutor;
    assert_eq!(a, b);
    assert_eq!(executor::global().submit(|| 5).result().unwrap(), 5);
}

#[test]
fn stats_count_what_happened() {
    let pool = ThreadPoolExecutor::builder()
        .max_workers(2)
        .build()
        .unwrap();
    let ok: Vec<_> = (0..10).map(|i| pool.submit(move || i)).collect();
    let bad: Vec<_> = (0..3).map(|_| pool.submit(|| panic!("x"))).collect();
    ok.into_iter().for_each(|h| assert!(h.result().is_ok()));
    bad.into_iter()
        .for_each(|h| assert!(h.result().unwrap_err().is_panic()));
    let s = pool.stats();
    assert_eq!(
        (s.tasks_completed, s.tasks_panicked, s.tasks_running),
        (10, 3, 0)
    );
    assert!(s.threads_started >= 1 && s.threads_started <= 2);
    pool.shutdown(true);
    assert_eq!(pool.stats().tasks_queued, 0);
}

#[test]
fn wait_timeout_on_a_worker_runs_the_awaited_queued_task() {
    // One worker, waiting with a timeout for a task queued behind it: it
    // must run that task itself rather than time out.
    let got = within(HANG, "timed nested wait", || {
        let pool = Arc::new(
            ThreadPoolExecutor::builder()
                .max_workers(1)
                .build()
                .unwrap(),
        );
        let p = pool.clone();
        pool.submit(move || {
            let inner = p.submit(|| 41);
            let finished = inner.wait_timeout(std::time::Duration::from_secs(30));
            (finished, inner.result().unwrap() + 1)
        })
        .result()
        .unwrap()
    });
    assert_eq!(got, (true, 42));
}

#[test]
fn cancelled_means_the_closure_was_already_dropped() {
    let (pool, gate, blocker) = support::blocked_pool();
    let token = Arc::new(());
    let held = token.clone();
    let victim = pool.submit(move || drop(held));
    let observed = Arc::new(AtomicUsize::new(usize::MAX));
    let (t, o) = (token.clone(), observed.clone());
    // The callback runs on the cancelling thread: the captures must be gone by then.
    victim.add_done_callback(move |_| o.store(Arc::strong_count(&t), Ordering::SeqCst));
    assert!(victim.cancel());
    assert_eq!(
        observed.load(Ordering::SeqCst),
        2,
        "only the test's two references remain"
    );
    gate.open();
    blocker.result().unwrap();
}

#[test]
fn running_tasks_may_submit_subtasks_while_the_pool_drains() {
    let pool = Arc::new(
        ThreadPoolExecutor::builder()
            .max_workers(2)
            .build()
            .unwrap(),
    );
    let gate = Gate::new();
    let (p, g) = (pool.clone(), gate.clone());
    let parent = pool.submit(move || {
        g.wait();
        // The pool is shutting down by now; a subtask from inside is accepted.
        p.submit(|| 20).result().map(|v| v + 1)
    });
    while !parent.running() {
        std::thread::yield_now();
    }
    pool.shutdown(false);
    assert!(
        matches!(pool.submit(|| 0).result(), Err(TaskError::Rejected)),
        "outside submits are refused"
    );
    gate.open();
    let got = within(HANG, "drain", move || parent.result().unwrap());
    assert_eq!(got.unwrap(), 21);
    pool.shutdown(true);
}
