//! `PullPolicy` and the effective policy list of an image: the job's (or the runner's)
//! policies, filtered by `allowed_pull_policies`.

use std::fmt;
use std::str::FromStr;

/// When to pull an image.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PullPolicy {
    /// Pull every time (an image already pulled for this job is not pulled again).
    Always,
    /// Use the local image when there is one, else pull.
    IfNotPresent,
    /// Only use the local image.
    Never,
}

impl PullPolicy {
    /// The name used in YAML and `config.toml`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Always => "always",
            Self::IfNotPresent => "if-not-present",
            Self::Never => "never",
        }
    }
}

impl fmt::Display for PullPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for PullPolicy {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "always" => Ok(Self::Always),
            "if-not-present" => Ok(Self::IfNotPresent),
            "never" => Ok(Self::Never),
            other => Err(format!(
                "unknown pull policy {other:?} (expected always, if-not-present or never)"
            )),
        }
    }
}

/// Gantry's policy when neither the job nor `config.toml` names one: a local tool should use the
/// images the user has built or pulled (gitlab-runner's default is `always`).
pub(crate) const DEFAULT_POLICY: PullPolicy = PullPolicy::IfNotPresent;

/// The policies to try for an image, in order: the job's (`requested`), else the runner's
/// (`configured`, else [`DEFAULT_POLICY`]), keeping only those in `allowed` (empty: the
/// configured policies when there are some, else all). An empty result is a configuration error,
/// worded like gitlab-runner's.
pub(crate) fn effective_policies(
    requested: &[String],
    configured: &[PullPolicy],
    allowed: &[PullPolicy],
) -> Result<Vec<PullPolicy>, String> {
    let mut job = Vec::new();
    for name in requested {
        job.push(name.parse::<PullPolicy>()?);
    }
    let from_job = !job.is_empty();
    let wanted: Vec<PullPolicy> = if from_job {
        job
    } else if configured.is_empty() {
        vec![DEFAULT_POLICY]
    } else {
        configured.to_vec()
    };
    let allowed: Vec<PullPolicy> = if !allowed.is_empty() {
        allowed.to_vec()
    } else if !configured.is_empty() {
        configured.to_vec()
    } else {
        vec![
            PullPolicy::Always,
            PullPolicy::IfNotPresent,
            PullPolicy::Never,
        ]
    };
    let mut result: Vec<PullPolicy> = Vec::new();
    for p in wanted.iter().copied() {
        if allowed.contains(&p) && !result.contains(&p) {
            result.push(p);
        }
    }
    if result.is_empty() {
        let list = |ps: &[PullPolicy]| ps.iter().map(|p| p.as_str()).collect::<Vec<_>>().join(" ");
        let origin = if from_job {
            "defined in GitLab pipeline config"
        } else {
            "configured"
        };
        return Err(format!(
            "pull_policy ([{}]) {origin} is not one of the allowed_pull_policies ([{}])",
            list(&wanted),
            list(&allowed)
        ));
    }
    Ok(result)
}

#[cfg(test)]
mod tests {
    use super::*;
    use PullPolicy::{Always, IfNotPresent, Never};

    #[test]
    fn defaults_and_filters() {
        assert_eq!(
            effective_policies(&[], &[], &[]).unwrap(),
            vec![IfNotPresent]
        );
        assert_eq!(
            effective_policies(&[], &[Always], &[]).unwrap(),
            vec![Always]
        );
        let job = vec!["never".to_owned(), "always".to_owned()];
        assert_eq!(
            effective_policies(&job, &[], &[]).unwrap(),
            vec![Never, Always]
        );
        // GitLab: a job asking if-not-present fails on a runner configured with `always` only.
        let err = effective_policies(&["if-not-present".to_owned()], &[Always], &[]).unwrap_err();
        assert!(
            err.contains("is not one of the allowed_pull_policies ([always])"),
            "{err}"
        );
        assert_eq!(
            effective_policies(&job, &[Always], &[Always, Never]).unwrap(),
            vec![Never, Always]
        );
        assert!(effective_policies(&["sometimes".to_owned()], &[], &[]).is_err());
    }
}
