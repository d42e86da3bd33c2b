//! The sleep module's packed counters.

use std::fmt;

/// How many workers are searching for work and how many are asleep, packed
/// into one word so a submitter reads both with one load.
///
/// ```text
///  bits: 63 .. 16    15 .. 0
///        sleeping    searching
/// ```
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct Counts(pub(crate) usize);

impl Counts {
    const SEARCHING_MASK: usize = (1 << 16) - 1;
    const SLEEPING_SHIFT: u32 = 16;
    pub(crate) const ONE_SEARCHING: usize = 1;
    pub(crate) const ONE_SLEEPING: usize = 1 << Self::SLEEPING_SHIFT;
    /// The most searchers the field holds.
    pub(crate) const MAX_SEARCHING: usize = Self::SEARCHING_MASK;

    pub(crate) fn searching(self) -> usize {
        self.0 & Self::SEARCHING_MASK
    }

    pub(crate) fn sleeping(self) -> usize {
        self.0 >> Self::SLEEPING_SHIFT
    }
}

impl fmt::Debug for Counts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Counts")
            .field("searching", &self.searching())
            .field("sleeping", &self.sleeping())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::Counts;

    #[test]
    fn fields_are_independent() {
        let c = Counts(3 * Counts::ONE_SLEEPING + 5 * Counts::ONE_SEARCHING);
        assert_eq!((c.searching(), c.sleeping()), (5, 3));
        let moved =
            Counts(c.0.wrapping_add(Counts::ONE_SEARCHING.wrapping_sub(Counts::ONE_SLEEPING)));
        assert_eq!((moved.searching(), moved.sleeping()), (6, 2));
        assert_eq!(format!("{moved:?}"), "Counts { searching: 6, sleeping: 2 }");
        assert_eq!(Counts::ONE_SEARCHING & Counts::ONE_SLEEPING, 0);
    }
}
