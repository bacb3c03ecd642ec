//! `AttemptResult`: what one job attempt reports back to the dispatcher.

use std::path::PathBuf;
use std::time::Duration;

use crate::artifacts::StoredArtifacts;
use crate::event::FailureReason;
use crate::junit::JunitSummary;
use crate::slot::Slot;

/// How an attempt ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum AttemptStatus {
    Success,
    Failed,
    Canceled,
}

/// The result of one attempt.
#[derive(Debug)]
pub(crate) struct AttemptResult {
    pub(crate) status: AttemptStatus,
    pub(crate) exit_code: Option<i32>,
    pub(crate) failure_reason: Option<FailureReason>,
    pub(crate) duration: Duration,
    pub(crate) artifacts: Option<StoredArtifacts>,
    pub(crate) dotenv: Vec<(String, String)>,
    pub(crate) junit: Option<JunitSummary>,
    pub(crate) log_path: PathBuf,
    /// The working-copy slot, handed back for the next job.
    pub(crate) slot: Option<Slot>,
}

impl AttemptResult {
    /// The result of an attempt whose thread panicked.
    pub(crate) fn crashed() -> Self {
        Self {
            status: AttemptStatus::Failed,
            exit_code: None,
            failure_reason: Some(FailureReason::RunnerSystemFailure),
            duration: Duration::ZERO,
            artifacts: None,
            dotenv: Vec::new(),
            junit: None,
            log_path: PathBuf::new(),
            slot: None,
        }
    }
}
