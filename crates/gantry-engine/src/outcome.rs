//! What a finished run returns: the pipeline status and every job's result.

use std::path::PathBuf;
use std::time::Duration;

use crate::event::{FailureReason, JobStatus, PipelineStatus};
use crate::junit::JunitSummary;

/// The result of [`crate::run`].
#[derive(Clone, Debug, PartialEq)]
pub struct PipelineOutcome {
    /// Final pipeline status.
    pub status: PipelineStatus,
    /// One entry per job, in definition order.
    pub jobs: Vec<JobOutcome>,
}

impl PipelineOutcome {
    /// The outcome of the job named `name`.
    pub fn job(&self, name: &str) -> Option<&JobOutcome> {
        self.jobs.iter().find(|j| j.name == name)
    }
}

/// One job's final result.
#[derive(Clone, Debug, PartialEq)]
pub struct JobOutcome {
    /// Job name.
    pub name: String,
    /// Stage name.
    pub stage: String,
    /// Final status.
    pub status: JobStatus,
    /// Exit code of the last attempt's script step.
    pub exit_code: Option<i32>,
    /// Failure tolerated / optional manual job.
    pub allow_failure: bool,
    /// Wall time of all attempts.
    pub duration: Duration,
    /// Why it failed.
    pub failure_reason: Option<FailureReason>,
    /// Attempts made (0 when it never ran).
    pub attempts: u32,
    /// The per-job log file (raw GitLab trace format), when the job ran.
    pub log_path: Option<PathBuf>,
    /// Summary of the `reports:junit` files.
    pub junit: Option<JunitSummary>,
    /// Variables from its `reports:dotenv`.
    pub dotenv: Vec<(String, String)>,
}
