//! Crate-internal test suites that need more than one module: the `loom`
//! models of the pool's lock-free and park/unpark protocols.

#[cfg(loom)]
mod loom;
