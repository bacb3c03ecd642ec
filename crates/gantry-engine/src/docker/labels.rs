//! `ResourceLabels`: the labels on every container, network and volume Gantry creates — its own
//! (`dev.gantry.*`, which `gantry clean` selects on), gitlab-runner's
//! (`com.gitlab.gitlab-runner.*`, minus `managed`, so a real runner's clean-up leaves ours
//! alone), and the `container_labels` of the configuration.

use std::collections::HashMap;
use std::path::Path;

use sha2::{Digest, Sha256};

/// Marks everything Gantry created.
pub const MANAGED_LABEL: &str = "dev.gantry.managed";
/// The project a resource belongs to: [`project_key`] of its directory.
pub const PROJECT_LABEL: &str = "dev.gantry.project";
/// `<host name>:<pid>` of the gantry process that created it.
pub const OWNER_LABEL: &str = "dev.gantry.owner";
/// `build`, `service` or `cache` (volumes kept between jobs).
pub const TYPE_LABEL: &str = "dev.gantry.type";

const RUNNER: &str = "com.gitlab.gitlab-runner.";

/// Short stable key of a project directory (16 hex digits of its path's SHA-256).
pub fn project_key(project_dir: &Path) -> String {
    let digest = Sha256::digest(project_dir.to_string_lossy().as_bytes());
    hex(&digest[..8])
}

/// Lower-case hex of `bytes`.
pub(crate) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

/// The labels of one job's resources.
#[derive(Clone, Debug)]
pub(crate) struct ResourceLabels {
    common: HashMap<String, String>,
}

/// Facts about the job for the labels.
pub(crate) struct LabelFacts<'a> {
    pub(crate) project_dir: &'a Path,
    pub(crate) hostname: &'a str,
    pub(crate) pipeline_id: u64,
    pub(crate) job_id: u64,
    pub(crate) job_name: &'a str,
    pub(crate) timeout: &'a str,
    pub(crate) variable: &'a dyn Fn(&str) -> Option<String>,
    pub(crate) extra: &'a std::collections::BTreeMap<String, String>,
}

impl ResourceLabels {
    pub(crate) fn new(facts: &LabelFacts<'_>) -> Self {
        let mut common = HashMap::new();
        let mut put = |k: &str, v: String| {
            common.insert(k.to_owned(), v);
        };
        put(MANAGED_LABEL, "true".to_owned());
        put(PROJECT_LABEL, project_key(facts.project_dir));
        put(
            "dev.gantry.project.dir",
            facts.project_dir.display().to_string(),
        );
        put(
            OWNER_LABEL,
            format!("{}:{}", facts.hostname, std::process::id()),
        );
        put("dev.gantry.job.name", facts.job_name.to_owned());
        put(&format!("{RUNNER}job.id"), facts.job_id.to_string());
        put(
            &format!("{RUNNER}pipeline.id"),
            facts.pipeline_id.to_string(),
        );
        put(&format!("{RUNNER}job.timeout"), facts.timeout.to_owned());
        for (label, variable) in [
            ("job.sha", "CI_COMMIT_SHA"),
            ("job.before_sha", "CI_COMMIT_BEFORE_SHA"),
            ("job.ref", "CI_COMMIT_REF_NAME"),
            ("job.url", "CI_JOB_URL"),
            ("project.id", "CI_PROJECT_ID"),
        ] {
            if let Some(value) = (facts.variable)(variable) {
                put(&format!("{RUNNER}{label}"), value);
            }
        }
        for (k, v) in facts.extra {
            put(k, v.clone());
        }
        Self { common }
    }

    /// The labels for a resource of `kind` (`build`, `service`, `network`, `volume`, `cache`).
    pub(crate) fn for_kind(&self, kind: &str) -> HashMap<String, String> {
        let mut labels = self.common.clone();
        labels.insert(TYPE_LABEL.to_owned(), kind.to_owned());
        if matches!(kind, "build" | "service") {
            labels.insert(format!("{RUNNER}type"), kind.to_owned());
        }
        labels
    }
}
