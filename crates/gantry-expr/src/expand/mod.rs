//! Variable expansion: the runner's single `os.Expand` pass, the server's `$X`/`${X}`/`%X%`
//! pass, and the dependency-ordered expansion of a whole variable set.

mod collection;
mod runner;
mod server;

pub use collection::{
    ExpandedVariables, VarDef, expand_server_values, expand_variable_defs, expand_variables,
};
pub use runner::expand_runner;
pub use server::{ServerExpandOptions, ServerVar, expand_server, expand_server_with};
