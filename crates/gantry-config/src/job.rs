//! Validation and typing of one job entry.

use gantry_yaml::{Node, Span, Value};

use crate::keyword::Checker;
use crate::model::{Inherit, Job, When};

/// Every keyword a job may use.
pub const JOB_KEYWORDS: &[&str] = &[
    "script",
    "before_script",
    "after_script",
    "run",
    "stage",
    "image",
    "services",
    "variables",
    "extends",
    "inherit",
    "rules",
    "only",
    "except",
    "needs",
    "dependencies",
    "artifacts",
    "cache",
    "when",
    "start_in",
    "manual_confirmation",
    "allow_failure",
    "retry",
    "timeout",
    "parallel",
    "trigger",
    "environment",
    "release",
    "coverage",
    "interruptible",
    "resource_group",
    "tags",
    "secrets",
    "id_tokens",
    "identity",
    "hooks",
    "pages",
    "dast_configuration",
];

/// Keywords a trigger job may use.
const TRIGGER_KEYWORDS: &[&str] = &[
    "allow_failure",
    "extends",
    "needs",
    "only",
    "except",
    "parallel",
    "rules",
    "stage",
    "trigger",
    "variables",
    "when",
    "resource_group",
    "environment",
    "interruptible",
    "inherit",
];

/// GitLab humanizes a job name used as an attribute: `_` becomes a space, a trailing `_id` is
/// dropped; the message is lowercased afterwards.
fn humanize(name: &str) -> String {
    let trimmed = name.strip_suffix("_id").unwrap_or(name);
    trimmed.replace('_', " ")
}

/// Validates one job hash (already merged with `extends`, `default:` and `!reference`).
pub fn parse_job(
    name: &str,
    key_span: &Span,
    node: &Node,
    defaults: &[(Node, Node)],
    check: &mut Checker<'_>,
) -> Option<Job> {
    let path = format!("jobs:{name}");
    // A value that is not a hash matches no kind of job: GitLab reports it like a job
    // without `script`.
    let Some(map) = node.as_map() else {
        let _ = check.fail::<()>(
            format!(
                "jobs {} config should implement the script:, run:, or trigger: keyword",
                humanize(name)
            ),
            node,
        );
        return None;
    };
    if name.chars().count() > 255 {
        let _ = check.fail::<()>(
            format!("{path} name is too long (maximum is 255 characters)"),
            &Node::new(Value::Null, key_span.clone()),
        );
        return None;
    }
    let is_trigger = map.contains_key("trigger");
    if !(map.contains_key("script") || map.contains_key("run") || is_trigger) {
        let _ = check.fail::<()>(
            format!(
                "jobs {} config should implement the script:, run:, or trigger: keyword",
                humanize(name)
            ),
            node,
        );
        return None;
    }
    for pair in [["script", "trigger"], ["run", "trigger"], ["script", "run"]] {
        if pair.iter().all(|k| map.contains_key(k)) {
            let _ = check.fail::<()>(
                format!(
                    "{path} config these keys cannot be used together: {}",
                    pair.join(", ")
                ),
                node,
            );
            return None;
        }
    }
    let known = if is_trigger {
        TRIGGER_KEYWORDS
    } else {
        JOB_KEYWORDS
    };
    check.check_keys(&path, node, known).ok()?;
    if map.contains_key("rules") {
        for key in ["only", "except", "start_in"] {
            if let Some(n) = map.get_entry(key).map(|(k, _)| k) {
                let _ = check.fail::<()>(
                    format!("{path} config key may not be used with `rules`: {key}"),
                    n,
                );
                return None;
            }
        }
    }
    // `default:` keywords fill what the job (after `extends`) does not set, unless `inherit`
    // says otherwise; trigger jobs take no defaults.
    let inherit_default = match map
        .get("inherit")
        .and_then(Node::as_map)
        .and_then(|m| m.get("default"))
        .map(|v| &v.value)
    {
        Some(Value::Bool(false)) => Inherit::None,
        Some(Value::Seq(items)) => Inherit::Only(
            items
                .iter()
                .filter_map(|i| i.as_str().map(str::to_string))
                .collect(),
        ),
        _ => Inherit::All,
    };
    let lookup = |key: &str| -> Option<&Node> {
        map.get(key).or_else(|| {
            if is_trigger || !inherit_default.allows(key) {
                return None;
            }
            defaults
                .iter()
                .find(|(k, _)| k.as_str() == Some(key))
                .map(|(_, v)| v)
        })
    };
    let mut failed = false;
    macro_rules! field {
        ($key:literal, $parse:expr) => {
            match lookup($key) {
                Some(n) if !n.is_null() => match $parse(n) {
                    Ok(v) => Some(v),
                    Err(()) => {
                        failed = true;
                        None
                    }
                },
                _ => None,
            }
        };
    }
    let stage = field!("stage", |n| {
        let s = check.string(&format!("{path}:stage"), n)?;
        if s.chars().count() > 255 {
            return check.fail(
                format!("{path}:stage config is too long (maximum is 255 characters)"),
                n,
            );
        }
        Ok(s)
    })
    .unwrap_or_else(|| "test".to_string());
    let script =
        field!("script", |n| check.script(&format!("{path}:script"), n)).unwrap_or_default();
    let before_script = field!("before_script", |n| check
        .script(&format!("{path}:before_script"), n))
    .unwrap_or_default();
    let after_script = field!("after_script", |n| check
        .script(&format!("{path}:after_script"), n))
    .unwrap_or_default();
    let image = field!("image", |n| check.image(&path, n));
    let services = field!("services", |n| check.services(&path, n)).unwrap_or_default();
    let variables = field!("variables", |n| check.variables(
        &format!("{path}:variables"),
        n,
        false
    ))
    .unwrap_or_default();
    let inherit = field!("inherit", |n| check.inherit(&path, n));
    let rules = field!("rules", |n| check.rules(&path, n, false));
    let only = field!("only", |n| check.only_except(&format!("{path}:only"), n));
    let except = field!("except", |n| check
        .only_except(&format!("{path}:except"), n));
    let needs = field!("needs", |n| check.needs(&path, n));
    let dependencies = field!("dependencies", |n: &Node| match &n.value {
        Value::Seq(items) if items.iter().all(|i| i.as_str().is_some()) => Ok(items
            .iter()
            .filter_map(|i| i.as_str().map(str::to_string))
            .collect::<Vec<String>>()),
        _ => check.fail(
            format!("{path} dependencies should be an array of strings"),
            n
        ),
    });
    let artifacts = field!("artifacts", |n| check.artifacts(&path, n));
    let cache = field!("cache", |n| check.cache(&path, n)).unwrap_or_default();
    let when = field!("when", |n| check.when(
        &path,
        n,
        &[
            When::OnSuccess,
            When::OnFailure,
            When::Always,
            When::Manual,
            When::Delayed
        ]
    ));
    // `start_in`: a duration of at most a week for a delayed job, absent otherwise.
    let start_in = map.get("start_in").filter(|n| !n.is_null());
    if when == Some(When::Delayed) && rules.is_none() {
        if let Some(n) = start_in {
            let text = n.value.scalar_to_string().unwrap_or_default();
            if check
                .duration_within(&path, "start in", n, &text, crate::keyword::WEEK)
                .is_err()
            {
                failed = true;
            }
        } else {
            let _ = check.fail::<()>(format!("{path} start in should be a duration"), node);
            failed = true;
        }
    } else if let Some(n) = start_in {
        let _ = check.fail::<()>(format!("{path} start in must be blank"), n);
        failed = true;
    }
    let start_in = start_in.and_then(|n| n.value.scalar_to_string());
    let allow_failure = field!("allow_failure", |n| check.allow_failure(&path, n));
    let retry = field!("retry", |n| check.retry(&path, n));
    let timeout = field!("timeout", |n: &Node| {
        let text = n.value.scalar_to_string().unwrap_or_default();
        if matches!(n.value, Value::Str(_)) && gantry_expr::parse_finite_duration(&text).is_ok() {
            Ok(text)
        } else {
            check.fail(format!("{path} timeout should be a duration"), n)
        }
    });
    let parallel = field!("parallel", |n| check.parallel(&path, n));
    let environment = field!("environment", |n: &Node| match &n.value {
        Value::Str(s) => Ok(s.clone()),
        Value::Map(m)
            if check
                .check_keys(
                    &format!("{path}:environment"),
                    n,
                    &[
                        "name",
                        "url",
                        "action",
                        "on_stop",
                        "auto_stop_in",
                        "kubernetes",
                        "deployment_tier"
                    ]
                )
                .is_err() =>
            Err(()),
        Value::Map(m) => m
            .get("name")
            .and_then(|v| v.value.scalar_to_string())
            .map_or_else(
                || check.fail(format!("{path}:environment config must have a name"), n),
                Ok
            ),
        _ => check.fail(
            format!("{path}:environment config should be a hash or a string"),
            n
        ),
    });
    let tags = field!("tags", |n| {
        let tags = check.string_list(&format!("{path}:tags"), n)?;
        if tags.len() >= 50 {
            return check.fail(
                format!("{path}:tags config must be less than the limit of 50 tags"),
                n,
            );
        }
        Ok(tags)
    })
    .unwrap_or_default();
    let interruptible = field!("interruptible", |n| check
        .boolean(&format!("{path}:interruptible"), n));
    let resource_group = field!("resource_group", |n: &Node| match n.as_str() {
        Some(s) => Ok(s.to_string()),
        None => check.fail(format!("{path} resource group should be a string"), n),
    });
    let coverage = field!("coverage", |n: &Node| match n.as_str() {
        Some(s) if gantry_expr::UntrustedRegexp::from_ruby_syntax(s).is_ok() => Ok(s.to_string()),
        _ => check.fail(
            format!("{path}:coverage config must be a regular expression with re2 syntax"),
            n
        ),
    });
    if let (Some(deps), Some(needs)) = (&dependencies, &needs) {
        let missing: Vec<&str> = deps
            .iter()
            .filter(|d| !needs.iter().any(|n| &n.job == *d))
            .map(String::as_str)
            .collect();
        if !missing.is_empty() {
            let _ = check.fail::<()>(
                format!(
                    "{path} dependencies the {} should be part of needs",
                    missing.join(", ")
                ),
                node,
            );
            failed = true;
        }
    }
    if failed {
        return None;
    }
    Some(Job {
        name: name.to_string(),
        span: key_span.clone(),
        stage,
        before_script,
        script,
        after_script,
        image,
        services,
        variables,
        inherit_variables: inherit.map_or(Inherit::All, |(_, v)| v),
        rules,
        only,
        except,
        needs,
        dependencies,
        artifacts,
        cache,
        when,
        start_in,
        allow_failure,
        retry,
        timeout,
        parallel,
        trigger: map.get("trigger").cloned(),
        environment,
        tags,
        interruptible,
        resource_group,
        coverage,
        stage_span: map.get("stage").map(|n| n.span.clone()),
    })
}
