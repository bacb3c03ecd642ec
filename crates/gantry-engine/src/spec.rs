//! The engine's input: a pipeline and its jobs, each job shaped like the job payload a GitLab
//! server hands to a runner (`POST /jobs/request`), so runner mode can feed the same executor.
//!
//! Everything here is plain data. Server-side work (rules, `extends`, matrix expansion, variable
//! expansion, `cache:key:files` digests) is done by whoever builds the spec; the runner-side parts
//! (one more `$VAR` pass over variable values, `GITLAB_ENV`, file variables, masking) are done by
//! the engine.

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// One pipeline to run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PipelineSpec {
    /// `CI_PIPELINE_ID`; also names the per-pipeline directories under `state_dir`.
    pub pipeline_id: u64,
    /// The user's checkout (the source of every job's working-tree copy).
    pub project_dir: PathBuf,
    /// `<project>/.gantry`: job copies, artifacts and logs live below it.
    pub state_dir: PathBuf,
    /// Stage names in order (`.pre` first, `.post` last when present).
    pub stages: Vec<String>,
    /// The jobs, in definition order.
    pub jobs: Vec<JobSpec>,
}

/// One job, as a runner would receive it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct JobSpec {
    /// Concrete job name (`test 1/2`, `deploy: [gcp, data]`); unique in the pipeline.
    pub name: String,
    /// Stage name.
    pub stage: String,
    /// Index of `stage` in [`PipelineSpec::stages`].
    pub stage_index: usize,
    /// `CI_JOB_ID`.
    pub job_id: u64,
    /// `None`: stage ordering. `Some(list)`: DAG ordering (`needs: []` is `Some(vec![])`).
    #[serde(default)]
    pub needs: Option<Vec<Need>>,
    /// `None`: keyword absent. `Some(list)`: restricts artifact downloads (`[]` = none).
    #[serde(default)]
    pub dependencies: Option<Vec<String>>,
    /// `when`.
    #[serde(default)]
    pub when: When,
    /// `allow_failure`.
    #[serde(default)]
    pub allow_failure: AllowFailure,
    /// `retry`.
    #[serde(default)]
    pub retry: Retry,
    /// Job timeout; `None` means [`crate::RunOptions::default_timeout`].
    #[serde(default)]
    pub timeout: Option<Duration>,
    /// `before_script` lines (run in the same shell as `script`).
    #[serde(default)]
    pub before_script: Vec<String>,
    /// `script` lines.
    #[serde(default)]
    pub script: Vec<String>,
    /// `after_script` lines (run in a new shell).
    #[serde(default)]
    pub after_script: Vec<String>,
    /// Job variables, already expanded server-side; later entries win over earlier ones.
    #[serde(default)]
    pub variables: Vec<JobVariable>,
    /// `artifacts`.
    #[serde(default)]
    pub artifacts: Option<ArtifactsSpec>,
    /// `cache` entries (at most 4 in GitLab).
    #[serde(default)]
    pub cache: Vec<CacheSpec>,
    /// `image`; ignored by the shell executor.
    #[serde(default)]
    pub image: Option<ImageSpec>,
    /// `services`, in order; ignored by the shell executor.
    #[serde(default)]
    pub services: Vec<ServiceSpec>,
}

/// `image` (the payload's `image` object). Names are expanded runner-side with the job's
/// variables.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageSpec {
    /// `name` (`ruby:3.3`, `registry.example.com/a/b@sha256:...`).
    pub name: String,
    /// `entrypoint`: `None` keeps the image's; `Some([""])` clears it.
    #[serde(default)]
    pub entrypoint: Option<Vec<String>>,
    /// `pull_policy` (`always`, `if-not-present`, `never`), tried in order; empty: the runner's.
    #[serde(default)]
    pub pull_policy: Vec<String>,
    /// `docker:platform` (`linux/arm64`).
    #[serde(default)]
    pub platform: Option<String>,
    /// `docker:user` (`docker run --user`).
    #[serde(default)]
    pub user: Option<String>,
}

impl ImageSpec {
    /// An image given by name only.
    pub fn named(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            ..Self::default()
        }
    }
}

/// One `services` entry.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceSpec {
    /// `name`: the image.
    pub name: String,
    /// `alias`: extra host names, separated by commas and/or whitespace.
    #[serde(default)]
    pub alias: Option<String>,
    /// `entrypoint`: replaces the image's.
    #[serde(default)]
    pub entrypoint: Option<Vec<String>>,
    /// `command`: replaces the image's `CMD`.
    #[serde(default)]
    pub command: Option<Vec<String>>,
    /// `variables`: service-only variables (expanded against the job's variables).
    #[serde(default)]
    pub variables: Vec<JobVariable>,
    /// `pull_policy`.
    #[serde(default)]
    pub pull_policy: Vec<String>,
}

impl ServiceSpec {
    /// A service given by image name only.
    pub fn named(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            ..Self::default()
        }
    }
}

/// One `needs` entry, with parallel/matrix needs already expanded to concrete job names.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Need {
    /// The needed job's concrete name.
    pub job: String,
    /// `artifacts:` (default true): download its artifacts and dotenv variables.
    #[serde(default = "default_true")]
    pub artifacts: bool,
    /// `optional:` (default false): a missing job is dropped instead of being an error.
    #[serde(default)]
    pub optional: bool,
}

fn default_true() -> bool {
    true
}

/// `when`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum When {
    /// Runs when everything before it succeeded.
    #[default]
    OnSuccess,
    /// Runs when something before it failed.
    OnFailure,
    /// Runs regardless.
    Always,
    /// Runs only when selected by the caller ([`crate::RunOptions::selected_manual`]).
    Manual,
    /// Like `on_success`, but starts after the given delay (`start_in`).
    Delayed(Duration),
}

/// `allow_failure`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AllowFailure {
    /// A failure fails the pipeline.
    #[default]
    No,
    /// Any failure is tolerated.
    Yes,
    /// Failures with one of these exit codes are tolerated.
    ExitCodes(Vec<i32>),
}

/// `retry`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Retry {
    /// Extra attempts (0–2 in GitLab).
    #[serde(default)]
    pub max: u32,
    /// Failure reasons that retry (`always`, `script_failure`, `job_execution_timeout`,
    /// `stuck_or_timeout_failure`, `runner_system_failure`, `unknown_failure`, ...). Empty with empty
    /// `exit_codes` means `always`.
    #[serde(default)]
    pub when: Vec<String>,
    /// Exit codes that retry (OR-ed with `when`).
    #[serde(default)]
    pub exit_codes: Vec<i32>,
}

/// Where a variable came from, for the precedence of dotenv-report variables (which beat YAML and
/// predefined variables but not variables given by the user for the pipeline).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VariableSource {
    /// Predefined `CI_*` / `GITLAB_*` variables.
    Predefined,
    /// Top-level or job `variables:` in the YAML (also matrix and `rules:variables`).
    #[default]
    Yaml,
    /// Pipeline, project, group or instance variables (precedence above dotenv).
    Pipeline,
}

/// One job variable (`{key, value, masked, file, raw}` in the runner payload).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobVariable {
    /// Name.
    pub key: String,
    /// Value (for a file variable: the file's content).
    pub value: String,
    /// Replace the value by `[MASKED]` in every output.
    #[serde(default)]
    pub masked: bool,
    /// Write the value to a file and hold the file's path instead.
    #[serde(default)]
    pub file: bool,
    /// Do not expand `$VAR` references in the value runner-side.
    #[serde(default)]
    pub raw: bool,
    /// Precedence class.
    #[serde(default)]
    pub source: VariableSource,
}

impl JobVariable {
    /// A plain YAML variable.
    pub fn new(key: impl Into<String>, value: impl Into<String>) -> Self {
        Self {
            key: key.into(),
            value: value.into(),
            masked: false,
            file: false,
            raw: false,
            source: VariableSource::Yaml,
        }
    }
}

/// `artifacts`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArtifactsSpec {
    /// `name` (runner-expanded); default `artifacts`.
    #[serde(default)]
    pub name: Option<String>,
    /// `paths` (doublestar globs relative to the project dir).
    #[serde(default)]
    pub paths: Vec<String>,
    /// `exclude` (doublestar globs matched against every collected file).
    #[serde(default)]
    pub exclude: Vec<String>,
    /// `untracked`: add `git ls-files -o` (ignored files included).
    #[serde(default)]
    pub untracked: bool,
    /// `when`.
    #[serde(default)]
    pub when: ArtifactsWhen,
    /// `expire_in` as written (`"1 week"`, `"never"`, `"42"`).
    #[serde(default)]
    pub expire_in: Option<String>,
    /// `reports`.
    #[serde(default)]
    pub reports: Reports,
}

/// `artifacts:when`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ArtifactsWhen {
    /// Upload when the job succeeded.
    #[default]
    OnSuccess,
    /// Upload when the job failed.
    OnFailure,
    /// Upload either way (not on timeout).
    Always,
}

/// `artifacts:reports` (the kinds the engine understands).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reports {
    /// `reports:dotenv` paths.
    #[serde(default)]
    pub dotenv: Vec<String>,
    /// `reports:junit` paths (globs allowed).
    #[serde(default)]
    pub junit: Vec<String>,
}

/// One `cache` entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CacheSpec {
    /// The computed key (`key:files` digest and prefix already applied); runner-expanded again.
    pub key: String,
    /// `fallback_keys`, tried in order when `key` misses.
    #[serde(default)]
    pub fallback_keys: Vec<String>,
    /// `paths`.
    #[serde(default)]
    pub paths: Vec<String>,
    /// `untracked`.
    #[serde(default)]
    pub untracked: bool,
    /// `policy`.
    #[serde(default)]
    pub policy: CachePolicy,
    /// `when`.
    #[serde(default)]
    pub when: CacheWhen,
}

/// `cache:policy`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CachePolicy {
    /// Restore and save.
    #[default]
    PullPush,
    /// Restore only.
    Pull,
    /// Save only.
    Push,
}

/// `cache:when`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CacheWhen {
    /// Save when the job succeeded.
    #[default]
    OnSuccess,
    /// Save when the job failed.
    OnFailure,
    /// Save either way.
    Always,
}

impl JobSpec {
    /// A job with only a name, a stage and a script; everything else at its default.
    pub fn new(name: impl Into<String>, stage: impl Into<String>, stage_index: usize) -> Self {
        Self {
            name: name.into(),
            stage: stage.into(),
            stage_index,
            job_id: 0,
            needs: None,
            dependencies: None,
            when: When::OnSuccess,
            allow_failure: AllowFailure::No,
            retry: Retry::default(),
            timeout: None,
            before_script: Vec::new(),
            script: Vec::new(),
            after_script: Vec::new(),
            variables: Vec::new(),
            artifacts: None,
            cache: Vec::new(),
            image: None,
            services: Vec::new(),
        }
    }

    /// The value of the last variable named `key`.
    pub fn variable(&self, key: &str) -> Option<&str> {
        self.variables
            .iter()
            .rev()
            .find(|v| v.key == key)
            .map(|v| v.value.as_str())
    }
}
