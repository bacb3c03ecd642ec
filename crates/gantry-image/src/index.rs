//! Multi-platform indexes (OCI image index, Docker manifest list) and OCI layouts' `index.json`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::descriptor::Descriptor;
use crate::error::{ImageError, Result};
use crate::platform::Platform;

/// An index: a list of manifests, usually one per platform.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageIndex {
    /// Always 2.
    pub schema_version: u32,
    /// OCI index or Docker manifest list type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    /// The entries.
    #[serde(default)]
    pub manifests: Vec<Descriptor>,
    /// Annotations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<BTreeMap<String, String>>,
}

impl ImageIndex {
    /// An empty OCI index.
    pub fn new_oci() -> Self {
        Self {
            schema_version: 2,
            media_type: Some(crate::media_type::OCI_INDEX.to_owned()),
            manifests: Vec::new(),
            annotations: None,
        }
    }

    /// Parses index bytes.
    pub fn from_slice(bytes: &[u8], what: &str) -> Result<Self> {
        serde_json::from_slice(bytes).map_err(|e| ImageError::json(what, e))
    }

    /// Serialises compactly.
    pub fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// The entry for `platform`, or an error listing what exists.
    pub fn select(&self, platform: &Platform, reference: &str) -> Result<&Descriptor> {
        self.manifests
            .iter()
            .find(|d| d.platform.as_ref().is_some_and(|p| platform.matches(p)))
            .ok_or_else(|| ImageError::NoMatchingPlatform {
                reference: reference.to_owned(),
                platform: platform.to_string(),
                available: self
                    .manifests
                    .iter()
                    .filter_map(|d| d.platform.as_ref().map(ToString::to_string))
                    .collect::<Vec<_>>()
                    .join(", "),
            })
    }
}
