//! A configuration evaluated for one pipeline.
//!
//! Given a validated [`gantry_config::Config`] and a pipeline context (ref or tag, source, git
//! facts, user variables), this crate decides which jobs the pipeline creates (`workflow:rules`,
//! `rules`, `only`/`except`), expands `parallel`, resolves `needs` to concrete jobs and computes
//! each job's variables with GitLab's precedence. A [`Plan`] is plain data: `gantry list`
//! prints it, `gantry run` executes it.

mod context;
mod git;
mod parallel;
mod plan;
mod rules;
mod variables;

pub use context::{ContextOptions, PipelineContext, UserVariable, slug};
pub use git::{GitFacts, parse_remote, sha_hex};
pub use parallel::{Instance, expand as expand_parallel, matrix_combinations};
pub use plan::{Plan, PlanErrors, PlannedJob, PlannedNeed, plan};
pub use variables::{JobRuntime, Lookup, Origin, ResolvedVariable, job_variables};
