//! `DockerOptions`: how the docker executor runs jobs — the daemon to talk to and the
//! `[runners.docker]` settings of gitlab-runner's `config.toml`, already parsed and validated.

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::pull_policy::PullPolicy;
use crate::spec::ServiceSpec;

/// The docker executor's settings. `Default` is what Gantry uses without a `config.toml`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DockerOptions {
    /// Daemon endpoint (`unix:///var/run/docker.sock`, `tcp://host:2376`); `None`: `DOCKER_HOST`,
    /// else the default socket.
    pub host: Option<String>,
    /// Use TLS with client certificates; `None`: `DOCKER_TLS_VERIFY` is set and not `0`.
    pub tls_verify: Option<bool>,
    /// Directory with `ca.pem`, `cert.pem`, `key.pem`; `None`: `DOCKER_CERT_PATH`, else
    /// `~/.docker`.
    pub tls_cert_path: Option<PathBuf>,
    /// Image of jobs without `image:`.
    pub image: Option<String>,
    /// Run job containers privileged (when the image is in `allowed_privileged_images`).
    pub privileged: bool,
    /// Run service containers privileged; `None`: like `privileged`.
    pub services_privileged: Option<bool>,
    /// Globs of images that may run privileged (empty: all).
    pub allowed_privileged_images: Vec<String>,
    /// Globs of service images that may run privileged (empty: all).
    pub allowed_privileged_services: Vec<String>,
    /// `volumes`: `/ctr` (a volume kept per project), `/host:/ctr[:ro|rw]` (a bind mount).
    pub volumes: Vec<String>,
    /// `extra_hosts`: `host:ip` entries for `/etc/hosts`.
    pub extra_hosts: Vec<String>,
    /// `network_mode`: `host`, `bridge`, `none` or an existing network's name.
    pub network_mode: Option<String>,
    /// `dns` servers.
    pub dns: Vec<String>,
    /// `dns_search` domains.
    pub dns_search: Vec<String>,
    /// `cap_add`.
    pub cap_add: Vec<String>,
    /// `cap_drop`.
    pub cap_drop: Vec<String>,
    /// `security_opt`.
    pub security_opt: Vec<String>,
    /// `devices`: `/dev/host[:/dev/ctr[:rwm]]`.
    pub devices: Vec<String>,
    /// `memory` limit in bytes.
    pub memory: Option<i64>,
    /// `memory_swap` limit in bytes.
    pub memory_swap: Option<i64>,
    /// `memory_reservation` in bytes.
    pub memory_reservation: Option<i64>,
    /// `cpus` in billionths of a CPU.
    pub nano_cpus: Option<i64>,
    /// `shm_size` in bytes.
    pub shm_size: Option<i64>,
    /// `user` the job container runs as (a job's `image:docker:user` wins).
    pub user: Option<String>,
    /// `pull_policy`, tried in order; empty: Gantry's default (`if-not-present`, see
    /// `docs/docker-executor.md`).
    pub pull_policy: Vec<PullPolicy>,
    /// `allowed_pull_policies`; empty: `pull_policy` when it is set, else every policy.
    pub allowed_pull_policies: Vec<PullPolicy>,
    /// Globs of allowed job images (empty: all). The default image is always allowed.
    pub allowed_images: Vec<String>,
    /// Globs of allowed job services (empty: all). Configured services are always allowed.
    pub allowed_services: Vec<String>,
    /// `disable_cache`: `/ctr` volumes live only as long as the job.
    pub disable_cache: bool,
    /// `cache_dir`: host directory that holds `/ctr` volumes as bind mounts instead.
    pub cache_dir: Option<PathBuf>,
    /// `wait_for_services_timeout` in seconds: `None` or 0 means 30, negative disables the wait.
    pub wait_for_services_timeout: Option<i64>,
    /// `[[runners.docker.services]]`, started before the job's own services.
    pub services: Vec<ServiceSpec>,
    /// `container_labels`, added to every container, network and volume of a job.
    pub labels: BTreeMap<String, String>,
    /// `disable_entrypoint_overwrite`: ignore `image:entrypoint`.
    pub disable_entrypoint_overwrite: bool,
    /// Copy the working copy into and out of the build container instead of bind-mounting it;
    /// `None`: copy when the engine is not on this machine.
    pub copy_workspace: Option<bool>,
}

impl DockerOptions {
    /// The effective service-wait timeout in seconds (`None`: the wait is disabled).
    pub fn services_timeout_secs(&self) -> Option<u64> {
        match self.wait_for_services_timeout {
            None | Some(0) => Some(30),
            Some(t) if t < 0 => None,
            Some(t) => Some(t.unsigned_abs()),
        }
    }
}

/// Which executor runs the jobs.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum Executor {
    /// Jobs run in a shell on this machine.
    #[default]
    Shell,
    /// Jobs run in containers of a Docker-compatible engine.
    Docker(Box<DockerOptions>),
}
