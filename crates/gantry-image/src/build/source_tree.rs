//! Source trees for `COPY`/`ADD`: the build context (filtered by `.dockerignore`) or the root
//! file system of another stage or image (`COPY --from`). Resolves source patterns and adds
//! what they match to a [`FileSet`].

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Component, Path, PathBuf};

use fs_err as fs;

use super::file_set::{Content, EntryKind, FileEntry, FileSet};
use crate::dockerfile::{DockerIgnore, match_segment};

/// A directory COPY reads from.
#[derive(Debug, Clone)]
pub struct SourceTree {
    root: PathBuf,
    ignore: Option<DockerIgnore>,
    /// Keep file owners (stage/image root file systems) instead of root:root (context).
    keep_owner: bool,
}

/// Owner and mode overrides from `--chown` / `--chmod`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Ownership {
    /// `--chown` uid/gid.
    pub owner: Option<(u64, u64)>,
    /// `--chmod` bits.
    pub mode: Option<u32>,
}

impl SourceTree {
    /// The build context at `root`, reading `root/.dockerignore` when present.
    pub fn context(root: &Path) -> std::io::Result<Self> {
        let ignore_file = root.join(".dockerignore");
        let ignore = if ignore_file.is_file() {
            Some(DockerIgnore::parse(&fs::read_to_string(&ignore_file)?))
        } else {
            None
        };
        Ok(Self {
            root: root.to_path_buf(),
            ignore,
            keep_owner: false,
        })
    }

    /// A stage's or image's root file system.
    pub fn rootfs(root: &Path) -> Self {
        Self {
            root: root.to_path_buf(),
            ignore: None,
            keep_owner: true,
        }
    }

    /// The tree's directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn excluded(&self, rel: &str) -> bool {
        self.ignore.as_ref().is_some_and(|i| i.is_excluded(rel))
    }

    /// Context-relative paths matching `pattern` (glob or plain path). Errors name the
    /// pattern and say why nothing matched.
    pub fn resolve(&self, pattern: &str) -> Result<Vec<String>, String> {
        let mut comps = Vec::new();
        for c in Path::new(pattern).components() {
            match c {
                Component::Normal(n) => comps.push(n.to_string_lossy().into_owned()),
                Component::ParentDir if comps.pop().is_none() => {
                    return Err(format!("`{pattern}` points outside the build context"));
                }
                _ => {}
            }
        }
        if comps.is_empty() {
            return Ok(vec![String::new()]);
        }
        let has_glob = comps.iter().any(|c| c.contains(['*', '?', '[']));
        if !has_glob {
            let rel = comps.join("/");
            let p = self.root.join(&rel);
            if std::fs::symlink_metadata(&p).is_err() {
                return Err(format!("`{pattern}` not found in {}", self.describe()));
            }
            if self.excluded(&rel) {
                return Err(format!("`{pattern}` is excluded by .dockerignore"));
            }
            return Ok(vec![rel]);
        }
        let mut out = Vec::new();
        Self::glob(&self.root, "", &comps, &mut out);
        out.retain(|r| !self.excluded(r));
        out.sort();
        if out.is_empty() {
            return Err(format!(
                "no file in {} matches `{pattern}`",
                self.describe()
            ));
        }
        Ok(out)
    }

    fn describe(&self) -> String {
        if self.keep_owner {
            "the source stage".into()
        } else {
            format!("the build context ({})", self.root.display())
        }
    }

    fn glob(dir: &Path, prefix: &str, comps: &[String], out: &mut Vec<String>) {
        let Some((first, rest)) = comps.split_first() else {
            return;
        };
        let Ok(rd) = std::fs::read_dir(dir) else {
            return;
        };
        let mut names: Vec<String> = rd
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        for name in names {
            if !match_segment(first, &name) {
                continue;
            }
            let rel = if prefix.is_empty() {
                name.clone()
            } else {
                format!("{prefix}/{name}")
            };
            if rest.is_empty() {
                out.push(rel);
            } else {
                Self::glob(&dir.join(&name), &rel, rest, out);
            }
        }
    }

    /// Adds source `rel` to `set` at image path `dest` (a directory's contents go under
    /// `dest`; a file becomes `dest`, or `dest/<name>` when `dest_is_dir`).
    pub fn add(
        &self,
        rel: &str,
        dest: &str,
        dest_is_dir: bool,
        own: Ownership,
        set: &mut FileSet,
    ) -> std::io::Result<()> {
        let path = self.root.join(rel);
        // A top-level symlink source is followed (as Docker does); inside a directory they are
        // copied as links.
        let meta = fs::metadata(&path)?;
        if meta.is_dir() {
            self.walk(&path, rel, dest.trim_end_matches('/'), own, set)
        } else {
            let name = Path::new(rel)
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let target = if dest_is_dir {
                format!("{}/{name}", dest.trim_end_matches('/'))
            } else {
                dest.to_owned()
            };
            set.insert(&target, self.entry(&path, &meta, own));
            Ok(())
        }
    }

    fn entry(&self, path: &Path, meta: &std::fs::Metadata, own: Ownership) -> FileEntry {
        let (uid, gid) = own.owner.unwrap_or(if self.keep_owner {
            (u64::from(meta.uid()), u64::from(meta.gid()))
        } else {
            (0, 0)
        });
        let kind = if meta.file_type().is_symlink() {
            EntryKind::Symlink(
                std::fs::read_link(path)
                    .map(|t| t.to_string_lossy().into_owned())
                    .unwrap_or_default(),
            )
        } else if meta.is_dir() {
            EntryKind::Dir
        } else {
            EntryKind::File(Content::Path(path.to_path_buf()))
        };
        let mode = match (&kind, own.mode) {
            (EntryKind::Symlink(_), _) => 0o777,
            (_, Some(m)) => m,
            _ => meta.permissions().mode() & 0o7777,
        };
        FileEntry {
            kind,
            mode,
            uid,
            gid,
        }
    }

    fn walk(
        &self,
        dir: &Path,
        rel: &str,
        dest: &str,
        own: Ownership,
        set: &mut FileSet,
    ) -> std::io::Result<()> {
        let mut names: Vec<_> = fs::read_dir(dir)?
            .flatten()
            .map(|e| e.file_name())
            .collect();
        names.sort();
        let descend_excluded = self
            .ignore
            .as_ref()
            .is_some_and(DockerIgnore::has_exceptions);
        for name in names {
            let n = name.to_string_lossy();
            let child_rel = if rel.is_empty() {
                n.to_string()
            } else {
                format!("{rel}/{n}")
            };
            let excluded = self.excluded(&child_rel);
            let path = dir.join(&name);
            let meta = fs::symlink_metadata(&path)?;
            let target = format!("{dest}/{n}");
            if meta.is_dir() {
                if excluded && !descend_excluded {
                    continue;
                }
                if !excluded {
                    set.insert(&target, self.entry(&path, &meta, own));
                }
                self.walk(&path, &child_rel, &target, own, set)?;
            } else if !excluded && (meta.is_file() || meta.file_type().is_symlink()) {
                set.insert(&target, self.entry(&path, &meta, own));
            }
        }
        Ok(())
    }
}
