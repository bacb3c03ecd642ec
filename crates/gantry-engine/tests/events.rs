//! The event stream and its printers.

mod common;

use std::io::{self, Write};

use common::{Fixture, job};
use gantry_engine::printer::{JsonPrinter, TextPrinter};
use gantry_engine::{AllowFailure, When};

const STAGES: &[&str] = &["build", "test"];

fn pipeline(f: &Fixture) -> gantry_engine::PipelineSpec {
    let mut flaky = job("lint", STAGES, 1, &["echo linting", "exit 2"]);
    flaky.allow_failure = AllowFailure::Yes;
    let mut manual = job("deploy", STAGES, 1, &["echo deploy"]);
    manual.when = When::Manual;
    manual.allow_failure = AllowFailure::Yes;
    f.spec(
        1,
        STAGES,
        vec![job("build", STAGES, 0, &["echo built"]), flaky, manual],
    )
}

#[test]
fn json_lines_shape() {
    let f = Fixture::new();
    let mut printer = JsonPrinter::new(Vec::new());
    gantry_engine::run(pipeline(&f), f.options(), |e| printer.print(e)).unwrap();
    let out = String::from_utf8(printer.into_inner()).unwrap();
    let lines: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines[0]["type"], "pipeline_started");
    assert_eq!(lines[0]["pipeline_id"], 1);
    assert_eq!(lines[0]["jobs"][1]["name"], "lint");
    assert_eq!(lines[0]["jobs"][1]["stage"], "test");
    let last = lines.last().unwrap();
    assert_eq!(last["type"], "pipeline_finished");
    assert_eq!(last["status"], "success");
    assert!(
        lines
            .iter()
            .any(|l| l["type"] == "job_started" && l["job"] == "build")
    );
    let logs: Vec<&serde_json::Value> = lines.iter().filter(|l| l["type"] == "log").collect();
    assert!(
        logs.iter()
            .any(|l| l["job"] == "build" && l["text"] == "built")
    );
    assert!(
        logs.iter()
            .all(|l| !l["text"].as_str().unwrap().contains('\x1b'))
    );
    let finished = |name: &str| {
        lines
            .iter()
            .find(|l| l["type"] == "job_finished" && l["job"] == name)
            .unwrap()
            .clone()
    };
    let lint = finished("lint");
    let raw = out
        .lines()
        .find(|l| l.contains("\"job_finished\"") && l.contains("\"lint\""))
        .unwrap();
    assert!(
        raw.starts_with(
            r#"{"type":"job_finished","job":"lint","status":"failed","exit_code":2,"allow_failure":true,"duration_ms":"#
        ),
        "{raw}"
    );
    assert!(
        raw.ends_with(r#","failure_reason":"script_failure"}"#),
        "{raw}"
    );
    assert_eq!(lint["status"], "failed");
    assert_eq!(lint["exit_code"], 2);
    assert_eq!(lint["allow_failure"], true);
    assert_eq!(lint["failure_reason"], "script_failure");
    let build = finished("build");
    assert_eq!(build["status"], "success");
    assert_eq!(build["exit_code"], 0);
    assert!(build.get("failure_reason").is_none());
    let deploy = finished("deploy");
    assert_eq!(deploy["status"], "manual");
    assert_eq!(deploy["duration_ms"], 0);
    assert_eq!(deploy["exit_code"], serde_json::Value::Null);
}

#[test]
fn text_printer_without_colour_prints_logs_and_summary() {
    let f = Fixture::new();
    let mut printer = TextPrinter::new(Vec::new(), false);
    gantry_engine::run(pipeline(&f), f.options(), |e| printer.print(e)).unwrap();
    let out = String::from_utf8(printer.into_inner()).unwrap();
    assert!(!out.contains('\x1b'), "{out}");
    assert!(out.contains("build  | built\n"), "{out}");
    assert!(
        out.contains("Job     Stage  Status      Duration  Allowed failure\n"),
        "{out}"
    );
    assert!(out.contains("lint    test   failed (2)  "), "{out}");
    assert!(out.contains("deploy  test   manual      -\n"), "{out}");
    assert!(out.contains("Pipeline success"), "{out}");
}

struct Broken;

impl Write for Broken {
    fn write(&mut self, _: &[u8]) -> io::Result<usize> {
        Err(io::Error::from(io::ErrorKind::BrokenPipe))
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[test]
fn broken_pipe_is_not_an_error() {
    let f = Fixture::new();
    let mut json = JsonPrinter::new(Broken);
    let mut text = TextPrinter::new(Broken, true);
    let outcome = gantry_engine::run(pipeline(&f), f.options(), |e| {
        json.print(e);
        text.print(e);
    })
    .unwrap();
    assert_eq!(outcome.status, gantry_engine::PipelineStatus::Success);
    assert!(json.is_closed() && text.is_closed());
}
