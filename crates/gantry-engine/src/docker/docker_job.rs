//! `DockerJob`: the containers, network and volumes of one job attempt with the docker executor,
//! from `prepare_executor` (image pull, network, services, build container) to their removal.
//!
//! The design keeps container start/stop cycles to the minimum: the job's working copy and its
//! `.tmp` directory are bind-mounted from the host at `/builds/<project path>` (so sources, cache
//! and artifacts are handled on the host, as for the shell executor: no helper containers), and
//! the build container is created once; each script step (`step_script`, then `after_script`)
//! is one start of it. A job without `after_script` and services is one container start.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bollard::models::{NetworkCreateRequest, VolumeCreateRequest};
use bollard::query_parameters::{CreateContainerOptions, RemoveContainerOptions};
use futures_util::future::join_all;

use super::allow_list::{allowed, check_allowed};
use super::client::DockerClient;
use super::container_config::{ContainerConfig, SHELL_DETECTOR};
use super::container_step::{run_container_step, start_error};
use super::dind_variables::dind_variables;
use super::image_puller::ImagePuller;
use super::image_ref::{ImageRef, split_aliases};
use super::labels::{LabelFacts, ResourceLabels};
use super::options::DockerOptions;
use super::pull_policy::effective_policies;
use super::service_set::{StartedService, wait_for_services};
use super::volume_mount::{VolumeMount, cache_dir_path, cache_volume_name, path_hash};
use super::workspace_copy::{download_dir, upload_dir};
use crate::environment::JobEnvironment;
use crate::event::FailureReason;
use crate::job::{JobControl, JobLogger};
use crate::shell::StepEnd;
use crate::spec::{JobSpec, ServiceSpec};

/// Name of the step script in the job's `.tmp` directory (the build container's command runs it).
pub(crate) const STEP_SCRIPT: &str = "gantry_step.sh";

/// Why preparing failed.
#[derive(Debug)]
pub(crate) struct PrepareError {
    pub(crate) reason: FailureReason,
    pub(crate) message: String,
}

impl PrepareError {
    pub(crate) fn new(reason: FailureReason, message: impl Into<String>) -> Self {
        Self {
            reason,
            message: message.into(),
        }
    }

    fn system(message: impl Into<String>) -> Self {
        Self::new(FailureReason::RunnerSystemFailure, message)
    }
}

/// Host and container paths of the job's working copy.
#[derive(Clone, Debug)]
pub(crate) struct JobMounts {
    pub(crate) project_host: std::path::PathBuf,
    pub(crate) tmp_host: std::path::PathBuf,
    pub(crate) project_view: String,
    pub(crate) tmp_view: String,
}

/// Facts `prepare` needs about the job and the run.
pub(crate) struct JobFacts<'a> {
    pub(crate) spec: &'a JobSpec,
    pub(crate) user_project_dir: &'a std::path::Path,
    pub(crate) hostname: &'a str,
    pub(crate) pipeline_id: u64,
    pub(crate) slug: &'a str,
    pub(crate) timeout: Duration,
    pub(crate) mounts: JobMounts,
}

/// The resources of one job attempt; dropped or [`cleanup`](Self::cleanup)ed, they are removed.
pub(crate) struct DockerJob {
    client: Arc<DockerClient>,
    options: Arc<DockerOptions>,
    labels: Option<ResourceLabels>,
    /// Networks Gantry created for this job (removed at the end).
    networks: Vec<String>,
    /// Containers to remove, services first.
    containers: Vec<String>,
    /// Volumes that live only as long as the job.
    volumes: Vec<String>,
    /// The build container.
    build: Option<String>,
    /// The job image as resolved.
    pub(crate) image: String,
    /// The build container may still be running (a step ended by timeout, cancel or error).
    build_may_run: bool,
    /// `uid:gid` to give the working copy back to after each step: set when gantry is not root
    /// and the container runs as its image's user (root, usually).
    pub(crate) give_back_to: Option<String>,
    /// The working copy is copied in and out (the engine cannot see this machine's files).
    copy: Option<CopiedWorkspace>,
    cleaned: bool,
}

/// What copy mode needs to know.
struct CopiedWorkspace {
    mounts: JobMounts,
    uploaded: bool,
}

impl DockerJob {
    pub(crate) fn new(client: Arc<DockerClient>, options: Arc<DockerOptions>) -> Self {
        Self {
            client,
            options,
            labels: None,
            networks: Vec::new(),
            containers: Vec::new(),
            volumes: Vec::new(),
            build: None,
            image: String::new(),
            build_may_run: false,
            give_back_to: None,
            copy: None,
            cleaned: false,
        }
    }

    /// `prepare_executor`: pulls the images, creates the network, starts and waits for the
    /// services, creates the build container. Adds the docker-in-docker variables to `env`.
    pub(crate) fn prepare(
        &mut self,
        facts: &JobFacts<'_>,
        env: &mut JobEnvironment,
        log: &mut JobLogger,
        control: &mut JobControl,
    ) -> Result<(), PrepareError> {
        let options = Arc::clone(&self.options);
        let spec = facts.spec;
        let image_spec = spec.image.clone().unwrap_or_default();
        let from_job = !image_spec.name.trim().is_empty();
        let image_name = if from_job {
            env.expand(&image_spec.name)
        } else if let Some(default) = &options.image {
            env.expand(default)
        } else {
            return Err(PrepareError::new(
                FailureReason::RunnerConfigurationError,
                "the job has no image: set `image:` in the job (or in `default:`), or `image` in \
                 [runners.docker] of the runner configuration",
            ));
        };
        log.plain(&format!(
            "Using Docker executor with image {image_name} ..."
        ));
        log.plain(&format!(
            "Docker engine {} at {} (API {})",
            self.client.server_version, self.client.endpoint.host, self.client.api_version
        ));
        let copy = options
            .copy_workspace
            .unwrap_or(!self.client.endpoint.is_local());
        if copy {
            log.plain(
                "The engine is not on this machine: the working copy is copied into the \
                 container and back",
            );
            self.copy = Some(CopiedWorkspace {
                mounts: facts.mounts.clone(),
                uploaded: false,
            });
        }
        if from_job {
            check_allowed(&image_name, &options.allowed_images, "images")?;
        }
        let policies = effective_policies(
            &image_spec.pull_policy,
            &options.pull_policy,
            &options.allowed_pull_policies,
        )
        .map_err(|e| PrepareError::new(FailureReason::RunnerConfigurationError, e))?;
        let variable = |k: &str| env.get(k).map(str::to_owned);
        let timeout = crate::duration::go_duration(facts.timeout);
        let labels = ResourceLabels::new(&LabelFacts {
            project_dir: facts.user_project_dir,
            hostname: facts.hostname,
            pipeline_id: facts.pipeline_id,
            job_id: spec.job_id,
            job_name: &spec.name,
            timeout: &timeout,
            variable: &variable,
            extra: &options.labels,
        });
        self.labels = Some(labels.clone());
        let client = Arc::clone(&self.client);
        let mut canceled = || control.poll_canceled();
        let mut puller = ImagePuller {
            client: &client,
            auth_config: env.get("DOCKER_AUTH_CONFIG").map(str::to_owned),
            pulled: HashSet::new(),
            canceled: &mut canceled,
        };
        {
            let mut warnings = Vec::new();
            let pulled = puller.ensure(
                &image_name,
                &policies,
                image_spec.platform.as_deref(),
                &mut |line| log.plain(line),
                &mut |w| warnings.push(w.to_owned()),
            );
            for w in warnings {
                log.warning(&w);
            }
            pulled.map_err(|e| PrepareError::new(FailureReason::ImagePullFailure, e))?;
        }
        self.image.clone_from(&image_name);

        // Unique names: base = gantry-<pipeline>-<job slug>-<random>.
        let base = format!(
            "gantry-{}-{}-{}",
            facts.pipeline_id,
            container_safe(facts.slug),
            random_suffix()
        );
        let binds = self.volume_binds(&base, &labels, facts)?;

        // The network: the configured one, or one per job when there are services.
        let services: Vec<(ServiceSpec, bool)> = options
            .services
            .iter()
            .map(|s| (s.clone(), false))
            .chain(spec.services.iter().map(|s| (s.clone(), true)))
            .collect();
        let network = match &options.network_mode {
            Some(mode) => Some(mode.clone()),
            None if !services.is_empty() => {
                let name = format!("{base}-network");
                self.client
                    .block_on(self.client.docker.create_network(NetworkCreateRequest {
                        name: name.clone(),
                        driver: Some("bridge".to_owned()),
                        labels: Some(labels.for_kind("network")),
                        ..NetworkCreateRequest::default()
                    }))
                    .map_err(|e| {
                        PrepareError::system(format!("creating the network {name}: {e}"))
                    })?;
                self.networks.push(name.clone());
                Some(name)
            }
            None => None,
        };

        let started = self.start_services(
            &services,
            &base,
            network.as_deref(),
            &binds,
            env,
            &labels,
            &mut puller,
            log,
        )?;
        if !started.is_empty() {
            self.wait_for(&started, log, control)?;
        }
        dind_variables(&services, env, &options.volumes);

        // The build container.
        let mut entrypoint = image_spec.entrypoint.clone();
        if entrypoint.is_some() && options.disable_entrypoint_overwrite {
            log.warning("Entrypoint override disabled");
            entrypoint = None;
        }
        let privileged = options.privileged
            && (options.allowed_privileged_images.is_empty()
                || allowed(&image_name, &options.allowed_privileged_images));
        let script = format!("{}/{STEP_SCRIPT}", facts.mounts.tmp_view);
        let mut all_binds = if copy {
            Vec::new()
        } else {
            vec![
                format!(
                    "{}:{}",
                    facts.mounts.project_host.display(),
                    facts.mounts.project_view
                ),
                format!(
                    "{}:{}",
                    facts.mounts.tmp_host.display(),
                    facts.mounts.tmp_view
                ),
            ]
        };
        all_binds.extend(binds.iter().cloned());
        let name = format!("{base}-build");
        let config = ContainerConfig {
            image: image_name.clone(),
            entrypoint,
            cmd: Some(vec![
                "sh".to_owned(),
                "-c".to_owned(),
                SHELL_DETECTOR.to_owned(),
                script,
            ]),
            env: env_list(env.entries()),
            user: image_spec.user.clone().or_else(|| options.user.clone()),
            labels: labels.for_kind("build"),
            binds: all_binds,
            privileged,
            network,
            aliases: vec!["build".to_owned()],
            is_build: true,
        };
        if !copy {
            self.give_back_to = owner_to_restore(config.user.as_deref());
        }
        let id = self.create(&name, &config, image_spec.platform.as_deref())?;
        self.build = Some(id);
        Ok(())
    }

    fn create(
        &mut self,
        name: &str,
        config: &ContainerConfig,
        platform: Option<&str>,
    ) -> Result<String, PrepareError> {
        let created = self
            .client
            .block_on(self.client.docker.create_container(
                Some(CreateContainerOptions {
                    name: Some(name.to_owned()),
                    platform: platform.unwrap_or_default().to_owned(),
                }),
                config.to_body(&self.options),
            ))
            .map_err(|e| PrepareError::system(format!("creating the container {name}: {e}")))?;
        self.containers.push(created.id.clone());
        Ok(created.id)
    }

    /// The `volumes` of the configuration as binds, creating managed volumes.
    fn volume_binds(
        &mut self,
        base: &str,
        labels: &ResourceLabels,
        facts: &JobFacts<'_>,
    ) -> Result<Vec<String>, PrepareError> {
        let project = super::labels::project_key(facts.user_project_dir);
        let mut binds = Vec::new();
        for spec in &self.options.volumes.clone() {
            let mount = VolumeMount::parse(spec)
                .map_err(|e| PrepareError::new(FailureReason::RunnerConfigurationError, e))?;
            match mount {
                VolumeMount::Bind(bind) => binds.push(bind),
                VolumeMount::Managed { target } => {
                    if let Some(dir) = &self.options.cache_dir
                        && !self.options.disable_cache
                    {
                        let host = cache_dir_path(dir, &project, &target);
                        fs_err::create_dir_all(&host).map_err(|e| {
                            PrepareError::system(format!("creating the cache directory: {e}"))
                        })?;
                        binds.push(format!("{}:{target}", host.display()));
                        continue;
                    }
                    let (name, kind) = if self.options.disable_cache {
                        (format!("{base}-volume-{}", path_hash(&target)), "volume")
                    } else {
                        (cache_volume_name(&project, &target), "cache")
                    };
                    let mut volume_labels = labels.for_kind(kind);
                    if kind == "cache" {
                        // Kept between jobs: no job-specific labels.
                        volume_labels.retain(|k, _| {
                            !k.starts_with("com.gitlab") && !k.starts_with("dev.gantry.job")
                        });
                        volume_labels.insert("dev.gantry.destination".into(), target.clone());
                    }
                    self.client
                        .block_on(self.client.docker.create_volume(VolumeCreateRequest {
                            name: Some(name.clone()),
                            labels: Some(volume_labels),
                            ..VolumeCreateRequest::default()
                        }))
                        .map_err(|e| {
                            PrepareError::system(format!("creating the volume {name}: {e}"))
                        })?;
                    if kind == "volume" {
                        self.volumes.push(name.clone());
                    }
                    binds.push(format!("{name}:{target}"));
                }
            }
        }
        Ok(binds)
    }

    #[allow(clippy::too_many_arguments)]
    fn start_services(
        &mut self,
        services: &[(ServiceSpec, bool)],
        base: &str,
        network: Option<&str>,
        binds: &[String],
        env: &JobEnvironment,
        labels: &ResourceLabels,
        puller: &mut ImagePuller<'_>,
        log: &mut JobLogger,
    ) -> Result<Vec<StartedService>, PrepareError> {
        let options = Arc::clone(&self.options);
        let public = env_list(&env.public_entries());
        let mut taken: HashSet<String> = HashSet::new();
        let mut started = Vec::new();
        for (index, (service, from_job)) in services.iter().enumerate() {
            let name = env.expand(&service.name);
            if *from_job {
                check_allowed(&name, &options.allowed_services, "services")?;
            }
            let image = ImageRef::parse(&name).map_err(|e| {
                PrepareError::new(
                    FailureReason::RunnerConfigurationError,
                    format!("service: {e}"),
                )
            })?;
            let mut aliases = image.service_aliases();
            if let Some(alias) = &service.alias {
                aliases.extend(split_aliases(&env.expand(alias)));
            }
            let mut kept = Vec::new();
            for alias in aliases {
                if taken.contains(&alias) {
                    log.warning(&format!("Service {name} is already created. Ignoring."));
                } else if !kept.contains(&alias) {
                    kept.push(alias);
                }
            }
            if kept.is_empty() {
                continue;
            }
            taken.extend(kept.iter().cloned());
            let policies = effective_policies(
                &service.pull_policy,
                &options.pull_policy,
                &options.allowed_pull_policies,
            )
            .map_err(|e| PrepareError::new(FailureReason::RunnerConfigurationError, e))?;
            let mut warnings = Vec::new();
            let pulled = puller.ensure(
                &name,
                &policies,
                None,
                &mut |line| log.plain(line),
                &mut |w| warnings.push(w.to_owned()),
            );
            for w in warnings {
                log.warning(&w);
            }
            pulled.map_err(|e| PrepareError::new(FailureReason::ImagePullFailure, e))?;
            log.plain(&format!("Starting service {name} ..."));
            let mut service_env = public.clone();
            for v in &service.variables {
                let value = if v.raw {
                    v.value.clone()
                } else {
                    env.expand(&v.value)
                };
                service_env.push(format!("{}={value}", v.key));
            }
            let privileged = options.services_privileged.unwrap_or(options.privileged)
                && (options.allowed_privileged_services.is_empty()
                    || allowed(&name, &options.allowed_privileged_services));
            let container_name = format!("{base}-{}-{index}", image.service_slug());
            let mut service_labels = labels.for_kind("service");
            service_labels.insert(
                "com.gitlab.gitlab-runner.service".into(),
                image.name_without_tag(),
            );
            service_labels.insert(
                "com.gitlab.gitlab-runner.service.version".into(),
                image.tag.clone().unwrap_or_else(|| "latest".into()),
            );
            let config = ContainerConfig {
                image: name.clone(),
                entrypoint: service.entrypoint.clone(),
                cmd: service.command.clone(),
                env: service_env,
                user: None,
                labels: service_labels,
                binds: binds.to_vec(),
                privileged,
                network: network.map(str::to_owned),
                aliases: kept,
                is_build: false,
            };
            let id = self.create(&container_name, &config, None)?;
            self.client
                .block_on(self.client.docker.start_container(&id, None))
                .map_err(|e| {
                    PrepareError::system(format!(
                        "starting the service {name} ({container_name}): {}",
                        start_error(&e)
                    ))
                })?;
            started.push(StartedService {
                name,
                container_id: id,
                container_name,
            });
        }
        Ok(started)
    }

    fn wait_for(
        &mut self,
        started: &[StartedService],
        log: &mut JobLogger,
        control: &mut JobControl,
    ) -> Result<(), PrepareError> {
        let Some(timeout) = self.options.services_timeout_secs() else {
            return Ok(());
        };
        if !self.client.endpoint.is_local() {
            log.warning(
                "Skipping the service health check: the Docker engine is not on this machine",
            );
            return Ok(());
        }
        log.plain(&format!(
            "Waiting for services to be up and running (timeout {timeout} seconds)..."
        ));
        let waited = wait_for_services(
            &self.client,
            started,
            Duration::from_secs(timeout),
            &mut || control.poll_canceled(),
        );
        let Ok(problems) = waited else {
            return Err(PrepareError::new(
                FailureReason::UnknownFailure,
                "canceled while waiting for services",
            ));
        };
        for problem in problems {
            log.warning(&format!(
                "*** WARNING: Service {} probably didn't start properly.",
                problem.service.container_name
            ));
            log.plain("");
            log.plain("Health check error:");
            log.plain(&problem.error);
            log.plain("");
            log.plain("Service container logs:");
            for line in problem.logs.lines() {
                log.plain(line);
            }
            log.plain("");
            log.plain("*********");
        }
        Ok(())
    }

    /// Runs one step: the script must already be in `<tmp>/gantry_step.sh`.
    pub(crate) fn run_step(
        &mut self,
        control: &mut JobControl,
        deadline: Instant,
        grace: Duration,
        cancelable: bool,
        on_output: &mut dyn FnMut(&[u8]),
    ) -> std::io::Result<StepEnd> {
        let Some(id) = self.build.clone() else {
            return Err(std::io::Error::other("the build container was not created"));
        };
        if let Some(copy) = &mut self.copy {
            // The working copy once, the `.tmp` directory (step script, file variables,
            // GITLAB_ENV) before every step.
            if !copy.uploaded {
                upload_dir(
                    &self.client,
                    &id,
                    &copy.mounts.project_host,
                    &copy.mounts.project_view,
                )?;
                copy.uploaded = true;
            }
            upload_dir(
                &self.client,
                &id,
                &copy.mounts.tmp_host,
                &copy.mounts.tmp_view,
            )?;
        }
        self.build_may_run = true;
        let end = run_container_step(
            &self.client,
            &id,
            control,
            deadline,
            grace,
            cancelable,
            on_output,
        );
        self.build_may_run = !matches!(end, Ok(StepEnd::Exited(_)));
        if let (Some(copy), Ok(StepEnd::Exited(_))) = (&self.copy, &end) {
            // Lines the step wrote to GITLAB_ENV.
            download_dir(
                &self.client,
                &id,
                &copy.mounts.tmp_view,
                &copy.mounts.tmp_host,
            )?;
        }
        end
    }

    /// In copy mode, brings the container's working copy back to this machine (before cache
    /// and artifacts are collected from it).
    pub(crate) fn sync_out(&mut self) -> std::io::Result<()> {
        let (Some(copy), Some(id)) = (&self.copy, &self.build) else {
            return Ok(());
        };
        if !copy.uploaded {
            return Ok(());
        }
        download_dir(
            &self.client,
            id,
            &copy.mounts.project_view,
            &copy.mounts.project_host,
        )
    }

    /// Removes the job's containers (with their anonymous volumes), networks and temporary
    /// volumes. Safe to call more than once. When the build container has exited, the removal
    /// runs in the background (the run waits for it before it returns); otherwise it is done
    /// here, so nothing still running in the container can touch the working copy afterwards.
    pub(crate) fn cleanup(&mut self) {
        if self.cleaned {
            return;
        }
        self.cleaned = true;
        let docker = self.client.docker.clone();
        let containers = std::mem::take(&mut self.containers);
        let networks = std::mem::take(&mut self.networks);
        let volumes = std::mem::take(&mut self.volumes);
        let removal = async move {
            join_all(containers.iter().map(|id| {
                docker.remove_container(
                    id,
                    Some(RemoveContainerOptions {
                        force: true,
                        v: true,
                        ..RemoveContainerOptions::default()
                    }),
                )
            }))
            .await;
            join_all(networks.iter().map(|n| docker.remove_network(n))).await;
            join_all(volumes.iter().map(|v| {
                docker.remove_volume(
                    v,
                    Some(bollard::query_parameters::RemoveVolumeOptions { force: true }),
                )
            }))
            .await;
        };
        if self.build_may_run {
            self.client.block_on(removal);
        } else {
            self.client.in_background(removal);
        }
    }
}

impl Drop for DockerJob {
    fn drop(&mut self) {
        self.cleanup();
    }
}

/// `KEY=value` list, the last value of each key, in first-seen order.
fn env_list(entries: &[(String, String)]) -> Vec<String> {
    let mut last: std::collections::HashMap<&str, &str> = std::collections::HashMap::new();
    let mut order = Vec::new();
    for (k, v) in entries {
        if last.insert(k.as_str(), v.as_str()).is_none() {
            order.push(k.as_str());
        }
    }
    order
        .into_iter()
        .map(|k| format!("{k}={}", last[k]))
        .collect()
}

/// `uid:gid` of this process when it is not root and the container user is not set.
fn owner_to_restore(container_user: Option<&str>) -> Option<String> {
    // SAFETY: plain getters without arguments.
    let (uid, gid) = unsafe { (libc::geteuid(), libc::getegid()) };
    (uid != 0 && container_user.is_none()).then(|| format!("{uid}:{gid}"))
}

/// Lower-case letters, digits, `-`, `_` and `.` (container names allow these).
fn container_safe(s: &str) -> String {
    let cleaned: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    cleaned.chars().take(40).collect()
}

/// 8 random hex digits.
fn random_suffix() -> String {
    let mut bytes = [0u8; 4];
    if let Ok(mut f) = std::fs::File::open("/dev/urandom") {
        use std::io::Read as _;
        let _ = f.read_exact(&mut bytes);
    }
    if bytes == [0; 4] {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        bytes = nanos.to_le_bytes();
    }
    super::labels::hex(&bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_list_keeps_the_last_value() {
        let entries = vec![
            ("A".to_owned(), "1".to_owned()),
            ("B".to_owned(), "2".to_owned()),
            ("A".to_owned(), "3".to_owned()),
        ];
        assert_eq!(env_list(&entries), ["A=3", "B=2"]);
    }

    #[test]
    fn names_are_container_safe() {
        assert_eq!(container_safe("Test 1/2"), "test-1-2");
    }
}
