//! The status line shown on a terminal while jobs run: how many jobs are done, which are
//! running. It lives on stderr and is erased before every line the printer writes to stdout,
//! then drawn again, so logs scroll above it.

use std::io::{self, IsTerminal, Write};
use std::time::Instant;

use gantry_engine::Event;

/// Tracks the run and redraws one line on stderr.
pub struct StatusLine {
    enabled: bool,
    total: usize,
    done: usize,
    running: Vec<String>,
    started: Instant,
    shown: bool,
}

impl StatusLine {
    /// A status line, drawn only when stdout and stderr are both the terminal and colours are
    /// allowed (a pipe or a log file gets none).
    pub fn new(color: bool) -> Self {
        Self {
            enabled: color && io::stderr().is_terminal() && io::stdout().is_terminal(),
            total: 0,
            done: 0,
            running: Vec::new(),
            started: Instant::now(),
            shown: false,
        }
    }

    /// Erases the line before the printer writes.
    pub fn clear(&mut self) {
        if self.enabled && self.shown {
            let mut err = io::stderr().lock();
            let _ = err.write_all(b"\r\x1b[2K");
            let _ = err.flush();
            self.shown = false;
        }
    }

    /// Updates the counts from `event` and draws the line again.
    pub fn update(&mut self, event: &Event) {
        match event {
            Event::PipelineStarted { jobs, .. } => self.total = jobs.len(),
            Event::JobStarted { job } => self.running.push(job.clone()),
            Event::JobFinished { job, .. } => {
                self.running.retain(|j| j != job);
                self.done += 1;
            }
            Event::PipelineFinished { .. } => {
                self.clear();
                self.enabled = false;
            }
            Event::Log { .. } => {}
        }
        self.draw();
    }

    fn draw(&mut self) {
        if !self.enabled || self.running.is_empty() {
            return;
        }
        let mut names = self.running.join(", ");
        if names.chars().count() > 60 {
            names = names.chars().take(57).collect::<String>() + "...";
        }
        let line = format!(
            "\x1b[2m[{}/{} done, {:.0}s] running: {names}\x1b[0m",
            self.done,
            self.total,
            self.started.elapsed().as_secs_f64()
        );
        let mut err = io::stderr().lock();
        let _ = err.write_all(line.as_bytes());
        let _ = err.flush();
        self.shown = true;
    }
}
