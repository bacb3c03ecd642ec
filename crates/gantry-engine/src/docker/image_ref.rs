//! `ImageRef`: an image name split the way Docker reads it — registry host, repository, tag,
//! digest — plus GitLab's service host names derived from it.

/// Docker Hub's registry host, as credentials files name it.
pub(crate) const DOCKER_HUB: &str = "docker.io";

/// A parsed image reference.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ImageRef {
    /// Registry host (with port), `docker.io` when the name has none.
    pub(crate) registry: String,
    /// Whether the name spelled out a registry host.
    pub(crate) explicit_registry: bool,
    /// Repository path as written (`library/` is not added).
    pub(crate) repository: String,
    /// Tag; `None` with a digest or when absent (`latest` is implied).
    pub(crate) tag: Option<String>,
    /// `sha256:...` digest.
    pub(crate) digest: Option<String>,
}

impl ImageRef {
    /// Parses `name`; rejects empty names and names with whitespace or upper-case repositories.
    pub(crate) fn parse(name: &str) -> Result<Self, String> {
        let name = name.trim();
        if name.is_empty() {
            return Err("the image name is empty".to_owned());
        }
        if name.chars().any(char::is_whitespace) {
            return Err(format!(
                "invalid image name {name:?}: it contains whitespace"
            ));
        }
        let (rest, digest) = match name.split_once('@') {
            Some((r, d)) => (r, Some(d.to_owned())),
            None => (name, None),
        };
        // A tag is after the last `:` that follows the last `/`.
        let last_slash = rest.rfind('/').map_or(0, |i| i + 1);
        let (path, tag) = match rest[last_slash..].rfind(':') {
            Some(i) => (
                &rest[..last_slash + i],
                Some(rest[last_slash + i + 1..].to_owned()),
            ),
            None => (rest, None),
        };
        let (registry, repository, explicit) = match path.split_once('/') {
            Some((first, remainder))
                if first.contains('.') || first.contains(':') || first == "localhost" =>
            {
                (first.to_owned(), remainder.to_owned(), true)
            }
            _ => (DOCKER_HUB.to_owned(), path.to_owned(), false),
        };
        if repository.is_empty() || tag.as_deref() == Some("") {
            return Err(format!("invalid image name {name:?}"));
        }
        if repository.chars().any(|c| c.is_ascii_uppercase()) {
            return Err(format!(
                "invalid image name {name:?}: repository names must be lower case"
            ));
        }
        Ok(Self {
            registry,
            explicit_registry: explicit,
            repository,
            tag,
            digest,
        })
    }

    /// The name without tag or digest, as written (registry included when it was given).
    pub(crate) fn name_without_tag(&self) -> String {
        if self.explicit_registry {
            format!("{}/{}", self.registry, self.repository)
        } else {
            self.repository.clone()
        }
    }

    /// What to ask the engine to pull: `(fromImage, tag-or-digest)`.
    pub(crate) fn pull_parts(&self) -> (String, String) {
        let reference = match (&self.digest, &self.tag) {
            (Some(d), _) => d.clone(),
            (None, Some(t)) => t.clone(),
            (None, None) => "latest".to_owned(),
        };
        (self.name_without_tag(), reference)
    }

    /// The name without tag or digest and with the registry port dropped: the base of GitLab's
    /// service aliases and container names.
    fn alias_base(&self) -> String {
        if self.explicit_registry {
            let host = self
                .registry
                .split_once(':')
                .map_or(self.registry.as_str(), |(h, _)| h);
            format!("{host}/{}", self.repository)
        } else {
            self.repository.clone()
        }
    }

    /// GitLab's default host names of a service: `/` replaced by `__`, and (when different) by
    /// `-`: `tutum/wordpress` ⇒ `tutum__wordpress`, `tutum-wordpress`; `docker:24-dind` ⇒
    /// `docker`.
    pub(crate) fn service_aliases(&self) -> Vec<String> {
        let base = self.alias_base();
        let first = base.replace('/', "__");
        let second = base.replace('/', "-");
        if first == second {
            vec![first]
        } else {
            vec![first, second]
        }
    }

    /// The service part of a container name (`/` ⇒ `__`, other unsafe characters ⇒ `-`).
    pub(crate) fn service_slug(&self) -> String {
        self.alias_base()
            .replace('/', "__")
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-') {
                    c
                } else {
                    '-'
                }
            })
            .collect()
    }
}

/// User aliases of a service: separated by commas and/or whitespace, empty entries dropped.
pub(crate) fn split_aliases(alias: &str) -> Vec<String> {
    alias
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|a| !a.is_empty())
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_names() {
        let r = ImageRef::parse("ruby:3.3").unwrap();
        assert_eq!(
            (r.registry.as_str(), r.repository.as_str()),
            ("docker.io", "ruby")
        );
        assert_eq!(r.pull_parts(), ("ruby".to_owned(), "3.3".to_owned()));
        let r = ImageRef::parse("localhost:5000/a/b").unwrap();
        assert_eq!(r.registry, "localhost:5000");
        assert_eq!(
            r.pull_parts(),
            ("localhost:5000/a/b".to_owned(), "latest".to_owned())
        );
        let r = ImageRef::parse("127.0.0.1:5001/g/busybox@sha256:abc").unwrap();
        assert_eq!(r.digest.as_deref(), Some("sha256:abc"));
        assert!(ImageRef::parse("").is_err());
        assert!(ImageRef::parse("Ubuntu").is_err());
        assert!(ImageRef::parse("a b").is_err());
    }

    #[test]
    fn service_aliases_as_gitlab_derives_them() {
        let aliases = |n: &str| ImageRef::parse(n).unwrap().service_aliases();
        assert_eq!(
            aliases("tutum/wordpress:latest"),
            ["tutum__wordpress", "tutum-wordpress"]
        );
        assert_eq!(
            aliases("registry.example.com:4999/a/b"),
            ["registry.example.com__a__b", "registry.example.com-a-b"]
        );
        assert_eq!(aliases("docker:24-dind"), ["docker"]);
        assert_eq!(aliases("postgres@sha256:0123"), ["postgres"]);
        assert_eq!(split_aliases("db, pg  main,"), ["db", "pg", "main"]);
    }
}
