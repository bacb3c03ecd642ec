//! Registry credentials: explicit ones, the CI job's (`CI_REGISTRY`, `CI_REGISTRY_USER`,
//! `CI_REGISTRY_PASSWORD`), and Docker's `config.json` format (`auths`, `credHelpers`,
//! `credsStore`), read from `--authfile`, `REGISTRY_AUTH_FILE`, `DOCKER_AUTH_CONFIG`,
//! `$DOCKER_CONFIG/config.json` or `~/.docker/config.json`.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use fs_err as fs;
use serde_json::{Value, json};

use super::base64;
use crate::error::{ImageError, Result};
use crate::reference::DOCKER_HUB;

/// Docker Hub's key in `config.json`.
pub const DOCKER_HUB_KEY: &str = "https://index.docker.io/v1/";

/// What we can authenticate with.
#[derive(Clone, PartialEq, Eq)]
pub enum Credential {
    /// User name and password (or token used as a password).
    UserPassword {
        /// User.
        username: String,
        /// Password.
        password: String,
    },
    /// An OAuth refresh token (`identitytoken`), exchanged at the token realm.
    IdentityToken(String),
    /// A bearer token to send as is (`registrytoken`).
    RegistryToken(String),
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::UserPassword { username, .. } => write!(f, "UserPassword({username}, ***)"),
            Self::IdentityToken(_) => f.write_str("IdentityToken(***)"),
            Self::RegistryToken(_) => f.write_str("RegistryToken(***)"),
        }
    }
}

impl Credential {
    /// `Authorization: Basic ...` value for user/password credentials.
    pub fn basic_header(&self) -> Option<String> {
        match self {
            Self::UserPassword { username, password } => Some(format!(
                "Basic {}",
                base64::encode(format!("{username}:{password}").as_bytes())
            )),
            _ => None,
        }
    }

    /// The user name, when there is one.
    pub fn username(&self) -> Option<&str> {
        match self {
            Self::UserPassword { username, .. } => Some(username),
            _ => None,
        }
    }
}

/// Normalises a `config.json` key or registry name to `host[:port]` (scheme and path
/// stripped; Docker Hub's aliases become `docker.io`).
pub fn normalize_registry_key(key: &str) -> String {
    let no_scheme = key
        .strip_prefix("https://")
        .or_else(|| key.strip_prefix("http://"))
        .unwrap_or(key);
    let host = no_scheme
        .split('/')
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    match host.as_str() {
        "index.docker.io" | "registry-1.docker.io" | "registry.hub.docker.com" => {
            DOCKER_HUB.to_owned()
        }
        _ => host,
    }
}

/// Where credentials come from, in lookup order.
#[derive(Debug, Clone, Default)]
pub struct CredentialStore {
    explicit: BTreeMap<String, Credential>,
    /// For any registry without explicit credentials (`--creds`).
    default: Option<Credential>,
    /// `config.json`-format documents, first match wins.
    configs: Vec<(String, Value)>,
    /// The file `login` writes to.
    login_file: Option<PathBuf>,
}

impl CredentialStore {
    /// No credentials at all (anonymous).
    pub fn empty() -> Self {
        Self::default()
    }

    /// The usual sources: `authfile` (when given) else `REGISTRY_AUTH_FILE`; then
    /// `DOCKER_AUTH_CONFIG` (JSON text), the Docker config file; and the CI job's
    /// `CI_REGISTRY_USER`/`CI_REGISTRY_PASSWORD` for `CI_REGISTRY`.
    pub fn from_environment(authfile: Option<&Path>) -> Result<Self> {
        let mut store = Self::default();
        let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        if let (Some(reg), Some(user), Some(password)) = (
            env("CI_REGISTRY"),
            env("CI_REGISTRY_USER"),
            env("CI_REGISTRY_PASSWORD"),
        ) {
            store.set(
                &reg,
                Credential::UserPassword {
                    username: user,
                    password,
                },
            );
        }
        let authfile = authfile
            .map(Path::to_path_buf)
            .or_else(|| env("REGISTRY_AUTH_FILE").map(PathBuf::from));
        if let Some(path) = &authfile {
            if path.is_file() {
                store.add_config_file(path)?;
            }
            store.login_file = Some(path.clone());
        }
        if let Some(text) = env("DOCKER_AUTH_CONFIG") {
            let v: Value = serde_json::from_str(&text)
                .map_err(|e| ImageError::json("DOCKER_AUTH_CONFIG", e))?;
            store.configs.push(("DOCKER_AUTH_CONFIG".into(), v));
        }
        let docker = docker_config_path();
        if let Some(path) = &docker
            && path.is_file()
        {
            store.add_config_file(path)?;
        }
        if store.login_file.is_none() {
            store.login_file = docker;
        }
        Ok(store)
    }

    /// Reads a `config.json`-format file.
    pub fn add_config_file(&mut self, path: &Path) -> Result<()> {
        let text = fs::read_to_string(path)?;
        let v: Value = serde_json::from_str(&text)
            .map_err(|e| ImageError::json(path.display().to_string(), e))?;
        self.configs.push((path.display().to_string(), v));
        Ok(())
    }

    /// Sets explicit credentials for `registry` (they win over every file).
    pub fn set(&mut self, registry: &str, credential: Credential) {
        self.explicit
            .insert(normalize_registry_key(registry), credential);
    }

    /// Credentials for every registry that has no explicit ones (they win over files).
    pub fn set_default(&mut self, credential: Credential) {
        self.default = Some(credential);
    }

    /// The file `login` writes.
    pub fn login_file(&self) -> Option<&Path> {
        self.login_file.as_deref()
    }

    /// Credentials for `registry` (`host[:port]`), or `None` for anonymous access.
    pub fn lookup(&self, registry: &str) -> Result<Option<Credential>> {
        let key = normalize_registry_key(registry);
        if let Some(c) = self.explicit.get(&key).or(self.default.as_ref()) {
            return Ok(Some(c.clone()));
        }
        for (source, doc) in &self.configs {
            if let Some(helper) = find_key(doc.get("credHelpers"), &key).and_then(Value::as_str) {
                return run_helper(helper, &key).map(Some);
            }
            if let Some(entry) = find_key(doc.get("auths"), &key)
                && let Some(c) = parse_entry(entry, &key, source)?
            {
                return Ok(Some(c));
            }
            if let Some(store) = doc.get("credsStore").and_then(Value::as_str)
                && let Ok(c) = run_helper(store, &key)
            {
                return Ok(Some(c));
            }
        }
        Ok(None)
    }
}

fn find_key<'a>(map: Option<&'a Value>, key: &str) -> Option<&'a Value> {
    map?.as_object()?
        .iter()
        .find(|(k, _)| normalize_registry_key(k) == key)
        .map(|(_, v)| v)
}

fn parse_entry(entry: &Value, registry: &str, source: &str) -> Result<Option<Credential>> {
    let s = |k: &str| {
        entry
            .get(k)
            .and_then(Value::as_str)
            .filter(|v| !v.is_empty())
    };
    if let Some(t) = s("registrytoken") {
        return Ok(Some(Credential::RegistryToken(t.to_owned())));
    }
    if let Some(t) = s("identitytoken") {
        return Ok(Some(Credential::IdentityToken(t.to_owned())));
    }
    if let Some(auth) = s("auth") {
        let bad = || ImageError::Credentials {
            registry: registry.to_owned(),
            detail: format!("the `auth` field in {source} is not base64 of user:password"),
        };
        let raw = base64::decode(auth).ok_or_else(bad)?;
        let text = String::from_utf8(raw).map_err(|_| bad())?;
        let (u, p) = text.split_once(':').ok_or_else(bad)?;
        return Ok(Some(Credential::UserPassword {
            username: u.to_owned(),
            password: p.to_owned(),
        }));
    }
    if let (Some(u), Some(p)) = (s("username"), s("password")) {
        return Ok(Some(Credential::UserPassword {
            username: u.to_owned(),
            password: p.to_owned(),
        }));
    }
    Ok(None)
}

/// Runs `docker-credential-<helper> get` with the server URL on stdin.
fn run_helper(helper: &str, registry: &str) -> Result<Credential> {
    let program = format!("docker-credential-{helper}");
    let err = |detail: String| ImageError::Credentials {
        registry: registry.to_owned(),
        detail,
    };
    let server = if registry == DOCKER_HUB {
        DOCKER_HUB_KEY
    } else {
        registry
    };
    let mut child = Command::new(&program)
        .arg("get")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| err(format!("cannot run credential helper `{program}`: {e}")))?;
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(server.as_bytes());
    }
    let out = child
        .wait_with_output()
        .map_err(|e| err(format!("credential helper `{program}`: {e}")))?;
    if !out.status.success() {
        return Err(err(format!(
            "credential helper `{program}` failed: {}",
            String::from_utf8_lossy(&out.stdout).trim()
        )));
    }
    let v: Value = serde_json::from_slice(&out.stdout).map_err(|e| {
        err(format!(
            "credential helper `{program}` printed invalid JSON: {e}"
        ))
    })?;
    let user = v
        .get("Username")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let secret = v.get("Secret").and_then(Value::as_str).unwrap_or_default();
    if user == "<token>" {
        Ok(Credential::IdentityToken(secret.to_owned()))
    } else {
        Ok(Credential::UserPassword {
            username: user.to_owned(),
            password: secret.to_owned(),
        })
    }
}

/// `$DOCKER_CONFIG/config.json` or `~/.docker/config.json`.
pub fn docker_config_path() -> Option<PathBuf> {
    if let Some(d) = std::env::var_os("DOCKER_CONFIG").filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(d).join("config.json"));
    }
    std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".docker").join("config.json"))
}

/// Stores `username:password` for `registry` in a `config.json`-format file (other content
/// kept; mode 0600).
pub fn save_login(path: &Path, registry: &str, username: &str, password: &str) -> Result<()> {
    let mut doc: Value = if path.is_file() {
        let text = fs::read_to_string(path)?;
        serde_json::from_str(&text).map_err(|e| ImageError::json(path.display().to_string(), e))?
    } else {
        json!({})
    };
    let key = registry_file_key(registry);
    let auths = doc
        .as_object_mut()
        .ok_or_else(|| ImageError::Usage(format!("{} is not a JSON object", path.display())))?
        .entry("auths")
        .or_insert_with(|| json!({}));
    if let Some(obj) = auths.as_object_mut() {
        obj.retain(|k, _| normalize_registry_key(k) != normalize_registry_key(&key));
        obj.insert(
            key,
            json!({ "auth": base64::encode(format!("{username}:{password}").as_bytes()) }),
        );
    }
    write_private(path, &doc)
}

/// Removes `registry` from the file's `auths`; `true` when something was removed.
pub fn remove_login(path: &Path, registry: &str) -> Result<bool> {
    if !path.is_file() {
        return Ok(false);
    }
    let text = fs::read_to_string(path)?;
    let mut doc: Value =
        serde_json::from_str(&text).map_err(|e| ImageError::json(path.display().to_string(), e))?;
    let key = normalize_registry_key(registry);
    let mut removed = false;
    if let Some(obj) = doc.get_mut("auths").and_then(Value::as_object_mut) {
        let before = obj.len();
        obj.retain(|k, _| normalize_registry_key(k) != key);
        removed = obj.len() != before;
    }
    if removed {
        write_private(path, &doc)?;
    }
    Ok(removed)
}

fn registry_file_key(registry: &str) -> String {
    let n = normalize_registry_key(registry);
    if n == DOCKER_HUB {
        DOCKER_HUB_KEY.to_owned()
    } else {
        n
    }
}

fn write_private(path: &Path, doc: &Value) -> Result<()> {
    use fs_err::os::unix::fs::OpenOptionsExt;
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir)?;
    }
    let tmp = crate::oci_layout::temp_name(path.parent().unwrap_or(Path::new(".")), "auth");
    let mut f = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)?;
    let mut text = serde_json::to_string_pretty(doc).unwrap_or_default();
    text.push('\n');
    f.write_all(text.as_bytes())?;
    drop(f);
    fs::rename(&tmp, path)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    #[test]
    fn normalises_keys() {
        assert_eq!(
            normalize_registry_key("https://index.docker.io/v1/"),
            "docker.io"
        );
        assert_eq!(
            normalize_registry_key("http://127.0.0.1:5001/v2/"),
            "127.0.0.1:5001"
        );
        assert_eq!(
            normalize_registry_key("Registry.Example.com"),
            "registry.example.com"
        );
    }

    #[test]
    fn reads_auth_entries_and_saves_logins() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.json");
        fs::write(&path, r#"{"auths":{"https://127.0.0.1:5001":{"auth":"Y2k6czNjcmV0"},"h2":{"username":"u","password":"p"},"h3":{"identitytoken":"t"}},"other":1}"#).unwrap();
        let mut store = CredentialStore::empty();
        store.add_config_file(&path).unwrap();
        assert_eq!(
            store.lookup("127.0.0.1:5001").unwrap(),
            Some(Credential::UserPassword {
                username: "ci".into(),
                password: "s3cret".into()
            })
        );
        assert_eq!(store.lookup("h2").unwrap().unwrap().username(), Some("u"));
        assert_eq!(
            store.lookup("h3").unwrap(),
            Some(Credential::IdentityToken("t".into()))
        );
        assert_eq!(store.lookup("nowhere").unwrap(), None);

        save_login(&path, "127.0.0.1:5001", "me", "pw").unwrap();
        save_login(&path, "docker.io", "hub", "pw").unwrap();
        let text = fs::read_to_string(&path).unwrap();
        assert!(text.contains("\"other\": 1"));
        assert!(text.contains(DOCKER_HUB_KEY));
        let mut store = CredentialStore::empty();
        store.add_config_file(&path).unwrap();
        assert_eq!(
            store.lookup("127.0.0.1:5001").unwrap().unwrap().username(),
            Some("me")
        );
        assert!(remove_login(&path, "127.0.0.1:5001").unwrap());
        assert!(!remove_login(&path, "127.0.0.1:5001").unwrap());
        assert_eq!(
            fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }

    #[test]
    fn explicit_wins() {
        let mut store = CredentialStore::empty();
        store.set(
            "https://reg.example.com/",
            Credential::RegistryToken("x".into()),
        );
        assert_eq!(
            store.lookup("reg.example.com").unwrap(),
            Some(Credential::RegistryToken("x".into()))
        );
    }
}
