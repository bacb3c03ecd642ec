//! Cancellation: running jobs stop (`after_script` runs), pending jobs are canceled, nothing is
//! left running.

mod common;

use common::{Fixture, job, processes_with};
use gantry_engine::{CancelToken, Event, JobStatus, PipelineStatus, strip_ansi};

const STAGES: &[&str] = &["build", "test"];

fn run_with_cancel(
    f: &Fixture,
    spec: gantry_engine::PipelineSpec,
    token: &CancelToken,
    trigger: impl Fn(&str, usize) -> bool,
) -> (gantry_engine::PipelineOutcome, Vec<String>) {
    let mut options = f.options();
    options.cancel = Some(token.clone());
    let mut lines = Vec::new();
    let mut fired = 0;
    let outcome = gantry_engine::run(spec, options, |e| {
        if let Event::Log { job, text } = e {
            let text = strip_ansi(text).into_owned();
            if trigger(&text, fired) {
                fired += 1;
                token.cancel();
            }
            lines.push(format!("[{job}] {text}"));
        }
    })
    .unwrap();
    (outcome, lines)
}

#[test]
fn cancel_stops_running_jobs_runs_after_script_and_leaves_nothing() {
    let f = Fixture::new();
    let marker = "319.0417";
    let mut long = job(
        "long",
        STAGES,
        0,
        &[
            "echo started-marker",
            &format!("sleep {marker} & sleep {marker}"),
        ],
    );
    long.after_script = vec!["echo \"after status=$CI_JOB_STATUS\"".to_owned()];
    let other = job("other", STAGES, 0, &["echo other-done"]);
    let later = job("later", STAGES, 1, &["echo later"]);
    let token = CancelToken::new();
    let (outcome, lines) = run_with_cancel(
        &f,
        f.spec(1, STAGES, vec![long, other, later]),
        &token,
        |text, fired| fired == 0 && text == "started-marker",
    );
    assert_eq!(outcome.status, PipelineStatus::Canceled, "{lines:#?}");
    let long = outcome.job("long").unwrap();
    assert_eq!(long.status, JobStatus::Canceled);
    assert_eq!(outcome.job("later").unwrap().status, JobStatus::Canceled);
    assert!(
        lines.contains(&"[long] after status=canceled".to_owned()),
        "{lines:#?}"
    );
    assert!(lines.contains(&"[long] ERROR: Job failed: canceled".to_owned()));
    assert!(
        processes_with(marker).is_empty(),
        "{:?}",
        processes_with(marker)
    );
}

#[test]
fn second_cancel_kills_after_script() {
    let f = Fixture::new();
    let marker = "319.1417";
    let mut long = job(
        "long",
        STAGES,
        0,
        &["echo started-marker", &format!("sleep {marker}")],
    );
    long.after_script = vec![format!("sleep {marker}"), "echo after-finished".to_owned()];
    let token = CancelToken::new();
    let (outcome, lines) =
        run_with_cancel(&f, f.spec(1, STAGES, vec![long]), &token, |text, fired| {
            (fired == 0 && text == "started-marker")
                || (fired == 1 && text == "Running after script...")
        });
    assert_eq!(
        outcome.job("long").unwrap().status,
        JobStatus::Canceled,
        "{lines:#?}"
    );
    assert!(!lines.iter().any(|l| l.contains("after-finished")));
    assert!(
        processes_with(marker).is_empty(),
        "{:?}",
        processes_with(marker)
    );
}

#[test]
fn after_script_after_a_cancel_is_bounded() {
    let f = Fixture::new();
    let marker = "319.2417";
    let mut long = job(
        "long",
        STAGES,
        0,
        &["echo started-marker", &format!("sleep {marker}")],
    );
    long.after_script = vec![format!("sleep {marker}"), "echo after-finished".to_owned()];
    let token = CancelToken::new();
    let mut options = f.options();
    options.cancel = Some(token.clone());
    options.cancel_after_script_timeout = std::time::Duration::from_millis(300);
    let mut lines = Vec::new();
    let outcome = gantry_engine::run(f.spec(1, STAGES, vec![long]), options, |e| {
        if let Event::Log { text, .. } = e {
            let text = strip_ansi(text).into_owned();
            if text == "started-marker" {
                token.cancel();
            }
            lines.push(text);
        }
    })
    .unwrap();
    assert_eq!(outcome.jobs[0].status, JobStatus::Canceled, "{lines:#?}");
    assert!(!lines.iter().any(|l| l.contains("after-finished")));
    assert!(
        lines.iter().any(|l| l.contains("after_script failed")),
        "{lines:#?}"
    );
    assert!(
        processes_with(marker).is_empty(),
        "{:?}",
        processes_with(marker)
    );
}

#[test]
fn cancel_before_start_cancels_everything() {
    let f = Fixture::new();
    let token = CancelToken::new();
    token.cancel();
    let mut options = f.options();
    options.cancel = Some(token);
    let spec = f.spec(
        1,
        STAGES,
        vec![
            job("a", STAGES, 0, &["true"]),
            job("b", STAGES, 1, &["true"]),
        ],
    );
    let outcome = gantry_engine::run(spec, options, |_| {}).unwrap();
    assert_eq!(outcome.status, PipelineStatus::Canceled);
    assert!(outcome.jobs.iter().all(|j| j.status == JobStatus::Canceled));
}
