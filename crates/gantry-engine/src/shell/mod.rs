//! The shell executor: shell detection, the generated job script and the process that runs it.

mod interpreter;
mod process;
mod quote;
mod script;

pub(crate) use interpreter::Shell;
pub(crate) use process::{StepCommand, StepEnd, run_step};
pub(crate) use script::{render_container_script, render_script};
