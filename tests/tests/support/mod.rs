//! Helpers shared by the acceptance tests.

#![allow(dead_code)]

use std::sync::mpsc;
use std::time::Duration;

/// Runs `f` on a helper thread and fails the test if it has not finished
/// within `limit`: turns a deadlock into a failure instead of a hung run.
/// (A limit, never a timing assertion: it is set far above normal run times.)
pub fn within<T: Send + 'static>(
    limit: Duration,
    what: &str,
    f: impl FnOnce() -> T + Send + 'static,
) -> T {
    let (tx, rx) = mpsc::channel();
    let worker = std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    match rx.recv_timeout(limit) {
        Ok(value) => {
            worker.join().expect("the checked closure's thread");
            value
        }
        Err(mpsc::RecvTimeoutError::Timeout) => {
            panic!("{what}: still not finished after {limit:?} (deadlock?)")
        }
        Err(mpsc::RecvTimeoutError::Disconnected) => match worker.join() {
            Err(payload) => std::panic::resume_unwind(payload),
            Ok(()) => unreachable!("the closure sent its value or panicked"),
        },
    }
}

/// The generous limit used to catch hangs.
pub const HANG: Duration = Duration::from_secs(60);

/// A gate that tasks block on until the test opens it.
#[derive(Clone, Default)]
pub struct Gate(std::sync::Arc<(std::sync::Mutex<bool>, std::sync::Condvar)>);

impl Gate {
    pub fn new() -> Self {
        Self::default()
    }

    /// Blocks until the gate opens, or for `HANG` at most: a test that fails
    /// with its gate closed must not then hang in the pool's `Drop`.
    pub fn wait(&self) {
        let (open, cv) = &*self.0;
        let open = open.lock().unwrap();
        drop(cv.wait_timeout_while(open, HANG, |open| !*open).unwrap());
    }

    pub fn open(&self) {
        let (open, cv) = &*self.0;
        *open.lock().unwrap() = true;
        cv.notify_all();
    }
}

/// A pool of `workers` workers, the other settings at their defaults.
pub fn pool(workers: usize) -> executor::ThreadPoolExecutor {
    executor::ThreadPoolExecutor::builder()
        .max_workers(workers)
        .build()
        .unwrap()
}

/// A one-worker pool whose only worker is held by a task blocked on the
/// returned gate: tasks submitted next stay queued until the gate opens.
pub fn blocked_pool() -> (executor::ThreadPoolExecutor, Gate, executor::TaskHandle<()>) {
    block_the_worker(pool(1))
}

/// [`blocked_pool`] with a bounded queue of `capacity` places, returning
/// once the blocker runs (so that it holds none of them).
pub fn blocked_bounded_pool(
    capacity: usize,
) -> (executor::ThreadPoolExecutor, Gate, executor::TaskHandle<()>) {
    let pool = executor::ThreadPoolExecutor::builder()
        .max_workers(1)
        .queue_capacity(capacity)
        .build()
        .unwrap();
    let (pool, gate, blocker) = block_the_worker(pool);
    while !blocker.running() {
        std::thread::yield_now();
    }
    (pool, gate, blocker)
}

fn block_the_worker(
    pool: executor::ThreadPoolExecutor,
) -> (executor::ThreadPoolExecutor, Gate, executor::TaskHandle<()>) {
    let gate = Gate::new();
    let g = gate.clone();
    let blocker = pool.submit(move || g.wait());
    (pool, gate, blocker)
}

/// Scales a stress size: `full` when `EXECUTOR_STRESS=full`, else `light`.
pub fn stress_size(light: usize, full: usize) -> usize {
    match std::env::var("EXECUTOR_STRESS").as_deref() {
        Ok("full") => full,
        _ => light,
    }
}

/// Total user + system CPU ticks (from /proc, Linux only) of this process's threads whose name starts with `prefix`.
#[cfg(target_os = "linux")]
pub fn cpu_ticks_of_threads(prefix: &str) -> (u64, usize) {
    let mut ticks = 0;
    let mut threads = 0;
    for entry in std::fs::read_dir("/proc/self/task").unwrap() {
        let dir = entry.unwrap().path();
        let Ok(comm) = std::fs::read_to_string(dir.join("comm")) else {
            continue;
        };
        if !comm.trim_end().starts_with(prefix) {
            continue;
        }
        let stat = std::fs::read_to_string(dir.join("stat")).unwrap();
        // Fields after the parenthesised command name; utime and stime are
        // fields 14 and 15 of the whole line, so 12 and 13 after the name.
        let after = &stat[stat.rfind(')').unwrap() + 2..];
        let fields: Vec<&str> = after.split_whitespace().collect();
        ticks += fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
        threads += 1;
    }
    (ticks, threads)
}
