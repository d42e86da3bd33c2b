//! Periodic tasks: `schedule_at_fixed_rate` and `schedule_with_fixed_delay`.
//!
//! A schedule is one task for the pool: its handle is an ordinary
//! `TaskHandle<()>` (Java's `ScheduledFuture`) that stays pending while the
//! schedule runs and resolves when it stops: `Cancelled` by `cancel()` or
//! shutdown, `Panicked` when a run panics (the schedule stops, as Java's
//! does). Between runs the schedule waits in the pool's timer; when due it
//! is queued like any task, and a worker runs it once, then puts it back
//! in the timer for its next beat. So runs never overlap: the next beat is
//! only scheduled once the current run has returned.
//!
//! An overrun (a run longer than the period, or a pool too busy to start
//! a beat on time) never piles up runs: at a fixed rate, the beats missed
//! meanwhile are skipped and the next run is the next beat of the original
//! grid that is not already past; with a fixed delay, the next run is
//! `delay` after the previous one returned.

use std::any::Any;
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use crate::deadline::Deadline;
use crate::error::Refusal;
use crate::scheduler::registry::Registry;
use crate::stats::Ran;
use crate::sync::lock_std;
use crate::task::state::Snapshot;
use crate::task::{FnTask, Job, RunCtx, Runnable};
use crate::unwind;

/// How the next beat follows the last one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Cadence {
    /// Beats at `initial + k * period`; missed beats are skipped.
    FixedRate(Duration),
    /// The next run `delay` after the previous one returned.
    FixedDelay(Duration),
}

/// The closure that resolves a schedule's handle: re-raises the payload
/// of the run that panicked, if any.
pub(crate) type Finish = Box<dyn FnOnce() + Send + 'static>;

/// One periodic schedule: what the timer and the queues hold.
pub(crate) struct Periodic<F> {
    registry: Weak<Registry>,
    /// The user's closure. Locked only by the one run in progress (runs
    /// never overlap), so uncontended.
    func: Mutex<F>,
    cadence: Cadence,
    /// When the current beat was due (the grid of a fixed rate).
    due: Mutex<Instant>,
    /// The schedule's handle task: `SCHEDULED` while the schedule lives.
    pub(crate) done: Arc<FnTask<Finish, ()>>,
    /// The payload of the run that panicked, for `done` to re-raise.
    panic: Arc<Mutex<Option<Box<dyn Any + Send>>>>,
}

impl<F> Periodic<F>
where
    F: FnMut() + Send + 'static,
{
    pub(crate) fn new(
        registry: &Arc<Registry>,
        func: F,
        cadence: Cadence,
        first: Instant,
    ) -> Arc<Self> {
        let panic: Arc<Mutex<Option<Box<dyn Any + Send>>>> = Arc::default();
        let payload = Arc::clone(&panic);
        let finish: Finish = Box::new(move || {
            if let Some(payload) = lock_std(&payload).take() {
                std::panic::resume_unwind(payload);
            }
        });
        Arc::new(Self {
            registry: Arc::downgrade(registry),
            func: Mutex::new(func),
            cadence,
            due: Mutex::new(first),
            done: FnTask::new(finish, None, None),
            panic,
        })
    }

    /// When the beat after the one that just ran is due.
    fn next_due(&self, now: Instant) -> Deadline {
        let mut due = lock_std(&self.due);
        let next = match self.cadence {
            Cadence::FixedDelay(delay) => now.checked_add(delay),
            Cadence::FixedRate(period) => skip_missed(*due, period, now),
        };
        match next {
            Some(next) => {
                *due = next;
                Deadline::At(next)
            }
            None => Deadline::Never,
        }
    }
}

/// The first beat of the grid `last + k * period` (k ≥ 1) that is not
/// before `now`: the beats missed while a run overran are skipped.
pub(crate) fn skip_missed(last: Instant, period: Duration, now: Instant) -> Option<Instant> {
    let next = last.checked_add(period)?;
    if next >= now || period.is_zero() {
        return Some(next.max(now));
    }
    let behind = now.duration_since(next).as_nanos();
    let skipped = behind.div_ceil(period.as_nanos());
    let skipped = u32::try_from(skipped).ok()?;
    next.checked_add(period.checked_mul(skipped)?)
}

impl<F> Runnable for Periodic<F>
where
    F: FnMut() + Send + 'static,
{
    fn run(self: Arc<Self>, ctx: &RunCtx<'_>) -> Ran {
        if !self.done.snapshot().is_queued() {
            // Cancelled while it was queued.
            return if self.done.tally_cancelled() {
                Ran::Cancelled
            } else {
                Ran::Skipped
            };
        }
        let ran = unwind::catch(|| (lock_std(&self.func))());
        match ran {
            Ok(()) => {
                let next = self.next_due(Instant::now());
                if let Some(registry) = self.registry.upgrade() {
                    // A cancel during the run is seen at the next beat; a
                    // closed timer resolves the schedule at once.
                    registry.timer.schedule(&registry, next, Job::Task(self));
                }
                // Not finished: the schedule lives on (as an async task
                // that returned `Pending` does).
                Ran::Pending
            }
            Err(payload) => {
                *lock_std(&self.panic) = Some(payload);
                // The handle's task re-raises it: `Panicked`, recorded in
                // `stats` as this run's end. A cancel that came first wins.
                Job::Task(Arc::clone(&self.done) as Arc<dyn Runnable>).run_in(ctx)
            }
        }
    }

    fn abort(&self, refusal: Refusal) -> bool {
        Runnable::abort(&*self.done, refusal)
    }

    fn snapshot(&self) -> Snapshot {
        self.done.snapshot()
    }

    fn tally_cancelled(&self) -> bool {
        self.done.tally_cancelled()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn a_fixed_rate_skips_missed_beats_and_never_goes_back() {
        let t0 = Instant::now();
        let ms = Duration::from_millis;
        // On time: the next beat of the grid.
        assert_eq!(skip_missed(t0, ms(10), t0 + ms(3)), Some(t0 + ms(10)));
        // Overran by 2.5 periods: beats 10 and 20 are skipped, 30 is next.
        assert_eq!(skip_missed(t0, ms(10), t0 + ms(25)), Some(t0 + ms(30)));
        // Exactly on a beat: that beat.
        assert_eq!(skip_missed(t0, ms(10), t0 + ms(20)), Some(t0 + ms(20)));
        // A zero period runs again at once, never in the past.
        assert_eq!(skip_missed(t0, ms(0), t0 + ms(7)), Some(t0 + ms(7)));
    }
}
