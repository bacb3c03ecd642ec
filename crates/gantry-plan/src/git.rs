//! Facts about the project's git repository: the commit, the branch, the remote, changed files.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

/// What a pipeline needs to know about the checked-out commit and the repository.
#[derive(Debug, Clone, Default)]
pub struct GitFacts {
    /// Whether `project_dir` is a git work tree with at least one commit.
    pub is_repo: bool,
    pub sha: String,
    pub message: String,
    pub author: String,
    /// Commit time, ISO 8601 in UTC (`2024-01-01T00:00:00Z`).
    pub timestamp: String,
    /// The checked-out branch, if any (`None` on a detached HEAD).
    pub branch: Option<String>,
    /// Tags pointing at HEAD.
    pub tags_at_head: Vec<String>,
    pub origin_url: Option<String>,
    /// From `refs/remotes/origin/HEAD`, else the checked-out branch, else `main`.
    pub default_branch: Option<String>,
    pub top_level: Option<PathBuf>,
}

fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .env("TZ", "UTC")
        .env("GIT_OPTIONAL_LOCKS", "0")
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    Some(String::from_utf8_lossy(&out.stdout).into_owned())
}

impl GitFacts {
    /// Reads the facts with as few git processes as possible; a directory that is not a
    /// repository gives empty facts (`is_repo` false) rather than an error.
    pub fn read(dir: &Path) -> Self {
        let Some(head) = git(
            dir,
            &[
                "log",
                "-1",
                "--no-show-signature",
                "--date=format-local:%Y-%m-%dT%H:%M:%SZ",
                "--format=%H%x00%an <%ae>%x00%cd%x00%B",
                "HEAD",
            ],
        ) else {
            return Self::default();
        };
        let mut parts = head.splitn(4, '\0');
        let sha = parts.next().unwrap_or_default().trim().to_string();
        let author = parts.next().unwrap_or_default().to_string();
        let timestamp = parts.next().unwrap_or_default().to_string();
        let message = parts
            .next()
            .unwrap_or_default()
            .trim_end_matches('\n')
            .to_string();
        // One call for the branch, the remote's default branch, the top level and the tags.
        let info = git(
            dir,
            &[
                "rev-parse",
                "--show-toplevel",
                "--symbolic-full-name",
                "HEAD",
            ],
        )
        .unwrap_or_default();
        let mut lines = info.lines();
        let top_level = lines.next().map(PathBuf::from);
        let branch = lines
            .next()
            .and_then(|r| r.strip_prefix("refs/heads/"))
            .map(str::to_string);
        let default_branch = git(dir, &["symbolic-ref", "-q", "refs/remotes/origin/HEAD"])
            .and_then(|r| {
                r.trim()
                    .strip_prefix("refs/remotes/origin/")
                    .map(str::to_string)
            });
        let config = git(dir, &["config", "--get", "remote.origin.url"]);
        let tags_at_head = git(dir, &["tag", "--points-at", "HEAD"])
            .map(|t| t.lines().map(str::to_string).collect())
            .unwrap_or_default();
        Self {
            is_repo: true,
            sha,
            message,
            author,
            timestamp,
            branch,
            tags_at_head,
            origin_url: config
                .map(|c| c.trim().to_string())
                .filter(|c| !c.is_empty()),
            default_branch,
            top_level,
        }
    }

    /// The annotation message of tag `name`, if it is an annotated tag.
    pub fn tag_message(dir: &Path, name: &str) -> Option<String> {
        let out = git(
            dir,
            &[
                "for-each-ref",
                "--format=%(contents)",
                &format!("refs/tags/{name}"),
            ],
        )?;
        let trimmed = out.trim_end_matches('\n');
        (!trimmed.is_empty()).then(|| trimmed.to_string())
    }

    /// Files changed between `base` and the working tree (committed or not), for `changes`.
    /// `None` when git cannot tell (unknown ref).
    pub fn changed_files(dir: &Path, base: &str) -> Option<Vec<String>> {
        let mut files: Vec<String> = git(dir, &["diff", "--name-only", "--no-renames", base])?
            .lines()
            .map(str::to_string)
            .collect();
        if let Some(untracked) = git(dir, &["ls-files", "--others", "--exclude-standard"]) {
            files.extend(untracked.lines().map(str::to_string));
        }
        files.sort();
        files.dedup();
        Some(files)
    }

    /// The merge base of two refs.
    pub fn merge_base(dir: &Path, a: &str, b: &str) -> Option<String> {
        git(dir, &["merge-base", a, b]).map(|s| s.trim().to_string())
    }

    /// Whether `rev` names a commit.
    pub fn rev_exists(dir: &Path, rev: &str) -> bool {
        git(
            dir,
            &["rev-parse", "--verify", "-q", &format!("{rev}^{{commit}}")],
        )
        .is_some()
    }

    /// The last commit that touched `path` at HEAD (for `cache:key:files`).
    pub fn last_commit_of(dir: &Path, path: &str) -> Option<String> {
        git(dir, &["log", "-1", "--format=%H", "HEAD", "--", path])
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
    }
}

/// The project path (`group/sub/project`) and server host of a remote URL, in its ssh
/// (`git@host:group/project.git`), ssh URL or http(s) forms.
pub fn parse_remote(url: &str) -> Option<(String, String)> {
    let url = url.trim();
    let (host, path) = if let Some(rest) = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .or_else(|| url.strip_prefix("ssh://"))
        .or_else(|| url.strip_prefix("git://"))
    {
        let (authority, path) = rest.split_once('/')?;
        let host = authority.rsplit('@').next()?;
        let host = if url.starts_with("ssh://") {
            host.split(':').next().unwrap_or(host)
        } else {
            host
        };
        (host.to_string(), path.to_string())
    } else if let Some((left, path)) = url.split_once(':') {
        if left.contains('/') {
            return None;
        }
        let host = left.rsplit('@').next()?;
        (host.to_string(), path.to_string())
    } else {
        return None;
    };
    let path = path.trim_matches('/').trim_end_matches(".git").to_string();
    if path.is_empty() {
        return None;
    }
    Some((host, path))
}

/// Hex SHA-256 of `bytes`, shortened to 40 characters (the length of a git SHA-1).
pub fn sha_hex(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    let digest = sha2::Sha256::digest(bytes);
    digest.iter().take(20).fold(String::new(), |mut out, b| {
        let _ = write!(out, "{b:02x}");
        out
    })
}

#[cfg(test)]
mod tests {
    use super::parse_remote;

    #[test]
    fn remotes_in_every_form() {
        let expect = Some((
            "gitlab.example.com".to_string(),
            "my-group/sub/my-project".to_string(),
        ));
        assert_eq!(
            parse_remote("git@gitlab.example.com:my-group/sub/my-project.git"),
            expect
        );
        assert_eq!(
            parse_remote("https://gitlab.example.com/my-group/sub/my-project.git"),
            expect
        );
        assert_eq!(
            parse_remote("https://user:tok@gitlab.example.com/my-group/sub/my-project"),
            expect
        );
        assert_eq!(
            parse_remote("ssh://git@gitlab.example.com:2222/my-group/sub/my-project.git"),
            expect
        );
        assert_eq!(parse_remote("/srv/repo.git"), None);
    }
}
