//! How to run a pipeline: concurrency, manual-job selection, cancellation and tuning knobs.

use std::collections::HashSet;
use std::path::PathBuf;
use std::time::Duration;

use crate::cancel::CancelToken;
use crate::docker::Executor;

/// Options for [`crate::run`].
#[derive(Clone, Debug)]
pub struct RunOptions {
    /// Maximum jobs running at once; 0 means the number of CPUs.
    pub concurrency: usize,
    /// Manual jobs to run (by name); unselected manual jobs end as `manual`.
    pub selected_manual: HashSet<String>,
    /// Cancels the run when triggered (see [`crate::install_signal_handlers`]).
    pub cancel: Option<CancelToken>,
    /// Cache directory; `None`: `$GANTRY_CACHE_DIR`, else `$XDG_CACHE_HOME/gantry`, else
    /// `~/.cache/gantry`.
    pub cache_dir: Option<PathBuf>,
    /// Timeout of jobs without `timeout` (GitLab's project default: 1 hour).
    pub default_timeout: Duration,
    /// Time between SIGTERM and SIGKILL when a job's process group is stopped.
    pub kill_grace: Duration,
    /// Bound on `after_script` after a cancel.
    pub cancel_after_script_timeout: Duration,
    /// Bound on `after_script` otherwise (`RUNNER_AFTER_SCRIPT_TIMEOUT`, default 5 min).
    pub after_script_timeout: Duration,
    /// Shell to use; `None`: `bash` from `PATH`, else `sh`.
    pub shell: Option<PathBuf>,
    /// The executor every job runs with.
    pub executor: Executor,
}

impl Default for RunOptions {
    fn default() -> Self {
        Self {
            concurrency: 0,
            selected_manual: HashSet::new(),
            cancel: None,
            cache_dir: None,
            default_timeout: Duration::from_hours(1),
            kill_grace: Duration::from_secs(3),
            cancel_after_script_timeout: Duration::from_secs(10),
            after_script_timeout: Duration::from_mins(5),
            shell: None,
            executor: Executor::Shell,
        }
    }
}

impl RunOptions {
    /// The effective concurrency limit (never 0).
    pub fn effective_concurrency(&self) -> usize {
        if self.concurrency > 0 {
            self.concurrency
        } else {
            std::thread::available_parallelism().map_or(1, std::num::NonZero::get)
        }
    }
}
