//! The pool a user writes by hand: N threads pulling boxed closures from one
//! crossbeam channel, each result sent back over its own channel. A task
//! waiting on another deadlocks once every worker waits, so W3 is not run.

use std::thread::JoinHandle;
use std::time::Duration;

use crossbeam_channel::{bounded, unbounded, Receiver, Sender};

use crate::contender::{Contender, NotApplicable, Outcome, Params, DEADLOCKS};
use crate::work::{kernel, mix, MIX_START};

type Job = Box<dyn FnOnce() + Send + 'static>;

/// N threads sharing one job channel.
pub struct ChannelPool {
    jobs: Option<Sender<Job>>,
    threads: Vec<JoinHandle<()>>,
}

impl ChannelPool {
    /// Starts `n` worker threads.
    pub fn new(n: usize) -> ChannelPool {
        let (tx, rx) = unbounded::<Job>();
        let threads = (0..n)
            .map(|_| {
                let rx = rx.clone();
                std::thread::spawn(move || {
                    for job in rx {
                        job();
                    }
                })
            })
            .collect();
        ChannelPool {
            jobs: Some(tx),
            threads,
        }
    }

    /// Queues `f`; its result arrives on the returned channel.
    pub fn submit<T: Send + 'static>(&self, f: impl FnOnce() -> T + Send + 'static) -> Receiver<T> {
        let (tx, rx) = bounded(1);
        let job: Job = Box::new(move || {
            let _ = tx.send(f());
        });
        self.jobs
            .as_ref()
            .expect("pool is running")
            .send(job)
            .expect("hand-written pool: workers are gone");
        rx
    }
}

impl Drop for ChannelPool {
    fn drop(&mut self) {
        drop(self.jobs.take());
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

/// The hand-written pool, at both worker counts.
pub struct HandWritten {
    pool: ChannelPool,
    io: ChannelPool,
}

impl HandWritten {
    /// Builds both pools.
    pub fn new(params: Params) -> HandWritten {
        HandWritten {
            pool: ChannelPool::new(params.workers),
            io: ChannelPool::new(params.io_workers),
        }
    }
}

fn collect(receivers: Vec<Receiver<u64>>) -> u64 {
    receivers.into_iter().fold(MIX_START, |acc, rx| {
        mix(acc, rx.recv().expect("hand-written pool: a task died"))
    })
}

impl Contender for HandWritten {
    fn name(&self) -> &'static str {
        "hand-written"
    }

    fn spawn_wait(&mut self, n: usize) -> Outcome {
        let rxs = (0..n as u64).map(|i| self.pool.submit(move || i)).collect();
        Ok(collect(rxs).into())
    }

    fn map_ordered(&mut self, n: usize, iters: u32) -> Outcome {
        let rxs = (0..n as u64)
            .map(|i| self.pool.submit(move || kernel(i, iters)))
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
                self.io.submit(move || {
                    std::thread::sleep(sleep);
                    i
                })
            })
            .collect();
        Ok(collect(rxs).into())
    }

    fn round_trip(&mut self, x: u64) -> Result<u64, NotApplicable> {
        Ok(self
            .pool
            .submit(move || x + 1)
            .recv()
            .expect("hand-written pool: W5 task died"))
    }
}
