//! Gating tests on external tools: a failure on CI, a visible skip elsewhere.

use std::collections::HashMap;
use std::io::Write;
use std::process::Command;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use crate::process::{find_executable, run_with_timeout};

/// `true` when the environment variable `CI` is `true` or `1` (any case): missing tools are
/// failures there, never skips.
pub fn is_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v.eq_ignore_ascii_case("true") || v == "1")
}

/// Returns `true` when `tool` is usable, so the calling test can go on.
///
/// When it is not:
/// * with `CI=true`, panics with a message saying what is missing (a test failure, never a
///   silent skip: CI installs every tool in `.ci/install-deps`);
/// * otherwise prints `SKIPPED (<tool> not available): <test name>` to stderr and returns
///   `false`; the test should then `return`.
///
/// Tools with a special probe (results are cached per process):
/// * `docker`: a Docker daemon answering `docker info` (not just the CLI on `PATH`);
/// * `busybox-static`: a statically linked busybox (see [`crate::docker::busybox_path`]);
/// * `python3-cryptography`: a Python 3 with `cryptography` (registry token/TLS modes);
/// * anything else: an executable of that name on `PATH` (`ruby`, `docker-registry`, `skopeo`,
///   `htpasswd`, `git`, ...).
///
/// ```
/// use gantry_test_support::require_tool;
///
/// if !require_tool("sh") {
///     return;
/// }
/// ```
pub fn require_tool(tool: &str) -> bool {
    gate(
        tool,
        tool_available(tool),
        is_ci(),
        &current_test_name(),
        // Straight to the process's stderr, not `eprintln!`: libtest captures the macros'
        // output of passing tests, and a skip must stay visible.
        &mut std::io::stderr().lock(),
    )
}

/// [`require_tool`] for several tools; reports the first one missing.
pub fn require_tools(tools: &[&str]) -> bool {
    tools.iter().all(|t| require_tool(t))
}

/// Probes `tool` (cached per process): `Ok(())` when usable, otherwise why not.
pub fn tool_available(tool: &str) -> Result<(), String> {
    static CACHE: OnceLock<Mutex<HashMap<String, Result<(), String>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Mutex::default);
    if let Some(r) = cache
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .get(tool)
    {
        return r.clone();
    }
    // Probe without holding the lock: `docker info` can take a moment.
    let result = probe(tool);
    cache
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .insert(tool.to_owned(), result.clone());
    result
}

fn probe(tool: &str) -> Result<(), String> {
    match tool {
        "docker" => probe_docker(),
        "busybox-static" => crate::docker::busybox_path().map(drop),
        "python3-cryptography" => crate::registry::python_with_cryptography().map(drop),
        _ => find_executable(tool)
            .map(drop)
            .ok_or_else(|| format!("`{tool}` not found on PATH")),
    }
}

fn probe_docker() -> Result<(), String> {
    if find_executable("docker").is_none() {
        return Err("the `docker` CLI is not on PATH".into());
    }
    let out = run_with_timeout(
        Command::new("docker").args(["info", "--format", "{{.ServerVersion}}"]),
        Duration::from_secs(30),
    )?;
    if out.status.success() {
        Ok(())
    } else {
        let err = String::from_utf8_lossy(&out.stderr);
        Err(format!(
            "`docker info` failed (no daemon answering): {}",
            err.trim()
        ))
    }
}

/// The decision, separated from the environment so it can be tested.
fn gate(
    tool: &str,
    available: Result<(), String>,
    ci: bool,
    test: &str,
    out: &mut dyn Write,
) -> bool {
    match available {
        Ok(()) => true,
        Err(why) if ci => panic!(
            "test `{test}` needs `{tool}`, which is not available: {why}\n\
             CI=true, so this is a failure and not a skip: `.ci/install-deps` installs the test \
             tools and `.ci/run` starts the Docker daemon."
        ),
        Err(why) => {
            let _ = writeln!(out, "SKIPPED ({tool} not available): {test}\n    ({why})");
            false
        }
    }
}

/// The running test's name: libtest names the test thread after it; when the test runs on the
/// main thread (one test per process, as nextest does) the name is the first free argument.
fn current_test_name() -> String {
    let thread = std::thread::current();
    match thread.name() {
        Some(name) if name != "main" => name.to_owned(),
        _ => std::env::args()
            .skip(1)
            .find(|a| !a.starts_with('-'))
            .unwrap_or_else(|| "<unknown test>".to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn available_tool_passes() {
        let mut out = Vec::new();
        assert!(gate("sh", Ok(()), true, "t", &mut out));
        assert!(gate("sh", Ok(()), false, "t", &mut out));
        assert!(out.is_empty());
    }

    #[test]
    fn missing_tool_skips_locally() {
        let mut out = Vec::new();
        assert!(!gate(
            "nope",
            Err("not found".into()),
            false,
            "mod::t",
            &mut out
        ));
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "SKIPPED (nope not available): mod::t\n    (not found)\n"
        );
    }

    #[test]
    #[should_panic(expected = "CI=true, so this is a failure")]
    fn missing_tool_fails_on_ci() {
        gate("nope", Err("not found".into()), true, "t", &mut Vec::new());
    }

    #[test]
    fn probes_path_and_caches() {
        assert!(tool_available("sh").is_ok());
        let err = tool_available("gantry-no-such-tool-xyz").unwrap_err();
        assert!(err.contains("not found on PATH"), "{err}");
        assert_eq!(tool_available("gantry-no-such-tool-xyz").unwrap_err(), err);
    }

    #[test]
    fn names_the_current_test() {
        assert!(
            current_test_name().contains("names_the_current_test"),
            "{}",
            current_test_name()
        );
    }
}
