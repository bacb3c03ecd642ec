//! Unpacking layer tars into directories, applying or converting whiteouts.

use std::collections::HashSet;
use std::io::Read;
use std::path::{Component, Path, PathBuf};

use fs_err as fs;

use crate::error::{ImageError, Result};
use crate::media_type::Compression;

/// What to do with whiteout entries (`.wh.<name>`, `.wh..wh..opq`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WhiteoutMode {
    /// Apply them: delete what they name from `dest` (flattening layers into one tree).
    Apply,
    /// Turn them into overlayfs whiteouts (0/0 character devices, `trusted.overlay.opaque`),
    /// so the directory can serve as an overlay lower layer. Needs root.
    Overlay,
}

/// Unpacks one layer (`compression` as its media type says) into `dest`.
pub fn unpack_layer(
    reader: &mut dyn Read,
    compression: Compression,
    dest: &Path,
    mode: WhiteoutMode,
    what: &str,
) -> Result<()> {
    match compression {
        Compression::None => unpack_tar(reader, dest, mode, what),
        Compression::Gzip => {
            unpack_tar(&mut flate2::read::GzDecoder::new(reader), dest, mode, what)
        }
        Compression::Zstd => Err(ImageError::UnsupportedMediaType {
            media_type: "tar+zstd".into(),
            what: format!("{what} (zstd layers cannot be unpacked by gantry yet)"),
        }),
    }
}

fn unpack_tar(reader: &mut dyn Read, dest: &Path, mode: WhiteoutMode, what: &str) -> Result<()> {
    fs::create_dir_all(dest)?;
    let root = fs::canonicalize(dest)?;
    let am_root = unsafe { libc::geteuid() } == 0;
    let mut archive = tar::Archive::new(reader);
    archive.set_preserve_permissions(true);
    archive.set_preserve_ownerships(am_root);
    archive.set_preserve_mtime(true);
    archive.set_overwrite(true);
    archive.set_unpack_xattrs(false);
    let mut written: HashSet<PathBuf> = HashSet::new();
    let bad = |e: std::io::Error| {
        // tar wraps the OS error; show it.
        let cause = e
            .get_ref()
            .and_then(|inner| inner.source())
            .map(|c| format!(": {c}"))
            .unwrap_or_default();
        ImageError::Io(std::io::Error::new(
            e.kind(),
            format!("unpacking {what}: {e}{cause}"),
        ))
    };
    for entry in archive.entries().map_err(bad)? {
        let mut entry = entry.map_err(bad)?;
        let path = entry.path().map_err(bad)?.into_owned();
        let rel = clean(&path);
        let Some(rel) = rel else { continue };
        let name = rel
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let parent = rel.parent().map(Path::to_path_buf).unwrap_or_default();
        if name == ".wh..wh..opq" {
            let dir = safe_join(&root, &parent)?;
            match mode {
                WhiteoutMode::Apply => {
                    if let Ok(rd) = std::fs::read_dir(&dir) {
                        for child in rd.flatten() {
                            let p = parent.join(child.file_name());
                            if !written.iter().any(|w| w.starts_with(&p)) {
                                remove_any(&child.path())?;
                            }
                        }
                    }
                }
                WhiteoutMode::Overlay => {
                    fs::create_dir_all(&dir)?;
                    set_xattr(&dir, "trusted.overlay.opaque", b"y")?;
                }
            }
            continue;
        }
        if let Some(hidden) = name.strip_prefix(".wh.") {
            let target = safe_join(&root, &parent.join(hidden))?;
            remove_any(&target)?;
            if mode == WhiteoutMode::Overlay {
                mknod_whiteout(&target)?;
            }
            continue;
        }
        let target = root.join(&rel);
        // A type change (file ↔ directory ↔ link) replaces what was there.
        if let Ok(existing) = std::fs::symlink_metadata(&target)
            && !(existing.is_dir() && entry.header().entry_type().is_dir())
        {
            remove_any(&target)?;
        }
        entry.unpack_in(&root).map_err(bad)?;
        written.insert(rel);
    }
    Ok(())
}

/// The path without `.`/leading `/`; `None` for the root itself or for `..` components.
fn clean(path: &Path) -> Option<PathBuf> {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::Normal(n) => out.push(n),
            Component::CurDir | Component::RootDir => {}
            Component::ParentDir | Component::Prefix(_) => return None,
        }
    }
    (!out.as_os_str().is_empty()).then_some(out)
}

/// `root/rel`, refusing paths whose parent resolves outside `root` through symlinks.
fn safe_join(root: &Path, rel: &Path) -> Result<PathBuf> {
    let joined = root.join(rel);
    if let Some(parent) = joined.parent()
        && let Ok(real) = std::fs::canonicalize(parent)
        && !real.starts_with(root)
    {
        return Err(ImageError::Usage(format!(
            "layer entry {} escapes the root file system through a symlink",
            rel.display()
        )));
    }
    Ok(joined)
}

/// Removes a file, link or directory tree; missing is fine.
pub(crate) fn remove_any(path: &Path) -> Result<()> {
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.is_dir() => Ok(fs::remove_dir_all(path)?),
        Ok(_) => Ok(fs::remove_file(path)?),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e.into()),
    }
}

fn cstring(path: &Path) -> Result<std::ffi::CString> {
    use std::os::unix::ffi::OsStrExt;
    std::ffi::CString::new(path.as_os_str().as_bytes())
        .map_err(|_| ImageError::Usage(format!("path with NUL byte: {}", path.display())))
}

fn mknod_whiteout(path: &Path) -> Result<()> {
    let c = cstring(path)?;
    // SAFETY: valid C string; creates a 0/0 character device (overlayfs whiteout).
    let rc = unsafe { libc::mknod(c.as_ptr(), libc::S_IFCHR, 0) };
    if rc != 0 {
        return Err(ImageError::Io(std::io::Error::new(
            std::io::Error::last_os_error().kind(),
            format!(
                "creating overlay whiteout {}: {}",
                path.display(),
                std::io::Error::last_os_error()
            ),
        )));
    }
    Ok(())
}

fn set_xattr(path: &Path, name: &str, value: &[u8]) -> Result<()> {
    let c = cstring(path)?;
    let n = std::ffi::CString::new(name).unwrap_or_default();
    // SAFETY: valid C strings and a buffer of the given length.
    let rc = unsafe {
        libc::lsetxattr(
            c.as_ptr(),
            n.as_ptr(),
            value.as_ptr().cast(),
            value.len(),
            0,
        )
    };
    if rc != 0 {
        return Err(ImageError::Io(std::io::Error::new(
            std::io::Error::last_os_error().kind(),
            format!(
                "setting {name} on {}: {}",
                path.display(),
                std::io::Error::last_os_error()
            ),
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tar_of(entries: &[(&str, Option<&[u8]>)]) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        for (name, data) in entries {
            let mut h = tar::Header::new_gnu();
            h.set_uid(0);
            h.set_gid(0);
            h.set_mtime(0);
            if let Some(d) = data {
                h.set_entry_type(tar::EntryType::Regular);
                h.set_size(d.len() as u64);
                h.set_mode(0o644);
                b.append_data(&mut h, name, *d).unwrap();
            } else {
                h.set_entry_type(tar::EntryType::Directory);
                h.set_size(0);
                h.set_mode(0o755);
                b.append_data(&mut h, name, std::io::empty()).unwrap();
            }
        }
        b.into_inner().unwrap()
    }

    #[test]
    fn applies_whiteouts_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let l1 = tar_of(&[
            ("a/", None),
            ("a/x", Some(b"1")),
            ("a/y", Some(b"2")),
            ("b", Some(b"3")),
        ]);
        let l2 = tar_of(&[
            ("a/", None),
            ("a/.wh..wh..opq", Some(b"")),
            ("a/z", Some(b"4")),
            (".wh.b", Some(b"")),
        ]);
        for l in [l1, l2] {
            unpack_layer(
                &mut &l[..],
                Compression::None,
                dir.path(),
                WhiteoutMode::Apply,
                "t",
            )
            .unwrap();
        }
        assert!(!dir.path().join("a/x").exists());
        assert!(!dir.path().join("b").exists());
        assert_eq!(std::fs::read(dir.path().join("a/z")).unwrap(), b"4");
    }
}
