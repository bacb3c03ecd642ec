//! Platforms (`linux/amd64`, `linux/arm/v7`) as found in indexes and configs.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::ImageError;

/// An OS/architecture pair with an optional variant.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Platform {
    /// CPU architecture in Go's spelling (`amd64`, `arm64`, `arm`, ...).
    pub architecture: String,
    /// Operating system (`linux`).
    pub os: String,
    /// Architecture variant (`v7`, `v8`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
    /// OS version (Windows only).
    #[serde(
        rename = "os.version",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub os_version: Option<String>,
    /// OS features (Windows only).
    #[serde(
        rename = "os.features",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub os_features: Option<Vec<String>>,
}

/// Normalises an architecture name (`x86_64` → `amd64`, `aarch64` → `arm64`).
pub fn normalize_arch(arch: &str) -> &str {
    match arch {
        "x86_64" | "x86-64" => "amd64",
        "aarch64" => "arm64",
        "i386" | "i686" => "386",
        other => other,
    }
}

impl Platform {
    /// The platform this process runs on.
    pub fn host() -> Self {
        Self {
            architecture: normalize_arch(std::env::consts::ARCH).to_owned(),
            os: std::env::consts::OS.to_owned(),
            variant: None,
            os_version: None,
            os_features: None,
        }
    }

    /// Whether an index entry for `other` serves a request for `self` (variant compared only
    /// when both have one; `arm64` with no variant matches `v8`).
    pub fn matches(&self, other: &Platform) -> bool {
        self.os == other.os
            && normalize_arch(&self.architecture) == normalize_arch(&other.architecture)
            && match (&self.variant, &other.variant) {
                (Some(a), Some(b)) => a == b,
                _ => true,
            }
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        if let Some(v) = &self.variant {
            write!(f, "/{v}")?;
        }
        Ok(())
    }
}

impl FromStr for Platform {
    type Err = ImageError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let parts: Vec<&str> = s.split('/').collect();
        let (os, arch, variant) = match parts.as_slice() {
            [os, arch] => (*os, *arch, None),
            [os, arch, v] => (*os, *arch, Some((*v).to_owned())),
            _ => {
                return Err(ImageError::Usage(format!(
                    "invalid platform `{s}`: expected os/arch[/variant], e.g. linux/amd64"
                )));
            }
        };
        if os.is_empty() || arch.is_empty() {
            return Err(ImageError::Usage(format!(
                "invalid platform `{s}`: expected os/arch[/variant]"
            )));
        }
        Ok(Self {
            architecture: normalize_arch(arch).to_owned(),
            os: os.to_owned(),
            variant,
            os_version: None,
            os_features: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_matches() {
        let p: Platform = "linux/aarch64".parse().unwrap();
        assert_eq!(p.to_string(), "linux/arm64");
        let v8: Platform = "linux/arm64/v8".parse().unwrap();
        assert!(p.matches(&v8));
        let v7: Platform = "linux/arm/v7".parse().unwrap();
        let v6: Platform = "linux/arm/v6".parse().unwrap();
        assert!(!v7.matches(&v6));
        assert!("linux".parse::<Platform>().is_err());
    }
}
