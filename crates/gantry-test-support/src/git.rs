//! Throw-away git repositories with reproducible SHAs.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use fs_err as fs;
use tempfile::TempDir;

use crate::process::{describe, run_with_timeout};

/// Author and committer name of every fixture commit.
pub const AUTHOR_NAME: &str = "Test User";
/// Author and committer e-mail of every fixture commit.
pub const AUTHOR_EMAIL: &str = "test@example.com";
/// The branch `git init` creates, and the default branch behind `origin/HEAD`.
pub const DEFAULT_BRANCH: &str = "main";
/// The `origin` URL used by [`GitRepo::with_pipeline`] (`CI_PROJECT_PATH` = `my-group/sub/my-project`).
pub const DEFAULT_ORIGIN: &str = "git@gitlab.example.com:my-group/sub/my-project.git";
/// Date of the first commit: 2024-01-01T00:00:00Z. Commit `n` (0-based) is dated `n` days later.
pub const BASE_EPOCH: u64 = 1_704_067_200;

const GIT_TIMEOUT: Duration = Duration::from_mins(1);

/// The git date (`<unix seconds> +0000`) of the `n`-th commit (0-based) of a [`GitRepo`].
pub fn commit_date(n: u32) -> String {
    format!("{} +0000", BASE_EPOCH + u64::from(n) * 86_400)
}

/// A git repository in a temporary directory, removed on drop.
///
/// Every git command runs with a fixed identity ([`AUTHOR_NAME`], [`AUTHOR_EMAIL`]), fixed dates
/// ([`commit_date`]), `GIT_CONFIG_NOSYSTEM=1`, a private `HOME`/`XDG_CONFIG_HOME`, and no inherited
/// `GIT_*` variables, so SHAs are the same on every machine and the host's configuration never
/// leaks in. The same environment is available through [`GitRepo::env`] for running the program
/// under test.
///
/// Tests create many repositories, so the builder spawns as few git processes as it can: `new`
/// runs one (`git init`), [`commit`](Self::commit) two, [`tag`](Self::tag) and
/// [`checkout`](Self::checkout) one; files, branches, `origin` and [`head_sha`](Self::head_sha)
/// are plain file operations.
///
/// ```
/// use gantry_test_support::GitRepo;
///
/// let repo = GitRepo::new()
///     .file(".gitlab-ci.yml", "job:\n  script: echo hi\n")
///     .commit("Initial commit")
///     .tag("v1.0.0", "Release 1.0.0")
///     .branch("feature/login")
///     .file("a.txt", "x\n")
///     .commit("Add a")
///     .checkout("main")
///     .remote_origin("git@gitlab.example.com:my-group/my-project.git");
/// assert_eq!(repo.head_sha(), "f2dcf082a8b18106e00747864d2f1edae02e8752");
/// ```
#[derive(Debug)]
pub struct GitRepo {
    root: TempDir,
    path: PathBuf,
    home: PathBuf,
    commits: u32,
    has_origin: bool,
}

impl Default for GitRepo {
    fn default() -> Self {
        Self::new()
    }
}

impl GitRepo {
    /// An empty repository (`git init -b main`) with `user.name`/`user.email` configured.
    pub fn new() -> Self {
        let root = tempfile::Builder::new()
            .prefix("gantry-git-")
            .tempdir()
            .expect("create temp dir for a git fixture");
        let path = root.path().join("repo");
        let home = root.path().join("home");
        fs::create_dir_all(home.join(".config")).expect("create fixture HOME");
        let repo = Self {
            path,
            home,
            root,
            commits: 0,
            has_origin: false,
        };
        // `--template=` skips copying the sample hooks: faster, and nothing from the host.
        let mut cmd = repo.command();
        cmd.current_dir(repo.root.path()).args([
            "init",
            "-q",
            "--template=",
            "-b",
            DEFAULT_BRANCH,
            "repo",
        ]);
        run(&mut cmd);
        repo.append_config(&format!(
            "[user]\n\tname = {AUTHOR_NAME}\n\temail = {AUTHOR_EMAIL}\n\
             [commit]\n\tgpgsign = false\n[tag]\n\tgpgsign = false\n"
        ));
        repo
    }

    /// A repository with `.gitlab-ci.yml` = `yaml` committed as "Initial commit" on `main`, and
    /// `origin` = [`DEFAULT_ORIGIN`] with `origin/main` and `origin/HEAD`: what most pipeline tests
    /// need.
    pub fn with_pipeline(yaml: &str) -> Self {
        Self::new()
            .file(".gitlab-ci.yml", yaml)
            .commit("Initial commit")
            .remote_origin(DEFAULT_ORIGIN)
    }

    /// The work tree.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The private `HOME` every git command runs with (also a handy scratch directory).
    pub fn home(&self) -> &Path {
        &self.home
    }

    /// Writes `contents` to `rel` in the work tree (parent directories are created). Not staged
    /// until the next [`commit`](Self::commit).
    #[must_use]
    pub fn file(self, rel: impl AsRef<Path>, contents: impl AsRef<[u8]>) -> Self {
        let p = self.work_path(rel.as_ref());
        if let Some(parent) = p.parent() {
            fs::create_dir_all(parent).expect("create parent directory");
        }
        fs::write(&p, contents).expect("write fixture file");
        self
    }

    /// Like [`file`](Self::file), with mode 0755.
    #[must_use]
    pub fn executable(self, rel: impl AsRef<Path>, contents: impl AsRef<[u8]>) -> Self {
        use std::os::unix::fs::PermissionsExt;
        let rel = rel.as_ref().to_path_buf();
        let this = self.file(&rel, contents);
        let p = this.work_path(&rel);
        fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).expect("chmod 0755");
        this
    }

    /// Removes a file or directory from the work tree (the removal is part of the next commit).
    #[must_use]
    pub fn remove(self, rel: impl AsRef<Path>) -> Self {
        let p = self.work_path(rel.as_ref());
        if p.is_dir() {
            fs::remove_dir_all(&p).expect("remove fixture directory");
        } else {
            fs::remove_file(&p).expect("remove fixture file");
        }
        self
    }

    /// Stages everything (`git add -A`) and commits it with message `msg` (empty commits allowed).
    /// The `n`-th commit of the repository is dated [`commit_date(n)`](commit_date).
    #[must_use]
    pub fn commit(mut self, msg: &str) -> Self {
        let date = commit_date(self.commits);
        run(self.command().args(["add", "-A"]));
        run(self
            .command()
            .env("GIT_AUTHOR_DATE", &date)
            .env("GIT_COMMITTER_DATE", &date)
            .args(["commit", "-q", "--no-verify", "--allow-empty", "-m", msg]));
        self.commits += 1;
        self
    }

    /// Creates branch `name` at `HEAD` and switches to it (like `git switch -c`), without
    /// touching the index or the work tree. Works on an unborn `HEAD` too.
    #[must_use]
    pub fn branch(self, name: &str) -> Self {
        check_ref_name(name);
        let r = format!("refs/heads/{name}");
        assert!(
            self.read_ref(&r).is_none(),
            "GitRepo::branch: branch `{name}` already exists"
        );
        if let Some(sha) = self.try_head_sha() {
            self.write_ref(&r, &sha);
        }
        self.write_git_file("HEAD", &format!("ref: {r}\n"));
        self
    }

    /// Creates branch `name` at `HEAD` without switching to it (like `git branch`).
    #[must_use]
    pub fn branch_here(self, name: &str) -> Self {
        check_ref_name(name);
        let sha = self.head_sha();
        self.write_ref(&format!("refs/heads/{name}"), &sha);
        self
    }

    /// `git checkout <name>`: a branch, a tag or a SHA (the last two detach `HEAD`).
    #[must_use]
    pub fn checkout(self, name: &str) -> Self {
        run(self.command().args(["checkout", "-q", name, "--"]));
        self
    }

    /// An annotated tag `name` on `HEAD`, dated like the latest commit.
    #[must_use]
    pub fn tag(self, name: &str, message: &str) -> Self {
        let date = commit_date(self.commits.saturating_sub(1));
        run(self
            .command()
            .env("GIT_COMMITTER_DATE", &date)
            .args(["tag", "-a", name, "-m", message]));
        self
    }

    /// A lightweight tag `name` on `HEAD`.
    #[must_use]
    pub fn lightweight_tag(self, name: &str) -> Self {
        check_ref_name(name);
        let sha = self.head_sha();
        self.write_ref(&format!("refs/tags/{name}"), &sha);
        self
    }

    /// Adds remote `origin` with URL `url` (where Gantry derives `CI_PROJECT_*` from), sets
    /// `refs/remotes/origin/main` to the local `main` and `refs/remotes/origin/HEAD` to it (the
    /// default branch). Call it after the commits `origin` should have; see
    /// [`update_origin`](Self::update_origin) to move it later.
    #[must_use]
    pub fn remote_origin(mut self, url: &str) -> Self {
        assert!(
            !self.has_origin,
            "GitRepo::remote_origin: origin is already set"
        );
        self.append_config(&format!(
            "[remote \"origin\"]\n\turl = {url}\n\tfetch = +refs/heads/*:refs/remotes/origin/*\n"
        ));
        self.has_origin = true;
        self.update_origin();
        self.write_git_file(
            "refs/remotes/origin/HEAD",
            &format!("ref: refs/remotes/origin/{DEFAULT_BRANCH}\n"),
        );
        self
    }

    /// Points `refs/remotes/origin/main` at the current local `main` (as after a push).
    pub fn update_origin(&self) {
        let sha = self
            .read_ref(&format!("refs/heads/{DEFAULT_BRANCH}"))
            .unwrap_or_else(|| {
                panic!(
                    "GitRepo: `{DEFAULT_BRANCH}` has no commit yet; commit before setting origin"
                )
            });
        self.write_ref(&format!("refs/remotes/origin/{DEFAULT_BRANCH}"), &sha);
    }

    /// Sets `refs/remotes/origin/<name>` to the local branch `name` (a branch that was pushed).
    pub fn push_branch(&self, name: &str) {
        let sha = self
            .read_ref(&format!("refs/heads/{name}"))
            .unwrap_or_else(|| panic!("GitRepo::push_branch: no local branch `{name}`"));
        self.write_ref(&format!("refs/remotes/origin/{name}"), &sha);
    }

    /// The 40-hex SHA of `HEAD`. Panics when `HEAD` has no commit.
    pub fn head_sha(&self) -> String {
        self.try_head_sha()
            .unwrap_or_else(|| panic!("GitRepo::head_sha: HEAD has no commit yet"))
    }

    /// The SHA a ref, branch, tag or revision resolves to (`git rev-parse --verify <rev>^{commit}`).
    pub fn rev_parse(&self, rev: &str) -> String {
        self.git(&["rev-parse", "--verify", "-q", &format!("{rev}^{{commit}}")])
    }

    /// A bare clone of this repository next to it (`<tmp>/remote.git`), for fetch tests. Use
    /// [`file_url`](Self::file_url)-style `file://` URLs so `--depth` is honoured.
    pub fn bare_clone(&self) -> PathBuf {
        let dest = self.root.path().join("remote.git");
        run(self.command().current_dir(self.root.path()).args([
            "clone",
            "-q",
            "--bare",
            "repo",
            "remote.git",
        ]));
        dest
    }

    /// `file://<path>` for a repository path (e.g. from [`bare_clone`](Self::bare_clone)).
    pub fn file_url(path: &Path) -> String {
        format!("file://{}", path.display())
    }

    /// Runs `git <args>` in the work tree with the fixture environment; panics on failure and
    /// returns stdout without the trailing newline.
    pub fn git(&self, args: &[&str]) -> String {
        let out = run(self.command().args(args));
        let mut s = String::from_utf8_lossy(&out).into_owned();
        while s.ends_with('\n') {
            s.pop();
        }
        s
    }

    /// The environment every fixture git command runs with: identity, dates of the latest commit,
    /// `GIT_CONFIG_NOSYSTEM=1`, private `HOME` and `XDG_CONFIG_HOME`, `LC_ALL=C`. Apply it to the
    /// program under test (together with [`inherited_git_vars`](Self::inherited_git_vars) removed)
    /// so it sees the repository the way the fixture built it.
    pub fn env(&self) -> Vec<(&'static str, OsString)> {
        let date = commit_date(self.commits.saturating_sub(1));
        vec![
            ("HOME", self.home.clone().into_os_string()),
            (
                "XDG_CONFIG_HOME",
                self.home.join(".config").into_os_string(),
            ),
            ("GIT_CONFIG_NOSYSTEM", "1".into()),
            ("GIT_AUTHOR_NAME", AUTHOR_NAME.into()),
            ("GIT_AUTHOR_EMAIL", AUTHOR_EMAIL.into()),
            ("GIT_COMMITTER_NAME", AUTHOR_NAME.into()),
            ("GIT_COMMITTER_EMAIL", AUTHOR_EMAIL.into()),
            ("GIT_AUTHOR_DATE", date.clone().into()),
            ("GIT_COMMITTER_DATE", date.into()),
            ("GIT_TERMINAL_PROMPT", "0".into()),
            ("LC_ALL", "C".into()),
        ]
    }

    /// Names of `GIT_*` variables in this process's environment that would change what git does
    /// (`GIT_DIR`, `GIT_INDEX_FILE`, ...); fixture commands run without them.
    pub fn inherited_git_vars() -> Vec<OsString> {
        std::env::vars_os()
            .map(|(k, _)| k)
            .filter(|k| k.to_string_lossy().starts_with("GIT_"))
            .collect()
    }

    /// A `git` command in the work tree with the fixture environment.
    pub fn command(&self) -> Command {
        let mut cmd = Command::new("git");
        for k in Self::inherited_git_vars() {
            cmd.env_remove(k);
        }
        cmd.envs(self.env()).current_dir(&self.path);
        cmd
    }

    // ---- plain file operations on .git -------------------------------------------------

    fn git_dir(&self) -> PathBuf {
        self.path.join(".git")
    }

    fn work_path(&self, rel: &Path) -> PathBuf {
        assert!(
            rel.is_relative() && !rel.components().any(|c| c.as_os_str() == ".."),
            "GitRepo: fixture paths must be relative and stay inside the repo: {}",
            rel.display()
        );
        self.path.join(rel)
    }

    fn append_config(&self, text: &str) {
        use std::io::Write;
        let mut f = fs::OpenOptions::new()
            .append(true)
            .open(self.git_dir().join("config"))
            .expect("open .git/config");
        f.write_all(text.as_bytes()).expect("write .git/config");
    }

    fn write_git_file(&self, rel: &str, contents: &str) {
        let p = self.git_dir().join(rel);
        if let Some(parent) = p.parent() {
            fs::create_dir_all(parent).expect("create ref directory");
        }
        // Write-then-rename, as git does, so a concurrent reader never sees a partial ref.
        let tmp = p.with_extension("gantry-tmp");
        fs::write(&tmp, contents).expect("write ref");
        fs::rename(&tmp, &p).expect("rename ref into place");
    }

    fn write_ref(&self, name: &str, sha: &str) {
        self.write_git_file(name, &format!("{sha}\n"));
    }

    /// Resolves a ref (following symbolic refs) from loose refs or `packed-refs`.
    fn read_ref(&self, name: &str) -> Option<String> {
        let mut name = name.to_owned();
        for _ in 0..5 {
            let Ok(content) = std::fs::read_to_string(self.git_dir().join(&name)) else {
                return self.packed_ref(&name);
            };
            let content = content.trim();
            match content.strip_prefix("ref: ") {
                Some(target) => target.clone_into(&mut name),
                None => return Some(content.to_owned()),
            }
        }
        None
    }

    fn packed_ref(&self, name: &str) -> Option<String> {
        let packed = std::fs::read_to_string(self.git_dir().join("packed-refs")).ok()?;
        packed.lines().find_map(|l| {
            let (sha, r) = l.split_once(' ')?;
            (r == name && sha.len() == 40).then(|| sha.to_owned())
        })
    }

    fn try_head_sha(&self) -> Option<String> {
        self.read_ref("HEAD")
    }
}

/// Rejects names git would refuse (a subset of `git check-ref-format` that matters for fixtures).
fn check_ref_name(name: &str) {
    let bad = name.is_empty()
        || name.starts_with(['-', '/', '.'])
        || name.ends_with(['/', '.'])
        || name.to_ascii_lowercase().ends_with(".lock")
        || name.contains("..")
        || name.contains("//")
        || name.contains("@{")
        || name.contains("/.")
        || name
            .chars()
            .any(|c| c.is_control() || " ~^:?*[\\".contains(c));
    assert!(!bad, "GitRepo: invalid ref name `{name}`");
}

/// Runs a git command, returning stdout; panics with the command and its stderr on failure.
fn run(cmd: &mut Command) -> Vec<u8> {
    let shown = describe(cmd);
    let out = run_with_timeout(cmd, GIT_TIMEOUT).unwrap_or_else(|e| panic!("{e}"));
    assert!(
        out.status.success(),
        "`{shown}` failed ({}):\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

#[cfg(test)]
mod tests {
    use super::check_ref_name;

    #[test]
    fn accepts_common_names() {
        for n in ["main", "feature/Login-Page", "release-1.2", "v1.0.0", "a_b"] {
            check_ref_name(n);
        }
    }

    #[test]
    fn rejects_bad_names() {
        for n in [
            "", "-x", "a..b", "a b", "x.lock", "a/", "a~1", "a:b", "a/.b",
        ] {
            assert!(
                std::panic::catch_unwind(|| check_ref_name(n)).is_err(),
                "{n:?} accepted"
            );
        }
    }
}
