//! [`wait`]: Python's `concurrent.futures.wait`, returning the done and the
//! not-done handles once a [`ReturnWhen`] condition holds. It hears about
//! completions through the same done-callback [`Inbox`] as
//! [`as_completed`](crate::as_completed), so it never rescans the handles.

use std::cell::Cell;
use std::fmt;
use std::sync::atomic::Ordering;
use std::time::Duration;

use super::inbox::{claim_next, is_failure, Inbox};
use crate::deadline::Deadline;
use crate::handle::TaskHandle;

/// When [`wait`] returns: Python's `FIRST_COMPLETED`, `FIRST_EXCEPTION` and
/// `ALL_COMPLETED`.
///
/// ```
/// use executor::ReturnWhen;
///
/// assert_eq!(ReturnWhen::default(), ReturnWhen::AllCompleted);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum ReturnWhen {
    /// As soon as any task is done (finished, panicked, cancelled, …).
    FirstCompleted,
    /// As soon as any task ends in an error other than cancellation (it
    /// panicked, or it was rejected, abandoned or the pool broke); when none does,
    /// once all are done.
    FirstException,
    /// Once every task is done.
    #[default]
    AllCompleted,
}

/// What [`wait`] returns: the handles split by whether their task was done
/// when it returned, each part in input order.
///
/// ```
/// use executor::{wait, ReturnWhen, ThreadPoolExecutor};
///
/// let pool = ThreadPoolExecutor::new();
/// let handles: Vec<_> = (0..3).map(|i| pool.submit(move || i)).collect();
/// let result = wait(handles, ReturnWhen::AllCompleted, None);
/// assert_eq!((result.done.len(), result.not_done.len()), (3, 0));
/// ```
pub struct WaitResult<T> {
    /// Handles whose task is done.
    pub done: Vec<TaskHandle<T>>,
    /// Handles whose task was still queued or running.
    pub not_done: Vec<TaskHandle<T>>,
}

impl<T> fmt::Debug for WaitResult<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WaitResult")
            .field("done", &self.done)
            .field("not_done", &self.not_done)
            .finish()
    }
}

/// Blocks until the condition `return_when` holds for `handles` or
/// `timeout` passes, then splits them into done and not done: Python's
/// `concurrent.futures.wait`. Nothing is lost on timeout: every handle
/// comes back in one of the two parts.
///
/// Waiting uses one done callback per handle, so it is O(n). Called on a
/// worker thread, it runs the given tasks that are still queued on its pool
/// meanwhile (never any other task). A `timeout` too large to represent
/// (`Duration::MAX`) waits for good.
///
/// Nothing stays registered on the handles after it returns (on timeout
/// or once the condition holds): it takes its callbacks off the ones not
/// done, so polling the same pending handles again and again (Python's
/// `while not_done: done, not_done = wait(not_done, timeout, FIRST_COMPLETED)`)
/// holds no more memory than one call.
///
/// ```
/// use std::time::Duration;
/// use executor::{wait, ReturnWhen, ThreadPoolExecutor};
///
/// let pool = ThreadPoolExecutor::new();
/// let (tx, rx) = std::sync::mpsc::channel::<()>();
/// let slow = pool.submit(move || rx.recv().unwrap());
/// let failing = pool.submit(|| panic!("bad input"));
///
/// let result = wait([slow, failing], ReturnWhen::FirstException, Some(Duration::from_secs(60)));
/// assert_eq!(result.done.len(), 1);
/// assert!(result.done.into_iter().next().unwrap().result().unwrap_err().is_panic());
/// tx.send(()).unwrap();
/// assert!(result.not_done.into_iter().all(|h| h.result().is_ok()));
/// ```
pub fn wait<T, I>(handles: I, return_when: ReturnWhen, timeout: Option<Duration>) -> WaitResult<T>
where
    I: IntoIterator<Item = TaskHandle<T>>,
{
    let deadline = Deadline::from_timeout(timeout);
    let handles: Vec<TaskHandle<T>> = handles.into_iter().collect();
    let total = handles.len();
    let satisfied = |done: usize, failed: bool| {
        done == total
            || match return_when {
                ReturnWhen::FirstCompleted => done >= 1,
                ReturnWhen::FirstException => failed,
                ReturnWhen::AllCompleted => false,
            }
    };

    // One look at every handle: the answer may already be known.
    let mut done_before = 0;
    let mut failed_before = false;
    let mut unfinished = Vec::new();
    for (index, handle) in handles.iter().enumerate() {
        match handle.outcome() {
            Some(outcome) => {
                done_before += 1;
                failed_before |= is_failure(outcome);
            }
            None => unfinished.push(index),
        }
    }
    if !satisfied(done_before, failed_before) {
        // Exactly the handles this look saw unfinished get a callback, so
        // each is counted once: before, or by its callback (which runs at
        // once if it finished in between).
        let inbox = Inbox::new();
        let keys: Vec<_> = unfinished
            .iter()
            .map(|&index| inbox.watch(&handles[index], index, false))
            .collect();
        let ready = || {
            satisfied(
                done_before + inbox.pushed(),
                failed_before || inbox.failed.load(Ordering::Relaxed),
            )
        };
        let next = Cell::new(0);
        let claim = |pool| {
            claim_next(
                unfinished.len(),
                |i| Some(&handles[unfinished[i]]),
                &next,
                pool,
            )
        };
        inbox.block_until(&ready, &claim, deadline);
        // Leave nothing behind on the handles still pending: a caller that
        // polls them again and again must not pile up callbacks.
        inbox.close();
        for (&index, key) in unfinished.iter().zip(keys) {
            Inbox::unwatch(&handles[index], key);
        }
    }

    let (done, not_done) = handles.into_iter().partition(TaskHandle::done);
    WaitResult { done, not_done }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::ThreadPoolExecutor;

    #[test]
    fn wait_on_a_single_worker_from_inside_a_task() {
        let pool = Arc::new(
            ThreadPoolExecutor::builder()
                .max_workers(1)
                .build()
                .unwrap(),
        );
        let inner = Arc::clone(&pool);
        let done = pool
            .submit(move || {
                let handles: Vec<_> = (0..10_u32).map(|i| inner.submit(move || i)).collect();
                wait(handles, ReturnWhen::AllCompleted, None).done.len()
            })
            .result()
            .unwrap();
        assert_eq!(done, 10);
    }
}
