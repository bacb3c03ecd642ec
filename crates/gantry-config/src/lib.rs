//! Reads `.gitlab-ci.yml` as GitLab does.
//!
//! The layer above YAML nodes: `include` (with `spec:inputs`), deep merging, `extends`,
//! `!reference`, `default:` and `inherit:`, and validation of every keyword with GitLab's
//! messages. The result is a typed [`Config`] that does not depend on any pipeline context; the
//! plan layer evaluates it for one ref.

mod config;
mod diagnostic;
mod emit;
mod extends;
mod files;
mod include;
mod inputs;
mod job;
mod keyword;
mod merge;
mod model;
mod reference;

pub use config::{Config, ConfigErrors, LoadOptions, load, load_text};
pub use diagnostic::{Diagnostic, Severity};
pub use emit::to_yaml;
pub use files::{any_exists, exists_patterns};
pub use include::{IncludedFile, list_files};
pub use merge::deep_merge;
pub use model::{
    AllowFailure, Artifacts, Cache, CacheKey, Image, Inherit, Job, Matrix, Need, OnlyExcept,
    Parallel, PathsClause, Retry, Rule, Service, Variable, When, Workflow,
};
