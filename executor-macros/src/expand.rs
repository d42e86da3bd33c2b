//! Expanding `#[task]`: the function, unchanged, plus a module of the same name
//! holding its pool entry points.
//!
//! ```text
//! #[task] fn resize(path: PathBuf, width: u32) -> Image { ... }
//!
//! fn resize(path: PathBuf, width: u32) -> Image { ... }      // as written
//! mod resize {
//!     use super::*;                                          // argument types resolve
//!     pub(super) fn submit(pool: &ThreadPoolExecutor, path: PathBuf, width: u32)
//!         -> TaskHandle<Image> { pool.submit_named("resize", move || super::resize(path, width)) }
//!     pub(super) fn submit_global(path: PathBuf, width: u32) -> TaskHandle<Image>
//!     pub(super) fn map(pool: &ThreadPoolExecutor,
//!         items: impl IntoIterator<Item = (PathBuf, u32)>) -> Map<Image>
//!     pub(super) fn map_global(items: impl IntoIterator<Item = (PathBuf, u32)>) -> Map<Image>
//! }
//! ```

use std::collections::HashSet;

use proc_macro2::{Span, TokenStream};
use quote::quote;
use syn::parse::{ParseStream, Parser};
use syn::{Attribute, Ident, Item, ItemFn, Type, Visibility};

use crate::args::TaskArgs;
use crate::check::{self, Task};
use crate::docs::{Docs, Subject};
use crate::{bounds, diag, rebase, vis};

/// Expands `#[task(attr)] item`. Never fails: on error the function is emitted
/// unchanged next to the `compile_error!`s, so the rest of the crate (and the
/// IDE) still sees it.
pub(crate) fn task(attr: TokenStream, item: TokenStream) -> TokenStream {
    let func = match syn::parse2::<Item>(item.clone()) {
        Ok(Item::Fn(func)) => func,
        Ok(_) => {
            let error = not_a_function(item_keyword_span(&item));
            return with_error(item, error);
        }
        Err(error) => return with_error(item, error),
    };
    let args = syn::parse2::<TaskArgs>(attr);
    let task = check::task(&func);
    match diag::both(args, task) {
        Ok((args, task)) => {
            let module = module(&func, &args, &task);
            quote!(#func #module)
        }
        Err(error) => with_error(quote!(#func), error),
    }
}

fn with_error(item: TokenStream, error: syn::Error) -> TokenStream {
    let error = error.to_compile_error();
    quote!(#item #error)
}

fn not_a_function(span: Span) -> syn::Error {
    syn::Error::new(
        span,
        "#[task] applies to functions: `fn name(arg: Type, ...) -> Output { ... }`",
    )
}

/// The span of the item's keyword (`struct`, `impl`, ...), after its attributes
/// and visibility, so the error does not underline the whole item.
fn item_keyword_span(item: &TokenStream) -> Span {
    let keyword = |input: ParseStream<'_>| {
        input.call(Attribute::parse_outer)?;
        input.parse::<Visibility>()?;
        let span = input.span();
        input.parse::<TokenStream>()?;
        Ok(span)
    };
    keyword
        .parse2(item.clone())
        .unwrap_or_else(|_| Span::call_site())
}

/// The generated module `name` with `submit`, `submit_global`, `map` and `map_global`.
fn module(func: &ItemFn, args: &TaskArgs, task: &Task<'_>) -> TokenStream {
    let fn_ident = task.ident;
    let task_name = args.name_for(fn_ident);
    let krate = {
        let path = args.krate();
        rebase::path(&path).unwrap_or(path)
    };
    let mod_vis = &func.vis;
    let vis = vis::inner(&func.vis);
    let carried = carried_attrs(&func.attrs);

    // Types as seen from inside the module (`self::A` becomes `super::A`).
    let output_ty = task.output.map(rebase::ty);
    let output = match &output_ty {
        Some(ty) => quote!(#ty),
        None => quote!(()),
    };
    let idents: Vec<&Ident> = task.params.iter().map(|p| &p.ident).collect();
    let types: Vec<Type> = task.params.iter().map(|p| rebase::ty(p.ty)).collect();
    let where_send = bounds::where_send(types.iter().chain(&output_ty));
    let taken: HashSet<String> = idents.iter().map(|i| i.to_string()).collect();
    let pool = check::fresh("pool", &taken, Span::call_site());
    // `map` items: the argument itself for one argument, else a tuple (`()` for none).
    let (item_ty, item_pat) = match (&idents[..], &types[..]) {
        ([ident], [ty]) => (quote!(#ty), quote!(#ident)),
        _ => (quote!((#(#types,)*)), quote!((#(#idents,)*))),
    };
    let call = quote!(super::#fn_ident(#(#idents),*));

    let (submit_body, map_output, map_body) = if task.is_async {
        (
            // Through a trait, so that without executor's `async` feature
            // the error names the feature.
            quote!(#krate::__private::AsyncTasks::spawn_named(#pool, #task_name, #call)),
            quote! {
                impl ::core::iter::Iterator<
                    Item = ::core::result::Result<#output, #krate::TaskError>,
                > + 'pool
            },
            // Lazy, with a bounded window of tasks in flight, like `map`.
            quote! {
                #krate::__private::AsyncTasks::map_async_named(
                    #pool, #task_name, items, |#item_pat| #call,
                )
            },
        )
    } else {
        (
            quote!(#pool.submit_named(#task_name, move || #call)),
            quote!(#krate::Map<'pool, #output>),
            quote!(#pool.map(items, |#item_pat| #call)),
        )
    };

    let docs = Subject {
        fn_ident,
        task_name: &task_name.value(),
        args: &idents,
        pool: &pool,
        is_async: task.is_async,
    }
    .docs();
    let Docs {
        module: module_doc,
        submit: submit_doc,
        submit_global: submit_global_doc,
        map: map_doc,
        map_global: map_global_doc,
    } = docs;

    quote! {
        #(#carried)*
        #mod_vis mod #fn_ident {
            #![doc = #module_doc]
            #![allow(dead_code, deprecated, unused_imports, clippy::too_many_arguments)]
            use super::*;

            #submit_doc
            #vis fn submit(
                #pool: &#krate::ThreadPoolExecutor,
                #(#idents: #types),*
            ) -> #krate::TaskHandle<#output>
            #where_send
            {
                #submit_body
            }

            #submit_global_doc
            #vis fn submit_global(#(#idents: #types),*) -> #krate::TaskHandle<#output>
            #where_send
            {
                self::submit(#krate::global(), #(#idents),*)
            }

            #map_doc
            #vis fn map<'pool>(
                #pool: &'pool #krate::ThreadPoolExecutor,
                items: impl ::core::iter::IntoIterator<Item = #item_ty> + 'pool,
            ) -> #map_output
            #where_send
            {
                #map_body
            }

            #map_global_doc
            #vis fn map_global<'pool>(
                items: impl ::core::iter::IntoIterator<Item = #item_ty> + 'pool,
            ) -> #map_output
            #where_send
            {
                self::map(#krate::global(), items)
            }
        }
    }
}

/// The function's attributes that must also apply to its module: `cfg` (the
/// module must vanish with the function), `deprecated` and `doc(hidden)`.
fn carried_attrs(attrs: &[Attribute]) -> Vec<&Attribute> {
    attrs
        .iter()
        .filter(|attr| {
            let path = attr.path();
            path.is_ident("cfg")
                || path.is_ident("deprecated")
                || (path.is_ident("doc") && is_doc_hidden(attr))
        })
        .collect()
}

fn is_doc_hidden(attr: &Attribute) -> bool {
    let mut hidden = false;
    if let syn::Meta::List(_) = &attr.meta {
        let _ = attr.parse_nested_meta(|meta| {
            hidden |= meta.path.is_ident("hidden");
            Ok(())
        });
    }
    hidden
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expand(attr: TokenStream, item: TokenStream) -> String {
        task(attr, item).to_string()
    }

    /// The messages of the `compile_error!`s in an expansion, in order.
    fn errors(attr: TokenStream, item: TokenStream) -> Vec<String> {
        let out = expand(attr, item);
        out.split("compile_error ! {")
            .skip(1)
            .map(|rest| {
                let start = rest.find('"').unwrap() + 1;
                let end = rest[start..].find("\" }").unwrap();
                rest[start..start + end].to_owned()
            })
            .collect()
    }

    #[test]
    fn keeps_the_function_and_adds_a_module_of_the_same_name() {
        let out = expand(
            quote!(),
            quote!(
                fn add(a: u32, b: u32) -> u32 {
                    a + b
                }
            ),
        );
        assert!(out.starts_with("fn add (a : u32 , b : u32) -> u32 { a + b } mod add {"));
        assert!(out.contains("use super :: * ;"));
        assert!(out.contains(
            "pub (super) fn submit (pool : & :: executor :: ThreadPoolExecutor , \
             a : u32 , b : u32) -> :: executor :: TaskHandle < u32 > \
             { pool . submit_named (\"add\" , move || super :: add (a , b)) }"
        ));
        assert!(out.contains("fn submit_global (a : u32 , b : u32)"));
        assert!(out.contains(
            "fn map < 'pool > (pool : & 'pool :: executor :: ThreadPoolExecutor , \
             items : impl :: core :: iter :: IntoIterator < Item = (u32 , u32 ,) > + 'pool ,) \
             -> :: executor :: Map < 'pool , u32 > { pool . map (items , | (a , b ,) | super :: add (a , b)) }"
        ));
        assert!(out.contains("self :: map (:: executor :: global () , items)"));
    }

    #[test]
    fn one_argument_maps_over_plain_items_and_none_over_units() {
        let out = expand(
            quote!(),
            quote!(
                fn sq(x: u64) -> u64 {
                    x * x
                }
            ),
        );
        assert!(out.contains("IntoIterator < Item = u64 >"));
        assert!(out.contains("pool . map (items , | x | super :: sq (x))"));

        let out = expand(
            quote!(),
            quote!(
                fn tick() {}
            ),
        );
        assert!(out.contains("TaskHandle < () >"));
        assert!(out.contains("IntoIterator < Item = () >"));
        assert!(out.contains("| () | super :: tick ()"));
    }

    #[test]
    fn options_set_the_name_and_crate_path() {
        let out = expand(
            quote!(name = "resize", crate = "self::exec"),
            quote!(
                pub fn thumb(w: u32) {}
            ),
        );
        assert!(out.contains("pub mod thumb {"));
        assert!(out.contains("pub fn submit (pool : & super :: exec :: ThreadPoolExecutor"));
        assert!(out.contains("submit_named (\"resize\" ,"));

        let out = expand(
            quote!(crate = my_exec),
            quote!(
                fn f() {}
            ),
        );
        assert!(out.contains("& my_exec :: ThreadPoolExecutor"));
    }

    #[test]
    fn async_functions_are_spawned() {
        let out = expand(
            quote!(),
            quote!(
                async fn fetch(url: String) -> u8 {
                    0
                }
            ),
        );
        assert!(out.starts_with("async fn fetch"));
        assert!(out.contains("{ :: executor :: __private :: AsyncTasks :: spawn_named (pool , \"fetch\" , super :: fetch (url)) }"));
        assert!(out.contains("-> impl :: core :: iter :: Iterator < Item = :: core :: result :: Result < u8 , :: executor :: TaskError > , > + 'pool"));
        assert!(out.contains(":: executor :: __private :: AsyncTasks :: map_async_named (pool , \"fetch\" , items , | url | super :: fetch (url) ,)"));
    }

    #[test]
    fn generated_names_avoid_the_arguments() {
        let out = expand(
            quote!(),
            quote!(
                fn f(pool: u8, (a, b): (u8, u8), arg1: u8) {}
            ),
        );
        assert!(out.contains("fn submit (pool_ : & :: executor :: ThreadPoolExecutor , pool : u8 , arg1_ : (u8 , u8) , arg1 : u8)"));
        assert!(
            out.contains("pool_ . submit_named (\"f\" , move || super :: f (pool , arg1_ , arg1))")
        );
    }

    #[test]
    fn relative_type_paths_are_rebased_into_the_module() {
        let out = expand(
            quote!(),
            quote!(
                fn f(a: self::A, b: super::B) -> self::C {
                    todo!()
                }
            ),
        );
        assert!(out.contains("fn submit (pool : & :: executor :: ThreadPoolExecutor , a : super :: A , b : super :: super :: B) -> :: executor :: TaskHandle < super :: C >"));
    }

    #[test]
    fn mut_and_raw_names() {
        let out = expand(
            quote!(),
            quote!(
                fn r#move(mut r#type: u8) {}
            ),
        );
        assert!(out.contains("mod r#move {"));
        assert!(
            out.contains("fn submit (pool : & :: executor :: ThreadPoolExecutor , r#type : u8)")
        );
        assert!(out.contains("submit_named (\"move\""));
    }

    #[test]
    fn cfg_deprecated_and_hidden_follow_the_function_to_its_module() {
        let out = expand(
            quote!(),
            quote! {
                /// Docs stay on the function.
                #[cfg(unix)]
                #[deprecated = "old"]
                #[doc(hidden)]
                #[inline]
                fn f() {}
            },
        );
        let module = &out[out.find("} ").unwrap()..];
        assert!(
            module.starts_with("} # [cfg (unix)] # [deprecated = \"old\"] # [doc (hidden)] mod f")
        );
    }

    #[test]
    fn every_signature_problem_is_reported_and_the_function_kept() {
        let item = quote!(
            unsafe fn f<T>(&self, a: &str, b: Cow<'a, str>, c: impl Send) -> impl Send
            where
                T: Send,
            {
            }
        );
        let found = errors(quote!(bogus = 1), item);
        let starts: Vec<&str> = found.iter().map(|m| &m[..m.len().min(30)]).collect();
        assert_eq!(
            starts,
            [
                "unknown option `bogus`; valid ",
                "an `unsafe fn` cannot be a tas",
                "generic parameters are not sup",
                "#[task] works on free function",
                "#[task] arguments must be owne",
                "#[task] arguments must be owne",
                "`impl Trait` arguments are not",
                "`impl Trait` return types are ",
                "#[task] functions cannot have ",
            ]
        );
        let out = expand(
            quote!(),
            quote!(
                fn f(a: &str) {}
            ),
        );
        assert!(out.starts_with("fn f (a : & str) { }"));
        assert!(!out.contains("mod f"));
    }

    #[test]
    fn static_and_higher_ranked_borrows_are_owned() {
        let item = quote! {
            fn f(
                a: &'static str,
                b: Box<dyn Fn(&str) -> &str + Send>,
                c: fn(&u8) -> &u8,
                d: Box<dyn for<'x> Tr<'x> + Send + 'static>,
                e: Cow<'static, str>,
            ) {}
        };
        assert_eq!(errors(quote!(), item), Vec::<String>::new());
    }

    #[test]
    fn borrows_nested_anywhere_are_found() {
        let found = errors(
            quote!(),
            quote!(
                fn f(a: Vec<&u8>, b: Option<Box<dyn Tr + '_>>) {}
            ),
        );
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(found[1].contains("the lifetime `'_` borrows"));
    }

    #[test]
    fn lifetime_parameters_are_reported_once() {
        let used = errors(
            quote!(),
            quote!(
                fn f<'a>(s: Cow<'a, str>) {}
            ),
        );
        assert_eq!(used.len(), 1, "{used:?}");
        assert!(used[0].contains("the lifetime `'a` borrows"));

        let unused = errors(
            quote!(),
            quote!(
                fn f<'a>(s: String) {}
            ),
        );
        assert_eq!(unused.len(), 1, "{unused:?}");
        assert!(unused[0].starts_with("lifetime parameters are not supported"));
    }

    #[test]
    fn other_items_are_rejected_on_their_keyword() {
        let found = errors(
            quote!(),
            quote!(
                #[derive(Debug)]
                pub struct S;
            ),
        );
        assert_eq!(
            found,
            ["#[task] applies to functions: `fn name(arg: Type, ...) -> Output { ... }`"]
        );
        assert!(expand(
            quote!(),
            quote!(
                struct S;
            )
        )
        .starts_with("struct S ;"));
    }
}
