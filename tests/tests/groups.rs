//! `TaskGroup`: join policies, the limit on tasks in flight, cancellation
//! of siblings, and dropping a group.

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use executor::{as_completed, CancelToken, GroupError, GroupPolicy, TaskError};
use proptest::prelude::*;
use support::{pool, within, Gate, HANG};

#[derive(Debug, PartialEq)]
enum Fail {
    /// The task failed on purpose.
    Failed(usize),
    /// The task saw its token and stopped.
    Stopped,
}

/// Counts concurrent entries and the most seen at once.
#[derive(Default)]
struct Concurrency {
    now: AtomicUsize,
    max: AtomicUsize,
}

impl Concurrency {
    fn enter(&self) {
        let now = self.now.fetch_add(1, Ordering::SeqCst) + 1;
        self.max.fetch_max(now, Ordering::SeqCst);
    }

    fn leave(&self) {
        self.now.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A task of the property test: fails at once if it is the chosen one,
/// else works in `steps` small steps, stopping early when its token says so.
fn task_body(
    i: usize,
    case: &Case,
    token: &CancelToken,
    bodies: &[AtomicUsize],
    conc: &Concurrency,
) -> Result<usize, Fail> {
    bodies[i].fetch_add(1, Ordering::SeqCst);
    conc.enter();
    let result = (|| {
        if case.fail_at == Some(i) {
            return Err(Fail::Failed(i));
        }
        for _ in 0..case.steps {
            if token.wait_timeout(Duration::from_micros(20)) {
                return Err(Fail::Stopped);
            }
        }
        Ok(i)
    })();
    conc.leave();
    result
}

/// One case of `every_group_task_resolves_exactly_once`.
#[derive(Clone, Copy, Debug)]
struct Case {
    n: usize,
    workers: usize,
    limit: Option<usize>,
    fail_at: Option<usize>,
    steps: usize,
}

/// Each task completed, failed on purpose, was stopped through its token,
/// or was cancelled with its body never run; the limit held; with one
/// worker nothing after the failure started.
fn check_resolutions(
    case: &Case,
    results: &[Result<usize, GroupError<Fail>>],
    bodies: &[AtomicUsize],
    conc: &Concurrency,
) -> Result<(), TestCaseError> {
    let fail_at = case.fail_at;
    prop_assert_eq!(results.len(), case.n);
    for (i, result) in results.iter().enumerate() {
        let entries = bodies[i].load(Ordering::SeqCst);
        match result {
            Ok(v) => {
                prop_assert_eq!(*v, i);
                prop_assert_eq!(entries, 1);
            }
            Err(GroupError::Failed(Fail::Failed(k))) => {
                prop_assert_eq!(Some(*k), fail_at);
                prop_assert_eq!(*k, i);
                prop_assert_eq!(entries, 1);
            }
            Err(GroupError::Failed(Fail::Stopped)) => {
                prop_assert!(fail_at.is_some(), "stopped with no failure");
                prop_assert_eq!(entries, 1);
            }
            Err(e) => {
                prop_assert!(e.is_cancelled(), "task {}: {:?}", i, e);
                prop_assert!(fail_at.is_some(), "cancelled with no failure");
                prop_assert_eq!(entries, 0, "task {} was cancelled after its body ran", i);
            }
        }
    }
    if let Some(limit) = case.limit {
        prop_assert!(conc.max.load(Ordering::SeqCst) <= limit);
    }
    if let (Some(k), 1) = (fail_at, case.workers) {
        // One worker runs the outside submissions in order: the failure
        // is seen before the next task could start.
        for (i, b) in bodies.iter().enumerate() {
            prop_assert_eq!(b.load(Ordering::SeqCst), usize::from(i <= k), "task {}", i);
        }
    }
    Ok(())
}

fn case() -> impl Strategy<Value = Case> {
    (
        1usize..20,
        1usize..4,
        proptest::option::of(1usize..5),
        proptest::option::of(0usize..20),
        0usize..4,
    )
        .prop_map(|(n, workers, limit, fail, steps)| Case {
            n,
            workers,
            limit,
            fail_at: fail.filter(|&f| f < n),
            steps,
        })
}

fn balanced(pool: &executor::ThreadPoolExecutor) -> Result<(), TestCaseError> {
    pool.shutdown(true);
    let stats = pool.stats();
    prop_assert_eq!(
        stats.tasks_submitted,
        stats.tasks_completed + stats.tasks_panicked + stats.tasks_cancelled
    );
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Every task of a group completes, is cancelled (its body never ran),
    /// or was stopped through its token, exactly once; the limit is never
    /// exceeded; join returns the one failure.
    #[test]
    fn every_group_task_resolves_exactly_once(case in case()) {
        let pool = pool(case.workers);
        let bodies = Arc::new((0..case.n).map(|_| AtomicUsize::new(0)).collect::<Vec<_>>());
        let conc = Arc::new(Concurrency::default());
        let mut group = pool.group::<usize, Fail>(GroupPolicy::FirstError);
        if let Some(limit) = case.limit {
            group = group.limit(limit);
        }
        for i in 0..case.n {
            let (bodies, conc) = (bodies.clone(), conc.clone());
            group.submit_with_token(move |token| task_body(i, &case, &token, &bodies, &conc));
        }
        let results = group.join_all();
        check_resolutions(&case, &results, &bodies, &conc)?;
        balanced(&pool)?;
    }

    /// The same for a group of borrowing tasks inside `pool.scope`: the
    /// counters live on this test's stack.
    #[test]
    fn every_scoped_group_task_resolves_exactly_once(case in case()) {
        let pool = pool(case.workers);
        let bodies: Vec<AtomicUsize> = (0..case.n).map(|_| AtomicUsize::new(0)).collect();
        let conc = Concurrency::default();
        let results = pool.scope(|s| {
            let mut group = s.group::<usize, Fail>(GroupPolicy::FirstError);
            if let Some(limit) = case.limit {
                group = group.limit(limit);
            }
            for i in 0..case.n {
                let (bodies, conc) = (&bodies, &conc);
                group.submit_with_token(move |token| task_body(i, &case, &token, bodies, conc));
            }
            group.join_all()
        });
        check_resolutions(&case, &results, &bodies, &conc)?;
        balanced(&pool)?;
    }

    /// `join` returns the first failure in finishing order (not in
    /// submission order), and no task starts once the group saw it.
    #[test]
    fn first_error_is_the_first_to_finish_and_nothing_starts_after(
        n in 2usize..12,
        first in 0usize..12,
        second in 0usize..12,
        workers in 2usize..4,
        later in 1usize..6,
    ) {
        let first = first % n;
        let second = second % n;
        prop_assume!(first != second);
        let pool = pool(workers);
        let mut group = pool.group::<usize, usize>(GroupPolicy::FirstError);
        for i in 0..n {
            if i == first {
                group.submit(move || Err(i));
            } else if i == second {
                // Fails only once the group has seen the first failure.
                group.submit_with_token(move |token| {
                    token.wait_timeout(HANG);
                    Err(i)
                });
            } else {
                group.submit_with_token(|token| {
                    token.wait_timeout(HANG);
                    Ok(0)
                });
            }
        }
        prop_assert!(group.token().wait_timeout(HANG), "the failure cancels the group");
        let started = Arc::new(AtomicUsize::new(0));
        for _ in 0..later {
            let s = started.clone();
            group.submit(move || {
                s.fetch_add(1, Ordering::SeqCst);
                Ok(1)
            });
        }
        match group.join() {
            Err(GroupError::Failed(i)) => prop_assert_eq!(i, first),
            other => prop_assert!(false, "expected Failed({}), got {:?}", first, other),
        }
        prop_assert_eq!(started.load(Ordering::SeqCst), 0);
    }
}

#[test]
fn a_panic_is_a_failure_that_cancels_the_siblings() {
    within(HANG, "panic in a group", || {
        let pool = pool(2);
        let mut group = pool.group::<(), ()>(GroupPolicy::FirstError);
        group.submit_with_token(|token| {
            token.wait_timeout(HANG);
            Ok(())
        });
        group.submit(|| panic!("boom"));
        match group.join() {
            Err(GroupError::Task(TaskError::Panicked(p))) => assert_eq!(p.message(), Some("boom")),
            other => panic!("expected the panic, got {other:?}"),
        }
    });
}

#[test]
fn first_success_cancels_the_others() {
    within(HANG, "first success", || {
        let pool = pool(3);
        let stopped = Arc::new(AtomicUsize::new(0));
        let started = Arc::new(AtomicUsize::new(0));
        let mut group = pool.group::<&str, &str>(GroupPolicy::FirstSuccess);
        for _ in 0..2 {
            let (s, b) = (stopped.clone(), started.clone());
            group.submit_with_token(move |token| {
                b.fetch_add(1, Ordering::SeqCst);
                token.wait_timeout(HANG);
                s.fetch_add(1, Ordering::SeqCst);
                Err("slow")
            });
        }
        group.submit(|| Ok("fast"));
        assert_eq!(group.join_any().unwrap(), "fast");
        // Each slow task that started was told, and returned (joined).
        assert_eq!(
            stopped.load(Ordering::SeqCst),
            started.load(Ordering::SeqCst)
        );
    });
}

#[test]
fn join_any_without_success_returns_the_first_failure_and_empty_is_an_error() {
    let pool = pool(1);
    let mut group = pool.group::<(), usize>(GroupPolicy::FirstSuccess);
    group.submit(|| Err(1));
    group.submit(|| Err(2));
    assert!(matches!(group.join_any(), Err(GroupError::Failed(1))));
    let empty = pool.group::<(), ()>(GroupPolicy::FirstSuccess);
    assert!(matches!(empty.join_any(), Err(GroupError::NoTasks)));
}

#[test]
fn policy_all_runs_every_task_despite_failures() {
    let pool = pool(2);
    let mut group = pool.group::<usize, usize>(GroupPolicy::All);
    for i in 0..10 {
        group.submit(move || if i % 3 == 0 { Err(i) } else { Ok(i) });
    }
    let results = group.join_all();
    for (i, r) in results.into_iter().enumerate() {
        match r {
            Ok(v) => assert_eq!(v, i),
            Err(GroupError::Failed(e)) => assert_eq!((e, e % 3), (i, 0)),
            Err(e) => panic!("task {i}: {e:?}"),
        }
    }
}

#[test]
fn dropping_a_group_cancels_and_waits_for_its_tasks() {
    within(HANG, "drop a group", || {
        let pool = pool(2);
        let finished = Arc::new(AtomicUsize::new(0));
        let bodies = Arc::new(AtomicUsize::new(0));
        {
            let mut group = pool.group::<(), ()>(GroupPolicy::All);
            for _ in 0..6 {
                let (f, b) = (finished.clone(), bodies.clone());
                group.submit_with_token(move |token| {
                    b.fetch_add(1, Ordering::SeqCst);
                    token.wait_timeout(HANG);
                    f.fetch_add(1, Ordering::SeqCst);
                    Ok(())
                });
            }
            while bodies.load(Ordering::SeqCst) < 2 {
                std::thread::yield_now();
            }
        } // dropped: cancelled and joined
        let ran = bodies.load(Ordering::SeqCst);
        assert_eq!(
            finished.load(Ordering::SeqCst),
            ran,
            "every started task returned"
        );
        pool.shutdown(true);
        assert_eq!(
            bodies.load(Ordering::SeqCst),
            ran,
            "no queued task ran after the drop"
        );
        assert_eq!(pool.stats().tasks_cancelled as usize, 6 - ran);
    });
}

#[test]
fn a_full_group_submitting_from_the_only_worker_does_not_deadlock() {
    within(HANG, "limit on a one-worker pool", || {
        let pool = Arc::new(pool(1));
        let p = pool.clone();
        let outer = pool.submit(move || {
            let mut group = p.group::<usize, ()>(GroupPolicy::FirstError).limit(2);
            for i in 0..10 {
                group.submit(move || Ok(i));
            }
            group.join().unwrap().into_iter().sum::<usize>()
        });
        assert_eq!(outer.result().unwrap(), 45);
    });
}

#[test]
fn try_submit_hands_the_closure_back_when_full() {
    let pool = pool(2);
    let gate = Gate::new();
    let mut group = pool.group::<u32, ()>(GroupPolicy::All).limit(1);
    let g = gate.clone();
    group.submit(move || {
        g.wait();
        Ok(1)
    });
    let back = group
        .try_submit(|| Ok(2))
        .expect_err("the one place is taken");
    gate.open();
    assert_eq!(back(), Ok(2), "the closure came back intact");
    assert_eq!(group.join().unwrap(), [1]);
}

#[test]
fn as_completed_over_a_groups_handles_yields_in_finishing_order() {
    let pool = pool(3); // every gated task runs at once
    let order = Arc::new(Mutex::new(Vec::new()));
    let gates: Vec<Gate> = (0..3).map(|_| Gate::new()).collect();
    let mut group = pool.group::<usize, ()>(GroupPolicy::FirstError);
    for (i, gate) in gates.iter().enumerate() {
        let (g, o) = (gate.clone(), order.clone());
        group.submit(move || {
            g.wait();
            o.lock().unwrap().push(i);
            Ok(i)
        });
    }
    let handles = group.into_handles();
    gates[1].open();
    let mut it = as_completed(handles);
    let first = it.next().unwrap().result().unwrap().unwrap();
    assert_eq!(first, 1);
    gates[0].open();
    gates[2].open();
    let mut rest: Vec<usize> = it.map(|h| h.result().unwrap().unwrap()).collect();
    rest.sort();
    assert_eq!(rest, [0, 2]);
}

#[test]
fn cancelling_a_group_stops_running_tasks_and_queued_ones_never_start() {
    within(HANG, "group.cancel()", || {
        let (pool, gate, blocker) = support::blocked_pool();
        let mut group = pool.group::<(), ()>(GroupPolicy::All);
        let ran = Arc::new(AtomicUsize::new(0));
        for _ in 0..4 {
            let r = ran.clone();
            group.submit(move || {
                r.fetch_add(1, Ordering::SeqCst);
                Ok(())
            });
        }
        group.cancel();
        gate.open();
        blocker.result().unwrap();
        assert!(group
            .join_all()
            .iter()
            .all(|r| matches!(r, Err(e) if e.is_cancelled())));
        assert_eq!(ran.load(Ordering::SeqCst), 0);
    });
}

#[test]
fn a_scoped_group_borrows_and_mutates_the_callers_stack() {
    let pool = pool(3);
    let mut data: Vec<u64> = (1..=12).collect();
    let sums = pool.scope(|s| {
        let mut group = s.group::<u64, ()>(GroupPolicy::FirstError).limit(2);
        for chunk in data.chunks_mut(4) {
            group.submit(move || {
                chunk.iter_mut().for_each(|x| *x *= 10);
                Ok(chunk.iter().sum())
            });
        }
        group.join().unwrap()
    });
    assert_eq!(sums, [100, 260, 420]);
    assert_eq!(data, (1..=12).map(|x| x * 10).collect::<Vec<u64>>());
}

#[test]
fn a_scoped_groups_failure_cancels_the_siblings_and_queued_ones_never_start() {
    within(HANG, "scoped first error", || {
        let pool = pool(2);
        let started = AtomicUsize::new(0);
        let stopped = AtomicUsize::new(0);
        let outcome = pool.scope(|s| {
            let mut group = s.group::<(), &str>(GroupPolicy::FirstError);
            group.submit_with_token(|token| {
                started.fetch_add(1, Ordering::SeqCst);
                token.wait_timeout(HANG);
                stopped.fetch_add(1, Ordering::SeqCst);
                Err("stopped")
            });
            group.submit(|| Err("bad"));
            assert!(
                group.token().wait_timeout(HANG),
                "the failure cancels the group"
            );
            for _ in 0..5 {
                group.submit(|| {
                    started.fetch_add(1, Ordering::SeqCst);
                    Ok(())
                });
            }
            let results = group.join_all();
            let cancelled = results[2..]
                .iter()
                .filter(|r| r.as_ref().is_err_and(GroupError::is_cancelled))
                .count();
            (group_first_failure(&results), cancelled)
        });
        assert_eq!(
            outcome,
            (Some("bad"), 5),
            "later tasks were cancelled, not run"
        );
        assert_eq!(
            started.load(Ordering::SeqCst),
            stopped.load(Ordering::SeqCst)
        );
    });
}

/// The failure of the task that failed on purpose (`"bad"`), if any.
fn group_first_failure(results: &[Result<(), GroupError<&'static str>>]) -> Option<&'static str> {
    results.iter().find_map(|r| match r {
        Err(GroupError::Failed(e)) if *e == "bad" => Some(*e),
        _ => None,
    })
}

#[test]
fn a_scoped_group_join_takes_a_panic_and_the_scope_returns_normally() {
    let pool = pool(2);
    let joined = pool.scope(|s| {
        let mut group = s.group::<u32, ()>(GroupPolicy::FirstError);
        group.submit(|| panic!("scoped boom"));
        group.join()
    });
    match joined {
        Err(GroupError::Task(TaskError::Panicked(p))) => {
            assert_eq!(p.message(), Some("scoped boom"))
        }
        other => panic!("expected the panic, got {other:?}"),
    }
}

#[test]
fn dropping_a_scoped_group_cancels_waits_and_the_scope_reraises_an_unread_panic() {
    within(HANG, "drop a scoped group", || {
        let pool = pool(2);
        let bodies = AtomicUsize::new(0);
        let finished = AtomicUsize::new(0);
        let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            pool.scope(|s| {
                let mut group = s.group::<(), ()>(GroupPolicy::All);
                group.submit(|| panic!("unread"));
                for _ in 0..6 {
                    group.submit_with_token(|token| {
                        bodies.fetch_add(1, Ordering::SeqCst);
                        token.wait_timeout(HANG);
                        finished.fetch_add(1, Ordering::SeqCst);
                        Ok(())
                    });
                }
                while bodies.load(Ordering::SeqCst) < 1 {
                    std::thread::yield_now();
                }
                drop(group); // cancelled and joined here
                assert_eq!(
                    finished.load(Ordering::SeqCst),
                    bodies.load(Ordering::SeqCst),
                    "every started task returned before drop returned"
                );
            });
        }));
        let payload = caught.expect_err("the scope re-raises the task's panic");
        assert_eq!(payload.downcast_ref::<&str>(), Some(&"unread"));
        pool.shutdown(true);
        let ran = bodies.load(Ordering::SeqCst);
        assert_eq!(pool.stats().tasks_cancelled as usize, 6 - ran);
    });
}

#[test]
fn a_full_scoped_group_on_the_only_worker_does_not_deadlock() {
    within(HANG, "scoped limit on a one-worker pool", || {
        let pool = Arc::new(pool(1));
        let p = pool.clone();
        let outer = pool.submit(move || {
            let inputs: Vec<usize> = (0..10).collect();
            p.scope(|s| {
                let mut group = s.group::<usize, ()>(GroupPolicy::FirstError).limit(2);
                for x in &inputs {
                    group.submit(move || Ok(*x));
                }
                group.join().unwrap().into_iter().sum::<usize>()
            })
        });
        assert_eq!(outer.result().unwrap(), 45);
    });
}

#[test]
fn a_scoped_group_hands_its_handles_and_try_submit_hands_back() {
    let pool = pool(2);
    let gate = Gate::new();
    let names = ["a", "b"];
    pool.scope(|s| {
        let mut group = s.group::<&str, ()>(GroupPolicy::All).limit(1);
        let g = gate.clone();
        let first = group.submit(move || {
            g.wait();
            Ok(names[0])
        });
        let back = group
            .try_submit(|| Ok(names[1]))
            .expect_err("the one place is taken");
        gate.open();
        assert_eq!(back(), Ok("b"));
        let handles = group.into_handles();
        assert_eq!(handles[0].id(), first);
        let values: Vec<&str> = handles
            .into_iter()
            .map(|h| h.result().unwrap().unwrap())
            .collect();
        assert_eq!(values, ["a"]);
    });
}

#[test]
fn a_zero_limit_is_refused_with_a_message() {
    let pool = pool(1);
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        pool.scope(|s| {
            let _ = s.group::<(), ()>(GroupPolicy::All).limit(0);
        })
    }));
    let payload = caught.expect_err("limit(0) panics");
    let message = payload
        .downcast_ref::<String>()
        .expect("a formatted message");
    assert!(
        message.contains("ScopedTaskGroup::limit") && message.contains("at least 1"),
        "{message}"
    );
}

#[test]
fn a_scope_body_that_panics_cancels_and_joins_its_group_before_re_raising() {
    within(HANG, "scope panics with a group in flight", || {
        let pool = pool(2);
        let bodies = AtomicUsize::new(0);
        let finished = AtomicUsize::new(0);
        let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            pool.scope(|s| {
                let mut group = s.group::<(), ()>(GroupPolicy::All).limit(usize::MAX);
                for _ in 0..8 {
                    group.submit_with_token(|token| {
                        bodies.fetch_add(1, Ordering::SeqCst);
                        token.wait_timeout(HANG);
                        finished.fetch_add(1, Ordering::SeqCst);
                        Ok(())
                    });
                }
                while bodies.load(Ordering::SeqCst) == 0 {
                    std::thread::yield_now();
                }
                panic!("the scope's own body fails");
            })
        }));
        let payload = caught.expect_err("the body's panic comes back");
        assert_eq!(
            payload.downcast_ref::<&str>(),
            Some(&"the scope's own body fails")
        );
        let ran = bodies.load(Ordering::SeqCst);
        assert_eq!(
            finished.load(Ordering::SeqCst),
            ran,
            "every started task returned"
        );
        pool.shutdown(true);
        assert_eq!(pool.stats().tasks_cancelled as usize, 8 - ran);
        assert_eq!(
            bodies.load(Ordering::SeqCst),
            ran,
            "nothing ran after the scope"
        );
    });
}

#[test]
fn a_scoped_group_on_a_shut_down_pool_reports_rejected_tasks() {
    let pool = pool(1);
    pool.shutdown(true);
    let data = [1, 2];
    let results = pool.scope(|s| {
        let mut group = s.group::<i32, ()>(GroupPolicy::FirstError);
        for x in &data {
            group.submit(move || Ok(*x));
        }
        group.join_all()
    });
    assert_eq!(results.len(), 2);
    for r in results {
        match r {
            Err(GroupError::Task(e)) => assert!(matches!(e, TaskError::Rejected), "{e:?}"),
            other => panic!("expected Rejected, got {other:?}"),
        }
    }
}

#[test]
fn empty_groups_join_to_nothing_and_drop_quietly() {
    let pool = pool(1);
    assert!(pool
        .group::<u8, ()>(GroupPolicy::FirstError)
        .join()
        .unwrap()
        .is_empty());
    assert!(pool.group::<u8, ()>(GroupPolicy::All).join_all().is_empty());
    assert!(pool
        .group::<u8, ()>(GroupPolicy::All)
        .into_handles()
        .is_empty());
    drop(
        pool.group::<u8, ()>(GroupPolicy::FirstSuccess)
            .limit(usize::MAX),
    );
    pool.scope(|s| {
        assert!(s
            .group::<u8, ()>(GroupPolicy::FirstError)
            .join()
            .unwrap()
            .is_empty());
        assert!(matches!(
            s.group::<u8, ()>(GroupPolicy::FirstSuccess).join_any(),
            Err(GroupError::NoTasks)
        ));
        drop(s.group::<u8, ()>(GroupPolicy::All));
    });
    assert_eq!(pool.stats().tasks_submitted, 0);
}
