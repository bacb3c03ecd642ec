//! Command-line definitions (clap).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Run GitLab CI pipelines locally, faithfully and fast.
#[derive(Debug, Parser)]
#[command(name = "gantry", version, about, max_term_width = 100)]
pub struct Cli {
    /// Run as if started in DIR.
    #[arg(short = 'C', long = "directory", global = true, value_name = "DIR")]
    pub directory: Option<PathBuf>,

    /// The CI configuration file, relative to the project directory.
    #[arg(
        short = 'f',
        long = "file",
        global = true,
        value_name = "FILE",
        default_value = ".gitlab-ci.yml"
    )]
    pub file: String,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check the configuration: syntax, keywords, includes, extends, needs, rules.
    Lint(ContextArgs),
    /// List the jobs the pipeline would create, in stage order.
    List(ContextArgs),
    /// Print the fully merged configuration (includes, extends and !reference resolved).
    Preview(ContextArgs),
    /// Run the pipeline (or the named jobs) with the shell or docker executor.
    Run(RunArgs),
    /// Remove the containers, networks and volumes crashed runs left (and, with --all, the
    /// project's .gantry state).
    Clean(CleanArgs),
    /// Build, push, pull, copy, tag and inspect container images without a Docker daemon.
    Image(crate::commands::image::ImageArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    Text,
    Json,
}

/// The pipeline context: which ref, which source, which variables.
#[derive(Debug, Clone, Args)]
pub struct ContextArgs {
    /// Evaluate the pipeline for this branch (default: the checked-out branch).
    #[arg(long = "ref", value_name = "BRANCH", conflicts_with = "tag")]
    pub branch: Option<String>,

    /// Evaluate the pipeline for this tag.
    #[arg(long, value_name = "TAG")]
    pub tag: Option<String>,

    /// The pipeline source (`CI_PIPELINE_SOURCE`): push, web, schedule, `merge_request_event`, ...
    #[arg(long, value_name = "SOURCE")]
    pub source: Option<String>,

    /// Set a pipeline variable (highest precedence). Repeatable.
    #[arg(long = "variable", short = 'v', value_name = "KEY=VALUE")]
    pub variables: Vec<String>,

    /// Read project variables from a YAML file: `NAME: value` or
    /// `NAME: {value: ..., masked: true, file: true, expand: false}`.
    #[arg(long = "variables-file", value_name = "FILE")]
    pub variables_file: Option<PathBuf>,

    /// Container registry host: sets `CI_REGISTRY`, `CI_REGISTRY_IMAGE` and the registry credentials.
    #[arg(long, value_name = "HOST")]
    pub registry: Option<String>,

    /// Map an `include:project` path to a local checkout. Repeatable.
    #[arg(long = "project-dir", value_name = "GROUP/PROJECT=PATH")]
    pub project_dirs: Vec<String>,

    /// Output format.
    #[arg(long, short = 'o', value_enum, default_value_t = OutputFormat::Text)]
    pub output: OutputFormat,
}

#[derive(Debug, Clone, Args)]
pub struct RunArgs {
    /// Jobs to run (default: the whole pipeline). Manual jobs run only when named.
    #[arg(value_name = "JOB")]
    pub jobs: Vec<String>,

    /// With named jobs: also run what they need, transitively.
    #[arg(long)]
    pub needs: bool,

    /// Run only the jobs of this stage. Repeatable.
    #[arg(long = "stage", value_name = "STAGE")]
    pub stages: Vec<String>,

    /// How many jobs run at once (default: the number of CPUs).
    #[arg(long, short = 'j', value_name = "N")]
    pub concurrency: Option<usize>,

    /// The executor (default: `executor` of the runner configuration, else shell).
    #[arg(long, value_enum, value_name = "EXECUTOR")]
    pub executor: Option<ExecutorKind>,

    /// The runner configuration (gitlab-runner's config.toml; default: .gantry/config.toml,
    /// then ~/.gantry/config.toml).
    #[arg(long = "config", value_name = "FILE")]
    pub config: Option<PathBuf>,

    #[command(flatten)]
    pub context: ContextArgs,
}

/// Where jobs run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExecutorKind {
    /// In a shell on this machine.
    Shell,
    /// In containers of a Docker-compatible engine (`DOCKER_HOST`, or the local socket).
    Docker,
}

#[derive(Debug, Clone, Args)]
pub struct CleanArgs {
    /// Also remove the project's .gantry directory (logs, artifacts, job copies) and the
    /// volumes kept between jobs.
    #[arg(long)]
    pub all: bool,

    /// Clean resources of every project, not just this one.
    #[arg(long)]
    pub all_projects: bool,

    /// Also remove resources of gantry runs that are still running.
    #[arg(long)]
    pub force: bool,

    /// The runner configuration, for the engine's address (see `gantry run --config`).
    #[arg(long = "config", value_name = "FILE")]
    pub config: Option<PathBuf>,
}

pub fn parse() -> Cli {
    Cli::parse()
}
