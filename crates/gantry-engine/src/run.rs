//! The public entry point [`run`]: validates the spec, prepares the state directories and the
//! source snapshot, runs the dispatcher and reports the outcome.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use crate::cache::{CacheStore, default_cache_dir};
use crate::dispatcher::{Dispatcher, DispatcherSetup};
use crate::docker::{DockerClient, Executor};
use crate::error::EngineError;
use crate::event::{Event, JobInfo, PipelineStatus};
use crate::job::RunShared;
use crate::message::Msg;
use crate::options::RunOptions;
use crate::outcome::PipelineOutcome;
use crate::shell::Shell;
use crate::slug::unique_slugs;
use crate::sources::SourceSnapshot;
use crate::spec::PipelineSpec;

/// Runs `spec` to its end. Every result leaves through `sink` (called on the calling thread) and
/// the returned outcome. Errors are reserved for problems outside any job (invalid spec, state
/// directory not writable, source snapshot failed).
pub fn run(
    spec: PipelineSpec,
    options: RunOptions,
    mut sink: impl FnMut(&Event),
) -> Result<PipelineOutcome, EngineError> {
    let needs = validate(&spec)?;
    let pipeline = spec.pipeline_id.to_string();
    let builds_dir = spec.state_dir.join("builds");
    let pipeline_dir = builds_dir.join(&pipeline);
    let logs_dir = spec.state_dir.join("logs").join(&pipeline);
    let artifacts_dir = spec.state_dir.join("artifacts").join(&pipeline);

    sink(&Event::PipelineStarted {
        pipeline_id: spec.pipeline_id,
        stages: spec.stages.clone(),
        jobs: spec
            .jobs
            .iter()
            .map(|j| JobInfo {
                name: j.name.clone(),
                stage: j.stage.clone(),
            })
            .collect(),
    });

    let prepared = prepare_dirs(&spec.state_dir, &pipeline_dir, &logs_dir, &artifacts_dir)
        .and_then(|()| {
            SourceSnapshot::prepare(
                &spec.project_dir,
                &spec.state_dir,
                &builds_dir,
                &pipeline_dir.join("sources"),
            )
            .map_err(|e| {
                EngineError::io(
                    format!("copying the working tree of {}", spec.project_dir.display()),
                    e,
                )
            })
        });
    let sources = match prepared {
        Ok(sources) => sources,
        Err(e) => {
            sink(&Event::PipelineFinished {
                status: PipelineStatus::Failed,
            });
            return Err(e);
        }
    };

    let docker = match &options.executor {
        Executor::Shell => None,
        Executor::Docker(docker_options) => match DockerClient::connect(docker_options) {
            Ok(client) => Some((Arc::new(client), Arc::new((**docker_options).clone()))),
            Err(message) => {
                sink(&Event::PipelineFinished {
                    status: PipelineStatus::Failed,
                });
                return Err(EngineError::Executor(message));
            }
        },
    };
    let docker_client = docker.clone();
    let concurrency = options.effective_concurrency();
    let cache_root = options.cache_dir.unwrap_or_else(default_cache_dir);
    let run = Arc::new(RunShared {
        pipeline_id: spec.pipeline_id,
        builds_dir,
        pipeline_dir: pipeline_dir.clone(),
        logs_dir,
        artifacts_dir,
        cache: CacheStore::for_project(&cache_root, &spec.project_dir),
        sources,
        shell: Shell::detect(options.shell.as_deref()),
        hostname: hostname(),
        default_timeout: options.default_timeout,
        kill_grace: options.kill_grace,
        cancel_after_script_timeout: options.cancel_after_script_timeout,
        after_script_timeout: options.after_script_timeout,
        docker,
        project_dir: spec.project_dir.clone(),
    });
    let slugs = unique_slugs(spec.jobs.iter().map(|j| j.name.as_str()));
    let (dispatcher, tx) = Dispatcher::new(
        spec.jobs,
        DispatcherSetup {
            run,
            slugs,
            needs,
            stage_count: spec.stages.len(),
            concurrency,
            selected_manual: options.selected_manual,
        },
    );
    let _subscription = options.cancel.as_ref().map(|token| {
        token.subscribe(Box::new(move |requests| {
            let _ = tx.send(Msg::Cancel { requests });
        }))
    });
    let (status, jobs) = dispatcher.run(&mut sink);
    if let Some((client, _)) = &docker_client {
        // Container removals of the last jobs.
        client.wait_background();
    }
    sink(&Event::PipelineFinished { status });
    let _ = fs_err::remove_dir_all(&pipeline_dir);
    Ok(PipelineOutcome { status, jobs })
}

/// Checks names, stages and needs; returns each job's needs as indices (`None`: stage ordering).
fn validate(spec: &PipelineSpec) -> Result<Vec<Option<Vec<usize>>>, EngineError> {
    let mut index = HashMap::with_capacity(spec.jobs.len());
    for (i, job) in spec.jobs.iter().enumerate() {
        if index.insert(job.name.as_str(), i).is_some() {
            return Err(EngineError::InvalidSpec(format!(
                "duplicate job name {:?}",
                job.name
            )));
        }
        if job.stage_index >= spec.stages.len() {
            return Err(EngineError::InvalidSpec(format!(
                "job {:?}: stage index {} is out of range ({} stages)",
                job.name,
                job.stage_index,
                spec.stages.len()
            )));
        }
    }
    spec.jobs
        .iter()
        .map(|job| {
            let Some(needs) = &job.needs else {
                return Ok(None);
            };
            let mut resolved = Vec::with_capacity(needs.len());
            for need in needs {
                match index.get(need.job.as_str()) {
                    Some(&i) if i == index[job.name.as_str()] => {
                        return Err(EngineError::InvalidSpec(format!(
                            "job {:?} needs itself",
                            job.name
                        )));
                    }
                    Some(&i) => {
                        if !resolved.contains(&i) {
                            resolved.push(i);
                        }
                    }
                    None if need.optional => {}
                    None => {
                        return Err(EngineError::InvalidSpec(format!(
                            "{} job: undefined need: {}",
                            job.name, need.job
                        )));
                    }
                }
            }
            Ok(Some(resolved))
        })
        .collect()
}

/// Creates the run's directories; the state directory gets a `.gitignore` of `*` so git (and
/// the user's `git status`) never sees it.
fn prepare_dirs(
    state: &Path,
    builds: &Path,
    logs: &Path,
    artifacts: &Path,
) -> Result<(), EngineError> {
    let wrap = |e: std::io::Error| EngineError::io("preparing the state directory", e);
    fs_err::create_dir_all(state).map_err(wrap)?;
    let ignore = state.join(".gitignore");
    if !ignore.exists() {
        fs_err::write(&ignore, "*\n").map_err(wrap)?;
    }
    if builds.exists() {
        fs_err::remove_dir_all(builds).map_err(wrap)?;
    }
    for dir in [builds, logs, artifacts] {
        fs_err::create_dir_all(dir).map_err(wrap)?;
    }
    Ok(())
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_owned())
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "localhost".to_owned())
}
