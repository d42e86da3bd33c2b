//! The `threadpool` crate: `execute` a closure, results back over a
//! per-task channel (it has no handles). Waiting inside a task for another
//! task deadlocks once every worker waits, so W3 is not run.

use std::time::Duration;

use crossbeam_channel::{bounded, Receiver};

use crate::contender::{Contender, NotApplicable, Outcome, Params, DEADLOCKS};
use crate::work::{kernel, mix, MIX_START};

/// Two `threadpool::ThreadPool`s.
pub struct ThreadPool {
    pool: threadpool::ThreadPool,
    io: threadpool::ThreadPool,
}

impl ThreadPool {
    /// Builds both pools.
    pub fn new(params: Params) -> ThreadPool {
        ThreadPool {
            pool: threadpool::ThreadPool::new(params.workers),
            io: threadpool::ThreadPool::new(params.io_workers),
        }
    }
}

/// `execute`s `f` and returns the receiving end of its result channel.
fn submit<T: Send + 'static>(
    pool: &threadpool::ThreadPool,
    f: impl FnOnce() -> T + Send + 'static,
) -> Receiver<T> {
    let (tx, rx) = bounded(1);
    pool.execute(move || {
        let _ = tx.send(f());
    });
    rx
}

fn collect(receivers: Vec<Receiver<u64>>) -> u64 {
    receivers.into_iter().fold(MIX_START, |acc, rx| {
        mix(acc, rx.recv().expect("threadpool: a task died"))
    })
}

impl Contender for ThreadPool {
    fn name(&self) -> &'static str {
        "threadpool"
    }

    fn spawn_wait(&mut self, n: usize) -> Outcome {
        let rxs = (0..n as u64)
            .map(|i| submit(&self.pool, move || i))
            .collect();
        Ok(collect(rxs).into())
    }

    fn map_ordered(&mut self, n: usize, iters: u32) -> Outcome {
        let rxs = (0..n as u64)
            .map(|i| submit(&self.pool, move || kernel(i, iters)))
            .collect();
        Ok(collect(rxs).into())
    }

    fn fork_join(&mut self, _n: u32, _cutoff: u32) -> Outcome {
        Err(DEADLOCKS)
    }

    fn fork_join_locked(&mut self, _roots: usize, _n: u32, _cutoff: u32) -> Outcome {
        Err(DEADLOCKS)
    }

    fn io_sleep(&mut self, n: usize, sleep: Duration) -> Outcome {
        let rxs = (0..n as u64)
            .map(|i| {
                submit(&self.io, move || {
                    std::thread::sleep(sleep);
                    i
                })
            })
            .collect();
        Ok(collect(rxs).into())
    }

    fn round_trip(&mut self, x: u64) -> Result<u64, NotApplicable> {
        Ok(submit(&self.pool, move || x + 1)
            .recv()
            .expect("threadpool: W5 task died"))
    }
}
