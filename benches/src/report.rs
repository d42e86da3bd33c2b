//! The markdown table, the target check and the JSON file.

use std::fmt::Write as _;
use std::time::Duration;

use serde_json::{json, Map, Value};

use crate::config::Config;
use crate::runner::{Cell, Metric, Results};
use crate::stats::{fmt_duration, Summary};

/// The pool every ratio is relative to.
pub const BASELINE: &str = "executor";

/// Pools that hand back a per-task handle or channel (W1's fair comparison).
const HANDLE_ANCHORS: [&str; 4] = ["threadpool", "futures", "tokio", "hand-written"];

/// The machine the run happened on.
#[derive(Clone, Debug)]
pub struct Machine {
    /// Logical CPUs (`nproc`).
    pub cpus: usize,
    /// CPU model name from /proc/cpuinfo.
    pub cpu_model: String,
}

impl Machine {
    /// Reads the machine's facts.
    pub fn detect() -> Machine {
        let cpu_model = std::fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|s| {
                s.lines()
                    .find(|l| l.starts_with("model name"))
                    .and_then(|l| l.split_once(':'))
                    .map(|(_, v)| v.trim().to_string())
            })
            .unwrap_or_else(|| "unknown".to_string());
        Machine {
            cpus: std::thread::available_parallelism().map_or(1, |n| n.get()),
            cpu_model,
        }
    }
}

impl Results {
    /// Median of a ran cell.
    pub fn median(&self, metric: Metric, pool: &str) -> Option<Duration> {
        match self.cell(metric, pool)? {
            Cell::Ran { samples, .. } if !samples.is_empty() => Some(Summary::of(samples).median),
            _ => None,
        }
    }

    /// `pool`'s median divided by executor's (> 1: executor is faster).
    pub fn ratio(&self, metric: Metric, pool: &str) -> Option<f64> {
        let base = self.median(metric, BASELINE)?;
        let time = self.median(metric, pool)?;
        (base > Duration::ZERO).then(|| time.as_secs_f64() / base.as_secs_f64())
    }

    /// W4 efficiency of `pool`: ideal time / median time.
    pub fn w4_efficiency(&self, config: &Config, pool: &str) -> Option<f64> {
        let ideal = config.sizes.w4_ideal(config.params.io_workers);
        let time = self.median(Metric::IoSleep, pool)?;
        Some(ideal.as_secs_f64() / time.as_secs_f64())
    }
}

fn row_title(metric: Metric, config: &Config) -> String {
    let s = &config.sizes;
    match metric {
        Metric::SpawnWait => format!("W1 spawn-wait ({} tasks)", thousands(s.w1_tasks)),
        Metric::MapOrdered => format!(
            "W2 map-ordered ({} × {})",
            thousands(s.w2_items),
            fmt_duration(s.w2_item)
        ),
        Metric::ForkJoin => format!("W3 fork-join (fib({}), fork above {})", s.w3_n, s.w3_cutoff),
        Metric::ForkJoinStack => format!(
            "W3-join fork-join through join (fib({}), fork above {})",
            s.w3_n, s.w3_cutoff
        ),
        Metric::ForkJoinLocked => format!(
            "W3-locks fork-join holding a lock ({} × fib({}), fork above {})",
            s.w3l_roots(config.params.workers),
            s.w3l_n,
            s.w3_cutoff
        ),
        Metric::IoSleep => format!(
            "W4 io-sleep ({} × {}, {} workers)",
            thousands(s.w4_tasks),
            fmt_duration(s.w4_sleep),
            config.params.io_workers
        ),
        Metric::LatencyP50 => "W5 latency p50".to_string(),
        Metric::LatencyP99 => "W5 latency p99".to_string(),
        Metric::TreeSumSmall | Metric::TreeSumMedium | Metric::TreeSumLarge => {
            let k = w6_index(metric);
            format!(
                "W6 tree sum (2^{} - 1 nodes, join at every node; per sum)",
                s.w6_depths[k]
            )
        }
    }
}

/// Which of W6's sizes a W6 row is.
fn w6_index(metric: Metric) -> usize {
    match metric {
        Metric::TreeSumSmall => 0,
        Metric::TreeSumMedium => 1,
        _ => 2,
    }
}

/// `200000` → `200,000`.
pub fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The results as a markdown table, with its legend.
pub fn markdown_table(results: &Results, config: &Config) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "| workload | {} |", results.pools.join(" | "));
    let _ = writeln!(out, "|---|{}", "---:|".repeat(results.pools.len()));
    let mut scaled = Vec::new();
    for (metric, cells) in &results.rows {
        let mut line = format!("| {} |", row_title(*metric, config));
        for (pool, cell) in results.pools.iter().zip(cells) {
            let text = match cell {
                Cell::NotApplicable(na) => na.to_string(),
                Cell::Ran { samples, .. } if samples.is_empty() => "no timed run".to_string(),
                Cell::Ran { samples, .. } => {
                    let mut t = fmt_duration(Summary::of(samples).median);
                    if let Cell::Ran {
                        measured_n,
                        nominal_n,
                        ..
                    } = cell
                    {
                        if measured_n != nominal_n {
                            t.push('†');
                            scaled.push(format!(
                                "{pool} {} at {} instead of {}",
                                metric.short(),
                                thousands(*measured_n),
                                thousands(*nominal_n)
                            ));
                        }
                    }
                    match results.ratio(*metric, pool) {
                        Some(r) if *pool != BASELINE => format!("{t} ({r:.2}x)"),
                        _ => t,
                    }
                }
            };
            let _ = write!(line, " {text} |");
        }
        let _ = writeln!(out, "{line}");
        if *metric == Metric::IoSleep {
            let ideal = config.sizes.w4_ideal(config.params.io_workers);
            let mut line = format!("| W4 efficiency (ideal {}) |", fmt_duration(ideal));
            for pool in &results.pools {
                match results.w4_efficiency(config, pool) {
                    Some(e) => {
                        let _ = write!(line, " {e:.3} |");
                    }
                    None => line.push_str(" – |"),
                }
            }
            let _ = writeln!(out, "{line}");
        }
    }
    let _ = writeln!(
        out,
        "\nMedian of {} timed run(s) after {} warm-up round(s); pools interleaved in each round. \
         `(r x)` = that pool's median / executor's median: above 1 means executor is faster. \
         Min/max of every cell are in the JSON (`--json`).",
        config.runs, config.warmup
    );
    if !scaled.is_empty() {
        let _ = writeln!(
            out,
            "\n† scaled: measured at a smaller size and extrapolated per item to the row's size ({}).",
            scaled.join("; ")
        );
    }
    out
}

/// One row of the target check.
#[derive(Clone, Debug)]
pub struct TargetCheck {
    /// What the issue asks for.
    pub target: String,
    /// `None`: could not be judged (a column or row was not run).
    pub met: Option<bool>,
    /// The measured value, in words.
    pub measured: String,
}

/// Judges the targets (meaningful at full size only).
pub fn targets(results: &Results, config: &Config) -> Vec<TargetCheck> {
    let mut out = Vec::new();
    let exec = |m| results.median(m, BASELINE);
    let vs = |m: Metric, pool: &str| -> Option<f64> {
        Some(exec(m)?.as_secs_f64() / results.median(m, pool)?.as_secs_f64())
    };
    // Three decimals: a value that misses its bound must not print as the bound.
    let mut push = |target: &str, value: Option<f64>, ok: &dyn Fn(f64) -> bool, unit: &str| {
        out.push(TargetCheck {
            target: target.to_string(),
            met: value.map(ok),
            measured: value.map_or("not measured".to_string(), |v| format!("{v:.3}{unit}")),
        });
    };
    push(
        "W1 ≤ 1.0x rayon",
        vs(Metric::SpawnWait, "rayon"),
        &|r| r <= 1.0,
        "x",
    );
    let best_handle = HANDLE_ANCHORS
        .iter()
        .filter_map(|p| Some((*p, results.median(Metric::SpawnWait, p)?)))
        .min_by_key(|(_, t)| *t);
    push(
        &format!(
            "W1 ≤ 0.3x the best handle-based anchor ({})",
            best_handle.map_or("none run", |(p, _)| p)
        ),
        best_handle.and_then(|(p, _)| vs(Metric::SpawnWait, p)),
        &|r| r <= 0.3,
        "x",
    );
    push(
        "W1 ≥ 100x faster than Python",
        vs(Metric::SpawnWait, "python").map(|r| 1.0 / r),
        &|r| r >= 100.0,
        "x faster",
    );
    push(
        "W2 ≤ 1.1x rayon par_iter",
        vs(Metric::MapOrdered, "rayon"),
        &|r| r <= 1.1,
        "x",
    );
    push(
        "W3 ≤ 2x rayon::join",
        vs(Metric::ForkJoin, "rayon"),
        &|r| r <= 2.0,
        "x",
    );
    push(
        "W3-join ≤ 1.0x rayon::join",
        vs(Metric::ForkJoinStack, "rayon"),
        &|r| r <= 1.0,
        "x",
    );
    for m in [
        Metric::TreeSumSmall,
        Metric::TreeSumMedium,
        Metric::TreeSumLarge,
    ] {
        let k = config.sizes.w6_depths[w6_index(m)];
        push(
            &format!("W6 k={k} ≤ 1.0x rayon::join"),
            vs(m, "rayon"),
            &|r| r <= 1.0,
            "x",
        );
    }
    push(
        &format!(
            "W6 k={} within 3x of the sequential loop",
            config.sizes.w6_depths[0]
        ),
        vs(Metric::TreeSumSmall, "sequential"),
        &|r| r <= 3.0,
        "x",
    );
    push(
        &format!(
            "W6 k={} ≥ 1.7x faster than the sequential loop",
            config.sizes.w6_depths[2]
        ),
        vs(Metric::TreeSumLarge, "sequential").map(|r| 1.0 / r),
        &|r| r >= 1.7,
        "x faster",
    );
    push(
        "W4 efficiency ≥ 0.92",
        results.w4_efficiency(config, BASELINE),
        &|e| e >= 0.92,
        "",
    );
    let us = |m| exec(m).map(|d: Duration| d.as_secs_f64() * 1e6);
    push(
        "W5 p50 ≤ 10 µs",
        us(Metric::LatencyP50),
        &|v| v <= 10.0,
        " µs",
    );
    push(
        "W5 p99 ≤ 50 µs",
        us(Metric::LatencyP99),
        &|v| v <= 50.0,
        " µs",
    );
    out
}

/// The target check as a markdown list.
pub fn markdown_targets(checks: &[TargetCheck], config: &Config) -> String {
    let mut out = String::new();
    if config.quick {
        out.push_str(
            "(--quick sizes: the targets are for the full run; shown for information only)\n",
        );
    }
    for c in checks {
        let mark = match c.met {
            Some(true) => "met",
            Some(false) => "NOT met",
            None => "not judged",
        };
        let _ = writeln!(out, "- {}: {} — **{mark}**", c.target, c.measured);
    }
    out
}

fn ns(d: Duration) -> Value {
    json!(d.as_nanos() as u64)
}

/// Everything as JSON.
pub fn json(
    results: &Results,
    config: &Config,
    machine: &Machine,
    checks: &[TargetCheck],
    notes: &[String],
) -> Value {
    let s = &config.sizes;
    let mut rows = Map::new();
    for (metric, cells) in &results.rows {
        let mut row = Map::new();
        for (pool, cell) in results.pools.iter().zip(cells) {
            let v = match cell {
                Cell::NotApplicable(na) => json!({ "status": "n/a", "reason": na.0 }),
                Cell::Ran {
                    samples,
                    measured_n,
                    nominal_n,
                } => {
                    let mut v = json!({
                        "status": "ok",
                        "samples_ns": samples.iter().map(|d| ns(*d)).collect::<Vec<_>>(),
                        "measured_n": measured_n,
                        "nominal_n": nominal_n,
                        "scaled": cell.scaled(),
                        "ratio_to_executor": results.ratio(*metric, pool),
                    });
                    if !samples.is_empty() {
                        let sum = Summary::of(samples);
                        v["median_ns"] = ns(sum.median);
                        v["min_ns"] = ns(sum.min);
                        v["max_ns"] = ns(sum.max);
                    }
                    v
                }
            };
            row.insert(pool.to_string(), v);
        }
        rows.insert(metric.key().to_string(), Value::Object(row));
    }
    let efficiency: Map<String, Value> = results
        .pools
        .iter()
        .filter_map(|p| Some((p.to_string(), json!(results.w4_efficiency(config, p)?))))
        .collect();
    json!({
        "tool": "executor-bench",
        "machine": {
            "cpus": machine.cpus,
            "cpu_model": machine.cpu_model,
            "os": std::env::consts::OS,
            "arch": std::env::consts::ARCH,
        },
        "config": {
            "quick": config.quick,
            "warmup_rounds": config.warmup,
            "timed_runs": config.runs,
            "workers": config.params.workers,
            "io_workers": config.params.io_workers,
            "sizes": {
                "w1_tasks": s.w1_tasks,
                "w2_items": s.w2_items,
                "w2_item_ns": ns(s.w2_item),
                "w2_kernel_iters": results.kernel_iters,
                "w3_fib_n": s.w3_n,
                "w3_cutoff": s.w3_cutoff,
                "w3l_fib_n": s.w3l_n,
                "w3l_cutoff": s.w3_cutoff,
                "w3l_roots": s.w3l_roots(config.params.workers),
                "w4_tasks": s.w4_tasks,
                "w4_sleep_ns": ns(s.w4_sleep),
                "w4_ideal_ns": ns(s.w4_ideal(config.params.io_workers)),
                "w5_samples_per_run": s.w5_samples,
                "w5_gap_ns": ns(s.w5_gap),
                "w6_depths": s.w6_depths,
                "w6_reps": s.w6_reps,
            },
        },
        "baselines": {
            "w2_sequential_ns": results.map_sequential.map(ns),
            "w3_sequential_ns": results.fib_sequential.map(ns),
        },
        "pools": results.pools,
        "results": rows,
        "w4_efficiency": efficiency,
        "targets": checks.iter().map(|c| json!({
            "target": c.target,
            "met": c.met,
            "measured": c.measured,
        })).collect::<Vec<_>>(),
        "notes": notes,
    })
}

#[cfg(test)]
mod tests {
    use super::thousands;

    #[test]
    fn thousands_separators() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(2_000), "2,000");
        assert_eq!(thousands(200_000), "200,000");
        assert_eq!(thousands(1_000_000), "1,000,000");
    }
}
