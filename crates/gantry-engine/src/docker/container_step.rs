//! Runs one script step in the job's build container: attach to its output, start it (its
//! command runs the step script the lifecycle just wrote), wait for it to exit. A cancel or
//! timeout sends SIGTERM to every process but PID 1 (as gitlab-runner does), then kills the
//! container after the grace period; a kill request kills it at once. Output and exit are
//! reported into the job's inbox by tasks on the client's runtime, like the shell executor's
//! helper threads.

use std::io;
use std::sync::Arc;
use std::sync::mpsc::RecvTimeoutError;
use std::time::{Duration, Instant};

use bollard::exec::{CreateExecOptions, StartExecOptions};
use bollard::query_parameters::{
    AttachContainerOptions, KillContainerOptions, WaitContainerOptions,
};
use futures_util::StreamExt as _;

use super::client::DockerClient;
use crate::job::{JobControl, JobSignal};
use crate::shell::StepEnd;

/// How long to wait for the end of the output after the container exited.
const DRAIN_LIMIT: Duration = Duration::from_secs(2);

/// Runs the build container `container` once, until it exits, `deadline` passes or (when
/// `cancelable`) a cancel arrives. `on_output` gets the output as it arrives.
pub(crate) fn run_container_step(
    client: &Arc<DockerClient>,
    container: &str,
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
    let attach = client
        .block_on(client.docker.attach_container(
            container,
            Some(AttachContainerOptions {
                stream: true,
                stdout: true,
                stderr: true,
                ..AttachContainerOptions::default()
            }),
        ))
        .map_err(|e| io::Error::other(format!("attaching to the build container: {e}")))?;
    let tx = control.tx.clone();
    let mut output = attach.output;
    client.spawn(async move {
        while let Some(item) = output.next().await {
            match item {
                Ok(chunk) => {
                    let data = chunk.into_bytes().to_vec();
                    if tx.send(JobSignal::Output { step, data }).is_err() {
                        return;
                    }
                }
                Err(_) => break,
            }
        }
        let _ = tx.send(JobSignal::OutputEnd { step });
    });
    client
        .block_on(client.docker.start_container(container, None))
        .map_err(|e| io::Error::other(start_error(&e)))?;
    let tx = control.tx.clone();
    let docker = client.docker.clone();
    let id = container.to_owned();
    client.spawn(async move {
        let mut wait = docker.wait_container(
            &id,
            Some(WaitContainerOptions {
                condition: "not-running".to_owned(),
            }),
        );
        let code = match wait.next().await {
            Some(Ok(r)) => i32::try_from(r.status_code).unwrap_or(-1),
            Some(Err(bollard::errors::Error::DockerContainerWaitError { code, .. })) => {
                i32::try_from(code).unwrap_or(-1)
            }
            _ => -1,
        };
        let _ = tx.send(JobSignal::Exited { step, code });
    });

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
        let mut wake = drain_until;
        if exit.is_none() {
            if end.is_none() {
                wake = Some(wake.map_or(deadline, |w| w.min(deadline)));
            }
            if let (Some(t), false) = (term_sent, kill_sent) {
                let t = t + grace;
                wake = Some(wake.map_or(t, |w| w.min(t)));
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
                        kill(client, container);
                        kill_sent = true;
                    }
                } else if cancelable && end.is_none() {
                    end = Some(StepEnd::Canceled);
                    terminate(client, container);
                    term_sent = Some(Instant::now());
                }
            }
            Ok(_) => {}
            Err(RecvTimeoutError::Timeout) => {
                let now = Instant::now();
                if exit.is_some() {
                    continue;
                }
                if end.is_none() && now >= deadline {
                    end = Some(StepEnd::TimedOut);
                    terminate(client, container);
                    term_sent = Some(now);
                }
                if let (Some(t), false) = (term_sent, kill_sent)
                    && now >= t + grace
                {
                    kill(client, container);
                    kill_sent = true;
                }
            }
            Err(RecvTimeoutError::Disconnected) => break,
        }
    }
    Ok(end.unwrap_or(StepEnd::Exited(exit.unwrap_or(-1))))
}

/// SIGTERM to every process of the container except PID 1 (the step's shell, which then ends
/// with its `TERM` trap once its children are gone).
fn terminate(client: &Arc<DockerClient>, container: &str) {
    let docker = client.docker.clone();
    let id = container.to_owned();
    client.spawn(async move {
        let exec = docker
            .create_exec(
                &id,
                CreateExecOptions {
                    cmd: Some(vec!["sh", "-c", "kill -TERM -1 2>/dev/null; exit 0"]),
                    attach_stdout: Some(false),
                    attach_stderr: Some(false),
                    user: Some("0"),
                    ..CreateExecOptions::default()
                },
            )
            .await;
        match exec {
            Ok(exec) => {
                let _ = docker
                    .start_exec(
                        &exec.id,
                        Some(StartExecOptions {
                            detach: true,
                            ..StartExecOptions::default()
                        }),
                    )
                    .await;
            }
            Err(_) => {
                // No shell for the exec: stop the container instead.
                let _ = docker
                    .kill_container(
                        &id,
                        Some(KillContainerOptions {
                            signal: "SIGTERM".to_owned(),
                        }),
                    )
                    .await;
            }
        }
    });
}

fn kill(client: &Arc<DockerClient>, container: &str) {
    let docker = client.docker.clone();
    let id = container.to_owned();
    client.spawn(async move {
        let _ = docker
            .kill_container(
                &id,
                Some(KillContainerOptions {
                    signal: "SIGKILL".to_owned(),
                }),
            )
            .await;
    });
}

/// Words the engine's refusal to start a container, with the privileged case explained.
pub(crate) fn start_error(e: &bollard::errors::Error) -> String {
    let message = match e {
        bollard::errors::Error::DockerResponseServerError { message, .. } => message.clone(),
        other => other.to_string(),
    };
    if message.contains("apply caps") || message.contains("operation not permitted") {
        format!(
            "the Docker engine refused to start the container: {message}. If the container is \
             privileged (`privileged = true` in [runners.docker]), this engine or the machine it \
             runs on does not allow privileged containers; docker-in-docker services need them. \
             Use the socket-binding set-up instead (see docs/docker-executor.md)"
        )
    } else {
        format!("the Docker engine could not start the container: {message}")
    }
}
