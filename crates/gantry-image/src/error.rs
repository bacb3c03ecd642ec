//! The crate's error type: every variant names the image, file or line involved and, where
//! there is one, what to do about it.

use std::path::PathBuf;

/// Everything that can go wrong while handling images.
#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    /// An image reference that does not follow `[registry/]path[:tag][@digest]`.
    #[error("invalid image reference `{reference}`: {reason}")]
    InvalidReference { reference: String, reason: String },

    /// A digest that is not `<algorithm>:<hex>`.
    #[error("invalid digest `{digest}`: {reason}")]
    InvalidDigest { digest: String, reason: String },

    /// Content whose sha256 differs from the digest that names it.
    #[error("digest mismatch for {what}: expected {expected}, got {actual}")]
    DigestMismatch {
        what: String,
        expected: String,
        actual: String,
    },

    /// A file-system operation failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),

    /// JSON that does not have the expected shape.
    #[error("invalid JSON in {what}: {source}")]
    Json {
        what: String,
        #[source]
        source: serde_json::Error,
    },

    /// A manifest or index media type this crate does not handle.
    #[error("unsupported media type `{media_type}` for {what}")]
    UnsupportedMediaType { media_type: String, what: String },

    /// An image that is not in the local store or OCI layout.
    #[error("image `{reference}` not found in {location}{hint}")]
    NotFound {
        reference: String,
        location: String,
        hint: String,
    },

    /// A blob missing from a store.
    #[error("blob {digest} not found in {location}")]
    BlobNotFound { digest: String, location: String },

    /// No manifest in an index matches the requested platform.
    #[error("`{reference}` has no image for platform {platform} (available: {available})")]
    NoMatchingPlatform {
        reference: String,
        platform: String,
        available: String,
    },

    /// The registry could not be reached.
    #[error("cannot reach registry {registry}: {detail}")]
    Connection { registry: String, detail: String },

    /// TLS verification failed.
    #[error(
        "TLS error talking to {registry}: {detail}; if the registry uses a private CA, pass \
         --ca-file <PEM> (or set SSL_CERT_FILE / CI_SERVER_TLS_CA_FILE), or put it in \
         /etc/docker/certs.d/{registry}/ca.crt"
    )]
    Tls { registry: String, detail: String },

    /// The registry refused our credentials (or we had none).
    #[error("unauthorized: {registry} refused {action} for `{reference}`{detail}")]
    Unauthorized {
        registry: String,
        reference: String,
        action: String,
        detail: String,
    },

    /// The registry answered with an unexpected status.
    #[error("registry {registry}: {method} {path} returned {status}{detail}")]
    Registry {
        registry: String,
        method: String,
        path: String,
        status: u16,
        detail: String,
    },

    /// The manifest (tag or digest) does not exist in the registry.
    #[error("manifest unknown: `{reference}` does not exist in {registry}")]
    ManifestUnknown { reference: String, registry: String },

    /// A credential file or credential helper failed.
    #[error("credentials for {registry}: {detail}")]
    Credentials { registry: String, detail: String },

    /// A Dockerfile that cannot be parsed.
    #[error("{file}:{line}: {message}")]
    Dockerfile {
        file: PathBuf,
        line: usize,
        message: String,
    },

    /// A build step failed.
    #[error("{file}:{line}: {instruction}: {message}")]
    Build {
        file: PathBuf,
        line: usize,
        instruction: String,
        message: String,
    },

    /// The kernel refused to set up the isolated root file system for RUN.
    #[error(
        "cannot isolate RUN ({step}): {detail}. RUN needs a mount namespace and overlayfs (as \
         root), or unprivileged user namespaces (kernel.unprivileged_userns_clone=1, \
         user.max_user_namespaces > 0) and overlayfs in user namespaces (Linux >= 5.11) \
         when not root"
    )]
    Sandbox { step: String, detail: String },

    /// A `--output`, `copy` location or command-line value that makes no sense.
    #[error("{0}")]
    Usage(String),
}

impl ImageError {
    /// Wraps a `serde_json` error with what was being parsed.
    pub fn json(what: impl Into<String>, source: serde_json::Error) -> Self {
        Self::Json {
            what: what.into(),
            source,
        }
    }
}

/// Shorthand for results of this crate.
pub type Result<T, E = ImageError> = std::result::Result<T, E>;
