//! Loading a project for a command: the configuration, the pipeline context and the plan.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use gantry_config::{Config, Diagnostic};
use gantry_plan::{ContextOptions, PipelineContext, Plan, UserVariable};
use gantry_yaml::{SourceFile, Value};

use crate::cli::{Cli, ContextArgs};

/// Exit code for an invalid configuration or invalid usage.
pub const EXIT_INVALID: i32 = 2;

/// A failure to load: diagnostics to print, then exit 2.
pub struct LoadFailure {
    pub errors: Vec<Diagnostic>,
    pub warnings: Vec<Diagnostic>,
}

impl From<Diagnostic> for LoadFailure {
    fn from(d: Diagnostic) -> Self {
        Self {
            errors: vec![d],
            warnings: Vec::new(),
        }
    }
}

/// A loaded project.
pub struct Project {
    pub dir: PathBuf,
    pub context: PipelineContext,
    pub config: Config,
}

/// Parses `KEY=VALUE`.
fn parse_assignment(text: &str, what: &str) -> Result<(String, String), Diagnostic> {
    match text.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
        _ => Err(Diagnostic::error(
            format!("invalid {what} `{text}`: expected KEY=VALUE"),
            None,
        )),
    }
}

/// Reads a variables file (YAML): `NAME: value` or `NAME: {value, masked, file, expand}`.
fn read_variables_file(path: &Path) -> Result<Vec<UserVariable>, Diagnostic> {
    let text = fs_err::read_to_string(path).map_err(|e| Diagnostic::error(e.to_string(), None))?;
    let file = SourceFile::new(path.display().to_string(), text);
    let node = gantry_yaml::load_document(file)
        .map_err(|e| Diagnostic::error(e.message, Some(&e.span)))?;
    let mut out = Vec::new();
    let Some(map) = node.as_map() else {
        if node.is_null() {
            return Ok(out);
        }
        return Err(Diagnostic::error(
            "a variables file must be a hash of NAME: value",
            Some(&node.span),
        ));
    };
    for (key, value) in &map.entries {
        let name = key.value.scalar_to_string().unwrap_or_default();
        let variable = match &value.value {
            Value::Map(spec) => {
                for (k, _) in &spec.entries {
                    let k = k.as_str().unwrap_or_default();
                    if !["value", "masked", "file", "expand", "description"].contains(&k) {
                        return Err(Diagnostic::error(
                            format!(
                                "variable {name}: unknown key `{k}` (known: value, masked, file, expand, description)"
                            ),
                            Some(&value.span),
                        ));
                    }
                }
                let flag = |k: &str, default: bool| match spec.get(k).map(|n| &n.value) {
                    Some(Value::Bool(b)) => *b,
                    _ => default,
                };
                UserVariable {
                    name: name.clone(),
                    value: spec
                        .get("value")
                        .and_then(|v| v.value.scalar_to_string())
                        .unwrap_or_default(),
                    masked: flag("masked", false),
                    file: flag("file", false),
                    raw: !flag("expand", true),
                }
            }
            Value::Seq(_) => {
                return Err(Diagnostic::error(
                    format!("variable {name}: the value must be a string or a hash"),
                    Some(&value.span),
                ));
            }
            other => UserVariable {
                name: name.clone(),
                value: other.scalar_to_string().unwrap_or_default(),
                masked: false,
                file: false,
                raw: false,
            },
        };
        if variable.masked {
            check_maskable(&variable).map_err(|m| Diagnostic::error(m, Some(&value.span)))?;
        }
        out.push(variable);
    }
    Ok(out)
}

/// GitLab's requirements on a masked value.
fn check_maskable(v: &UserVariable) -> Result<(), String> {
    if v.value.chars().count() < 8 {
        return Err(format!(
            "variable {}: a masked value must be at least 8 characters long",
            v.name
        ));
    }
    if v.value.contains('\n') {
        return Err(format!(
            "variable {}: a masked value must be a single line",
            v.name
        ));
    }
    Ok(())
}

impl Project {
    /// Loads the configuration and the pipeline context for `args`.
    pub fn load(cli: &Cli, args: &ContextArgs) -> Result<Self, LoadFailure> {
        let dir = cli.directory.clone().unwrap_or_else(|| PathBuf::from("."));
        if !dir.is_dir() {
            return Err(
                Diagnostic::error(format!("{}: no such directory", dir.display()), None).into(),
            );
        }
        let dir = dir.canonicalize().unwrap_or(dir);
        let mut variables = Vec::new();
        if let Some(file) = &args.variables_file {
            variables.extend(read_variables_file(file)?);
        }
        for assignment in &args.variables {
            let (name, value) = parse_assignment(assignment, "--variable")?;
            variables.retain(|v: &UserVariable| v.name != name);
            variables.push(UserVariable {
                name,
                value,
                masked: false,
                file: false,
                raw: false,
            });
        }
        let mut mappings = BTreeMap::new();
        for mapping in &args.project_dirs {
            let (project, path) = parse_assignment(mapping, "--project-dir")?;
            mappings.insert(project, PathBuf::from(path));
        }
        let options = ContextOptions {
            project_dir: dir.clone(),
            config_path: cli.file.clone(),
            branch: args.branch.clone(),
            tag: args.tag.clone(),
            source: args.source.clone(),
            variables,
            registry: args.registry.clone(),
        };
        let context = PipelineContext::new(&options);
        // Include locations and include rules see user and predefined variables, not YAML ones.
        let lookup = |name: &str| -> Option<String> {
            context
                .user_variables
                .iter()
                .rev()
                .find(|v| v.name == name)
                .map(|v| v.value.clone())
                .or_else(|| {
                    context
                        .predefined
                        .iter()
                        .find(|(k, _)| k == name)
                        .map(|(_, v)| v.clone())
                })
        };
        let cache = remote_cache_dir();
        let load_options = gantry_config::LoadOptions {
            project_dir: &dir,
            config_file: &cli.file,
            project_mappings: &mappings,
            variables: &lookup,
            remote_cache: cache.as_deref(),
        };
        let config = gantry_config::load(&load_options).map_err(|e| LoadFailure {
            errors: e.errors,
            warnings: e.warnings,
        })?;
        Ok(Self {
            dir,
            context,
            config,
        })
    }

    pub fn plan(&self) -> Result<Plan, LoadFailure> {
        gantry_plan::plan(&self.config, &self.context).map_err(|e| LoadFailure {
            errors: e.errors,
            warnings: Vec::new(),
        })
    }
}

/// Where remote includes are cached: `$XDG_CACHE_HOME/gantry/remote` or `~/.cache/gantry/remote`.
fn remote_cache_dir() -> Option<PathBuf> {
    let base = std::env::var_os("GANTRY_CACHE_DIR")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("XDG_CACHE_HOME").map(|p| PathBuf::from(p).join("gantry")))
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/gantry")))?;
    Some(base.join("remote"))
}

/// Prints diagnostics to stderr.
pub fn report(failure: &LoadFailure) {
    let color = crate::output::color_stderr();
    let mut text = String::new();
    for d in failure.warnings.iter().chain(&failure.errors) {
        text.push_str(&d.render(color));
    }
    if failure.errors.len() > 1 {
        let _ = writeln!(text, "{} errors", failure.errors.len());
    }
    eprint!("{text}");
}
