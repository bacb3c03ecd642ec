//! Typing of keyword values shared by jobs, `default:` and `workflow:` (scripts, variables,
//! rules, needs, artifacts, cache, ...), with GitLab's validation messages.

use gantry_yaml::{Node, Value};

use crate::diagnostic::Diagnostic;
use crate::model::{
    AllowFailure, Artifacts, Cache, CacheKey, Image, Inherit, Matrix, Need, OnlyExcept, Parallel,
    PathsClause, Retry, Rule, Service, Variable, When,
};

/// One week in seconds: the longest `start_in`.
pub const WEEK: u64 = 7 * 24 * 3600;

/// Collects schema errors; `path` is GitLab's entry path such as `jobs:build`.
pub struct Checker<'e> {
    pub errors: &'e mut Vec<Diagnostic>,
}

type R<T> = Result<T, ()>;

impl Checker<'_> {
    /// Records a schema error; GitLab lowercases these messages as a whole.
    #[allow(clippy::needless_pass_by_value)] // callers build the message with `format!`
    pub fn fail<T>(&mut self, message: String, node: &Node) -> R<T> {
        self.errors
            .push(Diagnostic::error(message.to_lowercase(), Some(&node.span)));
        Err(())
    }

    pub fn check_keys(&mut self, path: &str, node: &Node, known: &[&str]) -> R<()> {
        let Some(map) = node.as_map() else {
            return self.fail(format!("{path} config should be a hash"), node);
        };
        let unknown: Vec<String> = map
            .entries
            .iter()
            .filter(|(k, _)| !k.as_str().is_some_and(|k| known.contains(&k)))
            .map(|(k, _)| k.value.scalar_to_string().unwrap_or_default())
            .collect();
        if unknown.is_empty() {
            Ok(())
        } else {
            let first = map
                .entries
                .iter()
                .find(|(k, _)| !k.as_str().is_some_and(|k| known.contains(&k)))
                .map_or(node, |(k, _)| k);
            self.fail(
                format!(
                    "{path} config contains unknown keys: {}",
                    unknown.join(", ")
                ),
                first,
            )
        }
    }

    pub fn string(&mut self, path: &str, node: &Node) -> R<String> {
        match &node.value {
            Value::Str(s) | Value::Symbol(s) => Ok(s.clone()),
            _ => self.fail(format!("{path} config should be a string"), node),
        }
    }

    pub fn boolean(&mut self, path: &str, node: &Node) -> R<bool> {
        match node.value {
            Value::Bool(b) => Ok(b),
            _ => self.fail(format!("{path} config should be a boolean value"), node),
        }
    }

    /// A string or a list of strings.
    pub fn strings(&mut self, path: &str, node: &Node) -> R<Vec<String>> {
        match &node.value {
            Value::Str(s) | Value::Symbol(s) => Ok(vec![s.clone()]),
            Value::Seq(items) => items
                .iter()
                .map(|i| match &i.value {
                    Value::Str(s) | Value::Symbol(s) => Ok(s.clone()),
                    _ => self.fail(format!("{path} config should be an array of strings"), i),
                })
                .collect(),
            _ => self.fail(
                format!("{path} config should be a string or an array of strings"),
                node,
            ),
        }
    }

    /// A list of strings (scalars are stringified, as GitLab accepts numbers in many lists).
    pub fn string_list(&mut self, path: &str, node: &Node) -> R<Vec<String>> {
        match &node.value {
            Value::Seq(items) => items
                .iter()
                .map(|i| match &i.value {
                    Value::Str(s) | Value::Symbol(s) => Ok(s.clone()),
                    Value::Int(_) | Value::Float(_) | Value::Bool(_) => {
                        Ok(i.value.scalar_to_string().unwrap_or_default())
                    }
                    _ => self.fail(format!("{path} config should be an array of strings"), i),
                })
                .collect(),
            _ => self.fail(format!("{path} config should be an array of strings"), node),
        }
    }

    /// `script`, `before_script`, `after_script`: a string or nested arrays of strings (up to
    /// 10 levels), flattened. Numbers and booleans are not strings: GitLab rejects them.
    pub fn script(&mut self, path: &str, node: &Node) -> R<Vec<String>> {
        fn walk(node: &Node, depth: usize, out: &mut Vec<String>) -> bool {
            match &node.value {
                Value::Str(s) | Value::Symbol(s) => {
                    out.push(s.clone());
                    true
                }
                Value::Seq(items) if depth < 10 => items.iter().all(|i| walk(i, depth + 1, out)),
                _ => false,
            }
        }
        let mut out = Vec::new();
        if walk(node, 0, &mut out) {
            Ok(out)
        } else {
            self.fail(
                format!("{path} config should be a string or a nested array of strings up to 10 levels deep"),
                node,
            )
        }
    }

    /// Top-level (`top_level`) or job `variables:`.
    pub fn variables(&mut self, path: &str, node: &Node, top_level: bool) -> R<Vec<Variable>> {
        let allowed: &[&str] = if top_level {
            &["value", "description", "options", "expand"]
        } else {
            &["value", "expand"]
        };
        self.variables_with(path, node, allowed)
    }

    /// A `variables:` hash whose values may be hashes with the keys in `allowed_data` (none:
    /// only plain values, as in `rules:variables`).
    pub fn variables_with(
        &mut self,
        path: &str,
        node: &Node,
        allowed_data: &[&str],
    ) -> R<Vec<Variable>> {
        let map = match &node.value {
            Value::Map(m) => m,
            Value::Null => return Ok(Vec::new()),
            _ => {
                return self.fail(
                    format!("{path} config should be a hash of key value pairs"),
                    node,
                );
            }
        };
        let mut out: Vec<Variable> = Vec::with_capacity(map.len());
        let mut failed = false;
        for (key, value) in &map.entries {
            let Some(name) = key
                .as_str()
                .map(str::to_string)
                .or_else(|| key.value.scalar_to_string())
            else {
                failed = true;
                let _ = self.fail::<()>(
                    format!("{path} config should be a hash of key value pairs"),
                    key,
                );
                continue;
            };
            let var_path = format!("{path}:{name}");
            let variable = match &value.value {
                Value::Map(spec) => {
                    if allowed_data.is_empty() {
                        failed = true;
                        let _ =
                            self.fail::<()>(format!("{var_path} config must be a string"), value);
                        continue;
                    }
                    let extra: Vec<String> = spec
                        .entries
                        .iter()
                        .filter(|(k, _)| !k.as_str().is_some_and(|k| allowed_data.contains(&k)))
                        .map(|(k, _)| k.value.scalar_to_string().unwrap_or_default())
                        .collect();
                    if !extra.is_empty() {
                        failed = true;
                        let _ = self.fail::<()>(
                            format!(
                                "{var_path} config uses invalid data keys: {}",
                                extra.join(", ")
                            ),
                            value,
                        );
                        continue;
                    }
                    let text = match spec.get("value").map(|v| &v.value) {
                        Some(Value::Seq(_) | Value::Map(_) | Value::Reference(_)) => {
                            failed = true;
                            let _ = self.fail::<()>(
                                format!("{var_path} config value must be a scalar"),
                                value,
                            );
                            continue;
                        }
                        Some(v) => v.scalar_to_string().unwrap_or_default(),
                        None => String::new(),
                    };
                    let expand = match spec.get("expand") {
                        Some(e) => {
                            if let Value::Bool(b) = e.value {
                                b
                            } else {
                                failed = true;
                                let _ = self.fail::<()>(
                                    format!("{var_path} config expand should be a boolean value"),
                                    e,
                                );
                                continue;
                            }
                        }
                        None => true,
                    };
                    let options = match spec.get("options") {
                        Some(o) => {
                            if let Ok(list) = self.string_list(&format!("{var_path}:options"), o) {
                                list
                            } else {
                                failed = true;
                                continue;
                            }
                        }
                        None => Vec::new(),
                    };
                    if !options.is_empty() && !options.contains(&text) {
                        failed = true;
                        let _ = self.fail::<()>(
                            format!("{var_path} config value must be present in options"),
                            value,
                        );
                        continue;
                    }
                    Variable {
                        name,
                        value: text,
                        expand,
                        description: spec
                            .get("description")
                            .and_then(|d| d.value.scalar_to_string()),
                        options,
                    }
                }
                Value::Seq(_) | Value::Reference(_) => {
                    failed = true;
                    let _ = self.fail::<()>(
                        format!(
                            "{path} config variable definition must be either a string or a hash"
                        ),
                        value,
                    );
                    continue;
                }
                other => Variable {
                    name,
                    value: other.scalar_to_string().unwrap_or_default(),
                    expand: true,
                    description: None,
                    options: Vec::new(),
                },
            };
            if let Some(existing) = out.iter_mut().find(|v| v.name == variable.name) {
                *existing = variable;
            } else {
                out.push(variable);
            }
        }
        if failed { Err(()) } else { Ok(out) }
    }

    /// A duration no longer than `limit` seconds: `<path> <attribute> should be a duration` or
    /// `... should not exceed the limit`.
    pub fn duration_within(
        &mut self,
        path: &str,
        attribute: &str,
        node: &Node,
        text: &str,
        limit: u64,
    ) -> R<()> {
        match gantry_expr::parse_finite_duration(text) {
            Err(_) => self.fail(format!("{path} {attribute} should be a duration"), node),
            Ok(d) if d.as_secs() > limit => self.fail(
                format!("{path} {attribute} should not exceed the limit"),
                node,
            ),
            Ok(_) => Ok(()),
        }
    }

    pub fn when(&mut self, path: &str, node: &Node, allowed: &[When]) -> R<When> {
        let parsed = node.as_str().and_then(When::parse);
        match parsed {
            Some(w) if allowed.contains(&w) => Ok(w),
            _ => {
                let names: Vec<&str> = allowed.iter().map(|w| w.as_str()).collect();
                self.fail(
                    format!("{path} when should be one of: {}", names.join(", ")),
                    node,
                )
            }
        }
    }

    pub fn allow_failure(&mut self, path: &str, node: &Node) -> R<AllowFailure> {
        match &node.value {
            Value::Bool(b) => Ok(AllowFailure::Bool(*b)),
            Value::Map(m) => {
                self.check_keys(&format!("{path}:allow_failure"), node, &["exit_codes"])?;
                let codes = match m.get("exit_codes") {
                    Some(c) => self.int_list(&format!("{path}:allow_failure exit codes"), c)?,
                    None => Vec::new(),
                };
                Ok(AllowFailure::ExitCodes(codes))
            }
            _ => self.fail(
                format!("{path} allow failure should be a hash or a boolean value"),
                node,
            ),
        }
    }

    /// An integer or a list of them; `what` is the entry path and attribute
    /// (`jobs:build:allow_failure exit codes`).
    fn int_list(&mut self, what: &str, node: &Node) -> R<Vec<i64>> {
        match &node.value {
            Value::Int(i) => Ok(vec![*i]),
            Value::Seq(items) => items
                .iter()
                .map(|i| match i.value {
                    Value::Int(n) => Ok(n),
                    _ => self.fail(
                        format!("{what} should be an array of integers or an integer"),
                        i,
                    ),
                })
                .collect(),
            _ => self.fail(
                format!("{what} should be an array of integers or an integer"),
                node,
            ),
        }
    }

    pub fn retry(&mut self, path: &str, node: &Node) -> R<Retry> {
        const REASONS: &[&str] = &[
            "always",
            "unknown_failure",
            "script_failure",
            "api_failure",
            "stuck_or_timeout_failure",
            "runner_system_failure",
            "runner_unsupported",
            "stale_schedule",
            "job_execution_timeout",
            "archived_failure",
            "unmet_prerequisites",
            "scheduler_failure",
            "data_integrity_failure",
        ];

        let check_max = |c: &mut Self, n: &Node| -> R<u32> {
            match n.value {
                Value::Int(i) if (0..=2).contains(&i) => Ok(u32::try_from(i).unwrap_or(0)),
                Value::Int(_) => c.fail(
                    format!("{path}:retry max config must be less than or equal to 2"),
                    n,
                ),
                _ => c.fail(format!("{path}:retry max config should be an integer"), n),
            }
        };
        match &node.value {
            Value::Int(_) => Ok(Retry {
                max: check_max(self, node)?,
                ..Retry::default()
            }),
            Value::Map(m) => {
                self.check_keys(
                    &format!("{path}:retry"),
                    node,
                    &["max", "when", "exit_codes"],
                )?;
                let max = m.get("max").map_or(Ok(0), |n| check_max(self, n))?;
                let when = m.get("when").map_or(Ok(Vec::new()), |w| {
                    self.strings(&format!("{path}:retry:when"), w)
                })?;

                if let Some(bad) = when.iter().find(|w| !REASONS.contains(&w.as_str())) {
                    return self.fail(
                        format!("{path}:retry when unknown value: {bad}"),
                        m.get("when").unwrap_or(node),
                    );
                }
                let exit_codes = match m.get("exit_codes") {
                    Some(c) => self.int_list(&format!("{path}:retry exit codes"), c)?,
                    None => Vec::new(),
                };
                Ok(Retry {
                    max,
                    when,
                    exit_codes,
                })
            }
            _ => self.fail(format!("{path} retry should be a hash or an integer"), node),
        }
    }

    pub fn image(&mut self, path: &str, node: &Node) -> R<Image> {
        match &node.value {
            Value::Str(s) => Ok(Image {
                name: s.clone(),
                ..Image::default()
            }),
            Value::Map(m) => {
                self.check_keys(
                    &format!("{path}:image"),
                    node,
                    &["name", "entrypoint", "pull_policy", "docker", "kubernetes"],
                )?;
                let Some(name) = m.get("name") else {
                    return self.fail(format!("{path}:image config must have a name"), node);
                };
                let docker = m.get("docker").and_then(Node::as_map);
                Ok(Image {
                    name: self.string(&format!("{path}:image:name"), name)?,
                    entrypoint: match m.get("entrypoint") {
                        Some(e) => Some(self.string_list(&format!("{path}:image:entrypoint"), e)?),
                        None => None,
                    },
                    pull_policy: match m.get("pull_policy") {
                        Some(p) => self.strings(&format!("{path}:image:pull_policy"), p)?,
                        None => Vec::new(),
                    },
                    platform: docker
                        .and_then(|d| d.get("platform"))
                        .and_then(|v| v.value.scalar_to_string()),
                    user: docker
                        .and_then(|d| d.get("user"))
                        .and_then(|v| v.value.scalar_to_string()),
                })
            }
            _ => self.fail(
                format!("{path}:image config should be a hash or a string"),
                node,
            ),
        }
    }

    pub fn services(&mut self, path: &str, node: &Node) -> R<Vec<Service>> {
        let Some(items) = node.as_seq() else {
            return self.fail(format!("{path}:services config should be a array"), node);
        };
        items
            .iter()
            .map(|item| match &item.value {
                Value::Str(s) => Ok(Service {
                    name: s.clone(),
                    ..Service::default()
                }),
                Value::Map(m) => {
                    self.check_keys(
                        &format!("{path}:services:service"),
                        item,
                        &[
                            "name",
                            "alias",
                            "entrypoint",
                            "command",
                            "variables",
                            "pull_policy",
                            "docker",
                            "kubernetes",
                        ],
                    )?;
                    let Some(name) = m.get("name") else {
                        return self.fail(
                            format!("{path}:services:service config must have a name"),
                            item,
                        );
                    };
                    Ok(Service {
                        name: self.string(&format!("{path}:services:service:name"), name)?,
                        alias: m.get("alias").and_then(|a| a.value.scalar_to_string()),
                        entrypoint: match m.get("entrypoint") {
                            Some(e) => {
                                Some(self.string_list(
                                    &format!("{path}:services:service:entrypoint"),
                                    e,
                                )?)
                            }
                            None => None,
                        },
                        command: match m.get("command") {
                            Some(e) => Some(
                                self.string_list(&format!("{path}:services:service:command"), e)?,
                            ),
                            None => None,
                        },
                        variables: match m.get("variables") {
                            Some(v) => self.variables(
                                &format!("{path}:services:service:variables"),
                                v,
                                false,
                            )?,
                            None => Vec::new(),
                        },
                        pull_policy: match m.get("pull_policy") {
                            Some(p) => {
                                self.strings(&format!("{path}:services:service:pull_policy"), p)?
                            }
                            None => Vec::new(),
                        },
                    })
                }
                _ => self.fail(
                    format!("{path}:services:service config should be a hash or a string"),
                    item,
                ),
            })
            .collect()
    }

    pub fn needs(&mut self, path: &str, node: &Node) -> R<Vec<Need>> {
        let items: Vec<&Node> = match &node.value {
            // Null entries (an empty `-`, often from an alias of an empty list) are ignored.
            Value::Seq(items) => flatten(items)
                .into_iter()
                .filter(|n| !n.is_null())
                .collect(),
            Value::Str(_) | Value::Map(_) => vec![node],
            _ => {
                return self.fail(
                    format!("{path}:needs config can only be a hash or an array"),
                    node,
                );
            }
        };
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            match &item.value {
                Value::Str(s) | Value::Symbol(s) => out.push(Need {
                    job: s.clone(),
                    artifacts: true,
                    optional: false,
                    matrix: None,
                    cross_project: false,
                    span: item.span.clone(),
                }),
                Value::Map(m) => {
                    self.check_keys(
                        "need",
                        item,
                        &[
                            "job",
                            "artifacts",
                            "optional",
                            "parallel",
                            "project",
                            "ref",
                            "pipeline",
                        ],
                    )?;
                    let cross_project = m.contains_key("project") || m.contains_key("pipeline");
                    let job = match m.get("job") {
                        Some(j) => self.string(&format!("{path}:needs:need:job"), j)?,
                        None if cross_project => String::new(),
                        None => {
                            return self.fail(
                                format!("{path}:needs:need config must specify a job"),
                                item,
                            );
                        }
                    };
                    let artifacts = match m.get("artifacts") {
                        Some(a) => self.boolean(&format!("{path}:needs:need:artifacts"), a)?,
                        None => true,
                    };
                    let optional = match m.get("optional") {
                        Some(a) => self.boolean(&format!("{path}:needs:need:optional"), a)?,
                        None => false,
                    };
                    let matrix = match m
                        .get("parallel")
                        .and_then(Node::as_map)
                        .and_then(|p| p.get("matrix"))
                    {
                        Some(mx) => Some(self.matrix(&format!("{path}:needs:need:parallel"), mx)?),
                        None => None,
                    };
                    out.push(Need {
                        job,
                        artifacts,
                        optional,
                        matrix,
                        cross_project,
                        span: item.span.clone(),
                    });
                }
                _ => {
                    return self.fail(
                        format!("{path}:needs:need config should be a string or a hash"),
                        item,
                    );
                }
            }
        }
        Ok(out)
    }

    pub fn matrix(&mut self, path: &str, node: &Node) -> R<Matrix> {
        let Some(entries) = node.as_seq() else {
            return self.fail(
                format!("{path}:matrix config should be an array of hashes"),
                node,
            );
        };
        let mut out = Vec::new();
        for entry in entries {
            let Some(map) = entry.as_map() else {
                return self.fail(
                    format!("{path}:matrix config should be an array of hashes"),
                    entry,
                );
            };
            let mut vars = Vec::new();
            for (key, value) in &map.entries {
                let name = key.value.scalar_to_string().unwrap_or_default();
                let values = match &value.value {
                    Value::Seq(items) => items
                        .iter()
                        .map(|v| match &v.value {
                            Value::Seq(_) | Value::Map(_) | Value::Null => self.fail(
                                format!("{path}:matrix config should be an array of hashes"),
                                v,
                            ),
                            other => Ok(other.scalar_to_string().unwrap_or_default()),
                        })
                        .collect::<R<Vec<_>>>()?,
                    Value::Map(_) | Value::Null | Value::Reference(_) => {
                        return self.fail(
                            format!("{path}:matrix config should be an array of hashes"),
                            value,
                        );
                    }
                    other => vec![other.scalar_to_string().unwrap_or_default()],
                };
                vars.push((name, values));
            }
            out.push(vars);
        }
        Ok(out)
    }

    pub fn parallel(&mut self, path: &str, node: &Node) -> R<Parallel> {
        match &node.value {
            Value::Int(n) if (1..=200).contains(n) => {
                Ok(Parallel::Count(u32::try_from(*n).unwrap_or(1)))
            }
            Value::Int(_) => self.fail(
                format!("{path}:parallel config must be greater than or equal to 1 and less than or equal to 200"),
                node,
            ),
            Value::Map(m) => {
                self.check_keys(&format!("{path}:parallel"), node, &["matrix"])?;
                let Some(matrix) = m.get("matrix") else {
                    return self.fail(format!("{path}:parallel config missing required keys: matrix"), node);
                };
                let matrix = self.matrix(&format!("{path}:parallel"), matrix)?;
                let total: usize = matrix
                    .iter()
                    .map(|e| e.iter().map(|(_, v)| v.len()).product::<usize>())
                    .sum();
                if total > 200 {
                    return self.fail(
                        format!("{path}:parallel:matrix config generates too many jobs (maximum is 200)"),
                        node,
                    );
                }
                Ok(Parallel::Matrix(matrix))
            }
            _ => self.fail(
                format!("{path}:parallel config should be an integer or a hash"),
                node,
            ),
        }
    }

    pub fn paths_clause(&mut self, path: &str, node: &Node, extra: &[&str]) -> R<PathsClause> {
        let clause = self.paths_clause_unchecked(path, node, extra)?;
        if clause.paths.len() > 50 {
            return self.fail(
                format!("{path} config has too many entries (maximum 50)"),
                node,
            );
        }
        Ok(clause)
    }

    fn paths_clause_unchecked(
        &mut self,
        path: &str,
        node: &Node,
        extra: &[&str],
    ) -> R<PathsClause> {
        match &node.value {
            Value::Seq(_) => Ok(PathsClause {
                paths: self.string_list(path, node)?,
                compare_to: None,
            }),
            Value::Map(m) => {
                let mut known = vec!["paths"];
                known.extend_from_slice(extra);
                self.check_keys(path, node, &known)?;
                Ok(PathsClause {
                    paths: match m.get("paths") {
                        Some(p) => self.string_list(&format!("{path}:paths"), p)?,
                        None => Vec::new(),
                    },
                    compare_to: m.get("compare_to").and_then(|c| c.value.scalar_to_string()),
                })
            }
            _ => self.fail(format!("{path} config should be an array or a hash"), node),
        }
    }

    /// `rules:` of a job (`workflow` = false) or of `workflow:` (true).
    pub fn rules(&mut self, path: &str, node: &Node, workflow: bool) -> R<Vec<Rule>> {
        let Some(items) = node.as_seq() else {
            return self.fail(
                format!("{path}:rules config should be an array of hashes"),
                node,
            );
        };
        let items = flatten(items);
        let mut out = Vec::with_capacity(items.len());
        let mut failed = false;
        for item in items {
            match self.rule(path, item, workflow) {
                Ok(rule) => out.push(rule),
                Err(()) => failed = true,
            }
        }
        if failed { Err(()) } else { Ok(out) }
    }

    fn rule(&mut self, path: &str, item: &Node, workflow: bool) -> R<Rule> {
        let rule_path = format!("{path}:rules:rule");
        let known: &[&str] = if workflow {
            &[
                "if",
                "changes",
                "exists",
                "when",
                "variables",
                "auto_cancel",
                "start_in",
                "allow_failure",
                "needs",
            ]
        } else {
            &[
                "if",
                "changes",
                "exists",
                "when",
                "start_in",
                "allow_failure",
                "needs",
                "variables",
                "interruptible",
            ]
        };
        self.check_keys(&rule_path, item, known)?;
        let m = item.as_map().expect("checked to be a hash");
        if m.is_empty() {
            return self.fail(format!("{rule_path} config can't be blank"), item);
        }
        let if_expr = match m.get("if") {
            Some(cond) => {
                let parsed = cond.as_str().and_then(|text| {
                    gantry_expr::expression::Expression::parse(text)
                        .ok()
                        .map(|e| (text.to_string(), e))
                });
                match parsed {
                    Some(expr) => Some(expr),
                    None => {
                        return self
                            .fail(format!("{rule_path} if invalid expression syntax"), cond);
                    }
                }
            }
            None => None,
        };
        let when = match m.get("when") {
            Some(w) => {
                let allowed: &[When] = if workflow {
                    &[When::Always, When::Never]
                } else {
                    &[
                        When::OnSuccess,
                        When::OnFailure,
                        When::Never,
                        When::Always,
                        When::Manual,
                        When::Delayed,
                    ]
                };
                match w.as_str().and_then(When::parse) {
                    Some(parsed) if allowed.contains(&parsed) => Some(parsed),
                    _ => {
                        let text = w.value.scalar_to_string().unwrap_or_default();
                        return self.fail(format!("{rule_path} when unknown value: {text}"), w);
                    }
                }
            }
            None => None,
        };
        // `start_in` only with `when: delayed`, and then required: a duration of at most a
        // week. Workflow rules accept and ignore it.
        let start_in = match m.get_entry("start_in") {
            Some((key, value)) if !workflow => {
                if when != Some(When::Delayed) {
                    return self.fail(
                        format!("{rule_path} config contains disallowed keys: start_in"),
                        key,
                    );
                }
                let text = value.value.scalar_to_string().unwrap_or_default();
                self.duration_within(&rule_path, "start in", value, &text, WEEK)?;
                Some(text)
            }
            Some((_, value)) => value.value.scalar_to_string(),
            None => None,
        };
        if when == Some(When::Delayed) && start_in.is_none() && !workflow {
            return self.fail(format!("{rule_path} start in can't be blank"), item);
        }
        let allow_failure = match m.get("allow_failure") {
            Some(a) if !workflow => match a.value {
                Value::Bool(b) => Some(AllowFailure::Bool(b)),
                _ => {
                    return self.fail(
                        format!("{rule_path} allow failure should be a boolean value"),
                        a,
                    );
                }
            },
            _ => None,
        };
        if let Some(i) = m.get("interruptible")
            && !matches!(i.value, Value::Bool(_))
        {
            return self.fail(
                format!("{rule_path} interruptible should be a boolean value"),
                i,
            );
        }
        Ok(Rule {
            if_expr,
            changes: match m.get("changes") {
                Some(c) => {
                    Some(self.paths_clause(&format!("{rule_path}:changes"), c, &["compare_to"])?)
                }
                None => None,
            },
            exists: match m.get("exists") {
                Some(c) => Some(self.paths_clause(
                    &format!("{rule_path}:exists"),
                    c,
                    &["project", "ref"],
                )?),
                None => None,
            },
            when,
            start_in,
            allow_failure,
            needs: match m.get("needs") {
                Some(n) if !workflow => Some(self.needs(&rule_path, n)?),
                _ => None,
            },
            variables: match m.get("variables") {
                Some(v) => self.variables_with(&format!("{rule_path}:variables"), v, &[])?,
                None => Vec::new(),
            },
            interruptible: m.get("interruptible").and_then(|b| match b.value {
                Value::Bool(b) => Some(b),
                _ => None,
            }),
            span: item.span.clone(),
        })
    }

    pub fn only_except(&mut self, path: &str, node: &Node) -> R<OnlyExcept> {
        match &node.value {
            Value::Seq(_) | Value::Str(_) => Ok(OnlyExcept {
                refs: Some(self.strings(path, node)?),
                ..OnlyExcept::default()
            }),
            Value::Map(m) => {
                self.check_keys(path, node, &["refs", "variables", "changes", "kubernetes"])?;
                let variables = match m.get("variables") {
                    Some(v) => {
                        let texts = self.strings(&format!("{path}:variables"), v)?;
                        let mut exprs = Vec::new();
                        for text in texts {
                            match gantry_expr::expression::Expression::parse(&text) {
                                Ok(e) => exprs.push((text, e)),
                                Err(_) => {
                                    return self.fail(
                                        format!("{path}:variables config should be an array of valid expressions"),
                                        v,
                                    );
                                }
                            }
                        }
                        Some(exprs)
                    }
                    None => None,
                };
                Ok(OnlyExcept {
                    refs: match m.get("refs") {
                        Some(r) => Some(self.strings(&format!("{path}:refs"), r)?),
                        None => None,
                    },
                    variables,
                    changes: match m.get("changes") {
                        Some(c) => Some(
                            self.paths_clause(&format!("{path}:changes"), c, &["compare_to"])?
                                .paths,
                        ),
                        None => None,
                    },
                    kubernetes: m.get("kubernetes").and_then(|k| k.value.scalar_to_string()),
                })
            }
            _ => self.fail(
                format!("{path} config should be an array of strings or a hash"),
                node,
            ),
        }
    }

    pub fn artifacts(&mut self, path: &str, node: &Node) -> R<Artifacts> {
        let path = format!("{path}:artifacts");
        if node.is_null() {
            return Ok(Artifacts::default());
        }
        self.check_keys(
            &path,
            node,
            &[
                "name",
                "untracked",
                "paths",
                "reports",
                "when",
                "expire_in",
                "expose_as",
                "exclude",
                "public",
                "access",
            ],
        )?;
        let m = node.as_map().expect("checked");
        let mut artifacts = Artifacts {
            name: m.get("name").and_then(|n| n.value.scalar_to_string()),
            paths: match m.get("paths") {
                Some(p) => self.string_list(&format!("{path}:paths"), p)?,
                None => Vec::new(),
            },
            exclude: match m.get("exclude") {
                Some(p) => self.string_list(&format!("{path}:exclude"), p)?,
                None => Vec::new(),
            },
            untracked: match m.get("untracked") {
                Some(u) => self.boolean(&format!("{path}:untracked"), u)?,
                None => false,
            },
            when: match m.get("when") {
                Some(w) => {
                    let text = w.as_str().unwrap_or_default();
                    if !["on_success", "on_failure", "always"].contains(&text) {
                        return self.fail(
                            format!("{path} when should be on_success, on_failure or always"),
                            w,
                        );
                    }
                    Some(text.to_string())
                }
                None => None,
            },
            expire_in: match m.get("expire_in") {
                Some(e) => {
                    let text = self.string(&format!("{path}:expire_in"), e)?;
                    if gantry_expr::parse_duration(&text).is_err() {
                        return self.fail(format!("{path} expire in should be a duration"), e);
                    }
                    Some(text)
                }
                None => None,
            },
            expose_as: m.get("expose_as").and_then(|e| e.value.scalar_to_string()),
            ..Artifacts::default()
        };
        if let Some(reports) = m.get("reports") {
            let Some(rm) = reports.as_map() else {
                return self.fail(format!("{path}:reports config should be a hash"), reports);
            };
            for (key, value) in &rm.entries {
                let name = key.value.scalar_to_string().unwrap_or_default();
                let paths = match &value.value {
                    Value::Map(_) => value
                        .as_map()
                        .and_then(|c| c.get("path"))
                        .and_then(|p| p.value.scalar_to_string())
                        .into_iter()
                        .collect(),
                    _ => self.strings(&format!("{path}:reports:{name}"), value)?,
                };
                match name.as_str() {
                    "dotenv" => artifacts.dotenv = paths,
                    "junit" => artifacts.junit = paths,
                    _ => artifacts.other_reports.push((name, paths)),
                }
            }
        }
        Ok(artifacts)
    }

    pub fn cache(&mut self, path: &str, node: &Node) -> R<Vec<Cache>> {
        let entries: Vec<&Node> = match &node.value {
            Value::Seq(items) => flatten(items),
            Value::Map(_) => vec![node],
            Value::Null => Vec::new(),
            _ => {
                return self.fail(
                    format!("{path}:cache config should be a hash or an array"),
                    node,
                );
            }
        };
        if entries.len() > 4 {
            return self.fail(
                format!("{path}:cache config no more than 4 caches can be created"),
                node,
            );
        }
        let mut out = Vec::new();
        for entry in entries {
            let cpath = format!("{path}:cache");
            self.check_keys(
                &cpath,
                entry,
                &[
                    "key",
                    "untracked",
                    "paths",
                    "when",
                    "policy",
                    "fallback_keys",
                    "unprotect",
                ],
            )?;
            let m = entry.as_map().expect("checked");
            let key = match m.get("key") {
                None => CacheKey::Literal("default".into()),
                Some(k) => match &k.value {
                    Value::Map(km) => {
                        self.check_keys(
                            &format!("{cpath}:key"),
                            k,
                            &["files", "prefix", "files_commits"],
                        )?;
                        let files = km.get("files").or_else(|| km.get("files_commits"));
                        let files = match files {
                            Some(f) => self.string_list(&format!("{cpath}:key:files"), f)?,
                            None => {
                                return self.fail(
                                    format!("{cpath}:key config missing required keys: files"),
                                    k,
                                );
                            }
                        };
                        if files.is_empty() || files.len() > 2 {
                            return self.fail(
                                format!(
                                    "{cpath}:key:files config has too many items (maximum is 2)"
                                ),
                                k,
                            );
                        }
                        CacheKey::Files {
                            files,
                            prefix: km.get("prefix").and_then(|p| p.value.scalar_to_string()),
                        }
                    }
                    Value::Seq(_) => {
                        return self.fail(
                            format!("{cpath}:key config should be a hash, a string or a symbol"),
                            k,
                        );
                    }
                    other => {
                        let text = other.scalar_to_string().unwrap_or_default();
                        if text.contains('/') || text.contains("%2F") || text.contains("%2f") {
                            return self.fail(
                                format!("{cpath}:key config cannot contain the \"/\" character"),
                                k,
                            );
                        }
                        if !text.is_empty() && text.chars().all(|c| c == '.') {
                            return self
                                .fail(format!("{cpath}:key config cannot be \".\" or \"..\""), k);
                        }
                        CacheKey::Literal(text)
                    }
                },
            };
            let when = match m.get("when") {
                Some(w) => {
                    let text = w.as_str().unwrap_or_default();
                    if !["on_success", "on_failure", "always"].contains(&text) {
                        return self.fail(
                            format!(
                                "{cpath} when should be one of: on_success, on_failure, always"
                            ),
                            w,
                        );
                    }
                    text.to_string()
                }
                None => "on_success".into(),
            };
            let fallback_keys = match m.get("fallback_keys") {
                Some(f) => {
                    let keys = self.string_list(&format!("{cpath}:fallback_keys"), f)?;
                    if keys.len() > 5 {
                        return self.fail(
                            format!("{cpath}:fallback_keys config has to many entries (maximum 5)"),
                            f,
                        );
                    }
                    keys
                }
                None => Vec::new(),
            };
            out.push(Cache {
                key,
                paths: match m.get("paths") {
                    Some(p) => self.string_list(&format!("{cpath}:paths"), p)?,
                    None => Vec::new(),
                },
                untracked: match m.get("untracked") {
                    Some(u) => self.boolean(&format!("{cpath}:untracked"), u)?,
                    None => false,
                },
                policy: m
                    .get("policy")
                    .and_then(|p| p.value.scalar_to_string())
                    .unwrap_or_else(|| "pull-push".into()),
                when,
                fallback_keys,
                unprotect: m
                    .get("unprotect")
                    .is_some_and(|u| matches!(u.value, Value::Bool(true))),
            });
        }
        Ok(out)
    }

    pub fn inherit(&mut self, path: &str, node: &Node) -> R<(Inherit, Inherit)> {
        self.check_keys(&format!("{path}:inherit"), node, &["default", "variables"])?;
        let m = node.as_map().expect("checked");
        let mut one = |key: &str| -> R<Inherit> {
            match m.get(key) {
                None => Ok(Inherit::All),
                Some(v) => match &v.value {
                    Value::Bool(true) => Ok(Inherit::All),
                    Value::Bool(false) => Ok(Inherit::None),
                    Value::Seq(_) => {
                        let list = self.string_list(&format!("{path}:inherit:{key}"), v)?;
                        if key == "default" {
                            let unknown: Vec<&str> = list
                                .iter()
                                .map(String::as_str)
                                .filter(|k| !crate::config::DEFAULT_KEYWORDS.contains(k))
                                .collect();
                            if !unknown.is_empty() {
                                return self.fail(
                                    format!(
                                        "{path}:inherit:default config contains unknown values: {}",
                                        unknown.join(", ")
                                    ),
                                    v,
                                );
                            }
                        }
                        Ok(Inherit::Only(list))
                    }
                    _ => self.fail(
                        format!("{path}:inherit:{key} config should be a boolean value or an array of strings"),
                        v,
                    ),
                },
            }
        };
        Ok((one("default")?, one("variables")?))
    }
}

/// Flattens nested sequences (a `!reference` inside a list yields a nested list).
pub fn flatten(items: &[Node]) -> Vec<&Node> {
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        match &item.value {
            Value::Seq(inner) => out.extend(flatten(inner)),
            _ => out.push(item),
        }
    }
    out
}
