//! Runs a planned pipeline: the dispatcher, job lifecycle, the shell executor, artifacts, cache
//! and the event stream.

mod ansi;
mod archive;
mod artifacts;
mod cache;
mod cancel;
mod dispatcher;
mod docker;
mod dotenv;
mod duration;
mod environment;
mod error;
mod event;
mod expand;
mod file_lock;
mod file_set;
mod job;
mod junit;
mod mask;
mod message;
mod options;
mod outcome;
pub mod printer;
mod run;
mod schedule;
mod shell;
mod signals;
mod slot;
mod slug;
mod sources;
mod spec;
mod tree_sync;

pub use ansi::strip_ansi;
pub use artifacts::prune_expired_artifacts;
pub use cache::default_cache_dir;
pub use cancel::CancelToken;
pub use docker::{
    CleanReport, CleanRequest, DockerOptions, Executor, MANAGED_LABEL, OWNER_LABEL, PROJECT_LABEL,
    PullPolicy, TYPE_LABEL, clean_docker_resources, project_key,
};
pub use error::EngineError;
pub use event::{Event, FailureReason, JobInfo, JobStatus, PipelineStatus};
pub use junit::JunitSummary;
pub use options::RunOptions;
pub use outcome::{JobOutcome, PipelineOutcome};
pub use run::run;
pub use signals::install_signal_handlers;
pub use spec::{
    AllowFailure, ArtifactsSpec, ArtifactsWhen, CachePolicy, CacheSpec, CacheWhen, ImageSpec,
    JobSpec, JobVariable, Need, PipelineSpec, Reports, Retry, ServiceSpec, VariableSource, When,
};
