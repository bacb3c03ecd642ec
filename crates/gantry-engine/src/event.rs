//! The event stream: the only way results leave the engine. Every printer consumes it.

use serde::{Deserialize, Serialize};

use crate::junit::JunitSummary;

/// One thing that happened during a run. Serialises as the JSON Lines format (`{"type": ...}`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    /// The run began.
    PipelineStarted {
        /// `CI_PIPELINE_ID`.
        pipeline_id: u64,
        /// Stage names in order.
        stages: Vec<String>,
        /// Every job with its stage, in definition order.
        jobs: Vec<JobInfo>,
    },
    /// A job's first attempt started executing.
    JobStarted {
        /// Job name.
        job: String,
    },
    /// One line of a job's log (masked; section markers removed; ANSI colours kept).
    Log {
        /// Job name.
        job: String,
        /// The line without its line terminator.
        text: String,
    },
    /// A job reached its final status.
    JobFinished {
        /// Job name.
        job: String,
        /// Final status.
        status: JobStatus,
        /// Exit code of the script step when it ran to an exit.
        exit_code: Option<i32>,
        /// The failure is tolerated (`allow_failure`), or the job is an optional manual job.
        allow_failure: bool,
        /// Wall time of all attempts, 0 when it never ran.
        duration_ms: u64,
        /// Why it failed.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        failure_reason: Option<FailureReason>,
        /// Summary of its `reports:junit` files.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        junit: Option<JunitSummary>,
    },
    /// The run ended.
    PipelineFinished {
        /// Final pipeline status.
        status: PipelineStatus,
    },
}

/// A job's name and stage, announced at pipeline start.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobInfo {
    /// Job name.
    pub name: String,
    /// Stage name.
    pub stage: String,
}

/// A job's final status.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobStatus {
    /// Ran and succeeded.
    Success,
    /// Ran and failed (see `allow_failure`).
    Failed,
    /// Did not run because of the status of earlier jobs.
    Skipped,
    /// Canceled by the user.
    Canceled,
    /// A manual job that was not selected to run.
    Manual,
}

impl JobStatus {
    /// Lower-case name as GitLab spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Success => "success",
            Self::Failed => "failed",
            Self::Skipped => "skipped",
            Self::Canceled => "canceled",
            Self::Manual => "manual",
        }
    }
}

/// The pipeline's final status.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PipelineStatus {
    /// Every job succeeded (allowed failures and skipped jobs included).
    Success,
    /// A job failed without `allow_failure`.
    Failed,
    /// The run was canceled.
    Canceled,
    /// Nothing ran (every job skipped or manual).
    Skipped,
    /// A blocking manual job (`allow_failure: false`) was not played and held later jobs.
    Manual,
}

impl PipelineStatus {
    /// Lower-case name as GitLab spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Success => "success",
            Self::Failed => "failed",
            Self::Canceled => "canceled",
            Self::Skipped => "skipped",
            Self::Manual => "manual",
        }
    }
}

/// Why a job failed (the runner's `failure_reason` vocabulary).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureReason {
    /// The script exited non-zero.
    ScriptFailure,
    /// The job timeout expired.
    JobExecutionTimeout,
    /// The engine could not prepare or run the job (copying sources, spawning the shell, ...).
    RunnerSystemFailure,
    /// A dependency's artifacts were missing or corrupt.
    MissingDependencyFailure,
    /// Anything else (e.g. an invalid dotenv report).
    UnknownFailure,
    /// The job's image or a service image could not be found or pulled.
    ImagePullFailure,
    /// The runner configuration refused the job (image not allowed, pull policy not allowed, ...).
    RunnerConfigurationError,
}

impl FailureReason {
    /// Lower-case name as GitLab spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ScriptFailure => "script_failure",
            Self::JobExecutionTimeout => "job_execution_timeout",
            Self::RunnerSystemFailure => "runner_system_failure",
            Self::MissingDependencyFailure => "missing_dependency_failure",
            Self::UnknownFailure => "unknown_failure",
            Self::ImagePullFailure => "image_pull_failure",
            Self::RunnerConfigurationError => "runner_configuration_error",
        }
    }
}
