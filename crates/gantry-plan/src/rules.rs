//! Deciding whether a job (or the pipeline) is created: `rules`, `only`/`except`,
//! `workflow:rules`.

use std::cell::{OnceCell, RefCell};
use std::collections::HashMap;

use gantry_config::{OnlyExcept, PathsClause, Rule};

use crate::context::PipelineContext;
use crate::git::GitFacts;

/// The files changed since a `compare_to` ref (`Err`: the ref names no commit; `Ok(None)`: git
/// cannot tell).
type Compared = Result<Option<Vec<String>>, ()>;

/// Answers `changes` and `exists` clauses for one pipeline, computing the changed files once.
pub struct FileOracle<'a> {
    ctx: &'a PipelineContext,
    changed: OnceCell<Option<Vec<String>>>,
    files: OnceCell<Vec<String>>,
    /// Files changed since each `compare_to` ref.
    compared: RefCell<HashMap<String, Compared>>,
}

impl<'a> FileOracle<'a> {
    pub fn new(ctx: &'a PipelineContext) -> Self {
        Self {
            ctx,
            changed: OnceCell::new(),
            files: OnceCell::new(),
            compared: RefCell::new(HashMap::new()),
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

    /// `rules:changes` / `only:changes`. An error when `compare_to` names no commit (GitLab
    /// then fails the pipeline: `rules:changes:compare_to is not a valid ref`).
    pub fn changes(
        &self,
        clause: &PathsClause,
        vars: &dyn Fn(&str) -> Option<String>,
    ) -> Result<bool, String> {
        let changed = if let Some(compare_to) = &clause.compare_to {
            let target = expand_defined(compare_to, vars);
            let dir = &self.ctx.project_dir;
            if !self.ctx.git.is_repo {
                return Ok(true);
            }
            let known = self.compared.borrow().get(&target).cloned();
            let result = known.unwrap_or_else(|| {
                let result = if GitFacts::rev_exists(dir, &target) {
                    Ok(GitFacts::merge_base(dir, &target, "HEAD")
                        .and_then(|base| GitFacts::changed_files(dir, &base)))
                } else {
                    Err(())
                };
                self.compared
                    .borrow_mut()
                    .insert(target.clone(), result.clone());
                result
            });
            match result {
                Err(()) => return Err("rules:changes:compare_to is not a valid ref".into()),
                Ok(Some(files)) => files,
                Ok(None) => return Ok(true),
            }
        } else {
            if !self.has_push_diff() {
                return Ok(true);
            }
            match self.changed() {
                Some(files) => files.clone(),
                None => return Ok(true),
            }
        };
        if changed.is_empty() {
            return Ok(false);
        }
        Ok(clause.paths.iter().any(|pattern| {
            let pattern = expand_defined(pattern, vars);
            gantry_expr::glob::FnmatchGlob::new(&pattern)
                .is_ok_and(|glob| changed.iter().any(|f| glob.matches(f)))
        }))
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
    gantry_expr::expand::expand_runner(pattern, |name: &str| {
        vars(name).or_else(|| Some(format!("${name}")))
    })
}

/// The first rule whose clauses all hold, if any; an error when a clause cannot be evaluated.
pub fn first_matching_rule<'r>(
    rules: &'r [Rule],
    vars: &dyn Fn(&str) -> Option<String>,
    files: &FileOracle<'_>,
) -> Result<Option<&'r Rule>, String> {
    for rule in rules {
        if !rule.if_expr.as_ref().is_none_or(|(_, e)| e.evaluate(vars)) {
            continue;
        }
        if let Some(c) = &rule.changes
            && !files.changes(c, vars)?
        {
            continue;
        }
        if rule.exists.as_ref().is_none_or(|c| files.exists(c, vars)) {
            return Ok(Some(rule));
        }
    }
    Ok(None)
}

/// Whether one `only`/`except` refs entry matches the pipeline, as GitLab's `Policy::Refs`
/// does: the entry is split at its first `@` into a pattern and a project path; `tags` and
/// `branches` match tag and branch pipelines; any entry equal to the pipeline source (without
/// `_event`) or its plural matches (`pushes`, `schedules`, `merge_requests`, ...); otherwise a
/// `/regex/` or a literal name is matched against the ref, on branch and tag pipelines only.
fn ref_matches(entry: &str, ctx: &PipelineContext) -> bool {
    let (pattern, project) = match entry.split_once('@') {
        Some((pattern, project)) => (pattern, Some(project)),
        None => (entry, None),
    };
    if project.is_some_and(|p| p != ctx.project_path) {
        return false;
    }
    let merge_request = ctx.source == "merge_request_event";
    let tag = ctx.tag.is_some() && !merge_request;
    let branch = !tag && !merge_request;
    if (tag && pattern == "tags") || (branch && pattern == "branches") {
        return true;
    }
    let source = ctx.source.strip_suffix("_event").unwrap_or(&ctx.source);
    if source == pattern || pluralize(source) == pattern {
        return true;
    }
    if !(branch || tag) {
        return false;
    }
    if pattern.starts_with('/')
        && let Ok(regex) = gantry_expr::UntrustedRegexp::from_ruby_syntax(pattern)
    {
        return regex.is_match(&ctx.ref_name);
    }
    pattern == ctx.ref_name
}

/// The English plural of a pipeline source name, as Rails' `pluralize` forms it.
fn pluralize(word: &str) -> String {
    let bytes = word.as_bytes();
    let consonant_y = bytes.len() >= 2
        && bytes[bytes.len() - 1] == b'y'
        && !matches!(bytes[bytes.len() - 2], b'a' | b'e' | b'i' | b'o' | b'u');
    if word.ends_with(['s', 'x', 'z']) || word.ends_with("ch") || word.ends_with("sh") {
        format!("{word}es")
    } else if consonant_y {
        format!("{}ies", &word[..word.len() - 1])
    } else {
        format!("{word}s")
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
        if let Some(refs) = &only.refs
            && !refs.iter().any(|r| ref_matches(r, ctx))
        {
            return false;
        }
        if let Some(exprs) = &only.variables
            && !exprs.iter().any(|(_, e)| e.evaluate(vars))
        {
            return false;
        }
        if let Some(changes) = &only.changes
            && diffable
        {
            let clause = PathsClause {
                paths: changes.clone(),
                compare_to: None,
            };
            if !files.changes(&clause, vars).unwrap_or(true) {
                return false;
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
            if !diffable || files.changes(&clause, vars).unwrap_or(true) {
                return false;
            }
        }
    }
    true
}
