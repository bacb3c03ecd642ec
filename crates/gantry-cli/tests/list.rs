//! `gantry list`: which jobs a pipeline creates, for which context, with GitLab's names.

mod common;

use common::Test;
use serde_json::Value;

fn list_json(test: Test) -> Value {
    let out = test.args(&["list", "-o", "json"]).expect_code(0);
    serde_json::from_str(&out.stdout).expect("list prints JSON")
}

#[test]
fn json_shape_in_stage_order() {
    let yaml = r"
stages: [build, test, deploy]
deploy:
  stage: deploy
  script: echo
  when: manual
test:
  stage: test
  script: echo
  needs: [build]
  allow_failure: true
build:
  stage: build
  script: echo
";
    let v = list_json(Test::new(yaml));
    assert_eq!(
        v,
        serde_json::json!([
            {"name": "build", "stage": "build", "when": "on_success", "allow_failure": false, "needs": null},
            {"name": "test", "stage": "test", "when": "on_success", "allow_failure": true, "needs": ["build"]},
            {"name": "deploy", "stage": "deploy", "when": "manual", "allow_failure": true, "needs": null},
        ])
    );
}

#[test]
fn parallel_and_matrix_names() {
    let yaml = r"
test:
  script: echo
  parallel: 3
deploy:
  script: echo
  parallel:
    matrix:
      - PROVIDER: aws
        STACK: [monitoring, app1]
      - PROVIDER: [gcp, vultr]
        STACK: data
";
    let names = Test::new(yaml).job_names();
    assert_eq!(
        names,
        [
            "test 1/3",
            "test 2/3",
            "test 3/3",
            "deploy: [aws, monitoring]",
            "deploy: [aws, app1]",
            "deploy: [gcp, data]",
            "deploy: [vultr, data]",
        ]
    );
}

#[test]
fn rules_on_branch_and_tag() {
    let yaml = r"
build:
  script: echo
release:
  script: echo
  rules:
    - if: $CI_COMMIT_TAG
feature:
  script: echo
  rules:
    - if: $CI_COMMIT_BRANCH != $CI_DEFAULT_BRANCH
      when: manual
    - when: never
main-only:
  script: echo
  rules:
    - if: '$CI_COMMIT_REF_NAME =~ /^ma/'
";
    assert_eq!(Test::new(yaml).job_names(), ["build", "main-only"]);
    // On a tag CI_COMMIT_BRANCH is undefined, and null != "main" holds: `feature` is added too.
    assert_eq!(
        Test::new(yaml).args(&["--tag", "v1.0.0"]).job_names(),
        ["build", "release", "feature"]
    );
    let v = list_json(Test::new(yaml).args(&["--ref", "feature/x"]));
    let names: Vec<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["build", "feature"]);
    // `rules: when: manual` is blocking: allow_failure false.
    assert_eq!(v[1]["when"], "manual");
    assert_eq!(v[1]["allow_failure"], false);
}

#[test]
fn only_except_refs_and_keywords() {
    let yaml = r"
tags-only:
  script: echo
  only: [tags]
main-only:
  script: echo
  only: [main]
regex:
  script: echo
  only: ['/^release-.*$/']
not-main:
  script: echo
  except: [main]
schedules:
  script: echo
  only: [schedules]
always:
  script: echo
";
    assert_eq!(Test::new(yaml).job_names(), ["main-only", "always"]);
    assert_eq!(
        Test::new(yaml).args(&["--ref", "release-1"]).job_names(),
        ["regex", "not-main", "always"]
    );
    assert_eq!(
        Test::new(yaml).args(&["--tag", "v1"]).job_names(),
        ["tags-only", "not-main", "always"]
    );
    assert_eq!(
        Test::new(yaml).args(&["--source", "schedule"]).job_names(),
        ["main-only", "schedules", "always"]
    );
}

#[test]
fn merge_request_pipelines_drop_default_only_jobs() {
    let yaml = "plain:\n  script: echo\nmr:\n  script: echo\n  only: [merge_requests]\n";
    assert_eq!(
        Test::new(yaml)
            .args(&["--source", "merge_request_event"])
            .job_names(),
        ["mr"]
    );
}

#[test]
fn workflow_rules_filter_the_pipeline() {
    let yaml = "workflow:\n  rules:\n    - if: $CI_COMMIT_TAG\njob:\n  script: echo\n";
    let out = Test::new(yaml).args(&["list"]).expect_code(0);
    assert!(
        out.stderr.contains("filtered out by workflow rules"),
        "{}",
        out.stderr
    );
    assert_eq!(Test::new(yaml).args(&["--tag", "v1"]).job_names(), ["job"]);
}

#[test]
fn workflow_variables_reach_job_rules() {
    let yaml = r#"
workflow:
  rules:
    - if: $CI_COMMIT_BRANCH == "main"
      variables: {DEPLOY: "yes"}
    - when: always
job:
  script: echo
  rules:
    - if: $DEPLOY == "yes"
"#;
    assert_eq!(Test::new(yaml).job_names(), ["job"]);
    assert!(
        Test::new(yaml)
            .args(&["--ref", "dev"])
            .job_names()
            .is_empty()
    );
}

#[test]
fn user_variables_are_visible_to_rules() {
    let yaml = "job:\n  script: echo\n  rules:\n    - if: $RUN_IT == \"1\"\n";
    assert!(Test::new(yaml).job_names().is_empty());
    assert_eq!(
        Test::new(yaml)
            .args(&["--variable", "RUN_IT=1"])
            .job_names(),
        ["job"]
    );
}

#[test]
fn matrix_variables_are_visible_to_rules() {
    let yaml = r#"
job:
  script: echo
  parallel:
    matrix:
      - OS: [linux, windows]
  rules:
    - if: $OS == "linux"
"#;
    assert_eq!(Test::new(yaml).job_names(), ["job: [linux]"]);
}

#[test]
fn rules_exists_and_changes() {
    let yaml = r"
go:
  script: echo
  rules:
    - exists: ['**/*.go']
docs:
  script: echo
  rules:
    - changes: [docs/**/*]
";
    // A first push has no diff to compare with: `changes` is true.
    let t = Test::new(yaml).file("cmd/main.go", "package main\n");
    assert_eq!(t.job_names(), ["go", "docs"]);
    // On the default branch, the last commit (and uncommitted work) is the change.
    let repo = gantry_test_support::GitRepo::with_pipeline(yaml)
        .file("README.md", "x\n")
        .commit("Readme");
    assert!(Test::from_repo(repo).job_names().is_empty());
    // On a feature branch, files changed since the default branch count.
    let t = Test::new(yaml);
    t.repo.git(&["checkout", "-q", "-b", "doc-work"]);
    let t = t.file("docs/guide/a.md", "x\n");
    assert_eq!(t.job_names(), ["docs"]);
    // Tag pipelines have no diff: changes is true.
    assert_eq!(Test::new(yaml).args(&["--tag", "v1"]).job_names(), ["docs"]);
}

#[test]
fn needs_on_parallel_job_expand_to_all_instances() {
    let yaml = r"
build:
  stage: build
  script: echo
  parallel:
    matrix:
      - ARCH: [amd64, arm64]
test:
  script: echo
  needs:
    - job: build
      parallel:
        matrix:
          - ARCH: arm64
all:
  script: echo
  needs: [build]
";
    let v = list_json(Test::new(yaml));
    assert_eq!(v[2]["needs"], serde_json::json!(["build: [arm64]"]));
    assert_eq!(
        v[3]["needs"],
        serde_json::json!(["build: [amd64]", "build: [arm64]"])
    );
}

#[test]
fn optional_need_on_missing_job_is_dropped() {
    let yaml = r"
a:
  script: echo
  rules: [{if: $NOPE}]
b:
  script: echo
  needs: [{job: a, optional: true}]
";
    let v = list_json(Test::new(yaml));
    assert_eq!(v[0]["name"], "b");
    assert_eq!(v[0]["needs"], serde_json::json!([]));
}

#[test]
fn text_table() {
    let out = Test::new(
        "build:\n  stage: build\n  script: echo\ntest:\n  script: echo\n  needs: [build]\n",
    )
    .args(&["list"])
    .expect_code(0);
    assert_eq!(
        out.stdout,
        "NAME   STAGE  WHEN        ALLOW FAILURE  NEEDS\nbuild  build  on_success  false\ntest   test   on_success  false          [build]\n"
    );
}

#[test]
fn includes_extends_references_and_default() {
    let yaml = r"
include:
  - local: ci/templates.yml
  - ci/jobs/*.yml
default:
  tags: [shared]
job:
  extends: .base
  script:
    - !reference [.setup, script]
    - echo job
";
    let t = Test::new(yaml)
        .file(
            "ci/templates.yml",
            ".base:\n  stage: build\n.setup:\n  script: [echo setup]\n",
        )
        .file("ci/jobs/a.yml", "from-a:\n  script: echo a\n")
        .file("ci/jobs/b.yml", "from-b:\n  script: echo b\n");
    let out = t.args(&["preview"]).expect_code(0);
    assert!(out.stdout.contains("- echo setup\n"), "{}", out.stdout);
    assert!(out.stdout.contains("from-a:"), "{}", out.stdout);
}

#[test]
fn include_inputs_are_interpolated() {
    let yaml = r"
include:
  - local: ci/scan.yml
    inputs:
      stage: build
      jobs: 2
";
    let t = Test::new(yaml).file(
        "ci/scan.yml",
        "spec:\n  inputs:\n    stage:\n    prefix:\n      default: scan\n    jobs:\n      type: number\n---\n\"$[[ inputs.prefix ]]-job\":\n  stage: $[[ inputs.stage ]]\n  script: echo\n  parallel: $[[ inputs.jobs ]]\n",
    );
    let v = list_json(t);
    assert_eq!(v[0]["name"], "scan-job 1/2");
    assert_eq!(v[0]["stage"], "build");
}

#[test]
fn include_inputs_type_errors() {
    let yaml = "include:\n  - local: ci/scan.yml\n    inputs:\n      jobs: two\n";
    let out = Test::new(yaml)
        .file(
            "ci/scan.yml",
            "spec:\n  inputs:\n    jobs:\n      type: number\n---\njob:\n  script: echo\n",
        )
        .args(&["lint"])
        .expect_code(2);
    assert!(
        out.stderr
            .contains("`jobs` input: provided value is not a number"),
        "{}",
        out.stderr
    );
}

#[test]
fn include_rules() {
    let yaml = r"
include:
  - local: ci/tag.yml
    rules:
      - if: $CI_COMMIT_TAG
job:
  script: echo
";
    let t = || Test::new(yaml).file("ci/tag.yml", "tagjob:\n  script: echo\n");
    assert_eq!(t().job_names(), ["job"]);
    assert_eq!(t().args(&["--tag", "v2"]).job_names(), ["tagjob", "job"]);
}

#[test]
fn include_project_from_a_local_mapping() {
    let other = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(other.path().join("templates")).unwrap();
    std::fs::write(
        other.path().join("templates/go.yml"),
        "go-build:\n  script: echo\n",
    )
    .unwrap();
    let mapping = format!("shared/ci={}", other.path().display());
    let names = Test::new("include:\n  - project: shared/ci\n    file: /templates/go.yml\n")
        .args(&["--project-dir", &mapping])
        .job_names();
    assert_eq!(names, ["go-build"]);
}

#[test]
fn yaml_typing_of_variables_and_keys() {
    let yaml = "job:\n  script: echo\n  rules:\n    - if: $V == \"5349\" && $F == \"1.1\" && $B == \"true\"\n  variables:\n    V: 012345\n    F: 1.10\n    B: yes\n";
    assert_eq!(Test::new(yaml).job_names(), ["job"]);
}
