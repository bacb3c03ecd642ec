//! The `gantry` binary: a thin shell over the library crates.

mod cli;
mod commands;
mod output;
mod project;
mod state;
mod status_line;

fn main() {
    let code = commands::dispatch(&cli::parse());
    std::process::exit(code);
}
