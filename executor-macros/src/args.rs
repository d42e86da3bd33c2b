//! The options inside `#[task(...)]`: `name = "..."` and `crate = "path"`.

use proc_macro2::TokenTree;
use quote::ToTokens;
use syn::ext::IdentExt;
use syn::parse::{Parse, ParseStream};
use syn::{Ident, LitStr, Path, Token};

use crate::diag::Errors;

mod kw {
    syn::custom_keyword!(name);
}

/// Listed in every error about options, so the fix is in the message.
const VALID: &str = "valid options are `name = \"...\"` and `crate = \"path\"`";

/// The parsed options of one `#[task(...)]` attribute.
#[derive(Default)]
pub(crate) struct TaskArgs {
    /// `name = "..."`: the task name shown in panic messages and stats.
    pub(crate) name: Option<LitStr>,
    /// `crate = "path"` or `crate = path`: where the `executor` crate is.
    pub(crate) krate: Option<Path>,
}

impl TaskArgs {
    /// The task name: the `name` option, else the function's name.
    pub(crate) fn name_for(&self, func: &Ident) -> LitStr {
        match &self.name {
            Some(name) => name.clone(),
            None => LitStr::new(&func.unraw().to_string(), func.span()),
        }
    }

    /// The path of the `executor` crate: the `crate` option, else `::executor`.
    pub(crate) fn krate(&self) -> Path {
        match &self.krate {
            Some(path) => path.clone(),
            None => syn::parse_quote!(::executor),
        }
    }
}

/// An option that may be given at most once. Each option goes through the same
/// helper, so a duplicate check can never look at the wrong option.
struct SetOnce<T> {
    key: &'static str,
    value: Option<T>,
}

impl<T> SetOnce<T> {
    fn new(key: &'static str) -> Self {
        SetOnce { key, value: None }
    }

    /// Stores `value`, or reports a duplicate on `key_token` (the second key).
    fn set(&mut self, key_token: impl ToTokens, value: T, errors: &mut Errors) {
        if self.value.is_some() {
            errors.push(syn::Error::new_spanned(
                key_token,
                format!("duplicate option `{}`: give it once", self.key),
            ));
        } else {
            self.value = Some(value);
        }
    }
}

impl Parse for TaskArgs {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let mut name = SetOnce::new("name");
        let mut krate = SetOnce::new("crate");
        let mut errors = Errors::default();
        while !input.is_empty() {
            if input.peek(kw::name) {
                let key: kw::name = input.parse()?;
                match parse_name(input) {
                    Ok(value) => name.set(key, value, &mut errors),
                    Err(error) => recover(input, error, &mut errors),
                }
            } else if input.peek(Token![crate]) {
                let key: Token![crate] = input.parse()?;
                match parse_crate(input) {
                    Ok(value) => krate.set(key, value, &mut errors),
                    Err(error) => recover(input, error, &mut errors),
                }
            } else {
                let error = unknown_option(input)?;
                recover(input, error, &mut errors);
            }
            if input.is_empty() {
                break;
            }
            if let Err(error) = input.parse::<Token![,]>() {
                recover(input, error, &mut errors);
                input.parse::<Option<Token![,]>>()?;
            }
        }
        errors.finish()?;
        Ok(TaskArgs {
            name: name.value,
            krate: krate.value,
        })
    }
}

/// `= "name"`, after the `name` keyword.
fn parse_name(input: ParseStream<'_>) -> syn::Result<LitStr> {
    input.parse::<Token![=]>()?;
    let lookahead = input.lookahead1();
    if !lookahead.peek(LitStr) {
        return Err(syn::Error::new(
            input.span(),
            "expected a string literal: `name = \"my-task\"`",
        ));
    }
    let lit: LitStr = input.parse()?;
    if lit.value().is_empty() {
        return Err(syn::Error::new_spanned(
            lit,
            "the task name must not be empty",
        ));
    }
    Ok(lit)
}

/// `= "path"` or `= path`, after the `crate` keyword.
fn parse_crate(input: ParseStream<'_>) -> syn::Result<Path> {
    input.parse::<Token![=]>()?;
    if input.peek(LitStr) {
        let lit: LitStr = input.parse()?;
        lit.parse_with(Path::parse_mod_style).map_err(|_| {
            syn::Error::new_spanned(
                &lit,
                "expected a path to the executor crate, e.g. `crate = \"my_executor\"`",
            )
        })
    } else if input.peek(Token![::]) || input.peek(Ident::peek_any) {
        Path::parse_mod_style(input)
    } else {
        Err(syn::Error::new(
            input.span(),
            "expected a path to the executor crate, e.g. `crate = \"my_executor\"`",
        ))
    }
}

/// The error for a key that is not an option; consumes the key.
fn unknown_option(input: ParseStream<'_>) -> syn::Result<syn::Error> {
    let token: TokenTree = input.parse()?;
    let message = match &token {
        TokenTree::Ident(ident) => format!("unknown option `{ident}`; {VALID}"),
        _ => format!("expected an option; {VALID}"),
    };
    Ok(syn::Error::new_spanned(token, message))
}

/// Records `error` and skips to the next `,`, so later options are still checked.
fn recover(input: ParseStream<'_>, error: syn::Error, errors: &mut Errors) {
    errors.push(error);
    while !input.is_empty() && !input.peek(Token![,]) {
        // A token tree always parses while the input is not empty.
        let _ = input.parse::<TokenTree>();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;

    fn parse(tokens: proc_macro2::TokenStream) -> syn::Result<TaskArgs> {
        syn::parse2(tokens)
    }

    fn messages(tokens: proc_macro2::TokenStream) -> Vec<String> {
        match parse(tokens) {
            Ok(_) => Vec::new(),
            Err(error) => error.into_iter().map(|e| e.to_string()).collect(),
        }
    }

    #[test]
    fn empty_means_defaults() {
        let args = parse(quote!()).unwrap();
        let func: Ident = syn::parse_quote!(r#move);
        assert_eq!(args.name_for(&func).value(), "move");
        let krate = args.krate();
        assert_eq!(quote!(#krate).to_string(), ":: executor");
    }

    #[test]
    fn name_and_crate_in_either_form() {
        let args = parse(quote!(name = "resize", crate = "my_exec",)).unwrap();
        let func: Ident = syn::parse_quote!(thumbnail);
        assert_eq!(args.name_for(&func).value(), "resize");
        let krate = args.krate.unwrap();
        assert_eq!(quote!(#krate).to_string(), "my_exec");

        let args = parse(quote!(crate = ::deps::executor)).unwrap();
        let krate = args.krate.unwrap();
        assert_eq!(quote!(#krate).to_string(), ":: deps :: executor");

        let args = parse(quote!(crate = crate)).unwrap();
        assert!(args.krate.unwrap().is_ident("crate"));
    }

    #[test]
    fn unknown_options_list_the_valid_ones() {
        let errors = messages(quote!(nme = "x", retries = 3));
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert!(errors[0].starts_with("unknown option `nme`; valid options are"));
        assert!(errors[1].starts_with("unknown option `retries`"));
    }

    #[test]
    fn duplicates_are_reported_once_per_extra_key() {
        let errors = messages(quote!(name = "a", crate = x, name = "b", crate = y));
        assert_eq!(
            errors,
            [
                "duplicate option `name`: give it once",
                "duplicate option `crate`: give it once"
            ]
        );
    }

    #[test]
    fn bad_values() {
        assert_eq!(
            messages(quote!(name = 5)),
            ["expected a string literal: `name = \"my-task\"`"]
        );
        assert_eq!(
            messages(quote!(name = "")),
            ["the task name must not be empty"]
        );
        assert_eq!(messages(quote!(name)), ["expected `=`"]);
        assert_eq!(
            messages(quote!(crate = "not a path")),
            ["expected a path to the executor crate, e.g. `crate = \"my_executor\"`"]
        );
    }

    #[test]
    fn errors_after_a_bad_option_are_still_found() {
        let errors = messages(quote!(name = 5, bogus = 1, name = "x" junk));
        assert_eq!(errors.len(), 3, "{errors:?}");
        assert_eq!(errors[1], format!("unknown option `bogus`; {VALID}"));
        assert_eq!(errors[2], "expected `,`");
    }
}
