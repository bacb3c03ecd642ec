//! What `gantry image build` was asked to do.

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::platform::Platform;
use crate::reference::Reference;

/// The manifest family of built images.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ImageFormat {
    /// OCI image manifest and config (default).
    #[default]
    Oci,
    /// Docker schema2 (for old registries and clients).
    Docker,
}

/// Build inputs.
#[derive(Debug, Clone)]
pub struct BuildOptions {
    /// The context directory.
    pub context: PathBuf,
    /// The Dockerfile (default `<context>/Dockerfile`).
    pub dockerfile: PathBuf,
    /// Tags to give the result in the local store.
    pub tags: Vec<Reference>,
    /// `--build-arg K=V`.
    pub build_args: BTreeMap<String, String>,
    /// `--target`: the stage to build (default: the last).
    pub target: Option<String>,
    /// Target platform (default: the host's). RUN executes natively, so a foreign platform
    /// works only for Dockerfiles without RUN.
    pub platform: Option<Platform>,
    /// Always fetch base images from their registry, even when the local store has them.
    pub pull: bool,
    /// Ignore the layer cache (results are still stored in it).
    pub no_cache: bool,
    /// Timestamp of every layer entry and of `created` (`SOURCE_DATE_EPOCH`, default 0).
    pub source_date_epoch: u64,
    /// Manifest family.
    pub format: ImageFormat,
    /// Print one line per step to stderr.
    pub verbose: bool,
}

impl BuildOptions {
    /// Defaults for `context` (Dockerfile `<context>/Dockerfile`; `SOURCE_DATE_EPOCH` from the
    /// environment).
    pub fn new(context: impl Into<PathBuf>) -> Self {
        let context = context.into();
        Self {
            dockerfile: context.join("Dockerfile"),
            context,
            tags: Vec::new(),
            build_args: BTreeMap::new(),
            target: None,
            platform: None,
            pull: false,
            no_cache: false,
            source_date_epoch: std::env::var("SOURCE_DATE_EPOCH")
                .ok()
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0),
            format: ImageFormat::Oci,
            verbose: false,
        }
    }
}
