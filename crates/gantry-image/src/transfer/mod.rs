//! Moving images between locations: registries, the local store, OCI layouts and docker
//! archives.

mod copy;
mod docker_archive;
mod endpoint;
mod location;
mod retag;

pub use copy::{CopyReport, PlatformChoice, copy_image, copy_image_with, manifest_blobs};
pub use docker_archive::write_docker_archive;
pub use endpoint::{Destination, LayoutEndpoint, PinnedLayout, RegistryEndpoint, Source};
pub use location::ImageLocation;
pub use retag::{retag, retag_target};
