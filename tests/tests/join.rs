//! `join(a, b)`: results, panics, nesting, waiting rules, and where it may
//! be called from (a worker of the pool, a worker of another pool, a plain
//! thread, a one-worker pool).

mod support;

use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use executor::{join, ThreadPoolExecutor};
use proptest::prelude::*;
use support::{pool, stress_size, within, HANG};

/// Sum of `lo..hi`, forking at every split down to single numbers.
fn sum(lo: u64, hi: u64) -> u64 {
    if hi - lo <= 1 {
        return if hi > lo { lo } else { 0 };
    }
    let mid = lo + (hi - lo) / 2;
    let (a, b) = join(|| sum(lo, mid), || sum(mid, hi));
    a + b
}

fn expected(n: u64) -> u64 {
    n * n.saturating_sub(1) / 2
}

/// Runs `f` as a task of `pool` and returns its result.
fn on<T: Send + 'static>(pool: &ThreadPoolExecutor, f: impl FnOnce() -> T + Send + 'static) -> T {
    pool.submit(f).result().expect("the task ran")
}

#[test]
#[cfg_attr(miri, ignore = "too big for Miri")]
fn results_come_back_in_order_of_the_arguments() {
    let pool = pool(2);
    let (a, b) = on(&pool, || join(|| "left", || 2_u8));
    assert_eq!((a, b), ("left", 2));
    let (a, b) = pool.join(|| 1, || "right".to_string());
    assert_eq!((a, b.as_str()), (1, "right"));
}

#[test]
#[cfg_attr(miri, ignore = "too big for Miri")]
fn closures_borrow_from_the_stack() {
    let pool = pool(2);
    within(HANG, "borrowing join", move || {
        let mut left = vec![1, 2, 3];
        let right = [10, 20];
        let (l, r) = pool.join(
            || {
                left.push(4);
                left.len()
            },
            || right.iter().sum::<i32>(),
        );
        assert_eq!((l, r), (4, 30));
        assert_eq!(left, [1, 2, 3, 4]);
    });
}

#[test]
#[cfg_attr(miri, ignore = "too big for Miri")]
fn deep_nested_joins_sum_correctly() {
    let pool = pool(2);
    let n = stress_size(1 << 16, 1 << 22) as u64;
    let got = within(HANG, "nested joins", move || on(&pool, move || sum(0, n)));
    assert_eq!(got, expected(n));
}

#[test]
#[cfg_attr(miri, ignore = "too big for Miri")]
fn wide_and_deep_joins_on_many_workers() {
    let pool = pool(4);
    let got = within(HANG, "wide joins", move || {
        on(&pool, || {
            (0..64_u64)
                .map(|i| {
                    let (a, b) = join(|| sum(0, 1000 + i), || sum(0, 2000 + i));
                    a + b
                })
                .sum::<u64>()
        })
    });
    let want: u64 = (0..64_u64)
        .map(|i| expected(1000 + i) + expected(2000 + i))
        .sum();
    assert_eq!(got, want);
}

#[test]
#[cfg_attr(miri, ignore = "too big for Miri")]
fn join_on_a_one_worker_pool_never_deadlocks() {
    let pool = pool(1);
    let got = within(HANG, "one-worker join", move || {
        on(&pool, || sum(0, 50_000))
    });
    assert_eq!(got, expected(50_000));
}

#[test]
#[cfg_attr(miri, ignore = "too big for Miri")]
fn join_from_outside_any_pool_uses_the_given_or_global_pool() {
    let got = within(HANG, "global join", || join(|| sum(0, 1000), || 7));
    assert_eq!(got, (expected(1000), 7));
    let pool = pool(2);
    let got = within(HANG, "outside join", move || {
        pool.join(on_any, || sum(0, 3000))
    });
    assert_eq!(got, (5, expected(3000)));
}

fn on_any() -> u32 {
    5
}

#[test]
#[cfg_attr(miri, ignore = "too big for Miri")]
fn join_on_a_worker_of_another_pool_runs_on_the_given_pool() {
    let outer = pool(1);
    let inner = Arc::new(pool(2));
    let inner2 = Arc::clone(&inner);
    let got = within(HANG, "cross-pool join", move || {
        on(&outer, move || {
            inner2.join(|| sum(0, 100), || sum(100, 200))
        })
    });
    assert_eq!(got, (expected(100), expected(200) - expected(100)));
    drop(inner);
}

/// The panic payload of `f`, as a string.
fn panic_message(f: impl FnOnce()) -> String {
    let payload = panic::catch_unwind(AssertUnwindSafe(f)).expect_err("it panicked");
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_default()
}

#[test]
#[cfg_attr(miri, ignore = "too big for Miri")]
fn a_panic_in_either_half_reaches_the_caller_after_both_ran() {
    let pool = Arc::new(pool(2));
    for (panic_a, panic_b) in [(true, false), (false, true), (true, true)] {
        let ran = Arc::new(AtomicUsize::new(0));
        let (p, r) = (Arc::clone(&pool), Arc::clone(&ran));
        let message = within(HANG, "panicking join", move || {
            on(&p, move || {
                panic_message(|| {
                    join(
                        || {
                            r.fetch_add(1, Ordering::SeqCst);
                            sum(0, 10_000);
                            assert!(!panic_a, "first half");
                        },
                        || {
                            r.fetch_add(1, Ordering::SeqCst);
                            sum(0, 10_000);
                            assert!(!panic_b, "second half");
                        },
                    );
                })
            })
        });
        assert_eq!(ran.load(Ordering::SeqCst), 2, "both halves ran");
        let want = if panic_a { "first half" } else { "second half" };
        assert_eq!(message, want, "({panic_a}, {panic_b})");
    }
    // The workers lived on.
    assert_eq!(on(&pool, || sum(0, 100)), expected(100));
}

#[test]
#[cfg_attr(miri, ignore = "too big for Miri")]
fn panics_deep_in_a_tree_are_carried_up() {
    fn tree(depth: u32, bad: u32) -> u32 {
        if depth == 0 {
            assert!(bad != 0, "leaf {bad}");
            return 1;
        }
        let (a, b) = join(
            || tree(depth - 1, bad),
            || tree(depth - 1, bad.wrapping_sub(1)),
        );
        a + b
    }
    let pool = pool(2);
    let message = within(HANG, "deep panic", move || {
        on(&pool, || {
            panic_message(|| {
                tree(12, 7);
            })
        })
    });
    assert_eq!(message, "leaf 0");
}

#[test]
#[cfg_attr(miri, ignore = "too big for Miri")]
fn join_inside_tasks_that_wait_on_handles() {
    let pool = Arc::new(pool(2));
    let p = Arc::clone(&pool);
    let got = within(HANG, "join and handles", move || {
        on(&pool, move || {
            let handles: Vec<_> = (0..8_u64)
                .map(|i| p.submit(move || sum(0, 1000 * (i + 1))))
                .collect();
            let (a, b) = join(
                || {
                    handles
                        .into_iter()
                        .map(|h| h.result().unwrap())
                        .sum::<u64>()
                },
                || {
                    let p2 = Arc::clone(&p);
                    p.submit(move || p2.join(|| sum(0, 500), || sum(0, 700)))
                        .result()
                        .unwrap()
                },
            );
            (a, b)
        })
    });
    let want_a: u64 = (1..=8).map(|i| expected(1000 * i)).sum();
    assert_eq!(got, (want_a, (expected(500), expected(700))));
}

#[test]
#[cfg_attr(miri, ignore = "too big for Miri")]
fn a_lock_held_across_join_is_never_taken_again_on_the_same_thread() {
    // The W3-locks shape: each root holds the lock across its joins, with
    // more roots queued than workers. A join that ran an unrelated queued
    // root on its stack would deadlock on the lock.
    let pool = Arc::new(pool(2));
    let lock = Arc::new(Mutex::new(()));
    let got = within(HANG, "locks across join", move || {
        let handles: Vec<_> = (0..8_u64)
            .map(|i| {
                let lock = Arc::clone(&lock);
                pool.submit(move || {
                    let _guard = lock.lock().unwrap();
                    sum(0, 20_000) + i
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.result().unwrap())
            .collect::<Vec<_>>()
    });
    let want: Vec<u64> = (0..8).map(|i| expected(20_000) + i).collect();
    assert_eq!(got, want);
}

#[test]
#[cfg_attr(miri, ignore = "too big for Miri")]
fn join_leaves_tasks_it_submitted_queued_and_intact() {
    // The first half submits tasks and leaves them queued on the deque
    // above the published second half: taking the half back must put them
    // back, and they all run once.
    let pool = Arc::new(pool(2));
    let p = Arc::clone(&pool);
    let runs = Arc::new(AtomicUsize::new(0));
    let r = Arc::clone(&runs);
    let handles = within(HANG, "submit inside join", move || {
        on(&pool, move || {
            let mut handles = Vec::new();
            for _ in 0..200 {
                let (hs, _) = join(
                    || {
                        (0..3)
                            .map(|_| {
                                let r = Arc::clone(&r);
                                p.submit(move || r.fetch_add(1, Ordering::SeqCst))
                            })
                            .collect::<Vec<_>>()
                    },
                    || sum(0, 300),
                );
                handles.extend(hs);
            }
            handles
        })
    });
    for h in handles {
        h.result().unwrap();
    }
    assert_eq!(runs.load(Ordering::SeqCst), 600);
}

#[test]
#[cfg_attr(miri, ignore = "too big for Miri")]
fn shutdown_while_joins_run_loses_no_half() {
    for cancel in [false, true] {
        let pool = Arc::new(pool(2));
        let p = Arc::clone(&pool);
        let h = pool.submit(move || {
            let _ = &p;
            sum(0, 200_000)
        });
        pool.shutdown_with(false, cancel);
        let got = within(HANG, "join across shutdown", move || h.result());
        match got {
            Ok(v) => assert_eq!(v, expected(200_000)),
            Err(e) => assert!(cancel, "only a cancelled task may not finish: {e}"),
        }
    }
}

/// Small enough for Miri (`.ci/run` runs this file under it): leaves that
/// yield let the other worker ask for work, so halves are published,
/// stolen, taken back and waited for under the checker.
#[test]
fn small_tree_with_steals() {
    fn tree(depth: u32) -> u32 {
        if depth == 0 {
            std::thread::yield_now();
            return 1;
        }
        let (a, b) = join(|| tree(depth - 1), || tree(depth - 1));
        a + b
    }
    let pool = pool(2);
    for _ in 0..3 {
        assert_eq!(on(&pool, || tree(5)), 32);
    }
    let local = [1, 2, 3];
    assert_eq!(pool.join(|| local[0], || local[1] + local[2]), (1, 5));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// Random trees of joins on random pool sizes compute what a sequential
    /// fold computes, and every leaf runs exactly once.
    #[test]
    #[cfg_attr(miri, ignore = "too big for Miri")]
    fn random_join_trees_are_exact(
        workers in 1_usize..4,
        leaves in proptest::collection::vec(0_u64..1000, 1..200),
        from_outside: bool,
    ) {
        let pool = Arc::new(pool(workers));
        let leaves = Arc::new(leaves);
        let runs = Arc::new(AtomicUsize::new(0));
        fn fold(xs: &[u64], runs: &AtomicUsize) -> u64 {
            if let [x] = xs {
                runs.fetch_add(1, Ordering::Relaxed);
                return x * x;
            }
            let (l, r) = xs.split_at(xs.len() / 2);
            let (a, b) = join(|| fold(l, runs), || fold(r, runs));
            a.wrapping_mul(31).wrapping_add(b)
        }
        let want = {
            fn seq(xs: &[u64]) -> u64 {
                if let [x] = xs {
                    return x * x;
                }
                let (l, r) = xs.split_at(xs.len() / 2);
                seq(l).wrapping_mul(31).wrapping_add(seq(r))
            }
            seq(&leaves)
        };
        let (p, l, r) = (Arc::clone(&pool), Arc::clone(&leaves), Arc::clone(&runs));
        let got = within(HANG, "random join tree", move || {
            if from_outside && l.len() > 1 {
                // The top fork from a plain thread, the rest on workers.
                let (left, right) = l.split_at(l.len() / 2);
                let (a, b) = p.join(|| fold(left, &r), || fold(right, &r));
                a.wrapping_mul(31).wrapping_add(b)
            } else {
                on(&p, move || fold(&l, &r))
            }
        });
        prop_assert_eq!(got, want);
        prop_assert_eq!(runs.load(Ordering::Relaxed), leaves.len());
    }
}

/// Heavier: many pools' worth of fork-join racing shutdowns and steals.
#[test]
#[ignore = "stress: run with --ignored"]
fn stress_many_trees_on_many_workers() {
    let pool = Arc::new(pool(8));
    for round in 0..200_u64 {
        let p = Arc::clone(&pool);
        let got = within(HANG, "stress tree", move || {
            on(&p, move || sum(0, 100_000 + round))
        });
        assert_eq!(got, expected(100_000 + round));
    }
}
