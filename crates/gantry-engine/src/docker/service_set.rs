//! `ServiceSet`: a job's service containers — started on the job's network under their aliases,
//! then checked the way gitlab-runner does: the service is up as soon as one of its exposed TCP
//! ports (or `HEALTHCHECK_TCP_PORT`) accepts a connection. A service that does not answer within
//! the timeout gets a warning block with its logs; the job goes on.

use std::net::{IpAddr, SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use bollard::query_parameters::LogsOptions;
use futures_util::StreamExt as _;

use super::client::DockerClient;

/// One started service.
#[derive(Clone, Debug)]
pub(crate) struct StartedService {
    /// The image as the job names it.
    pub(crate) name: String,
    pub(crate) container_id: String,
    pub(crate) container_name: String,
}

/// What the health check found wrong with one service.
#[derive(Debug)]
pub(crate) struct ServiceProblem {
    pub(crate) service: StartedService,
    pub(crate) error: String,
    pub(crate) logs: String,
}

/// How to probe one service.
struct Probe {
    service: StartedService,
    addresses: Vec<SocketAddr>,
    done: bool,
    error: Option<String>,
}

/// Waits until every service answers on a port, `timeout` passes, or `canceled` says stop.
/// Returns the services that did not answer, with their logs.
pub(crate) fn wait_for_services(
    client: &DockerClient,
    services: &[StartedService],
    timeout: Duration,
    canceled: &mut dyn FnMut() -> bool,
) -> Result<Vec<ServiceProblem>, ()> {
    let deadline = Instant::now() + timeout;
    let mut probes: Vec<Probe> = services
        .iter()
        .map(|service| probe_for(client, service))
        .collect();
    let mut last_state_check = Instant::now();
    while probes.iter().any(|p| !p.done) {
        if canceled() {
            return Err(());
        }
        for probe in probes.iter_mut().filter(|p| !p.done) {
            if probe
                .addresses
                .iter()
                .any(|a| TcpStream::connect_timeout(a, Duration::from_millis(200)).is_ok())
            {
                probe.done = true;
            }
        }
        if Instant::now() >= deadline {
            for probe in probes.iter_mut().filter(|p| !p.done) {
                probe.done = true;
                probe.error = Some(format!(
                    "service {:?} did not answer on {} within {} seconds",
                    probe.service.name,
                    describe(&probe.addresses),
                    timeout.as_secs()
                ));
            }
            break;
        }
        // A service that exited will never answer: stop waiting for it.
        if last_state_check.elapsed() >= Duration::from_secs(1) {
            last_state_check = Instant::now();
            for probe in probes.iter_mut().filter(|p| !p.done) {
                if let Some(code) = exited(client, &probe.service.container_id) {
                    probe.done = true;
                    probe.error = Some(format!(
                        "service {:?} exited with code {code}",
                        probe.service.name
                    ));
                }
            }
        }
        if probes.iter().any(|p| !p.done) {
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    Ok(probes
        .into_iter()
        .filter_map(|p| {
            p.error.map(|error| ServiceProblem {
                logs: logs(client, &p.service.container_id),
                service: p.service,
                error,
            })
        })
        .collect())
}

fn describe(addresses: &[SocketAddr]) -> String {
    addresses
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The addresses to dial: the container's IPs × its exposed TCP ports (the 20 lowest), or just
/// `HEALTHCHECK_TCP_PORT` when its environment sets it.
fn probe_for(client: &DockerClient, service: &StartedService) -> Probe {
    let mut probe = Probe {
        service: service.clone(),
        addresses: Vec::new(),
        done: false,
        error: None,
    };
    let inspect =
        match client.block_on(client.docker.inspect_container(&service.container_id, None)) {
            Ok(i) => i,
            Err(e) => {
                probe.done = true;
                probe.error = Some(format!("inspecting the service container: {e}"));
                return probe;
            }
        };
    let config = inspect.config.unwrap_or_default();
    let health_port = config.env.iter().flatten().find_map(|e| {
        e.strip_prefix("HEALTHCHECK_TCP_PORT=")
            .and_then(|p| p.trim().parse::<u16>().ok())
    });
    let mut ports: Vec<u16> = match health_port {
        Some(p) => vec![p],
        None => config
            .exposed_ports
            .iter()
            .flatten()
            .filter_map(|p| {
                let (port, proto) = p.split_once('/').unwrap_or((p.as_str(), "tcp"));
                (proto == "tcp").then(|| port.parse::<u16>().ok()).flatten()
            })
            .collect(),
    };
    ports.sort_unstable();
    ports.dedup();
    ports.truncate(20);
    let host_network = inspect
        .host_config
        .as_ref()
        .and_then(|h| h.network_mode.as_deref())
        == Some("host");
    let mut ips: Vec<IpAddr> = inspect
        .network_settings
        .and_then(|n| n.networks)
        .into_iter()
        .flatten()
        .filter_map(|(_, endpoint)| endpoint.ip_address)
        .filter_map(|ip| ip.parse().ok())
        .collect();
    if host_network {
        // The service shares this machine's network: it listens on the loopback.
        ips = vec![IpAddr::from([127, 0, 0, 1])];
    }
    if ports.is_empty() {
        probe.done = true;
        probe.error = Some(format!("service {:?} has no exposed ports", service.name));
    } else if ips.is_empty() {
        probe.done = true;
        probe.error = Some(format!(
            "service {:?} has no IP address to check (network_mode?)",
            service.name
        ));
    }
    for ip in &ips {
        for port in &ports {
            probe.addresses.push(SocketAddr::new(*ip, *port));
        }
    }
    probe
}

fn exited(client: &DockerClient, id: &str) -> Option<i64> {
    let state = client
        .block_on(client.docker.inspect_container(id, None))
        .ok()?
        .state?;
    if state.running == Some(true) {
        None
    } else {
        Some(state.exit_code.unwrap_or(-1))
    }
}

/// The last lines a service wrote (stdout and stderr).
pub(crate) fn logs(client: &DockerClient, id: &str) -> String {
    client.block_on(async {
        let mut stream = client.docker.logs(
            id,
            Some(LogsOptions {
                stdout: true,
                stderr: true,
                tail: "100".to_owned(),
                ..LogsOptions::default()
            }),
        );
        let mut text = Vec::new();
        let collect = async {
            while let Some(Ok(chunk)) = stream.next().await {
                text.extend_from_slice(&chunk.into_bytes());
            }
        };
        let _ = tokio::time::timeout(Duration::from_secs(10), collect).await;
        String::from_utf8_lossy(&text).into_owned()
    })
}
