//! One module per subcommand; `dispatch` maps the parsed command line to them.

mod clean;
pub(crate) mod image;
mod lint;
mod list;
mod preview;
mod run;

use crate::cli::{Cli, Command};

/// Runs the command and returns the process exit code.
pub fn dispatch(cli: &Cli) -> i32 {
    match &cli.command {
        Command::Lint(args) => lint::lint(cli, args),
        Command::List(args) => list::list(cli, args),
        Command::Preview(args) => preview::preview(cli, args),
        Command::Run(args) => run::run(cli, args),
        Command::Clean(args) => clean::clean(cli, args),
        Command::Image(args) => image::image(cli, args),
    }
}
