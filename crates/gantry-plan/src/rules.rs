//! Deciding whether a job (or the pipeline) is created: `rules`, `only`/`except`,
//! `workflow:rules`.

use std::cell::OnceCell;

use gantry_config::{OnlyExcept, PathsClause, Rule};

use crate::context::PipelineContext;
use crate::git::GitFacts;

/// Answers `changes` and `exists` clauses for one pipeline, computing the changed files once.
pub struct FileOracle<'a> {
    ctx: &'a PipelineContext,
    changed: OnceCell<Option<Vec<String>>>,
    files: OnceCell<Vec<String>>,
}

impl<'a> FileOracle<'a> {
    pub fn new(ctx: &'a PipelineContext) -> Self {
        Self {
            ctx,
            changed: OnceCell::new(),
            files: OnceCell::new(),
        }
    }

    /// Whether a diff exists for this pipeline. Tag, schedule, web, api and trigger pipelines
    /// have none, so `changes` is always true there.
    fn has_push_diff(&self) -> bool {
        self.ctx.tag.is_none()
            && matches!(
                self.ctx.source.as_str(),
                "push" | "merge_request_event" | "external_pull_request_event"
            )
    }

    /// The files the pipeline changes: for the default branch the last commit and uncommitted
    /// work; for another branch everything since it left the default branch.
    fn changed(&self) -> Option<&Vec<String>> {
        self.changed
            .get_or_init(|| {
                let dir = &self.ctx.project_dir;
                let on_default =
                    self.ctx.branch.as_deref() == Some(self.ctx.default_branch.as_str());
                let base = if on_default {
                    if GitFacts::rev_exists(dir, "HEAD~1") {
                        "HEAD~1".to_string()
                    } else {
                        return None;
                    }
                } else {
                    let remote = format!("origin/{}", self.ctx.default_branch);
                    let target = if GitFacts::rev_exists(dir, &remote) {
                        remote
                    } else {
                        self.ctx.default_branch.clone()
                    };
                    GitFacts::merge_base(dir, &target, "HEAD")?
                };
                GitFacts::changed_files(dir, &base)
            })
            .as_ref()
    }

    /// `rules:changes` / `only:changes`.
    pub fn changes(&self, clause: &PathsClause, vars: &dyn Fn(&str) -> Option<String>) -> bool {
        let changed = if let Some(compare_to) = &clause.compare_to {
            let target = gantry_expr::expand::expand_runner(compare_to, vars);
            let dir = &self.ctx.project_dir;
            match GitFacts::merge_base(dir, &target, "HEAD")
                .and_then(|base| GitFacts::changed_files(dir, &base))
            {
                Some(files) => files,
                None => return true,
            }
        } else {
            if !self.has_push_diff() {
                return true;
            }
            match self.changed() {
                Some(files) => files.clone(),
                None => return true,
            }
        };
        if changed.is_empty() {
            return false;
        }
        clause.paths.iter().any(|pattern| {
            let pattern = expand_defined(pattern, vars);
            gantry_expr::glob::FnmatchGlob::new(&pattern)
                .is_ok_and(|glob| changed.iter().any(|f| glob.matches(f)))
        })
    }

    /// `rules:exists`.
    pub fn exists(&self, clause: &PathsClause, vars: &dyn Fn(&str) -> Option<String>) -> bool {
        let root = &self.ctx.project_dir;
        let files = self.files.get_or_init(|| {
            let mut files = Vec::new();
            gantry_config::list_files(root, root, &mut files);
            files
        });
        clause.paths.iter().any(|pattern| {
            let pattern = expand_defined(pattern, vars);
            let pattern = pattern.trim_start_matches("./");
            if let Some(dir) = pattern.strip_suffix('/') {
                return root.join(dir).is_dir();
            }
            if !pattern.contains(['*', '?', '[', '{']) {
                return root.join(pattern).exists();
            }
            gantry_expr::glob::FnmatchGlob::new(pattern)
                .is_ok_and(|glob| files.iter().any(|f| glob.matches(f)))
        })
    }
}

/// `$VAR` in `changes`/`exists` paths is expanded when defined and kept literally otherwise.
fn expand_defined(pattern: &str, vars: &dyn Fn(&str) -> Option<String>) -> String {
    if !pattern.contains('$') {
        return pattern.to_string();
    }
    gantry_expr::expand::expand_runner(pattern, &|name: &str| {
        vars(name).or_else(|| Some(format!("${name}")))
    })
}

/// The first rule whose clauses all hold, if any.
pub fn first_matching_rule<'r>(
    rules: &'r [Rule],
    vars: &dyn Fn(&str) -> Option<String>,
    files: &FileOracle<'_>,
) -> Option<&'r Rule> {
    rules.iter().find(|rule| {
        rule.if_expr.as_ref().is_none_or(|(_, e)| e.evaluate(vars))
            && rule.changes.as_ref().is_none_or(|c| files.changes(c, vars))
            && rule.exists.as_ref().is_none_or(|c| files.exists(c, vars))
    })
}

/// Whether one `only`/`except` refs entry matches the pipeline.
fn ref_matches(entry: &str, ctx: &PipelineContext) -> bool {
    let source = ctx.source.trim_end_matches("_event");
    let keyword_source = |k: &str| -> bool {
        let k = k.trim_end_matches('s');
        let s = source.trim_end_matches('s');
        k == s || (k == "push" && s == "push") || (k == "pipeline" && s == "parent_pipeline")
    };
    let on_ref = ctx.source != "merge_request_event";
    match entry {
        "branches" => return on_ref && ctx.branch.is_some(),
        "tags" => return on_ref && ctx.tag.is_some(),
        "api"
        | "chat"
        | "external"
        | "external_pull_requests"
        | "merge_requests"
        | "pipelines"
        | "pushes"
        | "schedules"
        | "triggers"
        | "web" => {
            return keyword_source(entry)
                || (entry == "external_pull_requests" && source == "external_pull_request")
                || (entry == "merge_requests" && source == "merge_request");
        }
        _ => {}
    }
    if !on_ref {
        return false;
    }
    // `name@group/project` or `/regex/flags@group/project`.
    let (pattern, project) = split_project(entry);
    if let Some(project) = project {
        if project != ctx.project_path {
            return false;
        }
    }
    if pattern.starts_with('/') {
        return gantry_expr::UntrustedRegexp::from_ruby_syntax(pattern)
            .is_ok_and(|r| r.is_match(&ctx.ref_name));
    }
    pattern == ctx.ref_name
}

/// Splits the `@group/project` suffix off a refs entry.
fn split_project(entry: &str) -> (&str, Option<&str>) {
    if entry.starts_with('/') {
        for (at, _) in entry.match_indices('@') {
            let before = &entry[..at];
            let flags_start = before.trim_end_matches(['i', 'm', 's', 'U']);
            if flags_start.len() > 1 && flags_start.ends_with('/') {
                return (before, Some(&entry[at + 1..]));
            }
        }
        return (entry, None);
    }
    match entry.split_once('@') {
        Some((name, project)) => (name, Some(project)),
        None => (entry, None),
    }
}

/// Whether a job with these `only` / `except` values is added to the pipeline.
pub fn only_except_allows(
    only: Option<&OnlyExcept>,
    except: Option<&OnlyExcept>,
    default_only: bool,
    ctx: &PipelineContext,
    vars: &dyn Fn(&str) -> Option<String>,
    files: &FileOracle<'_>,
) -> bool {
    let diffable = ctx.tag.is_none()
        && matches!(
            ctx.source.as_str(),
            "push" | "merge_request_event" | "external_pull_request_event"
        );
    let default = OnlyExcept {
        refs: Some(vec!["branches".into(), "tags".into()]),
        ..OnlyExcept::default()
    };
    let only = match only {
        Some(o) => Some(o),
        None if default_only => Some(&default),
        None => None,
    };
    if let Some(only) = only {
        if let Some(refs) = &only.refs {
            if !refs.iter().any(|r| ref_matches(r, ctx)) {
                return false;
            }
        }
        if let Some(exprs) = &only.variables {
            if !exprs.iter().any(|(_, e)| e.evaluate(vars)) {
                return false;
            }
        }
        if let Some(changes) = &only.changes {
            if diffable {
                let clause = PathsClause {
                    paths: changes.clone(),
                    compare_to: None,
                };
                if !files.changes(&clause, vars) {
                    return false;
                }
            }
        }
        if only.kubernetes.is_some() {
            return false;
        }
    }
    if let Some(except) = except {
        if except
            .refs
            .as_ref()
            .is_some_and(|refs| refs.iter().any(|r| ref_matches(r, ctx)))
        {
            return false;
        }
        if except
            .variables
            .as_ref()
            .is_some_and(|exprs| exprs.iter().any(|(_, e)| e.evaluate(vars)))
        {
            return false;
        }
        if let Some(changes) = &except.changes {
            let clause = PathsClause {
                paths: changes.clone(),
                compare_to: None,
            };
            if !diffable || files.changes(&clause, vars) {
                return false;
            }
        }
    }
    true
}
