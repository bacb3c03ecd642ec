//! Shared fixtures for the engine's integration tests: a real git repository in a temporary
//! directory, job builders and event helpers.
#![allow(dead_code, clippy::unused_self)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use gantry_engine::{
    Event, JobSpec, JobStatus, JobVariable, PipelineOutcome, PipelineSpec, RunOptions, strip_ansi,
};

pub struct Fixture {
    pub dir: tempfile::TempDir,
    pub cache: tempfile::TempDir,
}

impl Fixture {
    /// An empty git repository with one commit.
    pub fn new() -> Self {
        let fixture = Self {
            dir: tempfile::tempdir().unwrap(),
            cache: tempfile::tempdir().unwrap(),
        };
        fixture.git(&["init", "-q", "-b", "main"]);
        fixture.write("README.md", "hello\n");
        fixture.commit("initial");
        fixture
    }

    pub fn project(&self) -> &Path {
        self.dir.path()
    }

    pub fn state_dir(&self) -> PathBuf {
        self.project().join(".gantry")
    }

    pub fn write(&self, rel: &str, content: &str) {
        let path = self.project().join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, content).unwrap();
    }

    pub fn git(&self, args: &[&str]) -> String {
        let out = Command::new("git")
            .arg("-C")
            .arg(self.project())
            .args([
                "-c",
                "user.name=t",
                "-c",
                "user.email=t@e",
                "-c",
                "commit.gpgsign=false",
            ])
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    pub fn commit(&self, message: &str) {
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "-m", message]);
        self.backdate();
    }

    /// Gives every working-tree file an old mtime (as files usually have), so working-copy
    /// recycling trusts its records.
    pub fn backdate(&self) {
        let status = Command::new("sh")
            .arg("-c")
            .arg("git ls-files -z --cached --others --exclude-standard | xargs -0 -r touch -h -d '2 hours ago'")
            .current_dir(self.project())
            .status()
            .unwrap();
        assert!(status.success());
    }

    pub fn spec(&self, pipeline_id: u64, stages: &[&str], jobs: Vec<JobSpec>) -> PipelineSpec {
        PipelineSpec {
            pipeline_id,
            project_dir: self.project().to_path_buf(),
            state_dir: self.state_dir(),
            stages: stages.iter().map(|s| (*s).to_owned()).collect(),
            jobs,
        }
    }

    pub fn options(&self) -> RunOptions {
        RunOptions {
            cache_dir: Some(self.cache.path().to_path_buf()),
            kill_grace: Duration::from_millis(500),
            ..RunOptions::default()
        }
    }

    /// Runs with default options.
    pub fn run(&self, spec: PipelineSpec) -> Run {
        self.run_with(spec, self.options())
    }

    pub fn run_with(&self, spec: PipelineSpec, options: RunOptions) -> Run {
        let mut events = Vec::new();
        let outcome = gantry_engine::run(spec, options, |e| events.push(e.clone())).unwrap();
        Run { outcome, events }
    }
}

pub struct Run {
    pub outcome: PipelineOutcome,
    pub events: Vec<Event>,
}

impl Run {
    pub fn status(&self, job: &str) -> JobStatus {
        self.outcome
            .job(job)
            .unwrap_or_else(|| panic!("no job {job}"))
            .status
    }

    /// A job's log lines without ANSI escapes.
    pub fn log(&self, job: &str) -> Vec<String> {
        self.events
            .iter()
            .filter_map(|e| match e {
                Event::Log { job: j, text } if j == job => Some(strip_ansi(text).into_owned()),
                _ => None,
            })
            .collect()
    }

    pub fn log_text(&self, job: &str) -> String {
        self.log(job).join("\n")
    }

    /// Position of the first event matching `f`.
    pub fn position(&self, f: impl Fn(&Event) -> bool) -> usize {
        self.events.iter().position(f).expect("event not found")
    }

    pub fn started_at(&self, job: &str) -> usize {
        self.position(|e| matches!(e, Event::JobStarted { job: j } if j == job))
    }

    pub fn finished_at(&self, job: &str) -> usize {
        self.position(|e| matches!(e, Event::JobFinished { job: j, .. } if j == job))
    }

    /// Dumps every log line (for assertion messages).
    pub fn dump(&self) -> String {
        self.events
            .iter()
            .map(|e| match e {
                Event::Log { job, text } => format!("[{job}] {}", strip_ansi(text)),
                other => format!("{other:?}"),
            })
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// A job in stage `stage_index` of `stages` running `script`.
pub fn job(name: &str, stages: &[&str], stage_index: usize, script: &[&str]) -> JobSpec {
    let mut spec = JobSpec::new(name, stages[stage_index], stage_index);
    spec.script = script.iter().map(|s| (*s).to_owned()).collect();
    spec
}

pub fn var(key: &str, value: &str) -> JobVariable {
    JobVariable::new(key, value)
}

/// Processes whose command line contains `marker`, once those being killed have had up to 10 s
/// to go (used to prove nothing was left behind).
pub fn processes_with(marker: &str) -> Vec<String> {
    // A killed process can take a moment to leave /proc (it is reaped by init): wait a bounded
    // time for the list to empty before reporting what is still there.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let found = processes_with_now(marker);
        if found.is_empty() || std::time::Instant::now() >= deadline {
            return found;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

/// Processes whose command line contains `marker`, right now.
fn processes_with_now(marker: &str) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let name = entry.file_name();
        if !name.to_string_lossy().bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        if let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) {
            let text = String::from_utf8_lossy(&cmdline).replace('\0', " ");
            if text.contains(marker) {
                found.push(format!("{}: {text}", name.to_string_lossy()));
            }
        }
    }
    found
}
