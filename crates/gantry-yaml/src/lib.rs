//! YAML as GitLab reads it.
//!
//! GitLab loads `.gitlab-ci.yml` with Ruby's Psych (YAML 1.1 typing rules, aliases allowed, its own
//! `!reference` tag). This crate reproduces that loader on top of `saphyr-parser`: every plain scalar
//! is typed the way Psych types it, anchors and merge keys (`<<`) behave as in Psych, duplicate keys
//! keep the last value, and every node remembers the file, line and column it came from so that
//! errors further up can point at the source.

mod error;
mod libyaml_rules;
mod loader;
mod map_builder;
mod node;
mod recovery;
mod ruby_number;
mod source;
mod split;
mod syntax_error;
mod tags;
mod text_cursor;
mod typing;

pub use error::YamlError;
pub use loader::{load_document, load_stream};
pub use node::{Mapping, Node, Value, keys_equal};
pub use source::{SourceFile, Span};
