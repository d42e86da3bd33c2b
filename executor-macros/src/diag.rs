//! Collecting several compile errors so one expansion reports all of them at once.

/// Accumulates [`syn::Error`]s with [`syn::Error::combine`], so that a user who
/// wrote three mistakes sees three errors, each on its own token.
#[derive(Default)]
pub(crate) struct Errors(Option<syn::Error>);

impl Errors {
    /// Adds one error.
    pub(crate) fn push(&mut self, error: syn::Error) {
        match &mut self.0 {
            Some(first) => first.combine(error),
            None => self.0 = Some(error),
        }
    }

    /// Adds every error of `other`, after those already here.
    pub(crate) fn extend(&mut self, other: Errors) {
        if let Some(error) = other.0 {
            self.push(error);
        }
    }

    /// Whether no error was pushed.
    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_none()
    }

    /// `Ok(())` when nothing was pushed, else every error combined.
    pub(crate) fn finish(self) -> syn::Result<()> {
        match self.0 {
            Some(error) => Err(error),
            None => Ok(()),
        }
    }
}

/// Merges two results' errors (both are reported when both failed).
pub(crate) fn both<A, B>(a: syn::Result<A>, b: syn::Result<B>) -> syn::Result<(A, B)> {
    match (a, b) {
        (Ok(a), Ok(b)) => Ok((a, b)),
        (Err(e), Ok(_)) | (Ok(_), Err(e)) => Err(e),
        (Err(mut e), Err(f)) => {
            e.combine(f);
            Err(e)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proc_macro2::Span;

    fn err(msg: &str) -> syn::Error {
        syn::Error::new(Span::call_site(), msg)
    }

    #[test]
    fn empty_is_ok() {
        assert!(Errors::default().finish().is_ok());
    }

    #[test]
    fn keeps_every_error_in_order() {
        let mut errors = Errors::default();
        errors.push(err("first"));
        errors.push(err("second"));
        let messages: Vec<String> = errors
            .finish()
            .unwrap_err()
            .into_iter()
            .map(|e| e.to_string())
            .collect();
        assert_eq!(messages, ["first", "second"]);
    }

    #[test]
    fn both_combines_two_failures() {
        let r = both::<(), ()>(Err(err("a")), Err(err("b")));
        assert_eq!(r.unwrap_err().into_iter().count(), 2);
        assert!(both(Ok(1), Ok(2)).is_ok());
    }
}
