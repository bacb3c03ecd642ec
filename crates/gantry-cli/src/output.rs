//! Writing to stdout: a closed pipe (`gantry list | head`) ends output quietly.

use std::io::{self, IsTerminal, Write};

/// Writes `text` to stdout; returns false when the reader went away.
pub fn print(text: &str) -> bool {
    let stdout = io::stdout();
    let mut lock = stdout.lock();
    match lock.write_all(text.as_bytes()).and_then(|()| lock.flush()) {
        Ok(()) => true,
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => false,
        Err(_) => false,
    }
}

/// Whether to colour stderr output.
pub fn color_stderr() -> bool {
    std::env::var_os("NO_COLOR").is_none()
        && std::env::var("TERM").map_or(true, |t| t != "dumb")
        && io::stderr().is_terminal()
}
