//! Diagnostics: a message in GitLab's wording, where it points in the source, and its rendering.

use std::fmt::Write as _;

use gantry_yaml::Span;

/// How serious a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    Error,
    Warning,
}

/// One problem found in the configuration.
#[derive(Debug, Clone)]
pub struct Diagnostic {
    pub severity: Severity,
    /// The message as GitLab words it (`jobs:build config contains unknown keys: scirpt`).
    pub message: String,
    /// Where the problem is, when it can be pinned to the source.
    pub span: Option<Span>,
    /// What the user can do about it, when there is something useful to say.
    pub help: Option<String>,
}

impl Diagnostic {
    pub fn error(message: impl Into<String>, span: Option<&Span>) -> Self {
        Self {
            severity: Severity::Error,
            message: message.into(),
            span: span.filter(|s| s.line > 0).cloned(),
            help: None,
        }
    }

    pub fn warning(message: impl Into<String>, span: Option<&Span>) -> Self {
        Self {
            severity: Severity::Warning,
            ..Self::error(message, span)
        }
    }

    #[must_use]
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// `file:line:column`, when known.
    pub fn location(&self) -> Option<String> {
        self.span.as_ref().map(Span::location)
    }

    /// Renders the diagnostic for a terminal: the message, the location and the offending line
    /// with a caret under the column.
    pub fn render(&self, color: bool) -> String {
        let (label, paint) = match self.severity {
            Severity::Error => ("error", "\x1b[1;31m"),
            Severity::Warning => ("warning", "\x1b[1;33m"),
        };
        let (bold, reset, blue) = if color {
            ("\x1b[1m", "\x1b[0m", "\x1b[1;34m")
        } else {
            ("", "", "")
        };
        let paint = if color { paint } else { "" };
        let mut out = format!("{paint}{label}{reset}{bold}: {}{reset}\n", self.message);
        if let Some(span) = &self.span {
            let line_no = span.line.to_string();
            let pad = " ".repeat(line_no.len());
            let _ = writeln!(out, "{pad}{blue}-->{reset} {}", span.location());
            if let Some(text) = span.file.line_text(span.line) {
                let caret_pad: String = text
                    .chars()
                    .take(span.column.saturating_sub(1) as usize)
                    .map(|c| if c == '\t' { '\t' } else { ' ' })
                    .collect();
                let _ = writeln!(out, "{pad} {blue}|{reset}");
                let _ = writeln!(out, "{blue}{line_no} |{reset} {text}");
                let _ = writeln!(out, "{pad} {blue}|{reset} {caret_pad}{paint}^{reset}");
            }
        }
        if let Some(help) = &self.help {
            let _ = writeln!(out, "  = help: {help}");
        }
        out
    }
}
