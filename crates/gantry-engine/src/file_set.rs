//! `FileSet`: the files an artifact or cache entry collects — `paths` globbed with the runner's
//! doublestar rules (a matched directory included recursively, `./` prefixes dropped, paths
//! outside the project skipped with the runner's warning), `untracked` (`git ls-files -o`, ignored
//! files included), then `exclude` applied to every collected path.
//!
//! Globbing is `gantry_expr::glob` (Go doublestar semantics, as the runner uses).

use std::collections::BTreeSet;
use std::path::{Component, Path, PathBuf};
use std::process::Command;

/// Collected relative paths (files, symlinks and directories, so empty directories survive).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct FileSet {
    pub(crate) paths: BTreeSet<PathBuf>,
}

/// A line the collector wants logged.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Note {
    Info(String),
    Warning(String),
}

/// What to collect.
pub(crate) struct Selection<'a> {
    pub(crate) paths: &'a [String],
    pub(crate) exclude: &'a [String],
    pub(crate) untracked: bool,
}

impl FileSet {
    /// Collects `selection` below `project_dir`.
    pub(crate) fn collect(project_dir: &Path, selection: &Selection<'_>) -> (FileSet, Vec<Note>) {
        let mut set = FileSet::default();
        let mut notes = Vec::new();
        for raw in selection.paths {
            let Some(pattern) = normalize(project_dir, raw) else {
                notes.push(Note::Warning(format!(
                    "artifact path is not a subpath of project directory: {raw}"
                )));
                continue;
            };
            let matched =
                gantry_expr::glob::walk_matches(project_dir, &pattern).unwrap_or_default();
            if matched.is_empty() {
                notes.push(Note::Warning(format!(
                    "{raw}: no matching files. Ensure that the artifact path is relative to the working directory ({})",
                    project_dir.display()
                )));
                continue;
            }
            let before = set.paths.len();
            for rel in matched {
                set.add_recursive(project_dir, rel);
            }
            notes.push(Note::Info(format!(
                "{raw}: found {} matching artifact files and directories",
                set.paths.len() - before
            )));
        }
        if selection.untracked {
            match git_untracked(project_dir) {
                Ok(files) => {
                    let before = set.paths.len();
                    for rel in files {
                        set.paths.insert(rel);
                    }
                    notes.push(Note::Info(format!(
                        "untracked: found {} files",
                        set.paths.len() - before
                    )));
                }
                Err(e) => notes.push(Note::Warning(format!("untracked: {e}"))),
            }
        }
        for pattern in selection.exclude {
            let pattern = normalize(project_dir, pattern).unwrap_or_else(|| pattern.clone());
            let before = set.paths.len();
            let Ok(glob) = gantry_expr::DoubleStarGlob::new(&pattern) else {
                notes.push(Note::Warning(format!("{pattern}: invalid exclude pattern")));
                continue;
            };
            set.paths.retain(|p| !glob.matches(&p.to_string_lossy()));
            let removed = before - set.paths.len();
            if removed > 0 {
                notes.push(Note::Info(format!("{pattern}: excluded {removed} files")));
            }
        }
        (set, notes)
    }

    /// Whether nothing was collected.
    pub(crate) fn is_empty(&self) -> bool {
        self.paths.is_empty()
    }

    /// Number of collected entries.
    pub(crate) fn len(&self) -> usize {
        self.paths.len()
    }

    fn add_recursive(&mut self, root: &Path, rel: PathBuf) {
        let is_dir = std::fs::symlink_metadata(root.join(&rel)).is_ok_and(|m| m.is_dir());
        if is_dir {
            let mut stack = vec![rel.clone()];
            while let Some(dir) = stack.pop() {
                if let Ok(entries) = std::fs::read_dir(root.join(&dir)) {
                    for entry in entries.flatten() {
                        let child = dir.join(entry.file_name());
                        if entry.file_type().is_ok_and(|t| t.is_dir()) {
                            stack.push(child.clone());
                        }
                        self.paths.insert(child);
                    }
                }
            }
        }
        self.paths.insert(rel);
    }
}

/// The pattern relative to `project_dir`, `None` when it points outside.
fn normalize(project_dir: &Path, raw: &str) -> Option<String> {
    let path = Path::new(raw);
    let relative = if path.is_absolute() {
        path.strip_prefix(project_dir).ok()?.to_path_buf()
    } else {
        path.to_path_buf()
    };
    let mut parts: Vec<String> = Vec::new();
    for component in relative.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                parts.pop()?;
            }
            Component::Normal(s) => parts.push(s.to_string_lossy().into_owned()),
            Component::RootDir | Component::Prefix(_) => return None,
        }
    }
    if parts.is_empty() {
        // `.` or `./`: the whole project directory.
        return Some("**".to_owned());
    }
    Some(parts.join("/"))
}

fn git_untracked(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let output = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["ls-files", "-z", "--others"])
        .output()
        .map_err(|e| format!("running git: {e}"))?;
    if !output.status.success() {
        return Err(String::from_utf8_lossy(&output.stderr).trim().to_owned());
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_paths() {
        let p = Path::new("/proj");
        assert_eq!(normalize(p, "./out/"), Some("out".to_owned()));
        assert_eq!(normalize(p, "/proj/a/b"), Some("a/b".to_owned()));
        assert_eq!(normalize(p, "/etc/passwd"), None);
        assert_eq!(normalize(p, "../x"), None);
        assert_eq!(normalize(p, "a/../b/*.txt"), Some("b/*.txt".to_owned()));
    }
}
