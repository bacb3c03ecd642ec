//! `JobContext` and `RunShared`: everything an executor thread needs to run one attempt.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::artifacts::DependencyArtifacts;
use crate::cache::CacheStore;
use crate::docker::{DockerClient, DockerOptions};
use crate::shell::Shell;
use crate::slot::Slot;
use crate::sources::SourceSnapshot;
use crate::spec::JobSpec;

/// Read-only state shared by all jobs of a run.
#[derive(Debug)]
pub(crate) struct RunShared {
    pub(crate) pipeline_id: u64,
    /// `CI_BUILDS_DIR`: `<state>/builds` (working-copy slots live here).
    pub(crate) builds_dir: PathBuf,
    /// `<state>/builds/<pipeline>`: directories of `GIT_STRATEGY` none/empty jobs.
    pub(crate) pipeline_dir: PathBuf,
    /// `<state>/logs/<pipeline>`.
    pub(crate) logs_dir: PathBuf,
    /// `<state>/artifacts/<pipeline>`.
    pub(crate) artifacts_dir: PathBuf,
    pub(crate) cache: CacheStore,
    pub(crate) sources: SourceSnapshot,
    pub(crate) shell: Shell,
    pub(crate) hostname: String,
    pub(crate) default_timeout: Duration,
    pub(crate) kill_grace: Duration,
    pub(crate) cancel_after_script_timeout: Duration,
    pub(crate) after_script_timeout: Duration,
    /// The docker executor's connection and settings; `None`: the shell executor.
    pub(crate) docker: Option<(Arc<DockerClient>, Arc<DockerOptions>)>,
    /// The user's project directory.
    pub(crate) project_dir: PathBuf,
}

/// One attempt of one job.
#[derive(Debug)]
pub(crate) struct JobContext {
    pub(crate) index: usize,
    /// 1-based.
    pub(crate) attempt: u32,
    pub(crate) max_attempts: u32,
    pub(crate) spec: Arc<JobSpec>,
    /// Unique directory-safe name of the job.
    pub(crate) slug: String,
    pub(crate) run: Arc<RunShared>,
    /// Archives to download, in order.
    pub(crate) dependencies: Vec<DependencyArtifacts>,
    /// Dotenv variables of the dependencies, in order (later wins).
    pub(crate) dotenv: Vec<(String, String)>,
    /// The working copy to sync the sources into.
    pub(crate) slot: Slot,
}
