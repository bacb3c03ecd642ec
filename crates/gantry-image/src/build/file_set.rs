//! The entries of a `COPY`/`ADD` layer, keyed by their path in the image: sorted, with a
//! content checksum for the cache key, written as a reproducible layer.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::PathBuf;
use std::sync::Arc;

use fs_err as fs;
use sha2::{Digest as _, Sha256};

use crate::digest::Digest;
use crate::error::Result;
use crate::layer_writer::{EntryMeta, Layer, LayerWriter};
use crate::oci_layout::OciLayout;

/// Where a file's bytes come from.
#[derive(Debug, Clone)]
pub enum Content {
    /// A file on disk.
    Path(PathBuf),
    /// Bytes in memory (heredocs, archive members).
    Bytes(Arc<Vec<u8>>),
}

/// What an entry is.
#[derive(Debug, Clone)]
pub enum EntryKind {
    /// A directory.
    Dir,
    /// A regular file.
    File(Content),
    /// A symbolic link to this target.
    Symlink(String),
}

/// One entry.
#[derive(Debug, Clone)]
pub struct FileEntry {
    /// Kind and content.
    pub kind: EntryKind,
    /// Permission bits.
    pub mode: u32,
    /// Owner.
    pub uid: u64,
    /// Group.
    pub gid: u64,
}

/// Entries by image path (relative, no leading `/`).
#[derive(Debug, Clone, Default)]
pub struct FileSet {
    entries: BTreeMap<String, FileEntry>,
}

impl FileSet {
    /// Adds or replaces an entry.
    pub fn insert(&mut self, path: &str, entry: FileEntry) {
        let p = path.trim_matches('/');
        if !p.is_empty() {
            self.entries.insert(p.to_owned(), entry);
        }
    }

    /// Whether `path` is present.
    pub fn contains(&self, path: &str) -> bool {
        self.entries.contains_key(path.trim_matches('/'))
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are no entries.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The paths, sorted.
    pub fn paths(&self) -> impl Iterator<Item = &str> {
        self.entries.keys().map(String::as_str)
    }

    /// A checksum over paths, kinds, metadata and file contents (not mtimes).
    pub fn checksum(&self) -> Result<Digest> {
        let mut h = Sha256::new();
        let mut buf = vec![0u8; 64 * 1024];
        for (path, e) in &self.entries {
            h.update(path.as_bytes());
            h.update([0]);
            h.update(format!("{:o} {} {}", e.mode, e.uid, e.gid).as_bytes());
            match &e.kind {
                EntryKind::Dir => h.update(b"D"),
                EntryKind::Symlink(t) => {
                    h.update(b"L");
                    h.update(t.as_bytes());
                }
                EntryKind::File(Content::Bytes(b)) => {
                    h.update(b"F");
                    h.update(b.as_slice());
                }
                EntryKind::File(Content::Path(p)) => {
                    h.update(b"F");
                    let mut f = fs::File::open(p)?;
                    loop {
                        let n = f.read(&mut buf)?;
                        if n == 0 {
                            break;
                        }
                        h.update(&buf[..n]);
                    }
                }
            }
            h.update([0]);
        }
        Ok(Digest::from_sha256(h.finalize().as_slice()))
    }

    /// Writes the entries as a layer into `layout`, every mtime set to `mtime`.
    pub fn write_layer(&self, layout: &OciLayout, media_type: &str, mtime: u64) -> Result<Layer> {
        let mut w = LayerWriter::new(layout, media_type)?;
        for (path, e) in &self.entries {
            let meta = EntryMeta {
                mode: e.mode,
                uid: e.uid,
                gid: e.gid,
                mtime,
            };
            match &e.kind {
                EntryKind::Dir => w.dir(path, meta)?,
                EntryKind::Symlink(t) => w.symlink(path, t, meta)?,
                EntryKind::File(Content::Bytes(b)) => {
                    w.file(path, meta, b.len() as u64, &mut b.as_slice())?;
                }
                EntryKind::File(Content::Path(p)) => {
                    let mut f = fs::File::open(p)?;
                    let len = f.metadata()?.len();
                    w.file(path, meta, len, &mut f)?;
                }
            }
        }
        w.finish()
    }
}
