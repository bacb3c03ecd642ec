//! One module per subcommand; `dispatch` maps the parsed command line to them.

mod lint;
mod list;
mod preview;
mod run;

use crate::cli::{Cli, Command};

/// Runs the command and returns the process exit code.
pub fn dispatch(cli: Cli) -> i32 {
    match &cli.command {
        Command::Lint(args) => lint::lint(&cli, args),
        Command::List(args) => list::list(&cli, args),
        Command::Preview(args) => preview::preview(&cli, args),
        Command::Run(args) => run::run(&cli, args),
    }
}
