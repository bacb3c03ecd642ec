//! The shell executor: script semantics, `after_script`, variables, timeouts.

mod common;

use std::time::Duration;

use common::{Fixture, job, processes_with, var};
use gantry_engine::{FailureReason, JobStatus, JobVariable, PipelineStatus};

const STAGES: &[&str] = &["test"];

#[test]
fn commands_are_echoed_and_share_one_shell() {
    let f = Fixture::new();
    let mut j = job(
        "j",
        STAGES,
        0,
        &[
            "greet() { echo \"hello $1\"; }",
            "greet world",
            "echo \"$FROM_BEFORE\"",
        ],
    );
    j.before_script = vec!["export FROM_BEFORE=before-value".to_owned()];
    let run = f.run(f.spec(1, STAGES, vec![j]));
    assert_eq!(run.status("j"), JobStatus::Success, "{}", run.dump());
    let log = run.log("j");
    assert!(log.contains(&"$ greet world".to_owned()), "{log:?}");
    assert!(log.contains(&"hello world".to_owned()));
    assert!(log.contains(&"before-value".to_owned()));
    assert!(log.contains(&"Job succeeded".to_owned()));
    // Section headers survive; section markers do not reach the events.
    assert!(
        log.iter()
            .any(|l| l == "Executing \"step_script\" stage of the job script")
    );
    assert!(!log.iter().any(|l| l.contains("section_start")));
    // The raw log file keeps GitLab's trace format.
    let raw =
        std::fs::read_to_string(run.outcome.job("j").unwrap().log_path.as_ref().unwrap()).unwrap();
    assert!(raw.contains("section_start:"), "{raw}");
    assert!(raw.contains(":step_script\r\x1b[0K"));
    assert!(raw.contains("\x1b[32;1m$ greet world\x1b[0;m"));
}

#[test]
fn errexit_pipefail_and_exit_codes() {
    let f = Fixture::new();
    let jobs = vec![
        job("errexit", STAGES, 0, &["false", "echo not-reached"]),
        job("pipefail", STAGES, 0, &["false | true", "echo not-reached"]),
        job("code", STAGES, 0, &["exit 42"]),
        job(
            "in-if",
            STAGES,
            0,
            &["if false; then echo no; fi", "false || echo tolerated"],
        ),
        job("stdin", STAGES, 0, &["read -r line || echo stdin-empty"]),
        job("multi", STAGES, 0, &["echo one\necho two"]),
    ];
    let run = f.run(f.spec(1, STAGES, jobs));
    assert_eq!(run.status("errexit"), JobStatus::Failed);
    assert!(!run.log("errexit").contains(&"not-reached".to_owned()));
    assert_eq!(run.status("pipefail"), JobStatus::Failed);
    let code = run.outcome.job("code").unwrap();
    assert_eq!(code.exit_code, Some(42));
    assert_eq!(code.failure_reason, Some(FailureReason::ScriptFailure));
    assert!(
        run.log_text("code")
            .contains("ERROR: Job failed: exit status 42")
    );
    assert_eq!(run.status("in-if"), JobStatus::Success);
    assert!(run.log("in-if").contains(&"tolerated".to_owned()));
    assert!(run.log("stdin").contains(&"stdin-empty".to_owned()));
    let multi = run.log("multi");
    assert!(
        multi.contains(&"$ echo one # collapsed multi-line command".to_owned()),
        "{multi:?}"
    );
    assert!(multi.contains(&"two".to_owned()));
    assert_eq!(run.outcome.status, PipelineStatus::Failed);
}

#[test]
fn after_script_runs_in_a_new_shell_with_job_status() {
    let f = Fixture::new();
    let mut failing = job(
        "failing",
        STAGES,
        0,
        &[
            "export LOST=1",
            "echo 'KEPT=from-env' >> \"$GITLAB_ENV\"",
            "exit 3",
        ],
    );
    failing.after_script = vec![
        "echo \"status=$CI_JOB_STATUS lost=${LOST:-unset} kept=$KEPT\"".to_owned(),
        "exit 7".to_owned(),
    ];
    let mut passing = job("passing", STAGES, 0, &["true"]);
    passing.after_script = vec!["echo \"status=$CI_JOB_STATUS\"".to_owned()];
    let run = f.run(f.spec(1, STAGES, vec![failing, passing]));
    let log = run.log("failing");
    assert!(
        log.contains(&"status=failed lost=unset kept=from-env".to_owned()),
        "{log:?}"
    );
    assert!(log.contains(&"Running after script...".to_owned()));
    assert!(log.iter().any(|l| {
        l.contains("after_script failed, but job will continue unaffected: exit status 7")
    }));
    assert_eq!(run.outcome.job("failing").unwrap().exit_code, Some(3));
    assert!(run.log("passing").contains(&"status=success".to_owned()));
    assert_eq!(run.status("passing"), JobStatus::Success);
}

#[test]
fn variables_file_variables_and_runner_expansion() {
    let f = Fixture::new();
    let mut j = job(
        "vars",
        STAGES,
        0,
        &[
            "echo \"plain=$PLAIN\"",
            "echo \"path-is-file=$(test -f \"$CERT\" && echo yes)\"",
            "echo \"content=$(cat \"$CERT\")\"",
            "echo \"composed=$COMPOSED\"",
            "echo \"raw=$RAW\"",
            "echo \"dir-ok=$(test \"$PWD\" = \"$CI_PROJECT_DIR\" && echo yes)\"",
            "echo \"tmp=$(test -d \"$RUNNER_TEMP_PROJECT_DIR\" && echo yes)\"",
        ],
    );
    let mut cert = JobVariable::new("CERT", "-----CERT-----");
    cert.file = true;
    let mut raw = JobVariable::new("RAW", "$PLAIN");
    raw.raw = true;
    j.variables = vec![
        var("PLAIN", "plain value"),
        cert,
        var("COMPOSED", "${PLAIN}+$$"),
        raw,
    ];
    let run = f.run(f.spec(1, STAGES, vec![j]));
    let log = run.log("vars");
    for expected in [
        "plain=plain value",
        "path-is-file=yes",
        "content=-----CERT-----",
        "composed=plain value+$",
        "raw=$PLAIN",
        "dir-ok=yes",
        "tmp=yes",
    ] {
        assert!(
            log.contains(&expected.to_owned()),
            "missing {expected}: {log:?}"
        );
    }
}

#[test]
fn timeout_kills_the_whole_process_tree() {
    let f = Fixture::new();
    let marker = "317.0417";
    let mut j = job(
        "slow",
        STAGES,
        0,
        &[
            &format!("sleep {marker} &"),
            &format!("(sleep {marker}; echo never) &"),
            "sleep 300",
        ],
    );
    j.timeout = Some(Duration::from_secs(1));
    j.after_script = vec!["echo after-script-ran".to_owned()];
    let run = f.run(f.spec(1, STAGES, vec![j]));
    let slow = run.outcome.job("slow").unwrap();
    assert_eq!(slow.status, JobStatus::Failed);
    assert_eq!(
        slow.failure_reason,
        Some(FailureReason::JobExecutionTimeout)
    );
    assert!(
        run.log_text("slow")
            .contains("ERROR: Job failed: execution took longer than 1s seconds"),
        "{}",
        run.dump()
    );
    // A job timeout skips after_script.
    assert!(!run.log("slow").contains(&"after-script-ran".to_owned()));
    assert!(
        processes_with(marker).is_empty(),
        "{:?}",
        processes_with(marker)
    );
}

#[test]
fn runner_script_timeout_still_runs_after_script() {
    let f = Fixture::new();
    let mut j = job("scripted", STAGES, 0, &["sleep 30"]);
    j.variables.push(var("RUNNER_SCRIPT_TIMEOUT", "500ms"));
    j.after_script = vec!["echo \"after status=$CI_JOB_STATUS\"".to_owned()];
    let run = f.run(f.spec(1, STAGES, vec![j]));
    let outcome = run.outcome.job("scripted").unwrap();
    assert_eq!(
        outcome.failure_reason,
        Some(FailureReason::JobExecutionTimeout)
    );
    let log = run.log_text("scripted");
    assert!(log.contains("after status=timedout"), "{log}");
    assert!(
        log.contains("execution took longer than 500ms seconds"),
        "{log}"
    );
}

#[test]
fn background_processes_are_killed_when_the_script_ends() {
    let f = Fixture::new();
    let marker = "318.0417";
    let j = job(
        "bg",
        STAGES,
        0,
        &[&format!("sleep {marker} > /dev/null 2>&1 &"), "echo done"],
    );
    let run = f.run(f.spec(1, STAGES, vec![j]));
    assert_eq!(run.status("bg"), JobStatus::Success);
    assert!(processes_with(marker).is_empty());
}

#[test]
fn sh_is_used_when_requested() {
    let f = Fixture::new();
    let mut options = f.options();
    options.shell = Some("/bin/sh".into());
    let jobs = vec![job(
        "sh",
        STAGES,
        0,
        &["echo from-sh", "false", "echo not-reached"],
    )];
    let run = f.run_with(f.spec(1, STAGES, jobs), options);
    assert_eq!(run.status("sh"), JobStatus::Failed);
    assert!(run.log("sh").contains(&"from-sh".to_owned()));
    assert!(!run.log("sh").contains(&"not-reached".to_owned()));
    assert!(run.log_text("sh").contains("Using Shell (sh) executor"));
}
