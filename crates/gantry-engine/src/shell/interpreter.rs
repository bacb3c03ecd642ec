//! `Shell`: which shell runs job scripts (`bash` when present, else `sh`).

use std::path::{Path, PathBuf};

/// The flavour of shell, for the few script lines that differ.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ShellKind {
    Bash,
    Sh,
}

/// The shell binary used for every step.
#[derive(Clone, Debug)]
pub(crate) struct Shell {
    pub(crate) path: PathBuf,
    pub(crate) kind: ShellKind,
}

impl Shell {
    /// `override_path` if given, else `bash` from `PATH`, else `sh` from `PATH`, else `/bin/sh`.
    pub(crate) fn detect(override_path: Option<&Path>) -> Self {
        let path = override_path
            .map(Path::to_path_buf)
            .or_else(|| find_in_path("bash"))
            .or_else(|| find_in_path("sh"))
            .unwrap_or_else(|| PathBuf::from("/bin/sh"));
        let kind = if path
            .file_name()
            .is_some_and(|n| n.to_string_lossy().contains("bash"))
        {
            ShellKind::Bash
        } else {
            ShellKind::Sh
        };
        Self { path, kind }
    }

    /// `bash` or `sh`, for log lines.
    pub(crate) fn name(&self) -> &'static str {
        match self.kind {
            ShellKind::Bash => "bash",
            ShellKind::Sh => "sh",
        }
    }
}

fn find_in_path(name: &str) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| {
            std::fs::metadata(candidate)
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
}
