//! `gantry run` end to end: real git repositories, real bash, the whole path from YAML to
//! finished jobs.

mod common;

use std::time::{Duration, Instant};

use common::Test;
use serde_json::Value;

/// Runs `gantry run -o json` with `extra` arguments; returns the exit code and the events.
fn run_json(test: Test, extra: &[&str]) -> (i32, Vec<Value>, Test) {
    let test = test.args(&["run", "-o", "json"]).args(extra);
    let out = test.run();
    let events = out
        .stdout
        .lines()
        .map(|l| {
            serde_json::from_str(l)
                .unwrap_or_else(|e| panic!("bad JSON line {l:?}: {e}\n{}", out.stderr))
        })
        .collect();
    (out.code, events, test)
}

fn status(events: &[Value], job: &str) -> String {
    events
        .iter()
        .find(|e| e["type"] == "job_finished" && e["job"] == job)
        .map_or_else(
            || "missing".into(),
            |e| e["status"].as_str().unwrap().to_string(),
        )
}

fn log(events: &[Value], job: &str) -> String {
    events
        .iter()
        .filter(|e| e["type"] == "log" && e["job"] == job)
        .fold(String::new(), |mut out, e| {
            out.push_str(e["text"].as_str().unwrap());
            out.push('\n');
            out
        })
}

fn pipeline_status(events: &[Value]) -> String {
    events
        .iter()
        .find(|e| e["type"] == "pipeline_finished")
        .map(|e| e["status"].as_str().unwrap().to_string())
        .unwrap_or_default()
}

#[test]
fn stages_needs_artifacts_and_statuses() {
    let yaml = r#"
stages: [build, test, deploy]
build:
  stage: build
  script:
    - mkdir -p out && echo "built $CI_COMMIT_SHORT_SHA" > out/app.txt
  artifacts:
    paths: [out/]
unit:
  stage: test
  needs: [build]
  script: [cat out/app.txt]
lint:
  stage: test
  script: [exit 4]
  allow_failure:
    exit_codes: [4]
deploy:
  stage: deploy
  script: [test -f out/app.txt]
cleanup:
  stage: deploy
  when: on_failure
  script: [echo cleanup]
"#;
    let (code, events, _t) = run_json(Test::new(yaml), &[]);
    assert_eq!(code, 0);
    assert_eq!(status(&events, "build"), "success");
    assert_eq!(status(&events, "unit"), "success");
    assert!(
        log(&events, "unit").contains("built "),
        "{}",
        log(&events, "unit")
    );
    assert_eq!(status(&events, "lint"), "failed");
    assert_eq!(status(&events, "deploy"), "success");
    assert_eq!(status(&events, "cleanup"), "skipped");
    assert_eq!(pipeline_status(&events), "success");
    let lint = events
        .iter()
        .find(|e| e["type"] == "job_finished" && e["job"] == "lint")
        .unwrap();
    assert_eq!(lint["allow_failure"], true);
    assert_eq!(lint["exit_code"], 4);
}

#[test]
fn a_failure_skips_later_stages_and_exits_1() {
    let yaml = "a:\n  stage: build\n  script: [exit 1]\nb:\n  stage: test\n  script: [echo b]\nc:\n  stage: test\n  when: on_failure\n  script: [echo c]\nd:\n  stage: deploy\n  when: always\n  script: [echo d]\n";
    let (code, events, _t) = run_json(Test::new(yaml), &[]);
    assert_eq!(code, 1);
    assert_eq!(status(&events, "a"), "failed");
    assert_eq!(status(&events, "b"), "skipped");
    assert_eq!(status(&events, "c"), "success");
    assert_eq!(status(&events, "d"), "success");
    assert_eq!(pipeline_status(&events), "failed");
}

#[test]
fn predefined_variables_come_from_git() {
    let yaml = r#"
show:
  parallel: 2
  script:
    - echo "sha=$CI_COMMIT_SHA short=$CI_COMMIT_SHORT_SHA"
    - echo "ref=$CI_COMMIT_REF_NAME slug=$CI_COMMIT_REF_SLUG branch=$CI_COMMIT_BRANCH tag=${CI_COMMIT_TAG:-none}"
    - echo "path=$CI_PROJECT_PATH name=$CI_PROJECT_NAME ns=$CI_PROJECT_NAMESPACE url=$CI_PROJECT_URL"
    - echo "default=$CI_DEFAULT_BRANCH source=$CI_PIPELINE_SOURCE title=$CI_COMMIT_TITLE"
    - echo "job=$CI_JOB_NAME stage=$CI_JOB_STAGE node=$CI_NODE_INDEX/$CI_NODE_TOTAL"
    - echo "image=$CI_REGISTRY_IMAGE user=$CI_REGISTRY_USER"
    - echo "dir=$CI_PROJECT_DIR" && test "$PWD" = "$CI_PROJECT_DIR"
    - echo "pipeline=$CI_PIPELINE_ID"
"#;
    let t = Test::new(yaml);
    let sha = t.repo.head_sha();
    let (code, events, t) = run_json(t, &["--registry", "registry.example.com:5000"]);
    assert_eq!(code, 0, "{events:?}");
    let out = log(&events, "show 1/2");
    assert!(
        out.contains(&format!("sha={sha} short={}", &sha[..8])),
        "{out}"
    );
    assert!(
        out.contains("ref=main slug=main branch=main tag=none"),
        "{out}"
    );
    assert!(out.contains("path=my-group/sub/my-project name=my-project ns=my-group/sub url=https://gitlab.example.com/my-group/sub/my-project"), "{out}");
    assert!(
        out.contains("default=main source=push title=Initial commit"),
        "{out}"
    );
    assert!(out.contains("job=show 1/2 stage=test node=1/2"), "{out}");
    assert!(
        out.contains(
            "image=registry.example.com:5000/my-group/sub/my-project user=gitlab-ci-token"
        ),
        "{out}"
    );
    assert!(log(&events, "show 2/2").contains("node=2/2"));
    // CI_PIPELINE_ID increases from run to run.
    let pipeline_id = |log: &str| -> u64 {
        log.lines()
            .find_map(|l| l.strip_prefix("pipeline="))
            .unwrap_or_else(|| panic!("no pipeline= line in:\n{log}"))
            .trim()
            .parse()
            .expect("a number")
    };
    let first = pipeline_id(&out);
    let (_, events, _t) = run_json(t.again(), &[]);
    let second = pipeline_id(&log(&events, "show 1/2"));
    assert!(second > first, "{first} then {second}");
}

#[test]
fn tag_pipelines() {
    let yaml = "release:\n  rules: [{if: $CI_COMMIT_TAG}]\n  script:\n    - echo \"tag=$CI_COMMIT_TAG slug=$CI_COMMIT_REF_SLUG branch=${CI_COMMIT_BRANCH:-none}\"\n";
    let (code, events, _t) = run_json(Test::new(yaml), &["--tag", "v1.2.0"]);
    assert_eq!(code, 0);
    assert!(log(&events, "release").contains("tag=v1.2.0 slug=v1-2-0 branch=none"));
}

#[test]
fn variable_precedence_and_expansion() {
    let yaml = r#"
variables:
  GLOBAL: global
  OVERRIDDEN: global
  COMPOSED: "${GLOBAL}-composed"
  RAW:
    value: "$GLOBAL stays"
    expand: false
  DOLLAR: "cost $$5"
job:
  variables:
    OVERRIDDEN: job
    FROM_CLI: job
  script:
    - echo "o=$OVERRIDDEN c=$COMPOSED r=$RAW d=$DOLLAR cli=$FROM_CLI"
"#;
    let (code, events, _t) = run_json(Test::new(yaml), &["--variable", "FROM_CLI=cli"]);
    assert_eq!(code, 0);
    let out = log(&events, "job");
    assert!(
        out.contains("o=job c=global-composed r=$GLOBAL stays d=cost $5 cli=cli"),
        "{out}"
    );
}

#[test]
fn masked_and_file_variables_from_a_variables_file() {
    let yaml = r#"
job:
  script:
    - echo "token=$API_TOKEN"
    - printf 'split=%s' "${API_TOKEN:0:6}"; sleep 0.2; printf '%s\n' "${API_TOKEN:6}"
    - echo "job-token=$CI_JOB_TOKEN"
    - echo "config is at a file:" && test -f "$KUBECONFIG" && cat "$KUBECONFIG"
"#;
    let t = Test::new(yaml);
    let vars = t.repo.home().join("vars.yml");
    std::fs::write(
        &vars,
        "API_TOKEN: {value: s3cr3t-t0k3n-value, masked: true}\nKUBECONFIG: {value: \"apiVersion: v1\", file: true}\n",
    )
    .unwrap();
    let (code, events, t) = run_json(t, &["--variables-file", vars.to_str().unwrap()]);
    assert_eq!(code, 0);
    let out = log(&events, "job");
    assert!(!out.contains("s3cr3t"), "secret leaked:\n{out}");
    assert!(out.contains("token=[MASKED]"), "{out}");
    assert!(out.contains("split=[MASKED]"), "{out}");
    assert!(!out.contains("glcbt-"), "job token leaked:\n{out}");
    assert!(out.contains("apiVersion: v1"), "{out}");
    // The per-job log file on disk is masked too.
    let logs = t.repo.path().join(".gantry/logs");
    let mut all = String::new();
    for entry in walk(&logs) {
        all.push_str(&std::fs::read_to_string(entry).unwrap_or_default());
    }
    assert!(!all.is_empty());
    assert!(!all.contains("s3cr3t"), "secret in log files");
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}

#[test]
fn dotenv_reports_pass_variables_to_later_jobs() {
    let yaml = r#"
build:
  stage: build
  script:
    - echo "VERSION=1.2.3" > build.env
  artifacts:
    reports:
      dotenv: build.env
deploy:
  stage: deploy
  needs: [build]
  script:
    - echo "deploying $VERSION"
"#;
    let (code, events, _t) = run_json(Test::new(yaml), &[]);
    assert_eq!(code, 0);
    assert!(log(&events, "deploy").contains("deploying 1.2.3"));
}

#[test]
fn uncommitted_changes_are_in_the_job_copy() {
    let yaml = "job:\n  script: [cat notes.txt, test ! -e ignored.log]\n";
    let t = Test::new(yaml)
        .file("notes.txt", "work in progress\n")
        .file(".gitignore", "*.log\n")
        .file("ignored.log", "x\n");
    let (code, events, _t) = run_json(t, &[]);
    assert_eq!(code, 0, "{}", log(&events, "job"));
    assert!(log(&events, "job").contains("work in progress"));
}

#[test]
fn named_jobs_needs_and_manual_jobs() {
    let yaml = r"
a:
  stage: build
  script: [echo a > a.txt]
  artifacts: {paths: [a.txt]}
b:
  stage: test
  needs: [a]
  script: [cat a.txt]
manual:
  stage: deploy
  when: manual
  script: [echo manual ran]
";
    // The whole pipeline: the manual job is not played.
    let (code, events, _t) = run_json(Test::new(yaml), &[]);
    assert_eq!(code, 0);
    assert_eq!(status(&events, "manual"), "manual");
    // A named job runs alone.
    let (code, events, _t) = run_json(Test::new(yaml), &["a"]);
    assert_eq!(code, 0);
    assert_eq!(status(&events, "a"), "success");
    assert_eq!(status(&events, "b"), "missing");
    // With --needs its needs run first and their artifacts arrive.
    let (code, events, _t) = run_json(Test::new(yaml), &["b", "--needs"]);
    assert_eq!(code, 0);
    assert_eq!(status(&events, "a"), "success");
    assert!(log(&events, "b").contains('a'));
    // A manual job runs when named.
    let (code, events, _t) = run_json(Test::new(yaml), &["manual"]);
    assert_eq!(code, 0);
    assert!(log(&events, "manual").contains("manual ran"));
    // An unknown job is a usage error.
    let out = Test::new(yaml).args(&["run", "nope"]).expect_code(2);
    assert!(out.stderr.contains("no job named `nope`"), "{}", out.stderr);
}

#[test]
fn invalid_configuration_exits_2() {
    let out = Test::new("job:\n  scirpt: x\n")
        .args(&["run"])
        .expect_code(2);
    assert!(
        out.stderr.contains("jobs job config should implement"),
        "{}",
        out.stderr
    );
}

#[test]
fn text_output_has_a_summary() {
    let out =
        Test::new("ok:\n  script: [echo hi]\nbad:\n  script: [exit 3]\n  allow_failure: true\n")
            .args(&["run"])
            .expect_code(0);
    assert!(out.stdout.contains("ok"), "{}", out.stdout);
    assert!(out.stdout.contains("Pipeline success"), "{}", out.stdout);
}

/// Processes whose command line contains `marker`.
fn processes_with(marker: &str) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let cmdline = entry.path().join("cmdline");
        if let Ok(bytes) = std::fs::read(&cmdline) {
            let text = String::from_utf8_lossy(&bytes).replace('\0', " ");
            if text.contains(marker) {
                found.push(text);
            }
        }
    }
    found
}

#[test]
fn sigint_cancels_and_leaves_nothing_running() {
    let marker = format!("gantry-cancel-marker-{}", std::process::id());
    let yaml = format!(
        "long:\n  script:\n    - bash -c 'sleep 300; echo {marker}' &\n    - sleep 300 # {marker}\n  after_script:\n    - echo after ran\n"
    );
    let t = Test::new(&yaml).args(&["run", "-o", "json"]);
    let child = t
        .command()
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until the job's processes exist.
    let start = Instant::now();
    while processes_with(&marker).len() < 2 && start.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(!processes_with(&marker).is_empty(), "job never started");
    unsafe_kill(child.id(), 2);
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains(r#""status":"canceled""#), "{stdout}");
    let start = Instant::now();
    while !processes_with(&marker).is_empty() && start.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(
        processes_with(&marker),
        Vec::<String>::new(),
        "processes left behind"
    );
}

fn unsafe_kill(pid: u32, signal: i32) {
    let status = std::process::Command::new("kill")
        .arg(format!("-{signal}"))
        .arg(pid.to_string())
        .status()
        .unwrap();
    assert!(status.success());
}
