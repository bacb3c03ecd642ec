//! `JobControl`: a job thread's inbox — cancel/kill requests from the dispatcher and output/exit
//! reports from the threads watching its shell processes.

use std::sync::mpsc::{Receiver, Sender, TryRecvError};

/// A message to a job thread.
#[derive(Debug)]
pub(crate) enum JobSignal {
    /// Cancel gracefully (stop the script, run `after_script`).
    Cancel,
    /// Kill at once.
    Kill,
    /// Bytes a step's processes wrote (stdout and stderr share one pipe).
    Output { step: u32, data: Vec<u8> },
    /// The step's output pipe reached end of file.
    OutputEnd { step: u32 },
    /// The step's shell exited (its process group has been killed).
    Exited { step: u32, code: i32 },
}

/// The receiving side of a job thread's inbox, plus what it has learnt.
#[derive(Debug)]
pub(crate) struct JobControl {
    pub(crate) rx: Receiver<JobSignal>,
    pub(crate) tx: Sender<JobSignal>,
    next_step: u32,
    /// A cancel was requested.
    pub(crate) canceled: bool,
    /// A kill was requested.
    pub(crate) killed: bool,
}

impl JobControl {
    pub(crate) fn new(rx: Receiver<JobSignal>, tx: Sender<JobSignal>) -> Self {
        Self {
            rx,
            tx,
            next_step: 0,
            canceled: false,
            killed: false,
        }
    }

    /// A fresh id for a process step (messages of earlier steps are ignored).
    pub(crate) fn new_step(&mut self) -> u32 {
        self.next_step += 1;
        self.next_step
    }

    /// Notes a cancel or kill request.
    pub(crate) fn note(&mut self, signal: &JobSignal) {
        match signal {
            JobSignal::Cancel => self.canceled = true,
            JobSignal::Kill => {
                self.canceled = true;
                self.killed = true;
            }
            _ => {}
        }
    }

    /// Drains pending messages without blocking; returns whether a cancel was requested.
    pub(crate) fn poll_canceled(&mut self) -> bool {
        loop {
            match self.rx.try_recv() {
                Ok(signal) => self.note(&signal),
                Err(TryRecvError::Empty | TryRecvError::Disconnected) => return self.canceled,
            }
        }
    }
}
