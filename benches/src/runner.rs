//! Runs the workloads: all pools in the same process, interleaved within each
//! round (the order rotates every round), warm-up rounds first, every result
//! checked against its expected checksum.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::config::{Config, Sizes};
use crate::contender::{Contender, Done, NotApplicable, Workload};
use crate::stats::{fmt_duration, percentile};
use crate::tree::Tree;
use crate::work::{expected_fib, expected_fib_locked, expected_map, mix_indices};

/// A table row: a workload, or one of W5's two percentiles.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Metric {
    /// W1.
    SpawnWait,
    /// W2.
    MapOrdered,
    /// W3.
    ForkJoin,
    /// W3-join.
    ForkJoinStack,
    /// W3-locks.
    ForkJoinLocked,
    /// W4.
    IoSleep,
    /// W5, median round trip of a run.
    LatencyP50,
    /// W5, 99th percentile round trip of a run.
    LatencyP99,
    /// W6 at its smallest tree (`Sizes::w6_depths[0]`), per sum.
    TreeSumSmall,
    /// W6 at its middle tree.
    TreeSumMedium,
    /// W6 at its largest tree.
    TreeSumLarge,
}

impl Metric {
    /// The rows a workload produces.
    pub fn of(w: Workload) -> &'static [Metric] {
        match w {
            Workload::SpawnWait => &[Metric::SpawnWait],
            Workload::MapOrdered => &[Metric::MapOrdered],
            Workload::ForkJoin => &[Metric::ForkJoin],
            Workload::ForkJoinStack => &[Metric::ForkJoinStack],
            Workload::ForkJoinLocked => &[Metric::ForkJoinLocked],
            Workload::IoSleep => &[Metric::IoSleep],
            Workload::Latency => &[Metric::LatencyP50, Metric::LatencyP99],
            Workload::TreeSum => &[
                Metric::TreeSumSmall,
                Metric::TreeSumMedium,
                Metric::TreeSumLarge,
            ],
        }
    }

    /// Key used in JSON and the plot.
    pub fn key(self) -> &'static str {
        match self {
            Metric::SpawnWait => "w1_spawn_wait",
            Metric::MapOrdered => "w2_map_ordered",
            Metric::ForkJoin => "w3_fork_join",
            Metric::ForkJoinStack => "w3j_fork_join_stack",
            Metric::ForkJoinLocked => "w3l_fork_join_locked",
            Metric::IoSleep => "w4_io_sleep",
            Metric::LatencyP50 => "w5_latency_p50",
            Metric::LatencyP99 => "w5_latency_p99",
            Metric::TreeSumSmall => "w6_tree_sum_small",
            Metric::TreeSumMedium => "w6_tree_sum_medium",
            Metric::TreeSumLarge => "w6_tree_sum_large",
        }
    }

    /// Short label for the plot.
    pub fn short(self) -> &'static str {
        match self {
            Metric::SpawnWait => "W1 spawn-wait",
            Metric::MapOrdered => "W2 map",
            Metric::ForkJoin => "W3 fork-join",
            Metric::ForkJoinStack => "W3-join",
            Metric::ForkJoinLocked => "W3-locks",
            Metric::IoSleep => "W4 io-sleep",
            Metric::LatencyP50 => "W5 p50",
            Metric::LatencyP99 => "W5 p99",
            Metric::TreeSumSmall => "W6 small",
            Metric::TreeSumMedium => "W6 medium",
            Metric::TreeSumLarge => "W6 large",
        }
    }
}

/// One pool's measurements of one metric.
#[derive(Clone, Debug)]
pub enum Cell {
    /// Timed runs (extrapolated to the nominal size when scaled).
    Ran {
        /// One duration per timed run.
        samples: Vec<Duration>,
        /// Size actually run.
        measured_n: usize,
        /// Size the row is about.
        nominal_n: usize,
    },
    /// Not run, and why.
    NotApplicable(NotApplicable),
}

impl Cell {
    /// Whether the time was measured at a smaller size and extrapolated.
    pub fn scaled(&self) -> bool {
        matches!(self, Cell::Ran { measured_n, nominal_n, .. } if measured_n != nominal_n)
    }
}

/// Everything a run measured.
#[derive(Debug)]
pub struct Results {
    /// Column names, in order.
    pub pools: Vec<&'static str>,
    /// Rows in order, each with one cell per pool (same order as `pools`).
    pub rows: Vec<(Metric, Vec<Cell>)>,
    /// Facts about the run worth printing (calibration, baselines).
    pub notes: Vec<String>,
    /// W2 kernel iterations (Rust).
    pub kernel_iters: u32,
    /// Sequential (1 thread) time of W2's compute, the baseline for the CPU limit.
    pub map_sequential: Option<Duration>,
    /// Sequential time of W3's fib.
    pub fib_sequential: Option<Duration>,
}

impl Results {
    /// The cell of `pool` in `metric`'s row.
    pub fn cell(&self, metric: Metric, pool: &str) -> Option<&Cell> {
        let col = self.pools.iter().position(|p| *p == pool)?;
        let (_, cells) = self.rows.iter().find(|(m, _)| *m == metric)?;
        cells.get(col)
    }
}

/// What a workload's run is checked against, cached by size.
struct Expectations {
    indices: HashMap<usize, u64>,
    map: HashMap<(usize, u32), u64>,
    fib: Option<u64>,
    fib_locked: Option<u64>,
    /// W6's trees, with their sums, by size index.
    trees: Vec<(Arc<Tree>, u64)>,
}

impl Expectations {
    fn indices(&mut self, n: usize) -> u64 {
        *self.indices.entry(n).or_insert_with(|| mix_indices(n))
    }

    fn map(&mut self, n: usize, iters: u32) -> u64 {
        *self
            .map
            .entry((n, iters))
            .or_insert_with(|| expected_map(n, iters).0)
    }
}

/// Runs every selected workload on every pool: `config.warmup` untimed rounds,
/// then `config.runs` timed ones.
pub fn run(config: &Config, pools: &mut [Box<dyn Contender>], kernel_iters: u32) -> Results {
    let sizes = config.sizes;
    let mut notes = Vec::new();
    let mut expect = Expectations {
        indices: HashMap::new(),
        map: HashMap::new(),
        fib: None,
        fib_locked: None,
        trees: Vec::new(),
    };
    let (mut map_sequential, mut fib_sequential) = (None, None);
    if config.workloads.contains(&Workload::MapOrdered) {
        let (sum, took) = expected_map(sizes.w2_items, kernel_iters);
        expect.map.insert((sizes.w2_items, kernel_iters), sum);
        map_sequential = Some(took);
    }
    if config.workloads.contains(&Workload::TreeSum) {
        expect.trees = sizes
            .w6_depths
            .iter()
            .map(|&depth| {
                let tree = Tree::new(depth);
                let sum = tree.expected_sum();
                (Arc::new(tree), sum)
            })
            .collect();
    }
    if config.workloads.contains(&Workload::ForkJoin)
        || config.workloads.contains(&Workload::ForkJoinStack)
    {
        let (value, took) = expected_fib(sizes.w3_n);
        expect.fib = Some(value);
        fib_sequential = Some(took);
    }
    if config.workloads.contains(&Workload::ForkJoinLocked) {
        let roots = sizes.w3l_roots(config.params.workers);
        let fib = expected_fib(sizes.w3l_n).0;
        expect.fib_locked = Some(expected_fib_locked(roots, fib));
    }

    let names: Vec<&'static str> = pools.iter().map(|p| p.name()).collect();
    let mut rows: Vec<(Metric, Vec<Option<Cell>>)> = config
        .workloads
        .iter()
        .flat_map(|w| Metric::of(*w))
        .map(|m| (*m, vec![None; pools.len()]))
        .collect();

    let rounds = config.warmup + config.runs;
    for round in 0..rounds {
        let timed = round >= config.warmup;
        let label = if timed { "timed" } else { "warm-up" };
        for &workload in &config.workloads {
            let mut line = format!(
                "round {}/{} ({label}) {}:",
                round + 1,
                rounds,
                workload.id()
            );
            for k in 0..pools.len() {
                let col = (k + round) % pools.len();
                let pool = &mut pools[col];
                let measured = run_one(
                    &mut **pool,
                    workload,
                    &sizes,
                    config.params.workers,
                    kernel_iters,
                    &mut expect,
                );
                for (metric, result) in measured {
                    if metric != Metric::LatencyP99 {
                        let shown = match &result {
                            Ok((t, _, _)) => fmt_duration(*t),
                            Err(_) => "n/a".to_string(),
                        };
                        line += &format!(" {}={shown}", names[col]);
                    }
                    let (_, cells) = rows
                        .iter_mut()
                        .find(|(m, _)| *m == metric)
                        .expect("row for metric");
                    record(&mut cells[col], result, timed, names[col], metric);
                }
            }
            eprintln!("{line}");
        }
    }

    let rows = rows
        .into_iter()
        .map(|(metric, cells)| {
            let cells = cells
                .into_iter()
                .map(|c| c.expect("every pool ran every row"))
                .collect();
            (metric, cells)
        })
        .collect();

    notes.push(format!(
        "W2 kernel: {kernel_iters} iterations per item (calibrated to {} on this machine)",
        fmt_duration(sizes.w2_item)
    ));
    Results {
        pools: names,
        rows,
        notes,
        kernel_iters,
        map_sequential,
        fib_sequential,
    }
}

/// `Ok((time, measured size, nominal size))`, or why it was not run.
type Measurement = Result<(Duration, usize, usize), NotApplicable>;

/// One measurement per metric of a workload.
type Measured = Vec<(Metric, Measurement)>;

/// Adds one run's measurement to a cell (keeping the time only if `timed`).
fn record(slot: &mut Option<Cell>, result: Measurement, timed: bool, pool: &str, metric: Metric) {
    match (slot.as_mut(), result) {
        (None, Ok((time, measured_n, nominal_n))) => {
            *slot = Some(Cell::Ran {
                samples: if timed { vec![time] } else { Vec::new() },
                measured_n,
                nominal_n,
            });
        }
        (None, Err(na)) => *slot = Some(Cell::NotApplicable(na)),
        (Some(Cell::Ran { samples, .. }), Ok((time, _, _))) => {
            if timed {
                samples.push(time);
            }
        }
        (Some(Cell::NotApplicable(_)), Err(_)) => {}
        (Some(_), _) => panic!(
            "{pool} switched between runnable and n/a on {}",
            metric.key()
        ),
    }
}

/// Runs one workload once on one pool, checks it, returns its time(s).
fn run_one(
    pool: &mut dyn Contender,
    workload: Workload,
    sizes: &Sizes,
    workers: usize,
    kernel_iters: u32,
    expect: &mut Expectations,
) -> Measured {
    let name = pool.name();
    let check = |got: u64, want: u64, what: &str| {
        assert!(
            got == want,
            "\n\n*** CHECKSUM MISMATCH: {name} {what}: got {got:#018x}, expected {want:#018x} ***\n\
             *** the pool lost, duplicated or reordered results ***\n"
        );
    };
    let timed = |pool: &mut dyn Contender,
                 f: &dyn Fn(&mut dyn Contender) -> Result<Done, NotApplicable>| {
        let start = Instant::now();
        let outcome = f(pool);
        let elapsed = start.elapsed();
        outcome.map(|done| (done.self_timed.unwrap_or(elapsed), done.checksum))
    };
    let scale = |time: Duration, measured: usize, nominal: usize| {
        if measured == nominal {
            time
        } else {
            time.mul_f64(nominal as f64 / measured as f64)
        }
    };
    match workload {
        Workload::SpawnWait => {
            let nominal = sizes.w1_tasks;
            let n = pool.scaled_size(workload, nominal);
            let result = timed(pool, &|p| p.spawn_wait(n)).map(|(t, sum)| {
                check(sum, expect.indices(n), &format!("W1 ({n} tasks)"));
                (scale(t, n, nominal), n, nominal)
            });
            vec![(Metric::SpawnWait, result)]
        }
        Workload::MapOrdered => {
            let nominal = sizes.w2_items;
            let n = pool.scaled_size(workload, nominal);
            let iters = pool.kernel_iters(kernel_iters);
            let result = timed(pool, &|p| p.map_ordered(n, iters)).map(|(t, sum)| {
                check(sum, expect.map(n, iters), &format!("W2 ({n} items)"));
                (scale(t, n, nominal), n, nominal)
            });
            vec![(Metric::MapOrdered, result)]
        }
        Workload::ForkJoin => {
            let result =
                timed(pool, &|p| p.fork_join(sizes.w3_n, sizes.w3_cutoff)).map(|(t, v)| {
                    check(v, expect.fib.expect("fib expected"), "W3 fib");
                    (t, 1, 1)
                });
            vec![(Metric::ForkJoin, result)]
        }
        Workload::ForkJoinStack => {
            let result =
                timed(pool, &|p| p.fork_join_stack(sizes.w3_n, sizes.w3_cutoff)).map(|(t, v)| {
                    check(v, expect.fib.expect("fib expected"), "W3-join fib");
                    (t, 1, 1)
                });
            vec![(Metric::ForkJoinStack, result)]
        }
        Workload::TreeSum => {
            let metrics = Metric::of(Workload::TreeSum);
            let mut out = Vec::new();
            for (k, (tree, want)) in expect.trees.iter().enumerate() {
                let reps = sizes.w6_reps[k];
                let result = timed(pool, &|p| p.tree_sum(tree, reps)).map(|(t, sum)| {
                    check(
                        sum,
                        *want,
                        &format!("W6 (2^{} - 1 nodes)", sizes.w6_depths[k]),
                    );
                    (t / reps as u32, 1, 1)
                });
                out.push((metrics[k], result));
            }
            out
        }
        Workload::ForkJoinLocked => {
            let roots = sizes.w3l_roots(workers);
            let (n, cutoff) = (sizes.w3l_n, sizes.w3_cutoff);
            let result = timed(pool, &|p| p.fork_join_locked(roots, n, cutoff)).map(|(t, v)| {
                let want = expect.fib_locked.expect("W3-locks expected");
                check(v, want, &format!("W3-locks ({roots} × fib({n}))"));
                (t, 1, 1)
            });
            vec![(Metric::ForkJoinLocked, result)]
        }
        Workload::IoSleep => {
            let nominal = sizes.w4_tasks;
            let n = pool.scaled_size(workload, nominal);
            let result = timed(pool, &|p| p.io_sleep(n, sizes.w4_sleep)).map(|(t, sum)| {
                check(sum, expect.indices(n), &format!("W4 ({n} tasks)"));
                (scale(t, n, nominal), n, nominal)
            });
            vec![(Metric::IoSleep, result)]
        }
        Workload::Latency => {
            let mut lat = Vec::with_capacity(sizes.w5_samples);
            for i in 0..sizes.w5_samples as u64 {
                std::thread::sleep(sizes.w5_gap);
                let start = Instant::now();
                let got = pool.round_trip(i);
                let took = start.elapsed();
                match got {
                    Ok(v) => check(v, i + 1, "W5 round trip"),
                    Err(na) => {
                        return vec![(Metric::LatencyP50, Err(na)), (Metric::LatencyP99, Err(na))]
                    }
                }
                lat.push(took);
            }
            lat.sort_unstable();
            let n = sizes.w5_samples;
            vec![
                (Metric::LatencyP50, Ok((percentile(&lat, 0.50), n, n))),
                (Metric::LatencyP99, Ok((percentile(&lat, 0.99), n, n))),
            ]
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::parse;
    use crate::contender::{Outcome, DEADLOCKS};
    use crate::work::{kernel, mix, MIX_START};

    /// A sequential "pool" that can be told to return one result out of order.
    struct Inline {
        swap_first_two: bool,
    }

    impl Inline {
        fn fold(&self, mut xs: Vec<u64>) -> Outcome {
            if self.swap_first_two && xs.len() > 1 {
                xs.swap(0, 1);
            }
            Ok(xs.into_iter().fold(MIX_START, mix).into())
        }
    }

    impl Contender for Inline {
        fn name(&self) -> &'static str {
            "inline"
        }
        fn scaled_size(&self, w: Workload, n: usize) -> usize {
            if w == Workload::SpawnWait {
                n / 2
            } else {
                n
            }
        }
        fn spawn_wait(&mut self, n: usize) -> Outcome {
            self.fold((0..n as u64).collect())
        }
        fn map_ordered(&mut self, n: usize, iters: u32) -> Outcome {
            self.fold((0..n as u64).map(|i| kernel(i, iters)).collect())
        }
        fn fork_join(&mut self, _n: u32, _cutoff: u32) -> Outcome {
            Err(DEADLOCKS)
        }
        fn fork_join_locked(&mut self, roots: usize, n: u32, _cutoff: u32) -> Outcome {
            let fib = crate::work::fib_seq(n);
            self.fold((0..roots as u64).map(|i| fib + i).collect())
        }
        fn io_sleep(&mut self, n: usize, _sleep: Duration) -> Outcome {
            self.fold((0..n as u64).collect())
        }
        fn round_trip(&mut self, x: u64) -> Result<u64, NotApplicable> {
            Ok(x + 1)
        }
    }

    fn quick() -> Config {
        parse(["--quick", "--warmup", "1", "--runs", "2"].map(String::from)).unwrap()
    }

    #[test]
    fn records_samples_scaling_and_not_applicable() {
        let config = quick();
        let mut pools: Vec<Box<dyn Contender>> = vec![Box::new(Inline {
            swap_first_two: false,
        })];
        let results = run(&config, &mut pools, 10);
        assert_eq!(results.pools, ["inline"]);
        assert_eq!(results.rows.len(), 11);
        match results.cell(Metric::SpawnWait, "inline").unwrap() {
            c @ Cell::Ran { samples, .. } => {
                assert_eq!(samples.len(), 2, "warm-up rounds are not recorded");
                assert!(c.scaled());
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            results.cell(Metric::ForkJoin, "inline"),
            Some(Cell::NotApplicable(DEADLOCKS))
        ));
        assert!(!results.cell(Metric::LatencyP99, "inline").unwrap().scaled());
        match results.cell(Metric::ForkJoinLocked, "inline").unwrap() {
            Cell::Ran { samples, .. } => assert_eq!(samples.len(), 2),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    #[should_panic(expected = "CHECKSUM MISMATCH")]
    fn swapped_locked_roots_fail_loudly() {
        let mut config = quick();
        config.workloads = vec![Workload::ForkJoinLocked];
        let mut pools: Vec<Box<dyn Contender>> = vec![Box::new(Inline {
            swap_first_two: true,
        })];
        run(&config, &mut pools, 10);
    }

    #[test]
    #[should_panic(expected = "CHECKSUM MISMATCH")]
    fn reordered_results_fail_loudly() {
        let mut config = quick();
        config.workloads = vec![Workload::MapOrdered];
        let mut pools: Vec<Box<dyn Contender>> = vec![Box::new(Inline {
            swap_first_two: true,
        })];
        run(&config, &mut pools, 10);
    }
}
