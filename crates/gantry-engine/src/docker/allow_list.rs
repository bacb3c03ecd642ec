//! `allowed_images` / `allowed_services` / `allowed_privileged_*`: doublestar globs (`*` does
//! not cross `/`, `**` does), refused with gitlab-runner's wording.

use super::docker_job::PrepareError;
use crate::event::FailureReason;

/// Whether `name` matches one of `patterns`.
pub(crate) fn allowed(name: &str, patterns: &[String]) -> bool {
    patterns
        .iter()
        .any(|p| gantry_expr::DoubleStarGlob::new(p).is_ok_and(|g| g.matches(name)))
}

/// `Ok` when `patterns` is empty or matches `name`; else the refusal (`what`: `images` or
/// `services`) as a configuration error.
pub(crate) fn check_allowed(
    name: &str,
    patterns: &[String],
    what: &str,
) -> Result<(), PrepareError> {
    if patterns.is_empty() || allowed(name, patterns) {
        return Ok(());
    }
    let singular = what.trim_end_matches('s');
    let mut message = format!("The {name:?} {singular} is not present on list of allowed {what}:");
    for p in patterns {
        message.push_str("\n- ");
        message.push_str(p);
    }
    message.push_str("\nPlease check runner's allowed_");
    message.push_str(what);
    message.push_str(" configuration (config.toml, [runners.docker])");
    Err(PrepareError::new(
        FailureReason::RunnerConfigurationError,
        message,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allow_lists_use_doublestar() {
        assert!(allowed("ruby:3.3", &["ruby:*".into()]));
        assert!(!allowed("library/ruby:3.3", &["*".into()]));
        assert!(allowed(
            "registry.example.com/a/b:1",
            &["registry.example.com/**".into()]
        ));
        let err = check_allowed("evil:1", &["ruby:*".into()], "images").unwrap_err();
        assert!(
            err.message
                .contains("not present on list of allowed images:\n- ruby:*")
        );
        assert_eq!(err.reason, FailureReason::RunnerConfigurationError);
    }
}
