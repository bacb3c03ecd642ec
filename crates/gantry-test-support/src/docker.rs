//! Docker fixtures: local test images (never pulled) and label-based cleanup.
//!
//! The machines Gantry is tested on reach no container registry, so every image a test uses is
//! built here:
//!
//! * [`BUSYBOX_IMAGE`] (`gantry-test/busybox:1`): `/bin/busybox` from Debian's `busybox-static`,
//!   one symlink per applet, `/etc/passwd`, `/etc/group` and a sticky `/tmp`, imported with
//!   `docker import -c 'CMD ["/bin/sh"]'` from a reproducible tar (mtime 0, owner 0:0, sorted).
//! * [`BUSYBOX_HTTP_IMAGE`] (`gantry-test/busybox-http:1`): the same rootfs plus
//!   `/www/index.html`, with `EXPOSE 8080/tcp` and `CMD httpd -f -p 8080 -h /www`, for service
//!   health checks.
//!
//! Both are imported only when the tag is missing (`docker image inspect` first), under a
//! cross-process lock, so repeated and parallel test runs are fast and do not pile up images.
//!
//! Tests label what they create with `gantry-test=<run id>` ([`TestRun`]) and clean up by label;
//! nothing else on the host is touched (no `docker system prune`, no removal of other images).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use fs_err as fs;

use crate::process::{describe, find_executable, run_with_input, run_with_timeout};

/// The minimal busybox image (`CMD ["/bin/sh"]`).
pub const BUSYBOX_IMAGE: &str = "gantry-test/busybox:1";
/// Busybox serving `/www` with `httpd` on port 8080, `EXPOSE 8080/tcp`.
pub const BUSYBOX_HTTP_IMAGE: &str = "gantry-test/busybox-http:1";
/// The label key every test resource carries: `gantry-test=<run id>`.
pub const LABEL_KEY: &str = "gantry-test";
/// What `GET /` on [`BUSYBOX_HTTP_IMAGE`]'s port 8080 returns.
pub const HTTP_INDEX: &str = "gantry-test ok\n";

const DOCKER_TIMEOUT: Duration = Duration::from_mins(3);

/// Runs `docker <args>` (180 s limit) and returns its output, whatever the exit status.
pub fn docker(args: &[&str]) -> Output {
    let mut cmd = Command::new("docker");
    cmd.args(args);
    run_with_timeout(&mut cmd, DOCKER_TIMEOUT).unwrap_or_else(|e| panic!("{e}"))
}

/// Runs `docker <args>`, panics unless it succeeds, returns trimmed stdout.
pub fn docker_ok(args: &[&str]) -> String {
    let mut cmd = Command::new("docker");
    cmd.args(args);
    checked(&mut cmd, None)
}

fn checked(cmd: &mut Command, input: Option<&[u8]>) -> String {
    let shown = describe(cmd);
    let out = run_with_input(cmd, input, DOCKER_TIMEOUT).unwrap_or_else(|e| panic!("{e}"));
    assert!(
        out.status.success(),
        "`{shown}` failed ({}):\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// Whether the daemon has an image with this name.
pub fn image_exists(image: &str) -> bool {
    docker(&["image", "inspect", "--format", "{{.Id}}", image])
        .status
        .success()
}

/// The statically linked busybox binary (Debian's `busybox-static`), or why there is none.
pub fn busybox_path() -> Result<PathBuf, String> {
    let candidates = [
        PathBuf::from("/bin/busybox"),
        PathBuf::from("/usr/bin/busybox"),
    ];
    let found = candidates
        .into_iter()
        .find(|p| p.is_file())
        .or_else(|| find_executable("busybox"))
        .ok_or("no busybox binary (install Debian's `busybox-static`)")?;
    let bytes = std::fs::read(&found).map_err(|e| format!("{}: {e}", found.display()))?;
    if elf_has_interpreter(&bytes) {
        return Err(format!(
            "{} is dynamically linked; install `busybox-static` instead of `busybox`",
            found.display()
        ));
    }
    Ok(found)
}

/// `true` when the ELF file has a `PT_INTERP` program header (dynamically linked). 64-bit
/// little-endian only, which is what this project's machines run.
fn elf_has_interpreter(b: &[u8]) -> bool {
    const PT_INTERP: u32 = 3;
    let u16_at = |o: usize| b.get(o..o + 2).map(|s| u16::from_le_bytes([s[0], s[1]]));
    let u32_at = |o: usize| {
        b.get(o..o + 4)
            .map(|s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
    };
    let u64_at = |o: usize| {
        b.get(o..o + 8)
            .and_then(|s| <[u8; 8]>::try_from(s).ok())
            .map(u64::from_le_bytes)
    };
    if b.get(..5) != Some(b"\x7fELF\x02") {
        return false;
    }
    let (Some(phoff), Some(phentsize), Some(phnum)) = (u64_at(0x20), u16_at(0x36), u16_at(0x38))
    else {
        return false;
    };
    let Ok(phoff) = usize::try_from(phoff) else {
        return false;
    };
    (0..usize::from(phnum)).any(|i| u32_at(phoff + i * usize::from(phentsize)) == Some(PT_INTERP))
}

/// The rootfs tar of the busybox images: reproducible (sorted, mtime 0, owner 0:0).
/// With `www`, adds `/www/index.html` containing [`HTTP_INDEX`].
pub fn busybox_rootfs_tar(www: bool) -> Vec<u8> {
    let busybox = busybox_path().unwrap_or_else(|e| panic!("{e}"));
    let binary = fs::read(&busybox).expect("read busybox");
    let list = checked(Command::new(&busybox).arg("--list"), None);
    let applets: BTreeSet<&str> = list
        .lines()
        .map(str::trim)
        .filter(|a| !a.is_empty() && *a != "busybox" && !a.contains('/'))
        .collect();

    let mut tar = tar::Builder::new(Vec::new());
    let dir = |tar: &mut tar::Builder<Vec<u8>>, name: &str, mode: u32| {
        let mut h = header(tar::EntryType::Directory, mode, 0);
        tar.append_data(&mut h, name, std::io::empty())
            .expect("tar dir");
    };
    dir(&mut tar, "./", 0o755);
    dir(&mut tar, "./bin/", 0o755);
    dir(&mut tar, "./etc/", 0o755);
    dir(&mut tar, "./tmp/", 0o1777);
    if www {
        dir(&mut tar, "./www/", 0o755);
    }
    let file = |tar: &mut tar::Builder<Vec<u8>>, name: &str, mode: u32, data: &[u8]| {
        let mut h = header(tar::EntryType::Regular, mode, data.len() as u64);
        tar.append_data(&mut h, name, data).expect("tar file");
    };
    file(&mut tar, "./bin/busybox", 0o755, &binary);
    for applet in &applets {
        let mut h = header(tar::EntryType::Symlink, 0o777, 0);
        tar.append_link(&mut h, format!("./bin/{applet}"), "busybox")
            .expect("tar symlink");
    }
    file(
        &mut tar,
        "./etc/group",
        0o644,
        b"root:x:0:\nnogroup:x:65534:\n",
    );
    file(
        &mut tar,
        "./etc/passwd",
        0o644,
        b"root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n",
    );
    if www {
        file(&mut tar, "./www/index.html", 0o644, HTTP_INDEX.as_bytes());
    }
    tar.into_inner().expect("finish tar")
}

fn header(kind: tar::EntryType, mode: u32, size: u64) -> tar::Header {
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(kind);
    h.set_mode(mode);
    h.set_size(size);
    h.set_mtime(0);
    h.set_uid(0);
    h.set_gid(0);
    h
}

/// Ensures [`BUSYBOX_IMAGE`] exists (imports it when missing) and returns its name.
pub fn ensure_busybox_image() -> &'static str {
    ensure_image(BUSYBOX_IMAGE, false, &[r#"CMD ["/bin/sh"]"#]);
    BUSYBOX_IMAGE
}

/// Ensures [`BUSYBOX_HTTP_IMAGE`] exists (imports it when missing) and returns its name.
pub fn ensure_busybox_http_image() -> &'static str {
    ensure_image(
        BUSYBOX_HTTP_IMAGE,
        true,
        &[
            "EXPOSE 8080/tcp",
            r#"CMD ["/bin/httpd", "-f", "-p", "8080", "-h", "/www"]"#,
        ],
    );
    BUSYBOX_HTTP_IMAGE
}

fn ensure_image(image: &str, www: bool, changes: &[&str]) {
    static DONE: OnceLock<Mutex<BTreeSet<String>>> = OnceLock::new();
    let done = DONE.get_or_init(Mutex::default);
    // One thread at a time in this process, one process at a time on the machine.
    let mut done = done
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if done.contains(image) {
        return;
    }
    let _lock = FileLock::acquire(&std::env::temp_dir().join("gantry-test-images.lock"));
    if !image_exists(image) {
        let tar = busybox_rootfs_tar(www);
        let mut cmd = Command::new("docker");
        cmd.arg("import");
        for c in changes {
            cmd.args(["-c", c]);
        }
        cmd.args(["-", image]);
        checked(&mut cmd, Some(&tar));
    }
    done.insert(image.to_owned());
}

/// An exclusive `flock(2)` on a file, released on drop (and by the kernel if the process dies).
struct FileLock(std::fs::File);

impl FileLock {
    fn acquire(path: &Path) -> Self {
        use std::os::fd::AsRawFd;
        let f = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(path)
            .unwrap_or_else(|e| panic!("open lock file {}: {e}", path.display()));
        loop {
            // SAFETY: flock on a file descriptor we own and keep open for the lock's lifetime.
            let rc = unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX) };
            if rc == 0 {
                return Self(f);
            }
            let err = std::io::Error::last_os_error();
            assert!(
                err.kind() == std::io::ErrorKind::Interrupted,
                "flock {}: {err}",
                path.display()
            );
        }
    }
}

impl Drop for FileLock {
    fn drop(&mut self) {
        use std::os::fd::AsRawFd;
        // SAFETY: unlocking the descriptor locked in `acquire`, still open.
        unsafe {
            libc::flock(self.0.as_raw_fd(), libc::LOCK_UN);
        }
    }
}

/// How many labelled resources exist.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ResourceCounts {
    /// Containers, running or not (`docker ps -a`).
    pub containers: usize,
    /// User-defined networks.
    pub networks: usize,
    /// Volumes.
    pub volumes: usize,
}

/// Counts containers, networks and volumes carrying `label` (`key=value` or just `key`).
pub fn count_by_label(label: &str) -> ResourceCounts {
    let filter = format!("label={label}");
    ResourceCounts {
        containers: ids(&["ps", "-aq", "--filter", &filter]).len(),
        networks: ids(&["network", "ls", "-q", "--filter", &filter]).len(),
        volumes: ids(&["volume", "ls", "-q", "--filter", &filter]).len(),
    }
}

/// Removes (forcibly) every container, then every network and volume, carrying `label`.
/// Returns what it found before removing.
pub fn remove_by_label(label: &str) -> ResourceCounts {
    let filter = format!("label={label}");
    let containers = ids(&["ps", "-aq", "--filter", &filter]);
    if !containers.is_empty() {
        let mut args = vec!["rm", "-f", "-v"];
        args.extend(containers.iter().map(String::as_str));
        docker(&args);
    }
    let networks = ids(&["network", "ls", "-q", "--filter", &filter]);
    if !networks.is_empty() {
        let mut args = vec!["network", "rm"];
        args.extend(networks.iter().map(String::as_str));
        docker(&args);
    }
    let volumes = ids(&["volume", "ls", "-q", "--filter", &filter]);
    if !volumes.is_empty() {
        let mut args = vec!["volume", "rm", "-f"];
        args.extend(volumes.iter().map(String::as_str));
        docker(&args);
    }
    ResourceCounts {
        containers: containers.len(),
        networks: networks.len(),
        volumes: volumes.len(),
    }
}

fn ids(args: &[&str]) -> Vec<String> {
    docker_ok(args)
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

/// A unique run id for labelling: everything a test creates carries `gantry-test=<id>`, and
/// dropping the `TestRun` removes it all (containers, networks, volumes).
///
/// ```no_run
/// use gantry_test_support::docker::{TestRun, docker_ok, ensure_busybox_image};
///
/// let run = TestRun::new();
/// let image = ensure_busybox_image();
/// docker_ok(&["run", "--rm", "--label", &run.label(), image, "true"]);
/// assert_eq!(run.counts().containers, 0);
/// ```
#[derive(Debug)]
pub struct TestRun {
    id: String,
}

impl Default for TestRun {
    fn default() -> Self {
        Self::new()
    }
}

impl TestRun {
    /// A fresh id: `<pid>-<nanoseconds>-<counter>`.
    pub fn new() -> Self {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        Self {
            id: format!("{}-{nanos}-{n}", std::process::id()),
        }
    }

    /// The run id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// `gantry-test=<id>`, for `--label` and `label=` filters.
    pub fn label(&self) -> String {
        format!("{LABEL_KEY}={}", self.id)
    }

    /// A name unique to this run: `gantry-test-<id>-<suffix>`.
    pub fn name(&self, suffix: &str) -> String {
        format!("{LABEL_KEY}-{}-{suffix}", self.id)
    }

    /// Labelled resources that exist now.
    pub fn counts(&self) -> ResourceCounts {
        count_by_label(&self.label())
    }

    /// Removes every labelled resource now (also done on drop).
    pub fn cleanup(&self) -> ResourceCounts {
        remove_by_label(&self.label())
    }
}

impl Drop for TestRun {
    fn drop(&mut self) {
        // Best effort, and never a panic while unwinding from a failed test.
        if crate::tool_available("docker").is_err() {
            return;
        }
        let label = self.label();
        let _ = std::panic::catch_unwind(|| remove_by_label(&label));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_dynamic_elf() {
        // This test binary is dynamically linked (glibc).
        let me = std::fs::read(std::env::current_exe().unwrap()).unwrap();
        assert!(elf_has_interpreter(&me));
        assert!(!elf_has_interpreter(b"#!/bin/sh\n"));
    }

    #[test]
    fn run_ids_are_unique() {
        let a = TestRun::new();
        let b = TestRun::new();
        assert_ne!(a.id(), b.id());
        assert!(a.label().starts_with("gantry-test="));
        // Nothing was created: drop must not need docker to succeed.
        std::mem::forget(a);
        std::mem::forget(b);
    }
}
