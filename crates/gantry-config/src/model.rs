//! The typed configuration: what the validated YAML means, independent of any pipeline context.

use gantry_yaml::{Node, Span};

/// A variable as written in `variables:` (top level, job, rules or workflow rules).
#[derive(Debug, Clone)]
pub struct Variable {
    pub name: String,
    pub value: String,
    /// `expand: false` makes the value raw: `$X` in it stays literal.
    pub expand: bool,
    pub description: Option<String>,
    pub options: Vec<String>,
}

/// `when:` of a job or rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum When {
    OnSuccess,
    OnFailure,
    Always,
    Manual,
    Delayed,
    Never,
}

impl When {
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "on_success" => Self::OnSuccess,
            "on_failure" => Self::OnFailure,
            "always" => Self::Always,
            "manual" => Self::Manual,
            "delayed" => Self::Delayed,
            "never" => Self::Never,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::OnSuccess => "on_success",
            Self::OnFailure => "on_failure",
            Self::Always => "always",
            Self::Manual => "manual",
            Self::Delayed => "delayed",
            Self::Never => "never",
        }
    }
}

/// `allow_failure:` — a boolean, or the exit codes that are tolerated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AllowFailure {
    Bool(bool),
    ExitCodes(Vec<i64>),
}

/// `retry:`.
#[derive(Debug, Clone, Default)]
pub struct Retry {
    pub max: u32,
    pub when: Vec<String>,
    pub exit_codes: Vec<i64>,
}

/// A `parallel:matrix`: each entry the variables in key order, each with its values.
pub type Matrix = Vec<Vec<(String, Vec<String>)>>;

/// One entry of `needs:`.
#[derive(Debug, Clone)]
pub struct Need {
    pub job: String,
    pub artifacts: bool,
    pub optional: bool,
    /// `parallel:matrix` subset of the needed job's instances.
    pub matrix: Option<Matrix>,
    /// Needs on other projects or pipelines cannot be satisfied locally; kept for display.
    pub cross_project: bool,
    pub span: Span,
}

/// A `rules:changes` or `rules:exists` clause.
#[derive(Debug, Clone, Default)]
pub struct PathsClause {
    pub paths: Vec<String>,
    pub compare_to: Option<String>,
}

/// One entry of `rules:`.
#[derive(Debug, Clone)]
pub struct Rule {
    pub if_expr: Option<(String, gantry_expr::expression::Expression)>,
    pub changes: Option<PathsClause>,
    pub exists: Option<PathsClause>,
    pub when: Option<When>,
    pub start_in: Option<String>,
    pub allow_failure: Option<AllowFailure>,
    pub needs: Option<Vec<Need>>,
    pub variables: Vec<Variable>,
    pub interruptible: Option<bool>,
    pub span: Span,
}

/// `only:` or `except:`.
#[derive(Debug, Clone, Default)]
pub struct OnlyExcept {
    pub refs: Option<Vec<String>>,
    pub variables: Option<Vec<(String, gantry_expr::expression::Expression)>>,
    pub changes: Option<Vec<String>>,
    pub kubernetes: Option<String>,
}

/// `image:`.
#[derive(Debug, Clone, Default)]
pub struct Image {
    pub name: String,
    pub entrypoint: Option<Vec<String>>,
    pub pull_policy: Vec<String>,
    pub platform: Option<String>,
    pub user: Option<String>,
}

/// One entry of `services:`.
#[derive(Debug, Clone, Default)]
pub struct Service {
    pub name: String,
    pub alias: Option<String>,
    pub entrypoint: Option<Vec<String>>,
    pub command: Option<Vec<String>>,
    pub variables: Vec<Variable>,
    pub pull_policy: Vec<String>,
}

/// `artifacts:`.
#[derive(Debug, Clone, Default)]
pub struct Artifacts {
    pub name: Option<String>,
    pub paths: Vec<String>,
    pub exclude: Vec<String>,
    pub untracked: bool,
    pub when: Option<String>,
    pub expire_in: Option<String>,
    pub expose_as: Option<String>,
    pub dotenv: Vec<String>,
    pub junit: Vec<String>,
    /// Every other report type, by name, with its paths.
    pub other_reports: Vec<(String, Vec<String>)>,
}

/// How a cache key is computed.
#[derive(Debug, Clone)]
pub enum CacheKey {
    Literal(String),
    Files {
        files: Vec<String>,
        prefix: Option<String>,
    },
}

/// One entry of `cache:`.
#[derive(Debug, Clone)]
pub struct Cache {
    pub key: CacheKey,
    pub paths: Vec<String>,
    pub untracked: bool,
    pub policy: String,
    pub when: String,
    pub fallback_keys: Vec<String>,
    pub unprotect: bool,
}

/// `parallel:`.
#[derive(Debug, Clone)]
pub enum Parallel {
    Count(u32),
    /// Each entry: the variables in key order, each with its values.
    Matrix(Matrix),
}

/// `inherit:default` / `inherit:variables`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Inherit {
    All,
    None,
    Only(Vec<String>),
}

impl Inherit {
    pub fn allows(&self, name: &str) -> bool {
        match self {
            Self::All => true,
            Self::None => false,
            Self::Only(list) => list.iter().any(|n| n == name),
        }
    }
}

/// A visible job, validated and merged (`extends`, `default:`, `!reference` applied).
#[derive(Debug, Clone)]
pub struct Job {
    pub name: String,
    /// Where the job's key is written.
    pub span: Span,
    pub stage: String,
    pub before_script: Vec<String>,
    pub script: Vec<String>,
    pub after_script: Vec<String>,
    pub image: Option<Image>,
    pub services: Vec<Service>,
    pub variables: Vec<Variable>,
    pub inherit_variables: Inherit,
    pub rules: Option<Vec<Rule>>,
    pub only: Option<OnlyExcept>,
    pub except: Option<OnlyExcept>,
    pub needs: Option<Vec<Need>>,
    pub dependencies: Option<Vec<String>>,
    pub artifacts: Option<Artifacts>,
    pub cache: Vec<Cache>,
    pub when: Option<When>,
    pub start_in: Option<String>,
    pub allow_failure: Option<AllowFailure>,
    pub retry: Option<Retry>,
    pub timeout: Option<String>,
    pub parallel: Option<Parallel>,
    pub trigger: Option<Node>,
    pub environment: Option<String>,
    pub tags: Vec<String>,
    pub interruptible: Option<bool>,
    pub resource_group: Option<String>,
    pub coverage: Option<String>,
    /// Where `stage:` is written, when it is.
    pub stage_span: Option<Span>,
}

/// `workflow:`.
#[derive(Debug, Clone, Default)]
pub struct Workflow {
    pub rules: Option<Vec<Rule>>,
    pub name: Option<String>,
}
