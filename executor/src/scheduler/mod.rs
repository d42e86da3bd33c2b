//! The scheduler: the registry of workers and queues, the worker loop, the
//! sleep protocol and the waiting protocol. These modules know each other
//! (as rayon-core's registry and worker do); everything above them reaches
//! the scheduler through `Registry`, `worker::current_of` and `blocking`.

pub(crate) mod blocking;
pub(crate) mod config;
pub(crate) mod live_tasks;
pub(crate) mod pool_state;
pub(crate) mod registry;
pub(crate) mod sleep;
pub(crate) mod timer;
pub(crate) mod view_counts;
pub(crate) mod worker;
