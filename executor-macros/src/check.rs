//! Validating the signature of a `#[task]` function before anything is generated.
//!
//! A task runs on another thread after `submit` returns, so everything it takes
//! must be owned (`'static`) and nameable in the generated module. Each rule has
//! its own error, spanned on the token that breaks it.

use std::collections::HashSet;

use proc_macro2::Span;
use syn::spanned::Spanned;
use syn::visit::{self, Visit};
use syn::{
    FnArg, GenericParam, Ident, ItemFn, Lifetime, Pat, ReturnType, Signature, TraitBound, Type,
    TypeImplTrait, TypeReference,
};

use crate::diag::Errors;

/// A function that passed every check: what the expansion needs to know.
pub(crate) struct Task<'a> {
    /// The function's name.
    pub(crate) ident: &'a Ident,
    /// Whether it is an `async fn`.
    pub(crate) is_async: bool,
    /// One entry per argument, in order.
    pub(crate) params: Vec<Param<'a>>,
    /// The return type (`None` when omitted: `()`); for an `async fn`, the
    /// future's output.
    pub(crate) output: Option<&'a Type>,
}

/// One argument of the task function.
pub(crate) struct Param<'a> {
    /// Its name in the generated functions: the binding for a plain
    /// `name: T` or `mut name: T`, a fresh name for any other pattern.
    pub(crate) ident: Ident,
    /// Its type.
    pub(crate) ty: &'a Type,
}

/// Checks `func` and describes it, or returns every problem found, in source order.
pub(crate) fn task(func: &ItemFn) -> syn::Result<Task<'_>> {
    let sig = &func.sig;
    let mut errors = Errors::default();
    check_qualifiers(sig, &mut errors);

    let mut params = Vec::new();
    let mut arg_errors = Errors::default();
    for (index, arg) in sig.inputs.iter().enumerate() {
        match arg {
            FnArg::Receiver(receiver) => arg_errors.push(syn::Error::new_spanned(
                receiver,
                "#[task] works on free functions, not methods: `self` receivers are not \
                 supported; take the value as an ordinary argument of a free function",
            )),
            FnArg::Typed(typed) => {
                check_type(&typed.ty, &mut arg_errors);
                params.push((index, &*typed.pat, &*typed.ty));
            }
        }
    }
    // Lifetime parameters are reported where an argument uses them; only an
    // unused one is reported on its own.
    check_generics(sig, !arg_errors.is_empty(), &mut errors);
    errors.extend(arg_errors);
    if let ReturnType::Type(_, ty) = &sig.output {
        check_output(ty, &mut errors);
    }
    if let Some(where_clause) = &sig.generics.where_clause {
        errors.push(syn::Error::new_spanned(
            where_clause,
            "#[task] functions cannot have a `where` clause: they take concrete types",
        ));
    }
    errors.finish()?;

    Ok(Task {
        ident: &sig.ident,
        is_async: sig.asyncness.is_some(),
        params: name_params(params),
        output: match &sig.output {
            ReturnType::Default => None,
            ReturnType::Type(_, ty) => Some(ty),
        },
    })
}

/// `unsafe` and variadics: what no task can be.
fn check_qualifiers(sig: &Signature, errors: &mut Errors) {
    if let Some(unsafety) = &sig.unsafety {
        errors.push(syn::Error::new_spanned(
            unsafety,
            "an `unsafe fn` cannot be a task: `submit` would call it without an `unsafe` \
             block; make a safe wrapper function the task",
        ));
    }
    if let Some(variadic) = &sig.variadic {
        errors.push(syn::Error::new_spanned(
            variadic,
            "variadic arguments are not supported by #[task]",
        ));
    }
}

/// Type and const parameters are unsupported; lifetime parameters are reported
/// here only when no argument error (which names the lifetime) already did.
fn check_generics(sig: &Signature, args_reported: bool, errors: &mut Errors) {
    let generics = &sig.generics;
    if generics.params.is_empty() {
        return;
    }
    let lifetimes_only = generics
        .params
        .iter()
        .all(|param| matches!(param, GenericParam::Lifetime(_)));
    if !lifetimes_only {
        errors.push(syn::Error::new_spanned(
            generics,
            "generic parameters are not supported by #[task]: `submit` and `map` need \
             concrete argument and return types; make a non-generic wrapper function the task",
        ));
    } else if !args_reported {
        errors.push(syn::Error::new_spanned(
            generics,
            "lifetime parameters are not supported by #[task]: a task runs on another \
             thread after `submit` returns, so its arguments must be owned ('static)",
        ));
    }
}

/// An argument type must be owned and concrete: no borrow, no non-`'static`
/// lifetime, no `impl Trait`.
fn check_type(ty: &Type, errors: &mut Errors) {
    let mut checker = ArgType {
        errors,
        higher_ranked: Vec::new(),
    };
    checker.visit_type(ty);
}

/// Walks an argument type and reports what would not be `'static`.
struct ArgType<'e> {
    errors: &'e mut Errors,
    /// Lifetimes bound by an enclosing `for<'a>`: those borrow nothing.
    higher_ranked: Vec<HashSet<Ident>>,
}

impl ArgType<'_> {
    fn is_owned(&self, lifetime: &Lifetime) -> bool {
        lifetime.ident == "static"
            || self
                .higher_ranked
                .iter()
                .any(|s| s.contains(&lifetime.ident))
    }
}

impl<'ast> Visit<'ast> for ArgType<'_> {
    fn visit_type_reference(&mut self, reference: &'ast TypeReference) {
        match &reference.lifetime {
            Some(lifetime) if self.is_owned(lifetime) => {
                visit::visit_type_reference(self, reference);
            }
            _ => self.errors.push(syn::Error::new_spanned(
                reference,
                "#[task] arguments must be owned: a task runs on another thread after \
                 `submit` returns, so it cannot borrow from the caller; take an owned type \
                 (`String`, `Vec<T>`, `Arc<T>`, ...) or a `&'static` reference",
            )),
        }
    }

    fn visit_lifetime(&mut self, lifetime: &'ast Lifetime) {
        if !self.is_owned(lifetime) {
            self.errors.push(syn::Error::new_spanned(
                lifetime,
                format!(
                    "#[task] arguments must be owned: the lifetime `{lifetime}` borrows from \
                     the caller, but a task runs on another thread after `submit` returns; \
                     use an owned type or `'static`"
                ),
            ));
        }
    }

    fn visit_type_impl_trait(&mut self, impl_trait: &'ast TypeImplTrait) {
        self.errors.push(syn::Error::new_spanned(
            impl_trait,
            "`impl Trait` arguments are not supported by #[task]: `submit` and `map` need a \
             concrete type; take a named type or a `Box<dyn Trait + Send>`",
        ));
    }

    fn visit_trait_bound(&mut self, bound: &'ast TraitBound) {
        let bound_here = bound.lifetimes.iter().flat_map(|l| &l.lifetimes);
        self.higher_ranked.push(
            bound_here
                .filter_map(|param| match param {
                    GenericParam::Lifetime(l) => Some(l.lifetime.ident.clone()),
                    _ => None,
                })
                .collect(),
        );
        visit::visit_path(self, &bound.path);
        self.higher_ranked.pop();
    }

    // `fn(&str) -> &str` is a `'static` type whatever its signature borrows.
    fn visit_type_bare_fn(&mut self, _: &'ast syn::TypeBareFn) {}

    // `Fn(&str)` sugar in `Box<dyn Fn(&str)>` is higher-ranked: it borrows nothing.
    fn visit_parenthesized_generic_arguments(
        &mut self,
        _: &'ast syn::ParenthesizedGenericArguments,
    ) {
    }
}

/// The return type must be nameable: the handle's type is spelled out in `submit`.
fn check_output(ty: &Type, errors: &mut Errors) {
    struct Output<'e>(&'e mut Errors);
    impl<'ast> Visit<'ast> for Output<'_> {
        fn visit_type_impl_trait(&mut self, impl_trait: &'ast TypeImplTrait) {
            self.0.push(syn::Error::new_spanned(
                impl_trait,
                "`impl Trait` return types are not supported by #[task]: the task handle \
                 needs a nameable type; return a named type or a `Box<dyn Trait + Send>`",
            ));
        }
    }
    Output(errors).visit_type(ty);
}

/// Names the generated functions use for the arguments: the user's names where
/// the pattern is a plain binding, fresh ones (`arg0`, ...) that collide with
/// nothing else in the signature for other patterns.
fn name_params<'a>(params: Vec<(usize, &'a Pat, &'a Type)>) -> Vec<Param<'a>> {
    let taken: HashSet<String> = params
        .iter()
        .filter_map(|(_, pat, _)| binding(pat))
        .map(|ident| ident.to_string())
        .collect();
    params
        .into_iter()
        .map(|(index, pat, ty)| {
            let ident = match binding(pat) {
                Some(ident) => ident.clone(),
                None => fresh(&format!("arg{index}"), &taken, pat.span()),
            };
            Param { ident, ty }
        })
        .collect()
}

/// The bound name of `x`, `mut x` or `ref x` (without a subpattern).
fn binding(pat: &Pat) -> Option<&Ident> {
    match pat {
        Pat::Ident(p) if p.subpat.is_none() => Some(&p.ident),
        _ => None,
    }
}

/// `base`, with underscores appended until it is not in `taken`.
pub(crate) fn fresh(base: &str, taken: &HashSet<String>, span: Span) -> Ident {
    let mut name = base.to_owned();
    while taken.contains(&name) {
        name.push('_');
    }
    Ident::new(&name, span)
}
