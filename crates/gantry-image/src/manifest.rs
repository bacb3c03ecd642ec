//! Single-platform image manifests (OCI and Docker schema2 share one shape).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::descriptor::Descriptor;
use crate::error::{ImageError, Result};
use crate::media_type;

/// An image manifest: a config blob and an ordered list of layers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageManifest {
    /// Always 2.
    pub schema_version: u32,
    /// `application/vnd.oci.image.manifest.v1+json` or the Docker schema2 type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    /// OCI 1.1 artifact type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact_type: Option<String>,
    /// The config blob.
    pub config: Descriptor,
    /// Layers, base first.
    #[serde(default)]
    pub layers: Vec<Descriptor>,
    /// OCI 1.1 subject (referrers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<Descriptor>,
    /// Annotations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<BTreeMap<String, String>>,
}

impl ImageManifest {
    /// Parses manifest bytes (`what` names them in errors).
    pub fn from_slice(bytes: &[u8], what: &str) -> Result<Self> {
        let m: Self = serde_json::from_slice(bytes).map_err(|e| ImageError::json(what, e))?;
        if m.schema_version != 2 {
            return Err(ImageError::UnsupportedMediaType {
                media_type: format!("schemaVersion {}", m.schema_version),
                what: what.to_owned(),
            });
        }
        Ok(m)
    }

    /// Serialises compactly; the bytes are then what gets hashed and pushed.
    pub fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// The media type: the body's, or OCI when absent.
    pub fn media_type(&self) -> &str {
        self.media_type
            .as_deref()
            .unwrap_or(media_type::OCI_MANIFEST)
    }
}
