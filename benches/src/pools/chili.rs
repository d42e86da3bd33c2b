//! chili (a Rust port of the Spice heartbeat scheduler): only fork-join,
//! W3-join and W6. Its pool counts the thread that opens a scope as one
//! of its workers, so `thread_count` = workers gives the same parallelism.

use std::hint::black_box;
use std::num::NonZeroUsize;
use std::sync::Arc;
use std::time::Duration;

use chili::{Scope, ThreadPool};

use crate::contender::{Contender, NotApplicable, Outcome, Params};
use crate::tree::{Tree, NONE};
use crate::work::fib_seq;

/// Why chili sits out the task workloads.
const FORK_JOIN_ONLY: NotApplicable = NotApplicable("fork-join only");

/// A `chili::ThreadPool` of `workers` threads (the caller included).
pub struct Chili {
    pool: ThreadPool,
}

impl Chili {
    /// Builds the pool.
    pub fn new(params: Params) -> Chili {
        let config = chili::Config {
            thread_count: NonZeroUsize::new(params.workers),
            ..chili::Config::default()
        };
        Chili {
            pool: ThreadPool::with_config(config),
        }
    }
}

fn fib(n: u32, cutoff: u32, s: &mut Scope<'_>) -> u64 {
    if n <= cutoff {
        return fib_seq(n);
    }
    let (a, b) = s.join(|s| fib(n - 1, cutoff, s), |s| fib(n - 2, cutoff, s));
    a + b
}

fn tree_sum(tree: &Tree, i: u32, s: &mut Scope<'_>) -> u64 {
    let node = tree.node(i);
    if node.left == NONE {
        return node.val;
    }
    let (a, b) = s.join(
        |s| tree_sum(tree, node.left, s),
        |s| tree_sum(tree, node.right, s),
    );
    node.val + a + b
}

impl Contender for Chili {
    fn name(&self) -> &'static str {
        "chili"
    }

    fn note(&self) -> Option<String> {
        Some(
            "chili 0.2 (heartbeat scheduling, default 100 µs heartbeat): W3-join and W6 only"
                .into(),
        )
    }

    fn spawn_wait(&mut self, _n: usize) -> Outcome {
        Err(FORK_JOIN_ONLY)
    }

    fn map_ordered(&mut self, _n: usize, _iters: u32) -> Outcome {
        Err(FORK_JOIN_ONLY)
    }

    fn fork_join(&mut self, _n: u32, _cutoff: u32) -> Outcome {
        Err(FORK_JOIN_ONLY)
    }

    fn fork_join_stack(&mut self, n: u32, cutoff: u32) -> Outcome {
        Ok(fib(n, cutoff, &mut self.pool.scope()).into())
    }

    fn tree_sum(&mut self, tree: &Arc<Tree>, reps: usize) -> Outcome {
        let mut s = self.pool.scope();
        let mut sum = 0;
        for _ in 0..reps {
            sum = tree_sum(black_box(tree), 0, &mut s);
        }
        Ok(sum.into())
    }

    fn fork_join_locked(&mut self, _roots: usize, _n: u32, _cutoff: u32) -> Outcome {
        Err(FORK_JOIN_ONLY)
    }

    fn io_sleep(&mut self, _n: usize, _sleep: Duration) -> Outcome {
        Err(FORK_JOIN_ONLY)
    }

    fn round_trip(&mut self, _x: u64) -> Result<u64, NotApplicable> {
        Err(FORK_JOIN_ONLY)
    }
}
