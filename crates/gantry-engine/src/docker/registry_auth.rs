//! `RegistryAuth`: credentials for pulling an image, from the first source that has an entry
//! for its registry — the job's `DOCKER_AUTH_CONFIG` variable (a docker `config.json`), then the
//! user's docker `config.json` (`$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`).
//! Entries may hold `auth` (base64 `user:password`), `username`/`password`, `identitytoken`, or
//! name a credential helper (`credHelpers`, `credsStore`: `docker-credential-<name> get`).

use std::io::Write as _;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use bollard::auth::DockerCredentials;
use serde_json::Value;

use super::image_ref::DOCKER_HUB;

/// Credentials and where they came from (for the log line).
#[derive(Clone, Debug)]
pub(crate) struct RegistryAuth {
    pub(crate) credentials: DockerCredentials,
    pub(crate) source: String,
}

impl RegistryAuth {
    /// Credentials for `registry`, or `None` (anonymous pull). `docker_auth_config` is the job's
    /// `DOCKER_AUTH_CONFIG` value. Unreadable sources are skipped with a warning in `warnings`.
    pub(crate) fn find(
        registry: &str,
        docker_auth_config: Option<&str>,
        warnings: &mut Vec<String>,
    ) -> Option<Self> {
        if let Some(text) = docker_auth_config.filter(|t| !t.trim().is_empty()) {
            match serde_json::from_str::<Value>(text) {
                Ok(config) => {
                    if let Some(c) = lookup(&config, registry, warnings) {
                        return Some(Self {
                            credentials: c,
                            source: "DOCKER_AUTH_CONFIG".to_owned(),
                        });
                    }
                }
                Err(e) => warnings.push(format!("DOCKER_AUTH_CONFIG is not valid JSON: {e}")),
            }
        }
        let path = docker_config_path()?;
        let text = std::fs::read_to_string(&path).ok()?;
        match serde_json::from_str::<Value>(&text) {
            Ok(config) => lookup(&config, registry, warnings).map(|c| Self {
                credentials: c,
                source: path.display().to_string(),
            }),
            Err(e) => {
                warnings.push(format!("{} is not valid JSON: {e}", path.display()));
                None
            }
        }
    }
}

fn docker_config_path() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("DOCKER_CONFIG").filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(dir).join("config.json"));
    }
    std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(|h| PathBuf::from(h).join(".docker").join("config.json"))
}

/// The host part of a credentials key (`https://index.docker.io/v1/` ⇒ `index.docker.io`).
fn key_host(key: &str) -> String {
    let rest = key
        .strip_prefix("https://")
        .or_else(|| key.strip_prefix("http://"))
        .unwrap_or(key);
    rest.split('/').next().unwrap_or(rest).to_ascii_lowercase()
}

fn same_registry(key: &str, registry: &str) -> bool {
    let host = key_host(key);
    let registry = registry.to_ascii_lowercase();
    let hub = |h: &str| {
        matches!(
            h,
            "docker.io" | "index.docker.io" | "registry-1.docker.io" | "registry.hub.docker.com"
        )
    };
    host == registry || (hub(&host) && hub(&registry))
}

fn server_address(registry: &str) -> String {
    if registry == DOCKER_HUB {
        "https://index.docker.io/v1/".to_owned()
    } else {
        registry.to_owned()
    }
}

fn lookup(config: &Value, registry: &str, warnings: &mut Vec<String>) -> Option<DockerCredentials> {
    if let Some(helpers) = config.get("credHelpers").and_then(Value::as_object) {
        for (key, helper) in helpers {
            if same_registry(key, registry)
                && let Some(helper) = helper.as_str()
            {
                return from_helper(helper, key, registry, warnings);
            }
        }
    }
    if let Some(auths) = config.get("auths").and_then(Value::as_object) {
        for (key, entry) in auths {
            if !same_registry(key, registry) {
                continue;
            }
            let text = |k: &str| {
                entry
                    .get(k)
                    .and_then(Value::as_str)
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
            };
            let mut credentials = DockerCredentials {
                serveraddress: Some(server_address(registry)),
                username: text("username"),
                password: text("password"),
                identitytoken: text("identitytoken"),
                ..DockerCredentials::default()
            };
            if let Some(auth) = text("auth") {
                let pair = decode_base64(&auth)
                    .and_then(|b| String::from_utf8(b).ok())
                    .and_then(|s| s.split_once(':').map(|(u, p)| (u.to_owned(), p.to_owned())));
                let Some((user, password)) = pair else {
                    warnings.push(format!(
                        "the credentials for {key} have an invalid `auth` (expected base64 of user:password)"
                    ));
                    continue;
                };
                credentials.username = Some(user);
                credentials.password = Some(password);
            }
            if credentials.username.is_some() || credentials.identitytoken.is_some() {
                return Some(credentials);
            }
        }
    }
    if let Some(store) = config.get("credsStore").and_then(Value::as_str) {
        return from_helper(store, &server_address(registry), registry, warnings);
    }
    None
}

/// Runs `docker-credential-<helper> get` with the server on stdin.
fn from_helper(
    helper: &str,
    server: &str,
    registry: &str,
    warnings: &mut Vec<String>,
) -> Option<DockerCredentials> {
    let program = format!("docker-credential-{helper}");
    let child = Command::new(&program)
        .arg("get")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(e) => {
            warnings.push(format!("cannot run the credential helper {program}: {e}"));
            return None;
        }
    };
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(server.as_bytes());
    }
    let out = child.wait_with_output().ok()?;
    if !out.status.success() {
        // "credentials not found" is an anonymous pull, not a problem.
        return None;
    }
    let value: Value = serde_json::from_slice(&out.stdout).ok()?;
    let user = value.get("Username").and_then(Value::as_str)?.to_owned();
    let secret = value.get("Secret").and_then(Value::as_str)?.to_owned();
    let mut credentials = DockerCredentials {
        serveraddress: Some(server_address(registry)),
        ..DockerCredentials::default()
    };
    if user == "<token>" {
        credentials.identitytoken = Some(secret);
    } else {
        credentials.username = Some(user);
        credentials.password = Some(secret);
    }
    Some(credentials)
}

/// Standard base64 (padding optional).
fn decode_base64(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let mut buffer = 0u32;
    let mut bits = 0;
    for c in text.trim().bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            b'=' => break,
            _ => return None,
        };
        buffer = (buffer << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push(u8::try_from((buffer >> bits) & 0xFF).unwrap_or(0));
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_auth_entries() {
        let config = r#"{"auths":{"127.0.0.1:5001":{"auth":"Y2k6czNjcmV0"},
            "https://index.docker.io/v1/":{"username":"u","password":"p"}}}"#;
        let mut w = Vec::new();
        let found = RegistryAuth::find("127.0.0.1:5001", Some(config), &mut w).unwrap();
        assert_eq!(found.credentials.username.as_deref(), Some("ci"));
        assert_eq!(found.credentials.password.as_deref(), Some("s3cret"));
        assert_eq!(found.source, "DOCKER_AUTH_CONFIG");
        let hub = RegistryAuth::find("docker.io", Some(config), &mut w).unwrap();
        assert_eq!(hub.credentials.username.as_deref(), Some("u"));
        assert!(w.is_empty(), "{w:?}");
        let mut w = Vec::new();
        assert!(lookup(&serde_json::from_str("{}").unwrap(), "x.io", &mut w).is_none());
    }

    #[test]
    fn base64() {
        assert_eq!(decode_base64("Y2k6czNjcmV0").unwrap(), b"ci:s3cret");
        assert_eq!(decode_base64("YQ==").unwrap(), b"a");
        assert!(decode_base64("@@").is_none());
    }
}
