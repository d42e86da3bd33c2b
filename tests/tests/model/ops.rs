//! The operations a model thread applies, and the strategies that make
//! random sequences of them.

use executor::ReturnWhen;
use proptest::prelude::*;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Body {
    /// Returns its value after spinning this many rounds.
    Value(u16),
    /// Blocks on gate `n % GATES`, then returns its value.
    Gated(u8),
    /// Panics with "model panic {id}".
    Panic,
}

#[derive(Clone, Debug)]
pub(crate) enum Op {
    /// `submit` (`submit_named` if `named`); on a bounded queue
    /// `submit_timeout(timeout_us)`, so no thread blocks for good.
    Submit {
        body: Body,
        named: bool,
        timeout_us: u16,
    },
    TrySubmit(Body),
    /// An async task that wakes itself this many times, then is ready.
    SpawnSelfWaking(u8),
    /// An async task that waits for a oneshot the test fires later.
    SpawnChannel,
    /// A self-waking async task that runs until a closure submitted right
    /// behind it has run.
    FairProbe,
    Cancel(usize),
    ResultTimeout(usize, u16),
    Wait {
        picks: Vec<usize>,
        when: ReturnWhen,
        timeout_us: u16,
        consume: bool,
    },
    AsCompleted {
        picks: Vec<usize>,
        timeout_us: u16,
        stop_after: Option<u8>,
    },
    AddCallback(usize),
    /// Polls the handle once with a foreign waker.
    PollForeign(usize),
    OpenGate(u8),
    Fire(usize),
    Shutdown {
        wait: bool,
        cancel: bool,
    },
    /// Two threads call `shutdown_with(true, cancel)` at once.
    ShutdownTwice {
        cancel: bool,
    },
}

pub(crate) const GATES: usize = 3;

pub(crate) fn body() -> impl Strategy<Value = Body> {
    prop_oneof![
        4 => (0u16..500).prop_map(Body::Value),
        2 => any::<u8>().prop_map(Body::Gated),
        1 => Just(Body::Panic),
    ]
}

pub(crate) fn when() -> impl Strategy<Value = ReturnWhen> {
    prop_oneof![
        Just(ReturnWhen::FirstCompleted),
        Just(ReturnWhen::FirstException),
        Just(ReturnWhen::AllCompleted),
    ]
}

/// One operation. `rarity` scales every weight but the shutdowns', so
/// that longer sequences still run a while before they shut down.
pub(crate) fn op(rarity: u32) -> impl Strategy<Value = Op> {
    let picks = || proptest::collection::vec(any::<usize>(), 1..5);
    prop_oneof![
        20 * rarity => (body(), any::<bool>(), 0u16..300)
            .prop_map(|(body, named, timeout_us)| Op::Submit { body, named, timeout_us }),
        8 * rarity => body().prop_map(Op::TrySubmit),
        6 * rarity => (0u8..8).prop_map(Op::SpawnSelfWaking),
        6 * rarity => Just(Op::SpawnChannel),
        2 * rarity => Just(Op::FairProbe),
        8 * rarity => any::<usize>().prop_map(Op::Cancel),
        6 * rarity => (any::<usize>(), 0u16..200).prop_map(|(p, t)| Op::ResultTimeout(p, t)),
        4 * rarity => (picks(), when(), 0u16..200, any::<bool>()).prop_map(|(picks, when, timeout_us, consume)| {
            Op::Wait { picks, when, timeout_us, consume }
        }),
        4 * rarity => (picks(), 0u16..200, proptest::option::of(0u8..3)).prop_map(|(picks, timeout_us, stop_after)| {
            Op::AsCompleted { picks, timeout_us, stop_after }
        }),
        6 * rarity => any::<usize>().prop_map(Op::AddCallback),
        2 * rarity => any::<usize>().prop_map(Op::PollForeign),
        4 * rarity => any::<u8>().prop_map(Op::OpenGate),
        4 * rarity => any::<usize>().prop_map(Op::Fire),
        1 => (any::<bool>(), any::<bool>()).prop_map(|(wait, cancel)| Op::Shutdown { wait, cancel }),
        1 => any::<bool>().prop_map(|cancel| Op::ShutdownTwice { cancel }),
    ]
}

#[derive(Clone, Debug)]
pub(crate) struct Case {
    pub(crate) workers: usize,
    pub(crate) capacity: Option<usize>,
    pub(crate) keep_alive: bool,
    pub(crate) threads: Vec<Vec<Op>>,
}

pub(crate) fn case(full: bool) -> impl Strategy<Value = Case> {
    let (max_threads, max_ops, rarity) = if full { (4, 64, 3) } else { (3, 40, 2) };
    let threads = proptest::collection::vec(
        proptest::collection::vec(op(rarity), 1..max_ops),
        2..=max_threads,
    );
    (
        1usize..=4,
        proptest::option::of(1usize..=4),
        any::<bool>(),
        threads,
    )
        .prop_map(|(workers, capacity, keep_alive, threads)| Case {
            workers,
            capacity,
            keep_alive,
            threads,
        })
}
