//! Source files and positions inside them.

use std::sync::Arc;

/// A loaded configuration file: the name shown to users and its full text.
#[derive(Debug, PartialEq, Eq)]
pub struct SourceFile {
    /// Path as shown in messages, relative to the project root where possible.
    pub name: String,
    /// The whole text of the file.
    pub text: String,
}

impl SourceFile {
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> Arc<Self> {
        Arc::new(Self {
            name: name.into(),
            text: text.into(),
        })
    }

    /// The text of 1-based line `line`, without its line ending.
    pub fn line_text(&self, line: u32) -> Option<&str> {
        let index = usize::try_from(line).ok()?.checked_sub(1)?;
        self.text.lines().nth(index)
    }
}

/// Where a node starts: a file, a 1-based line and a 1-based column (in characters).
#[derive(Debug, Clone)]
pub struct Span {
    pub file: Arc<SourceFile>,
    pub line: u32,
    pub column: u32,
}

impl Span {
    pub fn new(file: Arc<SourceFile>, line: u32, column: u32) -> Self {
        Self { file, line, column }
    }

    /// A span for values that do not come from any file (defaults, generated values).
    pub fn synthetic(name: &str) -> Self {
        Self {
            file: SourceFile::new(name, ""),
            line: 0,
            column: 0,
        }
    }

    /// `file:line:column`.
    pub fn location(&self) -> String {
        format!("{}:{}:{}", self.file.name, self.line, self.column)
    }
}

impl PartialEq for Span {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.file, &other.file)
            && self.line == other.line
            && self.column == other.column
    }
}
