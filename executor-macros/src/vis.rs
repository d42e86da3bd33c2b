//! Visibility of the generated module and of the items inside it.
//!
//! The module `name` sits beside the function `name` and gets the function's
//! visibility. Items *inside* the module are one level deeper, so a relative
//! visibility must climb one more level to reach as far as the function does:
//!
//! | function            | module              | items in the module        |
//! |---------------------|---------------------|----------------------------|
//! | (private)           | (private)           | `pub(super)`               |
//! | `pub(self)`         | `pub(self)`         | `pub(in super)`            |
//! | `pub(super)`        | `pub(super)`        | `pub(in super::super)`     |
//! | `pub(crate)`, `pub(in crate::x)`, `pub` | same | same                  |

use proc_macro2::TokenStream;
use quote::quote;
use syn::Visibility;

use crate::rebase;

/// The visibility for items inside the generated module, reaching exactly as
/// far as the function's own visibility `vis` does.
pub(crate) fn inner(vis: &Visibility) -> TokenStream {
    match vis {
        Visibility::Public(token) => quote!(#token),
        Visibility::Inherited => quote!(pub(super)),
        Visibility::Restricted(restricted) => {
            let pub_token = &restricted.pub_token;
            match rebase::path(&restricted.path) {
                Some(path) => quote!(#pub_token(in #path)),
                None => quote!(#vis),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inner_of(vis: &str) -> String {
        let vis: Visibility = syn::parse_str(vis).unwrap();
        inner(&vis).to_string()
    }

    #[test]
    fn each_form_reaches_as_far_as_the_function() {
        let cases = [
            ("", "pub (super)"),
            ("pub", "pub"),
            ("pub(crate)", "pub (crate)"),
            ("pub(in crate::a::b)", "pub (in crate :: a :: b)"),
            ("pub(self)", "pub (in super)"),
            ("pub(in self)", "pub (in super)"),
            ("pub(super)", "pub (in super :: super)"),
            ("pub(in super::super)", "pub (in super :: super :: super)"),
        ];
        for (vis, want) in cases {
            assert_eq!(inner_of(vis), want, "for `{vis}`");
        }
    }
}
