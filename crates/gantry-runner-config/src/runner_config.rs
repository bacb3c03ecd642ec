//! `RunnerConfig`: what Gantry takes from a `config.toml` — the first `[[runners]]` entry's
//! executor, `environment` and `[runners.docker]`.

use std::path::{Path, PathBuf};

use gantry_engine::DockerOptions;
use toml::de::{DeTable, DeValue};

use crate::config_diagnostic::ConfigDiagnostic;
use crate::docker_section::read_docker;
use crate::table_reader::{TableReader, get};

const GLOBAL_KEYS: &[&str] = &[
    "concurrent",
    "check_interval",
    "log_level",
    "log_format",
    "listen_address",
    "shutdown_timeout",
    "connection_max_age",
    "sentry_dsn",
    "user",
    "labels",
    "session_server",
    "runners",
];

const RUNNER_SUPPORTED: &[&str] = &["name", "executor", "environment", "docker"];

/// Keys of `[[runners]]` that only matter to a registered runner talking to GitLab.
const RUNNER_QUIET: &[&str] = &[
    "url",
    "id",
    "token",
    "token_obtained_at",
    "token_expires_at",
    "tls-ca-file",
    "tls-cert-file",
    "tls-key-file",
    "limit",
    "request_concurrency",
    "strict_check_interval",
    "unhealthy_requests_limit",
    "unhealthy_interval",
    "job_status_final_update_retry_limit",
    "clone_url",
    "shell",
    "output_limit",
    "builds_dir",
    "cache_dir",
    "pre_get_sources_script",
    "post_get_sources_script",
    "pre_build_script",
    "post_build_script",
    "prepare_timeout",
    "get_sources_timeout",
    "debug_trace_disabled",
    "clean_git_config",
    "safe_directory_checkout",
    "feature_flags",
    "custom_build_dir",
    "artifact",
    "cache",
    "kubernetes",
    "machine",
    "autoscaler",
    "custom",
    "ssh",
    "parallels",
    "virtualbox",
    "instance",
    "referees",
];

/// The settings read from a `config.toml`.
#[derive(Clone, Debug, Default)]
pub struct RunnerConfig {
    /// The file, when one was read.
    pub path: Option<PathBuf>,
    /// `name` of the runner entry used.
    pub name: Option<String>,
    /// `executor` (`shell`, `docker`, ...).
    pub executor: Option<String>,
    /// `environment`: `KEY=value` entries added to every job.
    pub environment: Vec<(String, String)>,
    /// `[runners.docker]`.
    pub docker: DockerOptions,
    /// Unknown or ignored keys.
    pub warnings: Vec<ConfigDiagnostic>,
}

/// A configuration that cannot be used: every error found, plus the warnings.
#[derive(Clone, Debug)]
pub struct ConfigError {
    pub errors: Vec<ConfigDiagnostic>,
    pub warnings: Vec<ConfigDiagnostic>,
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, e) in self.errors.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigError {}

impl RunnerConfig {
    /// Reads and validates `path`.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = fs_err::read_to_string(path).map_err(|e| ConfigError {
            errors: vec![ConfigDiagnostic {
                path: path.to_path_buf(),
                line: 0,
                column: 0,
                message: format!("cannot read the runner configuration: {e}"),
            }],
            warnings: Vec::new(),
        })?;
        Self::parse(path, &text)
    }

    /// Validates `text`, read from `path`.
    pub fn parse(path: &Path, text: &str) -> Result<Self, ConfigError> {
        let mut reader = TableReader::new(path, text);
        let document = match DeTable::parse(text) {
            Ok(d) => d,
            Err(e) => {
                let offset = e.span().map_or(0, |s| s.start);
                reader.error(offset, format!("invalid TOML: {}", e.message().trim()));
                return Err(ConfigError {
                    errors: reader.errors,
                    warnings: reader.warnings,
                });
            }
        };
        let root = document.get_ref();
        reader.check_keys(root, "config.toml", GLOBAL_KEYS, &[], &[]);
        let mut config = RunnerConfig {
            path: Some(path.to_path_buf()),
            ..RunnerConfig::default()
        };
        if let Some(runners) = get(root, "runners") {
            match runners.get_ref() {
                DeValue::Array(items) => {
                    if items.len() > 1 {
                        reader.warn(
                            runners.span().start,
                            format!(
                                "{} [[runners]] entries: gantry uses the first one",
                                items.len()
                            ),
                        );
                    }
                    if let Some(first) = items.first() {
                        match first.get_ref() {
                            DeValue::Table(t) => read_runner(&mut reader, t, &mut config),
                            _ => reader.error(
                                first.span().start,
                                "[[runners]] entries must be tables".into(),
                            ),
                        }
                    }
                }
                DeValue::Table(t) => read_runner(&mut reader, t, &mut config),
                _ => reader.error(
                    runners.span().start,
                    "`runners` must be an array of tables ([[runners]])".into(),
                ),
            }
        }
        reader.errors.sort_by_key(|d| (d.line, d.column));
        reader.warnings.sort_by_key(|d| (d.line, d.column));
        if reader.errors.is_empty() {
            config.warnings = reader.warnings;
            Ok(config)
        } else {
            Err(ConfigError {
                errors: reader.errors,
                warnings: reader.warnings,
            })
        }
    }
}

fn read_runner(reader: &mut TableReader<'_>, table: &DeTable<'_>, config: &mut RunnerConfig) {
    reader.check_keys(table, "[[runners]]", RUNNER_SUPPORTED, &[], RUNNER_QUIET);
    config.name = get(table, "name").and_then(|v| reader.string(v, "name"));
    if let Some(v) = get(table, "executor") {
        config.executor = reader.string(v, "executor");
        if let Some(e) = &config.executor
            && !matches!(e.as_str(), "shell" | "docker")
        {
            reader.error(
                v.span().start,
                format!("executor {e:?} is not supported by gantry (use \"shell\" or \"docker\")"),
            );
        }
    }
    if let Some(v) = get(table, "environment") {
        for entry in reader.strings(v, "environment").unwrap_or_default() {
            match entry.split_once('=') {
                Some((k, val)) if !k.is_empty() => {
                    config.environment.push((k.to_owned(), val.to_owned()));
                }
                _ => reader.error(
                    v.span().start,
                    format!("invalid environment entry {entry:?} (expected KEY=value)"),
                ),
            }
        }
    }
    if let Some(v) = get(table, "docker") {
        match v.get_ref() {
            DeValue::Table(t) => config.docker = read_docker(reader, t),
            _ => reader.error(v.span().start, "[runners.docker] must be a table".into()),
        }
    }
}
