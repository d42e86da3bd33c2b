//! Command line and workload sizes.

use std::path::PathBuf;
use std::time::Duration;

use crate::contender::{Params, Workload};
use crate::pools::NAMES;

/// Workload sizes (DESIGN.md "Performance"; `--quick` shrinks them).
#[derive(Clone, Copy, Debug)]
pub struct Sizes {
    /// W1 task count.
    pub w1_tasks: usize,
    /// W2 item count.
    pub w2_items: usize,
    /// W2 compute per item.
    pub w2_item: Duration,
    /// W3 fib argument.
    pub w3_n: u32,
    /// W3 (and W3-locks): fork only above this `n`.
    pub w3_cutoff: u32,
    /// W3-locks fib argument of each tree.
    pub w3l_n: u32,
    /// W3-locks trees (root tasks) per worker.
    pub w3l_roots_per_worker: usize,
    /// W4 task count.
    pub w4_tasks: usize,
    /// W4 sleep per task.
    pub w4_sleep: Duration,
    /// W5 round trips per run.
    pub w5_samples: usize,
    /// W5 pause before each round trip, so the workers go idle and park.
    pub w5_gap: Duration,
    /// W6 tree depths: trees of `2^depth - 1` nodes.
    pub w6_depths: [u32; 3],
    /// W6 sums per timed call, per depth (the row shows the time per sum).
    pub w6_reps: [usize; 3],
}

impl Sizes {
    /// The sizes of DESIGN.md.
    pub const FULL: Sizes = Sizes {
        w1_tasks: 200_000,
        w2_items: 100_000,
        w2_item: Duration::from_micros(2),
        w3_n: 30,
        w3_cutoff: 15,
        w3l_n: 25,
        w3l_roots_per_worker: 4,
        w4_tasks: 2_000,
        w4_sleep: Duration::from_millis(2),
        w5_samples: 500,
        w5_gap: Duration::from_millis(1),
        w6_depths: [10, 20, 24],
        w6_reps: [4_000, 8, 1],
    };

    /// Tiny sizes for CI (`--quick`): checks every column, finishes in seconds.
    pub const QUICK: Sizes = Sizes {
        w1_tasks: 2_000,
        w2_items: 1_000,
        w2_item: Duration::from_micros(2),
        w3_n: 20,
        w3_cutoff: 12,
        w3l_n: 18,
        w3l_roots_per_worker: 4,
        w4_tasks: 128,
        w4_sleep: Duration::from_millis(2),
        w5_samples: 20,
        w5_gap: Duration::from_millis(1),
        w6_depths: [8, 12, 14],
        w6_reps: [100, 4, 1],
    };

    /// W3-locks root count: more roots than workers, so roots are still
    /// queued while a worker holding the lock waits on its children.
    pub fn w3l_roots(&self, workers: usize) -> usize {
        self.w3l_roots_per_worker * workers
    }

    /// W4's ideal time: every worker sleeping back to back.
    pub fn w4_ideal(&self, io_workers: usize) -> Duration {
        let waves = self.w4_tasks as f64 / io_workers as f64;
        self.w4_sleep.mul_f64(waves)
    }
}

/// Everything the command line chose.
#[derive(Clone, Debug)]
pub struct Config {
    /// Workload sizes.
    pub sizes: Sizes,
    /// `--quick` was given.
    pub quick: bool,
    /// Untimed rounds before the timed ones.
    pub warmup: usize,
    /// Timed rounds.
    pub runs: usize,
    /// Pool sizes.
    pub params: Params,
    /// Columns to run, by name.
    pub pools: Vec<String>,
    /// Workloads to run.
    pub workloads: Vec<Workload>,
    /// `--json PATH`.
    pub json: Option<PathBuf>,
    /// `--plot DIR`.
    pub plot: Option<PathBuf>,
}

/// Usage text for `--help`.
pub const USAGE: &str = "\
executor-bench: executor vs rayon, threadpool, futures, tokio, a hand-written pool and Python

USAGE: cargo run --release -p executor-bench -- [OPTIONS]

OPTIONS:
  --quick            tiny sizes, 1 warm-up + 1 timed run (CI: checks every column in seconds)
  --runs N           timed rounds (default 5; --quick: 1)
  --warmup N         untimed rounds first (default 1)
  --json PATH        also write every sample, median, min and max as JSON
  --plot DIR         write DIR/benchmarks.svg, a bar chart of the ratios to executor
  --pools A,B,..     columns to run (default all): executor,sequential,rayon,chili,threadpool,futures,tokio,hand-written,python
  --workloads W,..   rows to run (default all): w1,w2,w3,w3j,w3l,w4,w5,w6 (w3j: W3 through join; w3l: W3-locks)
  --no-python        same as leaving python out of --pools
  -h, --help         this text
";

/// Parses the command line (without the program name).
pub fn parse(args: impl IntoIterator<Item = String>) -> Result<Config, String> {
    let mut quick = false;
    let (mut runs, mut warmup) = (None, None);
    let (mut json, mut plot) = (None, None);
    let mut pools: Vec<String> = NAMES.iter().map(|s| s.to_string()).collect();
    let mut workloads = Workload::ALL.to_vec();
    let mut no_python = false;
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let mut value = |flag: &str| args.next().ok_or_else(|| format!("{flag} needs a value"));
        match arg.as_str() {
            "--quick" => quick = true,
            "--runs" => runs = Some(parse_count(&value("--runs")?, "--runs", 1)?),
            "--warmup" => warmup = Some(parse_count(&value("--warmup")?, "--warmup", 0)?),
            "--json" => json = Some(PathBuf::from(value("--json")?)),
            "--plot" => plot = Some(PathBuf::from(value("--plot")?)),
            "--pools" => {
                pools = split_list(&value("--pools")?);
                if let Some(bad) = pools.iter().find(|p| !NAMES.contains(&p.as_str())) {
                    return Err(format!("unknown pool {bad:?}; known: {}", NAMES.join(",")));
                }
            }
            "--workloads" => {
                let ids = split_list(&value("--workloads")?);
                workloads = Workload::ALL
                    .into_iter()
                    .filter(|w| ids.iter().any(|id| id == w.id()))
                    .collect();
                if let Some(bad) = ids
                    .iter()
                    .find(|id| !Workload::ALL.iter().any(|w| w.id() == id.as_str()))
                {
                    let known: Vec<_> = Workload::ALL.iter().map(|w| w.id()).collect();
                    return Err(format!(
                        "unknown workload {bad:?}; known: {}",
                        known.join(",")
                    ));
                }
            }
            "--no-python" => no_python = true,
            "-h" | "--help" => return Err(String::new()),
            // `cargo bench` passes `--bench` to every target.
            "--bench" => {}
            other => return Err(format!("unknown option {other:?}")),
        }
    }
    if no_python {
        pools.retain(|p| p != "python");
    }
    if pools.is_empty() || workloads.is_empty() {
        return Err("nothing to run".to_string());
    }
    let workers = num_cpus::get();
    Ok(Config {
        sizes: if quick { Sizes::QUICK } else { Sizes::FULL },
        quick,
        warmup: warmup.unwrap_or(1),
        runs: runs.unwrap_or(if quick { 1 } else { 5 }),
        params: Params {
            workers,
            io_workers: 64,
        },
        pools,
        workloads,
        json,
        plot,
    })
}

fn parse_count(s: &str, flag: &str, min: usize) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(n) if n >= min => Ok(n),
        _ => Err(format!("{flag} wants a whole number >= {min}, got {s:?}")),
    }
}

fn split_list(s: &str) -> Vec<String> {
    s.split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(str::to_string)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_string).collect()
    }

    #[test]
    fn defaults() {
        let c = parse(args("")).unwrap();
        assert_eq!((c.warmup, c.runs, c.quick), (1, 5, false));
        assert_eq!(c.pools.len(), NAMES.len());
        assert_eq!(c.sizes.w1_tasks, 200_000);
        assert_eq!(c.sizes.w4_ideal(64), Duration::from_micros(62_500));
    }

    #[test]
    fn quick_and_filters() {
        let c = parse(args(
            "--quick --pools executor,rayon --workloads w1,w5 --json x.json",
        ))
        .unwrap();
        assert_eq!((c.warmup, c.runs, c.quick), (1, 1, true));
        assert_eq!(c.pools, ["executor", "rayon"]);
        assert_eq!(c.workloads, [Workload::SpawnWait, Workload::Latency]);
        assert_eq!(c.json, Some(PathBuf::from("x.json")));
    }

    #[test]
    fn w3_locks_id_and_sizes() {
        let c = parse(args("--workloads w3l")).unwrap();
        assert_eq!(c.workloads, [Workload::ForkJoinLocked]);
        let (full, quick) = (parse(args("")).unwrap(), parse(args("--quick")).unwrap());
        assert!(full.workloads.contains(&Workload::ForkJoinLocked));
        for s in [full.sizes, quick.sizes] {
            assert!(s.w3l_n > s.w3_cutoff, "W3-locks must fork");
            assert!(s.w3l_roots(2) > 2, "roots must outnumber workers");
        }
        assert!(quick.sizes.w3l_n < full.sizes.w3l_n);
    }

    #[test]
    fn rejects_nonsense() {
        assert!(parse(args("--runs 0")).is_err());
        assert!(parse(args("--pools nope")).is_err());
        assert!(parse(args("--frobnicate")).is_err());
        assert!(parse(args("--json")).is_err());
    }
}
