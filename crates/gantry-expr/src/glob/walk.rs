//! Finding the files and directories a doublestar pattern names, like the runner's
//! `doublestar.FilepathGlob(pattern, WithNoFollow)`: the pattern is cleaned lexically (Go's
//! `filepath.Clean`, so `build/` is `build` and `a/./b` is `a/b`), the literal base is split
//! off, then the tree below it is walked once, all brace alternatives together, without following
//! symlinks and without entering directories no alternative can match inside.
//!
//! * Intermediate segments only match real directories; a symlink is a leaf (it can match, it is
//!   never entered). The base directory itself is resolved normally (symlinks followed).
//! * A trailing `**` matches the directory it stands for as well (`build/**` yields `build` and
//!   everything below), as doublestar's `Glob` does.
//! * With [`DoubleStarGlob::walk`] (no cleaning), a pattern (alternative) ending in `/` only
//!   matches directories, as in doublestar's `Glob`.
//! * Results are paths relative to the walk root (the base joined with what matched below it,
//!   `.` when the base itself matches and is `.`), depth-first, each directory's entries in byte
//!   order, no duplicates. Unreadable directories are skipped silently.
//! * When every live alternative needs a fixed name at some level, that name is probed directly
//!   instead of listing the directory.

use std::fs;
use std::path::{Path, PathBuf};

use super::GlobError;
use super::doublestar::{DoubleStarGlob, WalkAlternative};
use super::segment::Segment;

/// (alternative, segment index)
type State = (usize, usize);

/// Cleans `pattern` like `FilepathGlob` does, compiles it and walks `root` for it.
pub fn walk_matches(root: &Path, pattern: &str) -> Result<Vec<PathBuf>, GlobError> {
    Ok(DoubleStarGlob::new(&clean_path(pattern))?.walk(root))
}

/// Go's `filepath.Clean` for `/`-separated paths: repeated slashes collapse, `.` elements go,
/// `name/..` pairs cancel, `..` at the start of a rooted path goes, no trailing slash, and an
/// empty result is `.`.
pub fn clean_path(path: &str) -> String {
    let rooted = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for element in path.split('/') {
        match element {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|&p| p != "..") {
                    parts.pop();
                } else if !rooted {
                    parts.push("..");
                }
            }
            name => parts.push(name),
        }
    }
    let joined = parts.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".to_owned(),
        (false, false) => joined,
    }
}

impl DoubleStarGlob {
    /// Files and directories under `root` that this pattern names (see the module documentation
    /// of `glob::walk`). `root` is typically the project directory.
    pub fn walk(&self, root: &Path) -> Vec<PathBuf> {
        let base = self.base();
        let start = if base == "." {
            root.to_path_buf()
        } else {
            root.join(base)
        };
        if !fs::metadata(&start).is_ok_and(|m| m.is_dir()) {
            return Vec::new();
        }
        let walker = Walker {
            alts: self.walk_alternatives(),
        };
        let mut initial: Vec<State> = (0..walker.alts.len()).map(|a| (a, 0)).collect();
        walker.close(&mut initial);
        let rel = if base == "." {
            PathBuf::new()
        } else {
            PathBuf::from(base)
        };
        let mut out = Vec::new();
        if initial.iter().any(|&s| walker.accepts(s, true)) {
            out.push(if base == "." {
                PathBuf::from(".")
            } else {
                rel.clone()
            });
        }
        walker.visit(&start, &rel, &initial, &mut out);
        out
    }
}

struct Walker<'a> {
    alts: &'a [WalkAlternative],
}

impl Walker<'_> {
    fn segment(&self, (alt, idx): State) -> Option<&Segment> {
        self.alts[alt].segments.get(idx)
    }

    /// Adds the states reachable by letting `**/` match zero directories.
    fn close(&self, states: &mut Vec<State>) {
        let mut i = 0;
        while i < states.len() {
            let (alt, idx) = states[i];
            if self.segment((alt, idx)) == Some(&Segment::AnyDirs)
                && !states.contains(&(alt, idx + 1))
            {
                states.push((alt, idx + 1));
            }
            i += 1;
        }
    }

    fn accepts(&self, state: State, is_dir: bool) -> bool {
        let alt = &self.alts[state.0];
        let complete = match self.segment(state) {
            None => true,
            Some(seg) => *seg == Segment::Rest,
        };
        complete && (!alt.dir_only || is_dir)
    }

    fn step(&self, states: &[State], name: &str) -> Vec<State> {
        let mut next = Vec::new();
        for &state in states {
            let target = match self.segment(state) {
                Some(Segment::AnyDirs | Segment::Rest) => Some(state),
                Some(Segment::Pattern(p)) if p.matches(name) => Some((state.0, state.1 + 1)),
                _ => None,
            };
            if let Some(t) = target.filter(|t| !next.contains(t)) {
                next.push(t);
            }
        }
        self.close(&mut next);
        next
    }

    /// Names that every live state requires literally, or `None` if a listing is needed.
    fn literal_names(&self, live: &[State]) -> Option<Vec<String>> {
        let mut names = Vec::new();
        for &state in live {
            match self.segment(state) {
                Some(Segment::Pattern(p)) => names.push(p.literal()?.to_owned()),
                _ => return None,
            }
        }
        names.sort();
        names.dedup();
        Some(names)
    }

    fn entries(&self, dir: &Path, live: &[State]) -> Vec<(String, bool)> {
        if let Some(names) = self.literal_names(live) {
            return names
                .into_iter()
                .filter(|n| !n.is_empty() && n != "." && n != "..")
                .filter_map(|n| {
                    let meta = fs::symlink_metadata(dir.join(&n)).ok()?;
                    Some((n, meta.is_dir()))
                })
                .collect();
        }
        let Ok(read) = fs::read_dir(dir) else {
            return Vec::new();
        };
        let mut entries: Vec<(std::ffi::OsString, bool)> = read
            .filter_map(Result::ok)
            .map(|e| {
                let is_dir = e.file_type().is_ok_and(|t| t.is_dir());
                (e.file_name(), is_dir)
            })
            .collect();
        entries.sort();
        entries
            .into_iter()
            .map(|(name, is_dir)| (name.to_string_lossy().into_owned(), is_dir))
            .collect()
    }

    fn visit(&self, dir: &Path, rel: &Path, states: &[State], out: &mut Vec<PathBuf>) {
        let live: Vec<State> = states
            .iter()
            .copied()
            .filter(|&s| self.segment(s).is_some())
            .collect();
        if live.is_empty() {
            return;
        }
        for (name, is_dir) in self.entries(dir, &live) {
            let next = self.step(&live, &name);
            if next.is_empty() {
                continue;
            }
            let child_rel = rel.join(&name);
            if next.iter().any(|&s| self.accepts(s, is_dir)) {
                out.push(child_rel.clone());
            }
            if is_dir && next.iter().any(|&s| self.segment(s).is_some()) {
                self.visit(&dir.join(&name), &child_rel, &next, out);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        for d in ["build/sub/deep", "build/empty", "src/a", ".hidden", "other"] {
            fs::create_dir_all(root.join(d)).unwrap();
        }
        for f in [
            "build/app.o",
            "build/app.txt",
            "build/sub/x.o",
            "build/sub/deep/y.o",
            "src/a/lib.rs",
            "src/main.rs",
            ".hidden/secret.o",
            "top.o",
            "other/z.txt",
        ] {
            fs::write(root.join(f), f).unwrap();
        }
        dir
    }

    fn walk(root: &Path, pattern: &str) -> Vec<String> {
        walk_matches(root, pattern)
            .unwrap()
            .into_iter()
            .map(|p| p.to_string_lossy().replace('\\', "/"))
            .collect()
    }

    #[test]
    fn literal_paths() {
        let t = tree();
        assert_eq!(walk(t.path(), "build/app.o"), vec!["build/app.o"]);
        assert_eq!(walk(t.path(), "build"), vec!["build"]);
        assert_eq!(walk(t.path(), "build/"), vec!["build"]);
        assert_eq!(walk(t.path(), "./build//app.o"), vec!["build/app.o"]);
        assert_eq!(
            walk(t.path(), "top.o/"),
            vec!["top.o"],
            "cleaned like FilepathGlob"
        );
        assert!(walk(t.path(), "missing/file").is_empty());
        assert!(walk(t.path(), "build/missing").is_empty());
    }

    #[test]
    fn single_star() {
        let t = tree();
        assert_eq!(walk(t.path(), "build/*.o"), vec!["build/app.o"]);
        assert_eq!(walk(t.path(), "*.o"), vec!["top.o"]);
        assert_eq!(
            walk(t.path(), "*"),
            vec![".hidden", "build", "other", "src", "top.o"],
            "dotfiles match"
        );
        let dirs_only = DoubleStarGlob::new("*/").unwrap().walk(t.path());
        assert_eq!(
            dirs_only,
            [".hidden", "build", "other", "src"].map(PathBuf::from)
        );
        let not_dir = DoubleStarGlob::new("top.o/").unwrap().walk(t.path());
        assert!(not_dir.is_empty());
    }

    #[test]
    fn doublestar_descends() {
        let t = tree();
        assert_eq!(
            walk(t.path(), "build/**/*.o"),
            vec!["build/app.o", "build/sub/deep/y.o", "build/sub/x.o"]
        );
        assert_eq!(
            walk(t.path(), "**/*.o"),
            vec![
                ".hidden/secret.o",
                "build/app.o",
                "build/sub/deep/y.o",
                "build/sub/x.o",
                "top.o"
            ]
        );
    }

    #[test]
    fn trailing_doublestar_includes_the_base() {
        let t = tree();
        assert_eq!(
            walk(t.path(), "build/**"),
            vec![
                "build",
                "build/app.o",
                "build/app.txt",
                "build/empty",
                "build/sub",
                "build/sub/deep",
                "build/sub/deep/y.o",
                "build/sub/x.o",
            ]
        );
        let dirs = DoubleStarGlob::new("build/**/").unwrap().walk(t.path());
        assert_eq!(
            dirs,
            ["build", "build/empty", "build/sub", "build/sub/deep"].map(PathBuf::from)
        );
        let all = walk(t.path(), "**");
        assert_eq!(all[0], ".");
        assert!(all.contains(&"src/a/lib.rs".to_owned()));
    }

    #[test]
    fn braces_are_walked_together_without_duplicates() {
        let t = tree();
        assert_eq!(
            walk(t.path(), "{build,src}/**/*.{o,rs}"),
            vec![
                "build/app.o",
                "build/sub/deep/y.o",
                "build/sub/x.o",
                "src/a/lib.rs",
                "src/main.rs"
            ]
        );
        assert_eq!(walk(t.path(), "build/{app.o,*.o}"), vec!["build/app.o"]);
        assert_eq!(
            walk(t.path(), "{top.o,other/z.txt}"),
            vec!["other/z.txt", "top.o"]
        );
    }

    #[test]
    fn middle_wildcards_only_enter_directories() {
        let t = tree();
        assert_eq!(walk(t.path(), "*/sub/*.o"), vec!["build/sub/x.o"]);
        assert_eq!(walk(t.path(), "*/a/*"), vec!["src/a/lib.rs"]);
        assert_eq!(walk(t.path(), "top.o/*"), Vec::<String>::new());
    }

    #[cfg(unix)]
    #[test]
    fn symlinks_are_not_followed() {
        let t = tree();
        std::os::unix::fs::symlink(t.path().join("build"), t.path().join("link")).unwrap();
        let all = walk(t.path(), "**/*.o");
        assert!(!all.iter().any(|p| p.starts_with("link/")), "{all:?}");
        assert!(
            walk(t.path(), "*").contains(&"link".to_owned()),
            "the link itself matches"
        );
        assert!(
            walk(t.path(), "link/*.o").contains(&"link/app.o".to_owned()),
            "base is resolved"
        );
    }

    #[test]
    fn clean_path_is_gos() {
        assert_eq!(clean_path("a//b/./c/"), "a/b/c");
        assert_eq!(clean_path("a/../b"), "b");
        assert_eq!(clean_path("../../x"), "../../x");
        assert_eq!(clean_path("a/../../x"), "../x");
        assert_eq!(clean_path("/../x"), "/x");
        assert_eq!(clean_path(""), ".");
        assert_eq!(clean_path("./"), ".");
        assert_eq!(clean_path("/"), "/");
        assert_eq!(clean_path("build/**/"), "build/**");
    }

    #[test]
    fn base_outside_and_bad_patterns() {
        let t = tree();
        let sub = t.path().join("src");
        assert_eq!(walk(&sub, "../build/*.txt"), vec!["../build/app.txt"]);
        assert!(walk_matches(t.path(), "[").is_err());
    }
}
