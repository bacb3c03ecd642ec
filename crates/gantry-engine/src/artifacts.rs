//! Job artifacts: collecting and storing them (archive + `manifest.json` with its sha256), the
//! typed reports (`dotenv`, `junit`), downloading them into later jobs with an integrity check,
//! and pruning expired ones.
//!
//! Layout: `<state>/artifacts/<pipeline>/<job slug>/{artifacts.tar.gz, manifest.json, junit/}`.

use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::archive::{create_archive, extract_archive, sha256_file};
use crate::dotenv::parse_dotenv;
use crate::duration::parse_human_duration;
use crate::environment::JobEnvironment;
use crate::file_set::{FileSet, Note, Selection};
use crate::job::JobLogger;
use crate::junit::{JunitSummary, parse_junit};
use crate::spec::{ArtifactsSpec, ArtifactsWhen};

/// Archive file name inside a job's artifact directory.
const ARCHIVE: &str = "artifacts.tar.gz";
/// Manifest file name inside a job's artifact directory.
const MANIFEST: &str = "manifest.json";
/// GitLab's out-of-the-box default expiry.
const DEFAULT_EXPIRY: Duration = Duration::from_hours(30 * 24);

/// A stored artifacts archive.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct StoredArtifacts {
    pub(crate) archive: PathBuf,
    pub(crate) sha256: String,
}

/// Artifacts a job downloads from one dependency.
#[derive(Clone, Debug)]
pub(crate) struct DependencyArtifacts {
    pub(crate) job: String,
    pub(crate) job_id: u64,
    pub(crate) stored: StoredArtifacts,
}

/// `manifest.json`.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct Manifest {
    job: String,
    job_id: u64,
    pipeline_id: u64,
    name: String,
    archive: Option<String>,
    sha256: Option<String>,
    size: u64,
    entries: usize,
    created_at: u64,
    expire_in: Option<String>,
    expires_at: Option<u64>,
    dotenv: Vec<(String, String)>,
    junit: Option<JunitSummary>,
}

/// What an upload produced.
#[derive(Clone, Debug, Default)]
pub(crate) struct UploadOutcome {
    pub(crate) stored: Option<StoredArtifacts>,
    pub(crate) dotenv: Vec<(String, String)>,
    pub(crate) junit: Option<JunitSummary>,
    /// An error that fails the job.
    pub(crate) error: Option<String>,
}

/// Everything an upload needs.
pub(crate) struct Upload<'a> {
    pub(crate) spec: &'a ArtifactsSpec,
    pub(crate) job: &'a str,
    pub(crate) job_id: u64,
    pub(crate) pipeline_id: u64,
    pub(crate) project_dir: &'a Path,
    pub(crate) store_dir: &'a Path,
    pub(crate) succeeded: bool,
    pub(crate) env: &'a JobEnvironment,
}

impl Upload<'_> {
    /// Whether the job's result calls for the archive.
    fn wants_archive(&self) -> bool {
        let when = match self.spec.when {
            ArtifactsWhen::OnSuccess => self.succeeded,
            ArtifactsWhen::OnFailure => !self.succeeded,
            ArtifactsWhen::Always => true,
        };
        when && (!self.spec.paths.is_empty() || self.spec.untracked)
    }

    fn wants_reports(&self) -> bool {
        !self.spec.reports.dotenv.is_empty() || !self.spec.reports.junit.is_empty()
    }

    /// Whether there is anything to upload (the section is shown only then).
    pub(crate) fn has_work(&self) -> bool {
        self.wants_archive() || self.wants_reports()
    }

    /// Collects and stores the artifacts and reports.
    pub(crate) fn run(&self, log: &mut JobLogger) -> UploadOutcome {
        let mut outcome = UploadOutcome::default();
        let mut manifest = Manifest {
            job: self.job.to_owned(),
            job_id: self.job_id,
            pipeline_id: self.pipeline_id,
            name: self
                .spec
                .name
                .as_deref()
                .map_or_else(|| "artifacts".to_owned(), |n| self.env.expand(n)),
            archive: None,
            sha256: None,
            size: 0,
            entries: 0,
            created_at: unix_now(),
            expire_in: self.spec.expire_in.clone(),
            expires_at: None,
            dotenv: Vec::new(),
            junit: None,
        };
        manifest.expires_at = match self.spec.expire_in.as_deref().map(parse_human_duration) {
            None => Some(manifest.created_at + DEFAULT_EXPIRY.as_secs()),
            Some(Ok(None)) => None,
            Some(Ok(Some(d))) => Some(manifest.created_at + d.as_secs()),
            Some(Err(e)) => {
                log.warning(&format!("expire_in: {e}; using 30 days"));
                Some(manifest.created_at + DEFAULT_EXPIRY.as_secs())
            }
        };
        if let Err(e) = fs_err::create_dir_all(self.store_dir) {
            outcome.error = Some(e.to_string());
            return outcome;
        }

        if self.wants_archive() {
            log.info("Uploading artifacts...");
            let paths: Vec<String> = self.spec.paths.iter().map(|p| self.env.expand(p)).collect();
            let exclude: Vec<String> = self
                .spec
                .exclude
                .iter()
                .map(|p| self.env.expand(p))
                .collect();
            let (files, notes) = FileSet::collect(
                self.project_dir,
                &Selection {
                    paths: &paths,
                    exclude: &exclude,
                    untracked: self.spec.untracked,
                },
            );
            log_notes(log, &notes);
            if files.is_empty() {
                log.error("No files to upload");
            } else {
                let dest = self.store_dir.join(ARCHIVE);
                match create_archive(self.project_dir, &files, &dest) {
                    Ok(info) => {
                        log.info(&format!(
                            "Uploading artifacts as \"archive\" to the local store... ok  name={} entries={} size={}",
                            manifest.name,
                            files.len(),
                            info.size
                        ));
                        manifest.archive = Some(ARCHIVE.to_owned());
                        manifest.sha256 = Some(info.sha256.clone());
                        manifest.size = info.size;
                        manifest.entries = files.len();
                        outcome.stored = Some(StoredArtifacts {
                            archive: dest,
                            sha256: info.sha256,
                        });
                    }
                    Err(e) => {
                        outcome.error = Some(format!("storing artifacts: {e}"));
                        return outcome;
                    }
                }
            }
        }

        if !self.spec.reports.dotenv.is_empty() {
            log.info("Uploading artifacts...");
            match self.collect_dotenv(log) {
                Ok(vars) => {
                    log.info(&format!(
                        "Uploading artifacts as \"dotenv\" to the local store... ok  variables={}",
                        vars.len()
                    ));
                    manifest.dotenv.clone_from(&vars);
                    outcome.dotenv = vars;
                }
                Err(e) => {
                    log.error(&format!(
                        "Uploading artifacts as \"dotenv\" to the local store... failed: {e}"
                    ));
                    outcome.error = Some(format!("invalid dotenv report: {e}"));
                }
            }
        }

        if !self.spec.reports.junit.is_empty() {
            log.info("Uploading artifacts...");
            let summary = self.collect_junit(log);
            log.info(&format!(
                "Uploading artifacts as \"junit\" to the local store... ok  tests={} failures={} errors={} skipped={}",
                summary.tests, summary.failures, summary.errors, summary.skipped
            ));
            manifest.junit = Some(summary.clone());
            outcome.junit = Some(summary);
        }

        if let Err(e) = write_manifest(&self.store_dir.join(MANIFEST), &manifest) {
            log.warning(&format!("writing the artifacts manifest: {e}"));
        }
        outcome
    }

    fn report_files(&self, patterns: &[String], log: &mut JobLogger) -> Vec<PathBuf> {
        let paths: Vec<String> = patterns.iter().map(|p| self.env.expand(p)).collect();
        let (files, notes) = FileSet::collect(
            self.project_dir,
            &Selection {
                paths: &paths,
                exclude: &[],
                untracked: false,
            },
        );
        log_notes(log, &notes);
        files
            .paths
            .into_iter()
            .filter(|p| self.project_dir.join(p).is_file())
            .collect()
    }

    fn collect_dotenv(&self, log: &mut JobLogger) -> Result<Vec<(String, String)>, String> {
        let mut vars: Vec<(String, String)> = Vec::new();
        for rel in self.report_files(&self.spec.reports.dotenv, log) {
            let path = self.project_dir.join(&rel);
            let bytes = fs_err::read(&path).map_err(|e| e.to_string())?;
            let parsed = parse_dotenv(&bytes).map_err(|e| format!("{}: {e}", rel.display()))?;
            for (k, v) in parsed {
                vars.retain(|(existing, _)| *existing != k);
                vars.push((k, v));
            }
        }
        Ok(vars)
    }

    fn collect_junit(&self, log: &mut JobLogger) -> JunitSummary {
        let mut summary = JunitSummary::default();
        let junit_dir = self.store_dir.join("junit");
        for (i, rel) in self
            .report_files(&self.spec.reports.junit, log)
            .into_iter()
            .enumerate()
        {
            let path = self.project_dir.join(&rel);
            let text = match fs_err::read(&path) {
                Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
                Err(e) => {
                    log.warning(&format!("junit: {e}"));
                    continue;
                }
            };
            match parse_junit(&text) {
                Ok(one) => summary.add(&one),
                Err(e) => log.warning(&format!("junit: {}: {e}", rel.display())),
            }
            let _ = fs_err::create_dir_all(&junit_dir)
                .and_then(|()| fs_err::write(junit_dir.join(format!("{i}.xml")), text));
        }
        summary
    }
}

/// Downloads (verifies and extracts) each dependency's archive into `project_dir`.
pub(crate) fn download(
    deps: &[DependencyArtifacts],
    project_dir: &Path,
    log: &mut JobLogger,
) -> Result<(), String> {
    for dep in deps {
        log.info(&format!(
            "Downloading artifacts for {} ({})...",
            dep.job, dep.job_id
        ));
        let archive = &dep.stored.archive;
        if !archive.is_file() {
            return Err(format!(
                "artifacts archive of job {:?} is missing: {}",
                dep.job,
                archive.display()
            ));
        }
        let actual = sha256_file(archive).map_err(|e| e.to_string())?;
        if actual != dep.stored.sha256 {
            return Err(format!(
                "artifacts archive of job {:?} is corrupt (sha256 {actual}, expected {}): {}",
                dep.job,
                dep.stored.sha256,
                archive.display()
            ));
        }
        extract_archive(archive, project_dir).map_err(|e| {
            format!(
                "artifacts archive of job {:?} could not be extracted: {e}",
                dep.job
            )
        })?;
    }
    Ok(())
}

/// Deletes the artifacts whose `expire_in` has passed, except those of the latest pipeline.
/// Returns how many job artifact directories were removed.
pub fn prune_expired_artifacts(state_dir: &Path) -> io::Result<usize> {
    let root = state_dir.join("artifacts");
    let Ok(entries) = fs_err::read_dir(&root) else {
        return Ok(0);
    };
    let mut pipelines: Vec<(u64, PathBuf)> = entries
        .filter_map(Result::ok)
        .filter_map(|e| {
            let id = e.file_name().to_str()?.parse::<u64>().ok()?;
            Some((id, e.path()))
        })
        .collect();
    pipelines.sort();
    pipelines.pop(); // keep the latest pipeline's artifacts
    let now = unix_now();
    let mut removed = 0;
    for (_, dir) in pipelines {
        for job in fs_err::read_dir(&dir)?.filter_map(Result::ok) {
            let manifest = fs_err::read(job.path().join(MANIFEST))
                .ok()
                .and_then(|b| serde_json::from_slice::<Manifest>(&b).ok());
            let expired = manifest.is_some_and(|m| m.expires_at.is_some_and(|t| t <= now));
            if expired {
                fs_err::remove_dir_all(job.path())?;
                removed += 1;
            }
        }
        let _ = std::fs::remove_dir(&dir); // only succeeds when empty
    }
    Ok(removed)
}

fn write_manifest(path: &Path, manifest: &Manifest) -> io::Result<()> {
    let json = serde_json::to_vec_pretty(manifest).map_err(io::Error::other)?;
    fs_err::write(path, json)
}

/// Logs collector notes.
pub(crate) fn log_notes(log: &mut JobLogger, notes: &[Note]) {
    for note in notes {
        match note {
            Note::Info(text) => log.plain(text),
            Note::Warning(text) => log.warning(text),
        }
    }
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}
