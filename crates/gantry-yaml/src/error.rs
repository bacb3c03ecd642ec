//! Errors raised while loading YAML.

use crate::source::Span;

/// A YAML document could not be loaded. The message follows Psych's wording where GitLab shows it
/// (`Tried to load unspecified class: Date`, `Unknown alias: x`, syntax errors).
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct YamlError {
    pub message: String,
    pub span: Span,
}
