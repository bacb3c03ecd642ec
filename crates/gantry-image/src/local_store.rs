//! The local image store: an OCI layout under the cache directory, tagged by full reference,
//! plus room for the build cache and unpacked layers.
//!
//! Location: `$GANTRY_IMAGE_STORE`, else `$XDG_CACHE_HOME/gantry/images`, else
//! `~/.cache/gantry/images`.

use std::path::{Path, PathBuf};

use fs_err as fs;

use crate::blob_locations::BlobLocations;
use crate::descriptor::Descriptor;
use crate::error::{ImageError, Result};
use crate::oci_layout::OciLayout;
use crate::reference::Reference;

/// The local store.
#[derive(Debug, Clone)]
pub struct LocalStore {
    root: PathBuf,
    layout: OciLayout,
}

impl LocalStore {
    /// The default location (see the module doc).
    pub fn default_root() -> PathBuf {
        if let Some(p) = std::env::var_os("GANTRY_IMAGE_STORE").filter(|p| !p.is_empty()) {
            return PathBuf::from(p);
        }
        let cache = std::env::var_os("XDG_CACHE_HOME")
            .filter(|p| !p.is_empty())
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
            .unwrap_or_else(|| std::env::temp_dir().join("gantry-cache"));
        cache.join("gantry").join("images")
    }

    /// Opens (creating) the store at `root`.
    pub fn open(root: &Path) -> Result<Self> {
        fs::create_dir_all(root)?;
        let layout = OciLayout::create(&root.join("oci"))?;
        Ok(Self {
            root: root.to_path_buf(),
            layout,
        })
    }

    /// Opens the store at [`Self::default_root`].
    pub fn open_default() -> Result<Self> {
        Self::open(&Self::default_root())
    }

    /// The store's directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The OCI layout holding every blob and manifest.
    pub fn layout(&self) -> &OciLayout {
        &self.layout
    }

    /// A directory for a named purpose (`build-cache`, `layers`, `tmp`), created on demand.
    pub fn dir(&self, name: &str) -> Result<PathBuf> {
        let d = self.root.join(name);
        fs::create_dir_all(&d)?;
        Ok(d)
    }

    /// Where blobs of this store were seen in registries (for cross-repository mounts).
    pub fn blob_locations(&self) -> BlobLocations {
        BlobLocations::new(&self.root.join("blob-locations"))
    }

    /// The descriptor tagged with `reference` (its full normalised form).
    pub fn resolve(&self, reference: &Reference) -> Result<Descriptor> {
        self.layout
            .resolve(Some(&reference.to_string()))
            .map_err(|_| ImageError::NotFound {
                reference: reference.to_string(),
                location: format!("the local image store ({})", self.root.display()),
                hint: " (build it, or `gantry image pull` it first)".into(),
            })
    }

    /// Tags `descriptor` as `reference`.
    pub fn tag(&self, reference: &Reference, descriptor: &Descriptor) -> Result<()> {
        self.layout.set_ref(&reference.to_string(), descriptor)
    }
}
