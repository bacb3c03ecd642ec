//! Where blobs have been seen: `(registry, repository)` pairs per digest, remembered when a
//! blob is pulled from or pushed to a registry, so that a later push to the same registry can
//! mount the blob from a repository that has it instead of uploading it (what Docker and
//! skopeo do too). Stored as one small file per digest; stale entries only cost a declined
//! mount.

use std::path::{Path, PathBuf};

use fs_err as fs;

use crate::digest::Digest;
use crate::oci_layout::write_atomic;

/// How many repositories are remembered per blob.
const KEEP: usize = 5;

/// The location cache directory.
#[derive(Debug, Clone)]
pub struct BlobLocations {
    dir: PathBuf,
}

impl BlobLocations {
    /// The cache in `dir` (created on first write).
    pub fn new(dir: &Path) -> Self {
        Self {
            dir: dir.to_path_buf(),
        }
    }

    fn file(&self, digest: &Digest) -> PathBuf {
        self.dir.join(digest.hex())
    }

    fn read(&self, digest: &Digest) -> Vec<String> {
        fs::read_to_string(self.file(digest))
            .map(|t| t.lines().map(str::to_owned).collect())
            .unwrap_or_default()
    }

    /// Remembers that `registry`/`repository` has `digest` (most recent first). Best effort.
    pub fn record(&self, digest: &Digest, registry: &str, repository: &str) {
        let entry = format!("{registry}/{repository}");
        let mut lines = self.read(digest);
        if lines.first() == Some(&entry) {
            return;
        }
        lines.retain(|l| *l != entry);
        lines.insert(0, entry);
        lines.truncate(KEEP);
        let _ = fs::create_dir_all(&self.dir);
        let _ = write_atomic(
            &self.file(digest),
            format!("{}\n", lines.join("\n")).as_bytes(),
        );
    }

    /// Repositories of `registry` known to have `digest`, most recent first.
    pub fn repositories(&self, digest: &Digest, registry: &str) -> Vec<String> {
        self.read(digest)
            .into_iter()
            .filter_map(|l| {
                l.strip_prefix(registry)
                    .and_then(|r| r.strip_prefix('/'))
                    .map(str::to_owned)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembers_recent_repositories_per_registry() {
        let dir = tempfile::tempdir().unwrap();
        let loc = BlobLocations::new(dir.path());
        let d = Digest::sha256(b"x");
        assert!(loc.repositories(&d, "r:5000").is_empty());
        loc.record(&d, "r:5000", "a/b");
        loc.record(&d, "other:1", "c");
        loc.record(&d, "r:5000", "d");
        loc.record(&d, "r:5000", "a/b");
        assert_eq!(loc.repositories(&d, "r:5000"), ["a/b", "d"]);
        assert_eq!(loc.repositories(&d, "other:1"), ["c"]);
        for i in 0..10 {
            loc.record(&d, "r:5000", &format!("n{i}"));
        }
        assert_eq!(loc.repositories(&d, "r:5000").len(), KEEP);
    }
}
