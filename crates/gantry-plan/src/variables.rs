//! Variables as GitLab layers them: predefined, top-level, workflow, job, matrix, rules, user —
//! for rules evaluation (lookups) and for running a job (the full, expanded list).

use std::collections::HashMap;

use gantry_config::{Config, Job, Variable};

use crate::context::PipelineContext;
use crate::parallel::Instance;
use crate::plan::{Plan, PlannedJob};

/// Pipeline-level variables, highest precedence first when looked up.
#[derive(Debug, Clone)]
pub struct Lookup {
    user: HashMap<String, String>,
    /// Top-level YAML variables with workflow rule variables applied.
    top: HashMap<String, String>,
    predefined: HashMap<String, String>,
}

/// A lookup for one job instance.
pub struct JobLookup<'a> {
    base: &'a Lookup,
    job: &'a Job,
    instance: &'a Instance,
}

impl Lookup {
    pub fn pipeline(config: &Config, ctx: &PipelineContext) -> Self {
        Self {
            user: ctx
                .user_variables
                .iter()
                .map(|v| (v.name.clone(), v.value.clone()))
                .collect(),
            top: config
                .variables
                .iter()
                .map(|v| (v.name.clone(), v.value.clone()))
                .collect(),
            predefined: ctx.predefined.iter().cloned().collect(),
        }
    }

    #[must_use]
    pub fn with_workflow(mut self, workflow: &[Variable]) -> Self {
        for v in workflow {
            self.top.insert(v.name.clone(), v.value.clone());
        }
        self
    }

    pub fn get(&self, name: &str) -> Option<String> {
        self.user
            .get(name)
            .or_else(|| self.top.get(name))
            .or_else(|| self.predefined.get(name))
            .cloned()
    }

    pub fn for_job<'a>(&'a self, job: &'a Job, instance: &'a Instance) -> JobLookup<'a> {
        JobLookup {
            base: self,
            job,
            instance,
        }
    }
}

impl JobLookup<'_> {
    pub fn get(&self, name: &str) -> Option<String> {
        if let Some(v) = self.base.user.get(name) {
            return Some(v.clone());
        }
        if let Some((_, v)) = self.instance.matrix.iter().find(|(k, _)| k == name) {
            return Some(v.clone());
        }
        if let Some(v) = self.job.variables.iter().find(|v| v.name == name) {
            return Some(v.value.clone());
        }
        if self.job.inherit_variables.allows(name)
            && let Some(v) = self.base.top.get(name)
        {
            return Some(v.clone());
        }
        match name {
            "CI_JOB_NAME" => Some(self.instance.name.clone()),
            "CI_JOB_NAME_SLUG" => Some(crate::context::slug(&self.instance.name)),
            "CI_JOB_STAGE" => Some(self.job.stage.clone()),
            "CI_NODE_TOTAL" => Some(self.instance.node_total.to_string()),
            "CI_NODE_INDEX" => self.instance.node_index.map(|i| i.to_string()),
            _ => self.base.predefined.get(name).cloned(),
        }
    }
}

/// Where a job variable comes from (it decides what dotenv variables may override).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum Origin {
    Predefined,
    Yaml,
    /// Given by the user: pipeline and project variables.
    User,
}

/// One variable handed to a job, after precedence and expansion.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ResolvedVariable {
    pub name: String,
    pub value: String,
    pub masked: bool,
    pub file: bool,
    pub raw: bool,
    pub origin: Origin,
}

/// Run-time facts that only exist when a job is started.
#[derive(Debug, Clone)]
pub struct JobRuntime {
    pub pipeline_id: u64,
    pub job_id: u64,
    pub job_token: String,
    pub pipeline_created_at: String,
}

/// Every variable of a planned job, lowest precedence first and already deduplicated,
/// expanded as the server does before handing the job to a runner.
pub fn job_variables(
    config: &Config,
    ctx: &PipelineContext,
    plan: &Plan,
    planned: &PlannedJob,
    runtime: &JobRuntime,
) -> Vec<ResolvedVariable> {
    let job = &config.jobs[planned.job];
    let mut list: Vec<ResolvedVariable> = Vec::with_capacity(96);
    let plain = |name: &str, value: String| ResolvedVariable {
        name: name.to_string(),
        value,
        masked: false,
        file: false,
        raw: true,
        origin: Origin::Predefined,
    };
    for (k, v) in &ctx.predefined {
        list.push(plain(k, v.clone()));
    }
    let project_url = ctx
        .predefined
        .iter()
        .find(|(k, _)| k == "CI_PROJECT_URL")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    list.push(plain("CI_PIPELINE_ID", runtime.pipeline_id.to_string()));
    list.push(plain("CI_PIPELINE_IID", runtime.pipeline_id.to_string()));
    list.push(plain(
        "CI_PIPELINE_URL",
        format!("{project_url}/-/pipelines/{}", runtime.pipeline_id),
    ));
    list.push(plain(
        "CI_PIPELINE_CREATED_AT",
        runtime.pipeline_created_at.clone(),
    ));
    if let Some(name) = &plan.name {
        list.push(plain("CI_PIPELINE_NAME", name.clone()));
    }
    list.push(plain("CI_JOB_ID", runtime.job_id.to_string()));
    list.push(plain(
        "CI_JOB_URL",
        format!("{project_url}/-/jobs/{}", runtime.job_id),
    ));
    list.push(plain("CI_JOB_NAME", planned.name.clone()));
    list.push(plain(
        "CI_JOB_NAME_SLUG",
        crate::context::slug(&planned.name),
    ));
    list.push(plain("CI_JOB_GROUP_NAME", job.name.clone()));
    list.push(plain("CI_JOB_STAGE", planned.stage.clone()));
    if planned.when == gantry_config::When::Manual {
        list.push(plain("CI_JOB_MANUAL", "true".into()));
    }
    list.push(plain("CI_NODE_TOTAL", planned.node_total.to_string()));
    if let Some(i) = planned.node_index {
        list.push(plain("CI_NODE_INDEX", i.to_string()));
    }
    list.push(ResolvedVariable {
        masked: true,
        ..plain("CI_JOB_TOKEN", runtime.job_token.clone())
    });
    if ctx.registry.is_some() {
        list.push(plain("CI_REGISTRY_USER", "gitlab-ci-token".into()));
        list.push(ResolvedVariable {
            masked: true,
            ..plain("CI_REGISTRY_PASSWORD", runtime.job_token.clone())
        });
    }
    if let Some(image) = &job.image {
        list.push(plain("CI_JOB_IMAGE", image.name.clone()));
    }
    let yaml = |v: &Variable| ResolvedVariable {
        name: v.name.clone(),
        value: v.value.clone(),
        masked: false,
        file: false,
        raw: !v.expand,
        origin: Origin::Yaml,
    };
    for v in config.variables.iter().chain(&plan.workflow_variables) {
        if job.inherit_variables.allows(&v.name) {
            list.push(yaml(v));
        }
    }
    for v in &job.variables {
        list.push(yaml(v));
    }
    for (k, v) in &planned.matrix {
        list.push(ResolvedVariable {
            raw: false,
            origin: Origin::Yaml,
            ..plain(k, v.clone())
        });
    }
    for v in &planned.rule_variables {
        list.push(yaml(v));
    }
    for v in &ctx.user_variables {
        list.push(ResolvedVariable {
            name: v.name.clone(),
            value: v.value.clone(),
            masked: v.masked,
            file: v.file,
            raw: v.raw,
            origin: Origin::User,
        });
    }
    dedup_last_wins(&mut list);
    expand_all(&mut list);
    list
}

/// Keeps the last definition of each name, at the position of the last definition.
fn dedup_last_wins(list: &mut Vec<ResolvedVariable>) {
    let mut last: HashMap<String, usize> = HashMap::with_capacity(list.len());
    for (i, v) in list.iter().enumerate() {
        last.insert(v.name.clone(), i);
    }
    let mut i = 0;
    list.retain(|v| {
        let keep = last.get(&v.name) == Some(&i);
        i += 1;
        keep
    });
}

/// The server's dependency-ordered expansion: `$X`/`${X}` references to other variables are
/// replaced; raw and file-type variables are not expanded, and references to them stay literal.
fn expand_all(list: &mut [ResolvedVariable]) {
    let defs: Vec<gantry_expr::VarDef<'_>> = list
        .iter()
        .map(|v| gantry_expr::VarDef {
            name: &v.name,
            value: &v.value,
            raw: v.raw,
            file_path: v.file.then_some(""),
        })
        .collect();
    let (values, _cycle) = gantry_expr::expand_server_values(&defs);
    for (v, value) in list.iter_mut().zip(values) {
        v.value = value;
    }
}
