//! `ContainerConfig`: what Gantry asks the engine for when it creates a job's build container or
//! a service container — image, entrypoint and command, environment, labels, and the host
//! configuration from `[runners.docker]` (binds, privileged, capabilities, devices, DNS, extra
//! hosts, resources, network). Plain data, so tests can check the request without an engine.

use std::collections::HashMap;

use bollard::models::{
    ContainerCreateBody, DeviceMapping, EndpointSettings, HostConfig, NetworkingConfig,
    RestartPolicy, RestartPolicyNameEnum,
};

use super::options::DockerOptions;

/// Finds a shell in the image like gitlab-runner's detector (bash first, then sh) and runs the
/// step script given as `$0` with it.
pub(crate) const SHELL_DETECTOR: &str = "if [ -x /usr/local/bin/bash ]; then exec /usr/local/bin/bash \"$0\"; \
elif [ -x /usr/bin/bash ]; then exec /usr/bin/bash \"$0\"; \
elif [ -x /bin/bash ]; then exec /bin/bash \"$0\"; \
elif [ -x /usr/local/bin/sh ]; then exec /usr/local/bin/sh \"$0\"; \
elif [ -x /usr/bin/sh ]; then exec /usr/bin/sh \"$0\"; \
elif [ -x /bin/sh ]; then exec /bin/sh \"$0\"; \
elif [ -x /busybox/sh ]; then exec /busybox/sh \"$0\"; \
else echo shell not found; exit 1; fi";

/// One container to create.
#[derive(Clone, Debug, Default)]
pub(crate) struct ContainerConfig {
    pub(crate) image: String,
    /// `None` keeps the image's entrypoint; `Some([""])` clears it.
    pub(crate) entrypoint: Option<Vec<String>>,
    /// `None` keeps the image's `CMD`.
    pub(crate) cmd: Option<Vec<String>>,
    pub(crate) env: Vec<String>,
    pub(crate) user: Option<String>,
    pub(crate) labels: HashMap<String, String>,
    pub(crate) binds: Vec<String>,
    pub(crate) privileged: bool,
    /// The per-job network (or `network_mode`) to join, and the aliases to answer to there.
    pub(crate) network: Option<String>,
    pub(crate) aliases: Vec<String>,
    /// Build container: apply the resource limits, `user` and extra hosts of the options.
    pub(crate) is_build: bool,
}

impl ContainerConfig {
    /// The create request.
    pub(crate) fn to_body(&self, options: &DockerOptions) -> ContainerCreateBody {
        let non_empty = |v: &[String]| (!v.is_empty()).then(|| v.to_vec());
        let mut host = HostConfig {
            binds: non_empty(&self.binds),
            privileged: Some(self.privileged),
            network_mode: self.network.clone(),
            restart_policy: Some(RestartPolicy {
                name: Some(RestartPolicyNameEnum::NO),
                maximum_retry_count: None,
            }),
            cap_add: non_empty(&options.cap_add),
            cap_drop: non_empty(&options.cap_drop),
            security_opt: non_empty(&options.security_opt),
            dns: non_empty(&options.dns),
            dns_search: non_empty(&options.dns_search),
            extra_hosts: non_empty(&options.extra_hosts),
            devices: (!options.devices.is_empty())
                .then(|| options.devices.iter().map(|d| device(d)).collect()),
            ..HostConfig::default()
        };
        if self.is_build {
            host.memory = options.memory;
            host.memory_swap = options.memory_swap;
            host.memory_reservation = options.memory_reservation;
            host.nano_cpus = options.nano_cpus;
            host.shm_size = options.shm_size;
        }
        let networking = self
            .network
            .as_ref()
            .filter(|n| !matches!(n.as_str(), "host" | "bridge" | "none" | "default"))
            .filter(|n| !n.starts_with("container:"))
            .map(|network| NetworkingConfig {
                endpoints_config: Some(HashMap::from([(
                    network.clone(),
                    EndpointSettings {
                        aliases: non_empty(&self.aliases),
                        ..EndpointSettings::default()
                    },
                )])),
            });
        ContainerCreateBody {
            image: Some(self.image.clone()),
            entrypoint: self.entrypoint.clone(),
            cmd: self.cmd.clone(),
            env: Some(self.env.clone()),
            user: self.user.clone(),
            labels: Some(self.labels.clone()),
            attach_stdout: Some(true),
            attach_stderr: Some(true),
            attach_stdin: Some(false),
            open_stdin: Some(false),
            tty: Some(false),
            host_config: Some(host),
            networking_config: networking,
            ..ContainerCreateBody::default()
        }
    }
}

/// `/dev/a[:/dev/b[:rwm]]`.
fn device(spec: &str) -> DeviceMapping {
    let mut parts = spec.splitn(3, ':');
    let host = parts.next().unwrap_or_default().to_owned();
    let container = parts
        .next()
        .filter(|s| !s.is_empty())
        .map_or_else(|| host.clone(), str::to_owned);
    let permissions = parts.next().unwrap_or("rwm").to_owned();
    DeviceMapping {
        path_on_host: Some(host),
        path_in_container: Some(container),
        cgroup_permissions: Some(permissions),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn build_request_carries_the_options() {
        let options = DockerOptions {
            extra_hosts: vec!["db.example:10.0.0.5".into()],
            cap_add: vec!["NET_ADMIN".into()],
            devices: vec!["/dev/fuse".into()],
            memory: Some(128 << 20),
            ..DockerOptions::default()
        };
        let config = ContainerConfig {
            image: "busybox".into(),
            cmd: Some(vec!["sh".into()]),
            env: vec!["A=1".into()],
            binds: vec!["/var/run/docker.sock:/var/run/docker.sock".into()],
            privileged: true,
            network: Some("gantry-net".into()),
            aliases: vec!["build".into()],
            is_build: true,
            ..ContainerConfig::default()
        };
        let body = config.to_body(&options);
        let host = body.host_config.unwrap();
        assert_eq!(host.privileged, Some(true));
        assert_eq!(host.memory, Some(128 << 20));
        assert_eq!(host.extra_hosts.unwrap(), ["db.example:10.0.0.5"]);
        let device = &host.devices.unwrap()[0];
        assert_eq!(device.path_in_container.as_deref(), Some("/dev/fuse"));
        assert_eq!(device.cgroup_permissions.as_deref(), Some("rwm"));
        let endpoints = body.networking_config.unwrap().endpoints_config.unwrap();
        assert_eq!(
            endpoints["gantry-net"].aliases.as_deref().unwrap(),
            ["build"]
        );
    }
}
