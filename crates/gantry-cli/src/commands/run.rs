//! `gantry run`: turn the plan into the engine's pipeline specification and run it.

use std::collections::{HashMap, HashSet};
use std::io::{self, Write as _};
use std::path::Path;

use gantry_config::{AllowFailure, CacheKey, Config, Diagnostic, When};
use gantry_engine::{
    ArtifactsSpec, ArtifactsWhen, CachePolicy, CacheSpec, CacheWhen, Executor, ImageSpec, JobSpec,
    JobVariable, Need, PipelineSpec, PipelineStatus, Reports, Retry, RunOptions, ServiceSpec,
    VariableSource,
};
use gantry_plan::{JobRuntime, Origin, Plan, PlannedJob};
use gantry_runner_config::{RunnerConfig, locate_config};

use crate::cli::{Cli, ExecutorKind, OutputFormat, RunArgs};
use crate::project::{EXIT_INVALID, LoadFailure, Project, report};
use crate::state::Counters;

/// The pipeline failed (or was canceled).
const EXIT_FAILED: i32 = 1;

pub fn run(cli: &Cli, args: &RunArgs) -> i32 {
    match prepare(cli, args) {
        Ok(Prepared::Nothing(reason)) => {
            eprintln!("{reason}");
            0
        }
        Ok(Prepared::Spec(spec, selected_manual)) => execute(spec, selected_manual, args),
        Err(failure) => {
            report(&failure);
            EXIT_INVALID
        }
    }
}

enum Prepared {
    Nothing(String),
    Spec(PipelineSpec, HashSet<String>),
}

fn prepare(cli: &Cli, args: &RunArgs) -> Result<Prepared, LoadFailure> {
    let project = Project::load(cli, &args.context)?;
    let plan = project.plan()?;
    if let Some(reason) = &plan.filtered {
        return Ok(Prepared::Nothing(reason.clone()));
    }
    let color = crate::output::color_stderr();
    for w in project.config.warnings.iter().chain(&plan.warnings) {
        eprint!("{}", w.render(color));
    }
    let (selected, manual) = select(&project.config, &plan, args)?;
    if selected.is_empty() {
        return Ok(Prepared::Nothing("No jobs selected.".into()));
    }
    let state_dir = project.dir.join(".gantry");
    let mut counters = Counters::open(&state_dir).map_err(|e| {
        LoadFailure::from(Diagnostic::error(
            format!(
                "cannot use the state directory {}: {e}",
                state_dir.display()
            ),
            None,
        ))
    })?;
    let pipeline_id = counters.next_pipeline();
    let first_job_id = counters.reserve_jobs(selected.len());
    counters.save();
    let created_at = now_iso8601();
    let cache_keys = CacheKeys::new(&project.dir);
    let kept: HashSet<&str> = selected.iter().map(|j| j.name.as_str()).collect();
    let jobs = selected
        .iter()
        .enumerate()
        .map(|(i, planned)| {
            let runtime = JobRuntime {
                pipeline_id,
                job_id: first_job_id + i as u64,
                job_token: job_token(),
                pipeline_created_at: created_at.clone(),
            };
            job_spec(&project, &plan, planned, &runtime, &kept, &cache_keys)
        })
        .collect();
    Ok(Prepared::Spec(
        PipelineSpec {
            pipeline_id,
            project_dir: project.dir.clone(),
            state_dir,
            stages: plan.stages.clone(),
            jobs,
        },
        manual,
    ))
}

/// The jobs to run, and the manual jobs the user asked for by name.
fn select<'p>(
    config: &Config,
    plan: &'p Plan,
    args: &RunArgs,
) -> Result<(Vec<&'p PlannedJob>, HashSet<String>), LoadFailure> {
    let mut manual = HashSet::new();
    let mut chosen: HashSet<&str> = HashSet::new();
    if args.jobs.is_empty() {
        chosen.extend(plan.jobs.iter().map(|j| j.name.as_str()));
    } else {
        for wanted in &args.jobs {
            let matches: Vec<&PlannedJob> = plan
                .jobs
                .iter()
                .filter(|j| j.name == *wanted || config.jobs[j.job].name == *wanted)
                .collect();
            if matches.is_empty() {
                let known = config.jobs.iter().any(|j| j.name == *wanted);
                let message = if known {
                    format!(
                        "job `{wanted}` is not part of this pipeline (its rules, only or except leave it out)"
                    )
                } else {
                    format!("no job named `{wanted}` in the configuration")
                };
                return Err(Diagnostic::error(message, None)
                    .with_help("`gantry list` shows the jobs of this pipeline")
                    .into());
            }
            for m in matches {
                chosen.insert(m.name.as_str());
                manual.insert(m.name.clone());
            }
        }
        if args.needs {
            let by_name: HashMap<&str, &PlannedJob> =
                plan.jobs.iter().map(|j| (j.name.as_str(), j)).collect();
            let mut queue: Vec<&str> = chosen.iter().copied().collect();
            while let Some(name) = queue.pop() {
                for need in by_name[name].needs.iter().flatten() {
                    if chosen.insert(need.job.as_str()) {
                        queue.push(need.job.as_str());
                    }
                }
            }
        }
    }
    if !args.stages.is_empty() {
        for stage in &args.stages {
            if !plan.stages.contains(stage) {
                return Err(Diagnostic::error(format!("no stage named `{stage}`"), None).into());
            }
        }
        chosen.retain(|name| {
            plan.jobs
                .iter()
                .any(|j| j.name == *name && args.stages.contains(&j.stage))
        });
    }
    let selected = plan
        .jobs
        .iter()
        .filter(|j| chosen.contains(j.name.as_str()))
        .collect();
    Ok((selected, manual))
}

fn job_spec(
    project: &Project,
    plan: &Plan,
    planned: &PlannedJob,
    runtime: &JobRuntime,
    kept: &HashSet<&str>,
    cache_keys: &CacheKeys,
) -> JobSpec {
    let config = &project.config;
    let job = &config.jobs[planned.job];
    let variables: Vec<JobVariable> =
        gantry_plan::job_variables(config, &project.context, plan, planned, runtime)
            .into_iter()
            .map(|v| JobVariable {
                key: v.name,
                value: v.value,
                masked: v.masked,
                file: v.file,
                raw: v.raw,
                source: match v.origin {
                    Origin::Predefined => VariableSource::Predefined,
                    Origin::Yaml => VariableSource::Yaml,
                    Origin::User => VariableSource::Pipeline,
                },
            })
            .collect();
    let mut spec = JobSpec::new(
        planned.name.clone(),
        planned.stage.clone(),
        planned.stage_index,
    );
    spec.job_id = runtime.job_id;
    // Needs on jobs that were not selected are dropped: a job named alone runs alone.
    spec.needs = planned.needs.as_ref().map(|needs| {
        needs
            .iter()
            .filter(|n| kept.contains(n.job.as_str()))
            .map(|n| Need {
                job: n.job.clone(),
                artifacts: n.artifacts,
                optional: n.optional,
            })
            .collect()
    });
    spec.dependencies.clone_from(&planned.dependencies);
    spec.when = match planned.when {
        When::OnSuccess | When::Never => gantry_engine::When::OnSuccess,
        When::OnFailure => gantry_engine::When::OnFailure,
        When::Always => gantry_engine::When::Always,
        When::Manual => gantry_engine::When::Manual,
        When::Delayed => gantry_engine::When::Delayed(
            planned
                .start_in
                .as_deref()
                .and_then(|s| gantry_expr::parse_finite_duration(s).ok())
                .unwrap_or(std::time::Duration::ZERO),
        ),
    };
    spec.allow_failure = match &planned.allow_failure {
        AllowFailure::Bool(false) => gantry_engine::AllowFailure::No,
        AllowFailure::Bool(true) => gantry_engine::AllowFailure::Yes,
        AllowFailure::ExitCodes(codes) => gantry_engine::AllowFailure::ExitCodes(
            codes
                .iter()
                .filter_map(|c| i32::try_from(*c).ok())
                .collect(),
        ),
    };
    if let Some(retry) = &job.retry {
        spec.retry = Retry {
            max: retry.max,
            when: retry.when.clone(),
            exit_codes: retry
                .exit_codes
                .iter()
                .filter_map(|c| i32::try_from(*c).ok())
                .collect(),
        };
    }
    spec.timeout = job
        .timeout
        .as_deref()
        .and_then(|t| gantry_expr::parse_finite_duration(t).ok());
    spec.before_script.clone_from(&job.before_script);
    spec.script.clone_from(&job.script);
    spec.after_script.clone_from(&job.after_script);
    spec.artifacts = job.artifacts.as_ref().map(|a| ArtifactsSpec {
        name: a.name.clone(),
        paths: a.paths.clone(),
        exclude: a.exclude.clone(),
        untracked: a.untracked,
        when: match a.when.as_deref() {
            Some("on_failure") => ArtifactsWhen::OnFailure,
            Some("always") => ArtifactsWhen::Always,
            _ => ArtifactsWhen::OnSuccess,
        },
        expire_in: a.expire_in.clone(),
        reports: Reports {
            dotenv: a.dotenv.clone(),
            junit: a.junit.clone(),
        },
    });
    spec.cache = job
        .cache
        .iter()
        .enumerate()
        .map(|(index, c)| CacheSpec {
            key: cache_keys.key(&c.key, index),
            fallback_keys: c.fallback_keys.clone(),
            paths: c.paths.clone(),
            untracked: c.untracked,
            policy: match c.policy.as_str() {
                "pull" => CachePolicy::Pull,
                "push" => CachePolicy::Push,
                _ => CachePolicy::PullPush,
            },
            when: match c.when.as_str() {
                "on_failure" => CacheWhen::OnFailure,
                "always" => CacheWhen::Always,
                _ => CacheWhen::OnSuccess,
            },
        })
        .collect();
    spec.image = job.image.as_ref().map(|i| ImageSpec {
        name: i.name.clone(),
        entrypoint: i.entrypoint.clone(),
        pull_policy: i.pull_policy.clone(),
        platform: i.platform.clone(),
        user: i.user.clone(),
    });
    spec.services = job
        .services
        .iter()
        .map(|s| ServiceSpec {
            name: s.name.clone(),
            alias: s.alias.clone(),
            entrypoint: s.entrypoint.clone(),
            command: s.command.clone(),
            variables: s
                .variables
                .iter()
                .map(|v| {
                    let mut variable = JobVariable::new(&v.name, &v.value);
                    variable.raw = !v.expand;
                    variable
                })
                .collect(),
            pull_policy: s.pull_policy.clone(),
        })
        .collect();
    spec.variables = variables;
    spec
}

/// Computes `cache:key:files` keys (once per distinct file list).
struct CacheKeys<'a> {
    dir: &'a Path,
    memo: std::cell::RefCell<HashMap<Vec<String>, String>>,
}

impl<'a> CacheKeys<'a> {
    fn new(dir: &'a Path) -> Self {
        Self {
            dir,
            memo: std::cell::RefCell::default(),
        }
    }

    /// The key GitLab computes: a literal key as written (the engine expands variables in it),
    /// or for `key:files` a digest of the last commits that touched the files.
    fn key(&self, key: &CacheKey, index: usize) -> String {
        match key {
            CacheKey::Literal(k) => k.clone(),
            CacheKey::Files { files, prefix } => {
                let digest = self
                    .memo
                    .borrow_mut()
                    .entry(files.clone())
                    .or_insert_with(|| files_digest(self.dir, files))
                    .clone();
                match prefix {
                    Some(p) => format!("{p}-{digest}"),
                    None => format!("{index}-{digest}"),
                }
            }
        }
    }
}

fn files_digest(dir: &Path, files: &[String]) -> String {
    let mut commits: Vec<String> = files
        .iter()
        .filter_map(|f| gantry_plan::GitFacts::last_commit_of(dir, f))
        .collect();
    commits.sort();
    commits.dedup();
    if commits.is_empty() {
        return "default".into();
    }
    gantry_plan::sha_hex(commits.join("-").as_bytes())
}

/// A fresh job token, masked in every output.
fn job_token() -> String {
    let mut bytes = [0u8; 16];
    if let Ok(mut f) = std::fs::File::open("/dev/urandom") {
        use std::io::Read as _;
        let _ = f.read_exact(&mut bytes);
    }
    let hex = bytes.iter().fold(String::with_capacity(32), |mut s, b| {
        use std::fmt::Write as _;
        let _ = write!(s, "{b:02x}");
        s
    });
    format!("glcbt-{hex}")
}

/// The current time, ISO 8601 in UTC.
fn now_iso8601() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    gantry_image::rfc3339(i64::try_from(secs).unwrap_or(0))
}

/// The runner configuration (`--config`, `.gantry/config.toml`, `~/.gantry/config.toml`), its
/// warnings printed; `Err` with the exit code when it is invalid.
pub(crate) fn runner_config(
    explicit: Option<&Path>,
    project_dir: &Path,
) -> Result<RunnerConfig, i32> {
    let home = std::env::var_os("HOME").map(std::path::PathBuf::from);
    let Some(path) = locate_config(explicit, project_dir, home.as_deref()) else {
        return Ok(RunnerConfig::default());
    };
    match RunnerConfig::load(&path) {
        Ok(config) => {
            for w in &config.warnings {
                eprintln!("warning: {w}");
            }
            Ok(config)
        }
        Err(e) => {
            for w in &e.warnings {
                eprintln!("warning: {w}");
            }
            for error in &e.errors {
                eprintln!("error: {error}");
            }
            Err(EXIT_INVALID)
        }
    }
}

fn execute(mut spec: PipelineSpec, selected_manual: HashSet<String>, args: &RunArgs) -> i32 {
    let config = match runner_config(args.config.as_deref(), &spec.project_dir) {
        Ok(config) => config,
        Err(code) => return code,
    };
    let executor = match (args.executor, config.executor.as_deref()) {
        (Some(ExecutorKind::Docker), _) | (None, Some("docker")) => {
            Executor::Docker(Box::new(config.docker.clone()))
        }
        _ => Executor::Shell,
    };
    if !config.environment.is_empty() {
        // `[[runners]] environment`: below every job variable.
        for job in &mut spec.jobs {
            let mut variables: Vec<JobVariable> = config
                .environment
                .iter()
                .map(|(k, v)| {
                    let mut variable = JobVariable::new(k, v);
                    variable.source = VariableSource::Predefined;
                    variable
                })
                .collect();
            variables.append(&mut job.variables);
            job.variables = variables;
        }
    }
    let cancel = match gantry_engine::install_signal_handlers() {
        Ok(token) => Some(token),
        Err(e) => {
            eprintln!("warning: cannot install signal handlers: {e}");
            None
        }
    };
    let options = RunOptions {
        concurrency: args.concurrency.unwrap_or(0),
        selected_manual,
        cancel,
        executor,
        ..RunOptions::default()
    };
    let result = match args.context.output {
        OutputFormat::Json => {
            let mut printer = gantry_engine::printer::JsonPrinter::new(io::stdout().lock());
            let r = gantry_engine::run(spec, options, |e| printer.print(e));
            let _ = printer.into_inner().flush();
            r
        }
        OutputFormat::Text => {
            let color = gantry_engine::printer::stdout_supports_color();
            let mut printer = gantry_engine::printer::TextPrinter::new(io::stdout().lock(), color);
            let mut status = crate::status_line::StatusLine::new(color);
            let r = gantry_engine::run(spec, options, |e| {
                status.clear();
                printer.print(e);
                status.update(e);
            });
            status.clear();
            let _ = printer.into_inner().flush();
            r
        }
    };
    match result {
        Ok(outcome) => match outcome.status {
            PipelineStatus::Success | PipelineStatus::Skipped | PipelineStatus::Manual => 0,
            PipelineStatus::Failed | PipelineStatus::Canceled => EXIT_FAILED,
        },
        Err(e) => {
            eprintln!("error: {e}");
            EXIT_FAILED
        }
    }
}
