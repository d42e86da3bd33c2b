//! Attribute macros for the `executor` crate. Use them through
//! `executor::task`: this crate's own paths are not a stable interface.
//!
//! The macro is a thin shell around [`proc_macro2`] functions, one concept per
//! module: `args` (the options), `check` (signature validation), `bounds`
//! (`Send` checks with good spans), `vis` (visibility of generated items),
//! `rebase` (relative paths seen from the generated module), `expand` (the
//! generated module), `docs` (its doc comments) and `diag` (collecting errors).

mod args;
mod bounds;
mod check;
mod diag;
mod docs;
mod expand;
mod rebase;
mod vis;

use proc_macro::TokenStream;

/// The README's example runs as a doc test, so it stays true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

/// Declares a function as a pool task.
///
/// The function stays an ordinary function. Next to it, a module of the same
/// name (a function and a module live in different namespaces) holds its pool
/// entry points:
///
/// ```ignore
/// use executor::{task, ThreadPoolExecutor};
///
/// #[task]
/// fn thumbnail(path: PathBuf, width: u32) -> io::Result<Vec<u8>> { /* ... */ }
///
/// let pool = ThreadPoolExecutor::new();
/// thumbnail(path, 128);                              // still an ordinary call
/// let h = thumbnail::submit(&pool, path, 128);       // TaskHandle<io::Result<Vec<u8>>>
/// for r in thumbnail::map(&pool, jobs) { /* ... */ } // jobs: IntoIterator<Item = (PathBuf, u32)>
/// let h = thumbnail::submit_global(path, 128);       // on executor::global()
/// let rs = thumbnail::map_global(jobs);
/// ```
///
/// | generated                         | does                                              |
/// |-----------------------------------|---------------------------------------------------|
/// | `name::submit(&pool, a, b)`       | `pool.submit_named("name", move \|\| name(a, b))`  |
/// | `name::map(&pool, items)`         | `pool.map(items, ...)`: results in input order    |
/// | `name::submit_global(a, b)`       | `submit` on `executor::global()`                  |
/// | `name::map_global(items)`         | `map` on `executor::global()`                     |
///
/// `map` takes the argument itself for a one-argument function, a tuple
/// `(a, b, ...)` of the arguments otherwise, and `()` for none.
///
/// # Options
///
/// - `#[task(name = "resize")]`: the task name shown in panic messages
///   (`task 'resize' panicked: ...`) and stats. Default: the function's name.
/// - `#[task(crate = "my_executor")]` or `#[task(crate = my_executor)]`: the
///   path of the `executor` crate, when Cargo.toml renames it. Default:
///   `::executor`.
///
/// # `async fn`
///
/// An `async fn` stays async; `submit` spawns its future on the pool
/// (`pool.spawn_named`), and the handle resolves to the future's output.
/// `map` keeps a bounded window of tasks in flight (`pool.map_async_named`)
/// and yields the outputs in input order. This needs `executor`'s `async`
/// feature (on by default); with only `macros`, an `async fn` task is a
/// compile error that says so.
///
/// # Visibility and attributes
///
/// The module has the function's visibility, and the functions inside it reach
/// exactly as far as the function does (`pub(super)` on the function becomes
/// `pub(in super::super)` inside the module, and so on). Doc comments and
/// other attributes stay on the function; `cfg`, `deprecated` and
/// `doc(hidden)` also apply to the module. Argument types resolve as in the
/// function's own module (the module does `use super::*`).
///
/// # Compile errors
///
/// A task runs on another thread after `submit` returns, so its arguments
/// must be owned. Each of these is one error on the offending token:
///
/// - a borrowed argument (`&str`, `&T`, `&mut T`) or any non-`'static`
///   lifetime (`Cow<'a, str>`); `&'static T` is fine;
/// - an argument or result type that is not `Send` (`Rc<T>`);
/// - a `self` receiver, `impl Trait` arguments or return types, generic or
///   lifetime parameters, `where` clauses, `unsafe fn`;
/// - an unknown or repeated option, or an item that is not a function.
///
/// Declare tasks at module level: a module cannot be generated inside an
/// `impl` block, nor see a function declared inside a function body.
#[proc_macro_attribute]
pub fn task(attr: TokenStream, item: TokenStream) -> TokenStream {
    expand::task(attr.into(), item.into()).into()
}
