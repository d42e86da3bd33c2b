//! Waiting on many handles at once: [`as_completed`] (each handle as soon as
//! it finishes); [`wait`](crate::wait()) (Python's `concurrent.futures.wait`)
//! lives in `wait.rs` and shares the [`Inbox`](inbox::Inbox).
//!
//! Both hear about completions through done callbacks, one per handle,
//! registered once: a callback pushes its handle's index into a shared
//! [`Inbox`](inbox::Inbox) and wakes the one consumer. Nothing ever rescans the handles, so
//! `n` handles cost O(n) in total however they finish.
//!
//! When the consumer stops (a `wait` returns, an [`AsCompleted`](crate::AsCompleted) is dropped
//! or gives its handles back), it closes the inbox and takes its callbacks
//! off the handles it did not consume, by the keys [`Inbox::watch`](inbox::Inbox::watch)
//! returned. So nothing it registered outlives it, and polling pending
//! handles again and again (Python's `wait(not_done, timeout)` loop) holds
//! no more memory than polling them once.

pub(crate) mod as_completed;
mod inbox;
pub(crate) mod wait;

#[cfg(test)]
mod tests;
