//! Per-project run counters under `.gantry/`: `CI_PIPELINE_ID` and `CI_JOB_ID` increase with
//! every run.

use std::path::{Path, PathBuf};

/// The counters file.
pub struct Counters {
    path: PathBuf,
    next_pipeline: u64,
    next_job: u64,
}

impl Counters {
    pub fn open(state_dir: &Path) -> std::io::Result<Self> {
        fs_err::create_dir_all(state_dir)?;
        let path = state_dir.join("counters");
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        let mut numbers = text
            .split_whitespace()
            .map(|n| n.parse::<u64>().unwrap_or(0));
        let next_pipeline = numbers.next().unwrap_or(0).max(1);
        let next_job = numbers.next().unwrap_or(0).max(1);
        Ok(Self {
            path,
            next_pipeline,
            next_job,
        })
    }

    pub fn next_pipeline(&mut self) -> u64 {
        let id = self.next_pipeline;
        self.next_pipeline += 1;
        id
    }

    /// Reserves `count` consecutive job ids and returns the first.
    pub fn reserve_jobs(&mut self, count: usize) -> u64 {
        let first = self.next_job;
        self.next_job += count as u64;
        first
    }

    /// Writes the counters (atomically: a temp file renamed over the old one).
    pub fn save(&self) {
        let tmp = self.path.with_extension("tmp");
        let text = format!("{} {}\n", self.next_pipeline, self.next_job);
        if std::fs::write(&tmp, text).is_ok() {
            let _ = std::fs::rename(&tmp, &self.path);
        }
    }
}
