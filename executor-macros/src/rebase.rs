//! Reading the function's paths from inside the generated module.
//!
//! The generated module sits one level below the function, so a path that
//! starts with `self` or `super` must climb one level more to name the same
//! thing: `self::Config` becomes `super::Config`, `super::Config` becomes
//! `super::super::Config`. (`use super::*` covers plain names such as
//! `Config`; paths from `crate`, `::` or the extern prelude mean the same
//! everywhere.) This applies to argument and return types, the
//! `crate = ...` option and `pub(in ...)` visibilities.

use syn::visit_mut::{self, VisitMut};
use syn::{Ident, Path, PathSegment, Type};

/// `path` as seen from one module further down, or `None` when it means the
/// same from anywhere.
pub(crate) fn path(path: &Path) -> Option<Path> {
    let first = path.segments.first()?;
    if path.leading_colon.is_some() {
        return None;
    }
    let span = first.ident.span();
    let mut deeper = path.clone();
    if first.ident == "self" {
        deeper.segments[0].ident = Ident::new("super", span);
    } else if first.ident == "super" {
        deeper
            .segments
            .insert(0, PathSegment::from(Ident::new("super", span)));
    } else {
        return None;
    }
    Some(deeper)
}

/// `ty` with every relative path in it (`self::A`, `Vec<super::B>`) rebased.
pub(crate) fn ty(ty: &Type) -> Type {
    let mut ty = ty.clone();
    Rebase.visit_type_mut(&mut ty);
    ty
}

struct Rebase;

impl VisitMut for Rebase {
    fn visit_path_mut(&mut self, path: &mut Path) {
        // Generic arguments first: they may hold relative paths of their own.
        visit_mut::visit_path_mut(self, path);
        if let Some(deeper) = self::path(path) {
            *path = deeper;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::ToTokens;

    fn rebased_path(text: &str) -> Option<String> {
        let p: Path = syn::parse_str(text).unwrap();
        path(&p).map(|p| p.to_token_stream().to_string())
    }

    fn rebased_type(text: &str) -> String {
        let t: Type = syn::parse_str(text).unwrap();
        ty(&t).to_token_stream().to_string()
    }

    #[test]
    fn relative_paths_climb_one_level() {
        assert_eq!(rebased_path("self").as_deref(), Some("super"));
        assert_eq!(rebased_path("self::a").as_deref(), Some("super :: a"));
        assert_eq!(rebased_path("super").as_deref(), Some("super :: super"));
        assert_eq!(
            rebased_path("super::a::B").as_deref(),
            Some("super :: super :: a :: B")
        );
    }

    #[test]
    fn absolute_and_plain_paths_stay() {
        for text in ["crate", "crate::a", "::executor", "executor", "a::B", "Vec"] {
            assert_eq!(rebased_path(text), None, "for `{text}`");
        }
    }

    #[test]
    fn types_are_rebased_everywhere_inside() {
        assert_eq!(
            rebased_type("Vec<(self::A, super::B, crate::C, D)>"),
            "Vec < (super :: A , super :: super :: B , crate :: C , D) >"
        );
        assert_eq!(
            rebased_type("Box<dyn self::Tr<super::X> + Send>"),
            "Box < dyn super :: Tr < super :: super :: X > + Send >"
        );
        assert_eq!(
            rebased_type("super::Wrapper<self::Inner>"),
            "super :: super :: Wrapper < super :: Inner >"
        );
    }
}
