//! An OCI image layout on disk (`oci-layout`, `index.json`, `blobs/<alg>/<hex>`): the output of
//! `--output oci:DIR`, a `copy` source and destination, and the local image store's format.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use fs_err as fs;

use crate::descriptor::{Descriptor, REF_NAME_ANNOTATION};
use crate::digest::{Digest, HashingWriter};
use crate::error::{ImageError, Result};
use crate::file_lock::FileLock;
use crate::index::ImageIndex;

/// A directory in OCI image layout format.
#[derive(Debug, Clone)]
pub struct OciLayout {
    root: PathBuf,
}

impl OciLayout {
    /// Opens `root`, creating an empty layout when the directory is missing or empty.
    pub fn create(root: &Path) -> Result<Self> {
        fs::create_dir_all(root.join("blobs").join("sha256"))?;
        let marker = root.join("oci-layout");
        if !marker.exists() {
            write_atomic(&marker, br#"{"imageLayoutVersion":"1.0.0"}"#)?;
        }
        let layout = Self {
            root: root.to_path_buf(),
        };
        if !layout.index_path().exists() {
            write_atomic(&layout.index_path(), &ImageIndex::new_oci().to_bytes())?;
        }
        Ok(layout)
    }

    /// Opens an existing layout (error when `root/oci-layout` is missing).
    pub fn open(root: &Path) -> Result<Self> {
        if !root.join("oci-layout").is_file() {
            return Err(ImageError::Usage(format!(
                "{} is not an OCI image layout (no oci-layout file)",
                root.display()
            )));
        }
        Ok(Self {
            root: root.to_path_buf(),
        })
    }

    /// The layout's directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn index_path(&self) -> PathBuf {
        self.root.join("index.json")
    }

    /// Where the blob with this digest lives.
    pub fn blob_path(&self, digest: &Digest) -> PathBuf {
        self.root
            .join("blobs")
            .join(digest.algorithm())
            .join(digest.hex())
    }

    /// Whether the blob is present.
    pub fn has_blob(&self, digest: &Digest) -> bool {
        self.blob_path(digest).is_file()
    }

    /// Reads a whole blob (manifests, configs).
    pub fn read_blob(&self, digest: &Digest) -> Result<Vec<u8>> {
        let path = self.blob_path(digest);
        if !path.is_file() {
            return Err(self.missing(digest));
        }
        Ok(fs::read(path)?)
    }

    /// Opens a blob for streaming.
    pub fn open_blob(&self, digest: &Digest) -> Result<fs::File> {
        let path = self.blob_path(digest);
        if !path.is_file() {
            return Err(self.missing(digest));
        }
        Ok(fs::File::open(path)?)
    }

    fn missing(&self, digest: &Digest) -> ImageError {
        ImageError::BlobNotFound {
            digest: digest.to_string(),
            location: self.root.display().to_string(),
        }
    }

    /// Stores `bytes` and returns their digest.
    pub fn write_blob(&self, bytes: &[u8]) -> Result<Digest> {
        let digest = Digest::sha256(bytes);
        let path = self.blob_path(&digest);
        if !path.is_file() {
            write_atomic(&path, bytes)?;
        }
        Ok(digest)
    }

    /// A writer for a new blob; [`BlobWriter::commit`] moves it into place.
    pub fn blob_writer(&self) -> Result<BlobWriter> {
        let tmp = temp_name(&self.root.join("blobs"), "upload");
        let file = fs::File::create(&tmp)?;
        Ok(BlobWriter {
            inner: HashingWriter::new(std::io::BufWriter::with_capacity(256 * 1024, file)),
            tmp,
            layout: self.clone(),
        })
    }

    /// Copies `reader` into the store, checking it against `expected` when given.
    pub fn write_blob_from(
        &self,
        reader: &mut dyn Read,
        expected: Option<&Digest>,
    ) -> Result<(Digest, u64)> {
        if let Some(d) = expected
            && self.has_blob(d)
        {
            return Ok((d.clone(), fs::metadata(self.blob_path(d))?.len()));
        }
        let mut w = self.blob_writer()?;
        std::io::copy(reader, &mut w)?;
        w.commit(expected)
    }

    /// The layout's `index.json`.
    pub fn index(&self) -> Result<ImageIndex> {
        let bytes = fs::read(self.index_path())?;
        ImageIndex::from_slice(&bytes, &self.index_path().display().to_string())
    }

    /// Finds the manifest tagged `name` (`org.opencontainers.image.ref.name`). With no name and
    /// a single entry, that entry.
    pub fn resolve(&self, name: Option<&str>) -> Result<Descriptor> {
        let index = self.index()?;
        let found = match name {
            Some(n) => index.manifests.iter().find(|d| d.ref_name() == Some(n)),
            None if index.manifests.len() == 1 => index.manifests.first(),
            None => None,
        };
        found.cloned().ok_or_else(|| ImageError::NotFound {
            reference: name.unwrap_or("<no tag>").to_owned(),
            location: format!("OCI layout {}", self.root.display()),
            hint: {
                let names: Vec<&str> = index
                    .manifests
                    .iter()
                    .filter_map(Descriptor::ref_name)
                    .collect();
                if names.is_empty() {
                    String::new()
                } else {
                    format!(" (it has: {})", names.join(", "))
                }
            },
        })
    }

    /// Points `name` at `descriptor` in `index.json` (replacing an entry with the same name),
    /// under a lock so concurrent writers do not lose entries.
    pub fn set_ref(&self, name: &str, descriptor: &Descriptor) -> Result<()> {
        let _lock = FileLock::acquire(&self.root.join(".index.lock"))?;
        let mut index = self.index()?;
        index.manifests.retain(|d| d.ref_name() != Some(name));
        let mut d = descriptor.clone();
        d.annotations
            .get_or_insert_with(Default::default)
            .insert(REF_NAME_ANNOTATION.to_owned(), name.to_owned());
        index.manifests.push(d);
        write_atomic(&self.index_path(), &index.to_bytes())
    }
}

/// A blob being written into a layout (temp file, hashed as it goes).
#[derive(Debug)]
pub struct BlobWriter {
    inner: HashingWriter<std::io::BufWriter<fs::File>>,
    tmp: PathBuf,
    layout: OciLayout,
}

impl Write for BlobWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.inner.write(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

impl BlobWriter {
    /// Finishes the blob: verifies `expected` (when given) and renames it into place.
    pub fn commit(self, expected: Option<&Digest>) -> Result<(Digest, u64)> {
        let (buf, digest, size) = self.inner.finish();
        let file = buf
            .into_inner()
            .map_err(|e| ImageError::Io(e.into_error()))?;
        drop(file);
        if let Some(e) = expected
            && e.algorithm() == "sha256"
            && *e != digest
        {
            let _ = fs::remove_file(&self.tmp);
            return Err(ImageError::DigestMismatch {
                what: "downloaded blob".into(),
                expected: e.to_string(),
                actual: digest.to_string(),
            });
        }
        let dest = self.layout.blob_path(&digest);
        fs::rename(&self.tmp, &dest)?;
        Ok((digest, size))
    }
}

/// A unique temp path inside `dir`.
pub(crate) fn temp_name(dir: &Path, what: &str) -> PathBuf {
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    dir.join(format!(
        ".tmp-{what}-{}-{nanos}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ))
}

/// Writes `bytes` to `path` through a temp file and a rename (never a half-written file).
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().unwrap_or_else(|| Path::new("."));
    fs::create_dir_all(dir)?;
    let tmp = temp_name(dir, "write");
    fs::write(&tmp, bytes)?;
    fs::rename(&tmp, path)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stores_blobs_and_refs() {
        let dir = tempfile::tempdir().unwrap();
        let layout = OciLayout::create(dir.path()).unwrap();
        let d = layout.write_blob(b"{}").unwrap();
        assert!(layout.has_blob(&d));
        assert_eq!(layout.read_blob(&d).unwrap(), b"{}");
        let desc = Descriptor::for_bytes(crate::media_type::OCI_MANIFEST, b"{}");
        layout.set_ref("v1", &desc).unwrap();
        layout.set_ref("v1", &desc).unwrap();
        layout.set_ref("v2", &desc).unwrap();
        assert_eq!(layout.index().unwrap().manifests.len(), 2);
        assert_eq!(layout.resolve(Some("v2")).unwrap().digest, d);
        let err = layout.resolve(Some("nope")).unwrap_err().to_string();
        assert!(err.contains("it has: v1, v2"), "{err}");
        let mut w = layout.blob_writer().unwrap();
        w.write_all(b"abc").unwrap();
        let bad = Digest::sha256(b"abd");
        assert!(w.commit(Some(&bad)).is_err());
    }
}
