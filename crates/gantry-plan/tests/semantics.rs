//! The plan against GitLab's documented behaviour, for configurations held in memory and a
//! pipeline context built without git (no diff: `changes` is true).

use std::collections::BTreeMap;
use std::path::Path;

use gantry_config::LoadOptions;
use gantry_plan::{ContextOptions, GitFacts, PipelineContext, Plan};

struct Ctx {
    branch: Option<&'static str>,
    tag: Option<&'static str>,
    source: Option<&'static str>,
}

const MAIN: Ctx = Ctx {
    branch: None,
    tag: None,
    source: None,
};

fn context(c: &Ctx) -> PipelineContext {
    let options = ContextOptions {
        project_dir: Path::new("/nonexistent-gantry-project").to_path_buf(),
        config_path: ".gitlab-ci.yml".into(),
        branch: c.branch.map(str::to_string),
        tag: c.tag.map(str::to_string),
        source: c.source.map(str::to_string),
        ..ContextOptions::default()
    };
    let git = GitFacts {
        is_repo: false,
        sha: "0123456789abcdef0123456789abcdef01234567".into(),
        message: "Initial commit".into(),
        author: "Test User <test@example.com>".into(),
        timestamp: "2024-01-01T00:00:00Z".into(),
        branch: Some("main".into()),
        origin_url: Some("git@gitlab.example.com:my-group/my-project.git".into()),
        default_branch: Some("main".into()),
        ..GitFacts::default()
    };
    PipelineContext::with_git(&options, git)
}

fn plan(yaml: &str, c: &Ctx) -> Result<Plan, String> {
    let ctx = context(c);
    let vars = |name: &str| {
        ctx.predefined
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    let mappings = BTreeMap::new();
    let options = LoadOptions {
        project_dir: &ctx.project_dir,
        config_file: ".gitlab-ci.yml",
        project_mappings: &mappings,
        variables: &vars,
        remote_cache: None,
    };
    let config = gantry_config::load_text(
        &gantry_yaml::SourceFile::new(".gitlab-ci.yml", yaml),
        &options,
    )
    .map_err(|e| e.errors[0].message.clone())?;
    gantry_plan::plan(&config, &ctx).map_err(|e| e.errors[0].message.clone())
}

/// `name when allow_failure` of every planned job.
fn summary(yaml: &str, c: &Ctx) -> Vec<String> {
    let p = plan(yaml, c).unwrap_or_else(|e| panic!("plan failed: {e}"));
    p.jobs
        .iter()
        .map(|j| format!("{} {} {}", j.name, j.when.as_str(), j.allows_failure()))
        .collect()
}

fn names(yaml: &str, c: &Ctx) -> Vec<String> {
    plan(yaml, c)
        .unwrap_or_else(|e| panic!("plan failed: {e}"))
        .jobs
        .into_iter()
        .map(|j| j.name)
        .collect()
}

#[test]
fn job_level_manual_is_non_blocking_whatever_the_rule_says_about_when() {
    // GitLab: allow_failure = rules:allow_failure, else the job's allow_failure, else
    // (job-level `when` == manual). The rule's `when` does not enter into it.
    let yaml = r"
a:
  script: echo
  when: manual
  rules:
    - when: manual
b:
  script: echo
  when: manual
  rules:
    - when: on_success
c:
  script: echo
  rules:
    - when: manual
d:
  script: echo
  when: manual
  allow_failure: false
  rules:
    - when: manual
e:
  script: echo
  when: manual
  rules:
    - when: manual
      allow_failure: false
";
    assert_eq!(
        summary(yaml, &MAIN),
        [
            "a manual true",
            "b on_success true",
            "c manual false",
            "d manual false",
            "e manual false"
        ]
    );
}

#[test]
fn refs_keywords_follow_the_pipeline_source() {
    // A refs entry matches the source with `_event` stripped, or its plural.
    let yaml = r"
pushes:
  script: echo
  only: [pushes]
push:
  script: echo
  only: [push]
pipelines:
  script: echo
  only: [pipelines]
parent-pipelines:
  script: echo
  only: [parent_pipelines]
merge-request:
  script: echo
  only: [merge_request]
";
    assert_eq!(names(yaml, &MAIN), ["pushes", "push"]);
    let tag = Ctx {
        tag: Some("v1"),
        ..MAIN
    };
    assert_eq!(names(yaml, &tag), ["pushes", "push"]);
    let parent = Ctx {
        source: Some("parent_pipeline"),
        ..MAIN
    };
    assert_eq!(names(yaml, &parent), ["parent-pipelines"]);
    let pipeline = Ctx {
        source: Some("pipeline"),
        ..MAIN
    };
    assert_eq!(names(yaml, &pipeline), ["pipelines"]);
    let mr = Ctx {
        source: Some("merge_request_event"),
        ..MAIN
    };
    assert_eq!(names(yaml, &mr), ["merge-request"]);
}

#[test]
fn refs_project_suffix_starts_at_the_first_at_sign() {
    // `pattern@project` is split at the first `@`, for regexes too.
    let yaml = r"
regex-with-at:
  script: echo
  only: ['/^release@x$/']
literal-project:
  script: echo
  only: [main@my-group/my-project]
regex-project:
  script: echo
  only: ['/^ma/@my-group/my-project']
other-project:
  script: echo
  only: ['/^ma/@other/project']
";
    let c = Ctx {
        branch: Some("release@x"),
        ..MAIN
    };
    assert!(names(yaml, &c).is_empty());
    assert_eq!(names(yaml, &MAIN), ["literal-project", "regex-project"]);
}

#[test]
fn merge_request_pipelines_have_no_commit_branch() {
    let yaml = r#"
branch:
  script: echo
  rules:
    - if: $CI_COMMIT_BRANCH
mr:
  script: echo
  rules:
    - if: $CI_MERGE_REQUEST_SOURCE_BRANCH_NAME == "main" && $CI_MERGE_REQUEST_TARGET_BRANCH_NAME == "main"
ref-name:
  script: echo
  rules:
    - if: $CI_COMMIT_REF_NAME == "main"
"#;
    let mr = Ctx {
        source: Some("merge_request_event"),
        ..MAIN
    };
    assert_eq!(names(yaml, &mr), ["mr", "ref-name"]);
    assert_eq!(names(yaml, &MAIN), ["branch", "ref-name"]);
}

#[test]
fn needs_on_trigger_jobs_are_dropped_with_a_warning() {
    let yaml = r"
build:
  stage: build
  script: echo
bridge:
  stage: build
  trigger: group/project
after:
  script: echo
  needs: [build, bridge]
";
    let p = plan(yaml, &MAIN).expect("plan");
    let after = p.jobs.iter().find(|j| j.name == "after").expect("after");
    let needs: Vec<&str> = after
        .needs
        .as_ref()
        .expect("needs")
        .iter()
        .map(|n| n.job.as_str())
        .collect();
    assert_eq!(needs, ["build"]);
    assert!(
        p.warnings
            .iter()
            .any(|w| w.message.contains("after") && w.message.contains("bridge")),
        "{:?}",
        p.warnings
    );
}

#[test]
fn null_stages_are_the_default_stages() {
    let yaml = "stages:\nbuild:\n  stage: build\n  script: echo\ntest:\n  script: echo\n";
    let p = plan(yaml, &MAIN).expect("plan");
    assert_eq!(p.stages, [".pre", "build", "test", "deploy", ".post"]);
}

#[test]
fn dependencies_empty_none_and_parallel() {
    let yaml = r"
build:
  stage: build
  script: echo
  parallel: 2
default-deps:
  script: echo
no-deps:
  script: echo
  dependencies: []
some-deps:
  script: echo
  dependencies: [build]
";
    let p = plan(yaml, &MAIN).expect("plan");
    let deps = |name: &str| {
        p.jobs
            .iter()
            .find(|j| j.name == name)
            .expect("job")
            .dependencies
            .clone()
    };
    // No `dependencies`: artifacts of all earlier stages (the engine decides); `[]`: none; a
    // parallel job stands for all its instances.
    assert_eq!(deps("default-deps"), None);
    assert_eq!(deps("no-deps"), Some(vec![]));
    assert_eq!(
        deps("some-deps"),
        Some(vec!["build 1/2".to_string(), "build 2/2".to_string()])
    );
}

#[test]
fn workflow_name_is_expanded_and_trimmed() {
    let yaml = "workflow:\n  name: '  Deploy $CI_COMMIT_REF_NAME to $TARGET  '\n  rules:\n    - variables: {TARGET: prod}\njob:\n  script: echo\n";
    assert_eq!(
        plan(yaml, &MAIN).expect("plan").name.as_deref(),
        Some("Deploy main to prod")
    );
    let empty = "workflow:\n  name: '$UNDEFINED '\njob:\n  script: echo\n";
    assert_eq!(plan(empty, &MAIN).expect("plan").name, None);
}

#[test]
fn inherit_variables_list_also_filters_workflow_variables() {
    // workflow:rules:variables join the top-level variables, which `inherit:variables` filters.
    let yaml = r#"
workflow:
  rules:
    - variables: {FROM_WORKFLOW: "yes"}
variables:
  TOP: "yes"
sees-both:
  script: echo
  rules:
    - if: $FROM_WORKFLOW == "yes" && $TOP == "yes"
sees-top-only:
  script: echo
  inherit:
    variables: [TOP]
  rules:
    - if: $FROM_WORKFLOW == null && $TOP == "yes"
sees-none:
  script: echo
  inherit:
    variables: false
  rules:
    - if: $FROM_WORKFLOW == null && $TOP == null
"#;
    assert_eq!(
        names(yaml, &MAIN),
        ["sees-both", "sees-top-only", "sees-none"]
    );
}

#[test]
fn pipelines_of_only_trigger_jobs_say_so() {
    let yaml = "bridge:\n  trigger: group/project\n";
    let p = plan(yaml, &MAIN).expect("plan");
    assert!(p.jobs.is_empty());
    assert!(
        p.filtered
            .as_deref()
            .is_some_and(|f| f.contains("only trigger jobs")),
        "{:?}",
        p.filtered
    );
}
