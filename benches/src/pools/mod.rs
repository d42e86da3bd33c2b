//! One module per column. To add a pool: write a module implementing
//! [`Contender`] and list it in [`NAMES`] and [`build`].

pub mod chili;
pub mod executor;
pub mod futures;
pub mod handwritten;
pub mod python;
pub mod rayon;
pub mod sequential;
pub mod threadpool;
pub mod tokio;

use std::time::Duration;

use crate::contender::{Contender, Params};

/// Every pool name, in column order (`executor` first: ratios are relative to it).
pub const NAMES: [&str; 9] = [
    "executor",
    "sequential",
    "rayon",
    "chili",
    "threadpool",
    "futures",
    "tokio",
    "hand-written",
    "python",
];

/// Builds the selected columns, in [`NAMES`] order. Returns notes for columns
/// that could not be built (python3 missing) and the pools' own notes.
pub fn build(
    selected: &[String],
    params: Params,
    kernel_target: Duration,
) -> (Vec<Box<dyn Contender>>, Vec<String>) {
    let mut pools: Vec<Box<dyn Contender>> = Vec::new();
    let mut notes = Vec::new();
    for name in NAMES {
        if !selected.iter().any(|s| s == name) {
            continue;
        }
        match name {
            "executor" => pools.push(Box::new(executor::Executor::new(params))),
            "sequential" => pools.push(Box::new(sequential::Sequential)),
            "rayon" => pools.push(Box::new(rayon::Rayon::new(params))),
            "chili" => pools.push(Box::new(chili::Chili::new(params))),
            "threadpool" => pools.push(Box::new(threadpool::ThreadPool::new(params))),
            "futures" => pools.push(Box::new(futures::Futures::new(params))),
            "tokio" => pools.push(Box::new(tokio::Tokio::new(params))),
            "hand-written" => pools.push(Box::new(handwritten::HandWritten::new(params))),
            "python" => match python::Python::start(params, kernel_target) {
                Ok(py) => pools.push(Box::new(py)),
                Err(why) => notes.push(format!("python column skipped: {why}")),
            },
            _ => unreachable!("NAMES lists {name}"),
        }
    }
    notes.extend(pools.iter().filter_map(|p| p.note()));
    (pools, notes)
}
