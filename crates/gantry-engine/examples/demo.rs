//! Runs a small pipeline in a temporary git repository and prints it with the text printer
//! (`cargo run -p gantry-engine --example demo [json]`).

use std::process::Command;

use gantry_engine::printer::{JsonPrinter, TextPrinter, stdout_supports_color};
use gantry_engine::{AllowFailure, JobSpec, JobVariable, PipelineSpec, RunOptions, When};

fn job(name: &str, stage: usize, script: &[&str]) -> JobSpec {
    let stages = ["build", "test", "deploy"];
    let mut spec = JobSpec::new(name, stages[stage], stage);
    spec.script = script.iter().map(|s| (*s).to_owned()).collect();
    spec
}

fn main() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let git = |args: &[&str]| {
        let status = Command::new("git")
            .arg("-C")
            .arg(dir.path())
            .args(["-c", "user.name=demo", "-c", "user.email=demo@example.com"])
            .args(args)
            .status()
            .expect("git");
        assert!(status.success());
    };
    git(&["init", "-q"]);
    std::fs::write(dir.path().join(".gitignore"), ".gantry/\n").expect("write");
    std::fs::write(dir.path().join("main.c"), "int main(void) { return 0; }\n").expect("write");
    git(&["add", "-A"]);
    git(&["commit", "-q", "-m", "initial"]);

    let mut secret = JobVariable::new("TOKEN", "s3cr3t-value");
    secret.masked = true;
    let mut build = job(
        "build",
        0,
        &[
            "ls",
            "echo \"token is $TOKEN\"",
            "mkdir -p out && date > out/stamp",
        ],
    );
    build.variables.push(secret);
    build.artifacts = Some(gantry_engine::ArtifactsSpec {
        paths: vec!["out/".into()],
        ..Default::default()
    });
    let mut lint = job("lint", 1, &["echo linting", "exit 2"]);
    lint.allow_failure = AllowFailure::Yes;
    let test = job("test", 1, &["cat out/stamp", "git log --oneline"]);
    let mut deploy = job("deploy", 2, &["echo deploying"]);
    deploy.when = When::Manual;
    let spec = PipelineSpec {
        pipeline_id: 1,
        project_dir: dir.path().to_path_buf(),
        state_dir: dir.path().join(".gantry"),
        stages: vec!["build".into(), "test".into(), "deploy".into()],
        jobs: vec![build, lint, test, deploy],
    };
    let options = RunOptions {
        cache_dir: Some(dir.path().join(".cache")),
        ..RunOptions::default()
    };
    let result = if std::env::args().nth(1).as_deref() == Some("json") {
        let mut printer = JsonPrinter::new(std::io::stdout());
        gantry_engine::run(spec, options, |e| printer.print(e))
    } else {
        let mut printer = TextPrinter::new(std::io::stdout(), stdout_supports_color());
        gantry_engine::run(spec, options, |e| printer.print(e))
    };
    if let Err(e) = result {
        eprintln!("error: {e}");
    }
}
