//! The generated job script, following the runner's bash/sh script semantics: a `TERM` trap,
//! `pipefail` where supported, `errexit`, no `nounset`, and the body `eval`ed in a subshell with
//! empty stdin; each command echoed as `$ command` in bold green before it runs.

use std::fmt::Write as _;
use std::path::Path;

use super::interpreter::ShellKind;
use super::quote::quote;
use crate::ansi::{GREEN, RESET};

/// Renders the script for one step (`before_script` + `script`, or `after_script`).
/// `intro` is printed in green first (`Running after script...`).
pub(crate) fn render_script(
    kind: ShellKind,
    project_dir: &Path,
    commands: &[String],
    intro: Option<&str>,
    trace: bool,
) -> String {
    render(kind, project_dir, &[], commands, intro, trace)
}

/// The script of a step in a container: the shell is whatever the image has (so `pipefail` is
/// enabled only where supported), and every job variable is exported first, as gitlab-runner
/// does (the container's environment is fixed when it is created, while `CI_JOB_STATUS` and
/// `GITLAB_ENV` variables change between steps).
///
/// With `owner` (`uid:gid`), files of the working copy and its `.tmp` directory are given back to
/// that owner when the script exits, so a gantry that does not run as root can update and remove
/// what a root container wrote there.
pub(crate) fn render_container_script(
    project_dir: &Path,
    exports: &[(String, String)],
    commands: &[String],
    intro: Option<&str>,
    trace: bool,
    owner: Option<&str>,
) -> String {
    let script = render(ShellKind::Sh, project_dir, exports, commands, intro, trace);
    match owner {
        Some(owner) => {
            let dir = quote(&project_dir.to_string_lossy());
            let tmp = quote(&format!("{}.tmp", project_dir.to_string_lossy()));
            format!(
                "trap 'chown -R {owner} {} {} 2>/dev/null || :' EXIT\n{script}",
                dir.replace('\'', "'\\''"),
                tmp.replace('\'', "'\\''")
            )
        }
        None => script,
    }
}

fn render(
    kind: ShellKind,
    project_dir: &Path,
    exports: &[(String, String)],
    commands: &[String],
    intro: Option<&str>,
    trace: bool,
) -> String {
    let mut body = String::new();
    for (key, value) in exports {
        if crate::environment::is_valid_name(key) {
            let _ = writeln!(body, "export {key}={}", quote(value));
        }
    }
    let _ = writeln!(body, "cd {}", quote(&project_dir.to_string_lossy()));
    if let Some(intro) = intro {
        let _ = writeln!(
            body,
            "printf '%s\\n' {}",
            quote(&format!("{GREEN}{intro}{RESET}"))
        );
    }
    for command in commands {
        let command = command.trim();
        if command.is_empty() {
            body.push_str("echo\n");
            continue;
        }
        let shown = match command.split_once('\n') {
            Some((first, _)) => format!("{first} # collapsed multi-line command"),
            None => command.to_owned(),
        };
        let _ = writeln!(
            body,
            "printf '%s\\n' {}",
            quote(&format!("{GREEN}$ {shown}{RESET}"))
        );
        body.push_str(command);
        body.push('\n');
    }

    let mut script = String::with_capacity(body.len() + 256);
    script.push_str("trap 'exit 1' TERM\n");
    match kind {
        ShellKind::Bash => script.push_str("set -o pipefail\n"),
        ShellKind::Sh => {
            script.push_str("if (set -o pipefail) 2>/dev/null; then set -o pipefail; fi\n");
        }
    }
    script.push_str("set -o errexit\nset +o noclobber\n");
    script.push_str("( trap 'exit 1' TERM\n");
    if trace {
        script.push_str("set -o xtrace\n");
    }
    let _ = writeln!(script, "eval {}", quote(&body));
    script.push_str(") < /dev/null\nexit 0\n");
    script
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn echoes_and_collapses() {
        let s = render_script(
            ShellKind::Bash,
            Path::new("/p"),
            &["echo 'hi'".to_owned(), "a\nb".to_owned(), "  ".to_owned()],
            None,
            false,
        );
        assert!(s.contains("set -o pipefail"));
        assert!(s.contains("$ a # collapsed multi-line command"));
        assert!(s.contains("echo\n"));
        assert!(s.starts_with("trap 'exit 1' TERM\n"));
    }

    #[test]
    fn container_scripts_export_variables() {
        let s = render_container_script(
            Path::new("/builds/g/p"),
            &[
                ("A".to_owned(), "it's".to_owned()),
                ("bad-name".to_owned(), "x".to_owned()),
            ],
            &["echo $A".to_owned()],
            None,
            false,
            Some("1000:1000"),
        );
        assert!(s.starts_with("trap 'chown -R 1000:1000 "), "{s}");
        assert!(s.contains("if (set -o pipefail)"));
        assert!(s.contains("export A="));
        assert!(!s.contains("bad-name"));
    }
}
