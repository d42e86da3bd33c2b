//! rayon: `ThreadPool` with `scope`/`spawn` (W1, W4), `par_iter` (W2),
//! `join` (W3) and `install` (W5). rayon has no task handles: W1 and W4
//! write each result into its own slot inside a scope. W3-locks is not run:
//! it deadlocks (rayon issue #592).

use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use rayon::prelude::*;

use crate::contender::{Contender, NotApplicable, Outcome, Params};
use crate::tree::{Tree, NONE};
use crate::work::{fib_seq, kernel, mix, MIX_START};

/// Two `rayon::ThreadPool`s.
pub struct Rayon {
    pool: rayon::ThreadPool,
    io: rayon::ThreadPool,
}

impl Rayon {
    /// Builds both pools.
    pub fn new(params: Params) -> Rayon {
        let build = |n| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(n)
                .build()
                .expect("rayon: building the pool failed")
        };
        Rayon {
            pool: build(params.workers),
            io: build(params.io_workers),
        }
    }
}

fn fib(n: u32, cutoff: u32) -> u64 {
    if n <= cutoff {
        return fib_seq(n);
    }
    let (a, b) = rayon::join(|| fib(n - 1, cutoff), || fib(n - 2, cutoff));
    a + b
}

/// Runs `task(i)` for `i` in `0..n` as one spawn each in a scope of `pool`,
/// each writing its own slot.
fn scoped_slots(pool: &rayon::ThreadPool, n: usize, task: impl Fn(u64) -> u64 + Sync) -> u64 {
    let mut slots = vec![0u64; n];
    let task = &task;
    pool.scope(|s| {
        for (i, slot) in slots.iter_mut().enumerate() {
            s.spawn(move |_| *slot = task(i as u64));
        }
    });
    slots.into_iter().fold(MIX_START, mix)
}

/// W6 on rayon: a `rayon::join` at every inner node.
fn tree_sum(tree: &Tree, i: u32) -> u64 {
    let node = tree.node(i);
    if node.left == NONE {
        return node.val;
    }
    let (a, b) = rayon::join(|| tree_sum(tree, node.left), || tree_sum(tree, node.right));
    node.val + a + b
}

impl Contender for Rayon {
    fn name(&self) -> &'static str {
        "rayon"
    }

    fn spawn_wait(&mut self, n: usize) -> Outcome {
        Ok(scoped_slots(&self.pool, n, |i| i).into())
    }

    fn map_ordered(&mut self, n: usize, iters: u32) -> Outcome {
        let out: Vec<u64> = self.pool.install(|| {
            (0..n as u64)
                .into_par_iter()
                .map(|i| kernel(i, iters))
                .collect()
        });
        Ok(out.into_iter().fold(MIX_START, mix).into())
    }

    fn fork_join(&mut self, n: u32, cutoff: u32) -> Outcome {
        Ok(self.pool.install(|| fib(n, cutoff)).into())
    }

    fn fork_join_stack(&mut self, n: u32, cutoff: u32) -> Outcome {
        // rayon's W3 is already its stack-based join.
        self.fork_join(n, cutoff)
    }

    fn tree_sum(&mut self, tree: &Arc<Tree>, reps: usize) -> Outcome {
        let sum = self.pool.install(|| {
            let mut sum = 0;
            for _ in 0..reps {
                sum = tree_sum(black_box(tree), 0);
            }
            sum
        });
        Ok(sum.into())
    }

    fn fork_join_locked(&mut self, _roots: usize, _n: u32, _cutoff: u32) -> Outcome {
        // Not run: a root waiting in `join` steals another root, which blocks
        // on the mutex its own thread already holds.
        Err(NotApplicable(
            "deadlocks: join runs another root on a thread holding the lock (rayon #592)",
        ))
    }

    fn io_sleep(&mut self, n: usize, sleep: Duration) -> Outcome {
        let sum = scoped_slots(&self.io, n, |i| {
            std::thread::sleep(sleep);
            i
        });
        Ok(sum.into())
    }

    fn round_trip(&mut self, x: u64) -> Result<u64, NotApplicable> {
        Ok(self.pool.install(|| black_box(x) + 1))
    }
}
