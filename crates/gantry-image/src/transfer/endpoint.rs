//! Reading and writing images at a location: the [`Source`] and [`Destination`] traits and
//! their registry and OCI-layout implementations.

use std::io::Read;

use crate::descriptor::Descriptor;
use crate::digest::Digest;
use crate::error::Result;
use crate::oci_layout::OciLayout;
use crate::reference::Reference;
use crate::registry::{BlobPush, RawManifest, RegistryClient};

/// Where manifests and blobs are read from.
pub trait Source: Sync {
    /// The named manifest (`None`) or the one with this digest.
    fn manifest(&self, digest: Option<&Digest>) -> Result<RawManifest>;
    /// A blob's bytes.
    fn blob(&self, descriptor: &Descriptor) -> Result<Box<dyn Read + '_>>;
    /// `(registry, repository)` when this is a registry (enables cross-repository mounts).
    fn registry_repo(&self) -> Option<(&str, &str)> {
        None
    }
    /// Where a blob was pulled from (`registry`, `repository`), so a push to the same
    /// registry can mount it instead of uploading it. Registries answer for themselves.
    fn blob_origin(&self, _digest: &Digest) -> Option<(String, String)> {
        self.registry_repo()
            .map(|(r, p)| (r.to_owned(), p.to_owned()))
    }
}

/// Where manifests and blobs are written.
pub trait Destination: Sync {
    /// Whether the blob is already there.
    fn has_blob(&self, digest: &Digest) -> Result<bool>;
    /// Stores a blob (mounting it from `mount_from`, a repository of the same registry, when
    /// possible).
    fn put_blob(
        &self,
        descriptor: &Descriptor,
        data: &mut dyn Read,
        mount_from: Option<&str>,
    ) -> Result<BlobPush>;
    /// Stores a manifest: by digest for children of an index (`named = false`), under the
    /// destination's name for the top one.
    fn put_manifest(&self, manifest: &RawManifest, named: bool) -> Result<Digest>;
    /// Mounts a blob from another repository of the same registry; `false` when the
    /// registry declined (the caller uploads it then).
    fn mount_blob(&self, _descriptor: &Descriptor, _from: &str) -> Result<bool> {
        Ok(false)
    }
    /// `(registry, repository)` when this is a registry.
    fn registry_repo(&self) -> Option<(&str, &str)> {
        None
    }
}

/// A registry repository with a tag or digest.
#[derive(Debug)]
pub struct RegistryEndpoint<'c> {
    /// The client.
    pub client: &'c RegistryClient,
    /// The image.
    pub reference: Reference,
}

impl Source for RegistryEndpoint<'_> {
    fn manifest(&self, digest: Option<&Digest>) -> Result<RawManifest> {
        match digest {
            None => self.client.get_manifest(&self.reference),
            Some(d) => self
                .client
                .get_manifest(&self.reference.with_digest(d.clone())),
        }
    }

    fn blob(&self, descriptor: &Descriptor) -> Result<Box<dyn Read + '_>> {
        Ok(Box::new(
            self.client.get_blob(&self.reference, &descriptor.digest)?,
        ))
    }

    fn registry_repo(&self) -> Option<(&str, &str)> {
        Some((self.reference.registry(), self.reference.repository()))
    }
}

impl Destination for RegistryEndpoint<'_> {
    fn has_blob(&self, digest: &Digest) -> Result<bool> {
        self.client.has_blob(&self.reference, digest)
    }

    fn put_blob(
        &self,
        descriptor: &Descriptor,
        data: &mut dyn Read,
        mount_from: Option<&str>,
    ) -> Result<BlobPush> {
        self.client
            .push_blob(&self.reference, descriptor, data, mount_from)
    }

    fn put_manifest(&self, manifest: &RawManifest, named: bool) -> Result<Digest> {
        let target = if named {
            self.reference.clone()
        } else {
            self.reference.with_digest(manifest.digest.clone())
        };
        self.client.put_manifest(&target, manifest)
    }

    fn mount_blob(&self, descriptor: &Descriptor, from: &str) -> Result<bool> {
        self.client
            .mount_blob(&self.reference, &descriptor.digest, from)
    }

    fn registry_repo(&self) -> Option<(&str, &str)> {
        Some((self.reference.registry(), self.reference.repository()))
    }
}

/// An OCI layout (also the local store) with a ref name.
#[derive(Debug)]
pub struct LayoutEndpoint {
    /// The layout.
    pub layout: OciLayout,
    /// The ref name (`None`: the only entry when reading; untagged when writing).
    pub name: Option<String>,
}

impl Source for LayoutEndpoint {
    fn manifest(&self, digest: Option<&Digest>) -> Result<RawManifest> {
        let (digest, media_type) = if let Some(d) = digest {
            (d.clone(), None)
        } else {
            let d = self.layout.resolve(self.name.as_deref())?;
            (d.digest, Some(d.media_type))
        };
        let bytes = self.layout.read_blob(&digest)?;
        digest.verify(
            &bytes,
            &format!("manifest {digest} in {}", self.layout.root().display()),
        )?;
        Ok(RawManifest::new(bytes, media_type.as_deref()))
    }

    fn blob(&self, descriptor: &Descriptor) -> Result<Box<dyn Read + '_>> {
        Ok(Box::new(self.layout.open_blob(&descriptor.digest)?))
    }
}

impl Destination for LayoutEndpoint {
    fn has_blob(&self, digest: &Digest) -> Result<bool> {
        Ok(self.layout.has_blob(digest))
    }

    fn put_blob(
        &self,
        descriptor: &Descriptor,
        data: &mut dyn Read,
        _mount_from: Option<&str>,
    ) -> Result<BlobPush> {
        if self.layout.has_blob(&descriptor.digest) {
            return Ok(BlobPush::Existed);
        }
        self.layout
            .write_blob_from(data, Some(&descriptor.digest))?;
        Ok(BlobPush::Uploaded)
    }

    fn put_manifest(&self, manifest: &RawManifest, named: bool) -> Result<Digest> {
        let digest = self.layout.write_blob(&manifest.bytes)?;
        if named && let Some(name) = &self.name {
            self.layout.set_ref(name, &manifest.descriptor())?;
        }
        Ok(digest)
    }
}

/// A manifest already known by digest in a layout (e.g. a build result), as a source.
#[derive(Debug)]
pub struct PinnedLayout {
    /// The layout holding the blobs.
    pub layout: OciLayout,
    /// The top manifest.
    pub manifest: RawManifest,
}

impl Source for PinnedLayout {
    fn manifest(&self, digest: Option<&Digest>) -> Result<RawManifest> {
        match digest {
            None => Ok(self.manifest.clone()),
            Some(d) => {
                let bytes = self.layout.read_blob(d)?;
                d.verify(&bytes, &format!("manifest {d}"))?;
                Ok(RawManifest::new(bytes, None))
            }
        }
    }

    fn blob(&self, descriptor: &Descriptor) -> Result<Box<dyn Read + '_>> {
        Ok(Box::new(self.layout.open_blob(&descriptor.digest)?))
    }
}
