//! The interface every column of the table implements: one small module per pool.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::tree::Tree;

/// The workloads of DESIGN.md ("Performance").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Workload {
    /// W1 spawn-wait: `n` tasks returning their index, every result collected.
    SpawnWait,
    /// W2 map-ordered: `n` items of ~2 µs compute, results in input order.
    MapOrdered,
    /// W3 fork-join: recursive fib(n), forking above a cutoff, joining on results.
    ForkJoin,
    /// W3-join: W3 through each pool's stack-based `join` (no handles).
    ForkJoinStack,
    /// W3-locks: K fib trees whose root tasks each hold one shared mutex
    /// while they join on their children (the shape of rayon issue #592).
    ForkJoinLocked,
    /// W4 io-sleep: `n` tasks sleeping on a 64-worker pool.
    IoSleep,
    /// W5 latency: submit-then-result round trip on an idle pool.
    Latency,
    /// W6 fine-grained fork-join: the sum of a balanced binary tree,
    /// forking at every inner node, at three sizes.
    TreeSum,
}

impl Workload {
    /// All workloads, in table order.
    pub const ALL: [Workload; 8] = [
        Workload::SpawnWait,
        Workload::MapOrdered,
        Workload::ForkJoin,
        Workload::ForkJoinStack,
        Workload::ForkJoinLocked,
        Workload::IoSleep,
        Workload::Latency,
        Workload::TreeSum,
    ];

    /// Short id, as used on the command line (`w1` .. `w6`, `w3j`, `w3l`).
    pub fn id(self) -> &'static str {
        match self {
            Workload::SpawnWait => "w1",
            Workload::MapOrdered => "w2",
            Workload::ForkJoin => "w3",
            Workload::ForkJoinStack => "w3j",
            Workload::ForkJoinLocked => "w3l",
            Workload::IoSleep => "w4",
            Workload::Latency => "w5",
            Workload::TreeSum => "w6",
        }
    }
}

/// A workload this pool cannot run, with the reason shown in the table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NotApplicable(pub &'static str);

impl fmt::Display for NotApplicable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "n/a ({})", self.0)
    }
}

/// The reason a pool without a stack-based `join` gets for W3-join and W6.
pub const NO_JOIN: NotApplicable = NotApplicable("no join");

/// The reason every pool without work-while-waiting gets for W3.
pub const DEADLOCKS: NotApplicable = NotApplicable("deadlocks");

/// What one run of a workload returned.
#[derive(Clone, Copy, Debug)]
pub struct Done {
    /// The order-sensitive checksum of the results (see `work::mix`).
    pub checksum: u64,
    /// Set by contenders that time themselves (the Python subprocess);
    /// otherwise the harness times the call.
    pub self_timed: Option<Duration>,
}

impl From<u64> for Done {
    fn from(checksum: u64) -> Done {
        Done {
            checksum,
            self_timed: None,
        }
    }
}

/// The result of one run.
pub type Outcome = Result<Done, NotApplicable>;

/// One pool under test. Pools are built once (with `Params::workers` threads,
/// and `Params::io_workers` for W4) and reused by every round.
pub trait Contender {
    /// Column name.
    fn name(&self) -> &'static str;

    /// A line for the report's notes (versions, stand-ins), if any.
    fn note(&self) -> Option<String> {
        None
    }

    /// The size this contender really runs when the workload asks for `n`
    /// (a column too slow for the full size scales down; the harness then
    /// extrapolates the time per item and marks the cell).
    fn scaled_size(&self, _workload: Workload, n: usize) -> usize {
        n
    }

    /// W2's kernel iteration count for this column: `rust_iters` (calibrated
    /// to the per-item target in Rust) unless the column calibrates its own
    /// (Python: the same ~2 µs of Python). The harness checks W2 against it.
    fn kernel_iters(&self, rust_iters: u32) -> u32 {
        rust_iters
    }

    /// W1: submit `n` tasks, task `i` returning `i`; collect every result
    /// through the pool's handle (or a per-task channel) and `mix` them in order.
    fn spawn_wait(&mut self, n: usize) -> Outcome;

    /// W2: `kernel(i, iters)` for `i` in `0..n`, results mixed in input order.
    fn map_ordered(&mut self, n: usize, iters: u32) -> Outcome;

    /// W3: fib(n) forking above `cutoff`, each fork joined on its result.
    fn fork_join(&mut self, n: u32, cutoff: u32) -> Outcome;

    /// W3-join: fib(n) forking above `cutoff` through the pool's `join`.
    fn fork_join_stack(&mut self, _n: u32, _cutoff: u32) -> Outcome {
        Err(NO_JOIN)
    }

    /// W6: `reps` sums of `tree` one after the other, each forking at every
    /// inner node through the pool's `join`, all inside the pool (entered
    /// once per call); returns the last sum.
    fn tree_sum(&mut self, _tree: &Arc<Tree>, _reps: usize) -> Outcome {
        Err(NO_JOIN)
    }

    /// W3-locks: `roots` fib(n) trees, submitted together and all joined. Each
    /// root task locks one mutex shared by all roots, then computes fib(n)
    /// forking above `cutoff` exactly like W3 (inner nodes do not lock),
    /// holding the guard across every join, and unlocks at the end. Root `i`
    /// returns `fib(n) + i`; the results are mixed in root order. A pool whose
    /// waiting worker runs unrelated queued work starts another root on the
    /// thread that holds the lock and deadlocks (rayon #592).
    fn fork_join_locked(&mut self, roots: usize, n: u32, cutoff: u32) -> Outcome;

    /// W4: `n` tasks, task `i` sleeps `sleep` then returns `i`, on the
    /// `io_workers` pool; results mixed in order.
    fn io_sleep(&mut self, n: usize, sleep: Duration) -> Outcome;

    /// W5: one submit-then-result round trip of a task returning `x + 1`.
    fn round_trip(&mut self, x: u64) -> Result<u64, NotApplicable>;
}

/// Pool sizes every contender is built with.
#[derive(Clone, Copy, Debug)]
pub struct Params {
    /// Workers for W1, W2, W3, W3-locks, W5 (`num_cpus::get()`).
    pub workers: usize,
    /// Workers for W4.
    pub io_workers: usize,
}
