//! `VolumeMount`: one `volumes` entry of `[runners.docker]` — `/ctr` (a volume Gantry manages:
//! kept per project, per job with `disable_cache`, or a host directory below `cache_dir`),
//! `/host:/ctr[:mode]` (a bind mount) or `name:/ctr[:mode]` (a named volume).

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// A parsed `volumes` entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum VolumeMount {
    /// `/ctr`: a managed volume at this container path.
    Managed { target: String },
    /// `source:/ctr[:mode]`, passed to the engine as written.
    Bind(String),
}

impl VolumeMount {
    /// Parses one entry; the container path must be absolute.
    pub(crate) fn parse(spec: &str) -> Result<Self, String> {
        let spec = spec.trim();
        let parts: Vec<&str> = spec.split(':').collect();
        let invalid = |why: &str| {
            format!(
                "invalid volume {spec:?}: {why} (expected /container/path or \
                 /host/path:/container/path[:ro|rw])"
            )
        };
        match parts.as_slice() {
            [target] if target.starts_with('/') => Ok(Self::Managed {
                target: (*target).to_owned(),
            }),
            [_] => Err(invalid("the container path must be absolute")),
            [source, target] | [source, target, _] => {
                if source.is_empty() {
                    return Err(invalid("the source is empty"));
                }
                if !target.starts_with('/') {
                    return Err(invalid("the container path must be absolute"));
                }
                if let [_, _, mode] = parts.as_slice() {
                    let known = [
                        "ro",
                        "rw",
                        "z",
                        "Z",
                        "shared",
                        "slave",
                        "private",
                        "rshared",
                        "rslave",
                        "rprivate",
                        "nocopy",
                        "delegated",
                        "cached",
                        "consistent",
                    ];
                    if mode.split(',').any(|m| !known.contains(&m)) {
                        return Err(invalid(&format!("unknown mode {mode:?}")));
                    }
                }
                Ok(Self::Bind(spec.to_owned()))
            }
            _ => Err(invalid("too many `:`")),
        }
    }
}

/// 16 hex digits of the SHA-256 of a container path (gitlab-runner uses an MD5 here).
pub(crate) fn path_hash(path: &str) -> String {
    super::labels::hex(&Sha256::digest(path.as_bytes())[..8])
}

/// Name of the volume kept for `target` in the project with key `project`.
pub(crate) fn cache_volume_name(project: &str, target: &str) -> String {
    format!("gantry-{project}-cache-{}", path_hash(target))
}

/// Host directory used for `target` when `cache_dir` is set.
pub(crate) fn cache_dir_path(cache_dir: &Path, project: &str, target: &str) -> PathBuf {
    cache_dir
        .join(format!("gantry-{project}"))
        .join(path_hash(target))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_entries() {
        assert_eq!(
            VolumeMount::parse("/cache").unwrap(),
            VolumeMount::Managed {
                target: "/cache".into()
            }
        );
        assert_eq!(
            VolumeMount::parse("/var/run/docker.sock:/var/run/docker.sock").unwrap(),
            VolumeMount::Bind("/var/run/docker.sock:/var/run/docker.sock".into())
        );
        assert!(VolumeMount::parse("/a:/b:ro").is_ok());
        assert!(VolumeMount::parse("data:/b").is_ok());
        assert!(VolumeMount::parse("cache").is_err());
        assert!(VolumeMount::parse("/a:b").is_err());
        assert!(VolumeMount::parse("/a:/b:bogus").is_err());
        assert_eq!(
            cache_volume_name("p", "/cache"),
            cache_volume_name("p", "/cache")
        );
    }
}
