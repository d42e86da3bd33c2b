//! What each worker runs right now, for `shutdown_timeout`'s report.
//!
//! Every run of a task goes through `RunCtx::around`, which records the
//! task in its worker's [`NowRunning`] and puts back what was there before
//! when the run ends (a worker that waits may run a claimed task on its
//! stack, so runs nest). Only the owning worker writes. The id is one word
//! written with plain stores, which a plain `submit` pays (two stores on a
//! cache line the worker writes for its counters anyway). A name is two
//! words that cannot be written atomically together, so a *named* task
//! also writes `(id, name)` under a lock that only named runs and the
//! report take: the report shows the name only when its id is the id
//! running now.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use crate::sync::lock_std as lock;

/// One worker's task in progress.
#[derive(Default)]
pub(crate) struct NowRunning {
    /// The running task's id (its address), 0 when none.
    id: AtomicUsize,
    /// The id and name of the named task in progress, if any.
    named: Mutex<Option<(usize, &'static str)>>,
}

/// What a run replaced, to put back when it ends.
#[derive(Clone, Copy)]
pub(crate) struct Outer {
    id: usize,
    /// `Some` when the run was named: the `named` entry it replaced.
    named: Option<Option<(usize, &'static str)>>,
}

impl NowRunning {
    /// Task `id`, named `name`, begins a run on this worker.
    #[inline(always)]
    pub(crate) fn enter(&self, id: usize, name: Option<&'static str>) -> Outer {
        let outer_id = self.id.load(Ordering::Relaxed);
        // The name before the id: a report that finds `id` here under the
        // lock finds its name with it.
        let named = name.map(|name| lock(&self.named).replace((id, name)));
        self.id.store(id, Ordering::Relaxed);
        Outer {
            id: outer_id,
            named,
        }
    }

    /// The run that `enter` returned `outer` for has ended.
    #[inline(always)]
    pub(crate) fn leave(&self, outer: Outer) {
        self.id.store(outer.id, Ordering::Relaxed);
        if let Some(named) = outer.named {
            // The id first: the name goes only once no report can pair it
            // with an id that another task at the same address now has.
            *lock(&self.named) = named;
        }
    }

    /// The task this worker runs now, with its name if it has one.
    pub(crate) fn read(&self) -> Option<(usize, Option<&'static str>)> {
        // Under the lock, so the id read is not newer than the name: a
        // named run changes the name under it before and after its id.
        let named = lock(&self.named);
        let id = self.id.load(Ordering::Relaxed);
        let name = named.filter(|&(of, _)| of == id).map(|(_, name)| name);
        (id != 0).then_some((id, name))
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn nested_runs_put_back_the_outer_task_and_its_name() {
        let now = NowRunning::default();
        assert_eq!(now.read(), None);
        let a = now.enter(8, Some("outer"));
        assert_eq!(now.read(), Some((8, Some("outer"))));
        let b = now.enter(16, None);
        assert_eq!(
            now.read(),
            Some((16, None)),
            "an unnamed inner run has no name"
        );
        let c = now.enter(24, Some("inner"));
        assert_eq!(now.read(), Some((24, Some("inner"))));
        now.leave(c);
        assert_eq!(now.read(), Some((16, None)));
        now.leave(b);
        assert_eq!(now.read(), Some((8, Some("outer"))));
        now.leave(a);
        assert_eq!(now.read(), None);
    }

    #[test]
    fn a_name_is_never_paired_with_a_later_task_at_the_same_address() {
        let now = NowRunning::default();
        let a = now.enter(8, Some("named"));
        now.leave(a);
        let b = now.enter(8, None); // the address reused by an unnamed task
        assert_eq!(now.read(), Some((8, None)));
        now.leave(b);
    }

    /// A reader racing a worker that nests runs never sees a named run
    /// without its name, nor a name with an id it does not belong to.
    #[test]
    fn a_racing_reader_sees_only_consistent_pairs() {
        let now = std::sync::Arc::new(NowRunning::default());
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let writer = {
            let (now, stop) = (now.clone(), stop.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let a = now.enter(8, Some("named"));
                    now.leave(a);
                    let b = now.enter(8, None);
                    let c = now.enter(16, Some("inner"));
                    now.leave(c);
                    now.leave(b);
                }
            })
        };
        let mut seen = [0_usize; 3];
        for _ in 0..20_000 {
            match now.read() {
                None => seen[0] += 1,
                Some((8, Some("named"))) | Some((8, None)) => seen[1] += 1,
                Some((16, Some("inner"))) => seen[2] += 1,
                other => panic!("an inconsistent pair: {other:?}"),
            }
        }
        stop.store(true, Ordering::Relaxed);
        writer.join().unwrap();
        assert_eq!(seen.iter().sum::<usize>(), 20_000);
    }
}
