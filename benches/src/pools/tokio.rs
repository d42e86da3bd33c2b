//! tokio `spawn_blocking` on a multi-thread runtime whose blocking pool is
//! capped at the worker count (`max_blocking_threads`); `JoinHandle`s awaited
//! in `block_on` from the caller. A blocking task waiting on another one
//! deadlocks once every blocking thread waits, so W3 is not run.

use std::time::Duration;

use tokio::runtime::{Builder, Runtime};
use tokio::task::JoinHandle;

use crate::contender::{Contender, NotApplicable, Outcome, Params, DEADLOCKS};
use crate::work::{kernel, mix, MIX_START};

/// Two runtimes: `workers` blocking threads, and `io_workers` for W4.
pub struct Tokio {
    rt: Runtime,
    io: Runtime,
}

impl Tokio {
    /// Builds both runtimes.
    pub fn new(params: Params) -> Tokio {
        let build = |blocking| {
            Builder::new_multi_thread()
                .worker_threads(params.workers)
                .max_blocking_threads(blocking)
                .build()
                .expect("tokio: building the runtime failed")
        };
        Tokio {
            rt: build(params.workers),
            io: build(params.io_workers),
        }
    }
}

fn collect(rt: &Runtime, handles: Vec<JoinHandle<u64>>) -> u64 {
    rt.block_on(async move {
        let mut acc = MIX_START;
        for h in handles {
            acc = mix(acc, h.await.expect("tokio: a blocking task failed"));
        }
        acc
    })
}

impl Contender for Tokio {
    fn name(&self) -> &'static str {
        "tokio"
    }

    fn spawn_wait(&mut self, n: usize) -> Outcome {
        let handles = (0..n as u64)
            .map(|i| self.rt.spawn_blocking(move || i))
            .collect();
        Ok(collect(&self.rt, handles).into())
    }

    fn map_ordered(&mut self, n: usize, iters: u32) -> Outcome {
        let handles = (0..n as u64)
            .map(|i| self.rt.spawn_blocking(move || kernel(i, iters)))
            .collect();
        Ok(collect(&self.rt, handles).into())
    }

    fn fork_join(&mut self, _n: u32, _cutoff: u32) -> Outcome {
        Err(DEADLOCKS)
    }

    fn fork_join_locked(&mut self, _roots: usize, _n: u32, _cutoff: u32) -> Outcome {
        Err(DEADLOCKS)
    }

    fn io_sleep(&mut self, n: usize, sleep: Duration) -> Outcome {
        let handles = (0..n as u64)
            .map(|i| {
                self.io.spawn_blocking(move || {
                    std::thread::sleep(sleep);
                    i
                })
            })
            .collect();
        Ok(collect(&self.io, handles).into())
    }

    fn round_trip(&mut self, x: u64) -> Result<u64, NotApplicable> {
        let h = self.rt.spawn_blocking(move || x + 1);
        Ok(self.rt.block_on(h).expect("tokio: W5 task failed"))
    }
}
