//! The quick start: submit, result, a contained panic, and shutdown.
//!
//! Run with `cargo run --release --example quickstart`.

use std::time::{Duration, Instant};

use executor::{TaskError, ThreadPoolExecutor};

fn slow_square(x: u64) -> u64 {
    std::thread::sleep(Duration::from_millis(50));
    x * x
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let pool = ThreadPoolExecutor::builder()
        .max_workers(4)
        .thread_name_prefix("demo")
        .build()?;

    // submit + result: four 50 ms tasks on four workers take ~50 ms, not 200.
    let start = Instant::now();
    let handles: Vec<_> = (1..=4)
        .map(|x| pool.submit(move || slow_square(x)))
        .collect();
    let squares = handles
        .into_iter()
        .map(|h| h.result())
        .collect::<Result<Vec<_>, _>>()?;
    println!("submit/result: {squares:?} in {:?}", start.elapsed());

    // A panicking task resolves its own handle; the worker keeps serving.
    match pool
        .submit_named("parse", || -> u32 { panic!("bad input on line 3") })
        .result()
    {
        Err(TaskError::Panicked(panic)) => println!("contained panic: {panic}"),
        other => println!("unexpected: {other:?}"),
    }
    println!(
        "after the panic the pool still works: {}",
        pool.submit(|| 2 + 2).result()?
    );

    // Nested submit-and-wait from inside a task does not deadlock, even here.
    let nested = pool.submit(|| executor::global().submit(|| "inner").result().unwrap());
    println!("nested: {}", nested.result()?);

    let stats = pool.stats();
    println!(
        "stats: {} completed, {} panicked, {} workers alive",
        stats.tasks_completed, stats.tasks_panicked, stats.workers_alive
    );

    // shutdown(wait = true): no new work, every queued task finishes first.
    let last = pool.submit(|| slow_square(9));
    pool.shutdown(true);
    println!(
        "after shutdown: the queued task finished with {}",
        last.result()?
    );
    match pool.submit(|| 1).result() {
        Err(e) => println!("submitting after shutdown: {e}"),
        Ok(_) => unreachable!("a shut-down pool runs nothing new"),
    }
    Ok(())
}
