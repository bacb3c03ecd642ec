//! `gantry lint`: validate the configuration (and the pipeline it creates for the context).

use gantry_config::Diagnostic;
use serde_json::json;

use crate::cli::{Cli, ContextArgs, OutputFormat};
use crate::output::print;
use crate::project::{EXIT_INVALID, LoadFailure, Project, report};

fn diagnostic_json(d: &Diagnostic) -> serde_json::Value {
    json!({
        "message": d.message,
        "file": d.span.as_ref().map(|s| s.file.name.clone()),
        "line": d.span.as_ref().map(|s| s.line),
        "column": d.span.as_ref().map(|s| s.column),
        "help": d.help,
    })
}

pub fn lint(cli: &Cli, args: &ContextArgs) -> i32 {
    let result = Project::load(cli, args).and_then(|project| {
        let plan = project.plan()?;
        Ok((project, plan))
    });
    match (result, args.output) {
        (Ok((project, plan)), OutputFormat::Json) => {
            let warnings: Vec<_> = project
                .config
                .warnings
                .iter()
                .chain(&plan.warnings)
                .collect();
            let value = json!({
                "valid": true,
                "errors": [],
                "warnings": warnings.iter().map(|w| w.message.clone()).collect::<Vec<_>>(),
                "diagnostics": warnings.iter().map(|w| diagnostic_json(w)).collect::<Vec<_>>(),
                "merged_yaml": gantry_config::to_yaml(&project.config.merged),
                "includes": project.config.includes.iter().map(|i| json!({
                    "type": i.kind,
                    "location": i.location,
                })).collect::<Vec<_>>(),
            });
            print(&format!("{value:#}\n"));
            0
        }
        (Ok((project, plan)), OutputFormat::Text) => {
            let color = crate::output::color_stderr();
            for w in project.config.warnings.iter().chain(&plan.warnings) {
                eprint!("{}", w.render(color));
            }
            let jobs = project.config.jobs.len();
            print(&format!(
                "{} is valid: {jobs} job{} defined, {} in this pipeline\n",
                cli.file,
                if jobs == 1 { "" } else { "s" },
                plan.jobs.len()
            ));
            0
        }
        (Err(failure), OutputFormat::Json) => {
            print_failure_json(&failure);
            EXIT_INVALID
        }
        (Err(failure), OutputFormat::Text) => {
            report(&failure);
            EXIT_INVALID
        }
    }
}

/// The lint JSON document for an invalid configuration.
pub fn print_failure_json(failure: &LoadFailure) {
    let value = json!({
        "valid": false,
        "errors": failure.errors.iter().map(|e| e.message.clone()).collect::<Vec<_>>(),
        "warnings": failure.warnings.iter().map(|w| w.message.clone()).collect::<Vec<_>>(),
        "diagnostics": failure.errors.iter().chain(&failure.warnings).map(diagnostic_json).collect::<Vec<_>>(),
    });
    print(&format!("{value:#}\n"));
}
