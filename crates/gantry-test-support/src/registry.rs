//! A local container registry (Debian's `docker-registry`, distribution 2.8) for image tests.
//!
//! [`Registry::anonymous`] and [`Registry::htpasswd`] start `docker-registry serve` on
//! `127.0.0.1:<free port>` with its storage in a temp dir, wait until `GET /v2/` answers (200, or
//! 401 with auth) and kill the process on drop. The htpasswd file is made with
//! `htpasswd -Bbn -C 5` (bcrypt cost 5: the registry checks the hash on every request, and higher
//! costs make pushes seconds slower).
//!
//! The loopback range is an insecure registry for Docker by default, so
//! `docker pull 127.0.0.1:<port>/...` needs no daemon configuration; for skopeo pass
//! `--tls-verify=false` and, with auth, [`Registry::authfile`] (`--authfile`) instead of
//! `docker login`, which would write the host's `~/.docker/config.json`.
//!
//! [`Registry::token`] adds Docker token auth: a small Python token server (stdlib +
//! `cryptography`, Debian's `python3-cryptography`; see `registry_helper.py`) signs RS256 JWTs
//! with a fresh key whose certificate the registry trusts (test-infrastructure.md §4.3).
//! [`Registry::tls`] serves HTTPS with a certificate from a fresh test CA ([`Registry::ca_file`]).

use std::fmt::Write as _;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fs_err as fs;
use tempfile::TempDir;

use crate::process::run_with_timeout;

const START_TIMEOUT: Duration = Duration::from_secs(20);

/// A running `docker-registry`, stopped (killed) on drop.
#[derive(Debug)]
pub struct Registry {
    child: Child,
    dir: TempDir,
    port: u16,
    credentials: Option<(String, String)>,
    /// The token server (token mode).
    helper: Option<Child>,
    mode: Mode,
}

/// How the registry authenticates and serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Anonymous,
    Htpasswd,
    Token { token_port: u16 },
    Tls,
}

/// The token server's issuer and service names (the registry checks both).
pub const TOKEN_ISSUER: &str = "gantry-token-issuer";
/// The `service` of the token-auth registry.
pub const TOKEN_SERVICE: &str = "gantry-registry";

const HELPER_PY: &str = include_str!("registry_helper.py");

/// A Python 3 that has the `cryptography` module (Debian's `/usr/bin/python3` first, since a
/// `python3` earlier on `PATH` may lack it), or why there is none.
pub fn python_with_cryptography() -> Result<PathBuf, String> {
    for candidate in ["/usr/bin/python3", "python3"] {
        let ok = run_with_timeout(
            Command::new(candidate).args(["-c", "import cryptography"]),
            Duration::from_secs(30),
        )
        .is_ok_and(|o| o.status.success());
        if ok {
            return Ok(PathBuf::from(candidate));
        }
    }
    Err("no python3 with the `cryptography` module (install Debian's python3-cryptography)".into())
}

/// A minimal HTTP response.
#[derive(Debug, Clone)]
pub struct HttpResponse {
    /// Status code, e.g. 200.
    pub status: u16,
    /// Header names (as sent) and values, in order.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// The first header with this name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body as (lossy) UTF-8.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

impl Registry {
    /// A registry without authentication.
    pub fn anonymous() -> Self {
        Self::start(None)
    }

    /// A registry with Docker token auth: `user`/`password` get pull and push, anonymous
    /// requests pull only. Needs `python_with_cryptography()`.
    pub fn token(user: &str, password: &str) -> Self {
        Self::start_mode(
            Some((user.to_owned(), password.to_owned())),
            Mode::Token { token_port: 0 },
        )
    }

    /// An anonymous registry served over HTTPS with a certificate of a fresh test CA
    /// ([`Self::ca_file`]); [`Self::other_ca_file`] is an unrelated CA. Needs
    /// `python_with_cryptography()`.
    pub fn tls() -> Self {
        Self::start_mode(None, Mode::Tls)
    }

    /// The PEM of the CA that signed the TLS registry's certificate.
    pub fn ca_file(&self) -> PathBuf {
        self.dir.path().join("ca.pem")
    }

    /// The PEM of a CA that did not sign anything of this registry.
    pub fn other_ca_file(&self) -> PathBuf {
        self.dir.path().join("other-ca.pem")
    }

    /// The token server's URL in token mode.
    pub fn token_realm(&self) -> Option<String> {
        match self.mode {
            Mode::Token { token_port } => Some(format!("http://127.0.0.1:{token_port}/token")),
            _ => None,
        }
    }

    /// A registry with Basic authentication for one user (bcrypt cost 5).
    pub fn htpasswd(user: &str, password: &str) -> Self {
        Self::start(Some((user.to_owned(), password.to_owned())))
    }

    fn start(credentials: Option<(String, String)>) -> Self {
        let mode = if credentials.is_some() {
            Mode::Htpasswd
        } else {
            Mode::Anonymous
        };
        Self::start_mode(credentials, mode)
    }

    fn start_mode(credentials: Option<(String, String)>, mut mode: Mode) -> Self {
        let dir = tempfile::Builder::new()
            .prefix("gantry-registry-")
            .tempdir()
            .expect("create registry temp dir");
        fs::create_dir_all(dir.path().join("data")).expect("create registry storage");
        let mut helper = None;
        if let Mode::Token { token_port } = &mut mode {
            let (user, password) = credentials.clone().unwrap_or_default();
            let (child, port) = start_token_server(dir.path(), &user, &password);
            helper = Some(child);
            *token_port = port;
        }
        if mode == Mode::Tls {
            make_tls_files(dir.path());
        }
        if mode == Mode::Htpasswd
            && let Some((user, password)) = &credentials
        {
            let out = run_with_timeout(
                Command::new("htpasswd").args(["-Bbn", "-C", "5", user, password]),
                Duration::from_secs(30),
            )
            .unwrap_or_else(|e| panic!("{e} (package apache2-utils)"));
            assert!(
                out.status.success(),
                "htpasswd failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            fs::write(dir.path().join("htpasswd"), &out.stdout).expect("write htpasswd file");
        }

        // A free port can be taken between our probe and the registry's bind: retry then.
        let mut last_error = String::new();
        for _ in 0..3 {
            let port = free_port();
            let mut child = spawn_mode(dir.path(), port, mode);
            match wait_ready_mode(&mut child, dir.path(), port, mode) {
                Ok(()) => {
                    let registry = Self {
                        child,
                        dir,
                        port,
                        credentials,
                        helper,
                        mode,
                    };
                    registry.write_authfile();
                    return registry;
                }
                Err(e) => {
                    last_error = e;
                    let _ = child.kill();
                    let _ = child.wait();
                }
            }
        }
        if let Some(mut h) = helper {
            let _ = h.kill();
            let _ = h.wait();
        }
        panic!("docker-registry did not start: {last_error}");
    }

    fn write_authfile(&self) {
        if let Some((user, password)) = &self.credentials {
            let auth = base64(format!("{user}:{password}").as_bytes());
            let json = serde_json::json!({ "auths": { self.addr(): { "auth": auth } } });
            fs::write(self.dir.path().join("auth.json"), format!("{json}\n"))
                .expect("write auth.json");
        }
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if let Some(h) = &mut self.helper {
            let _ = h.kill();
            let _ = h.wait();
        }
    }

    /// The port it listens on (on 127.0.0.1).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `127.0.0.1:<port>`: the registry part of image references.
    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// `http://127.0.0.1:<port>` (`https://` in TLS mode).
    pub fn url(&self) -> String {
        let scheme = if self.mode == Mode::Tls {
            "https"
        } else {
            "http"
        };
        format!("{scheme}://{}", self.addr())
    }

    /// User and password in htpasswd mode.
    pub fn credentials(&self) -> Option<(&str, &str)> {
        self.credentials
            .as_ref()
            .map(|(u, p)| (u.as_str(), p.as_str()))
    }

    /// A containers-auth.json (`{"auths": {"127.0.0.1:<port>": {"auth": ...}}}`) for skopeo's and
    /// buildah's `--authfile`, in htpasswd mode.
    pub fn authfile(&self) -> Option<PathBuf> {
        self.credentials
            .as_ref()
            .map(|_| self.dir.path().join("auth.json"))
    }

    /// The registry's storage root.
    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// The registry's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("registry.log")).unwrap_or_default()
    }

    /// `GET <path>` without credentials.
    pub fn get(&self, path: &str) -> std::io::Result<HttpResponse> {
        http_request(self.port, "GET", path, None)
    }

    /// `GET <path>` with Basic credentials.
    pub fn get_with_auth(
        &self,
        path: &str,
        user: &str,
        password: &str,
    ) -> std::io::Result<HttpResponse> {
        http_request(self.port, "GET", path, Some((user, password)))
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        self.stop();
    }
}

fn spawn_mode(dir: &Path, port: u16, mode: Mode) -> Child {
    let config = dir.join("config.yml");
    fs::write(&config, config_yaml_mode(dir, port, mode)).expect("write registry config");
    let log = std::fs::File::create(dir.join("registry.log")).expect("create registry log");
    let log_err = log.try_clone().expect("clone log handle");
    Command::new("docker-registry")
        .arg("serve")
        .arg(&config)
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(log_err)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start `docker-registry` (package docker-registry): {e}"))
}

fn wait_ready_mode(child: &mut Child, dir: &Path, port: u16, mode: Mode) -> Result<(), String> {
    let log = || std::fs::read_to_string(dir.join("registry.log")).unwrap_or_default();
    let deadline = Instant::now() + START_TIMEOUT;
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            return Err(format!("exited with {status}; log:\n{}", log()));
        }
        if mode == Mode::Tls {
            // No TLS client here: an accepted connection means it listens.
            if TcpStream::connect_timeout(
                &SocketAddr::from(([127, 0, 0, 1], port)),
                Duration::from_secs(1),
            )
            .is_ok()
            {
                return Ok(());
            }
        } else if let Ok(r) = http_request(port, "GET", "/v2/", None)
            && matches!(r.status, 200 | 401)
        {
            return Ok(());
        }
        if Instant::now() >= deadline {
            return Err(format!(
                "no answer on 127.0.0.1:{port} within {} s; log:\n{}",
                START_TIMEOUT.as_secs(),
                log()
            ));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[cfg(test)]
fn config_yaml(dir: &Path, port: u16, htpasswd: bool) -> String {
    config_yaml_mode(
        dir,
        port,
        if htpasswd {
            Mode::Htpasswd
        } else {
            Mode::Anonymous
        },
    )
}

fn config_yaml_mode(dir: &Path, port: u16, mode: Mode) -> String {
    let htpasswd = mode == Mode::Htpasswd;
    let mut y = format!(
        "version: 0.1\n\
         log:\n  level: warn\n  accesslog:\n    disabled: true\n\
         storage:\n  filesystem:\n    rootdirectory: {data}\n  delete:\n    enabled: true\n\
         http:\n  addr: 127.0.0.1:{port}\n  secret: gantry-test-secret\n",
        data = dir.join("data").display(),
    );
    if htpasswd {
        let _ = write!(
            y,
            "auth:\n  htpasswd:\n    realm: gantry-test\n    path: {}\n",
            dir.join("htpasswd").display()
        );
    }
    if let Mode::Token { token_port } = mode {
        let _ = write!(
            y,
            "auth:\n  token:\n    realm: http://127.0.0.1:{token_port}/token\n    service: {TOKEN_SERVICE}\n    issuer: {TOKEN_ISSUER}\n    rootcertbundle: {}\n",
            dir.join("token-cert.pem").display()
        );
    }
    if mode == Mode::Tls {
        let _ = write!(
            y,
            "  tls:\n    certificate: {}\n    key: {}\n",
            dir.join("server.pem").display(),
            dir.join("server-key.pem").display()
        );
    }
    y
}

fn helper_script(dir: &Path) -> PathBuf {
    let path = dir.join("registry_helper.py");
    if !path.exists() {
        fs::write(&path, HELPER_PY).expect("write registry_helper.py");
    }
    path
}

fn make_tls_files(dir: &Path) {
    let python = python_with_cryptography().unwrap_or_else(|e| panic!("{e}"));
    let out = run_with_timeout(
        Command::new(python)
            .arg(helper_script(dir))
            .arg("tls")
            .arg(dir),
        Duration::from_mins(1),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        out.status.success(),
        "creating test TLS certificates failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Starts the token server; returns it and its port once it answers.
fn start_token_server(dir: &Path, user: &str, password: &str) -> (Child, u16) {
    let python = python_with_cryptography().unwrap_or_else(|e| panic!("{e}"));
    let mut last = String::new();
    for _ in 0..3 {
        let port = free_port();
        let log = std::fs::File::create(dir.join("token-server.log")).expect("token server log");
        let mut child = Command::new(&python)
            .arg(helper_script(dir))
            .args(["token", &port.to_string()])
            .arg(dir.join("token-cert.pem"))
            .args([TOKEN_ISSUER, TOKEN_SERVICE, user, password])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot start the token server ({}): {e}", python.display())
            });
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                last = format!(
                    "exited with {status}: {}",
                    std::fs::read_to_string(dir.join("token-server.log")).unwrap_or_default()
                );
                break;
            }
            if dir.join("token-cert.pem").exists()
                && http_request(port, "GET", "/token?service=x", None)
                    .is_ok_and(|r| r.status == 200)
            {
                return (child, port);
            }
            if Instant::now() >= deadline {
                last = "no answer within the time limit".into();
                let _ = child.kill();
                let _ = child.wait();
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    panic!("token server did not start: {last}");
}

/// A port that was free on 127.0.0.1 a moment ago.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("bind 127.0.0.1:0")
}

/// One HTTP/1.0 request to `127.0.0.1:<port>` (bounded: 2 s connect, 10 s read).
pub fn http_request(
    port: u16,
    method: &str,
    path: &str,
    basic: Option<(&str, &str)>,
) -> std::io::Result<HttpResponse> {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(2))?;
    s.set_read_timeout(Some(Duration::from_secs(10)))?;
    s.set_write_timeout(Some(Duration::from_secs(10)))?;
    let mut req = format!("{method} {path} HTTP/1.0\r\nHost: {addr}\r\nConnection: close\r\n");
    if let Some((u, p)) = basic {
        let _ = write!(
            req,
            "Authorization: Basic {}\r\n",
            base64(format!("{u}:{p}").as_bytes())
        );
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes())?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw)?;
    parse_response(&raw).ok_or_else(|| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("bad HTTP response: {:?}", String::from_utf8_lossy(&raw)),
        )
    })
}

fn parse_response(raw: &[u8]) -> Option<HttpResponse> {
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = std::str::from_utf8(&raw[..split]).ok()?;
    let mut lines = head.split("\r\n");
    let status = lines.next()?.split_whitespace().nth(1)?.parse().ok()?;
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect();
    Some(HttpResponse {
        status,
        headers,
        body: raw[split + 4..].to_vec(),
    })
}

/// Standard base64 with padding.
fn base64(data: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(A[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc4648_vectors() {
        for (i, o) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("ci:s3cret", "Y2k6czNjcmV0"),
        ] {
            assert_eq!(base64(i.as_bytes()), o);
        }
    }

    #[test]
    fn parses_responses() {
        let r = parse_response(
            b"HTTP/1.1 401 Unauthorized\r\nWww-Authenticate: Basic realm=\"x\"\r\n\r\n{}",
        )
        .unwrap();
        assert_eq!(r.status, 401);
        assert_eq!(r.header("www-authenticate"), Some("Basic realm=\"x\""));
        assert_eq!(r.text(), "{}");
    }

    #[test]
    fn config_has_auth_only_when_asked() {
        let d = Path::new("/x");
        assert!(!config_yaml(d, 5000, false).contains("htpasswd"));
        let c = config_yaml(d, 5001, true);
        assert!(c.contains("addr: 127.0.0.1:5001") && c.contains("path: /x/htpasswd"));
    }
}
