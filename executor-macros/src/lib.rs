//! Attribute macros for the `executor` crate. Use them through `executor::task`.

use proc_macro::TokenStream;

/// Declares a function as a pool task (work in progress: passes the item through).
#[proc_macro_attribute]
pub fn task(_attr: TokenStream, item: TokenStream) -> TokenStream {
    item
}
