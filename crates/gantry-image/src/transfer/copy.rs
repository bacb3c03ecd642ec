//! Copying an image (or a whole multi-platform index) from a [`Source`] to a [`Destination`]:
//! blobs first (skipping those present, mounting within one registry), child manifests by
//! digest, the named manifest last — so a failure never leaves a tag pointing at missing
//! content.

use crate::blob_locations::BlobLocations;
use crate::descriptor::Descriptor;
use crate::digest::Digest;
use crate::error::{ImageError, Result};
use crate::index::ImageIndex;
use crate::manifest::ImageManifest;
use crate::media_type;
use crate::platform::Platform;
use crate::registry::{BlobPush, RawManifest};
use crate::transfer::endpoint::{Destination, Source};

/// Which platforms of an index to copy.
#[derive(Debug, Clone, Default)]
pub enum PlatformChoice {
    /// The whole index (every child).
    #[default]
    All,
    /// One platform: the destination gets that platform's manifest only.
    One(Platform),
}

/// What a copy did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CopyReport {
    /// Digest of the manifest written under the destination name.
    pub digest: Option<Digest>,
    /// Its media type.
    pub media_type: String,
    /// Blobs sent.
    pub uploaded: usize,
    /// Blobs mounted from another repository.
    pub mounted: usize,
    /// Blobs already present.
    pub existing: usize,
    /// Bytes sent.
    pub bytes_uploaded: u64,
}

/// Copies the named image of `src` to `dst` (see the module doc).
pub fn copy_image(
    src: &dyn Source,
    dst: &dyn Destination,
    platforms: &PlatformChoice,
    what: &str,
) -> Result<CopyReport> {
    copy_image_with(src, dst, platforms, what, None)
}

/// [`copy_image`] that also consults and updates a blob location cache: blobs known to be
/// in another repository of the destination registry are mounted from there.
pub fn copy_image_with(
    src: &dyn Source,
    dst: &dyn Destination,
    platforms: &PlatformChoice,
    what: &str,
    locations: Option<&BlobLocations>,
) -> Result<CopyReport> {
    let mut report = CopyReport::default();
    let top = src.manifest(None)?;
    let top = if media_type::is_index(&top.media_type) {
        let index = ImageIndex::from_slice(&top.bytes, what)?;
        match platforms {
            PlatformChoice::All => {
                for child in &index.manifests {
                    let m = src.manifest(Some(&child.digest))?;
                    copy_blobs(src, dst, &m, &mut report, what, locations)?;
                    dst.put_manifest(&m, false)?;
                }
                top
            }
            PlatformChoice::One(p) => {
                let child = index.select(p, what)?;
                let m = src.manifest(Some(&child.digest))?;
                copy_blobs(src, dst, &m, &mut report, what, locations)?;
                m
            }
        }
    } else {
        copy_blobs(src, dst, &top, &mut report, what, locations)?;
        top
    };
    report.digest = Some(dst.put_manifest(&top, true)?);
    report.media_type = top.media_type;
    Ok(report)
}

/// The config and layer descriptors of a single-image manifest.
pub fn manifest_blobs(m: &RawManifest, what: &str) -> Result<Vec<Descriptor>> {
    if !media_type::is_manifest(&m.media_type) {
        return Err(ImageError::UnsupportedMediaType {
            media_type: m.media_type.clone(),
            what: what.to_owned(),
        });
    }
    let parsed = ImageManifest::from_slice(&m.bytes, what)?;
    let mut all = vec![parsed.config];
    all.extend(parsed.layers);
    Ok(all)
}

fn copy_blobs(
    src: &dyn Source,
    dst: &dyn Destination,
    m: &RawManifest,
    report: &mut CopyReport,
    what: &str,
    locations: Option<&BlobLocations>,
) -> Result<()> {
    let blobs = manifest_blobs(m, what)?;
    // Up to three blobs at a time: registries are latency-bound.
    let results: Vec<Result<(BlobPush, u64)>> = std::thread::scope(|s| {
        let chunks: Vec<&[Descriptor]> = blobs.chunks(blobs.len().div_ceil(3).max(1)).collect();
        let handles: Vec<_> = chunks
            .into_iter()
            .map(|chunk| {
                s.spawn(move || {
                    chunk
                        .iter()
                        .map(|d| copy_blob(src, dst, d, locations))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| {
                h.join().unwrap_or_else(|_| {
                    vec![Err(ImageError::Usage("blob copy thread panicked".into()))]
                })
            })
            .collect()
    });
    for r in results {
        let (kind, size) = r?;
        match kind {
            BlobPush::Existed => report.existing += 1,
            BlobPush::Mounted => report.mounted += 1,
            BlobPush::Uploaded => {
                report.uploaded += 1;
                report.bytes_uploaded += size;
            }
        }
    }
    Ok(())
}

fn copy_blob(
    src: &dyn Source,
    dst: &dyn Destination,
    d: &Descriptor,
    locations: Option<&BlobLocations>,
) -> Result<(BlobPush, u64)> {
    let remember = |kind: BlobPush| {
        if let Some(loc) = locations {
            if let Some((r, repo)) = dst.registry_repo() {
                loc.record(&d.digest, r, repo);
            }
            if let Some((r, repo)) = src.registry_repo() {
                loc.record(&d.digest, r, repo);
            }
        }
        kind
    };
    if dst.has_blob(&d.digest)? {
        return Ok((remember(BlobPush::Existed), 0));
    }
    if let Some((dst_registry, dst_repository)) = dst.registry_repo() {
        let mut candidates: Vec<String> = Vec::new();
        if let Some((r, repo)) = src.registry_repo()
            && r == dst_registry
        {
            candidates.push(repo.to_owned());
        }
        if let Some(loc) = locations {
            candidates.extend(loc.repositories(&d.digest, dst_registry));
        }
        candidates.retain(|c| c != dst_repository);
        candidates.dedup();
        for from in candidates.iter().take(3) {
            if dst.mount_blob(d, from).unwrap_or(false) {
                return Ok((remember(BlobPush::Mounted), 0));
            }
        }
    }
    // A failed upload is cancelled by the destination; start it again from the first byte
    // (registries may not resume a session whose last chunk was cut half-way).
    let mut attempt = 0;
    let kind = loop {
        attempt += 1;
        let mut reader = src.blob(d)?;
        match dst.put_blob(d, &mut reader, None) {
            Ok(kind) => break kind,
            Err(e) if attempt < 3 && is_transient(&e) => {
                std::thread::sleep(std::time::Duration::from_millis(250 * attempt));
            }
            Err(e) => return Err(e),
        }
    };
    Ok((remember(kind), d.size))
}

/// Errors worth another attempt: the network, or the registry having a bad moment.
fn is_transient(e: &ImageError) -> bool {
    match e {
        ImageError::Connection { .. } => true,
        ImageError::Registry { status, .. } => *status >= 500 || *status == 429,
        _ => false,
    }
}
