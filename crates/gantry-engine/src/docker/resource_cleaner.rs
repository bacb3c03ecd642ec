//! `clean_docker_resources`: removes what gantry runs left behind — containers, networks and
//! volumes labelled [`MANAGED_LABEL`](super::labels::MANAGED_LABEL) — skipping those of a gantry
//! process that is still running on this machine.

use std::collections::HashMap;
use std::path::Path;

use bollard::query_parameters::{
    ListContainersOptions, ListNetworksOptions, ListVolumesOptions, RemoveContainerOptions,
    RemoveVolumeOptions,
};

use super::client::DockerClient;
use super::labels::{MANAGED_LABEL, OWNER_LABEL, PROJECT_LABEL, TYPE_LABEL, project_key};
use super::options::DockerOptions;

/// What to remove.
#[derive(Clone, Debug, Default)]
pub struct CleanRequest<'a> {
    /// Only resources of this project directory; `None`: of every project.
    pub project_dir: Option<&'a Path>,
    /// Also the volumes kept between jobs (`volumes = ["/cache"]` and the like).
    pub include_cache_volumes: bool,
    /// Also resources of gantry processes that are still running.
    pub force: bool,
}

/// What was removed (and what could not be).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CleanReport {
    /// The engine's endpoint.
    pub endpoint: String,
    pub containers: usize,
    pub networks: usize,
    pub volumes: usize,
    /// Resources left alone because their gantry process is still running.
    pub skipped_live: usize,
    /// Removal errors, one line each.
    pub errors: Vec<String>,
}

/// Connects to the engine of `options` and removes what `request` selects.
pub fn clean_docker_resources(
    options: &DockerOptions,
    request: &CleanRequest<'_>,
) -> Result<CleanReport, String> {
    let client = DockerClient::connect(options)?;
    let mut filter = vec![format!("{MANAGED_LABEL}=true")];
    if let Some(dir) = request.project_dir {
        filter.push(format!("{PROJECT_LABEL}={}", project_key(dir)));
    }
    let filters = HashMap::from([("label".to_owned(), filter)]);
    let hostname = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_owned())
        .unwrap_or_default();
    let live = |labels: Option<&HashMap<String, String>>| -> bool {
        if request.force {
            return false;
        }
        labels
            .and_then(|l| l.get(OWNER_LABEL))
            .and_then(|owner| owner.rsplit_once(':'))
            .is_some_and(|(host, pid)| {
                host == hostname
                    && pid.parse::<u32>().is_ok_and(|pid| {
                        pid != std::process::id() && Path::new(&format!("/proc/{pid}")).exists()
                    })
            })
    };
    let docker = &client.docker;
    let mut report = CleanReport {
        endpoint: client.endpoint.host.clone(),
        ..CleanReport::default()
    };
    client.block_on(async {
        let containers = docker
            .list_containers(Some(ListContainersOptions {
                all: true,
                filters: Some(filters.clone()),
                ..ListContainersOptions::default()
            }))
            .await
            .map_err(|e| format!("listing containers: {e}"))?;
        for c in containers {
            let Some(id) = c.id else { continue };
            if live(c.labels.as_ref()) {
                report.skipped_live += 1;
                continue;
            }
            let removed = docker
                .remove_container(
                    &id,
                    Some(RemoveContainerOptions {
                        force: true,
                        v: true,
                        ..RemoveContainerOptions::default()
                    }),
                )
                .await;
            match removed {
                Ok(()) => report.containers += 1,
                Err(e) => report.errors.push(format!("container {id}: {e}")),
            }
        }
        let networks = docker
            .list_networks(Some(ListNetworksOptions {
                filters: Some(filters.clone()),
            }))
            .await
            .map_err(|e| format!("listing networks: {e}"))?;
        for n in networks {
            let Some(name) = n.name else { continue };
            if live(n.labels.as_ref()) {
                report.skipped_live += 1;
                continue;
            }
            match docker.remove_network(&name).await {
                Ok(()) => report.networks += 1,
                Err(e) => report.errors.push(format!("network {name}: {e}")),
            }
        }
        let volumes = docker
            .list_volumes(Some(ListVolumesOptions {
                filters: Some(filters.clone()),
            }))
            .await
            .map_err(|e| format!("listing volumes: {e}"))?;
        for v in volumes.volumes.unwrap_or_default() {
            let kept = v.labels.get(TYPE_LABEL).map(String::as_str) == Some("cache");
            if kept && !request.include_cache_volumes {
                continue;
            }
            if !kept && live(Some(&v.labels)) {
                report.skipped_live += 1;
                continue;
            }
            match docker
                .remove_volume(&v.name, Some(RemoveVolumeOptions { force: true }))
                .await
            {
                Ok(()) => report.volumes += 1,
                Err(e) => report.errors.push(format!("volume {}: {e}", v.name)),
            }
        }
        Ok::<(), String>(())
    })?;
    Ok(report)
}
