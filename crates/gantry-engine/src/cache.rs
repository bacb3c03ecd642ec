//! `CacheStore`: the local cache kept across runs, one directory per project under the user
//! cache directory (`$GANTRY_CACHE_DIR`, else `$XDG_CACHE_HOME/gantry`, else `~/.cache/gantry`),
//! one archive per key: `<root>/<project>/<key>/cache.tar.gz`. Archives are written to a
//! temporary file and renamed, so jobs saving one key concurrently never corrupt it (the last
//! one wins). Every cache problem is a warning, never a job failure.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::archive::{create_archive, extract_archive};
use crate::artifacts::log_notes;
use crate::environment::JobEnvironment;
use crate::file_set::{FileSet, Selection};
use crate::job::JobLogger;
use crate::spec::{CachePolicy, CacheSpec, CacheWhen};

const ARCHIVE: &str = "cache.tar.gz";

/// The cache directory of one project.
#[derive(Clone, Debug)]
pub(crate) struct CacheStore {
    root: PathBuf,
}

/// The user cache directory: `$GANTRY_CACHE_DIR`, `$XDG_CACHE_HOME/gantry`, `~/.cache/gantry`.
pub fn default_cache_dir() -> PathBuf {
    let non_empty = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
    if let Some(dir) = non_empty("GANTRY_CACHE_DIR") {
        return PathBuf::from(dir);
    }
    if let Some(dir) = non_empty("XDG_CACHE_HOME") {
        return PathBuf::from(dir).join("gantry");
    }
    if let Some(home) = non_empty("HOME") {
        return PathBuf::from(home).join(".cache").join("gantry");
    }
    std::env::temp_dir().join("gantry-cache")
}

impl CacheStore {
    /// The store of `project_dir` below `cache_root`: `<name>-<12 hex of sha256(path)>`.
    pub(crate) fn for_project(cache_root: &Path, project_dir: &Path) -> Self {
        let canonical = project_dir
            .canonicalize()
            .unwrap_or_else(|_| project_dir.to_path_buf());
        let digest = Sha256::digest(canonical.to_string_lossy().as_bytes());
        let hex = digest.iter().take(6).fold(String::new(), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        });
        let name = canonical
            .file_name()
            .map(|n| sanitize_key(&n.to_string_lossy()))
            .unwrap_or_default();
        Self {
            root: cache_root.join(format!("{name}-{hex}")),
        }
    }

    fn archive_path(&self, key: &str) -> PathBuf {
        self.root.join(sanitize_key(key)).join(ARCHIVE)
    }

    /// Restores every pulling cache entry (key, then `fallback_keys`, then `CACHE_FALLBACK_KEY`).
    pub(crate) fn restore(
        &self,
        caches: &[CacheSpec],
        job_name: &str,
        project_dir: &Path,
        env: &JobEnvironment,
        log: &mut JobLogger,
    ) {
        for cache in caches.iter().filter(|c| c.policy != CachePolicy::Push) {
            let key = effective_key(cache, job_name, env);
            let mut candidates = vec![key];
            candidates.extend(cache.fallback_keys.iter().map(|k| env.expand(k)));
            if let Some(fallback) = env.get("CACHE_FALLBACK_KEY").filter(|k| !k.is_empty()) {
                if fallback.ends_with("-protected") {
                    log.warning(&format!(
                        "CACHE_FALLBACK_KEY {fallback:?} not allowed to end with \"-protected\""
                    ));
                } else {
                    candidates.push(fallback.to_owned());
                }
            }
            let mut restored = false;
            for key in candidates.iter().filter(|k| !k.is_empty()) {
                log.info(&format!("Checking cache for {key}..."));
                let archive = self.archive_path(key);
                if !archive.is_file() {
                    log.warning("file does not exist");
                    continue;
                }
                match extract_archive(&archive, project_dir) {
                    Ok(()) => {
                        log.info("Successfully extracted cache");
                        restored = true;
                        break;
                    }
                    Err(e) => log.warning(&format!("Failed to extract cache: {e}")),
                }
            }
            if !restored {
                log.warning("Failed to extract cache");
            }
        }
    }

    /// Whether a cache entry is saved for this job result.
    pub(crate) fn saves(cache: &CacheSpec, succeeded: bool) -> bool {
        cache.policy != CachePolicy::Pull
            && match cache.when {
                CacheWhen::OnSuccess => succeeded,
                CacheWhen::OnFailure => !succeeded,
                CacheWhen::Always => true,
            }
    }

    /// Saves every pushing cache entry whose `when` matches.
    pub(crate) fn save(
        &self,
        caches: &[CacheSpec],
        succeeded: bool,
        job_name: &str,
        project_dir: &Path,
        env: &JobEnvironment,
        log: &mut JobLogger,
    ) {
        for cache in caches.iter().filter(|c| Self::saves(c, succeeded)) {
            let key = effective_key(cache, job_name, env);
            log.info(&format!("Creating cache {key}..."));
            let paths: Vec<String> = cache.paths.iter().map(|p| env.expand(p)).collect();
            let (files, notes) = FileSet::collect(
                project_dir,
                &Selection {
                    paths: &paths,
                    exclude: &[],
                    untracked: cache.untracked,
                },
            );
            log_notes(log, &notes);
            if files.is_empty() {
                log.warning("No files to cache.");
                continue;
            }
            match create_archive(project_dir, &files, &self.archive_path(&key)) {
                Ok(_) => log.info("Created cache"),
                Err(e) => log.warning(&format!("Failed to create cache: {e}")),
            }
        }
    }
}

/// The runner-expanded key; an empty key falls back to `<job name>/<ref>`.
fn effective_key(cache: &CacheSpec, job_name: &str, env: &JobEnvironment) -> String {
    let key = env.expand(&cache.key);
    if key.is_empty() {
        let git_ref = env.get("CI_COMMIT_REF_NAME").unwrap_or("");
        format!("{job_name}/{git_ref}")
    } else {
        key
    }
}

/// A key as a single safe directory name: bytes outside `[A-Za-z0-9._-]` are percent-encoded,
/// and names made only of dots are encoded too.
fn sanitize_key(key: &str) -> String {
    let mut out = String::with_capacity(key.len());
    for b in key.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.') {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    if out.is_empty() || out.bytes().all(|b| b == b'.') {
        out = out.replace('.', "%2E");
        if out.is_empty() {
            out.push_str("%00");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::sanitize_key;

    #[test]
    fn sanitizes() {
        assert_eq!(sanitize_key("default"), "default");
        assert_eq!(sanitize_key("a/b c"), "a%2Fb%20c");
        assert_eq!(sanitize_key(".."), "%2E%2E");
        assert_eq!(sanitize_key(""), "%00");
    }
}
