//! The work the workloads do, and the checksums that prove it was done.
//!
//! Every workload folds its results, in input order, through [`mix`] (64-bit
//! FNV-1a over whole words), so a lost, duplicated or reordered result changes
//! the checksum. The Python script in `python/bench.py` implements the same
//! `mix` and `kernel`, so its answers are checked by the same code.

use std::hint::black_box;
use std::time::{Duration, Instant};

/// FNV-1a 64-bit offset basis: the checksum of an empty result list.
pub const MIX_START: u64 = 0xcbf2_9ce4_8422_2325;
const MIX_PRIME: u64 = 0x0000_0100_0000_01b3;

/// Folds one result into an order-sensitive checksum.
#[inline]
pub fn mix(acc: u64, x: u64) -> u64 {
    (acc ^ x).wrapping_mul(MIX_PRIME)
}

/// Checksum of the results `0, 1, .., n - 1` (W1, W4: every task returns its index).
pub fn mix_indices(n: usize) -> u64 {
    (0..n as u64).fold(MIX_START, mix)
}

const LCG_A: u64 = 6_364_136_223_846_793_005;
const LCG_C: u64 = 1_442_695_040_888_963_407;

/// W2's per-item compute: `iters` rounds of an LCG step plus an xorshift.
///
/// Each round depends on the previous one, so the loop can be neither
/// vectorised nor folded into a closed form; its cost is linear in `iters`.
#[inline]
pub fn kernel(x: u64, iters: u32) -> u64 {
    let mut x = x;
    for _ in 0..iters {
        x = x.wrapping_mul(LCG_A).wrapping_add(LCG_C);
        x ^= x >> 29;
    }
    x
}

/// Finds the `kernel` iteration count that costs about `target` on this
/// machine (measured once, single-threaded, best of several tries).
pub fn calibrate_kernel(target: Duration) -> u32 {
    const PROBE_ITERS: u32 = 1_000;
    const CALLS: u64 = 2_000;
    let mut best = Duration::MAX;
    for _ in 0..5 {
        let start = Instant::now();
        for i in 0..CALLS {
            black_box(kernel(black_box(i), PROBE_ITERS));
        }
        best = best.min(start.elapsed());
    }
    let ns_per_iter = best.as_nanos() as f64 / (CALLS as f64 * f64::from(PROBE_ITERS));
    ((target.as_nanos() as f64 / ns_per_iter).round() as u32).max(1)
}

/// Checksum of W2's results: `kernel(i, iters)` for `i` in `0..n`, in order.
/// Returns the time the sequential computation took, too (the 1-core baseline).
pub fn expected_map(n: usize, iters: u32) -> (u64, Duration) {
    let start = Instant::now();
    let sum = (0..n as u64).fold(MIX_START, |acc, i| mix(acc, kernel(i, iters)));
    (sum, start.elapsed())
}

/// Sequential Fibonacci, the leaves of W3.
pub fn fib_seq(n: u32) -> u64 {
    if n < 2 {
        u64::from(n)
    } else {
        fib_seq(n - 1) + fib_seq(n - 2)
    }
}

/// W3's expected answer (closed loop, not the recursion it checks) and the time
/// the sequential recursion takes (the 1-core baseline).
pub fn expected_fib(n: u32) -> (u64, Duration) {
    let (mut a, mut b) = (0u64, 1u64);
    for _ in 0..n {
        (a, b) = (b, a + b);
    }
    let start = Instant::now();
    let seq = fib_seq(black_box(n));
    let took = start.elapsed();
    assert_eq!(seq, a, "fib_seq is wrong");
    (a, took)
}

/// W3-locks' expected checksum: root `i` of `roots` returns `fib + i`
/// (`fib` = fib(n), from [`expected_fib`]), mixed in root order, so a lost,
/// duplicated or swapped root changes it.
pub fn expected_fib_locked(roots: usize, fib: u64) -> u64 {
    (0..roots as u64).fold(MIX_START, |acc, i| mix(acc, fib + i))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mix_is_order_sensitive() {
        assert_ne!(mix(mix(MIX_START, 1), 2), mix(mix(MIX_START, 2), 1));
        assert_eq!(mix_indices(0), MIX_START);
    }

    #[test]
    fn fib_matches_closed_loop() {
        assert_eq!(expected_fib(20).0, 6_765);
        assert_eq!(fib_seq(30), 832_040);
    }

    #[test]
    fn fib_locked_checksum_tags_each_root() {
        assert_eq!(expected_fib_locked(0, 5), MIX_START);
        assert_eq!(
            expected_fib_locked(2, 5),
            mix(mix(MIX_START, 5), 6),
            "root i contributes fib + i, in order"
        );
    }

    #[test]
    fn kernel_matches_python_reference() {
        // Same constants as python/bench.py; value computed with Python ints.
        let mut x: u128 = 7;
        for _ in 0..3 {
            x = (x * u128::from(LCG_A) + u128::from(LCG_C)) & u128::from(u64::MAX);
            x ^= x >> 29;
        }
        assert_eq!(kernel(7, 3), x as u64);
    }
}
