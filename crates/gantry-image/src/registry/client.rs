//! The distribution-API client: manifests, blobs (HEAD, GET, monolithic and chunked uploads
//! with resume, cross-repository mounts), tags; anonymous, Basic and Bearer-token auth; plain
//! HTTP on loopback as Docker allows it.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::Read;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ureq::http::{Method, Request, Response};
use ureq::tls::{Certificate, TlsConfig};
use ureq::{Agent, Body};

use super::challenge::Challenge;
use super::credentials::{Credential, CredentialStore};
use super::tls;
use crate::descriptor::Descriptor;
use crate::digest::Digest;
use crate::error::{ImageError, Result};
use crate::media_type;
use crate::reference::{DOCKER_HUB, DOCKER_HUB_API, Reference, is_loopback_host};

/// Uploads above this size go in chunks (`PATCH`), each retried on its own.
pub const DEFAULT_CHUNK_SIZE: usize = 16 * 1024 * 1024;

/// How the client finds credentials, CAs and insecure registries.
#[derive(Debug, Clone)]
pub struct RegistryOptions {
    /// Credentials by registry.
    pub credentials: CredentialStore,
    /// Extra CA files (PEM) trusted for every registry.
    pub ca_files: Vec<PathBuf>,
    /// Registries (`host[:port]`) that may be reached over plain HTTP or with unverified TLS.
    /// Loopback registries may use plain HTTP without being listed.
    pub insecure: Vec<String>,
    /// Chunk size for uploads.
    pub chunk_size: usize,
    /// Attempts for idempotent requests and upload chunks.
    pub attempts: u32,
}

impl Default for RegistryOptions {
    fn default() -> Self {
        Self {
            credentials: CredentialStore::empty(),
            ca_files: Vec::new(),
            insecure: Vec::new(),
            chunk_size: DEFAULT_CHUNK_SIZE,
            attempts: 3,
        }
    }
}

/// A manifest or index exactly as the registry (or a layout) stores it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawManifest {
    /// The raw bytes (never re-serialised: the digest depends on them).
    pub bytes: Vec<u8>,
    /// Its media type (from the body, or the `Content-Type`).
    pub media_type: String,
    /// sha256 of `bytes`.
    pub digest: Digest,
}

impl RawManifest {
    /// Wraps bytes, taking the media type from the body's `mediaType` when present.
    pub fn new(bytes: Vec<u8>, content_type: Option<&str>) -> Self {
        let from_body = serde_json::from_slice::<serde_json::Value>(&bytes)
            .ok()
            .and_then(|v| {
                v.get("mediaType")
                    .and_then(|m| m.as_str())
                    .map(str::to_owned)
            });
        let media_type = from_body
            .or_else(|| content_type.map(|c| c.split(';').next().unwrap_or(c).trim().to_owned()))
            .unwrap_or_else(|| media_type::OCI_MANIFEST.to_owned());
        let digest = Digest::sha256(&bytes);
        Self {
            bytes,
            media_type,
            digest,
        }
    }

    /// A descriptor pointing at this manifest.
    pub fn descriptor(&self) -> Descriptor {
        Descriptor {
            media_type: self.media_type.clone(),
            digest: self.digest.clone(),
            size: self.bytes.len() as u64,
            platform: None,
            annotations: None,
            artifact_type: None,
        }
    }
}

/// What happened to a blob on push.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlobPush {
    /// Already in the repository (HEAD hit): nothing sent.
    Existed,
    /// Mounted from another repository of the same registry: nothing sent.
    Mounted,
    /// Uploaded.
    Uploaded,
}

#[derive(Debug, Default)]
struct AuthState {
    challenge: Option<Challenge>,
    tokens: HashMap<String, (String, Instant)>,
}

#[derive(Debug)]
struct Host {
    /// `host[:port]` as written in references (`docker.io` for Docker Hub).
    registry: String,
    /// `https://api-host` or `http://api-host`.
    base: String,
    agent: Agent,
    credential: Option<Credential>,
    auth: Mutex<AuthState>,
}

/// A client for any number of registries (connections and tokens are cached per registry).
#[derive(Debug)]
pub struct RegistryClient {
    options: RegistryOptions,
    roots: Vec<Certificate<'static>>,
    hosts: Mutex<HashMap<String, Arc<Host>>>,
}

/// One request, replayable (the body is in memory).
struct Call<'a> {
    method: Method,
    url: String,
    headers: Vec<(&'static str, String)>,
    body: &'a [u8],
    /// Retry on connection errors and 5xx/429.
    retry: bool,
}

impl<'a> Call<'a> {
    fn new(method: Method, url: String) -> Self {
        Self {
            method,
            url,
            headers: Vec::new(),
            body: &[],
            retry: true,
        }
    }

    fn header(mut self, k: &'static str, v: impl Into<String>) -> Self {
        self.headers.push((k, v.into()));
        self
    }

    fn body(mut self, b: &'a [u8]) -> Self {
        self.body = b;
        self
    }

    fn no_retry(mut self) -> Self {
        self.retry = false;
        self
    }
}

fn pull_scope(repo: &str) -> String {
    format!("repository:{repo}:pull")
}

fn push_scope(repo: &str) -> String {
    format!("repository:{repo}:pull,push")
}

/// Percent-encodes a query value.
fn enc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b':' | b'/' | b',')
        {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

fn header<'r>(resp: &'r Response<Body>, name: &str) -> Option<&'r str> {
    resp.headers().get(name).and_then(|v| v.to_str().ok())
}

fn read_small(resp: &mut Response<Body>) -> Vec<u8> {
    resp.body_mut()
        .with_config()
        .limit(64 * 1024 * 1024)
        .read_to_vec()
        .unwrap_or_default()
}

/// ` (CODE: message; CODE2: ...)` from a distribution error body, or the body's first line.
fn error_detail(body: &[u8]) -> String {
    let parsed = serde_json::from_slice::<serde_json::Value>(body).ok();
    let errors = parsed
        .as_ref()
        .and_then(|v| v.get("errors"))
        .and_then(|e| e.as_array())
        .map(|errs| {
            errs.iter()
                .map(|e| {
                    let code = e.get("code").and_then(|c| c.as_str()).unwrap_or("?");
                    let msg = e.get("message").and_then(|c| c.as_str()).unwrap_or("");
                    format!("{code}: {msg}")
                })
                .collect::<Vec<_>>()
                .join("; ")
        });
    match errors {
        Some(e) if !e.is_empty() => format!(" ({e})"),
        _ => {
            let text = String::from_utf8_lossy(body);
            let line = text.lines().next().unwrap_or("").trim();
            if line.is_empty() {
                String::new()
            } else {
                format!(" ({})", line.chars().take(200).collect::<String>())
            }
        }
    }
}

fn error_codes(body: &[u8]) -> Vec<String> {
    serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v.get("errors").and_then(|e| e.as_array()).cloned())
        .unwrap_or_default()
        .iter()
        .filter_map(|e| e.get("code").and_then(|c| c.as_str()).map(str::to_owned))
        .collect()
}

impl RegistryClient {
    /// A client; reads the CA files now (a bad `--ca-file` fails here).
    pub fn new(mut options: RegistryOptions) -> Result<Self> {
        for f in tls::ca_files_from_env() {
            if !options.ca_files.contains(&f) {
                options.ca_files.push(f);
            }
        }
        if let Ok(list) = std::env::var("GANTRY_INSECURE_REGISTRIES") {
            options.insecure.extend(
                list.split([',', ' '])
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned),
            );
        }
        let roots = tls::base_roots(&options.ca_files)?;
        Ok(Self {
            options,
            roots,
            hosts: Mutex::new(HashMap::new()),
        })
    }

    /// The credentials in use.
    pub fn credentials(&self) -> &CredentialStore {
        &self.options.credentials
    }

    fn agent(&self, registry: &str, insecure: bool) -> Result<Agent> {
        let tls = TlsConfig::builder()
            .root_certs(tls::roots_for(registry, &self.roots)?)
            .disable_verification(insecure)
            .build();
        let config = Agent::config_builder()
            .http_status_as_error(false)
            .tls_config(tls)
            .user_agent(concat!("gantry/", env!("CARGO_PKG_VERSION")))
            .timeout_connect(Some(Duration::from_secs(15)))
            .timeout_recv_response(Some(Duration::from_mins(5)))
            .max_redirects(5)
            .build();
        Ok(Agent::new_with_config(config))
    }

    fn is_insecure(&self, registry: &str) -> bool {
        self.options.insecure.iter().any(|r| r == registry)
    }

    /// The connection state for `registry`, probing `GET /v2/` the first time (scheme,
    /// authentication challenge).
    fn host(&self, registry: &str) -> Result<Arc<Host>> {
        if let Some(h) = self
            .hosts
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(registry)
        {
            return Ok(h.clone());
        }
        let api = if registry == DOCKER_HUB {
            DOCKER_HUB_API
        } else {
            registry
        };
        let insecure = self.is_insecure(registry);
        let agent = self.agent(registry, insecure)?;
        let may_use_http = insecure || is_loopback_host(registry);
        let https = format!("https://{api}");
        let (base, resp) = match agent.get(format!("{https}/v2/")).call() {
            Ok(r) => (https, r),
            // A certificate problem means the server speaks TLS: never downgrade then.
            Err(e) if may_use_http && !is_certificate_error(&e) => {
                let http = format!("http://{api}");
                match agent.get(format!("{http}/v2/")).call() {
                    Ok(r) => (http, r),
                    Err(_) => return Err(self.transport_error(registry, &e)),
                }
            }
            Err(e) => return Err(self.transport_error(registry, &e)),
        };
        let mut auth = AuthState::default();
        if resp.status().as_u16() == 401 {
            auth.challenge = header(&resp, "www-authenticate").and_then(Challenge::parse);
        }
        let host = Arc::new(Host {
            registry: registry.to_owned(),
            base,
            agent,
            credential: self.options.credentials.lookup(registry)?,
            auth: Mutex::new(auth),
        });
        self.hosts
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(registry.to_owned(), host.clone());
        Ok(host)
    }

    fn transport_error(&self, registry: &str, e: &ureq::Error) -> ImageError {
        let detail = e.to_string();
        let tlsish =
            matches!(e, ureq::Error::Tls(_) | ureq::Error::Rustls(_)) || is_certificate_error(e);
        if tlsish {
            let hint = if is_loopback_host(registry) || self.is_insecure(registry) {
                String::new()
            } else {
                " (a plain-HTTP registry must be listed in GANTRY_INSECURE_REGISTRIES / --insecure-registry)".to_owned()
            };
            ImageError::Tls {
                registry: registry.to_owned(),
                detail: format!("{detail}{hint}"),
            }
        } else {
            ImageError::Connection {
                registry: registry.to_owned(),
                detail,
            }
        }
    }

    /// The `Authorization` value for `scopes`, fetching a token when needed.
    fn authorization(host: &Host, scopes: &[String], extra: &[String]) -> Result<Option<String>> {
        let challenge = host
            .auth
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .challenge
            .clone();
        match challenge {
            None => Ok(None),
            Some(Challenge::Basic { .. }) => {
                Ok(host.credential.as_ref().and_then(Credential::basic_header))
            }
            Some(Challenge::Bearer { realm, service, .. }) => {
                if let Some(Credential::RegistryToken(t)) = &host.credential {
                    return Ok(Some(format!("Bearer {t}")));
                }
                let mut all: Vec<String> = scopes.iter().chain(extra).cloned().collect();
                all.sort();
                all.dedup();
                let key = all.join(" ");
                {
                    let state = host
                        .auth
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner);
                    if let Some((token, until)) = state.tokens.get(&key)
                        && Instant::now() < *until
                    {
                        return Ok(Some(format!("Bearer {token}")));
                    }
                }
                let (token, ttl) = Self::fetch_token(host, &realm, service.as_deref(), &all)?;
                let until = Instant::now() + Duration::from_secs(ttl.saturating_sub(5).max(1));
                host.auth
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .tokens
                    .insert(key, (token.clone(), until));
                Ok(Some(format!("Bearer {token}")))
            }
        }
    }

    /// Docker token auth: `GET realm?service=&scope=...` (Basic credentials when we have
    /// them), or the `OAuth2` refresh-token grant for identity tokens. Returns token and TTL.
    fn fetch_token(
        host: &Host,
        realm: &str,
        service: Option<&str>,
        scopes: &[String],
    ) -> Result<(String, u64)> {
        let mut query = Vec::new();
        if let Some(s) = service {
            query.push(format!("service={}", enc(s)));
        }
        for s in scopes {
            query.push(format!("scope={}", enc(s)));
        }
        let sep = if realm.contains('?') { '&' } else { '?' };
        let fail = |detail: String| ImageError::Connection {
            registry: host.registry.clone(),
            detail: format!("token endpoint {realm}: {detail}"),
        };
        let result = match &host.credential {
            Some(Credential::IdentityToken(refresh)) => {
                let mut form = vec![
                    ("grant_type", "refresh_token".to_owned()),
                    ("refresh_token", refresh.clone()),
                    ("client_id", "gantry".to_owned()),
                ];
                if let Some(s) = service {
                    form.push(("service", s.to_owned()));
                }
                form.push(("scope", scopes.join(" ")));
                host.agent
                    .post(realm)
                    .send_form(form.iter().map(|(k, v)| (*k, v.as_str())))
            }
            cred => {
                if let Some(user) = cred.as_ref().and_then(Credential::username) {
                    query.push(format!("account={}", enc(user)));
                }
                let url = if query.is_empty() {
                    realm.to_owned()
                } else {
                    format!("{realm}{sep}{}", query.join("&"))
                };
                let mut req = host.agent.get(url);
                if let Some(basic) = cred.as_ref().and_then(Credential::basic_header) {
                    req = req.header("Authorization", basic);
                }
                req.call()
            }
        };
        let mut resp = result.map_err(|e| fail(e.to_string()))?;
        let status = resp.status().as_u16();
        let body = read_small(&mut resp);
        if status == 401 || status == 403 {
            return Err(ImageError::Unauthorized {
                registry: host.registry.clone(),
                reference: scopes.join(" "),
                action: "a token".into(),
                detail: if host.credential.is_some() {
                    format!(
                        ": the token server rejected the credentials{}",
                        error_detail(&body)
                    )
                } else {
                    ": no credentials (run `gantry image login`, or set CI_REGISTRY_USER / CI_REGISTRY_PASSWORD)".into()
                },
            });
        }
        if status != 200 {
            return Err(fail(format!("HTTP {status}{}", error_detail(&body))));
        }
        let v: serde_json::Value =
            serde_json::from_slice(&body).map_err(|e| fail(format!("invalid JSON: {e}")))?;
        let token = v
            .get("token")
            .or_else(|| v.get("access_token"))
            .and_then(|t| t.as_str())
            .filter(|t| !t.is_empty())
            .ok_or_else(|| fail("response has no token".into()))?;
        let ttl = v
            .get("expires_in")
            .and_then(serde_json::Value::as_u64)
            .unwrap_or(60);
        Ok((token.to_owned(), ttl))
    }

    fn send_once(
        host: &Host,
        call: &Call<'_>,
        auth: Option<&str>,
    ) -> std::result::Result<Response<Body>, ureq::Error> {
        let mut b = Request::builder()
            .method(call.method.clone())
            .uri(&call.url);
        for (k, v) in &call.headers {
            b = b.header(*k, v);
        }
        if let Some(a) = auth {
            b = b.header("Authorization", a);
        }
        let req = b.body(call.body).map_err(ureq::Error::Http)?;
        host.agent.run(req)
    }

    /// Sends `call` with authentication for `scopes`: on 401 reads the challenge, fetches a
    /// token for the scopes it names plus ours, and retries once. Retries transient failures
    /// when the call allows it.
    fn execute(&self, host: &Host, scopes: &[String], call: &Call<'_>) -> Result<Response<Body>> {
        let attempts = if call.retry {
            self.options.attempts.max(1)
        } else {
            1
        };
        let mut extra: Vec<String> = Vec::new();
        let mut reauthed = false;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let auth = Self::authorization(host, scopes, &extra)?;
            match Self::send_once(host, call, auth.as_deref()) {
                Ok(resp) => {
                    let status = resp.status().as_u16();
                    if status == 401 && !reauthed {
                        reauthed = true;
                        let challenge =
                            header(&resp, "www-authenticate").and_then(Challenge::parse);
                        let had_auth = auth.is_some();
                        let mut state = host
                            .auth
                            .lock()
                            .unwrap_or_else(std::sync::PoisonError::into_inner);
                        match challenge {
                            Some(Challenge::Bearer { ref scopes, .. }) => {
                                extra.clone_from(scopes);
                                state.tokens.clear();
                                state.challenge = challenge;
                                attempt -= 1;
                                continue;
                            }
                            Some(c @ Challenge::Basic { .. })
                                if !had_auth && host.credential.is_some() =>
                            {
                                state.challenge = Some(c);
                                attempt -= 1;
                                continue;
                            }
                            _ => return Ok(resp),
                        }
                    }
                    if call.retry && (status >= 500 || status == 429) && attempt < attempts {
                        std::thread::sleep(Duration::from_millis(200 * u64::from(attempt)));
                        continue;
                    }
                    return Ok(resp);
                }
                Err(e) => {
                    let transient = matches!(
                        e,
                        ureq::Error::Io(_)
                            | ureq::Error::ConnectionFailed
                            | ureq::Error::Timeout(_)
                            | ureq::Error::Protocol(_)
                    );
                    if transient && attempt < attempts {
                        std::thread::sleep(Duration::from_millis(200 * u64::from(attempt)));
                        continue;
                    }
                    return Err(self.transport_error(&host.registry, &e));
                }
            }
        }
    }

    /// Turns an unexpected response into a clear error.
    fn unexpected(
        host: &Host,
        call: &Call<'_>,
        reference: &str,
        mut resp: Response<Body>,
    ) -> ImageError {
        let status = resp.status().as_u16();
        let body = read_small(&mut resp);
        let path = call
            .url
            .strip_prefix(&host.base)
            .unwrap_or(&call.url)
            .split('?')
            .next()
            .unwrap_or("")
            .to_owned();
        let codes = error_codes(&body);
        if status == 401
            || status == 403
            || codes.iter().any(|c| c == "DENIED" || c == "UNAUTHORIZED")
        {
            let action = match call.method {
                Method::GET | Method::HEAD => "pull",
                _ => "push",
            };
            let who = match &host.credential {
                None => "; no credentials for this registry (run `gantry image login`, or set CI_REGISTRY_USER / CI_REGISTRY_PASSWORD)".to_owned(),
                Some(c) => format!(
                    "; the credentials{} were not accepted",
                    c.username().map(|u| format!(" of `{u}`")).unwrap_or_default()
                ),
            };
            return ImageError::Unauthorized {
                registry: host.registry.clone(),
                reference: reference.to_owned(),
                action: action.into(),
                detail: format!("{}{who}", error_detail(&body)),
            };
        }
        if status == 404
            && (codes
                .iter()
                .any(|c| c == "MANIFEST_UNKNOWN" || c == "NAME_UNKNOWN")
                || call.url.contains("/manifests/"))
        {
            return ImageError::ManifestUnknown {
                reference: reference.to_owned(),
                registry: host.registry.clone(),
            };
        }
        ImageError::Registry {
            registry: host.registry.clone(),
            method: call.method.to_string(),
            path,
            status,
            detail: error_detail(&body),
        }
    }

    fn url(host: &Host, repo: &str, rest: &str) -> String {
        format!("{}/v2/{repo}/{rest}", host.base)
    }

    /// Resolves a `Location` header against the registry's base URL.
    fn location(host: &Host, resp: &Response<Body>) -> Option<String> {
        let loc = header(resp, "location")?;
        Some(
            if loc.starts_with("http://") || loc.starts_with("https://") {
                loc.to_owned()
            } else if loc.starts_with('/') {
                format!("{}{loc}", host.base)
            } else {
                format!("{}/{loc}", host.base)
            },
        )
    }

    /// Checks that the registry answers and, with credentials, that they are accepted
    /// (`GET /v2/`, plus a token request for token auth).
    pub fn login(&self, registry: &str) -> Result<()> {
        let host = self.host(registry)?;
        let call = Call::new(Method::GET, format!("{}/v2/", host.base));
        let resp = self.execute(&host, &[], &call)?;
        let status = resp.status().as_u16();
        if status == 200 {
            return Ok(());
        }
        Err(Self::unexpected(&host, &call, registry, resp))
    }

    /// `GET` the manifest or index `reference` names (every type we understand in `Accept`).
    pub fn get_manifest(&self, reference: &Reference) -> Result<RawManifest> {
        let host = self.host(reference.registry())?;
        let call = Call::new(
            Method::GET,
            Self::url(
                &host,
                reference.repository(),
                &format!("manifests/{}", reference.manifest_ref()),
            ),
        )
        .header("Accept", media_type::MANIFEST_ACCEPT);
        let mut resp = self.execute(&host, &[pull_scope(reference.repository())], &call)?;
        if resp.status().as_u16() != 200 {
            return Err(Self::unexpected(&host, &call, &reference.to_string(), resp));
        }
        let content_type = header(&resp, "content-type").map(str::to_owned);
        let bytes = resp
            .body_mut()
            .with_config()
            .limit(16 * 1024 * 1024)
            .read_to_vec()
            .map_err(|e| self.transport_error(&host.registry, &e))?;
        let raw = RawManifest::new(bytes, content_type.as_deref());
        if raw.media_type == media_type::DOCKER_SCHEMA1_SIGNED {
            return Err(ImageError::UnsupportedMediaType {
                media_type: raw.media_type,
                what: format!("{reference} (schema1 manifests are obsolete; re-push the image)"),
            });
        }
        if let Some(d) = reference.digest() {
            d.verify(&raw.bytes, &format!("manifest of {reference}"))?;
        }
        Ok(raw)
    }

    /// The digest `reference` currently points at, or `None` when it does not exist.
    pub fn head_manifest(&self, reference: &Reference) -> Result<Option<Digest>> {
        let host = self.host(reference.registry())?;
        let call = Call::new(
            Method::HEAD,
            Self::url(
                &host,
                reference.repository(),
                &format!("manifests/{}", reference.manifest_ref()),
            ),
        )
        .header("Accept", media_type::MANIFEST_ACCEPT);
        let resp = self.execute(&host, &[pull_scope(reference.repository())], &call)?;
        match resp.status().as_u16() {
            200 => Ok(header(&resp, "docker-content-digest").and_then(|d| d.parse().ok())),
            404 => Ok(None),
            _ => Err(Self::unexpected(&host, &call, &reference.to_string(), resp)),
        }
    }

    /// `PUT` a manifest under `reference`'s tag (or digest) with `Content-Type` = its media
    /// type. Returns the digest the registry reports.
    pub fn put_manifest(&self, reference: &Reference, manifest: &RawManifest) -> Result<Digest> {
        let host = self.host(reference.registry())?;
        let call = Call::new(
            Method::PUT,
            Self::url(
                &host,
                reference.repository(),
                &format!("manifests/{}", reference.manifest_ref()),
            ),
        )
        .header("Content-Type", manifest.media_type.clone())
        .body(&manifest.bytes);
        let resp = self.execute(&host, &[push_scope(reference.repository())], &call)?;
        if resp.status().as_u16() != 201 {
            return Err(Self::unexpected(&host, &call, &reference.to_string(), resp));
        }
        Ok(header(&resp, "docker-content-digest")
            .and_then(|d| d.parse().ok())
            .unwrap_or_else(|| manifest.digest.clone()))
    }

    /// Deletes the manifest with this digest (registries need deletion enabled).
    pub fn delete_manifest(&self, reference: &Reference, digest: &Digest) -> Result<()> {
        let host = self.host(reference.registry())?;
        let call = Call::new(
            Method::DELETE,
            Self::url(
                &host,
                reference.repository(),
                &format!("manifests/{digest}"),
            ),
        );
        let scopes = [format!("repository:{}:delete", reference.repository())];
        let resp = self.execute(&host, &scopes, &call)?;
        if resp.status().as_u16() != 202 {
            return Err(Self::unexpected(&host, &call, &reference.to_string(), resp));
        }
        Ok(())
    }

    /// Whether the repository has this blob (`HEAD`).
    pub fn has_blob(&self, reference: &Reference, digest: &Digest) -> Result<bool> {
        let host = self.host(reference.registry())?;
        let call = Call::new(
            Method::HEAD,
            Self::url(&host, reference.repository(), &format!("blobs/{digest}")),
        );
        let resp = self.execute(&host, &[pull_scope(reference.repository())], &call)?;
        match resp.status().as_u16() {
            200 => Ok(true),
            404 => Ok(false),
            _ => Err(Self::unexpected(&host, &call, &reference.to_string(), resp)),
        }
    }

    /// Streams a blob (redirects to storage are followed). The caller verifies the digest
    /// (e.g. [`crate::OciLayout::write_blob_from`]).
    pub fn get_blob(
        &self,
        reference: &Reference,
        digest: &Digest,
    ) -> Result<ureq::BodyReader<'static>> {
        let host = self.host(reference.registry())?;
        let call = Call::new(
            Method::GET,
            Self::url(&host, reference.repository(), &format!("blobs/{digest}")),
        );
        let resp = self.execute(&host, &[pull_scope(reference.repository())], &call)?;
        if resp.status().as_u16() != 200 {
            return Err(Self::unexpected(
                &host,
                &call,
                &format!("{reference} blob {digest}"),
                resp,
            ));
        }
        Ok(resp.into_body().into_with_config().limit(u64::MAX).reader())
    }

    /// Mounts `digest` from repository `from` of the same registry (one token carrying both
    /// scopes). `false` when the registry opened an upload instead (cancelled here).
    pub fn mount_blob(&self, reference: &Reference, digest: &Digest, from: &str) -> Result<bool> {
        let host = self.host(reference.registry())?;
        let repo = reference.repository();
        let scopes = vec![push_scope(repo), pull_scope(from)];
        let call = Call::new(
            Method::POST,
            Self::url(
                &host,
                repo,
                &format!(
                    "blobs/uploads/?mount={}&from={}",
                    enc(&digest.to_string()),
                    enc(from)
                ),
            ),
        )
        .no_retry();
        let resp = self.execute(&host, &scopes, &call)?;
        match resp.status().as_u16() {
            201 => Ok(true),
            202 => {
                if let Some(loc) = Self::location(&host, &resp) {
                    let _ =
                        self.execute(&host, &scopes, &Call::new(Method::DELETE, loc).no_retry());
                }
                Ok(false)
            }
            _ => Err(Self::unexpected(
                &host,
                &call,
                &format!("{reference} blob {digest}"),
                resp,
            )),
        }
    }

    /// Pushes one blob: `HEAD` first (skip when present), then a cross-repository mount from
    /// `mount_from` (same registry) when given, else an upload — monolithic up to the chunk
    /// size, chunked above it with each chunk retried and resumed from the registry's `Range`.
    /// A failed upload is cancelled; no manifest is written by this call.
    pub fn push_blob(
        &self,
        reference: &Reference,
        descriptor: &Descriptor,
        data: &mut dyn Read,
        mount_from: Option<&str>,
    ) -> Result<BlobPush> {
        if self.has_blob(reference, &descriptor.digest)? {
            return Ok(BlobPush::Existed);
        }
        let host = self.host(reference.registry())?;
        let repo = reference.repository();
        let what = format!("{reference} blob {}", descriptor.digest);
        let mut scopes = vec![push_scope(repo)];
        let start_url = match mount_from {
            Some(from) if from != repo => {
                scopes.push(pull_scope(from));
                Self::url(
                    &host,
                    repo,
                    &format!(
                        "blobs/uploads/?mount={}&from={}",
                        enc(&descriptor.digest.to_string()),
                        enc(from)
                    ),
                )
            }
            _ => Self::url(&host, repo, "blobs/uploads/"),
        };
        let call = Call::new(Method::POST, start_url).no_retry();
        let resp = self.execute(&host, &scopes, &call)?;
        let status = resp.status().as_u16();
        if status == 201 && mount_from.is_some() {
            return Ok(BlobPush::Mounted);
        }
        if status != 202 {
            return Err(Self::unexpected(&host, &call, &what, resp));
        }
        let mut location = Self::location(&host, &resp).ok_or_else(|| ImageError::Registry {
            registry: host.registry.clone(),
            method: "POST".into(),
            path: format!("/v2/{repo}/blobs/uploads/"),
            status,
            detail: " (no Location header)".into(),
        })?;
        match self.upload(&host, &scopes, &what, descriptor, data, &mut location) {
            Ok(()) => Ok(BlobPush::Uploaded),
            Err(e) => {
                // Cancel the session (best effort) so the registry drops the partial data.
                let cancel = Call::new(Method::DELETE, location).no_retry();
                let _ = self.execute(&host, &scopes, &cancel);
                Err(e)
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn upload(
        &self,
        host: &Host,
        scopes: &[String],
        what: &str,
        descriptor: &Descriptor,
        data: &mut dyn Read,
        location: &mut String,
    ) -> Result<()> {
        let chunk = self.options.chunk_size.max(1);
        let with_digest = |loc: &str| {
            let sep = if loc.contains('?') { '&' } else { '?' };
            format!("{loc}{sep}digest={}", enc(&descriptor.digest.to_string()))
        };
        let io_err = |e: std::io::Error| {
            ImageError::Io(std::io::Error::new(
                e.kind(),
                format!("reading {what}: {e}"),
            ))
        };
        if descriptor.size <= chunk as u64 {
            let mut buf = Vec::with_capacity(usize::try_from(descriptor.size).unwrap_or(0));
            data.read_to_end(&mut buf).map_err(io_err)?;
            let call = Call::new(Method::PUT, with_digest(location))
                .header("Content-Type", "application/octet-stream")
                .body(&buf)
                .no_retry();
            let resp = self.execute(host, scopes, &call)?;
            if resp.status().as_u16() != 201 {
                return Err(Self::unexpected(host, &call, what, resp));
            }
            return Ok(());
        }
        let mut offset: u64 = 0;
        let mut buf = vec![0u8; chunk];
        loop {
            let n = read_full(data, &mut buf).map_err(io_err)?;
            if n == 0 {
                break;
            }
            let mut sent = 0usize;
            let mut tries = 0;
            while sent < n {
                tries += 1;
                let part = &buf[sent..n];
                let start = offset + sent as u64;
                let call = Call::new(Method::PATCH, location.clone())
                    .header("Content-Type", "application/octet-stream")
                    .header(
                        "Content-Range",
                        format!("{start}-{}", start + part.len() as u64 - 1),
                    )
                    .body(part)
                    .no_retry();
                let result = self.execute(host, scopes, &call);
                match result {
                    Ok(resp) if resp.status().as_u16() == 202 => {
                        if let Some(l) = Self::location(host, &resp) {
                            *location = l;
                        }
                        sent = n;
                    }
                    other => {
                        let failure = match other {
                            Ok(resp) => {
                                let s = resp.status().as_u16();
                                let e = Self::unexpected(host, &call, what, resp);
                                if s < 500 && s != 416 {
                                    return Err(e);
                                }
                                e
                            }
                            Err(e) => e,
                        };
                        if tries >= self.options.attempts.max(1) {
                            return Err(failure);
                        }
                        std::thread::sleep(Duration::from_millis(300 * u64::from(tries)));
                        // Ask how much arrived, continue from there.
                        let status = Call::new(Method::GET, location.clone());
                        let resp = self.execute(host, scopes, &status)?;
                        if resp.status().as_u16() != 204 {
                            return Err(failure);
                        }
                        if let Some(l) = Self::location(host, &resp) {
                            *location = l;
                        }
                        let received = header(&resp, "range")
                            .and_then(|r| r.split('-').nth(1))
                            .and_then(|e| e.trim().parse::<u64>().ok())
                            .map_or(0, |end| end + 1);
                        if received < offset || received > offset + n as u64 {
                            return Err(failure);
                        }
                        sent = usize::try_from(received - offset).unwrap_or(0);
                    }
                }
            }
            offset += n as u64;
        }
        if offset != descriptor.size {
            return Err(ImageError::Usage(format!(
                "{what}: expected {} bytes, read {offset}",
                descriptor.size
            )));
        }
        let call = Call::new(Method::PUT, with_digest(location))
            .header("Content-Type", "application/octet-stream")
            .no_retry();
        let resp = self.execute(host, scopes, &call)?;
        if resp.status().as_u16() != 201 {
            return Err(Self::unexpected(host, &call, what, resp));
        }
        Ok(())
    }

    /// Every tag of the repository (follows `Link` paging).
    pub fn list_tags(&self, reference: &Reference) -> Result<Vec<String>> {
        let host = self.host(reference.registry())?;
        let mut url = Self::url(&host, reference.repository(), "tags/list?n=1000");
        let mut tags = Vec::new();
        for _ in 0..1000 {
            let call = Call::new(Method::GET, url.clone());
            let mut resp = self.execute(&host, &[pull_scope(reference.repository())], &call)?;
            if resp.status().as_u16() != 200 {
                return Err(Self::unexpected(&host, &call, &reference.to_string(), resp));
            }
            let next = header(&resp, "link")
                .and_then(|l| l.split(';').next())
                .map(|l| {
                    l.trim()
                        .trim_start_matches('<')
                        .trim_end_matches('>')
                        .to_owned()
                });
            let body = read_small(&mut resp);
            let v: serde_json::Value =
                serde_json::from_slice(&body).map_err(|e| ImageError::json("tags list", e))?;
            if let Some(list) = v.get("tags").and_then(|t| t.as_array()) {
                tags.extend(list.iter().filter_map(|t| t.as_str().map(str::to_owned)));
            }
            match next {
                Some(n) if n.starts_with('/') => url = format!("{}{n}", host.base),
                Some(n) => url = n,
                None => break,
            }
        }
        Ok(tags)
    }

    /// The scheme and host this client uses for `registry` (`http://127.0.0.1:5000`).
    pub fn endpoint(&self, registry: &str) -> Result<String> {
        Ok(self.host(registry)?.base.clone())
    }
}

/// Whether the TLS handshake got as far as a certificate (so the server does speak TLS).
fn is_certificate_error(e: &ureq::Error) -> bool {
    // rustls: "invalid peer certificate: UnknownIssuer", "peer sent no certificates",
    // "received fatal alert: ..."; a plain-HTTP server gives "corrupt message" instead.
    let d = e.to_string();
    d.contains("certificate") || d.contains("UnknownIssuer") || d.contains("fatal alert")
}

fn read_full(r: &mut dyn Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_manifest_media_type_from_body() {
        let m = RawManifest::new(
            br#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json"}"#
                .to_vec(),
            Some("text/plain"),
        );
        assert_eq!(m.media_type, media_type::OCI_INDEX);
        let m = RawManifest::new(
            br#"{"schemaVersion":2}"#.to_vec(),
            Some("application/vnd.oci.image.manifest.v1+json; charset=utf-8"),
        );
        assert_eq!(m.media_type, media_type::OCI_MANIFEST);
    }

    #[test]
    fn error_bodies() {
        assert_eq!(
            error_detail(
                br#"{"errors":[{"code":"MANIFEST_INVALID","message":"manifest invalid"}]}"#
            ),
            " (MANIFEST_INVALID: manifest invalid)"
        );
        assert_eq!(error_detail(b""), "");
        assert_eq!(
            enc("repository:a/b:pull,push x"),
            "repository:a/b:pull,push%20x"
        );
    }
}
