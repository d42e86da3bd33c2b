//! `Send` bounds that turn a non-`Send` argument or result into one error on
//! its type.
//!
//! Without them, an `Rc<T>` argument fails deep inside `pool.submit_named` and
//! `pool.map` with errors pointing at the attribute. With a `where Rc<T>: Send`
//! clause (spanned on the user's type) on each generated function, rustc
//! reports the unsatisfiable bound once, on that type, and checks the bodies
//! under it, so nothing else is reported.
//!
//! Types that are `Send` by construction (`u64`, `String`, `Vec<u8>`, ...) get
//! no bound, so the generated docs stay free of `where u64: Send` noise.
//! Skipping a bound is always safe: the pool's own bounds still apply.

use std::collections::HashSet;

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned, ToTokens};
use syn::spanned::Spanned;
use syn::{GenericArgument, PathArguments, Type};

/// `where A: Send, R: Send` for the types in `types` that need checking, or
/// nothing when none does.
pub(crate) fn where_send<'a>(types: impl IntoIterator<Item = &'a Type>) -> TokenStream {
    let mut seen = HashSet::new();
    let bounds: Vec<TokenStream> = types
        .into_iter()
        .filter(|ty| !is_send_by_construction(ty))
        .filter(|ty| seen.insert(ty.to_token_stream().to_string()))
        .map(|ty| {
            // The type keeps its own tokens and the bound takes the span of its
            // last token, so rustc underlines the whole type, first to last.
            let end = ty
                .to_token_stream()
                .into_iter()
                .last()
                .map_or_else(|| ty.span(), |token| token.span());
            let send = quote_spanned!(end=> : ::core::marker::Send);
            quote!(#ty #send)
        })
        .collect();
    if bounds.is_empty() {
        quote!()
    } else {
        quote!(where #(#bounds),*)
    }
}

/// Standard types that are `Send` whatever the context, when all their type
/// arguments are. Matched by name: a user type shadowing one of these names
/// only loses the nicer error, never gains a wrong one.
const SEND_WHEN_ARGS_ARE: &[&str] = &[
    "u8", "u16", "u32", "u64", "u128", "usize", "i8", "i16", "i32", "i64", "i128", "isize", "f32",
    "f64", "bool", "char", "str", "String", "PathBuf", "Duration", "Vec", "VecDeque", "Option",
    "Result", "Box", "HashMap", "HashSet", "BTreeMap", "BTreeSet",
];

fn is_send_by_construction(ty: &Type) -> bool {
    match ty {
        Type::Paren(inner) => is_send_by_construction(&inner.elem),
        Type::Group(inner) => is_send_by_construction(&inner.elem),
        Type::Tuple(tuple) => tuple.elems.iter().all(is_send_by_construction),
        Type::Array(array) => is_send_by_construction(&array.elem),
        Type::Slice(slice) => is_send_by_construction(&slice.elem),
        Type::Never(_) => true,
        Type::Path(path) if path.qself.is_none() => {
            let Some(last) = path.path.segments.last() else {
                return false;
            };
            if !SEND_WHEN_ARGS_ARE.iter().any(|name| last.ident == name) {
                return false;
            }
            match &last.arguments {
                PathArguments::None => true,
                PathArguments::AngleBracketed(args) => args.args.iter().all(|arg| match arg {
                    GenericArgument::Type(ty) => is_send_by_construction(ty),
                    GenericArgument::Lifetime(_) | GenericArgument::Const(_) => true,
                    _ => false,
                }),
                PathArguments::Parenthesized(_) => false,
            }
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bounds(types: &[&str]) -> String {
        let types: Vec<Type> = types.iter().map(|t| syn::parse_str(t).unwrap()).collect();
        where_send(&types).to_string()
    }

    #[test]
    fn plain_data_needs_no_bound() {
        let plain = [
            "u64",
            "String",
            "std::path::PathBuf",
            "Vec<(u8, Option<String>)>",
            "[f32; 4]",
            "Result<Vec<u8>, String>",
            "()",
        ];
        assert_eq!(bounds(&plain), "");
    }

    #[test]
    fn anything_else_is_bounded_once() {
        assert_eq!(
            bounds(&["Rc<u8>", "u8", "Vec<Rc<u8>>", "Rc<u8>", "Arc<u8>"]),
            "where Rc < u8 > : :: core :: marker :: Send , \
             Vec < Rc < u8 > > : :: core :: marker :: Send , \
             Arc < u8 > : :: core :: marker :: Send"
        );
    }
}
