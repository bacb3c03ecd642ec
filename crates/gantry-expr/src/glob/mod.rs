//! The three glob dialects GitLab uses, each compiled once and matched many times:
//! [`IncludeGlob`] (`include:local` wildcards), [`FnmatchGlob`] (Ruby `File.fnmatch` for
//! `rules:changes`, `rules:exists`, `only/except:changes`) and [`DoubleStarGlob`] (Go doublestar
//! for `artifacts` and `cache` paths, with [`walk_matches`] to find files on disk).

mod doublestar;
mod fnmatch;
mod include;
mod segment;
mod walk;

pub use doublestar::{DoubleStarGlob, split_pattern};
pub use fnmatch::{FnmatchGlob, MAX_ALTERNATIVES};
pub use include::IncludeGlob;
pub use walk::{clean_path, walk_matches};

/// A glob pattern could not be compiled.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GlobError {
    /// Malformed pattern (doublestar's `ErrBadPattern`: unclosed `[` or `{`, empty class,
    /// trailing `\`).
    #[error("bad glob pattern: {0}")]
    BadPattern(String),
    /// Brace alternatives multiply beyond the limit, or nest too deeply.
    #[error("glob pattern expands to more than {0} alternatives")]
    TooManyAlternatives(usize),
}
