//! Archives of artifacts and caches: gzip-compressed tar files, written to a temporary file and
//! renamed into place (so concurrent writers never leave a torn archive), with a sha256 of the
//! archive bytes for integrity checks.

use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::Path;

use flate2::Compression;
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use sha2::{Digest, Sha256};

use crate::file_set::FileSet;

/// A written archive.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ArchiveInfo {
    pub(crate) sha256: String,
    pub(crate) size: u64,
}

/// Writes the entries of `files` (relative to `root`) to `dest` atomically.
pub(crate) fn create_archive(root: &Path, files: &FileSet, dest: &Path) -> io::Result<ArchiveInfo> {
    let dir = dest.parent().unwrap_or(Path::new("."));
    fs_err::create_dir_all(dir)?;
    let tmp = tempfile::NamedTempFile::new_in(dir).map_err(|e| {
        io::Error::new(
            e.kind(),
            format!("creating a temporary file in {}: {e}", dir.display()),
        )
    })?;
    let writer = HashingWriter {
        inner: BufWriter::new(tmp.as_file().try_clone()?),
        hasher: Sha256::new(),
        size: 0,
    };
    let mut builder = tar::Builder::new(GzEncoder::new(writer, Compression::fast()));
    builder.follow_symlinks(false);
    for rel in &files.paths {
        let full = root.join(rel);
        let Ok(meta) = std::fs::symlink_metadata(&full) else {
            continue; // vanished meanwhile
        };
        if meta.is_dir() {
            builder.append_dir(rel, &full)
        } else {
            builder.append_path_with_name(&full, rel)
        }
        .map_err(|e| io::Error::new(e.kind(), format!("archiving {}: {e}", full.display())))?;
    }
    let encoder = builder.into_inner()?;
    let mut writer = encoder.finish()?;
    writer.inner.flush()?;
    let info = ArchiveInfo {
        sha256: hex(&writer.hasher.finalize_reset()),
        size: writer.size,
    };
    drop(writer);
    tmp.persist(dest).map_err(|e| {
        io::Error::new(
            e.error.kind(),
            format!("renaming into {}: {}", dest.display(), e.error),
        )
    })?;
    Ok(info)
}

/// Extracts `archive` into `dest`, overwriting files in place.
pub(crate) fn extract_archive(archive: &Path, dest: &Path) -> io::Result<()> {
    let file = fs_err::File::open(archive)?;
    let mut tar = tar::Archive::new(GzDecoder::new(BufReader::new(file)));
    tar.set_overwrite(true);
    tar.set_preserve_permissions(true);
    tar.set_preserve_mtime(true);
    tar.unpack(dest)
        .map_err(|e| io::Error::new(e.kind(), format!("extracting {}: {e}", archive.display())))
}

/// Hex sha256 of a file's bytes.
pub(crate) fn sha256_file(path: &Path) -> io::Result<String> {
    let mut file = File::open(path)
        .map_err(|e| io::Error::new(e.kind(), format!("opening {}: {e}", path.display())))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hex(&hasher.finalize()))
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

struct HashingWriter<W: Write> {
    inner: W,
    hasher: Sha256,
    size: u64,
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.size += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}
