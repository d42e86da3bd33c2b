//! `executor`: this workspace's pool, the column every ratio is relative to.

use std::hint::black_box;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use executor::ThreadPoolExecutor;

use crate::contender::{Contender, Outcome, Params};
use crate::tree::{Tree, NONE};
use crate::work::{fib_seq, kernel, mix, MIX_START};

/// `executor::ThreadPoolExecutor`, one pool per worker count.
pub struct Executor {
    pool: Arc<ThreadPoolExecutor>,
    io: ThreadPoolExecutor,
}

impl Executor {
    /// Builds both pools.
    pub fn new(params: Params) -> Executor {
        let build = |workers, prefix| {
            ThreadPoolExecutor::builder()
                .max_workers(workers)
                .thread_name_prefix(prefix)
                .build()
                .expect("executor: building the pool failed")
        };
        Executor {
            pool: Arc::new(build(params.workers, "bench")),
            io: build(params.io_workers, "bench-io"),
        }
    }
}

/// W3 on `executor`: the second half forks as a task; the first half runs
/// here; then `result()` joins (on a worker it runs the forked task itself if
/// it is still queued, or helps with work spawned under it if it was stolen).
fn fib(pool: &Arc<ThreadPoolExecutor>, n: u32, cutoff: u32) -> u64 {
    if n <= cutoff {
        return fib_seq(n);
    }
    let forked = Arc::clone(pool);
    let right = pool.submit(move || fib(&forked, n - 2, cutoff));
    let left = fib(pool, n - 1, cutoff);
    left + right.result().expect("executor: fib task failed")
}

/// W3-join on `executor`: both halves through `executor::join`, the second
/// one a frame on the stack that another worker takes only on request.
fn fib_join(n: u32, cutoff: u32) -> u64 {
    if n <= cutoff {
        return fib_seq(n);
    }
    let (a, b) = executor::join(|| fib_join(n - 1, cutoff), || fib_join(n - 2, cutoff));
    a + b
}

/// W6 on `executor`: a `join` at every inner node.
fn tree_sum(tree: &Tree, i: u32) -> u64 {
    let node = tree.node(i);
    if node.left == NONE {
        return node.val;
    }
    let (a, b) = executor::join(|| tree_sum(tree, node.left), || tree_sum(tree, node.right));
    node.val + a + b
}

impl Contender for Executor {
    fn name(&self) -> &'static str {
        "executor"
    }

    fn spawn_wait(&mut self, n: usize) -> Outcome {
        let handles: Vec<_> = (0..n as u64).map(|i| self.pool.submit(move || i)).collect();
        let sum = handles.into_iter().fold(MIX_START, |acc, h| {
            mix(acc, h.result().expect("executor: W1 task failed"))
        });
        Ok(sum.into())
    }

    fn map_ordered(&mut self, n: usize, iters: u32) -> Outcome {
        let sum = self
            .pool
            .map(0..n as u64, move |i| kernel(i, iters))
            .fold(MIX_START, |acc, r| {
                mix(acc, r.expect("executor: W2 map item failed"))
            });
        Ok(sum.into())
    }

    fn fork_join(&mut self, n: u32, cutoff: u32) -> Outcome {
        let pool = Arc::clone(&self.pool);
        let root = self.pool.submit(move || fib(&pool, n, cutoff));
        Ok(root.result().expect("executor: W3 root failed").into())
    }

    fn fork_join_stack(&mut self, n: u32, cutoff: u32) -> Outcome {
        let root = self.pool.submit(move || fib_join(n, cutoff));
        Ok(root.result().expect("executor: W3-join root failed").into())
    }

    fn tree_sum(&mut self, tree: &Arc<Tree>, reps: usize) -> Outcome {
        let tree = Arc::clone(tree);
        let root = self.pool.submit(move || {
            let mut sum = 0;
            for _ in 0..reps {
                sum = tree_sum(black_box(&tree), 0);
            }
            sum
        });
        Ok(root.result().expect("executor: W6 root failed").into())
    }

    fn fork_join_locked(&mut self, roots: usize, n: u32, cutoff: u32) -> Outcome {
        // No timeout here on purpose: if the pool runs another root on the
        // thread holding the lock, this hangs, and that must stay visible.
        let lock = Arc::new(Mutex::new(()));
        let handles: Vec<_> = (0..roots as u64)
            .map(|i| {
                let (pool, lock) = (Arc::clone(&self.pool), Arc::clone(&lock));
                self.pool.submit(move || {
                    let guard = lock.lock().expect("executor: W3-locks lock poisoned");
                    let value = fib(&pool, n, cutoff) + i;
                    drop(guard);
                    value
                })
            })
            .collect();
        let sum = handles.into_iter().fold(MIX_START, |acc, h| {
            mix(acc, h.result().expect("executor: W3-locks root failed"))
        });
        Ok(sum.into())
    }

    fn io_sleep(&mut self, n: usize, sleep: Duration) -> Outcome {
        let handles: Vec<_> = (0..n as u64)
            .map(|i| {
                self.io.submit(move || {
                    std::thread::sleep(sleep);
                    i
                })
            })
            .collect();
        let sum = handles.into_iter().fold(MIX_START, |acc, h| {
            mix(acc, h.result().expect("executor: W4 task failed"))
        });
        Ok(sum.into())
    }

    fn round_trip(&mut self, x: u64) -> Result<u64, crate::contender::NotApplicable> {
        Ok(self
            .pool
            .submit(move || x + 1)
            .result()
            .expect("executor: W5 task failed"))
    }
}
