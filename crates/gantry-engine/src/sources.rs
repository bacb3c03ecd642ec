//! `SourceSnapshot`: the pipeline's frozen copy of the user's working tree, synced into each
//! job's working-copy slot.
//!
//! What is copied: what `git ls-files -z --cached --others --exclude-standard` lists (tracked files
//! as they are on disk, so uncommitted changes are included, plus untracked files git does not
//! ignore), minus the state directory. Submodule checkouts become empty directories (like
//! `GIT_SUBMODULE_STRATEGY: none`). Files are copied, never hard-linked (jobs may change files in
//! place). The snapshot lives in `<state>/builds/sources` and is synced at pipeline start (only
//! changed files are copied, see `tree_sync`), so later edits of the user's tree do not reach
//! jobs of a running pipeline. When another gantry process holds it, a private snapshot is used.
//!
//! The copy's `.git` is a small repository of its own: `HEAD`, `config` (without
//! `core.worktree`), `index`, `packed-refs`, `refs/`, `info/` and `shallow` are copied, and
//! `objects/info/alternates` points at the user's object store, so `git log`, `git diff`,
//! `git status` and even commits work in a job without touching the user's repository (new
//! objects land in the copy). Outside a git repository the whole directory is copied (minus the
//! state directory and any `.git`) and there is no `.git`.

use std::io;
use std::path::{Component, Path, PathBuf};
use std::process::Command;

use crate::file_lock::FileLock;
use crate::tree_sync::{Entry, EntryKind, FileId, SyncRecord, SyncStats, sync_tree};

/// A frozen copy of the project's sources.
#[derive(Debug)]
pub(crate) struct SourceSnapshot {
    /// Entries as they are in the snapshot (sources point into it).
    entries: Vec<Entry>,
    /// The project is a git repository (and the copy has a `.git`).
    pub(crate) is_git: bool,
    /// Files and links of the working tree (not counting `.git`).
    pub(crate) file_count: usize,
    _lock: Option<FileLock>,
}

impl SourceSnapshot {
    /// Syncs the snapshot of `project_dir`: into `<builds_root>/sources` when that is free, else
    /// into `private_dir`.
    pub(crate) fn prepare(
        project_dir: &Path,
        state_dir: &Path,
        builds_root: &Path,
        private_dir: &Path,
    ) -> io::Result<Self> {
        fs_err::create_dir_all(builds_root)?;
        let lock = FileLock::try_lock(&builds_root.join("sources.lock"))?;
        let (snapshot_dir, record_path) = if lock.is_some() {
            (
                builds_root.join("sources"),
                Some(builds_root.join("sources.record.json")),
            )
        } else {
            (private_dir.to_path_buf(), None)
        };
        let meta_dir = snapshot_dir.with_extension("meta");

        let excluded = state_dir
            .strip_prefix(project_dir)
            .ok()
            .filter(|p| !p.as_os_str().is_empty())
            .map(Path::to_path_buf);
        let git = git_dirs(project_dir);
        let mut listed: Vec<PathBuf> = match &git {
            Some(_) => git_ls_files(project_dir)?,
            None => walk_all(project_dir, &|rel: &Path| {
                rel == Path::new(".git") || excluded.as_ref().is_some_and(|ex| rel == ex.as_path())
            })?,
        };
        listed.retain(|p| {
            is_safe_relative(p)
                && !excluded.as_ref().is_some_and(|ex| p.starts_with(ex))
                && !p.starts_with(".git")
        });
        listed.sort();
        listed.dedup();

        let mut entries = Vec::with_capacity(listed.len() + 32);
        for rel in listed {
            let source = project_dir.join(&rel);
            if let Some(entry) = entry_for(rel, source)? {
                entries.push(entry);
            }
        }
        let file_count = entries.len();
        if let Some((git_dir, common_dir)) = &git {
            entries.extend(git_entries(git_dir, common_dir, &meta_dir)?);
        }

        let mut record = record_path
            .as_deref()
            .map(SyncRecord::load)
            .unwrap_or_default();
        sync_tree(&entries, &snapshot_dir, &mut record)?;
        if let Some(path) = &record_path {
            record.save(path)?;
        }

        // From now on the snapshot is the source of every job copy.
        let entries = entries
            .into_iter()
            .map(|e| Entry {
                source: snapshot_dir.join(&e.rel),
                source_id: record.dest_id(&e.rel),
                rel: e.rel,
                kind: e.kind,
            })
            .collect();
        Ok(SourceSnapshot {
            entries,
            is_git: git.is_some(),
            file_count,
            _lock: lock,
        })
    }

    /// Makes `dest` an exact copy of the snapshot (only `.git` with `only_git`), copying only
    /// what differs from what `record` says `dest` holds.
    pub(crate) fn sync_into(
        &self,
        dest: &Path,
        record: &mut SyncRecord,
        only_git: bool,
    ) -> io::Result<SyncStats> {
        if only_git {
            let git_only: Vec<Entry> = self
                .entries
                .iter()
                .filter(|e| e.rel.starts_with(".git"))
                .cloned()
                .collect();
            return sync_tree(&git_only, dest, record);
        }
        sync_tree(&self.entries, dest, record)
    }
}

/// The entry for one listed path (`None` when it vanished or is not a file, link or directory).
fn entry_for(rel: PathBuf, source: PathBuf) -> io::Result<Option<Entry>> {
    let Ok(meta) = std::fs::symlink_metadata(&source) else {
        return Ok(None); // deleted in the working tree
    };
    let (kind, source_id) = if meta.file_type().is_symlink() {
        (EntryKind::Symlink(fs_err::read_link(&source)?), None)
    } else if meta.is_dir() {
        (EntryKind::Dir, None)
    } else if meta.is_file() {
        (EntryKind::File, Some(FileId::of(&meta)))
    } else {
        return Ok(None);
    };
    Ok(Some(Entry {
        rel,
        source,
        kind,
        source_id,
    }))
}

/// `(git dir, common dir)` when `dir` is inside a git work tree.
fn git_dirs(dir: &Path) -> Option<(PathBuf, PathBuf)> {
    let output = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args([
            "rev-parse",
            "--path-format=absolute",
            "--git-dir",
            "--git-common-dir",
            "--is-inside-work-tree",
        ])
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    if !output.status.success() {
        return None;
    }
    let text = String::from_utf8(output.stdout).ok()?;
    let mut lines = text.lines();
    let git_dir = PathBuf::from(lines.next()?);
    let common = PathBuf::from(lines.next()?);
    (lines.next()? == "true").then_some((git_dir, common))
}

fn git_ls_files(dir: &Path) -> io::Result<Vec<PathBuf>> {
    let output = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args([
            "ls-files",
            "-z",
            "--cached",
            "--others",
            "--exclude-standard",
        ])
        .stderr(std::process::Stdio::piped())
        .output()
        .map_err(|e| io::Error::new(e.kind(), format!("running git ls-files: {e}")))?;
    if !output.status.success() {
        return Err(io::Error::other(format!(
            "git ls-files failed in {}: {}",
            dir.display(),
            String::from_utf8_lossy(&output.stderr).trim()
        )));
    }
    Ok(output
        .stdout
        .split(|&b| b == 0)
        .filter(|s| !s.is_empty())
        .map(|s| {
            use std::os::unix::ffi::OsStrExt;
            PathBuf::from(std::ffi::OsStr::from_bytes(s))
        })
        .collect())
}

/// Every file, symlink and empty directory below `root` (not following symlinks), not entering
/// directories for which `skip` (given the relative path) is true.
fn walk_all(root: &Path, skip: &dyn Fn(&Path) -> bool) -> io::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut stack = vec![PathBuf::new()];
    while let Some(rel) = stack.pop() {
        let mut empty = true;
        for entry in fs_err::read_dir(root.join(&rel))? {
            let entry = entry?;
            empty = false;
            let child = rel.join(entry.file_name());
            if entry.file_type()?.is_dir() {
                if !skip(&child) {
                    stack.push(child);
                }
            } else {
                out.push(child);
            }
        }
        if empty && !rel.as_os_str().is_empty() {
            out.push(rel);
        }
    }
    Ok(out)
}

fn is_safe_relative(p: &Path) -> bool {
    p.components().all(|c| matches!(c, Component::Normal(_)))
}

/// The copy's `.git` (see the module doc). Generated files are kept in `meta_dir` and only
/// rewritten when their content changes.
fn git_entries(git_dir: &Path, common_dir: &Path, meta_dir: &Path) -> io::Result<Vec<Entry>> {
    let mut entries = Vec::new();
    let dot_git = Path::new(".git");
    for dir in ["objects/info", "objects/pack", "refs/heads", "refs/tags"] {
        entries.push(Entry {
            rel: dot_git.join(dir),
            source: PathBuf::new(),
            kind: EntryKind::Dir,
            source_id: None,
        });
    }
    fs_err::create_dir_all(meta_dir)?;
    let alternates = format!("{}\n", common_dir.join("objects").display());
    entries.push(generated(
        meta_dir,
        "alternates",
        &alternates,
        ".git/objects/info/alternates",
    )?);
    if let Ok(config) = fs_err::read_to_string(common_dir.join("config")) {
        let mut filtered = String::with_capacity(config.len());
        for line in config.lines() {
            let t = line.trim_start();
            if !(t.starts_with("worktree") && t["worktree".len()..].trim_start().starts_with('=')) {
                filtered.push_str(line);
                filtered.push('\n');
            }
        }
        entries.push(generated(meta_dir, "config", &filtered, ".git/config")?);
    }
    for (dir, name) in [
        (git_dir, "HEAD"),
        (git_dir, "index"),
        (common_dir, "packed-refs"),
        (common_dir, "shallow"),
    ] {
        if let Some(entry) = entry_for(dot_git.join(name), dir.join(name))? {
            entries.push(entry);
        }
    }
    for sub in ["refs", "info"] {
        let from = common_dir.join(sub);
        if !from.is_dir() {
            continue;
        }
        for rel in walk_all(&from, &|_: &Path| false)? {
            if let Some(entry) = entry_for(dot_git.join(sub).join(&rel), from.join(&rel))? {
                entries.push(entry);
            }
        }
    }
    Ok(entries)
}

/// A generated file in `meta_dir`, rewritten only when its content changed.
fn generated(meta_dir: &Path, name: &str, content: &str, rel: &str) -> io::Result<Entry> {
    let path = meta_dir.join(name);
    if std::fs::read(&path).ok().as_deref() != Some(content.as_bytes()) {
        fs_err::write(&path, content)?;
    }
    entry_for(PathBuf::from(rel), path.clone())?
        .ok_or_else(|| io::Error::other(format!("{} vanished", path.display())))
}
