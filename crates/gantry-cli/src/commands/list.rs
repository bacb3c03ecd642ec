//! `gantry list`: the jobs the pipeline would create, in stage order.

use std::fmt::Write as _;

use serde_json::json;

use crate::cli::{Cli, ContextArgs, OutputFormat};
use crate::output::print;
use crate::project::{EXIT_INVALID, Project, report};

pub fn list(cli: &Cli, args: &ContextArgs) -> i32 {
    let loaded = Project::load(cli, args).and_then(|p| {
        let plan = p.plan()?;
        Ok((p, plan))
    });
    let (project, plan) = match loaded {
        Ok(ok) => ok,
        Err(failure) => {
            if args.output == OutputFormat::Json {
                super::lint::print_failure_json(&failure);
            } else {
                report(&failure);
            }
            return EXIT_INVALID;
        }
    };
    // Warnings (trigger jobs left out, `rules:when` without `workflow:rules`, ...) go to
    // stderr; stdout stays the list.
    let color = crate::output::color_stderr();
    for w in project.config.warnings.iter().chain(&plan.warnings) {
        eprint!("{}", w.render(color));
    }
    match args.output {
        OutputFormat::Json => {
            let jobs: Vec<serde_json::Value> = plan
                .jobs
                .iter()
                .map(|j| {
                    json!({
                        "name": j.name,
                        "stage": j.stage,
                        "when": j.when.as_str(),
                        "allow_failure": j.allows_failure(),
                        "needs": j.needs.as_ref().map(|n| n.iter().map(|n| n.job.clone()).collect::<Vec<_>>()),
                    })
                })
                .collect();
            print(&format!("{}\n", serde_json::Value::Array(jobs)));
        }
        OutputFormat::Text => {
            if let Some(reason) = &plan.filtered {
                eprintln!("{reason}");
                return 0;
            }
            let rows: Vec<[String; 5]> = plan
                .jobs
                .iter()
                .map(|j| {
                    [
                        j.name.clone(),
                        j.stage.clone(),
                        j.when.as_str().to_string(),
                        j.allows_failure().to_string(),
                        j.needs.as_ref().map_or_else(String::new, |n| {
                            let names: Vec<&str> = n.iter().map(|n| n.job.as_str()).collect();
                            format!("[{}]", names.join(", "))
                        }),
                    ]
                })
                .collect();
            let header = ["NAME", "STAGE", "WHEN", "ALLOW FAILURE", "NEEDS"];
            let mut widths = header.map(str::len);
            for row in &rows {
                for (w, cell) in widths.iter_mut().zip(row) {
                    *w = (*w).max(cell.chars().count());
                }
            }
            let mut out = String::new();
            let mut line = |cells: [&str; 5]| {
                let mut text = String::new();
                for (i, cell) in cells.iter().enumerate() {
                    if i == 4 {
                        text.push_str(cell);
                    } else {
                        let _ = write!(text, "{cell:<width$}  ", width = widths[i]);
                    }
                }
                out.push_str(text.trim_end());
                out.push('\n');
            };
            line(header);
            for row in &rows {
                line([&row[0], &row[1], &row[2], &row[3], &row[4]]);
            }
            print(&out);
        }
    }
    // The process ends next: skip freeing the configuration (a measurable share of a large
    // pipeline's run time).
    std::mem::forget((project, plan));
    0
}
