//! Runs one step's shell in its own process group and watches it: output and exit are reported
//! by two helper threads into the job's inbox; a timeout or cancel sends SIGTERM to the whole
//! group, then SIGKILL after a grace period; when the shell exits, whatever it left running in
//! its group is killed.

use std::fs::File;
use std::io::{self, Read};
use std::os::fd::{FromRawFd, OwnedFd};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::RecvTimeoutError;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use super::interpreter::Shell;
use crate::job::{JobControl, JobSignal};

/// How long to wait for the output pipe to close after the shell exited (a process that left
/// the group may keep it open).
const DRAIN_LIMIT: Duration = Duration::from_secs(2);

/// What to run.
pub(crate) struct StepCommand<'a> {
    pub(crate) shell: &'a Shell,
    pub(crate) script: &'a Path,
    pub(crate) cwd: &'a Path,
    pub(crate) env: &'a [(String, String)],
}

/// How a step ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum StepEnd {
    /// The shell exited with this code (128 + signal when killed by a signal).
    Exited(i32),
    /// The deadline passed; the group was terminated.
    TimedOut,
    /// A cancel or kill request terminated the group.
    Canceled,
}

/// Runs `command` until it exits, `deadline` passes, or (when `cancelable`) a cancel arrives;
/// a kill request always stops it. Output is passed to `on_output` as it arrives.
pub(crate) fn run_step(
    command: &StepCommand<'_>,
    control: &mut JobControl,
    deadline: Instant,
    grace: Duration,
    cancelable: bool,
    on_output: &mut dyn FnMut(&[u8]),
) -> io::Result<StepEnd> {
    let step = control.new_step();
    if control.killed || (cancelable && control.canceled) {
        return Ok(StepEnd::Canceled);
    }
    let (read_end, write_end) = pipe()?;
    let child = {
        let mut cmd = Command::new(&command.shell.path);
        cmd.arg(command.script)
            .current_dir(command.cwd)
            .envs(command.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::from(write_end.try_clone()?))
            .stderr(Stdio::from(write_end))
            .process_group(0);
        cmd.spawn().map_err(|e| {
            io::Error::new(
                e.kind(),
                format!("starting {}: {e}", command.shell.path.display()),
            )
        })?
        // `cmd` (holding our copies of the write end) is dropped here.
    };
    let pid = child.id();
    let group = Group {
        pgid: i32::try_from(pid).unwrap_or(i32::MAX),
        reaped: Arc::new(Mutex::new(false)),
    };
    spawn_reader(read_end, step, control.tx.clone())?;
    spawn_waiter(child, group.clone(), step, control.tx.clone())?;

    let mut end: Option<StepEnd> = None;
    let mut term_sent: Option<Instant> = None;
    let mut kill_sent = false;
    let mut exit: Option<i32> = None;
    let mut output_done = false;
    let mut drain_until: Option<Instant> = None;

    loop {
        let now = Instant::now();
        if exit.is_some() && (output_done || drain_until.is_some_and(|t| now >= t)) {
            break;
        }
        let mut wake: Option<Instant> = drain_until;
        if exit.is_none() {
            if end.is_none() {
                wake = earliest(wake, Some(deadline));
            }
            if let (Some(t), false) = (term_sent, kill_sent) {
                wake = earliest(wake, Some(t + grace));
            }
        }
        let message = match wake {
            Some(t) => control.rx.recv_timeout(t.saturating_duration_since(now)),
            None => control
                .rx
                .recv()
                .map_err(|_| RecvTimeoutError::Disconnected),
        };
        match message {
            Ok(JobSignal::Output { step: s, data }) if s == step => on_output(&data),
            Ok(JobSignal::OutputEnd { step: s }) if s == step => output_done = true,
            Ok(JobSignal::Exited { step: s, code }) if s == step => {
                exit = Some(code);
                drain_until = Some(Instant::now() + DRAIN_LIMIT);
            }
            Ok(signal @ (JobSignal::Cancel | JobSignal::Kill)) => {
                control.note(&signal);
                if exit.is_some() {
                    continue;
                }
                if control.killed {
                    end.get_or_insert(StepEnd::Canceled);
                    if !kill_sent {
                        group.signal(libc::SIGKILL);
                        kill_sent = true;
                    }
                } else if cancelable && end.is_none() {
                    end = Some(StepEnd::Canceled);
                    group.signal(libc::SIGTERM);
                    term_sent = Some(Instant::now());
                }
            }
            Ok(_) => {} // a message of an earlier step
            Err(RecvTimeoutError::Timeout) => {
                let now = Instant::now();
                if exit.is_some() {
                    continue;
                }
                if end.is_none() && now >= deadline {
                    end = Some(StepEnd::TimedOut);
                    group.signal(libc::SIGTERM);
                    term_sent = Some(now);
                }
                if let (Some(t), false) = (term_sent, kill_sent)
                    && now >= t + grace
                {
                    group.signal(libc::SIGKILL);
                    kill_sent = true;
                }
            }
            Err(RecvTimeoutError::Disconnected) => break,
        }
    }
    Ok(end.unwrap_or(StepEnd::Exited(exit.unwrap_or(-1))))
}

fn earliest(a: Option<Instant>, b: Option<Instant>) -> Option<Instant> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, None) => a,
        (None, b) => b,
    }
}

/// A step's process group. Signals are only sent while the group leader is unreaped, so its id
/// cannot have been reused.
#[derive(Clone)]
struct Group {
    pgid: i32,
    reaped: Arc<Mutex<bool>>,
}

impl Group {
    fn signal(&self, signal: i32) {
        let reaped = self.reaped.lock().unwrap_or_else(PoisonError::into_inner);
        if !*reaped {
            // SAFETY: plain syscall; the group id belongs to our unreaped child.
            unsafe {
                libc::kill(-self.pgid, signal);
            }
        }
    }
}

/// A pipe whose both ends are close-on-exec (the child gets dup'ed copies as stdout/stderr).
fn pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0; 2];
    // SAFETY: `fds` is a valid array of two ints.
    let rc = unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: pipe2 returned two fresh descriptors that nothing else owns.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

fn spawn_reader(
    read_end: OwnedFd,
    step: u32,
    tx: std::sync::mpsc::Sender<JobSignal>,
) -> io::Result<()> {
    std::thread::Builder::new()
        .name("gantry-output".into())
        .spawn(move || {
            let mut file = File::from(read_end);
            let mut buf = vec![0u8; 16 * 1024];
            loop {
                match file.read(&mut buf) {
                    Ok(0) => break,
                    Ok(n) => {
                        if tx
                            .send(JobSignal::Output {
                                step,
                                data: buf[..n].to_vec(),
                            })
                            .is_err()
                        {
                            return;
                        }
                    }
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(_) => break,
                }
            }
            let _ = tx.send(JobSignal::OutputEnd { step });
        })?;
    Ok(())
}

fn spawn_waiter(
    mut child: Child,
    group: Group,
    step: u32,
    tx: std::sync::mpsc::Sender<JobSignal>,
) -> io::Result<()> {
    std::thread::Builder::new()
        .name("gantry-wait".into())
        .spawn(move || {
            wait_exited_keep_zombie(&child);
            // The shell is gone but still unreaped: kill whatever it left in its group.
            group.signal(libc::SIGKILL);
            let code = {
                let mut reaped = group.reaped.lock().unwrap_or_else(PoisonError::into_inner);
                let status = child.wait();
                *reaped = true;
                match status {
                    Ok(status) => status
                        .code()
                        .or_else(|| status.signal().map(|s| 128 + s))
                        .unwrap_or(-1),
                    Err(_) => -1,
                }
            };
            let _ = tx.send(JobSignal::Exited { step, code });
        })?;
    Ok(())
}

/// Blocks until the child has exited, without reaping it.
fn wait_exited_keep_zombie(child: &Child) {
    let pid: libc::id_t = child.id();
    loop {
        // SAFETY: `info` is a valid, zeroed siginfo_t; waitid only writes into it.
        let rc = unsafe {
            let mut info: libc::siginfo_t = std::mem::zeroed();
            libc::waitid(
                libc::P_PID,
                pid,
                &raw mut info,
                libc::WEXITED | libc::WNOWAIT,
            )
        };
        if rc == 0 || io::Error::last_os_error().kind() != io::ErrorKind::Interrupted {
            return;
        }
    }
}
