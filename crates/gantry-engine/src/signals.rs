//! Installs SIGINT/SIGTERM/SIGHUP handlers that trigger a [`CancelToken`].

use std::io;

use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
use signal_hook::iterator::Signals;

use crate::cancel::CancelToken;

/// Installs handlers for SIGINT, SIGTERM and SIGHUP and returns the token they trigger: the first
/// signal cancels the run gracefully, the next one kills the jobs at once. The handlers stay
/// installed for the life of the process (a background thread waits for signals).
pub fn install_signal_handlers() -> io::Result<CancelToken> {
    let token = CancelToken::new();
    let mut signals = Signals::new([SIGINT, SIGTERM, SIGHUP])?;
    let trigger = token.clone();
    std::thread::Builder::new()
        .name("gantry-signals".into())
        .spawn(move || {
            for _ in signals.forever() {
                trigger.cancel();
            }
        })?;
    Ok(token)
}
