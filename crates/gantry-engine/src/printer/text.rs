//! `TextPrinter`: live job logs with a coloured job-name prefix per job and, at the end, a
//! summary table (job, stage, status, duration, allowed failure). Colour is off when `NO_COLOR`
//! is set or stdout is not a terminal; then ANSI escapes are stripped from log lines too. A closed
//! output (broken pipe) silently ends printing.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::Write;

use crate::ansi::strip_ansi;
use crate::event::{Event, JobStatus, PipelineStatus};

const PALETTE: &[&str] = &[
    "\x1b[36m", "\x1b[35m", "\x1b[33m", "\x1b[34m", "\x1b[32m", "\x1b[96m", "\x1b[95m", "\x1b[93m",
    "\x1b[94m", "\x1b[92m",
];
const BOLD: &str = "\x1b[1m";
const RESET: &str = "\x1b[0m";
const MAX_PREFIX: usize = 24;

struct Row {
    job: String,
    stage: String,
    status: JobStatus,
    duration_ms: u64,
    allow_failure: bool,
    exit_code: Option<i32>,
}

/// Prints events for people.
pub struct TextPrinter<W: Write> {
    out: W,
    color: bool,
    closed: bool,
    jobs: Vec<(String, String)>,
    /// Job name → index in `jobs`.
    positions: HashMap<String, usize>,
    width: usize,
    rows: Vec<Row>,
}

/// Whether stdout should get colours: a terminal, and `NO_COLOR` unset or empty.
pub fn stdout_supports_color() -> bool {
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    // SAFETY: isatty only inspects the descriptor.
    let tty = unsafe { libc::isatty(1) } == 1;
    tty && !no_color
}

impl<W: Write> TextPrinter<W> {
    /// A printer writing to `out`, with or without colours.
    pub fn new(out: W, color: bool) -> Self {
        Self {
            out,
            color,
            closed: false,
            jobs: Vec::new(),
            positions: HashMap::new(),
            width: 0,
            rows: Vec::new(),
        }
    }

    /// Prints one event.
    pub fn print(&mut self, event: &Event) {
        if self.closed {
            return;
        }
        let text = match event {
            Event::PipelineStarted {
                pipeline_id,
                stages,
                jobs,
            } => {
                self.jobs = jobs
                    .iter()
                    .map(|j| (j.name.clone(), j.stage.clone()))
                    .collect();
                self.positions = jobs
                    .iter()
                    .enumerate()
                    .map(|(i, j)| (j.name.clone(), i))
                    .collect();
                self.width = jobs
                    .iter()
                    .map(|j| j.name.chars().count())
                    .max()
                    .unwrap_or(0)
                    .min(MAX_PREFIX);
                let used: Vec<&String> = stages
                    .iter()
                    .filter(|s| jobs.iter().any(|j| &j.stage == *s))
                    .collect();
                format!(
                    "{}Pipeline #{pipeline_id}{}: {} jobs in {} stages\n",
                    self.style(BOLD),
                    self.style(RESET),
                    jobs.len(),
                    used.len()
                )
            }
            Event::JobStarted { .. } => return,
            Event::Log { job, text } => {
                let shown = text.rsplit('\r').find(|s| !s.is_empty()).unwrap_or("");
                let shown = if self.color {
                    format!("{shown}{RESET}")
                } else {
                    strip_ansi(shown).into_owned()
                };
                format!("{} {shown}\n", self.prefix(job))
            }
            Event::JobFinished {
                job,
                status,
                exit_code,
                allow_failure,
                duration_ms,
                failure_reason,
                junit,
            } => {
                let stage = self
                    .positions
                    .get(job)
                    .map(|&i| self.jobs[i].1.clone())
                    .unwrap_or_default();
                self.rows.push(Row {
                    job: job.clone(),
                    stage,
                    status: *status,
                    duration_ms: *duration_ms,
                    allow_failure: *allow_failure,
                    exit_code: *exit_code,
                });
                let mut line = format!(
                    "{} {}",
                    self.prefix(job),
                    self.status_text(*status, *allow_failure)
                );
                if matches!(status, JobStatus::Success | JobStatus::Failed) {
                    let _ = write!(line, " in {}", format_duration(*duration_ms));
                }
                if let Some(reason) = failure_reason {
                    let _ = write!(line, " ({})", reason.as_str());
                }
                if let Some(junit) = junit {
                    let _ = write!(
                        line,
                        "; tests: {} passed, {} failed, {} errors, {} skipped",
                        junit.passed(),
                        junit.failures,
                        junit.errors,
                        junit.skipped
                    );
                }
                line.push('\n');
                line
            }
            Event::PipelineFinished { status } => self.summary(*status),
        };
        if self.out.write_all(text.as_bytes()).is_err() || self.out.flush().is_err() {
            self.closed = true;
        }
    }

    /// Whether writing failed.
    pub fn is_closed(&self) -> bool {
        self.closed
    }

    /// The underlying writer.
    pub fn into_inner(self) -> W {
        self.out
    }

    fn style(&self, code: &'static str) -> &'static str {
        if self.color { code } else { "" }
    }

    fn prefix(&self, job: &str) -> String {
        let mut name: String = job.chars().take(self.width.max(1)).collect();
        let pad = self.width.saturating_sub(name.chars().count());
        name.extend(std::iter::repeat_n(' ', pad));
        if !self.color {
            return format!("{name} |");
        }
        let index = self.positions.get(job).copied().unwrap_or(0);
        let color = PALETTE[index % PALETTE.len()];
        format!("{color}{name}{RESET} │")
    }

    fn status_text(&self, status: JobStatus, allow_failure: bool) -> String {
        let (code, text) = match status {
            JobStatus::Success => ("\x1b[32;1m", "✓ success".to_owned()),
            JobStatus::Failed if allow_failure => {
                ("\x1b[33;1m", "! failed (allowed to fail)".to_owned())
            }
            JobStatus::Failed => ("\x1b[31;1m", "✗ failed".to_owned()),
            JobStatus::Skipped => ("\x1b[90m", "- skipped".to_owned()),
            JobStatus::Canceled => ("\x1b[90m", "⊘ canceled".to_owned()),
            JobStatus::Manual => ("\x1b[90m", "▶ manual (not run)".to_owned()),
        };
        format!("{}{text}{}", self.style(code), self.style(RESET))
    }

    fn summary(&self, status: PipelineStatus) -> String {
        let mut rows: Vec<&Row> = self.rows.iter().collect();
        let order = |name: &str| self.positions.get(name).copied();
        rows.sort_by_key(|r| order(&r.job));
        let headers = ["Job", "Stage", "Status", "Duration", "Allowed failure"];
        let cells: Vec<[String; 5]> = rows
            .iter()
            .map(|r| {
                let status = match (r.status, r.exit_code) {
                    (JobStatus::Failed, Some(code)) => format!("failed ({code})"),
                    (s, _) => s.as_str().to_owned(),
                };
                [
                    r.job.clone(),
                    r.stage.clone(),
                    status,
                    if matches!(r.status, JobStatus::Skipped | JobStatus::Manual) {
                        "-".to_owned()
                    } else {
                        format_duration(r.duration_ms)
                    },
                    if r.allow_failure && r.status == JobStatus::Failed {
                        "yes".to_owned()
                    } else {
                        String::new()
                    },
                ]
            })
            .collect();
        let mut widths = headers.map(str::len);
        for row in &cells {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.chars().count());
            }
        }
        let mut out = String::from("\n");
        let line = |cells: &[String]| {
            let mut s = String::new();
            for (i, (cell, w)) in cells.iter().zip(widths).enumerate() {
                if i > 0 {
                    s.push_str("  ");
                }
                let _ = write!(s, "{cell:<w$}");
            }
            s.trim_end().to_owned()
        };
        let header: Vec<String> = headers.iter().map(|h| (*h).to_owned()).collect();
        let _ = writeln!(
            out,
            "{}{}{}",
            self.style(BOLD),
            line(&header),
            self.style(RESET)
        );
        for (row, r) in cells.iter().zip(&rows) {
            let text = line(row);
            let code = match r.status {
                JobStatus::Success => "\x1b[32m",
                JobStatus::Failed if r.allow_failure => "\x1b[33m",
                JobStatus::Failed => "\x1b[31m",
                _ => "\x1b[90m",
            };
            let _ = writeln!(out, "{}{text}{}", self.style(code), self.style(RESET));
        }
        let code = match status {
            PipelineStatus::Success => "\x1b[32;1m",
            PipelineStatus::Failed => "\x1b[31;1m",
            _ => "\x1b[33;1m",
        };
        let _ = writeln!(
            out,
            "\nPipeline {}{}{}",
            self.style(code),
            status.as_str(),
            self.style(RESET)
        );
        out
    }
}

fn format_duration(ms: u64) -> String {
    if ms < 60_000 {
        format!("{}.{:02}s", ms / 1000, (ms % 1000) / 10)
    } else {
        format!("{}m{:02}s", ms / 60_000, (ms % 60_000) / 1000)
    }
}
