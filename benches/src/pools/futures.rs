//! futures' `ThreadPool` (feature `thread-pool`): `spawn_with_handle` gives a
//! `RemoteHandle`, awaited with `block_on` from the caller. `block_on` inside a
//! worker panics ("cannot execute `LocalPool` executor from within another
//! executor"), so W3 is not run.

use std::time::Duration;

use futures::executor::{block_on, ThreadPool};
use futures::future::RemoteHandle;
use futures::task::SpawnExt;

use crate::contender::{Contender, NotApplicable, Outcome, Params};
use crate::work::{kernel, mix, MIX_START};

/// Why W3 and W3-locks are not run: a task would have to `block_on` its child.
const BLOCK_ON_PANICS: NotApplicable = NotApplicable("block_on in a worker panics");

/// Two `futures::executor::ThreadPool`s.
pub struct Futures {
    pool: ThreadPool,
    io: ThreadPool,
}

impl Futures {
    /// Builds both pools.
    pub fn new(params: Params) -> Futures {
        let build = |n| {
            ThreadPool::builder()
                .pool_size(n)
                .create()
                .expect("futures: building the pool failed")
        };
        Futures {
            pool: build(params.workers),
            io: build(params.io_workers),
        }
    }
}

fn submit<T: Send + 'static>(
    pool: &ThreadPool,
    f: impl FnOnce() -> T + Send + 'static,
) -> RemoteHandle<T> {
    pool.spawn_with_handle(async move { f() })
        .expect("futures: spawn failed")
}

fn collect(handles: Vec<RemoteHandle<u64>>) -> u64 {
    handles
        .into_iter()
        .fold(MIX_START, |acc, h| mix(acc, block_on(h)))
}

impl Contender for Futures {
    fn name(&self) -> &'static str {
        "futures"
    }

    fn spawn_wait(&mut self, n: usize) -> Outcome {
        let handles = (0..n as u64)
            .map(|i| submit(&self.pool, move || i))
            .collect();
        Ok(collect(handles).into())
    }

    fn map_ordered(&mut self, n: usize, iters: u32) -> Outcome {
        let handles = (0..n as u64)
            .map(|i| submit(&self.pool, move || kernel(i, iters)))
            .collect();
        Ok(collect(handles).into())
    }

    fn fork_join(&mut self, _n: u32, _cutoff: u32) -> Outcome {
        Err(BLOCK_ON_PANICS)
    }

    fn fork_join_locked(&mut self, _roots: usize, _n: u32, _cutoff: u32) -> Outcome {
        Err(BLOCK_ON_PANICS)
    }

    fn io_sleep(&mut self, n: usize, sleep: Duration) -> Outcome {
        let handles = (0..n as u64)
            .map(|i| {
                submit(&self.io, move || {
                    std::thread::sleep(sleep);
                    i
                })
            })
            .collect();
        Ok(collect(handles).into())
    }

    fn round_trip(&mut self, x: u64) -> Result<u64, NotApplicable> {
        Ok(block_on(submit(&self.pool, move || x + 1)))
    }
}
