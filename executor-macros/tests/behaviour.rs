//! What `#[executor::task]` functions do at run time, against the real pool.

use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use executor::{task, TaskError, ThreadPoolExecutor};

fn pool() -> ThreadPoolExecutor {
    ThreadPoolExecutor::builder()
        .max_workers(4)
        .build()
        .expect("a 4-worker pool builds")
}

/// Adds two numbers.
#[task]
fn add(a: u64, b: u64) -> u64 {
    a + b
}

#[task]
fn square(x: u64) -> u64 {
    x * x
}

#[task]
fn answer() -> u32 {
    42
}

#[task(name = "explode")]
fn boom(message: String) -> u32 {
    panic!("{message}")
}

#[task]
fn unnamed_boom() {
    panic!("plain")
}

#[task]
fn parse(text: String) -> Result<i64, std::num::ParseIntError> {
    text.parse()
}

#[task]
fn read_len(text: String) -> io::Result<usize> {
    if text.is_empty() {
        Err(io::Error::new(io::ErrorKind::InvalidInput, "empty"))
    } else {
        Ok(text.len())
    }
}

#[task]
fn bump(counter: Arc<AtomicUsize>) {
    counter.fetch_add(1, Ordering::SeqCst);
}

#[task]
fn patterns(mut total: u64, (x, y): (u64, u64), _: String) -> u64 {
    total += x * y;
    total
}

#[task]
async fn double_async(x: u64) -> u64 {
    x * 2
}

#[task(name = "async-boom")]
async fn boom_async(x: u64) -> u64 {
    if x > 0 {
        panic!("async {x}");
    }
    x
}

#[task]
async fn await_inner(x: u64) -> u64 {
    let inner = async { x + 1 };
    inner.await * 10
}

mod outer {
    pub(crate) struct Meters(pub(crate) f64);

    pub(crate) mod inner {
        pub(crate) struct Scale(pub(crate) f64);

        /// Relative paths in the signature resolve from the generated module too.
        #[executor::task]
        pub(crate) fn scaled(length: super::Meters, by: self::Scale) -> super::Meters {
            super::Meters(length.0 * by.0)
        }

        /// Visible to the whole crate, and so is its module.
        #[executor::task]
        pub(crate) fn shout(word: String) -> String {
            word.to_uppercase()
        }

        #[executor::task]
        pub(super) fn only_outer(x: i32) -> i32 {
            -x
        }

        #[executor::task]
        fn private_here(x: i32) -> i32 {
            x + 100
        }

        pub(crate) fn call_private(pool: &executor::ThreadPoolExecutor) -> i32 {
            private_here::submit(pool, 1).result().unwrap()
        }
    }

    pub(crate) fn call_only_outer(pool: &executor::ThreadPoolExecutor) -> i32 {
        inner::only_outer::submit(pool, 5).result().unwrap()
    }
}

mod renamed {
    // What a crate that renamed the dependency (`exec = { package = "executor" }`)
    // sees: the crate under another path.
    pub(crate) mod exec {
        pub(crate) use ::executor::*;
    }

    #[executor::task(crate = "self::exec", name = "renamed-path")]
    pub(crate) fn triple(x: u32) -> u32 {
        x * 3
    }

    #[executor::task(crate = crate::renamed::exec)]
    pub(crate) fn negate(x: i64) -> i64 {
        -x
    }
}

#[test]
fn the_function_is_still_an_ordinary_function() {
    assert_eq!(add(2, 3), 5);
    assert_eq!(square(7), 49);
    assert_eq!(patterns(1, (2, 3), String::new()), 7);
    assert_eq!(outer::inner::shout("hi".into()), "HI");
}

#[test]
fn submit_returns_the_result() {
    let pool = pool();
    assert_eq!(add::submit(&pool, 2, 40).result().unwrap(), 42);
    assert_eq!(square::submit(&pool, 9).result().unwrap(), 81);
    assert_eq!(answer::submit(&pool).result().unwrap(), 42);
    assert_eq!(
        patterns::submit(&pool, 1, (4, 5), "ignored".into())
            .result()
            .unwrap(),
        21
    );
}

#[test]
fn submit_global_uses_the_global_pool() {
    assert_eq!(add::submit_global(1, 1).result().unwrap(), 2);
    assert_eq!(answer::submit_global().result().unwrap(), 42);
}

#[test]
fn many_submissions_all_run() {
    let pool = pool();
    let counter = Arc::new(AtomicUsize::new(0));
    let handles: Vec<_> = (0..100)
        .map(|_| bump::submit(&pool, Arc::clone(&counter)))
        .collect();
    for handle in handles {
        handle.result().unwrap();
    }
    assert_eq!(counter.load(Ordering::SeqCst), 100);
}

#[test]
fn map_yields_results_in_input_order() {
    let pool = pool();
    let squares: Vec<u64> = square::map(&pool, 0..50).map(Result::unwrap).collect();
    assert_eq!(squares, (0..50).map(|x| x * x).collect::<Vec<_>>());

    let sums: Vec<u64> = add::map(&pool, (0..20).map(|i| (i, 100 * i)))
        .map(Result::unwrap)
        .collect();
    assert_eq!(sums, (0..20).map(|i| 101 * i).collect::<Vec<_>>());

    let answers: Vec<u32> = answer::map(&pool, std::iter::repeat(()).take(3))
        .map(Result::unwrap)
        .collect();
    assert_eq!(answers, [42, 42, 42]);

    let global: Vec<u64> = square::map_global(vec![3, 4]).map(Result::unwrap).collect();
    assert_eq!(global, [9, 16]);

    // The items may borrow from the caller: only the arguments must be owned.
    let data: Vec<u64> = (0..1_000).collect();
    let squares: Vec<u64> = square::map(&pool, data.iter().copied())
        .map(Result::unwrap)
        .collect();
    assert_eq!(squares, data.iter().map(|x| x * x).collect::<Vec<_>>());
    let pairs = data.iter().zip(data.iter().rev()).map(|(&a, &b)| (a, b));
    assert!(add::map_global(pairs).all(|sum| sum.unwrap() == 999));
}

#[test]
fn a_panic_carries_the_task_name() {
    let pool = pool();
    let error = boom::submit(&pool, "kaboom".into()).result().unwrap_err();
    let text = error.to_string();
    let TaskError::Panicked(panic) = error else {
        panic!("expected a panic, got {text}");
    };
    assert_eq!(panic.task_name(), Some("explode"));
    assert_eq!(panic.message(), Some("kaboom"));
    assert_eq!(text, "task 'explode' panicked: kaboom");

    // The default name is the function's.
    match unnamed_boom::submit(&pool).result() {
        Err(TaskError::Panicked(panic)) => assert_eq!(panic.task_name(), Some("unnamed_boom")),
        other => panic!("expected a panic, got {other:?}"),
    }

    // The pool lives on.
    assert_eq!(add::submit(&pool, 1, 2).result().unwrap(), 3);
}

#[test]
fn result_returning_tasks_keep_their_result() {
    let pool = pool();
    assert_eq!(
        parse::submit(&pool, "-17".into()).result().unwrap(),
        Ok(-17)
    );
    assert!(parse::submit(&pool, "x".into()).result().unwrap().is_err());

    let lens: Vec<io::Result<usize>> = read_len::map(&pool, vec!["abc".into(), String::new()])
        .map(Result::unwrap)
        .collect();
    assert_eq!(lens[0].as_ref().unwrap(), &3);
    assert_eq!(
        lens[1].as_ref().unwrap_err().kind(),
        io::ErrorKind::InvalidInput
    );
}

#[test]
fn async_tasks_are_spawned() {
    let pool = pool();
    assert_eq!(double_async::submit(&pool, 21).result().unwrap(), 42);
    assert_eq!(await_inner::submit(&pool, 1).result().unwrap(), 20);
    assert_eq!(double_async::submit_global(5).result().unwrap(), 10);
    let doubled: Vec<u64> = double_async::map(&pool, 0..10)
        .map(Result::unwrap)
        .collect();
    assert_eq!(doubled, (0..10).map(|x| x * 2).collect::<Vec<_>>());
}

#[test]
fn tasks_in_nested_modules_keep_their_visibility() {
    let pool = pool();
    assert_eq!(
        outer::inner::shout::submit(&pool, "abc".into())
            .result()
            .unwrap(),
        "ABC"
    );
    assert_eq!(outer::call_only_outer(&pool), -5);
    let scaled = outer::inner::scaled::submit(&pool, outer::Meters(2.0), outer::inner::Scale(1.5));
    assert_eq!(scaled.result().unwrap().0, 3.0);
    assert_eq!(outer::inner::call_private(&pool), 101);
}

#[test]
fn a_renamed_crate_path_is_used() {
    let pool = pool();
    assert_eq!(renamed::triple::submit(&pool, 5).result().unwrap(), 15);
    assert_eq!(renamed::negate::submit(&pool, 5).result().unwrap(), -5);
    let out: Vec<i64> = renamed::negate::map(&pool, [1, 2])
        .map(Result::unwrap)
        .collect();
    assert_eq!(out, [-1, -2]);
}

#[test]
fn async_map_over_an_endless_input_yields_its_first_results() {
    let pool = ThreadPoolExecutor::builder()
        .max_workers(2)
        .build()
        .unwrap();
    // An endless input: an eager map would never return.
    let first: Vec<u64> = double_async::map(&pool, 0..)
        .take(5)
        .map(Result::unwrap)
        .collect();
    assert_eq!(first, [0, 2, 4, 6, 8]);
    let failures: Vec<String> = boom_async::map(&pool, [0, 1])
        .filter_map(Result::err)
        .map(|e| e.to_string())
        .collect();
    assert_eq!(failures, ["task 'async-boom' panicked: async 1"]);
}
