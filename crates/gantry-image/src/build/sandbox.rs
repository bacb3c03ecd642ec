//! Running a `RUN` command in an isolated root file system, without a daemon.
//!
//! The child process enters a new mount namespace (plus a user namespace mapping the caller
//! to root when not already root), makes every mount private, mounts an overlay of the
//! image's layers (lower, read-only) and a fresh upper directory, binds `/dev` and `/proc`,
//! `chroot`s into it and execs the command with the image's environment, working directory
//! and user. When it exits, the upper directory holds exactly what the command changed.
//!
//! What the kernel must allow: as root, `unshare(CLONE_NEWNS)` and overlayfs (any Linux
//! since 3.18). As another user, unprivileged user namespaces
//! (`kernel.unprivileged_userns_clone=1`, `user.max_user_namespaces > 0`) and overlayfs in
//! user namespaces (Linux >= 5.11); the command then sees only uid/gid 0, so `chown` to other
//! users fails. A refusal is reported as [`ImageError::Sandbox`] naming the step that failed.

use std::ffi::CString;
use std::io::Read;
use std::os::fd::{FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};

use fs_err as fs;

use crate::error::{ImageError, Result};

/// Top-level directories created only as mount points (not part of the layer unless the
/// image already had them).
pub const MOUNT_POINTS: &[&str] = &["dev", "proc"];

/// One RUN.
#[derive(Debug, Clone)]
pub struct RunSpec {
    /// Overlay lower directories, top layer first (may be empty: an empty directory is used).
    pub lowers: Vec<PathBuf>,
    /// The command (`argv[0]` resolved inside the image with its `PATH`).
    pub argv: Vec<String>,
    /// The environment.
    pub env: Vec<(String, String)>,
    /// Working directory inside the image (created when missing).
    pub workdir: String,
    /// User and group ids inside the image.
    pub uid: u32,
    /// Group id.
    pub gid: u32,
}

/// Where a RUN's directories live; removed on drop except the upper directory once taken.
#[derive(Debug)]
pub struct Scratch {
    /// The root of the scratch space.
    pub root: PathBuf,
}

impl Scratch {
    /// `upper`: what the command changed.
    pub fn upper(&self) -> PathBuf {
        self.root.join("upper")
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = crate::unpack::remove_any(&self.root);
    }
}

const STEPS: &[&str] = &[
    "unshare (new mount/user namespace)",
    "writing the user namespace id maps",
    "making mounts private",
    "mounting the overlay file system",
    "creating mount points",
    "bind-mounting /dev",
    "mounting /proc",
    "chroot into the image",
    "changing to the working directory",
    "switching to the image's user",
];

fn cstr(s: &[u8], what: &str) -> Result<CString> {
    CString::new(s).map_err(|_| ImageError::Usage(format!("{what} contains a NUL byte")))
}

/// Runs `spec` in a fresh scratch directory under `scratch_parent`; returns the scratch
/// space (whose `upper()` holds the changes) and the exit status.
pub fn run(spec: &RunSpec, scratch_parent: &Path) -> Result<(Scratch, ExitStatus)> {
    let scratch = Scratch {
        root: crate::oci_layout::temp_name(scratch_parent, "run"),
    };
    for d in ["upper", "work", "merged", "empty"] {
        fs::create_dir_all(scratch.root.join(d))?;
    }
    let mut lowers: Vec<String> = spec
        .lowers
        .iter()
        .map(|p| p.display().to_string())
        .collect();
    if lowers.is_empty() {
        lowers.push(scratch.root.join("empty").display().to_string());
    }
    let am_root = unsafe { libc::geteuid() } == 0;
    let mut opts = format!(
        "lowerdir={},upperdir={},workdir={}",
        lowers.join(":"),
        scratch.upper().display(),
        scratch.root.join("work").display()
    );
    if !am_root {
        opts.push_str(",userxattr");
    }
    let merged = scratch.root.join("merged");
    let c_opts = cstr(opts.as_bytes(), "overlay options")?;
    let c_merged = cstr(merged.as_os_str().as_bytes(), "scratch path")?;
    let c_overlay = cstr(b"overlay", "")?;
    let c_slash = cstr(b"/", "")?;
    let c_dev_src = cstr(b"/dev", "")?;
    let c_proc_src = cstr(b"/proc", "")?;
    let c_proc = cstr(b"proc", "")?;
    let c_dev_dst = cstr(merged.join("dev").as_os_str().as_bytes(), "scratch path")?;
    let c_proc_dst = cstr(merged.join("proc").as_os_str().as_bytes(), "scratch path")?;
    let workdir = if spec.workdir.starts_with('/') {
        spec.workdir.clone()
    } else {
        format!("/{}", spec.workdir)
    };
    let c_workdir = cstr(workdir.as_bytes(), "WORKDIR")?;
    let c_workdir_in_merged = cstr(
        merged
            .join(workdir.trim_start_matches('/'))
            .as_os_str()
            .as_bytes(),
        "WORKDIR",
    )?;
    let uid_map = format!("0 {} 1\n", unsafe { libc::geteuid() });
    let gid_map = format!("0 {} 1\n", unsafe { libc::getegid() });
    let c_setgroups = cstr(b"/proc/self/setgroups", "")?;
    let c_uid_map_path = cstr(b"/proc/self/uid_map", "")?;
    let c_gid_map_path = cstr(b"/proc/self/gid_map", "")?;
    let (uid, gid) = (spec.uid, spec.gid);

    // A pipe on which the child reports which step failed (closed on exec when all went well).
    let mut fds = [0i32; 2];
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(std::io::Error::last_os_error().into());
    }
    let (read_fd, write_fd) = (fds[0], fds[1]);
    let mut reader = std::fs::File::from(unsafe { OwnedFd::from_raw_fd(read_fd) });
    let writer_guard = unsafe { OwnedFd::from_raw_fd(write_fd) };

    let mut argv = spec.argv.iter();
    let program = argv
        .next()
        .ok_or_else(|| ImageError::Usage("RUN with an empty command".into()))?;
    let mut cmd = Command::new(program);
    cmd.args(argv)
        .env_clear()
        .envs(spec.env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null());

    // SAFETY: the closure runs between fork and exec; it only makes system calls on data
    // prepared above (no allocation, no locks).
    unsafe {
        cmd.pre_exec(move || {
            let fail = |step: u8| {
                let err = std::io::Error::last_os_error();
                libc::write(write_fd, (&raw const step).cast(), 1);
                Err(err)
            };
            let write_file = |path: &CString, data: &[u8]| -> bool {
                let fd = libc::open(path.as_ptr(), libc::O_WRONLY);
                if fd < 0 {
                    return false;
                }
                let n = libc::write(fd, data.as_ptr().cast(), data.len());
                libc::close(fd);
                n == data.len().cast_signed()
            };
            let flags = if am_root {
                libc::CLONE_NEWNS
            } else {
                libc::CLONE_NEWNS | libc::CLONE_NEWUSER
            };
            if libc::unshare(flags) != 0 {
                return fail(0);
            }
            if !am_root
                && (!write_file(&c_setgroups, b"deny")
                    || !write_file(&c_uid_map_path, uid_map.as_bytes())
                    || !write_file(&c_gid_map_path, gid_map.as_bytes()))
            {
                return fail(1);
            }
            if libc::mount(
                std::ptr::null(),
                c_slash.as_ptr(),
                std::ptr::null(),
                libc::MS_REC | libc::MS_PRIVATE,
                std::ptr::null(),
            ) != 0
            {
                return fail(2);
            }
            if libc::mount(
                c_overlay.as_ptr(),
                c_merged.as_ptr(),
                c_overlay.as_ptr(),
                0,
                c_opts.as_ptr().cast(),
            ) != 0
            {
                return fail(3);
            }
            for p in [&c_dev_dst, &c_proc_dst] {
                if libc::mkdir(p.as_ptr(), 0o755) != 0
                    && std::io::Error::last_os_error().raw_os_error() != Some(libc::EEXIST)
                {
                    return fail(4);
                }
            }
            if libc::mount(
                c_dev_src.as_ptr(),
                c_dev_dst.as_ptr(),
                std::ptr::null(),
                libc::MS_BIND | libc::MS_REC,
                std::ptr::null(),
            ) != 0
            {
                return fail(5);
            }
            let proc_ok = if am_root {
                libc::mount(
                    c_proc.as_ptr(),
                    c_proc_dst.as_ptr(),
                    c_proc.as_ptr(),
                    libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC,
                    std::ptr::null(),
                ) == 0
            } else {
                libc::mount(
                    c_proc_src.as_ptr(),
                    c_proc_dst.as_ptr(),
                    std::ptr::null(),
                    libc::MS_BIND | libc::MS_REC,
                    std::ptr::null(),
                ) == 0
            };
            if !proc_ok {
                return fail(6);
            }
            // The working directory is created (like Docker) before entering the root.
            let mut buf = [0u8; 4096];
            let bytes = c_workdir_in_merged.as_bytes();
            if bytes.len() < buf.len() {
                for i in 1..=bytes.len() {
                    if i == bytes.len() || bytes[i] == b'/' {
                        buf[..i].copy_from_slice(&bytes[..i]);
                        buf[i] = 0;
                        libc::mkdir(buf.as_ptr().cast(), 0o755);
                    }
                }
            }
            if libc::chroot(c_merged.as_ptr()) != 0 {
                return fail(7);
            }
            if libc::chdir(c_workdir.as_ptr()) != 0 {
                return fail(8);
            }
            if (uid != 0 || gid != 0)
                && ((am_root && libc::setgroups(0, std::ptr::null()) != 0)
                    || libc::setgid(gid) != 0
                    || libc::setuid(uid) != 0)
            {
                return fail(9);
            }
            Ok(())
        });
    }
    let spawned = cmd.spawn();
    drop(cmd);
    drop(writer_guard);
    let mut step = [0u8; 1];
    let failed_step = matches!(reader.read(&mut step), Ok(1)).then(|| usize::from(step[0]));
    match spawned {
        Ok(mut child) => {
            let status = child.wait()?;
            Ok((scratch, status))
        }
        Err(e) => {
            if let Some(s) = failed_step {
                return Err(ImageError::Sandbox {
                    step: STEPS.get(s).copied().unwrap_or("setup").to_owned(),
                    detail: e.to_string(),
                });
            }
            let detail = if e.kind() == std::io::ErrorKind::NotFound {
                format!(
                    "`{program}` not found in the image (a `FROM scratch` image has no shell; use the exec form or add one)"
                )
            } else {
                format!("cannot execute `{program}`: {e}")
            };
            Err(ImageError::Usage(detail))
        }
    }
}
