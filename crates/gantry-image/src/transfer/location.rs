//! Where an image lives: a registry, the local store, an OCI layout, a docker archive.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use crate::error::ImageError;
use crate::reference::Reference;

/// A copy source or destination, written like skopeo's transports:
/// `docker://REF` or a bare `REF` (registry), `local:REF` (gantry's local store),
/// `oci:DIR[:NAME]` (OCI layout), `docker-archive:FILE[:REF]` (destination only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImageLocation {
    /// An image in a registry.
    Registry(Reference),
    /// An image in gantry's local store.
    Local(Reference),
    /// An OCI layout directory and the ref name inside it.
    Oci {
        /// The layout directory.
        dir: PathBuf,
        /// `org.opencontainers.image.ref.name`, or the only entry when `None`.
        name: Option<String>,
    },
    /// A `docker save`-format tar file.
    DockerArchive {
        /// The tar file.
        file: PathBuf,
        /// The `RepoTags` entry.
        name: Option<String>,
    },
}

impl ImageLocation {
    /// The registry reference, for registry locations.
    pub fn reference(&self) -> Option<&Reference> {
        match self {
            Self::Registry(r) => Some(r),
            _ => None,
        }
    }
}

impl fmt::Display for ImageLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Registry(r) => write!(f, "docker://{r}"),
            Self::Local(r) => write!(f, "local:{r}"),
            Self::Oci { dir, name } => {
                write!(f, "oci:{}", dir.display())?;
                name.as_ref().map_or(Ok(()), |n| write!(f, ":{n}"))
            }
            Self::DockerArchive { file, name } => {
                write!(f, "docker-archive:{}", file.display())?;
                name.as_ref().map_or(Ok(()), |n| write!(f, ":{n}"))
            }
        }
    }
}

/// `PATH[:NAME]`; a NAME never contains `/`, so `oci:/a/b:tag` splits at the last `:` only
/// when what follows has no `/`.
fn split_path_name(s: &str) -> (PathBuf, Option<String>) {
    match s.rsplit_once(':') {
        Some((p, n)) if !n.contains('/') && !p.is_empty() => (
            PathBuf::from(p),
            Some(n.to_owned()).filter(|n| !n.is_empty()),
        ),
        _ => (PathBuf::from(s), None),
    }
}

impl FromStr for ImageLocation {
    type Err = ImageError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if let Some(rest) = s.strip_prefix("docker://") {
            return Ok(Self::Registry(rest.parse()?));
        }
        if let Some(rest) = s.strip_prefix("local:") {
            return Ok(Self::Local(rest.parse()?));
        }
        if let Some(rest) = s.strip_prefix("oci:") {
            let (dir, name) = split_path_name(rest);
            return Ok(Self::Oci { dir, name });
        }
        if let Some(rest) = s.strip_prefix("docker-archive:") {
            // The name is an image reference and may contain '/' and ':'; split at the
            // first ':' after a path that ends in `.tar`, else take it all as the file.
            let (file, name) = match rest.find(".tar:") {
                Some(i) => (
                    PathBuf::from(&rest[..i + 4]),
                    Some(rest[i + 5..].to_owned()),
                ),
                None => (PathBuf::from(rest), None),
            };
            return Ok(Self::DockerArchive { file, name });
        }
        if s.starts_with("oci-archive:") || s.starts_with("docker-daemon:") || s.starts_with("dir:")
        {
            return Err(ImageError::Usage(format!(
                "`{s}`: transport not supported; use docker://, local:, oci: or docker-archive:"
            )));
        }
        Ok(Self::Registry(s.parse()?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_transports() {
        assert_eq!(
            "oci:/tmp/x:v1".parse::<ImageLocation>().unwrap(),
            ImageLocation::Oci {
                dir: "/tmp/x".into(),
                name: Some("v1".into())
            }
        );
        assert_eq!(
            "oci:/tmp/x".parse::<ImageLocation>().unwrap(),
            ImageLocation::Oci {
                dir: "/tmp/x".into(),
                name: None
            }
        );
        assert_eq!(
            "docker-archive:/tmp/a.tar:gantry/x:1"
                .parse::<ImageLocation>()
                .unwrap(),
            ImageLocation::DockerArchive {
                file: "/tmp/a.tar".into(),
                name: Some("gantry/x:1".into())
            }
        );
        let r = "127.0.0.1:5000/a/b:1".parse::<ImageLocation>().unwrap();
        assert_eq!(r.to_string(), "docker://127.0.0.1:5000/a/b:1");
        assert!("docker-daemon:x".parse::<ImageLocation>().is_err());
    }
}
