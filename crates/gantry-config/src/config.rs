//! Reading a project's CI configuration from disk to a validated, typed [`Config`].

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

use gantry_yaml::{Node, SourceFile, Value};

use crate::diagnostic::Diagnostic;
use crate::extends::resolve_extends;
use crate::include::{IncludeContext, IncludedFile, Resolver, load_file};
use crate::job::parse_job;
use crate::keyword::Checker;
use crate::model::{Job, Variable, Workflow};
use crate::reference::resolve_references;

/// Top-level keywords that are not jobs.
const GLOBAL_KEYWORDS: &[&str] = &[
    "default",
    "include",
    "stages",
    "variables",
    "workflow",
    "spec",
    "image",
    "services",
    "cache",
    "before_script",
    "after_script",
];

/// Keywords `default:` may set.
pub(crate) const DEFAULT_KEYWORDS: &[&str] = &[
    "after_script",
    "artifacts",
    "before_script",
    "cache",
    "hooks",
    "id_tokens",
    "image",
    "interruptible",
    "retry",
    "services",
    "tags",
    "timeout",
    "identity",
];

/// Deprecated top-level keywords that act as `default:` entries.
const GLOBAL_DEFAULTS: &[&str] = &[
    "image",
    "services",
    "cache",
    "before_script",
    "after_script",
];

/// Where and how to read the configuration.
pub struct LoadOptions<'a> {
    pub project_dir: &'a Path,
    /// The configuration file, relative to `project_dir` (`.gitlab-ci.yml`).
    pub config_file: &'a str,
    pub project_mappings: &'a BTreeMap<String, PathBuf>,
    /// Pre-pipeline variables for include locations and `include:rules`.
    pub variables: &'a dyn Fn(&str) -> Option<String>,
    pub remote_cache: Option<&'a Path>,
}

/// A validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// Stages in order, `.pre` first and `.post` last.
    pub stages: Vec<String>,
    pub variables: Vec<Variable>,
    pub workflow: Workflow,
    /// Visible jobs in the order they appear in the merged configuration.
    pub jobs: Vec<Job>,
    /// The merged configuration (includes, `extends` and `!reference` resolved).
    pub merged: Node,
    pub includes: Vec<IncludedFile>,
    pub warnings: Vec<Diagnostic>,
}

/// The configuration is invalid; every problem found is listed.
#[derive(Debug, Clone)]
pub struct ConfigErrors {
    pub errors: Vec<Diagnostic>,
    pub warnings: Vec<Diagnostic>,
}

impl Config {
    pub fn job(&self, name: &str) -> Option<&Job> {
        self.jobs.iter().find(|j| j.name == name)
    }

    pub fn has_workflow_rules(&self) -> bool {
        self.workflow.rules.is_some()
    }
}

/// Reads, merges and validates the configuration.
pub fn load(options: &LoadOptions<'_>) -> Result<Config, ConfigErrors> {
    let fail = |d: Diagnostic| ConfigErrors {
        errors: vec![d],
        warnings: Vec::new(),
    };
    let path = options.project_dir.join(options.config_file);
    let text = fs_err::read_to_string(&path).map_err(|e| {
        fail(
            Diagnostic::error(format!("cannot read the CI configuration: {e}"), None).with_help(
                "run gantry in a project with a .gitlab-ci.yml, or pass -C DIR / -f FILE",
            ),
        )
    })?;
    let file = SourceFile::new(options.config_file, text);
    load_text(&file, options)
}

/// Like [`load`], for a configuration whose text is already in memory.
pub fn load_text(
    file: &std::sync::Arc<SourceFile>,
    options: &LoadOptions<'_>,
) -> Result<Config, ConfigErrors> {
    let mut errors = Vec::new();
    let mut loaded = load_file(file).map_err(|d| ConfigErrors {
        errors: vec![d],
        warnings: Vec::new(),
    })?;
    // Pipeline inputs: a `spec:inputs` header in the main file fills `$[[ inputs.* ]]` with
    // the inputs' defaults.
    if let Some(spec) = loaded
        .header
        .as_ref()
        .and_then(Node::as_map)
        .and_then(|m| m.get("spec"))
    {
        crate::inputs::resolve_inputs(Some(spec), None, options.config_file)
            .and_then(|values| {
                crate::inputs::interpolate(&mut loaded.content, &values, options.variables)
            })
            .map_err(|d| ConfigErrors {
                errors: vec![d],
                warnings: Vec::new(),
            })?;
    }
    let ctx = IncludeContext {
        project_dir: options.project_dir,
        project_mappings: options.project_mappings,
        variables: options.variables,
        remote_cache: options.remote_cache,
    };
    let mut resolver = Resolver::new(&ctx);
    let mut root = resolver.expand(
        loaded.content,
        options.project_dir,
        options.config_file,
        &mut errors,
    );
    if !errors.is_empty() {
        return Err(ConfigErrors {
            errors,
            warnings: Vec::new(),
        });
    }
    resolve_extends(&mut root, &mut errors);
    resolve_references(&mut root, &mut errors);
    if !errors.is_empty() {
        return Err(ConfigErrors {
            errors,
            warnings: Vec::new(),
        });
    }
    let mut config = build(&root, &mut errors);
    if let Some(c) = &mut config {
        c.merged = root;
        c.includes = resolver.included;
        cross_job_checks(c, &mut errors);
    }
    match config {
        Some(config) if errors.is_empty() => Ok(config),
        _ => Err(ConfigErrors {
            errors,
            warnings: Vec::new(),
        }),
    }
}

fn build(root: &Node, errors: &mut Vec<Diagnostic>) -> Option<Config> {
    let Some(map) = root.as_map() else {
        errors.push(Diagnostic::error(
            "Invalid configuration format",
            Some(&root.span),
        ));
        return None;
    };
    let mut check = Checker { errors };
    // `stages: null` is the same as no `stages:` (GitLab uses the entry's default).
    let stages = match map.get("stages").filter(|n| !n.is_null()) {
        Some(node) => stages_from(node, &mut check).unwrap_or_default(),
        None => ["build", "test", "deploy"].map(String::from).to_vec(),
    };
    let mut stages_full = vec![".pre".to_string()];
    stages_full.extend(stages.into_iter().filter(|s| s != ".pre" && s != ".post"));
    stages_full.push(".post".to_string());
    let stages_full = dedup(stages_full);

    let variables = map
        .get("variables")
        .map(|v| check.variables("variables", v, true).unwrap_or_default())
        .unwrap_or_default();
    let workflow = map.get("workflow").map_or_else(Workflow::default, |w| {
        if check
            .check_keys("workflow", w, &["rules", "name", "auto_cancel"])
            .is_err()
        {
            return Workflow::default();
        }
        let wm = w.as_map().expect("checked");
        let name = match wm.get("name") {
            Some(n) => match &n.value {
                Value::Str(s) if s.chars().count() > 255 => check
                    .fail(
                        "workflow name is too long (maximum is 255 characters)".into(),
                        n,
                    )
                    .ok(),
                Value::Str(s) => Some(s.clone()),
                Value::Null => None,
                _ => check
                    .fail("workflow name should be a string".into(), n)
                    .ok(),
            },
            None => None,
        };
        Workflow {
            rules: wm
                .get("rules")
                .and_then(|r| check.rules("workflow", r, true).ok()),
            name,
        }
    });

    // `default:` plus the deprecated top-level equivalents.
    let mut defaults: Vec<(Node, Node)> = Vec::new();
    if let Some(default) = map.get("default")
        && check
            .check_keys("default", default, DEFAULT_KEYWORDS)
            .is_ok()
    {
        defaults.extend(default.as_map().expect("checked").entries.iter().cloned());
    }
    for key in GLOBAL_DEFAULTS {
        if let Some((k, v)) = map.get_entry(key) {
            if defaults.iter().any(|(d, _)| d.as_str() == Some(key)) {
                let _ = check.fail::<()>(
                    format!("{key} is defined in top-level and `default:` entry"),
                    k,
                );
            } else {
                defaults.push((k.clone(), v.clone()));
            }
        }
    }

    let mut jobs = Vec::new();
    for (key, value) in &map.entries {
        let name = match &key.value {
            Value::Str(s) | Value::Symbol(s) => s.as_str(),
            other => {
                check.errors.push(
                    Diagnostic::error(
                        format!(
                            "jobs:{} config should be a hash with a string name",
                            other.scalar_to_string().unwrap_or_default()
                        ),
                        Some(&key.span),
                    )
                    .with_help("YAML reads this key as a boolean or null; quote the job name"),
                );
                continue;
            }
        };
        if GLOBAL_KEYWORDS.contains(&name) || name.starts_with('.') {
            continue;
        }
        if let Some(job) = parse_job(name, &key.span, value, &defaults, &mut check) {
            jobs.push(job);
        }
    }
    if jobs.is_empty() && check.errors.is_empty() {
        check.errors.push(Diagnostic::error(
            "jobs config should contain at least one visible job",
            Some(&root.span),
        ));
    }
    let warnings = if workflow.rules.is_none() {
        jobs.iter().filter_map(multiple_pipelines_warning).collect()
    } else {
        Vec::new()
    };
    Some(Config {
        stages: stages_full,
        variables,
        workflow,
        jobs,
        merged: Node::new(Value::Null, root.span.clone()),
        includes: Vec::new(),
        warnings,
    })
}

/// GitLab's warning for a job whose last rule is only `when:` (other than `never`) in a
/// configuration without `workflow:rules`: such a rule matches push and merge request
/// pipelines alike.
fn multiple_pipelines_warning(job: &Job) -> Option<Diagnostic> {
    let last = job.rules.as_ref()?.last()?;
    let only_when = last.if_expr.is_none()
        && last.changes.is_none()
        && last.exists.is_none()
        && last.start_in.is_none()
        && last.allow_failure.is_none()
        && last.needs.is_none()
        && last.variables.is_empty()
        && last.interruptible.is_none();
    let when = last.when?;
    (only_when && when != crate::model::When::Never).then(|| {
        Diagnostic::warning(
            format!(
                "jobs:{} may allow multiple pipelines to run for a single action due to `rules:when` clause with no `workflow:rules` - read more: https://docs.gitlab.com/ee/ci/troubleshooting.html#pipeline-warnings",
                job.name
            ),
            Some(&last.span),
        )
    })
}

fn dedup(list: Vec<String>) -> Vec<String> {
    let mut seen = HashSet::new();
    list.into_iter()
        .filter(|s| seen.insert(s.clone()))
        .collect()
}

fn stages_from(node: &Node, check: &mut Checker<'_>) -> Result<Vec<String>, ()> {
    match &node.value {
        Value::Seq(items) => {
            let flat = crate::keyword::flatten(items);
            flat.into_iter()
                .map(|n| match &n.value {
                    Value::Str(s) | Value::Symbol(s) => Ok(s.clone()),
                    _ => check.fail("stages config should be an array of strings".into(), n),
                })
                .collect()
        }
        _ => check.fail("stages config should be an array of strings".into(), node),
    }
}

/// Checks that span jobs: stages exist, needs and dependencies name defined jobs in the same or
/// earlier stages, no duplicated needs, no cycles.
fn cross_job_checks(config: &Config, errors: &mut Vec<Diagnostic>) {
    let stage_index: HashMap<&str, usize> = config
        .stages
        .iter()
        .enumerate()
        .map(|(i, s)| (s.as_str(), i))
        .collect();
    let jobs: HashMap<&str, &Job> = config.jobs.iter().map(|j| (j.name.as_str(), j)).collect();
    for job in &config.jobs {
        let Some(&own_stage) = stage_index.get(job.stage.as_str()) else {
            let stage_node = job.stage_span.as_ref().unwrap_or(&job.span);
            errors.push(
                Diagnostic::error(
                    format!(
                        "{} job: chosen stage {} does not exist; available stages are {}",
                        job.name,
                        job.stage,
                        config.stages.join(", ")
                    ),
                    Some(stage_node),
                )
                .with_help("add the stage to `stages:` or pick one of the available stages"),
            );
            continue;
        };
        let all_needs = job.needs.iter().flatten().chain(
            job.rules
                .iter()
                .flatten()
                .filter_map(|r| r.needs.as_ref())
                .flatten(),
        );
        let mut seen = HashSet::new();
        let mut duplicated = Vec::new();
        for need in job.needs.iter().flatten() {
            if !need.cross_project && need.matrix.is_none() && !seen.insert(need.job.as_str()) {
                duplicated.push(need.job.as_str());
            }
        }
        if !duplicated.is_empty() {
            errors.push(Diagnostic::error(
                format!(
                    "{} has the following needs duplicated: {}.",
                    job.name,
                    duplicated.join(", ")
                ),
                Some(&job.span),
            ));
        }
        if job.needs.as_ref().is_some_and(|n| n.len() > 50) {
            errors.push(Diagnostic::error(
                format!(
                    "{}: one job can only need 50 others, but you have listed {}. See needs keyword documentation for more details",
                    job.name,
                    job.needs.as_ref().map_or(0, Vec::len)
                ),
                Some(&job.span),
            ));
        }
        for need in all_needs {
            if need.cross_project {
                continue;
            }
            if need.job.chars().count() > 128 {
                errors.push(Diagnostic::error(
                    format!(
                        "{} job: need `{}` name is too long (maximum is 128 characters)",
                        job.name, need.job
                    ),
                    Some(&need.span),
                ));
                continue;
            }
            match jobs.get(need.job.as_str()) {
                None if need.optional => {}
                None => errors.push(
                    Diagnostic::error(
                        format!("{} job: undefined need: {}", job.name, need.job),
                        Some(&need.span),
                    )
                    .with_help("needs must name jobs defined in the configuration (hidden jobs cannot be needed)"),
                ),
                Some(other) => {
                    if stage_index.get(other.stage.as_str()).is_some_and(|&s| s > own_stage) {
                        errors.push(Diagnostic::error(
                            format!("{} job: need {} is not defined in current or prior stages", job.name, need.job),
                            Some(&need.span),
                        ));
                    }
                }
            }
        }
        for dep in job.dependencies.iter().flatten() {
            match jobs.get(dep.as_str()) {
                None => errors.push(Diagnostic::error(
                    format!("{} job: undefined dependency: {dep}", job.name),
                    Some(&job.span),
                )),
                Some(other) => {
                    if stage_index
                        .get(other.stage.as_str())
                        .is_some_and(|&s| s > own_stage)
                    {
                        errors.push(Diagnostic::error(
                            format!("{} job: dependency {dep} is not defined in current or prior stages", job.name),
                            Some(&job.span),
                        ));
                    }
                }
            }
        }
    }
    if errors.is_empty()
        && let Some(cycle) = find_needs_cycle(config)
    {
        errors.push(Diagnostic::error(
            format!(
                "The pipeline has circular dependencies: {}",
                cycle.join(" -> ")
            ),
            config.job(&cycle[0]).map(|j| &j.span),
        ));
    }
}

/// A cycle in the `needs` graph, as a list of job names, if there is one.
fn find_needs_cycle(config: &Config) -> Option<Vec<String>> {
    let index: HashMap<&str, usize> = config
        .jobs
        .iter()
        .enumerate()
        .map(|(i, j)| (j.name.as_str(), i))
        .collect();
    let edges: Vec<Vec<usize>> = config
        .jobs
        .iter()
        .map(|j| {
            j.needs
                .iter()
                .flatten()
                .filter_map(|n| index.get(n.job.as_str()).copied())
                .collect()
        })
        .collect();
    // Iterative DFS with colours: 0 new, 1 on stack, 2 done.
    let mut colour = vec![0u8; edges.len()];
    for start in 0..edges.len() {
        if colour[start] != 0 {
            continue;
        }
        let mut stack: Vec<(usize, usize)> = vec![(start, 0)];
        colour[start] = 1;
        while let Some((node, next)) = stack.last_mut() {
            if let Some(&to) = edges[*node].get(*next) {
                *next += 1;
                match colour[to] {
                    0 => {
                        colour[to] = 1;
                        stack.push((to, 0));
                    }
                    1 => {
                        let pos = stack.iter().position(|(n, _)| *n == to).unwrap_or(0);
                        let mut cycle: Vec<String> = stack[pos..]
                            .iter()
                            .map(|(n, _)| config.jobs[*n].name.clone())
                            .collect();
                        cycle.push(config.jobs[to].name.clone());
                        return Some(cycle);
                    }
                    _ => {}
                }
            } else {
                colour[*node] = 2;
                stack.pop();
            }
        }
    }
    None
}
