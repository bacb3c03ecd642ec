//! GitLab's small languages: rules:if expressions, variable expansion, glob dialects, slugs and
//! durations.
//!
//! Each module reproduces one piece of GitLab (server or runner) behaviour as exactly as the
//! reference allows:
//!
//! * [`expression`]: the CI/CD variable expression language of `rules:if`, `workflow:rules:if`,
//!   `include:rules:if` and `only/except:variables`.
//! * [`untrusted_regexp`]: GitLab's RE2 regular expressions (and the `/pattern/flags` syntax)
//!   compiled with Rust's `regex`.
//! * [`expand`]: variable expansion as the runner (`os.Expand`) and the server do it, and the
//!   dependency-ordered expansion of a whole variable set.
//! * [`slug`]: the `CI_*_SLUG` algorithm.
//! * [`glob`]: the three glob dialects (`include:local` wildcards, Ruby `File.fnmatch` for
//!   `rules:changes`/`rules:exists`, Go doublestar for artifact and cache paths).
//! * [`duration`]: ChronicDuration-style durations for `timeout`, `start_in` and `expire_in`.

pub mod duration;
pub mod expand;
pub mod expression;
pub mod glob;
pub mod slug;
pub mod untrusted_regexp;

pub use duration::{Duration, DurationError, parse_duration, parse_finite_duration};
pub use expand::{
    ExpandedVariables, ServerExpandOptions, ServerVar, VarDef, expand_runner, expand_server,
    expand_server_values, expand_server_with, expand_variable_defs, expand_variables,
};
pub use expression::{Expression, ExpressionError};
pub use glob::{DoubleStarGlob, FnmatchGlob, GlobError, IncludeGlob, split_pattern, walk_matches};
pub use slug::slugify;
pub use untrusted_regexp::{RegexError, UntrustedRegexp};
