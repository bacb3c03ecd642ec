//! Printers of the event stream: live text for terminals and JSON Lines for machines.

mod json;
mod text;

pub use json::JsonPrinter;
pub use text::{TextPrinter, stdout_supports_color};
