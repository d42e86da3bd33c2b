//! How idle workers go to sleep and how submitters wake them.
//! The protocol and its invariants are written out in `README.md` beside this file.

mod counts;

pub(crate) use counts::Counts;

use crate::deadline::Deadline;
use crate::sync::{fence, lock, park_timeout, thread, AtomicUsize, Mutex, Ordering};

/// What ended a call to [`Sleep::sleep`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Wake {
    /// A submitter picked this worker, or its last re-check before parking
    /// found work; either way it is now counted as searching.
    Notified,
    /// The worker left the sleeping set on its own; it is not searching.
    Cancelled,
    /// The timeout passed without a notification; the worker left the
    /// sleeping set on its own and is not searching.
    TimedOut,
}

/// The shared sleep state of one pool.
pub(crate) struct Sleep {
    /// Packed searching and sleeping counts (see [`Counts`]).
    counts: AtomicUsize,
    /// The sleeping workers, most recent last: waking the most recent sleeper
    /// picks the one with the warmest cache and lets long sleepers retire.
    sleepers: Mutex<Vec<(usize, thread::Thread)>>,
    /// Per worker slot: 1 while it is in `sleepers`. Cleared, under the
    /// `sleepers` lock, by whoever takes it out.
    asleep: Box<[AtomicUsize]>,
    /// See [`Sleep::start_searching`].
    max_searching: usize,
}

impl Sleep {
    pub(crate) fn new(slots: usize, max_searching: usize) -> Self {
        Self {
            max_searching: max_searching.max(1),
            counts: AtomicUsize::new(0),
            sleepers: Mutex::new(Vec::with_capacity(slots)),
            asleep: (0..slots).map(|_| AtomicUsize::new(0)).collect(),
        }
    }

    pub(crate) fn counts(&self) -> Counts {
        Counts(self.counts.load(Ordering::SeqCst))
    }

    /// Called after new work was queued. Wakes one sleeper, unless a worker
    /// is already searching (it will find the work, see the README) or
    /// nobody sleeps. Returns whether the caller should consider starting a
    /// new worker: no worker is searching or asleep, so all are busy.
    pub(crate) fn notify_one(&self) -> bool {
        // SeqCst fence: the queue push before it and the `counts` load after
        // it pair with the fence a worker runs between announcing itself
        // (searching or sleeping) and re-checking the queues. One of the two
        // sides sees the other. This is the whole no-lost-wake-up argument.
        fence(Ordering::SeqCst);
        let counts = Counts(self.counts.load(Ordering::Relaxed));
        if counts.searching() > 0 {
            return false;
        }
        if counts.sleeping() == 0 {
            return true;
        }
        self.wake_one_cold();
        false
    }

    /// Wakes one sleeper, if any, whether or not a worker searches: for a
    /// reason other than new work (a surplus worker must step down).
    #[cold]
    pub(crate) fn wake_any(&self) {
        self.wake_one_cold();
    }

    #[cold]
    fn wake_one_cold(&self) {
        let mut sleepers = lock(&self.sleepers);
        if let Some((index, thread)) = sleepers.pop() {
            self.counts.fetch_add(
                Counts::ONE_SEARCHING.wrapping_sub(Counts::ONE_SLEEPING),
                Ordering::SeqCst,
            );
            // Release: pairs with the sleeper's Acquire load of its flag, so
            // it sees itself counted as searching.
            self.asleep[index].store(0, Ordering::Release);
            drop(sleepers);
            thread.unpark();
        }
    }

    /// Wakes every sleeper (shutdown, or a pool that became broken). Each
    /// woken worker counts as searching.
    pub(crate) fn notify_all(&self) {
        let woken: Vec<_> = {
            let mut sleepers = lock(&self.sleepers);
            for &(index, _) in sleepers.iter() {
                self.counts.fetch_add(
                    Counts::ONE_SEARCHING.wrapping_sub(Counts::ONE_SLEEPING),
                    Ordering::SeqCst,
                );
                self.asleep[index].store(0, Ordering::Release);
            }
            sleepers.drain(..).collect()
        };
        for (_, thread) in woken {
            thread.unpark();
        }
    }

    /// Tries to become a searching worker. At most `max_searching` workers
    /// search at once (the number of CPUs): spinning more threads than there
    /// are cores only steals time from the ones doing work, so a 64-worker
    /// I/O pool on 2 cores spins 2. Below that cap every idle worker may
    /// search: with fewer searchers than cores, a worker that parks at once
    /// is woken again by the next submission, and a busy pool pays a
    /// park/unpark round trip every few tasks (measured: 80x more context
    /// switches and 3x the time for 200,000 tiny tasks on 2 workers when only
    /// one of them could search).
    pub(crate) fn start_searching(&self) -> bool {
        let mut current = self.counts.load(Ordering::SeqCst);
        loop {
            if Counts(current).searching() >= self.max_searching {
                return false;
            }
            match self.counts.compare_exchange_weak(
                current,
                current + Counts::ONE_SEARCHING,
                Ordering::SeqCst,
                Ordering::SeqCst,
            ) {
                Ok(_) => {
                    // SeqCst fence before the caller searches: a submitter
                    // whose fence came before this increment (so it did not
                    // see us) has its push visible to our search.
                    fence(Ordering::SeqCst);
                    return true;
                }
                Err(actual) => current = actual,
            }
        }
    }

    /// Counts a worker thread that is about to be started as searching,
    /// before it runs. A submitter arriving meanwhile relies on it and starts
    /// no other thread; once it runs, it leaves the searching state like any
    /// searcher (`stop_searching` or `sleep`), handing leftover work on, so
    /// a burst grows the pool one thread after another (README, invariant 3).
    /// No fence: the worker's own exit from searching re-checks the queues.
    pub(crate) fn add_searcher(&self) {
        self.counts
            .fetch_add(Counts::ONE_SEARCHING, Ordering::SeqCst);
    }

    /// Stops searching because work was found. Returns true when the caller
    /// was the last searcher: it must then re-check the queues and, if they
    /// hold more work, call [`Sleep::notify_one`] so the work it did not
    /// take gets a worker (see the README, invariant 3).
    pub(crate) fn stop_searching(&self) -> bool {
        let prev = Counts(
            self.counts
                .fetch_sub(Counts::ONE_SEARCHING, Ordering::SeqCst),
        );
        debug_assert!(prev.searching() > 0);
        // SeqCst fence before the caller's queue re-check: pairs with the
        // fence in `notify_one`, as in `sleep`.
        fence(Ordering::SeqCst);
        prev.searching() == 1
    }

    /// Puts worker `index` to sleep until it is notified or `deadline`
    /// passes (its keep-alive).
    ///
    /// `searching` says whether the worker is counted as searching now; it
    /// stops being so as it goes to sleep. `has_work` must re-check every
    /// queue the pool has (and any reason to stay awake, such as shutdown):
    /// it runs after the worker is visible as a sleeper, which is what makes
    /// a concurrent `notify_one` impossible to miss.
    pub(crate) fn sleep(
        &self,
        index: usize,
        searching: bool,
        has_work: impl Fn() -> bool,
        deadline: Deadline,
    ) -> Wake {
        {
            let mut sleepers = lock(&self.sleepers);
            sleepers.push((index, thread::current()));
            self.asleep[index].store(1, Ordering::Relaxed);
            let delta = if searching {
                Counts::ONE_SLEEPING.wrapping_sub(Counts::ONE_SEARCHING)
            } else {
                Counts::ONE_SLEEPING
            };
            self.counts.fetch_add(delta, Ordering::SeqCst);
        }
        // SeqCst fence: pairs with the one in `notify_one` (see there).
        fence(Ordering::SeqCst);
        if has_work() {
            // Leave as a searcher: a submitter may have relied on us being
            // counted, and the work we saw may be more than we will take.
            // As a searcher we hand any leftover on when we stop (invariant 3).
            return self.leave(index, true);
        }
        loop {
            // Acquire: pairs with the Release store of the waker.
            if self.asleep[index].load(Ordering::Acquire) == 0 {
                return Wake::Notified;
            }
            match deadline.remaining() {
                None => thread::park(),
                Some(left) if left.is_zero() => {
                    return match self.leave(index, false) {
                        Wake::Cancelled => Wake::TimedOut,
                        notified => notified,
                    };
                }
                Some(left) => park_timeout(left),
            }
        }
    }

    /// Leaves the sleeping set on the worker's own initiative, as a searcher
    /// or not, unless a notifier took it out first (then it is searching
    /// and says so).
    fn leave(&self, index: usize, searching: bool) -> Wake {
        let mut sleepers = lock(&self.sleepers);
        if self.asleep[index].load(Ordering::Relaxed) == 0 {
            return Wake::Notified;
        }
        let position = sleepers
            .iter()
            .position(|&(i, _)| i == index)
            .expect("an asleep worker is in the sleeping set");
        sleepers.swap_remove(position);
        self.asleep[index].store(0, Ordering::Relaxed);
        if searching {
            let delta = Counts::ONE_SEARCHING.wrapping_sub(Counts::ONE_SLEEPING);
            self.counts.fetch_add(delta, Ordering::SeqCst);
            Wake::Notified
        } else {
            self.counts
                .fetch_sub(Counts::ONE_SLEEPING, Ordering::SeqCst);
            Wake::Cancelled
        }
    }
}
