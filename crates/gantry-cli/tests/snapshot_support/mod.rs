//! Shared by the snapshot tests: the hand-written configurations of `tests/configs/` turned
//! into git repositories, the real-world corpus, and the rendering of a `gantry` run.

#![allow(dead_code)]

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use gantry_test_support::{DEFAULT_ORIGIN, GitRepo, Redactor};

use crate::common::Test;

/// The hand-written configurations.
pub fn configs_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/configs")
}

/// Every file below `dir` (relative paths, `/`-separated, sorted), `.git` excluded.
pub fn files_below(dir: &Path) -> Vec<String> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).expect("read config directory") {
            let entry = entry.expect("directory entry");
            let path = entry.path();
            if entry.file_name() == ".git" {
                continue;
            }
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                let rel = path.strip_prefix(root).expect("below root");
                out.push(rel.to_string_lossy().replace('\\', "/"));
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

/// A repository holding the files of `dir`: everything but `commit2/` in a first commit on
/// `main`, then `after_first` (tags, branches), then the files of `commit2/` (at the paths
/// below it) in a second commit, and `origin` pointing at `main`.
pub fn repo_from_dir(dir: &Path, after_first: Option<fn(GitRepo) -> GitRepo>) -> GitRepo {
    let files = files_below(dir);
    let mut repo = GitRepo::new();
    let mut second = Vec::new();
    for rel in &files {
        let contents = std::fs::read(dir.join(rel)).expect("read fixture file");
        match rel.strip_prefix("commit2/") {
            Some(inner) => second.push((inner.to_string(), contents)),
            None => repo = repo.file(rel, contents),
        }
    }
    repo = repo.commit("Initial commit");
    if let Some(step) = after_first {
        repo = step(repo);
    }
    if !second.is_empty() {
        for (rel, contents) in second {
            repo = repo.file(rel, contents);
        }
        repo = repo.commit("Second commit");
    }
    repo.remote_origin(DEFAULT_ORIGIN)
}

/// Runs `gantry <args>` in `repo` and renders what came out for a snapshot: stdout (JSON
/// arrays one element per line), stderr when there is any, the exit code when not 0.
pub fn render_run(repo: GitRepo, args: &[&str]) -> (GitRepo, String) {
    let test = Test::from_repo(repo).args(args);
    let out = test.run();
    let redactor = Redactor::empty()
        .path(test.repo.path(), "[REPO]")
        .path(std::env::temp_dir(), "[TMP]");
    let mut text = format!("── gantry {}\n", args.join(" "));
    let stdout = if args.contains(&"json") {
        match serde_json::from_str::<serde_json::Value>(&out.stdout) {
            Ok(serde_json::Value::Array(items)) => {
                let lines: Vec<String> = items.iter().map(ToString::to_string).collect();
                if lines.is_empty() {
                    "[]\n".to_string()
                } else {
                    format!("[\n{}\n]\n", lines.join(",\n"))
                }
            }
            _ => out.stdout.clone(),
        }
    } else {
        out.stdout.clone()
    };
    text.push_str(&redactor.redact(&stdout));
    if !out.stderr.is_empty() {
        text.push_str("── stderr\n");
        text.push_str(&redactor.redact(&out.stderr));
    }
    if out.code != 0 {
        let _ = writeln!(text, "── exit code {}", out.code);
    }
    (test.repo, text)
}

/// Where the shared real-world corpus lives, if it is there. Absent: fails in CI, skips (with
/// a message) elsewhere.
pub fn corpus_dir() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus/real-world");
    if dir.is_dir() {
        return Some(dir);
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "shared/corpus/real-world must be beside the checkout in CI ({})",
        dir.display()
    );
    eprintln!(
        "SKIPPED (shared/corpus/real-world not found at {})",
        dir.display()
    );
    None
}

/// The corpus entry whose directory name starts with `nn-`.
pub fn corpus_entry(corpus: &Path, nn: &str) -> PathBuf {
    std::fs::read_dir(corpus)
        .expect("read corpus")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| {
            p.is_dir()
                && p.file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with(&format!("{nn}-")))
        })
        .unwrap_or_else(|| panic!("corpus entry {nn} not found"))
}
