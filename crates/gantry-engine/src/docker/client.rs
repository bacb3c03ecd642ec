//! `DockerClient`: one connection to a Docker-compatible engine for a whole run — the endpoint
//! resolved from the options and the environment (`DOCKER_HOST`, `DOCKER_TLS_VERIFY`,
//! `DOCKER_CERT_PATH`), the API version negotiated with the daemon, and a small tokio runtime on
//! which job threads run their requests.

use std::future::Future;
use std::path::PathBuf;

use bollard::{API_DEFAULT_VERSION, Docker};

use super::options::DockerOptions;

/// Seconds a single request may wait for the daemon's response headers.
const REQUEST_TIMEOUT_SECS: u64 = 600;

/// Where the daemon listens and how to talk to it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Endpoint {
    /// `unix:///path`, `tcp://host:port`, ...
    pub(crate) host: String,
    /// Client certificates directory when TLS is used.
    pub(crate) tls: Option<PathBuf>,
}

impl Endpoint {
    /// The endpoint: `options.host`, else `DOCKER_HOST`, else the Docker socket, else a Podman
    /// socket that exists, else the Docker socket (which then fails to connect, clearly).
    pub(crate) fn resolve(options: &DockerOptions, env: &dyn Fn(&str) -> Option<String>) -> Self {
        let non_empty = |k: &str| env(k).filter(|v| !v.is_empty());
        let host = options
            .host
            .clone()
            .or_else(|| non_empty("DOCKER_HOST"))
            .unwrap_or_else(|| default_socket(&non_empty));
        let tls_verify = options.tls_verify.unwrap_or_else(|| {
            non_empty("DOCKER_TLS_VERIFY").is_some_and(|v| v != "0" && v != "false")
        });
        let tls = (tls_verify || host.starts_with("https://")).then(|| {
            options
                .tls_cert_path
                .clone()
                .or_else(|| non_empty("DOCKER_CERT_PATH").map(PathBuf::from))
                .unwrap_or_else(|| {
                    PathBuf::from(non_empty("HOME").unwrap_or_else(|| "/root".to_owned()))
                        .join(".docker")
                })
        });
        Self { host, tls }
    }

    /// Whether the daemon runs on this machine (so bind mounts and container IPs refer to it).
    pub(crate) fn is_local(&self) -> bool {
        if self.host.starts_with("unix://") {
            return true;
        }
        let rest = self
            .host
            .split_once("://")
            .map_or(self.host.as_str(), |(_, r)| r);
        let host = rest.rsplit_once(':').map_or(rest, |(h, _)| h);
        matches!(host, "localhost" | "[::1]" | "::1") || host.starts_with("127.")
    }
}

fn default_socket(env: &dyn Fn(&str) -> Option<String>) -> String {
    const DOCKER: &str = "/var/run/docker.sock";
    if std::path::Path::new(DOCKER).exists() {
        return format!("unix://{DOCKER}");
    }
    let mut candidates = Vec::new();
    if let Some(runtime) = env("XDG_RUNTIME_DIR") {
        candidates.push(format!("{runtime}/podman/podman.sock"));
    }
    candidates.push("/run/podman/podman.sock".to_owned());
    candidates
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())
        .map_or_else(|| format!("unix://{DOCKER}"), |p| format!("unix://{p}"))
}

/// A negotiated connection plus the runtime that drives it.
pub(crate) struct DockerClient {
    pub(crate) docker: Docker,
    pub(crate) endpoint: Endpoint,
    /// `major.minor` of the API in use.
    pub(crate) api_version: String,
    /// `Version` of the engine (`20.10.24`, `4.9.3` for Podman).
    pub(crate) server_version: String,
    /// Removals still running in the background (see [`DockerClient::in_background`]).
    pending: std::sync::Mutex<Vec<tokio::task::JoinHandle<()>>>,
    runtime: tokio::runtime::Runtime,
}

impl std::fmt::Debug for DockerClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DockerClient")
            .field("endpoint", &self.endpoint)
            .field("api_version", &self.api_version)
            .finish_non_exhaustive()
    }
}

impl DockerClient {
    /// Connects and negotiates the API version (the engine may be older than the client).
    pub(crate) fn connect(options: &DockerOptions) -> Result<Self, String> {
        let endpoint = Endpoint::resolve(options, &|k| std::env::var(k).ok());
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("gantry-docker")
            .enable_all()
            .build()
            .map_err(|e| format!("starting the Docker client's runtime: {e}"))?;
        let hint = "is the daemon running? Start it (`sudo systemctl start docker`, or \
                    `dockerd &`), or point DOCKER_HOST (or `host` in [runners.docker]) at it; for \
                    Podman: `systemctl --user start podman.socket` and \
                    DOCKER_HOST=unix://$XDG_RUNTIME_DIR/podman/podman.sock";
        let docker = runtime.block_on(async { open(&endpoint) }).map_err(|e| {
            format!(
                "cannot connect to the Docker engine at {}: {e} ({hint})",
                endpoint.host
            )
        })?;
        let (docker, server_version) = runtime
            .block_on(async {
                let docker = docker.negotiate_version().await?;
                let version = docker.version().await?;
                Ok::<_, bollard::errors::Error>((docker, version.version.unwrap_or_default()))
            })
            .map_err(|e| {
                format!(
                    "cannot reach the Docker engine at {}: {e} ({hint})",
                    endpoint.host
                )
            })?;
        let v = docker.client_version();
        Ok(Self {
            api_version: format!("{}.{}", v.major_version, v.minor_version),
            server_version,
            docker,
            endpoint,
            pending: std::sync::Mutex::default(),
            runtime,
        })
    }

    /// Runs `future` in the background; [`wait_background`](Self::wait_background) (called at
    /// the end of a run, and on drop) waits for it. Used for removals, which need not delay the
    /// next job.
    pub(crate) fn in_background<F>(&self, future: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        let handle = self.runtime.spawn(future);
        let mut pending = self
            .pending
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        pending.retain(|h| !h.is_finished());
        pending.push(handle);
    }

    /// Waits for everything started with [`in_background`](Self::in_background).
    pub(crate) fn wait_background(&self) {
        let handles = std::mem::take(
            &mut *self
                .pending
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        );
        self.runtime.block_on(async {
            for handle in handles {
                let _ = handle.await;
            }
        });
    }

    /// Runs `future` to completion on the client's runtime (from any non-runtime thread).
    pub(crate) fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.runtime.block_on(future)
    }

    /// Starts `future` on the runtime without waiting for it.
    pub(crate) fn spawn<F>(&self, future: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        self.runtime.spawn(future);
    }
}

impl Drop for DockerClient {
    fn drop(&mut self) {
        self.wait_background();
    }
}

fn open(endpoint: &Endpoint) -> Result<Docker, bollard::errors::Error> {
    let host = endpoint.host.as_str();
    if let Some(path) = host.strip_prefix("unix://") {
        return Docker::connect_with_unix(path, REQUEST_TIMEOUT_SECS, API_DEFAULT_VERSION);
    }
    if let Some(certs) = &endpoint.tls {
        let address = host.replacen("tcp://", "https://", 1);
        return Docker::connect_with_ssl(
            &address,
            &certs.join("key.pem"),
            &certs.join("cert.pem"),
            &certs.join("ca.pem"),
            REQUEST_TIMEOUT_SECS,
            API_DEFAULT_VERSION,
        );
    }
    if host.starts_with("tcp://") || host.starts_with("http://") {
        return Docker::connect_with_http(host, REQUEST_TIMEOUT_SECS, API_DEFAULT_VERSION);
    }
    Err(bollard::errors::Error::UnsupportedURISchemeError {
        uri: format!("{host} (supported: unix://, tcp://, http://, https://)"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_endpoints() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                pairs
                    .iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| (*v).to_owned())
            }
        };
        let options = DockerOptions::default();
        let e = Endpoint::resolve(
            &options,
            &env(&[
                ("DOCKER_HOST", "tcp://127.0.0.1:2376"),
                ("DOCKER_TLS_VERIFY", "1"),
                ("DOCKER_CERT_PATH", "/certs"),
            ]),
        );
        assert_eq!(e.host, "tcp://127.0.0.1:2376");
        assert_eq!(e.tls, Some(PathBuf::from("/certs")));
        assert!(e.is_local());
        let e = Endpoint::resolve(&options, &env(&[("DOCKER_HOST", "tcp://docker:2375")]));
        assert_eq!(e.tls, None);
        assert!(!e.is_local());
        let configured = DockerOptions {
            host: Some("unix:///run/podman/podman.sock".into()),
            ..DockerOptions::default()
        };
        let e = Endpoint::resolve(&configured, &env(&[("DOCKER_HOST", "tcp://x:1")]));
        assert_eq!(e.host, "unix:///run/podman/podman.sock");
        assert!(e.is_local());
    }
}
