//! The docker executor: jobs run in containers of a Docker-compatible engine (Docker, or
//! Podman's Docker API), talked to over its API with `bollard`.

mod allow_list;
mod client;
mod container_config;
mod container_step;
mod dind_variables;
mod docker_job;
mod image_puller;
mod image_ref;
mod labels;
mod options;
mod pull_policy;
mod registry_auth;
mod resource_cleaner;
mod service_set;
mod volume_mount;
mod workspace_copy;

pub(crate) use client::DockerClient;
pub(crate) use docker_job::{DockerJob, JobFacts, JobMounts, PrepareError, STEP_SCRIPT};
pub use labels::{MANAGED_LABEL, OWNER_LABEL, PROJECT_LABEL, TYPE_LABEL, project_key};
pub use options::{DockerOptions, Executor};
pub use pull_policy::PullPolicy;
pub use resource_cleaner::{CleanReport, CleanRequest, clean_docker_resources};
