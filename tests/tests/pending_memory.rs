//! What a pending task costs in memory: 1,000,000 tasks queued behind a
//! blocked worker, each held by its handle, measured as the growth of the
//! process's resident set (`/proc/self/statm`). That counts everything a
//! queued task holds: its cell (closure, state, output slot, waiter list),
//! its place in the injector, its handle, and the allocator's own overhead.
//!
//! Ignored by default (it measures a whole process, so it runs alone):
//! `cargo test --release -p executor-tests --test pending_memory -- --ignored --nocapture`
//! The goal of issue 14 is 128 bytes or fewer per pending task.

mod support;

use support::{blocked_pool, within, HANG};

/// Resident bytes of this process (Linux only; `None` elsewhere).
fn resident_bytes() -> Option<usize> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: usize = statm.split_whitespace().nth(1)?.parse().ok()?;
    // 4 KiB pages: the page size of every Linux target this is run on.
    Some(pages * 4096)
}

#[test]
#[ignore = "a measurement of the whole process: run alone with --ignored --nocapture"]
fn bytes_per_pending_task() {
    const N: usize = 1_000_000;
    let Some(_) = resident_bytes() else {
        eprintln!("no /proc/self/statm here: nothing measured");
        return;
    };
    let (pool, gate, blocker) = blocked_pool();
    // The handles' vector is made first, at its final size, and touched,
    // so that its pages count as the handles' own 24 bytes each
    // and not as a doubling vector's slack.
    let mut handles = Vec::with_capacity(N);
    let before = resident_bytes().unwrap();
    for i in 0..N {
        handles.push(pool.submit(move || i as u64));
    }
    let after = resident_bytes().unwrap();
    let per_task = (after.saturating_sub(before)) as f64 / N as f64;
    let handle = std::mem::size_of::<executor::TaskHandle<u64>>();
    println!(
        "pending tasks: {N}, resident growth {} bytes, {per_task:.1} bytes per task \
         (TaskHandle<u64> is {handle} bytes)",
        after - before
    );
    assert_eq!(pool.stats().tasks_queued, N, "every task is still queued");
    gate.open();
    within(HANG, "the queued tasks finish", move || {
        blocker.result().unwrap();
        let sum: u64 = handles.into_iter().map(|h| h.result().unwrap()).sum();
        assert_eq!(sum, (N as u64) * (N as u64 - 1) / 2);
    });
    assert!(
        per_task <= 128.0,
        "a pending task costs {per_task:.1} bytes, more than the 128 of the goal"
    );
}
