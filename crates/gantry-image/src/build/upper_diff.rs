//! Turning an overlayfs upper directory into a layer: 0/0 character devices become
//! `.wh.<name>` whiteouts, opaque directories get `.wh..wh..opq`, hard links within the layer
//! become link entries, and every timestamp is the build's fixed epoch.

use std::collections::HashMap;
use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::Path;

use fs_err as fs;

use crate::error::Result;
use crate::layer_writer::{EntryMeta, Layer, LayerWriter};
use crate::oci_layout::OciLayout;

/// Writes the changes in `upper` as a layer. Top-level names in `skip` are left out (mount
/// points the sandbox created).
pub fn layer_from_upper(
    upper: &Path,
    skip: &[&str],
    layout: &OciLayout,
    media_type: &str,
    mtime: u64,
) -> Result<Layer> {
    let mut w = LayerWriter::new(layout, media_type)?;
    let mut links: HashMap<(u64, u64), String> = HashMap::new();
    // Without root, RUN ran in a user namespace mapping our ids to 0: map them back.
    // SAFETY: geteuid/getegid have no preconditions.
    let (euid, egid) = unsafe { (libc::geteuid(), libc::getegid()) };
    let ids = (euid != 0).then_some((u64::from(euid), u64::from(egid)));
    walk(upper, "", skip, &mut w, &mut links, mtime, ids)?;
    w.finish()
}

fn is_opaque(path: &Path) -> bool {
    let Ok(c) = CString::new(path.as_os_str().as_bytes()) else {
        return false;
    };
    ["trusted.overlay.opaque", "user.overlay.opaque"]
        .iter()
        .any(|name| {
            let n = CString::new(*name).unwrap_or_default();
            let mut v = [0u8; 4];
            // SAFETY: valid C strings and a buffer of the given size.
            let len =
                unsafe { libc::lgetxattr(c.as_ptr(), n.as_ptr(), v.as_mut_ptr().cast(), v.len()) };
            len == 1 && v[0] == b'y'
        })
}

fn walk(
    dir: &Path,
    prefix: &str,
    skip: &[&str],
    w: &mut LayerWriter,
    links: &mut HashMap<(u64, u64), String>,
    mtime: u64,
    ids: Option<(u64, u64)>,
) -> Result<()> {
    let mut names: Vec<_> = fs::read_dir(dir)?
        .flatten()
        .map(|e| e.file_name())
        .collect();
    names.sort();
    for name in names {
        let n = name.to_string_lossy().into_owned();
        if prefix.is_empty() && skip.contains(&n.as_str()) {
            continue;
        }
        let rel = if prefix.is_empty() {
            n.clone()
        } else {
            format!("{prefix}/{n}")
        };
        let path = dir.join(&name);
        let m = fs::symlink_metadata(&path)?;
        let ft = m.file_type();
        let meta = EntryMeta {
            mode: m.mode() & 0o7777,
            uid: match ids {
                Some((host, _)) if u64::from(m.uid()) == host => 0,
                _ => u64::from(m.uid()),
            },
            gid: match ids {
                Some((_, host)) if u64::from(m.gid()) == host => 0,
                _ => u64::from(m.gid()),
            },
            mtime,
        };
        if ft.is_char_device() && m.rdev() == 0 {
            w.whiteout(&rel, mtime)?;
        } else if ft.is_dir() {
            w.dir(&rel, meta)?;
            if is_opaque(&path) {
                w.opaque(&rel, mtime)?;
            }
            walk(&path, &rel, skip, w, links, mtime, ids)?;
        } else if ft.is_symlink() {
            let target = fs::read_link(&path)?;
            w.symlink(&rel, &target.to_string_lossy(), meta)?;
        } else if ft.is_file() {
            if m.nlink() > 1 {
                let key = (m.dev(), m.ino());
                if let Some(first) = links.get(&key) {
                    w.hardlink(&rel, first, meta)?;
                    continue;
                }
                links.insert(key, rel.clone());
            }
            let mut f = fs::File::open(&path)?;
            w.file(&rel, meta, m.len(), &mut f)?;
        } else {
            let rdev = m.rdev();
            let (major, minor) = (libc::major(rdev), libc::minor(rdev));
            let kind = if ft.is_char_device() {
                tar::EntryType::Char
            } else if ft.is_block_device() {
                tar::EntryType::Block
            } else if ft.is_fifo() {
                tar::EntryType::Fifo
            } else {
                continue; // sockets are not stored
            };
            w.special(&rel, kind, major, minor, meta)?;
        }
    }
    Ok(())
}
