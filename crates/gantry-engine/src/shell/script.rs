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
    let mut body = String::new();
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
}
