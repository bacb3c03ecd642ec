//! `Slot` and `SlotPool`: recycled job working copies. A job's sources are synced into a slot
//! directory (`<state>/builds/slot-<n>`) that earlier jobs — of this run or earlier runs — used,
//! so only files that differ are copied. Each slot is locked by the process using it; the sync
//! records are saved when the run ends.

use std::path::{Path, PathBuf};

use crate::file_lock::FileLock;
use crate::tree_sync::SyncRecord;

/// A working-copy directory owned by one job at a time.
#[derive(Debug)]
pub(crate) struct Slot {
    pub(crate) dir: PathBuf,
    pub(crate) record: SyncRecord,
    record_path: Option<PathBuf>,
    _lock: Option<FileLock>,
}

impl Slot {
    /// A one-off directory without lock or saved record.
    pub(crate) fn ephemeral(dir: PathBuf) -> Self {
        Self {
            dir,
            record: SyncRecord::default(),
            record_path: None,
            _lock: None,
        }
    }
}

/// The slots of one run.
#[derive(Debug)]
pub(crate) struct SlotPool {
    root: PathBuf,
    free: Vec<Slot>,
    next_index: usize,
}

impl SlotPool {
    /// A pool of slots below `root` (`<state>/builds`).
    pub(crate) fn new(root: &Path) -> Self {
        Self {
            root: root.to_path_buf(),
            free: Vec::new(),
            next_index: 0,
        }
    }

    /// A free slot, or a new one not locked by another process.
    pub(crate) fn acquire(&mut self) -> std::io::Result<Slot> {
        if let Some(slot) = self.free.pop() {
            return Ok(slot);
        }
        fs_err::create_dir_all(&self.root)?;
        loop {
            let index = self.next_index;
            self.next_index += 1;
            let name = format!("slot-{index}");
            let Some(lock) = FileLock::try_lock(&self.root.join(format!("{name}.lock")))? else {
                continue;
            };
            let record_path = self.root.join(format!("{name}.record.json"));
            // The record stays valid however the slot was left: every file is checked against it.
            let record = SyncRecord::load(&record_path);
            return Ok(Slot {
                dir: self.root.join(name),
                record,
                record_path: Some(record_path),
                _lock: Some(lock),
            });
        }
    }

    /// Gives a slot back.
    pub(crate) fn release(&mut self, slot: Slot) {
        if slot.record_path.is_some() {
            self.free.push(slot);
        }
    }

    /// Saves every slot's record (for the next run).
    pub(crate) fn save(&self) {
        for slot in &self.free {
            if let Some(path) = &slot.record_path {
                let _ = slot.record.save(path);
            }
        }
    }
}
