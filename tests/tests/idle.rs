//! An idle pool uses no CPU: after a short spin its workers park.
//!
//! Measured from the worker threads' own CPU time in /proc (Linux only). A
//! pool that busy-waited would burn a whole core per worker over the window.

#![cfg(target_os = "linux")]

mod support;
use support::cpu_ticks_of_threads;

use std::time::Duration;

use executor::ThreadPoolExecutor;

#[test]
fn idle_workers_use_no_cpu() {
    let pool = ThreadPoolExecutor::builder()
        .max_workers(4)
        .min_workers(4)
        .thread_name_prefix("idlechk")
        .build()
        .unwrap();
    // Some work first, so every worker has been through the run loop.
    let handles: Vec<_> = (0..10_000u64).map(|i| pool.submit(move || i)).collect();
    let sum: u64 = handles.into_iter().map(|h| h.result().unwrap()).sum();
    assert_eq!(sum, 10_000 * 9_999 / 2);
    // Past the spin phase (microseconds), then a long idle window.
    std::thread::sleep(Duration::from_millis(200));
    let (before, threads) = cpu_ticks_of_threads("idlechk");
    assert_eq!(threads, 4, "the four workers exist");
    std::thread::sleep(Duration::from_millis(1000));
    let (after, _) = cpu_ticks_of_threads("idlechk");
    // 4 busy-waiting workers would show ~400 ticks (at 100 Hz); parked ones ~0.
    assert!(
        after - before <= 5,
        "idle workers used {} CPU ticks in one second",
        after - before
    );
    assert_eq!(pool.stats().workers_idle, 4, "all four are parked");
}

/// (thread id, voluntary context switches) of each thread whose name starts
/// with `prefix`, by thread id.
fn wakeups_of_threads(prefix: &str) -> Vec<(u64, u64)> {
    let mut counts = Vec::new();
    for entry in std::fs::read_dir("/proc/self/task").unwrap() {
        let dir = entry.unwrap().path();
        let Ok(comm) = std::fs::read_to_string(dir.join("comm")) else {
            continue;
        };
        if !comm.trim_end().starts_with(prefix) {
            continue;
        }
        let status = std::fs::read_to_string(dir.join("status")).unwrap();
        let line = status
            .lines()
            .find(|l| l.starts_with("voluntary_ctxt_switches:"))
            .unwrap();
        let tid = dir.file_name().unwrap().to_str().unwrap().parse().unwrap();
        counts.push((
            tid,
            line.split_whitespace().nth(1).unwrap().parse().unwrap(),
        ));
    }
    counts.sort();
    counts
}

/// A submission to an idle pool wakes one parked worker, not all of them:
/// a parked worker that is woken returns from its futex wait, which counts
/// as a voluntary context switch; the others must show none.
#[test]
fn one_submission_wakes_at_most_one_sleeper() {
    let pool = ThreadPoolExecutor::builder()
        .max_workers(8)
        .min_workers(8)
        .thread_name_prefix("wakechk")
        .build()
        .unwrap();
    for round in 0..5 {
        // Let every worker finish spinning and park.
        std::thread::sleep(Duration::from_millis(200));
        assert_eq!(pool.stats().workers_idle, 8, "round {round}: all parked");
        let before = wakeups_of_threads("wakechk");
        assert_eq!(before.len(), 8);
        assert_eq!(pool.submit(move || round).result().unwrap(), round);
        std::thread::sleep(Duration::from_millis(200));
        let after = wakeups_of_threads("wakechk");
        assert_eq!(
            after.iter().map(|t| t.0).collect::<Vec<_>>(),
            before.iter().map(|t| t.0).collect::<Vec<_>>()
        );
        let woken = before.iter().zip(&after).filter(|(b, a)| a.1 > b.1).count();
        assert_eq!(
            woken, 1,
            "round {round}: {woken} of 8 parked workers woke for one task"
        );
    }
}
