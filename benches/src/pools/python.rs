//! Python's stdlib `concurrent.futures.ThreadPoolExecutor`, in a `python3`
//! subprocess that lives for the whole run (script: `python_bench.py`). It
//! runs W1, W2 and W4; W1 and W2 scaled down (it is ~100x slower per task),
//! the harness extrapolating per item. W3 deadlocks in Python's pool (every
//! worker blocks in `result()`); W5 is not part of the Python comparison.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::Duration;

use crate::contender::{Contender, Done, NotApplicable, Outcome, Params, Workload, DEADLOCKS};

const SCRIPT: &str = include_str!("python_bench.py");

/// Largest W1 size run in Python (20,000 tasks take about 0.5 s).
const W1_MAX: usize = 20_000;
/// Largest W2 size run in Python.
const W2_MAX: usize = 10_000;

/// A running `python3` subprocess holding two `ThreadPoolExecutor`s.
pub struct Python {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    version: String,
    kernel_iters: u32,
    kernel_target: Duration,
}

impl Python {
    /// Starts `python3`; `Err` says why the column is skipped.
    /// `kernel_target` is W2's per-item compute time: Python calibrates its own
    /// iteration count of the same kernel to take that long in Python.
    pub fn start(params: Params, kernel_target: Duration) -> Result<Python, String> {
        let mut child = Command::new("python3")
            .arg("-u")
            .arg("-c")
            .arg(SCRIPT)
            .arg(params.workers.to_string())
            .arg(params.io_workers.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("python3 not started: {e}"))?;
        let stdin = child.stdin.take().expect("piped stdin");
        let stdout = BufReader::new(child.stdout.take().expect("piped stdout"));
        let mut py = Python {
            child,
            stdin,
            stdout,
            version: String::new(),
            kernel_iters: 0,
            kernel_target,
        };
        let ready = py.read_line()?;
        py.version = ready
            .strip_prefix("ready ")
            .ok_or_else(|| format!("python3 said {ready:?} instead of ready"))?
            .to_string();
        let iters = py.ask(&format!("calibrate {}", kernel_target.as_nanos()))?;
        py.kernel_iters = iters
            .trim()
            .parse()
            .map_err(|e| format!("python3 calibration {iters:?}: {e}"))?;
        Ok(py)
    }

    fn read_line(&mut self) -> Result<String, String> {
        let mut line = String::new();
        match self.stdout.read_line(&mut line) {
            Ok(0) => Err("python3 exited".to_string()),
            Ok(_) => Ok(line.trim_end().to_string()),
            Err(e) => Err(format!("reading from python3: {e}")),
        }
    }

    fn ask(&mut self, command: &str) -> Result<String, String> {
        writeln!(self.stdin, "{command}").map_err(|e| format!("writing to python3: {e}"))?;
        self.stdin
            .flush()
            .map_err(|e| format!("writing to python3: {e}"))?;
        self.read_line()
    }

    /// Runs one workload command; Python answers `<ns> <checksum>`.
    fn run(&mut self, command: &str) -> Outcome {
        let answer = self
            .ask(command)
            .unwrap_or_else(|e| panic!("python: {command}: {e}"));
        let mut parts = answer.split_whitespace().map(str::parse::<u128>);
        match (parts.next(), parts.next()) {
            (Some(Ok(ns)), Some(Ok(checksum))) => Ok(Done {
                checksum: checksum as u64,
                self_timed: Some(Duration::from_nanos(ns as u64)),
            }),
            _ => panic!("python: {command}: unexpected answer {answer:?}"),
        }
    }
}

impl Drop for Python {
    fn drop(&mut self) {
        let _ = writeln!(self.stdin, "quit");
        let _ = self.stdin.flush();
        let _ = self.child.wait();
    }
}

impl Contender for Python {
    fn name(&self) -> &'static str {
        "python"
    }

    fn note(&self) -> Option<String> {
        Some(format!(
            "python: CPython {} concurrent.futures.ThreadPoolExecutor, in a subprocess; \
             W2 kernel at {} iterations (~{} µs in Python)",
            self.version,
            self.kernel_iters,
            self.kernel_target.as_secs_f64() * 1e6
        ))
    }

    fn scaled_size(&self, workload: Workload, n: usize) -> usize {
        match workload {
            Workload::SpawnWait => n.min(W1_MAX),
            Workload::MapOrdered => n.min(W2_MAX),
            _ => n,
        }
    }

    fn spawn_wait(&mut self, n: usize) -> Outcome {
        self.run(&format!("w1 {n}"))
    }

    fn kernel_iters(&self, _rust_iters: u32) -> u32 {
        self.kernel_iters
    }

    fn map_ordered(&mut self, n: usize, iters: u32) -> Outcome {
        self.run(&format!("w2 {n} {iters}"))
    }

    fn fork_join(&mut self, _n: u32, _cutoff: u32) -> Outcome {
        Err(DEADLOCKS)
    }

    fn fork_join_locked(&mut self, _roots: usize, _n: u32, _cutoff: u32) -> Outcome {
        Err(DEADLOCKS)
    }

    fn io_sleep(&mut self, n: usize, sleep: Duration) -> Outcome {
        self.run(&format!("w4 {n} {}", sleep.as_micros()))
    }

    fn round_trip(&mut self, _x: u64) -> Result<u64, NotApplicable> {
        Err(NotApplicable("not measured"))
    }
}
