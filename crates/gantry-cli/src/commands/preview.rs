//! `gantry preview`: the fully merged configuration as YAML.

use crate::cli::{Cli, ContextArgs, OutputFormat};
use crate::output::print;
use crate::project::{EXIT_INVALID, Project, report};

pub fn preview(cli: &Cli, args: &ContextArgs) -> i32 {
    match Project::load(cli, args) {
        Ok(project) => {
            match args.output {
                OutputFormat::Text => print(&gantry_config::to_yaml(&project.config.merged)),
                OutputFormat::Json => print(&format!("{:#}\n", project.config.merged.to_json())),
            };
            std::mem::forget(project);
            0
        }
        Err(failure) => {
            report(&failure);
            EXIT_INVALID
        }
    }
}
