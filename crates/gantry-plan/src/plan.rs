//! Evaluating a configuration for one pipeline: which jobs exist, in which stage, with which
//! `when`, `allow_failure` and resolved `needs`.

use std::collections::HashMap;

use gantry_config::{AllowFailure, Config, Diagnostic, Job, Need, Variable, When};

use crate::context::PipelineContext;
use crate::parallel::{Instance, expand};
use crate::rules::{FileOracle, first_matching_rule, only_except_allows};
use crate::variables::Lookup;

/// A resolved `needs` edge to a concrete job instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedNeed {
    pub job: String,
    pub artifacts: bool,
    pub optional: bool,
}

/// One job the pipeline creates.
#[derive(Debug, Clone)]
pub struct PlannedJob {
    /// The instance name (`test 1/2`, `deploy: [aws, app]`).
    pub name: String,
    /// Index of the job in `Config::jobs`.
    pub job: usize,
    pub stage: String,
    pub stage_index: usize,
    pub when: When,
    pub allow_failure: AllowFailure,
    pub start_in: Option<String>,
    /// `None` without `needs` (stage order); resolved to instance names otherwise.
    pub needs: Option<Vec<PlannedNeed>>,
    /// `dependencies`, resolved to instance names.
    pub dependencies: Option<Vec<String>>,
    pub node_index: Option<u32>,
    pub node_total: u32,
    pub matrix: Vec<(String, String)>,
    /// Variables of the rule that matched.
    pub rule_variables: Vec<Variable>,
}

impl PlannedJob {
    pub fn allows_failure(&self) -> bool {
        !matches!(self.allow_failure, AllowFailure::Bool(false))
    }
}

/// A pipeline: the configuration evaluated for one context.
#[derive(Debug, Clone)]
pub struct Plan {
    pub stages: Vec<String>,
    /// Jobs in stage order, then in configuration order.
    pub jobs: Vec<PlannedJob>,
    /// Set when the pipeline is not created at all, with the reason.
    pub filtered: Option<String>,
    /// `workflow:name`, expanded.
    pub name: Option<String>,
    /// Variables of the `workflow:rules` entry that matched.
    pub workflow_variables: Vec<Variable>,
    pub warnings: Vec<Diagnostic>,
}

/// The pipeline cannot be created.
#[derive(Debug, Clone)]
pub struct PlanErrors {
    pub errors: Vec<Diagnostic>,
}

/// Evaluates `config` for `ctx`.
pub fn plan(config: &Config, ctx: &PipelineContext) -> Result<Plan, PlanErrors> {
    let files = FileOracle::new(ctx);
    let base = Lookup::pipeline(config, ctx);
    let mut out = Plan {
        stages: config.stages.clone(),
        jobs: Vec::new(),
        filtered: None,
        name: None,
        workflow_variables: Vec::new(),
        warnings: Vec::new(),
    };
    if let Some(rules) = &config.workflow.rules {
        let vars = |name: &str| base.get(name);
        let matched = first_matching_rule(rules, &vars, &files).map_err(|e| PlanErrors {
            errors: vec![Diagnostic::error(
                format!("Failed to parse workflow rules: {e}"),
                None,
            )],
        })?;
        match matched {
            Some(rule) if rule.when != Some(When::Never) => {
                out.workflow_variables.clone_from(&rule.variables);
            }
            _ => {
                out.filtered = Some("Pipeline filtered out by workflow rules.".into());
                return Ok(out);
            }
        }
    }
    let base = base.with_workflow(&out.workflow_variables);
    if let Some(name) = &config.workflow.name {
        let expanded = gantry_expr::expand::expand_runner(name, |n: &str| base.get(n));
        let trimmed = expanded.trim().to_string();
        out.name = (!trimmed.is_empty()).then_some(trimmed);
    }
    let stage_index: HashMap<&str, usize> = config
        .stages
        .iter()
        .enumerate()
        .map(|(i, s)| (s.as_str(), i))
        .collect();
    let default_only = config.workflow.rules.is_none();
    let mut errors = Vec::new();
    // Jobs added, with their unresolved needs.
    let mut added: Vec<(PlannedJob, Option<Vec<Need>>, Instance)> = Vec::new();
    // Trigger jobs the pipeline would create: they are left out, and needs on them dropped.
    let mut left_out: Vec<&str> = Vec::new();
    for (index, job) in config.jobs.iter().enumerate() {
        let Some(&stage_idx) = stage_index.get(job.stage.as_str()) else {
            continue;
        };
        for instance in expand(&job.name, job.parallel.as_ref()) {
            let lookup = base.for_job(job, &instance);
            let vars = |name: &str| lookup.get(name);
            match decide(
                job,
                index,
                stage_idx,
                &instance,
                default_only,
                ctx,
                &vars,
                &files,
            ) {
                Ok(Some(_)) if job.trigger.is_some() => {
                    if !left_out.contains(&job.name.as_str()) {
                        left_out.push(&job.name);
                        out.warnings.push(Diagnostic::warning(
                            format!("{}: trigger jobs (downstream pipelines) are not run locally; the job is left out", job.name),
                            Some(&job.span),
                        ));
                    }
                }
                Ok(Some(planned)) => added.push((planned.0, planned.1, instance)),
                Ok(None) => {}
                Err(e) => errors.push(Diagnostic::error(
                    format!("Failed to parse rule for {}: {e}", instance.name),
                    Some(&job.span),
                )),
            }
        }
    }
    if !errors.is_empty() {
        return Err(PlanErrors { errors });
    }
    if added
        .iter()
        .all(|(j, _, _)| j.stage == ".pre" || j.stage == ".post")
    {
        out.filtered = Some(if added.is_empty() && !left_out.is_empty() {
            "No jobs would run locally: the pipeline holds only trigger jobs.".into()
        } else if added.is_empty() {
            "No jobs would run: every job was filtered out by rules, only or except.".into()
        } else {
            "Pipeline not created: it would contain only .pre or .post jobs.".into()
        });
        return Ok(out);
    }
    // Instances of each job that were added, by job name.
    let mut instances: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, (planned, _, _)) in added.iter().enumerate() {
        instances
            .entry(config.jobs[planned.job].name.as_str())
            .or_default()
            .push(i);
    }
    let mut resolved_needs: Vec<Option<Vec<PlannedNeed>>> = Vec::with_capacity(added.len());
    let mut resolved_deps: Vec<Option<Vec<String>>> = Vec::with_capacity(added.len());
    for (planned, needs, _) in &added {
        let job = &config.jobs[planned.job];
        resolved_needs.push(needs.as_ref().map(|needs| {
            let mut list = Vec::new();
            for need in needs {
                if need.cross_project {
                    out.warnings.push(Diagnostic::warning(
                        format!("{}: needs from other projects or pipelines cannot be satisfied locally and are ignored", job.name),
                        Some(&need.span),
                    ));
                    continue;
                }
                let targets: Vec<usize> = instances
                    .get(need.job.as_str())
                    .map(|idx| {
                        idx.iter()
                            .copied()
                            .filter(|&i| matrix_selected(&added[i].2, need, &planned.matrix))
                            .collect()
                    })
                    .unwrap_or_default();
                if targets.is_empty() {
                    if left_out.contains(&need.job.as_str()) {
                        out.warnings.push(Diagnostic::warning(
                            format!(
                                "{}: needs trigger job `{}`, which is left out locally; the need is dropped",
                                planned.name, need.job
                            ),
                            Some(&need.span),
                        ));
                        continue;
                    }
                    if !need.optional {
                        errors.push(Diagnostic::error(
                            format!(
                                "'{}' job needs '{}' job, but '{}' is not in any previous stage",
                                planned.name, need.job, need.job
                            ),
                            Some(&need.span),
                        ).with_help("the needed job is not added to this pipeline by its rules; mark the need `optional: true` or align the rules"));
                    }
                    continue;
                }
                for t in targets {
                    let target = &added[t].0;
                    if target.stage_index > planned.stage_index {
                        errors.push(Diagnostic::error(
                            format!("{} job: need {} is not defined in current or prior stages", planned.name, need.job),
                            Some(&need.span),
                        ));
                        continue;
                    }
                    if !list.iter().any(|n: &PlannedNeed| n.job == target.name) {
                        list.push(PlannedNeed {
                            job: target.name.clone(),
                            artifacts: need.artifacts,
                            optional: need.optional,
                        });
                    }
                }
            }
            list
        }));
        resolved_deps.push(job.dependencies.as_ref().map(|deps| {
            deps.iter()
                .flat_map(|d| instances.get(d.as_str()).cloned().unwrap_or_default())
                .map(|i| added[i].0.name.clone())
                .collect()
        }));
    }
    if !errors.is_empty() {
        return Err(PlanErrors { errors });
    }
    let mut jobs: Vec<PlannedJob> = added
        .into_iter()
        .zip(resolved_needs.into_iter().zip(resolved_deps))
        .map(|((mut job, _, _), (needs, deps))| {
            job.needs = needs;
            job.dependencies = deps;
            job
        })
        .collect();
    jobs.sort_by_key(|j| j.stage_index);
    out.jobs = jobs;
    Ok(out)
}

/// Whether an instance is selected by a need's `parallel:matrix` subset. A value written
/// `$[[ matrix.KEY ]]` stands for the needing job's own matrix value.
fn matrix_selected(instance: &Instance, need: &Need, own: &[(String, String)]) -> bool {
    let Some(subsets) = &need.matrix else {
        return true;
    };
    crate::parallel::matrix_combinations(subsets)
        .iter()
        .any(|combo| {
            combo.iter().all(|(k, v)| {
                let wanted = v
                    .trim()
                    .strip_prefix("$[[")
                    .and_then(|r| r.strip_suffix("]]"))
                    .and_then(|r| r.trim().strip_prefix("matrix."))
                    .map_or(v.as_str(), |key| {
                        own.iter()
                            .find(|(ok, _)| ok == key.trim())
                            .map_or("", |(_, ov)| ov.as_str())
                    });
                instance
                    .matrix
                    .iter()
                    .any(|(ik, iv)| ik == k && iv == wanted)
            })
        })
}

/// A job instance that is added, with its needs as written (resolved later).
type Decided = (PlannedJob, Option<Vec<Need>>);

/// Decides whether one job instance is added, and with which attributes.
#[allow(clippy::too_many_arguments)]
fn decide(
    job: &Job,
    index: usize,
    stage_index: usize,
    instance: &Instance,
    default_only: bool,
    ctx: &PipelineContext,
    vars: &dyn Fn(&str) -> Option<String>,
    files: &FileOracle<'_>,
) -> Result<Option<Decided>, String> {
    let job_when = job.when.unwrap_or(When::OnSuccess);
    let (when, allow_failure, start_in, needs, rule_variables) = if let Some(rules) = &job.rules {
        let Some(rule) = first_matching_rule(rules, vars, files)? else {
            return Ok(None);
        };
        let when = rule.when.unwrap_or(job_when);
        if when == When::Never {
            return Ok(None);
        }
        // GitLab: the rule's `allow_failure`, else the job's, else whether the job itself
        // (not the rule) says `when: manual`.
        let allow_failure = rule
            .allow_failure
            .clone()
            .or_else(|| job.allow_failure.clone())
            .unwrap_or(AllowFailure::Bool(job.when == Some(When::Manual)));
        let start_in = rule.start_in.clone().or_else(|| job.start_in.clone());
        let needs = rule.needs.clone().or_else(|| job.needs.clone());
        (when, allow_failure, start_in, needs, rule.variables.clone())
    } else {
        if !only_except_allows(
            job.only.as_ref(),
            job.except.as_ref(),
            default_only,
            ctx,
            vars,
            files,
        ) {
            return Ok(None);
        }
        let allow_failure = job
            .allow_failure
            .clone()
            .unwrap_or(AllowFailure::Bool(job_when == When::Manual));
        (
            job_when,
            allow_failure,
            job.start_in.clone(),
            job.needs.clone(),
            Vec::new(),
        )
    };
    Ok(Some((
        PlannedJob {
            name: instance.name.clone(),
            job: index,
            stage: job.stage.clone(),
            stage_index,
            when,
            allow_failure,
            start_in,
            needs: None,
            dependencies: None,
            node_index: instance.node_index,
            node_total: instance.node_total,
            matrix: instance.matrix.clone(),
            rule_variables,
        },
        needs,
    )))
}
