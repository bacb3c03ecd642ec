//! `JobLogger`: a job's log — masks every byte, writes the raw GitLab trace (section markers,
//! colours) to the per-job log file and sends each complete line to the dispatcher.

use std::io::{BufWriter, Write};
use std::path::Path;
use std::sync::mpsc::Sender;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::ansi::{CLEAR, CYAN, GREEN, RED, RESET, YELLOW, strip_section_markers};
use crate::mask::Masker;
use crate::message::Msg;

/// Longest unterminated line kept before it is passed on anyway.
const MAX_PENDING: usize = 64 * 1024;

/// One job attempt's log.
pub(crate) struct JobLogger {
    job: usize,
    file: Option<BufWriter<fs_err::File>>,
    tx: Sender<Msg>,
    masker: Masker,
    pending: Vec<u8>,
}

impl JobLogger {
    /// Opens (truncates) the log file at `path`; without a file the log still reaches the events.
    pub(crate) fn create(job: usize, path: &Path, tx: Sender<Msg>) -> Self {
        let file = path
            .parent()
            .map_or(Ok(()), fs_err::create_dir_all)
            .and_then(|()| fs_err::File::create(path))
            .ok()
            .map(BufWriter::new);
        Self {
            job,
            file,
            tx,
            masker: Masker::default(),
            pending: Vec::new(),
        }
    }

    /// Masks these values from now on.
    pub(crate) fn set_masker(&mut self, masker: Masker) {
        self.masker = masker;
    }

    /// Bytes written by a job's processes (or by the runner).
    pub(crate) fn output(&mut self, data: &[u8]) {
        self.pending.extend_from_slice(data);
        while let Some(pos) = self.pending.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = self.pending.drain(..=pos).collect();
            let masked = self.masker.mask(&line);
            self.write_file(&masked);
            self.emit(&masked);
        }
        if self.pending.len() > MAX_PENDING {
            let (mut masked, mut used) = self.masker.mask_prefix(&self.pending);
            // Do not split a UTF-8 sequence.
            while used > 0 && used < self.pending.len() && (self.pending[used] & 0xC0) == 0x80 {
                used -= 1;
                masked.pop();
            }
            let chunk = &masked;
            self.write_file(chunk);
            self.emit(chunk);
            self.pending.drain(..used);
        }
        if let Some(file) = &mut self.file {
            let _ = file.flush();
        }
    }

    /// Passes on an unterminated last line (at the end of a step).
    pub(crate) fn flush_partial(&mut self) {
        if self.pending.is_empty() {
            return;
        }
        let line = std::mem::take(&mut self.pending);
        let masked = self.masker.mask(&line);
        self.write_file(&masked);
        self.emit(&masked);
    }

    /// A plain runner line.
    pub(crate) fn plain(&mut self, text: &str) {
        self.runner_line(CLEAR, text);
    }

    /// A runner notice (bold green).
    pub(crate) fn info(&mut self, text: &str) {
        self.runner_line(GREEN, text);
    }

    /// A runner warning.
    pub(crate) fn warning(&mut self, text: &str) {
        self.runner_line(&format!("{YELLOW}WARNING: "), text);
    }

    /// A runner error.
    pub(crate) fn error(&mut self, text: &str) {
        self.runner_line(&format!("{RED}ERROR: "), text);
    }

    /// Opens a trace section with a bold-cyan header line.
    pub(crate) fn section_start(&mut self, name: &str, header: &str) {
        self.flush_partial();
        let line = format!(
            "section_start:{}:{name}\r{CLEAR}{CLEAR}{CYAN}{header}{RESET}{RESET}\n",
            unix_now()
        );
        self.output(line.as_bytes());
    }

    /// Closes a trace section (no newline: the next line shares it, as in GitLab's trace).
    pub(crate) fn section_end(&mut self, name: &str) {
        self.flush_partial();
        let marker = format!("section_end:{}:{name}\r{CLEAR}", unix_now());
        self.output(marker.as_bytes());
    }

    /// Flushes everything.
    pub(crate) fn finish(&mut self) {
        self.flush_partial();
        if let Some(file) = &mut self.file {
            let _ = file.flush();
        }
    }

    fn runner_line(&mut self, style: &str, text: &str) {
        let mut line = String::with_capacity(text.len() + 16);
        line.push_str(style);
        line.push_str(text);
        line.push_str(RESET);
        line.push('\n');
        // Runner lines continue a pending `section_end` marker but never a script's partial line.
        if !self.pending.is_empty() && !self.pending.starts_with(b"section_end:") {
            self.flush_partial();
        }
        self.output(line.as_bytes());
    }

    fn write_file(&mut self, bytes: &[u8]) {
        if let Some(file) = &mut self.file
            && file.write_all(bytes).is_err()
        {
            self.file = None;
        }
    }

    fn emit(&self, masked: &[u8]) {
        let mut bytes = masked;
        if let Some(rest) = bytes.strip_suffix(b"\n") {
            bytes = rest.strip_suffix(b"\r").unwrap_or(rest);
        }
        let text = String::from_utf8_lossy(bytes);
        let text = match strip_section_markers(&text) {
            Some(stripped) if stripped.is_empty() => return,
            Some(stripped) => stripped,
            None => text.into_owned(),
        };
        let _ = self.tx.send(Msg::Log {
            job: self.job,
            text,
        });
    }
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}
