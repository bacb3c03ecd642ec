//! Daemonless container images for Gantry.
//!
//! * [`Reference`], [`Digest`], [`Platform`]: naming things.
//! * [`ImageManifest`], [`ImageIndex`], [`ImageConfig`], [`Descriptor`]: OCI and Docker
//!   schema2 objects (kept as raw bytes wherever digests matter).
//! * [`OciLayout`], [`LocalStore`]: content-addressed storage on disk; [`LayerWriter`]:
//!   reproducible layers.
//! * [`registry`]: the distribution-API client (anonymous, Basic, Bearer; push, pull, copy,
//!   retag, mounts, chunked uploads, CA files, plain HTTP on loopback).
//! * [`dockerfile`] and [`build`]: parsing Dockerfiles and building them without a daemon.

mod blob_locations;
pub mod build;
mod descriptor;
mod digest;
pub mod dockerfile;
mod error;
mod file_lock;
mod image_config;
mod index;
mod layer_writer;
mod local_store;
mod manifest;
pub mod media_type;
mod oci_layout;
mod platform;
mod reference;
pub mod registry;
pub mod transfer;
mod unpack;

pub use blob_locations::BlobLocations;
pub use descriptor::{Descriptor, REF_NAME_ANNOTATION};
pub use digest::{Digest, HashingWriter, to_hex};
pub use error::{ImageError, Result};
pub use file_lock::FileLock;
pub use image_config::{History, ImageConfig, RootFs, RuntimeConfig, rfc3339};
pub use index::ImageIndex;
pub use layer_writer::{EntryMeta, Layer, LayerWriter};
pub use local_store::LocalStore;
pub use manifest::ImageManifest;
pub use oci_layout::{BlobWriter, OciLayout};
pub use platform::{Platform, normalize_arch};
pub use reference::{DOCKER_HUB, Reference, is_loopback_host};
pub use unpack::{WhiteoutMode, unpack_layer};
