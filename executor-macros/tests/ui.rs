//! Compile-time behaviour of `#[executor::task]`: what compiles (`ui/pass`) and
//! the one clear error each misuse gets (`ui/fail/<case>.rs` + `.stderr`).
//!
//! The `.stderr` files are pinned to stable rustc: on other channels the
//! compiler's wording drifts, so the test is ignored there. After a stable
//! update changes the wording, regenerate with `TRYBUILD=overwrite` and read
//! the diff.

#[rustversion::attr(not(stable), ignore = "the .stderr files are pinned to stable rustc")]
#[test]
fn ui() {
    let cases = trybuild::TestCases::new();
    cases.pass("tests/ui/pass/*.rs");
    cases.compile_fail("tests/ui/fail/*.rs");
}
