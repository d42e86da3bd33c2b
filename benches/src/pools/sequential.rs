//! The sequential baseline: no pool, one thread. Runs the fork-join
//! workloads as plain recursion (W3, W3-join: fib; W6: the tree sum), so
//! each row shows what forking costs and what parallelism buys.

use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use crate::contender::{Contender, NotApplicable, Outcome};
use crate::tree::{sum_seq, Tree};
use crate::work::fib_seq;

/// Why the baseline sits out the task workloads.
const NOT_A_POOL: NotApplicable = NotApplicable("not a pool");

/// One thread, no pool.
pub struct Sequential;

impl Contender for Sequential {
    fn name(&self) -> &'static str {
        "sequential"
    }

    fn spawn_wait(&mut self, _n: usize) -> Outcome {
        Err(NOT_A_POOL)
    }

    fn map_ordered(&mut self, _n: usize, _iters: u32) -> Outcome {
        Err(NOT_A_POOL)
    }

    fn fork_join(&mut self, n: u32, _cutoff: u32) -> Outcome {
        Ok(fib_seq(black_box(n)).into())
    }

    fn fork_join_stack(&mut self, n: u32, _cutoff: u32) -> Outcome {
        Ok(fib_seq(black_box(n)).into())
    }

    fn tree_sum(&mut self, tree: &Arc<Tree>, reps: usize) -> Outcome {
        let mut sum = 0;
        for _ in 0..reps {
            sum = sum_seq(black_box(tree), 0);
        }
        Ok(sum.into())
    }

    fn fork_join_locked(&mut self, _roots: usize, _n: u32, _cutoff: u32) -> Outcome {
        Err(NOT_A_POOL)
    }

    fn io_sleep(&mut self, _n: usize, _sleep: Duration) -> Outcome {
        Err(NOT_A_POOL)
    }

    fn round_trip(&mut self, _x: u64) -> Result<u64, NotApplicable> {
        Err(NOT_A_POOL)
    }
}
