//! The job lifecycle, stage by stage as gitlab-runner runs it: prepare, get sources, restore
//! cache, download artifacts, `step_script`, `after_script`, save cache, upload artifacts,
//! clean up — each in its trace section, ending with `Job succeeded` or `ERROR: Job failed: ...`.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc::Sender;
use std::time::{Duration, Instant};

use super::attempt_result::{AttemptResult, AttemptStatus};
use super::context::JobContext;
use super::control::JobControl;
use super::logger::JobLogger;
use crate::artifacts::{self, Upload};
use crate::cache::CacheStore;
use crate::docker::{DockerJob, JobFacts, JobMounts, PrepareError, STEP_SCRIPT};
use crate::duration::{go_duration, parse_go_duration};
use crate::environment::{EngineVariables, JobEnvironment};
use crate::event::FailureReason;
use crate::mask::Masker;
use crate::message::Msg;
use crate::shell::{StepCommand, StepEnd, render_container_script, render_script, run_step};
use crate::slot::Slot;

/// Runs one attempt on the current thread and reports it (handing the slot back).
pub(crate) fn execute(mut ctx: JobContext, mut control: JobControl, out: &Sender<Msg>) {
    let slot = std::mem::replace(&mut ctx.slot, Slot::ephemeral(PathBuf::new()));
    let mut attempt = Attempt::new(&ctx, slot, out.clone());
    let mut result = attempt.run(&mut control);
    result.slot = Some(attempt.slot);
    let _ = out.send(Msg::Finished {
        job: ctx.index,
        result: Box::new(result),
    });
}

/// Why a job ended before or during its script.
enum Stop {
    Failed {
        reason: FailureReason,
        message: String,
        exit_code: Option<i32>,
    },
    TimedOut,
    /// `RUNNER_SCRIPT_TIMEOUT` expired: `after_script` still runs (with `timedout`).
    ScriptTimedOut(Duration),
    Canceled,
}

struct Attempt<'a> {
    ctx: &'a JobContext,
    slot: Slot,
    /// `GIT_STRATEGY`, lower case.
    strategy: String,
    log: JobLogger,
    log_path: PathBuf,
    /// The working copy on this machine.
    project_dir: PathBuf,
    /// `<project_dir>.tmp` on this machine.
    tmp_dir: PathBuf,
    /// Where the job sees its working copy (`CI_PROJECT_DIR`): `project_dir` for the shell
    /// executor, `/builds/<project path>` in a container.
    view_project_dir: PathBuf,
    view_tmp_dir: PathBuf,
    view_builds_dir: PathBuf,
    /// The docker executor's resources for this attempt.
    docker: Option<DockerJob>,
    started: Instant,
    timeout: Duration,
    deadline: Instant,
}

impl<'a> Attempt<'a> {
    fn new(ctx: &'a JobContext, slot: Slot, out: Sender<Msg>) -> Self {
        let run = &ctx.run;
        let log_name = if ctx.attempt > 1 {
            format!("{}.{}.log", ctx.slug, ctx.attempt)
        } else {
            format!("{}.log", ctx.slug)
        };
        let log_path = run.logs_dir.join(log_name);
        let timeout = ctx.spec.timeout.unwrap_or(run.default_timeout);
        let started = Instant::now();
        let strategy = ctx
            .dotenv
            .iter()
            .rev()
            .find(|(k, _)| k == "GIT_STRATEGY")
            .map(|(_, v)| v.as_str())
            .or_else(|| ctx.spec.variable("GIT_STRATEGY"))
            .filter(|s| !s.is_empty())
            .unwrap_or("clone")
            .to_ascii_lowercase();
        let project_dir = if matches!(strategy.as_str(), "none" | "empty") {
            run.pipeline_dir.join(&ctx.slug)
        } else {
            slot.dir.clone()
        };
        let mut tmp_name = project_dir.file_name().unwrap_or_default().to_owned();
        tmp_name.push(".tmp");
        let tmp_dir = project_dir.with_file_name(tmp_name);
        let (view_project_dir, view_builds_dir, docker) = match &run.docker {
            Some((client, options)) => {
                let path = ctx
                    .spec
                    .variable("CI_PROJECT_PATH")
                    .map(|p| {
                        p.split('/')
                            .filter(|c| !c.is_empty() && *c != "." && *c != "..")
                            .collect::<Vec<_>>()
                            .join("/")
                    })
                    .filter(|p| !p.is_empty())
                    .unwrap_or_else(|| "project".to_owned());
                let suffix = if strategy == "empty" { "-empty" } else { "" };
                (
                    PathBuf::from(format!("/builds/{path}{suffix}")),
                    PathBuf::from("/builds"),
                    Some(DockerJob::new(Arc::clone(client), Arc::clone(options))),
                )
            }
            None => (project_dir.clone(), run.builds_dir.clone(), None),
        };
        let mut view_tmp = view_project_dir.clone().into_os_string();
        view_tmp.push(".tmp");
        Self {
            ctx,
            slot,
            strategy,
            log: JobLogger::create(ctx.index, &log_path, out),
            log_path,
            project_dir,
            tmp_dir,
            view_project_dir,
            view_tmp_dir: PathBuf::from(view_tmp),
            view_builds_dir,
            docker,
            started,
            timeout,
            deadline: started + timeout,
        }
    }

    fn run(&mut self, control: &mut JobControl) -> AttemptResult {
        let mut result = AttemptResult {
            status: AttemptStatus::Failed,
            exit_code: None,
            failure_reason: None,
            duration: Duration::ZERO,
            artifacts: None,
            dotenv: Vec::new(),
            junit: None,
            log_path: self.log_path.clone(),
            slot: None,
        };
        let shell = &self.ctx.run.shell;
        let executor = if self.docker.is_some() {
            "docker"
        } else {
            "shell"
        };
        self.log.plain(&format!(
            "Running with gantry {} ({executor} executor)",
            env!("CARGO_PKG_VERSION")
        ));
        if self.ctx.attempt > 1 {
            self.log.info(&format!(
                "Retrying job: attempt {} of {}",
                self.ctx.attempt, self.ctx.max_attempts
            ));
        }
        let mut env = match self.build_env() {
            Ok(env) => env,
            Err(stop) => return self.finish(result, &stop),
        };
        self.log.section_start(
            "prepare_executor",
            &format!("Preparing the \"{executor}\" executor"),
        );
        let prepared = if self.docker.is_some() {
            self.prepare_docker(&mut env, control)
        } else {
            self.log
                .plain(&format!("Using Shell ({}) executor...", shell.name()));
            Ok(())
        };
        self.log.section_end("prepare_executor");
        if let Err(stop) = prepared {
            return self.finish(result, &stop);
        }
        self.log
            .section_start("prepare_script", "Preparing environment");
        self.log
            .plain(&format!("Running on {}...", self.ctx.run.hostname));
        self.log.section_end("prepare_script");
        if let Some(stop) = self.interrupted(control) {
            return self.finish(result, &stop);
        }
        if let Err(stop) = self.get_sources(&env) {
            return self.finish(result, &stop);
        }
        let spec = &self.ctx.spec;
        if spec
            .cache
            .iter()
            .any(|c| c.policy != crate::spec::CachePolicy::Push)
        {
            if let Some(stop) = self.interrupted(control) {
                return self.finish(result, &stop);
            }
            self.log.section_start("restore_cache", "Restoring cache");
            self.ctx.run.cache.restore(
                &spec.cache,
                &spec.name,
                &self.project_dir,
                &env,
                &mut self.log,
            );
            self.log.section_end("restore_cache");
        }
        if !self.ctx.dependencies.is_empty() {
            if let Some(stop) = self.interrupted(control) {
                return self.finish(result, &stop);
            }
            self.log
                .section_start("download_artifacts", "Downloading artifacts");
            let downloaded =
                artifacts::download(&self.ctx.dependencies, &self.project_dir, &mut self.log);
            self.log.section_end("download_artifacts");
            if let Err(message) = downloaded {
                let stop = Stop::Failed {
                    reason: FailureReason::MissingDependencyFailure,
                    message,
                    exit_code: None,
                };
                return self.finish(result, &stop);
            }
        }
        if let Some(stop) = self.interrupted(control) {
            return self.finish(result, &stop);
        }

        // step_script: before_script + script in one shell.
        self.log.section_start(
            "step_script",
            "Executing \"step_script\" stage of the job script",
        );
        let commands: Vec<String> = spec
            .before_script
            .iter()
            .chain(&spec.script)
            .cloned()
            .collect();
        let script_timeout = env
            .get("RUNNER_SCRIPT_TIMEOUT")
            .filter(|v| !v.is_empty())
            .and_then(|v| {
                let parsed = parse_go_duration(v);
                if parsed.is_none() {
                    self.log
                        .warning(&format!("RUNNER_SCRIPT_TIMEOUT: invalid duration {v:?}"));
                }
                parsed
            });
        let script_deadline =
            script_timeout.map_or(self.deadline, |t| (Instant::now() + t).min(self.deadline));
        let step = self.run_shell_step(
            "step_script",
            &commands,
            None,
            &env,
            control,
            script_deadline,
            true,
        );
        self.log.section_end("step_script");
        if let Ok(StepEnd::Exited(code)) = step {
            result.exit_code = Some(code);
        }
        let mut stop = match step {
            Ok(StepEnd::Exited(0)) => None,
            Ok(StepEnd::Exited(code)) => Some(Stop::Failed {
                reason: FailureReason::ScriptFailure,
                // The shell executor words it `exit status`, container executors `exit code`.
                message: if self.docker.is_some() {
                    format!("exit code {code}")
                } else {
                    format!("exit status {code}")
                },
                exit_code: Some(code),
            }),
            Ok(StepEnd::TimedOut) => match script_timeout {
                Some(t) if script_deadline < self.deadline => Some(Stop::ScriptTimedOut(t)),
                _ => Some(Stop::TimedOut),
            },
            Ok(StepEnd::Canceled) => Some(Stop::Canceled),
            Err(e) => Some(system_failure(&e.to_string())),
        };

        // after_script: a new shell, skipped after a job timeout or a kill.
        if !spec.after_script.is_empty() && !matches!(stop, Some(Stop::TimedOut)) && !control.killed
        {
            let status = match &stop {
                None => "success",
                Some(Stop::Canceled) => "canceled",
                Some(Stop::ScriptTimedOut(_)) => "timedout",
                Some(_) => "failed",
            };
            env.set("CI_JOB_STATUS", status);
            env.load_gitlab_env(&self.gitlab_env());
            let after_started = Instant::now();
            let after_timeout = env
                .get("RUNNER_AFTER_SCRIPT_TIMEOUT")
                .and_then(parse_go_duration)
                .unwrap_or(self.ctx.run.after_script_timeout);
            let deadline = if control.canceled {
                after_started + self.ctx.run.cancel_after_script_timeout
            } else {
                (after_started + after_timeout).min(self.deadline)
            };
            self.log
                .section_start("after_script", "Running after_script");
            let after = self.run_shell_step(
                "after_script",
                &spec.after_script,
                Some("Running after script..."),
                &env,
                control,
                deadline,
                false,
            );
            self.log.section_end("after_script");
            let problem = match after {
                Ok(StepEnd::Exited(0)) => None,
                Ok(StepEnd::Exited(code)) => Some(format!("exit status {code}")),
                Ok(StepEnd::TimedOut) => Some(format!(
                    "execution took longer than {} seconds",
                    go_duration(deadline.saturating_duration_since(after_started))
                )),
                Ok(StepEnd::Canceled) => Some("canceled".to_owned()),
                Err(e) => Some(e.to_string()),
            };
            if let Some(problem) = problem {
                let fatal = env.get("AFTER_SCRIPT_IGNORE_ERRORS") == Some("false");
                if fatal && stop.is_none() {
                    stop = Some(Stop::Failed {
                        reason: FailureReason::ScriptFailure,
                        message: format!("after_script failed: {problem}"),
                        exit_code: None,
                    });
                } else {
                    self.log.warning(&format!(
                        "after_script failed, but job will continue unaffected: {problem}"
                    ));
                }
            }
        }
        if control.canceled && stop.is_none() {
            stop = Some(Stop::Canceled);
        }

        // Cache and artifacts: not after a timeout or a cancel.
        if !matches!(stop, Some(Stop::TimedOut | Stop::Canceled)) {
            if let Some(docker) = &mut self.docker
                && let Err(e) = docker.sync_out()
            {
                self.log.warning(&format!(
                    "copying the working copy out of the container: {e}"
                ));
            }
            env.load_gitlab_env(&self.gitlab_env());
            let succeeded = stop.is_none();
            if spec.cache.iter().any(|c| CacheStore::saves(c, succeeded)) {
                let (name, header) = if succeeded {
                    ("archive_cache", "Saving cache for successful job")
                } else {
                    ("archive_cache_on_failure", "Saving cache for failed job")
                };
                self.log.section_start(name, header);
                self.ctx.run.cache.save(
                    &spec.cache,
                    succeeded,
                    &spec.name,
                    &self.project_dir,
                    &env,
                    &mut self.log,
                );
                self.log.section_end(name);
            }
            if let Some(artifacts_spec) = &spec.artifacts {
                let store_dir = self.ctx.run.artifacts_dir.join(&self.ctx.slug);
                let upload = Upload {
                    spec: artifacts_spec,
                    job: &spec.name,
                    job_id: spec.job_id,
                    pipeline_id: self.ctx.run.pipeline_id,
                    project_dir: &self.project_dir,
                    store_dir: &store_dir,
                    succeeded,
                    env: &env,
                };
                if upload.has_work() {
                    let (name, header) = if succeeded {
                        (
                            "upload_artifacts_on_success",
                            "Uploading artifacts for successful job",
                        )
                    } else {
                        (
                            "upload_artifacts_on_failure",
                            "Uploading artifacts for failed job",
                        )
                    };
                    self.log.section_start(name, header);
                    let uploaded = upload.run(&mut self.log);
                    self.log.section_end(name);
                    result.artifacts = uploaded.stored;
                    result.dotenv = uploaded.dotenv;
                    result.junit = uploaded.junit;
                    if let (Some(message), None) = (uploaded.error, &stop) {
                        stop = Some(Stop::Failed {
                            reason: FailureReason::UnknownFailure,
                            message,
                            exit_code: None,
                        });
                    }
                }
            }
        }

        match stop {
            None => self.finish_success(result),
            Some(stop) => self.finish(result, &stop),
        }
    }

    fn gitlab_env(&self) -> PathBuf {
        self.tmp_dir.join("gitlab_runner_env")
    }

    /// The work of `prepare_script`: temp dir, variables, file variables, masking.
    fn build_env(&mut self) -> Result<JobEnvironment, Stop> {
        let prepared = (|| -> std::io::Result<JobEnvironment> {
            if self.tmp_dir.exists() {
                fs_err::remove_dir_all(&self.tmp_dir)?;
            }
            fs_err::create_dir_all(&self.tmp_dir)?;
            let gitlab_env = self.gitlab_env();
            fs_err::write(&gitlab_env, b"")?;
            let store_dir = self.ctx.run.artifacts_dir.join(&self.ctx.slug);
            if store_dir.exists() {
                fs_err::remove_dir_all(&store_dir)?;
            }
            JobEnvironment::build(
                &self.ctx.spec.variables,
                &self.ctx.dotenv,
                &EngineVariables {
                    project_dir: &self.view_project_dir,
                    builds_dir: &self.view_builds_dir,
                    tmp_dir: &self.view_tmp_dir,
                    gitlab_env: &self.view_tmp_dir.join("gitlab_runner_env"),
                    timeout_secs: self.timeout.as_secs(),
                    files_dir: &self.tmp_dir,
                },
            )
        })();
        match prepared {
            Ok(env) => {
                self.log.set_masker(Masker::new(env.masked_values()));
                Ok(env)
            }
            Err(e) => Err(system_failure(&e.to_string())),
        }
    }

    /// `prepare_executor` of the docker executor: images, network, services, build container.
    fn prepare_docker(
        &mut self,
        env: &mut JobEnvironment,
        control: &mut JobControl,
    ) -> Result<(), Stop> {
        // The bind-mount sources must exist (else the engine creates them, owned by root).
        fs_err::create_dir_all(&self.project_dir)
            .map_err(|e| system_failure(&format!("creating the working copy: {e}")))?;
        let Some(mut docker) = self.docker.take() else {
            return Ok(());
        };
        let facts = JobFacts {
            spec: &self.ctx.spec,
            user_project_dir: &self.ctx.run.project_dir,
            hostname: &self.ctx.run.hostname,
            pipeline_id: self.ctx.run.pipeline_id,
            slug: &self.ctx.slug,
            timeout: self.timeout,
            mounts: JobMounts {
                project_host: self.project_dir.clone(),
                tmp_host: self.tmp_dir.clone(),
                project_view: self.view_project_dir.to_string_lossy().into_owned(),
                tmp_view: self.view_tmp_dir.to_string_lossy().into_owned(),
            },
        };
        let prepared = docker.prepare(&facts, env, &mut self.log, control);
        self.docker = Some(docker);
        prepared.map_err(|PrepareError { reason, message }| {
            if control.canceled {
                Stop::Canceled
            } else {
                Stop::Failed {
                    reason,
                    message,
                    exit_code: None,
                }
            }
        })
    }

    /// `get_sources`: the working-tree copy per `GIT_STRATEGY`.
    fn get_sources(&mut self, env: &JobEnvironment) -> Result<(), Stop> {
        self.log
            .section_start("get_sources", "Getting source from Git repository");
        let dir = self.project_dir.clone();
        let sources = &self.ctx.run.sources;
        let copied = match self.strategy.as_str() {
            "none" => {
                self.log.info("Skipping Git repository setup");
                fs_err::create_dir_all(&dir)
            }
            "empty" => {
                self.log
                    .info("Skipping Git repository setup and creating an empty build directory");
                remove_if_exists(&dir).and_then(|()| fs_err::create_dir_all(&dir))
            }
            other => {
                if !matches!(other, "clone" | "fetch") {
                    self.log
                        .warning(&format!("unknown GIT_STRATEGY {other:?}, using \"clone\""));
                }
                let checkout = env.get("GIT_CHECKOUT") != Some("false");
                if env
                    .get("GIT_SUBMODULE_STRATEGY")
                    .is_some_and(|s| !s.is_empty() && s != "none")
                {
                    self.log.warning(
                        "GIT_SUBMODULE_STRATEGY is not supported by the local copy: submodule directories stay empty",
                    );
                }
                self.log.info(&format!(
                    "Copying the working tree ({} files{}) into {}...",
                    sources.file_count,
                    if sources.is_git {
                        ""
                    } else {
                        ", not a git repository"
                    },
                    dir.display()
                ));
                let synced = sources.sync_into(&dir, &mut self.slot.record, !checkout);
                if let Ok(stats) = &synced {
                    self.log.plain(&format!(
                        "{} copied, {} unchanged, {} leftovers removed",
                        stats.copied, stats.kept, stats.removed
                    ));
                }
                if !checkout {
                    self.log.info("Skipping Git checkout");
                }
                synced.map(|_| ())
            }
        };
        self.log.section_end("get_sources");
        copied.map_err(|e| system_failure(&format!("getting sources: {e}")))
    }

    #[allow(clippy::too_many_arguments)]
    fn run_shell_step(
        &mut self,
        name: &str,
        commands: &[String],
        intro: Option<&str>,
        env: &JobEnvironment,
        control: &mut JobControl,
        deadline: Instant,
        cancelable: bool,
    ) -> std::io::Result<StepEnd> {
        let trace = env.get("CI_DEBUG_TRACE") == Some("true");
        if let Some(docker) = &mut self.docker {
            let script = render_container_script(
                &self.view_project_dir,
                env.entries(),
                commands,
                intro,
                trace,
                docker.give_back_to.as_deref(),
            );
            fs_err::write(self.tmp_dir.join(STEP_SCRIPT), script)?;
            let log = &mut self.log;
            let end = docker.run_step(
                control,
                deadline,
                self.ctx.run.kill_grace,
                cancelable,
                &mut |bytes| log.output(bytes),
            );
            self.log.flush_partial();
            return end;
        }
        let shell = &self.ctx.run.shell;
        let script = render_script(shell.kind, &self.project_dir, commands, intro, trace);
        let script_path = self.tmp_dir.join(format!("gantry_{name}.sh"));
        fs_err::write(&script_path, script)?;
        let log = &mut self.log;
        let end = run_step(
            &StepCommand {
                shell,
                script: &script_path,
                cwd: &self.project_dir,
                env: env.entries(),
            },
            control,
            deadline,
            self.ctx.run.kill_grace,
            cancelable,
            &mut |bytes| log.output(bytes),
        );
        self.log.flush_partial();
        end
    }

    /// A cancel or an expired deadline between stages.
    fn interrupted(&self, control: &mut JobControl) -> Option<Stop> {
        if control.poll_canceled() {
            Some(Stop::Canceled)
        } else if Instant::now() >= self.deadline {
            Some(Stop::TimedOut)
        } else {
            None
        }
    }

    fn cleanup(&mut self) {
        self.log.section_start(
            "cleanup_file_variables",
            "Cleaning up project directory and file based variables",
        );
        if let Some(docker) = &mut self.docker {
            docker.cleanup();
        }
        let _ = remove_if_exists(&self.tmp_dir);
        self.log.section_end("cleanup_file_variables");
    }

    fn finish_success(&mut self, mut result: AttemptResult) -> AttemptResult {
        self.cleanup();
        self.log.info("Job succeeded");
        self.log.finish();
        result.status = AttemptStatus::Success;
        result.duration = self.started.elapsed();
        result
    }

    fn finish(&mut self, mut result: AttemptResult, stop: &Stop) -> AttemptResult {
        self.cleanup();
        match stop {
            Stop::Failed {
                reason,
                message,
                exit_code,
            } => {
                match reason {
                    FailureReason::RunnerSystemFailure => {
                        self.log
                            .error(&format!("Job failed (system failure): {message}"));
                    }
                    FailureReason::MissingDependencyFailure => {
                        self.log.error(message);
                        self.log
                            .error("Job failed: could not retrieve the needed artifacts");
                    }
                    _ => self.log.error(&format!("Job failed: {message}")),
                }
                result.status = AttemptStatus::Failed;
                result.failure_reason = Some(*reason);
                if exit_code.is_some() {
                    result.exit_code = *exit_code;
                }
            }
            Stop::TimedOut => {
                self.log.error(&format!(
                    "Job failed: execution took longer than {} seconds",
                    go_duration(self.timeout)
                ));
                result.status = AttemptStatus::Failed;
                result.failure_reason = Some(FailureReason::JobExecutionTimeout);
            }
            Stop::ScriptTimedOut(limit) => {
                self.log.error(&format!(
                    "Job failed: execution took longer than {} seconds",
                    go_duration(*limit)
                ));
                result.status = AttemptStatus::Failed;
                result.failure_reason = Some(FailureReason::JobExecutionTimeout);
            }
            Stop::Canceled => {
                self.log.error("Job failed: canceled");
                result.status = AttemptStatus::Canceled;
            }
        }
        self.log.finish();
        result.duration = self.started.elapsed();
        result
    }
}

fn system_failure(message: &str) -> Stop {
    Stop::Failed {
        reason: FailureReason::RunnerSystemFailure,
        message: message.to_owned(),
        exit_code: None,
    }
}

fn remove_if_exists(dir: &Path) -> std::io::Result<()> {
    match std::fs::symlink_metadata(dir) {
        Ok(meta) if meta.is_dir() => fs_err::remove_dir_all(dir),
        Ok(_) => fs_err::remove_file(dir),
        Err(_) => Ok(()),
    }
}
