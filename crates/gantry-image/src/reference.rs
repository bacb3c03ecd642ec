//! Image references: `[registry/]path[:tag][@digest]`, normalised like Docker does.

use std::fmt;
use std::str::FromStr;

use crate::digest::Digest;
use crate::error::ImageError;

/// Docker Hub's canonical registry name.
pub const DOCKER_HUB: &str = "docker.io";
/// Docker Hub's API host.
pub const DOCKER_HUB_API: &str = "registry-1.docker.io";

/// A parsed, normalised image reference.
///
/// `ruby` becomes `docker.io/library/ruby:latest`; `127.0.0.1:5000/team/app` keeps its registry
/// and gets the tag `latest`; with a digest the tag is informational.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Reference {
    registry: String,
    repository: String,
    tag: Option<String>,
    digest: Option<Digest>,
}

impl Reference {
    /// The registry host (with port when given), e.g. `127.0.0.1:5000` or `docker.io`.
    pub fn registry(&self) -> &str {
        &self.registry
    }

    /// The host to talk to: `registry-1.docker.io` for Docker Hub, else [`Self::registry`].
    pub fn api_host(&self) -> &str {
        if self.registry == DOCKER_HUB {
            DOCKER_HUB_API
        } else {
            &self.registry
        }
    }

    /// The repository path, e.g. `library/ruby`.
    pub fn repository(&self) -> &str {
        &self.repository
    }

    /// The tag, `latest` when neither tag nor digest was given.
    pub fn tag(&self) -> Option<&str> {
        self.tag.as_deref()
    }

    /// The digest, when the reference pins one.
    pub fn digest(&self) -> Option<&Digest> {
        self.digest.as_ref()
    }

    /// What to put in `/v2/<name>/manifests/<here>`: the digest when present, else the tag.
    pub fn manifest_ref(&self) -> String {
        match (&self.digest, &self.tag) {
            (Some(d), _) => d.to_string(),
            (None, Some(t)) => t.clone(),
            (None, None) => "latest".into(),
        }
    }

    /// The same repository with another tag (and no digest).
    pub fn with_tag(&self, tag: &str) -> Result<Self, ImageError> {
        validate_tag(tag, tag)?;
        Ok(Self {
            registry: self.registry.clone(),
            repository: self.repository.clone(),
            tag: Some(tag.to_owned()),
            digest: None,
        })
    }

    /// The same repository pinned to `digest` (tag dropped).
    #[must_use]
    pub fn with_digest(&self, digest: Digest) -> Self {
        Self {
            registry: self.registry.clone(),
            repository: self.repository.clone(),
            tag: None,
            digest: Some(digest),
        }
    }

    /// `registry/repository` without tag or digest.
    pub fn name(&self) -> String {
        format!("{}/{}", self.registry, self.repository)
    }

    /// Whether the registry is on the loopback interface (`localhost`, `127.x.x.x`, `[::1]`):
    /// such registries may be spoken to over plain HTTP, as Docker does.
    pub fn is_loopback(&self) -> bool {
        is_loopback_host(&self.registry)
    }
}

/// Whether `host[:port]` names the loopback interface.
pub fn is_loopback_host(registry: &str) -> bool {
    let host = if let Some(rest) = registry.strip_prefix('[') {
        rest.split(']').next().unwrap_or("")
    } else {
        registry.rsplit_once(':').map_or(registry, |(h, _)| h)
    };
    host == "localhost"
        || host == "::1"
        || host
            .parse::<std::net::Ipv4Addr>()
            .is_ok_and(|ip| ip.is_loopback())
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.registry, self.repository)?;
        if let Some(t) = &self.tag {
            write!(f, ":{t}")?;
        }
        if let Some(d) = &self.digest {
            write!(f, "@{d}")?;
        }
        Ok(())
    }
}

fn is_registry_component(c: &str) -> bool {
    c.contains('.') || c.contains(':') || c == "localhost"
}

fn validate_component(c: &str) -> bool {
    // [a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*
    let b = c.as_bytes();
    if b.is_empty() {
        return false;
    }
    let alnum = |x: u8| x.is_ascii_lowercase() || x.is_ascii_digit();
    let mut i = 0;
    while i < b.len() {
        if !alnum(b[i]) {
            return false;
        }
        while i < b.len() && alnum(b[i]) {
            i += 1;
        }
        if i == b.len() {
            return true;
        }
        // separator
        let start = i;
        if b[i] == b'.' {
            i += 1;
        } else if b[i] == b'_' {
            i += 1;
            if i < b.len() && b[i] == b'_' {
                i += 1;
            }
        } else if b[i] == b'-' {
            while i < b.len() && b[i] == b'-' {
                i += 1;
            }
        } else {
            return false;
        }
        if i == start || i == b.len() {
            return false;
        }
    }
    true
}

fn validate_tag(tag: &str, whole: &str) -> Result<(), ImageError> {
    let b = tag.as_bytes();
    let ok = !b.is_empty()
        && b.len() <= 128
        && (b[0].is_ascii_alphanumeric() || b[0] == b'_')
        && b[1..]
            .iter()
            .all(|&c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(ImageError::InvalidReference {
            reference: whole.to_owned(),
            reason: format!(
                "tag `{tag}` must match [A-Za-z0-9_][A-Za-z0-9._-]{{0,127}} (hint: a branch \
                 name with `/` needs CI_COMMIT_REF_SLUG)"
            ),
        })
    }
}

impl FromStr for Reference {
    type Err = ImageError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = |reason: String| ImageError::InvalidReference {
            reference: s.to_owned(),
            reason,
        };
        if s.is_empty() {
            return Err(bad("empty reference".into()));
        }
        let (rest, digest) = match s.split_once('@') {
            Some((r, d)) => (
                r,
                Some(d.parse::<Digest>().map_err(|e| bad(e.to_string()))?),
            ),
            None => (s, None),
        };
        // A tag follows the last ':' that comes after the last '/'.
        let last_slash = rest.rfind('/').map_or(0, |i| i + 1);
        let (name, tag) = match rest[last_slash..].rfind(':') {
            Some(i) => (&rest[..last_slash + i], Some(&rest[last_slash + i + 1..])),
            None => (rest, None),
        };
        if let Some(t) = tag {
            validate_tag(t, s)?;
        }
        let (registry, path) = match name.split_once('/') {
            Some((first, path)) if is_registry_component(first) => (first.to_owned(), path),
            _ => (DOCKER_HUB.to_owned(), name),
        };
        if registry.is_empty() || registry.contains(|c: char| c.is_whitespace() || c == '/') {
            return Err(bad(format!("invalid registry `{registry}`")));
        }
        let port = if registry.starts_with('[') {
            registry.split_once("]:").map(|(_, p)| p)
        } else {
            registry.split_once(':').map(|(_, p)| p)
        };
        if let Some(port) = port
            && (port.is_empty() || !port.bytes().all(|b| b.is_ascii_digit()))
        {
            return Err(bad(format!("registry `{registry}` has an invalid port")));
        }
        let registry = if registry == "index.docker.io" || registry == DOCKER_HUB_API {
            DOCKER_HUB.to_owned()
        } else {
            registry
        };
        let repository = if registry == DOCKER_HUB && !path.contains('/') {
            format!("library/{path}")
        } else {
            path.to_owned()
        };
        if let Some(c) = repository.split('/').find(|c| !validate_component(c)) {
            return Err(bad(format!(
                "repository component `{c}` must be lowercase letters and digits separated by \
                 `.`, `_`, `__` or dashes"
            )));
        }
        if repository.len() + registry.len() + 1 > 255 {
            return Err(bad("name longer than 255 characters".into()));
        }
        let tag = match (tag, &digest) {
            (Some(t), _) => Some(t.to_owned()),
            (None, None) => Some("latest".to_owned()),
            (None, Some(_)) => None,
        };
        Ok(Self {
            registry,
            repository,
            tag,
            digest,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Reference {
        s.parse().unwrap()
    }

    #[test]
    fn normalises_docker_hub() {
        let r = p("ruby");
        assert_eq!(r.to_string(), "docker.io/library/ruby:latest");
        assert_eq!(r.api_host(), "registry-1.docker.io");
        assert_eq!(
            p("bitnami/redis:7").to_string(),
            "docker.io/bitnami/redis:7"
        );
    }

    #[test]
    fn keeps_registry_with_port() {
        let r = p("127.0.0.1:5000/team/app:1.2");
        assert_eq!(r.registry(), "127.0.0.1:5000");
        assert_eq!(r.repository(), "team/app");
        assert_eq!(r.tag(), Some("1.2"));
        assert!(r.is_loopback());
        assert_eq!(p("localhost/app").registry(), "localhost");
        assert!(!p("registry.example.com/app").is_loopback());
    }

    #[test]
    fn digest_wins() {
        let d = "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a";
        let r = p(&format!("example.com/a/b@{d}"));
        assert_eq!(r.tag(), None);
        assert_eq!(r.manifest_ref(), d);
        let r = p(&format!("example.com/a/b:v1@{d}"));
        assert_eq!(r.tag(), Some("v1"));
        assert_eq!(r.manifest_ref(), d);
    }

    #[test]
    fn rejects_bad_input() {
        for bad in [
            "",
            "UPPER/case",
            "a//b",
            "a/b:",
            "a/b:-x",
            "a/b:feature/x",
            "a/b@sha256:xyz",
            "a/-b",
            "a/b_",
        ] {
            assert!(bad.parse::<Reference>().is_err(), "{bad}");
        }
        let e = "app:feature/x"
            .parse::<Reference>()
            .unwrap_err()
            .to_string();
        assert!(e.contains("registry") || e.contains("tag"), "{e}");
    }

    #[test]
    fn components() {
        for ok in ["a", "a.b", "a_b", "a__b", "a---b", "a1-2"] {
            assert!(validate_component(ok), "{ok}");
        }
        for bad in ["", "-a", "a-", "a___b", "a..b", "A"] {
            assert!(!validate_component(bad), "{bad}");
        }
    }

    #[test]
    fn loopback_hosts() {
        assert!(is_loopback_host("127.0.0.1:5000"));
        assert!(is_loopback_host("127.1.2.3"));
        assert!(is_loopback_host("localhost:5000"));
        assert!(is_loopback_host("[::1]:5000"));
        assert!(!is_loopback_host("10.0.0.1:5000"));
    }
}
