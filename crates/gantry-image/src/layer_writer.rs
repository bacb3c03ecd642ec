//! Reproducible layer blobs: a tar stream with fixed metadata, gzip-compressed with a fixed
//! header, hashed twice in one pass (`diff_id` of the tar, digest of the gzip bytes).

use std::io::{self, Read, Write};

use flate2::write::GzEncoder;

use crate::descriptor::Descriptor;
use crate::digest::{Digest, HashingWriter};
use crate::error::Result;
use crate::oci_layout::{BlobWriter, OciLayout};

/// A finished layer: its blob descriptor and the digest of its uncompressed tar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layer {
    /// The compressed blob (media type, digest, size).
    pub descriptor: Descriptor,
    /// sha256 of the uncompressed tar.
    pub diff_id: Digest,
}

/// Metadata every entry gets (the policy that makes layers reproducible).
#[derive(Debug, Clone, Copy)]
pub struct EntryMeta {
    /// Permission bits (and setuid/setgid/sticky).
    pub mode: u32,
    /// Owner.
    pub uid: u64,
    /// Group.
    pub gid: u64,
    /// Modification time (Unix seconds): `SOURCE_DATE_EPOCH` or 0.
    pub mtime: u64,
}

type Stack = tar::Builder<HashingWriter<GzEncoder<HashingWriter<BlobWriter>>>>;

/// Writes a layer into an OCI layout's blob directory. Entries must be added in the final
/// order (sorted by path, directories before their contents): the writer does not reorder.
pub struct LayerWriter {
    tar: Stack,
    media_type: String,
}

impl std::fmt::Debug for LayerWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LayerWriter")
            .field("media_type", &self.media_type)
            .finish_non_exhaustive()
    }
}

impl LayerWriter {
    /// Starts a gzip layer of type `media_type` in `layout`.
    pub fn new(layout: &OciLayout, media_type: &str) -> Result<Self> {
        let blob = HashingWriter::new(layout.blob_writer()?);
        // Fixed gzip header: mtime 0, no name, OS "unknown" (255); fixed level.
        let gz = flate2::GzBuilder::new()
            .mtime(0)
            .operating_system(255)
            .write(blob, flate2::Compression::new(6));
        let mut tar = tar::Builder::new(HashingWriter::new(gz));
        tar.mode(tar::HeaderMode::Deterministic);
        tar.follow_symlinks(false);
        Ok(Self {
            tar,
            media_type: media_type.to_owned(),
        })
    }

    fn header(kind: tar::EntryType, meta: EntryMeta, size: u64) -> tar::Header {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(kind);
        h.set_mode(meta.mode & 0o7777);
        h.set_uid(meta.uid);
        h.set_gid(meta.gid);
        h.set_mtime(meta.mtime);
        h.set_size(size);
        h
    }

    /// A directory (`path` without trailing slash; one is added).
    pub fn dir(&mut self, path: &str, meta: EntryMeta) -> io::Result<()> {
        let mut h = Self::header(tar::EntryType::Directory, meta, 0);
        let name = format!("{}/", path.trim_end_matches('/'));
        self.tar.append_data(&mut h, name, io::empty())
    }

    /// A regular file of `size` bytes read from `data`.
    pub fn file(
        &mut self,
        path: &str,
        meta: EntryMeta,
        size: u64,
        data: &mut dyn Read,
    ) -> io::Result<()> {
        let mut h = Self::header(tar::EntryType::Regular, meta, size);
        self.tar.append_data(&mut h, path, data.take(size))
    }

    /// A symbolic link.
    pub fn symlink(&mut self, path: &str, target: &str, meta: EntryMeta) -> io::Result<()> {
        let mut h = Self::header(
            tar::EntryType::Symlink,
            EntryMeta {
                mode: 0o777,
                ..meta
            },
            0,
        );
        self.tar.append_link(&mut h, path, target)
    }

    /// A hard link to an earlier entry.
    pub fn hardlink(&mut self, path: &str, target: &str, meta: EntryMeta) -> io::Result<()> {
        let mut h = Self::header(tar::EntryType::Link, meta, 0);
        self.tar.append_link(&mut h, path, target)
    }

    /// A character or block device, or a FIFO.
    pub fn special(
        &mut self,
        path: &str,
        kind: tar::EntryType,
        major: u32,
        minor: u32,
        meta: EntryMeta,
    ) -> io::Result<()> {
        let mut h = Self::header(kind, meta, 0);
        h.set_device_major(major)?;
        h.set_device_minor(minor)?;
        self.tar.append_data(&mut h, path, io::empty())
    }

    /// A whiteout deleting `path` from lower layers (`dir/.wh.name`).
    pub fn whiteout(&mut self, path: &str, mtime: u64) -> io::Result<()> {
        let (dir, name) = path.rsplit_once('/').map_or(("", path), |(d, n)| (d, n));
        let wh = if dir.is_empty() {
            format!(".wh.{name}")
        } else {
            format!("{dir}/.wh.{name}")
        };
        let meta = EntryMeta {
            mode: 0o644,
            uid: 0,
            gid: 0,
            mtime,
        };
        self.file(&wh, meta, 0, &mut io::empty())
    }

    /// Marks `dir` opaque (`dir/.wh..wh..opq`): lower layers' contents are hidden.
    pub fn opaque(&mut self, dir: &str, mtime: u64) -> io::Result<()> {
        let meta = EntryMeta {
            mode: 0o644,
            uid: 0,
            gid: 0,
            mtime,
        };
        let name = if dir.is_empty() {
            ".wh..wh..opq".to_owned()
        } else {
            format!("{dir}/.wh..wh..opq")
        };
        self.file(&name, meta, 0, &mut io::empty())
    }

    /// Finishes the tar and the gzip stream and moves the blob into place.
    pub fn finish(self) -> Result<Layer> {
        let inner = self.tar.into_inner()?;
        let (gz, diff_id, _) = inner.finish();
        let blob = gz.finish()?;
        let (mut writer, _, _) = blob.finish();
        writer.flush()?;
        let (digest, size) = writer.commit(None)?;
        Ok(Layer {
            descriptor: Descriptor {
                media_type: self.media_type,
                digest,
                size,
                platform: None,
                annotations: None,
                artifact_type: None,
            },
            diff_id,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn build(layout: &OciLayout) -> Layer {
        let meta = EntryMeta {
            mode: 0o755,
            uid: 0,
            gid: 0,
            mtime: 0,
        };
        let mut w = LayerWriter::new(layout, crate::media_type::OCI_LAYER_GZIP).unwrap();
        w.dir("app", meta).unwrap();
        w.file(
            "app/hello",
            EntryMeta {
                mode: 0o644,
                ..meta
            },
            5,
            &mut &b"hello"[..],
        )
        .unwrap();
        w.symlink("app/link", "hello", meta).unwrap();
        w.whiteout("app/gone", 0).unwrap();
        w.finish().unwrap()
    }

    #[test]
    fn same_input_same_digests() {
        let a = tempfile::tempdir().unwrap();
        let b = tempfile::tempdir().unwrap();
        let la = build(&OciLayout::create(a.path()).unwrap());
        let lb = build(&OciLayout::create(b.path()).unwrap());
        assert_eq!(la, lb);
        // The blob is gzip with a zero mtime and the tar inside hashes to diff_id.
        let layout = OciLayout::open(a.path()).unwrap();
        let bytes = layout.read_blob(&la.descriptor.digest).unwrap();
        assert_eq!(&bytes[..2], &[0x1f, 0x8b]);
        assert_eq!(&bytes[4..8], &[0, 0, 0, 0]);
        let mut tar = Vec::new();
        flate2::read::GzDecoder::new(&bytes[..])
            .read_to_end(&mut tar)
            .unwrap();
        assert_eq!(Digest::sha256(&tar), la.diff_id);
        let names: Vec<String> = tar::Archive::new(&tar[..])
            .entries()
            .unwrap()
            .map(|e| e.unwrap().path().unwrap().display().to_string())
            .collect();
        assert_eq!(names, ["app/", "app/hello", "app/link", "app/.wh.gone"]);
    }
}
