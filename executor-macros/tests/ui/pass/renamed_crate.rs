// `crate = ...` points the generated code at the executor crate under another
// path, as after `exec = { package = "executor", ... }` in Cargo.toml.
mod reexport {
    pub use executor as exec;
}
use reexport::exec;

#[exec::task(crate = "crate::reexport::exec")]
fn by_string(x: u32) -> u32 {
    x + 1
}

#[exec::task(crate = exec)]
fn by_path(x: u32) -> u32 {
    x + 2
}

fn main() {
    let pool = exec::ThreadPoolExecutor::new();
    assert_eq!(by_string::submit(&pool, 1).result().unwrap(), 2);
    assert_eq!(by_path::submit(&pool, 1).result().unwrap(), 3);
}
