// The generated items are documented and warning-free under strict lints,
// and the function's own attributes (docs, cfg, deprecated) are kept.
#![deny(warnings, missing_docs, unreachable_pub, unused, clippy::all)]
//! A crate that declares tasks it does not fully use.

/// Never mapped: the generated `map` must not warn as dead code.
#[executor::task]
fn only_submitted(x: u32) -> u32 {
    x
}

/// Public and documented.
#[executor::task(name = "public-task")]
pub fn public_task(x: u32) -> u32 {
    x + 1
}

/// Compiled out together with its module.
#[cfg(any())]
#[executor::task]
fn gone(x: u32) -> u32 {
    x
}

/// Deprecated: using the function warns, its generated module does not.
#[executor::task]
#[deprecated = "use public_task"]
pub fn old(x: u32) -> u32 {
    x
}

fn main() {
    assert_eq!(only_submitted::submit_global(3).result().unwrap(), 3);
    assert_eq!(public_task::submit_global(3).result().unwrap(), 4);
}
