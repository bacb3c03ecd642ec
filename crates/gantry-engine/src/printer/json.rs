//! `JsonPrinter`: one JSON object per event and line (`{"type":"job_started","job":...}`), log
//! text without ANSI escapes. A closed output (broken pipe) silently ends printing.

use std::io::Write;

use crate::ansi::strip_ansi;
use crate::event::Event;

/// Writes events as JSON Lines.
#[derive(Debug)]
pub struct JsonPrinter<W: Write> {
    out: W,
    closed: bool,
}

impl<W: Write> JsonPrinter<W> {
    /// A printer writing to `out`.
    pub fn new(out: W) -> Self {
        Self { out, closed: false }
    }

    /// Prints one event (a no-op once the output is closed).
    pub fn print(&mut self, event: &Event) {
        if self.closed {
            return;
        }
        let line = match event {
            Event::Log { job, text } => serde_json::to_string(&Event::Log {
                job: job.clone(),
                text: strip_ansi(text).into_owned(),
            }),
            other => serde_json::to_string(other),
        };
        let Ok(mut line) = line else {
            return;
        };
        line.push('\n');
        if self.out.write_all(line.as_bytes()).is_err() || self.out.flush().is_err() {
            self.closed = true;
        }
    }

    /// Whether writing failed (e.g. the reader went away).
    pub fn is_closed(&self) -> bool {
        self.closed
    }

    /// The underlying writer.
    pub fn into_inner(self) -> W {
        self.out
    }
}
