//! An idle pool uses no CPU: after a short spin its workers park.
//!
//! Measured from the worker threads' own CPU time in /proc (Linux only). A
//! pool that busy-waited would burn a whole core per worker over the window.

#![cfg(target_os = "linux")]

use std::time::Duration;

use executor::ThreadPoolExecutor;

/// Total user + system CPU ticks of this process's threads whose name starts with `prefix`.
fn cpu_ticks_of_threads(prefix: &str) -> (u64, usize) {
    let mut ticks = 0;
    let mut threads = 0;
    for entry in std::fs::read_dir("/proc/self/task").unwrap() {
        let dir = entry.unwrap().path();
        let Ok(comm) = std::fs::read_to_string(dir.join("comm")) else {
            continue;
        };
        if !comm.trim_end().starts_with(prefix) {
            continue;
        }
        let stat = std::fs::read_to_string(dir.join("stat")).unwrap();
        // Fields after the parenthesised command name; utime and stime are
        // fields 14 and 15 of the whole line, so 12 and 13 after the name.
        let after = &stat[stat.rfind(')').unwrap() + 2..];
        let fields: Vec<&str> = after.split_whitespace().collect();
        ticks += fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
        threads += 1;
    }
    (ticks, threads)
}

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
