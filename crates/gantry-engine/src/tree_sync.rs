//! `TreeSync`: makes a directory hold exactly a list of entries, copying only what changed.
//!
//! A [`SyncRecord`] remembers, per path, the identity of the source file a copy was made from and
//! the identity of the copy right after it was written (inode, size, mtime, mode; copies keep the
//! source's mtime). A destination file whose identity still matches its record, copied from a
//! source whose identity still matches, is left alone; anything else is copied again (into a new
//! inode). Whatever the destination holds beyond the list is deleted. Writing a file changes its
//! mtime to "now", which never equals the preserved source mtime, so in-place edits by a job are
//! detected; so are replacements (new inode), deletions and `chmod`.

use std::collections::{HashMap, HashSet};
use std::fs::Metadata;
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

/// Sources modified more recently than this are always copied again.
const TRUST_AGE_NS: i64 = 2_000_000_000;

/// What a file looked like (enough to notice any change made through the filesystem).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub(crate) struct FileId {
    ino: u64,
    size: u64,
    mtime_ns: i64,
    mode: u32,
}

impl FileId {
    pub(crate) fn of(meta: &Metadata) -> Self {
        Self {
            ino: meta.ino(),
            size: meta.size(),
            mtime_ns: meta
                .mtime()
                .saturating_mul(1_000_000_000)
                .saturating_add(meta.mtime_nsec()),
            mode: meta.mode(),
        }
    }
}

/// The kind of an entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum EntryKind {
    File,
    Symlink(PathBuf),
    Dir,
}

/// One path the destination must hold, and where its content comes from.
#[derive(Clone, Debug)]
pub(crate) struct Entry {
    /// Relative path in the destination.
    pub(crate) rel: PathBuf,
    /// Absolute source path.
    pub(crate) source: PathBuf,
    pub(crate) kind: EntryKind,
    /// Identity of the source when listed (files only).
    pub(crate) source_id: Option<FileId>,
}

/// Per path: (source identity, destination identity) of the last copy.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub(crate) struct SyncRecord {
    files: HashMap<PathBuf, (FileId, FileId)>,
}

impl SyncRecord {
    /// Loads a saved record; a missing or unreadable one is empty (everything is copied).
    pub(crate) fn load(path: &Path) -> Self {
        std::fs::read(path)
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .unwrap_or_default()
    }

    /// Saves the record (atomically).
    pub(crate) fn save(&self, path: &Path) -> io::Result<()> {
        let json = serde_json::to_vec(self).map_err(io::Error::other)?;
        let tmp = path.with_extension("tmp");
        fs_err::write(&tmp, json)?;
        fs_err::rename(&tmp, path)
    }

    /// The destination identity recorded for `rel`.
    pub(crate) fn dest_id(&self, rel: &Path) -> Option<FileId> {
        self.files.get(rel).map(|(_, dest)| *dest)
    }
}

/// What a sync did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct SyncStats {
    pub(crate) copied: usize,
    pub(crate) kept: usize,
    pub(crate) removed: usize,
}

/// Makes `dest` hold exactly `entries` (plus their parent directories), updating `record`.
pub(crate) fn sync_tree(
    entries: &[Entry],
    dest: &Path,
    record: &mut SyncRecord,
) -> io::Result<SyncStats> {
    let mut stats = SyncStats::default();
    fs_err::create_dir_all(dest)?;
    // A file modified within the same timestamp tick as its source could keep the source's
    // mtime: records of recently modified sources are not trusted.
    let trust_before = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
        .saturating_sub(TRUST_AGE_NS);

    // Every wanted path with its kind; parents of entries are directories.
    let mut wanted: HashMap<&Path, bool> = HashMap::with_capacity(entries.len() * 2);
    let mut dirs: Vec<&Path> = Vec::new();
    for entry in entries {
        let is_dir = entry.kind == EntryKind::Dir;
        wanted.insert(entry.rel.as_path(), is_dir);
        if is_dir {
            dirs.push(&entry.rel);
        }
        let mut parent = entry.rel.parent();
        while let Some(p) = parent.filter(|p| !p.as_os_str().is_empty()) {
            if wanted.insert(p, true).is_some() {
                break;
            }
            dirs.push(p);
            parent = p.parent();
        }
    }

    // Remove whatever is not wanted (or has the wrong kind).
    let mut stack = vec![PathBuf::new()];
    while let Some(rel) = stack.pop() {
        let Ok(read) = std::fs::read_dir(dest.join(&rel)) else {
            continue;
        };
        for item in read {
            let item = item?;
            let child = rel.join(item.file_name());
            let is_dir = item.file_type()?.is_dir();
            match wanted.get(child.as_path()) {
                Some(&want_dir) if want_dir == is_dir => {
                    if is_dir {
                        stack.push(child);
                    }
                }
                _ => {
                    remove_path(&dest.join(&child), is_dir)?;
                    stats.removed += 1;
                }
            }
        }
    }

    dirs.sort_unstable();
    dirs.dedup();
    for dir in dirs {
        match std::fs::create_dir(dest.join(dir)) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(e) => {
                return Err(io::Error::new(
                    e.kind(),
                    format!("creating {}: {e}", dest.join(dir).display()),
                ));
            }
        }
    }

    let mut seen: HashSet<&Path> = HashSet::with_capacity(entries.len());
    for entry in entries {
        seen.insert(&entry.rel);
        let target = dest.join(&entry.rel);
        match &entry.kind {
            EntryKind::Dir => {}
            EntryKind::Symlink(link) => {
                if std::fs::read_link(&target).is_ok_and(|t| &t == link) {
                    stats.kept += 1;
                    continue;
                }
                let _ = std::fs::remove_file(&target);
                fs_err::os::unix::fs::symlink(link, &target)?;
                stats.copied += 1;
            }
            EntryKind::File => {
                let source_id = match entry.source_id {
                    Some(id) => id,
                    None => FileId::of(&fs_err::symlink_metadata(&entry.source)?),
                };
                let current = std::fs::symlink_metadata(&target)
                    .ok()
                    .map(|m| FileId::of(&m));
                if let Some(current) = current
                    && source_id.mtime_ns < trust_before
                    && record.files.get(&entry.rel) == Some(&(source_id, current))
                {
                    stats.kept += 1;
                    continue;
                }
                if current.is_some() {
                    fs_err::remove_file(&target)?;
                }
                let dest_id = copy_preserving_mtime(&entry.source, &target)?;
                record.files.insert(entry.rel.clone(), (source_id, dest_id));
                stats.copied += 1;
            }
        }
    }
    record.files.retain(|path, _| seen.contains(path.as_path()));
    Ok(stats)
}

/// Copies a regular file into a new inode and gives it the source's mtime.
fn copy_preserving_mtime(source: &Path, target: &Path) -> io::Result<FileId> {
    fs_err::copy(source, target)?;
    let mtime = fs_err::metadata(source)?.modified()?;
    let file = fs_err::OpenOptions::new().write(true).open(target)?;
    file.file().set_modified(mtime).map_err(|e| {
        io::Error::new(
            e.kind(),
            format!("setting the mtime of {}: {e}", target.display()),
        )
    })?;
    Ok(FileId::of(&file.metadata()?))
}

fn remove_path(path: &Path, is_dir: bool) -> io::Result<()> {
    if is_dir {
        fs_err::remove_dir_all(path)
    } else {
        fs_err::remove_file(path)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn entry(root: &Path, rel: &str) -> Entry {
        let old = SystemTime::now() - Duration::from_mins(1);
        fs_err::File::options()
            .write(true)
            .open(root.join(rel))
            .unwrap()
            .file()
            .set_modified(old)
            .unwrap();
        Entry {
            rel: PathBuf::from(rel),
            source: root.join(rel),
            kind: EntryKind::File,
            source_id: None,
        }
    }

    #[test]
    fn copies_only_changes_and_removes_extras() {
        let src = tempfile::tempdir().unwrap();
        let dst = tempfile::tempdir().unwrap();
        fs_err::create_dir_all(src.path().join("d")).unwrap();
        fs_err::write(src.path().join("a"), "a").unwrap();
        fs_err::write(src.path().join("d/b"), "b").unwrap();
        let entries = vec![entry(src.path(), "a"), entry(src.path(), "d/b")];
        let mut record = SyncRecord::default();
        let first = sync_tree(&entries, dst.path(), &mut record).unwrap();
        assert_eq!(first.copied, 2);
        let again = sync_tree(&entries, dst.path(), &mut record).unwrap();
        assert_eq!((again.copied, again.kept), (0, 2));

        // A job edits a file in place (same size) and adds files.
        fs_err::write(dst.path().join("a"), "x").unwrap();
        fs_err::write(dst.path().join("extra"), "e").unwrap();
        fs_err::create_dir_all(dst.path().join("out/deep")).unwrap();
        let third = sync_tree(&entries, dst.path(), &mut record).unwrap();
        assert_eq!((third.copied, third.kept, third.removed), (1, 1, 2));
        assert_eq!(fs_err::read_to_string(dst.path().join("a")).unwrap(), "a");
        assert!(!dst.path().join("extra").exists());
        assert!(!dst.path().join("out").exists());
    }
}
