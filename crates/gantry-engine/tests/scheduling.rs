//! Scheduling: stage order, needs, `when`, manual jobs, `allow_failure`, retry, statuses.

mod common;

use common::{Fixture, job, var};
use gantry_engine::{AllowFailure, Event, JobStatus, Need, PipelineStatus, Retry, When};

const STAGES: &[&str] = &["build", "test", "deploy"];

fn need(name: &str) -> Need {
    Need {
        job: name.to_owned(),
        artifacts: true,
        optional: false,
    }
}

#[test]
fn stages_run_in_order() {
    let f = Fixture::new();
    let jobs = vec![
        job("b1", STAGES, 0, &["echo b1"]),
        job("b2", STAGES, 0, &["sleep 0.2; echo b2"]),
        job("t1", STAGES, 1, &["echo t1"]),
        job("d1", STAGES, 2, &["echo d1"]),
    ];
    let run = f.run(f.spec(1, STAGES, jobs));
    assert_eq!(
        run.outcome.status,
        PipelineStatus::Success,
        "{}",
        run.dump()
    );
    assert!(run.started_at("t1") > run.finished_at("b1"));
    assert!(run.started_at("t1") > run.finished_at("b2"));
    assert!(run.started_at("d1") > run.finished_at("t1"));
    assert!(run.log("t1").iter().any(|l| l == "t1"));
}

#[test]
fn needs_start_before_earlier_stages_finish() {
    let f = Fixture::new();
    // `slow` only ends once both DAG jobs have run (they leave flags outside the copies).
    let flags = f.cache.path();
    let flag = |name: &str| flags.join(name).to_string_lossy().into_owned();
    let mut fast = job("fast-test", STAGES, 1, &["touch \"$FLAG\""]);
    fast.needs = Some(vec![need("quick")]);
    fast.variables.push(var("FLAG", &flag("fast")));
    let mut immediate = job("immediate", STAGES, 2, &["touch \"$FLAG\""]);
    immediate.needs = Some(vec![]);
    immediate.variables.push(var("FLAG", &flag("immediate")));
    let mut slow = job(
        "slow",
        STAGES,
        0,
        &["while [ ! -f \"$A\" ] || [ ! -f \"$B\" ]; do sleep 0.02; done"],
    );
    slow.variables = vec![var("A", &flag("fast")), var("B", &flag("immediate"))];
    slow.timeout = Some(std::time::Duration::from_secs(30));
    let jobs = vec![
        job("quick", STAGES, 0, &["echo quick"]),
        slow,
        fast,
        immediate,
    ];
    let mut options = f.options();
    options.concurrency = 4;
    let run = f.run_with(f.spec(1, STAGES, jobs), options);
    assert_eq!(
        run.outcome.status,
        PipelineStatus::Success,
        "{}",
        run.dump()
    );
    assert!(run.started_at("fast-test") > run.finished_at("quick"));
    assert!(run.started_at("fast-test") < run.finished_at("slow"));
    assert!(run.started_at("immediate") < run.finished_at("slow"));
}

#[test]
fn failure_skips_on_success_and_runs_on_failure_and_always() {
    let f = Fixture::new();
    let mut on_failure = job("rollback", STAGES, 1, &["echo rollback"]);
    on_failure.when = When::OnFailure;
    let mut always = job("report", STAGES, 2, &["echo report"]);
    always.when = When::Always;
    let mut manual = job("deploy", STAGES, 2, &["echo deploy"]);
    manual.when = When::Manual;
    manual.allow_failure = AllowFailure::Yes;
    let jobs = vec![
        job("build", STAGES, 0, &["exit 1"]),
        job("test", STAGES, 1, &["echo test"]),
        on_failure,
        always,
        manual,
    ];
    let run = f.run(f.spec(1, STAGES, jobs));
    assert_eq!(run.status("build"), JobStatus::Failed);
    assert_eq!(run.status("test"), JobStatus::Skipped);
    assert_eq!(run.status("rollback"), JobStatus::Success);
    assert_eq!(run.status("report"), JobStatus::Success);
    assert_eq!(run.status("deploy"), JobStatus::Skipped);
    assert_eq!(run.outcome.status, PipelineStatus::Failed);
    let build = run.outcome.job("build").unwrap();
    assert_eq!(build.exit_code, Some(1));
    assert_eq!(
        build.failure_reason,
        Some(gantry_engine::FailureReason::ScriptFailure)
    );
    assert!(
        run.log_text("build")
            .contains("ERROR: Job failed: exit status 1")
    );
}

#[test]
fn on_failure_jobs_are_skipped_when_all_succeed() {
    let f = Fixture::new();
    let mut on_failure = job("rollback", STAGES, 1, &["echo rollback"]);
    on_failure.when = When::OnFailure;
    let mut needs_none = job("never", STAGES, 1, &["echo never"]);
    needs_none.when = When::OnFailure;
    needs_none.needs = Some(vec![]);
    let jobs = vec![job("build", STAGES, 0, &["true"]), on_failure, needs_none];
    let run = f.run(f.spec(1, STAGES, jobs));
    assert_eq!(run.status("rollback"), JobStatus::Skipped);
    assert_eq!(run.status("never"), JobStatus::Skipped);
    assert_eq!(run.outcome.status, PipelineStatus::Success);
}

#[test]
fn manual_jobs_run_only_when_selected() {
    let f = Fixture::new();
    let mut optional = job("optional", STAGES, 0, &["echo optional"]);
    optional.when = When::Manual;
    optional.allow_failure = AllowFailure::Yes;
    let mut chosen = job("chosen", STAGES, 0, &["echo chosen"]);
    chosen.when = When::Manual;
    chosen.allow_failure = AllowFailure::Yes;
    let mut after_optional = job("after-optional", STAGES, 1, &["echo after"]);
    after_optional.needs = Some(vec![need("optional")]);
    let mut always_after = job("always-after", STAGES, 1, &["echo always"]);
    always_after.needs = Some(vec![need("optional")]);
    always_after.when = When::Always;
    let stage_job = job("stage-job", STAGES, 1, &["echo stage"]);
    let jobs = vec![optional, chosen, after_optional, always_after, stage_job];
    let mut options = f.options();
    options.selected_manual.insert("chosen".to_owned());
    let run = f.run_with(f.spec(1, STAGES, jobs), options);
    assert_eq!(run.status("optional"), JobStatus::Manual);
    assert_eq!(run.status("chosen"), JobStatus::Success);
    // An unplayed optional manual need makes on_success jobs skipped, `always` still runs.
    assert_eq!(run.status("after-optional"), JobStatus::Skipped);
    assert_eq!(run.status("always-after"), JobStatus::Success);
    // Stage ordering ignores unplayed non-blocking manual jobs.
    assert_eq!(run.status("stage-job"), JobStatus::Success);
    assert_eq!(run.outcome.status, PipelineStatus::Success);
}

#[test]
fn blocking_manual_job_holds_later_stages() {
    let f = Fixture::new();
    let mut gate = job("gate", STAGES, 0, &["echo gate"]);
    gate.when = When::Manual;
    let mut independent = job("independent", STAGES, 1, &["echo independent"]);
    independent.needs = Some(vec![]);
    let jobs = vec![gate, job("later", STAGES, 1, &["echo later"]), independent];
    let run = f.run(f.spec(1, STAGES, jobs));
    assert_eq!(run.status("gate"), JobStatus::Manual);
    assert_eq!(run.status("later"), JobStatus::Skipped);
    assert_eq!(run.status("independent"), JobStatus::Success);
    assert_eq!(run.outcome.status, PipelineStatus::Manual);
}

#[test]
fn allow_failure_and_exit_codes() {
    let f = Fixture::new();
    let mut allowed = job("allowed", STAGES, 0, &["exit 1"]);
    allowed.allow_failure = AllowFailure::Yes;
    let mut code_ok = job("code-ok", STAGES, 0, &["exit 3"]);
    code_ok.allow_failure = AllowFailure::ExitCodes(vec![3, 4]);
    let jobs = vec![allowed, code_ok, job("next", STAGES, 1, &["echo next"])];
    let run = f.run(f.spec(1, STAGES, jobs));
    assert_eq!(run.status("allowed"), JobStatus::Failed);
    assert!(run.outcome.job("allowed").unwrap().allow_failure);
    assert!(run.outcome.job("code-ok").unwrap().allow_failure);
    assert_eq!(run.outcome.job("code-ok").unwrap().exit_code, Some(3));
    assert_eq!(run.status("next"), JobStatus::Success);
    assert_eq!(run.outcome.status, PipelineStatus::Success);

    let mut code_bad = job("code-bad", STAGES, 0, &["exit 5"]);
    code_bad.allow_failure = AllowFailure::ExitCodes(vec![3]);
    let jobs = vec![code_bad, job("next", STAGES, 1, &["echo next"])];
    let run = f.run(f.spec(2, STAGES, jobs));
    assert!(!run.outcome.job("code-bad").unwrap().allow_failure);
    assert_eq!(run.status("next"), JobStatus::Skipped);
    assert_eq!(run.outcome.status, PipelineStatus::Failed);
}

#[test]
fn retry_reruns_failed_jobs() {
    let f = Fixture::new();
    let counter = f.cache.path().join("attempts");
    let mut flaky = job(
        "flaky",
        STAGES,
        0,
        &[
            "echo x >> \"$COUNTER\"",
            "test \"$(wc -l < \"$COUNTER\")\" -ge 2",
        ],
    );
    flaky
        .variables
        .push(var("COUNTER", counter.to_str().unwrap()));
    flaky.retry = Retry {
        max: 2,
        when: vec!["script_failure".into()],
        exit_codes: vec![],
    };
    let mut not_retried = job("not-retried", STAGES, 0, &["exit 1"]);
    not_retried.retry = Retry {
        max: 2,
        when: vec![],
        exit_codes: vec![137],
    };
    let run = f.run(f.spec(1, STAGES, vec![flaky, not_retried]));
    let flaky = run.outcome.job("flaky").unwrap();
    assert_eq!(flaky.status, JobStatus::Success, "{}", run.dump());
    assert_eq!(flaky.attempts, 2);
    assert!(
        run.log_text("flaky")
            .contains("Retrying job: attempt 2 of 3")
    );
    let starts = run
        .events
        .iter()
        .filter(|e| matches!(e, Event::JobStarted { job } if job == "flaky"))
        .count();
    assert_eq!(starts, 1);
    assert_eq!(run.outcome.job("not-retried").unwrap().attempts, 1);
}

#[test]
fn dag_need_on_skipped_job_skips_on_success_jobs() {
    let f = Fixture::new();
    let mut skipped = job("cleanup", STAGES, 0, &["echo cleanup"]);
    skipped.when = When::OnFailure;
    let mut dependent = job("dependent", STAGES, 1, &["echo dep"]);
    dependent.needs = Some(vec![need("cleanup")]);
    let mut always = job("always", STAGES, 1, &["echo always"]);
    always.needs = Some(vec![need("cleanup")]);
    always.when = When::Always;
    let mut stage = job("stage", STAGES, 1, &["echo stage"]);
    stage.needs = None;
    let jobs = vec![
        job("ok", STAGES, 0, &["true"]),
        skipped,
        dependent,
        always,
        stage,
    ];
    let run = f.run(f.spec(1, STAGES, jobs));
    assert_eq!(run.status("cleanup"), JobStatus::Skipped);
    assert_eq!(run.status("dependent"), JobStatus::Skipped);
    assert_eq!(run.status("always"), JobStatus::Success);
    assert_eq!(run.status("stage"), JobStatus::Success);
}

#[test]
fn invalid_needs_are_an_error() {
    let f = Fixture::new();
    let mut j = job("j", STAGES, 1, &["true"]);
    j.needs = Some(vec![need("missing")]);
    let err =
        gantry_engine::run(f.spec(1, STAGES, vec![j.clone()]), f.options(), |_| {}).unwrap_err();
    assert!(
        err.to_string().contains("j job: undefined need: missing"),
        "{err}"
    );
    j.needs = Some(vec![Need {
        optional: true,
        ..need("missing")
    }]);
    let run = f.run(f.spec(2, STAGES, vec![j]));
    assert_eq!(run.status("j"), JobStatus::Success);
}

#[test]
fn delayed_jobs_start_after_their_delay() {
    let f = Fixture::new();
    let mut delayed = job("delayed", STAGES, 0, &["echo later"]);
    delayed.when = When::Delayed(std::time::Duration::from_millis(200));
    let run = f.run(f.spec(1, STAGES, vec![delayed]));
    assert_eq!(run.status("delayed"), JobStatus::Success);
}

#[test]
fn grid_of_sixty_jobs() {
    let f = Fixture::new();
    let stages: Vec<String> = (0..6).map(|s| format!("s{s}")).collect();
    let stage_refs: Vec<&str> = stages.iter().map(String::as_str).collect();
    let mut jobs = Vec::new();
    for (s, _) in stage_refs.iter().enumerate() {
        for j in 0..10 {
            jobs.push(job(&format!("job-{s}-{j}"), &stage_refs, s, &["echo hi"]));
        }
    }
    let started = std::time::Instant::now();
    let run = f.run(f.spec(1, &stage_refs, jobs));
    eprintln!("6x10 grid took {:?}", started.elapsed());
    assert_eq!(
        run.outcome.status,
        PipelineStatus::Success,
        "{}",
        run.dump()
    );
    assert!(
        run.outcome
            .jobs
            .iter()
            .all(|j| j.status == JobStatus::Success)
    );
}
