//! `gantry clean`: removes the containers, networks and volumes that crashed or killed runs left
//! behind (everything labelled `dev.gantry.managed`), for this project or all projects; with
//! `--all` also the volumes kept between jobs and the project's `.gantry` directory.

use gantry_engine::{CleanRequest, clean_docker_resources};

use crate::cli::{CleanArgs, Cli};
use crate::project::EXIT_INVALID;

pub fn clean(cli: &Cli, args: &CleanArgs) -> i32 {
    let dir = cli
        .directory
        .clone()
        .unwrap_or_else(|| std::path::PathBuf::from("."));
    let dir = dir.canonicalize().unwrap_or(dir);
    let config = match super::run::runner_config(args.config.as_deref(), &dir) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let request = CleanRequest {
        project_dir: (!args.all_projects).then_some(dir.as_path()),
        include_cache_volumes: args.all,
        force: args.force,
    };
    let mut code = 0;
    match clean_docker_resources(&config.docker, &request) {
        Ok(report) => {
            println!(
                "Removed {} containers, {} networks and {} volumes ({}).",
                report.containers, report.networks, report.volumes, report.endpoint
            );
            if report.skipped_live > 0 {
                println!(
                    "Left {} resources of gantry runs that are still running (--force removes them).",
                    report.skipped_live
                );
            }
            for e in &report.errors {
                eprintln!("error: {e}");
                code = 1;
            }
        }
        Err(e) => {
            // Without an engine there is nothing to remove there; the state can still go.
            eprintln!("warning: {e}");
        }
    }
    if args.all {
        let state = dir.join(".gantry");
        if state.is_dir() {
            match remove_state(&state) {
                Ok(()) => println!(
                    "Removed the state in {} (config.toml kept).",
                    state.display()
                ),
                Err(e) => {
                    eprintln!("error: removing the state directory: {e}");
                    return EXIT_INVALID.max(code);
                }
            }
        }
    }
    code
}

/// Everything in `.gantry/` but the project's runner configuration.
fn remove_state(state: &std::path::Path) -> std::io::Result<()> {
    for entry in fs_err::read_dir(state)? {
        let entry = entry?;
        if entry.file_name() == "config.toml" {
            continue;
        }
        let path = entry.path();
        if entry.file_type()?.is_dir() {
            fs_err::remove_dir_all(&path)?;
        } else {
            fs_err::remove_file(&path)?;
        }
    }
    Ok(())
}
