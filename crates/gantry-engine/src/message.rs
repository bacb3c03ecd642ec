//! `Msg`: what the dispatcher thread reacts to.

use crate::job::AttemptResult;

/// A message to the dispatcher.
#[derive(Debug)]
pub(crate) enum Msg {
    /// A complete, masked log line of a job (section markers already removed).
    Log { job: usize, text: String },
    /// A job attempt ended.
    Finished {
        job: usize,
        result: Box<AttemptResult>,
    },
    /// Cancellation was requested for the `requests`-th time.
    Cancel { requests: u32 },
}
