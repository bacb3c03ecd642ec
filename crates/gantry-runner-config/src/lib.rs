//! Reads gitlab-runner's `config.toml` for Gantry: the executor, the runner's `environment`, and
//! `[runners.docker]` as the engine's [`gantry_engine::DockerOptions`]. Unknown keys are
//! warnings, invalid values are errors; both name the file, line and column.

mod config_diagnostic;
mod config_locator;
mod docker_section;
mod runner_config;
mod table_reader;
mod units;

pub use config_diagnostic::ConfigDiagnostic;
pub use config_locator::locate_config;
pub use runner_config::{ConfigError, RunnerConfig};
pub use units::{parse_cpus, parse_size};
