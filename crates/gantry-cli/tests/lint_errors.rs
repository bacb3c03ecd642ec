//! Every validation rule gives GitLab's message, a location and exit code 2.

mod common;

use std::fmt::Write as _;

use common::Test;

/// Lints `yaml` and asserts that it is invalid with `message`, pointing at `line`.
fn invalid(yaml: &str, message: &str, line: u32) {
    let out = Test::new(yaml).args(&["lint"]).expect_code(2);
    assert!(
        out.stderr.contains(message),
        "expected {message:?} in:\n{}",
        out.stderr
    );
    let location = format!(".gitlab-ci.yml:{line}:");
    assert!(
        out.stderr.contains(&location),
        "expected location {location} in:\n{}",
        out.stderr
    );
}

#[test]
fn unknown_job_key() {
    invalid(
        "build:\n  scirpt: echo\n  script: echo\n",
        "jobs:build config contains unknown keys: scirpt",
        2,
    );
}

#[test]
fn unknown_key_is_lowercased_like_gitlab() {
    invalid(
        "Build:\n  script: echo\n  Foo: 1\n",
        "jobs:build config contains unknown keys: foo",
        3,
    );
}

#[test]
fn job_without_script() {
    invalid(
        "build_job:\n  stage: build\n",
        "jobs build job config should implement the script:, run:, or trigger: keyword",
        2,
    );
}

#[test]
fn only_hidden_jobs() {
    invalid(
        ".hidden:\n  script: echo\n",
        "jobs config should contain at least one visible job",
        1,
    );
}

#[test]
fn bad_script_type() {
    invalid(
        "build:\n  script: {a: 1}\n",
        "jobs:build:script config should be a string or a nested array of strings up to 10 levels deep",
        2,
    );
}

#[test]
fn unknown_stage() {
    invalid(
        "stages: [build]\nlint:\n  stage: check\n  script: echo\n",
        "lint job: chosen stage check does not exist; available stages are .pre, build, .post",
        3,
    );
}

#[test]
fn default_stage_test_missing() {
    invalid(
        "stages: [build]\nlint:\n  script: echo\n",
        "lint job: chosen stage test does not exist",
        2,
    );
}

#[test]
fn undefined_need() {
    invalid(
        "build:\n  script: echo\n  needs: [compile]\n",
        "build job: undefined need: compile",
        3,
    );
}

#[test]
fn need_in_later_stage() {
    invalid(
        "build:\n  stage: build\n  script: echo\n  needs: [deploy]\ndeploy:\n  stage: deploy\n  script: echo\n",
        "build job: need deploy is not defined in current or prior stages",
        4,
    );
}

#[test]
fn duplicated_needs() {
    invalid(
        "a:\n  script: echo\nb:\n  script: echo\n  needs: [a, a]\n",
        "b has the following needs duplicated: a.",
        3,
    );
}

#[test]
fn needs_cycle() {
    invalid(
        "a:\n  script: echo\n  needs: [b]\nb:\n  script: echo\n  needs: [a]\n",
        "The pipeline has circular dependencies",
        1,
    );
}

#[test]
fn undefined_dependency() {
    invalid(
        "a:\n  script: echo\n  dependencies: [nope]\n",
        "a job: undefined dependency: nope",
        1,
    );
}

#[test]
fn dependencies_must_be_in_needs() {
    invalid(
        "a:\n  script: echo\nb:\n  script: echo\n  needs: [a]\nc:\n  script: echo\n  needs: [b]\n  dependencies: [a]\n",
        "jobs:c dependencies the a should be part of needs",
        7,
    );
}

#[test]
fn extends_unknown_parent() {
    invalid(
        "rspec:\n  extends: .tmpl\n  script: echo\n",
        "rspec: unknown keys in `extends` (.tmpl)",
        2,
    );
}

#[test]
fn extends_cycle() {
    invalid(
        ".a:\n  extends: .b\n.b:\n  extends: .a\njob:\n  extends: .a\n  script: echo\n",
        "circular dependency detected in `extends`",
        2,
    );
}

#[test]
fn extends_nesting_too_deep() {
    let mut yaml = String::new();
    for i in 0..13 {
        let _ = write!(yaml, ".t{i}:\n  extends: .t{}\n", i + 1);
    }
    yaml.push_str(".t13:\n  script: echo\njob:\n  extends: .t0\n");
    let out = Test::new(&yaml).args(&["lint"]).expect_code(2);
    assert!(
        out.stderr.contains("nesting too deep in `extends`"),
        "{}",
        out.stderr
    );
}

#[test]
fn extends_eleven_parents_is_fine() {
    let mut yaml = String::new();
    for i in 0..10 {
        let _ = write!(yaml, ".t{i}:\n  extends: .t{}\n", i + 1);
    }
    yaml.push_str(".t10:\n  script: echo\njob:\n  extends: .t0\n");
    Test::new(&yaml).args(&["lint"]).expect_code(0);
}

#[test]
fn reference_not_found() {
    invalid(
        "job:\n  script: !reference [.setup, script]\n",
        "!reference [\".setup\", \"script\"] could not be found",
        2,
    );
}

#[test]
fn reference_not_valid() {
    invalid("job:\n  script: !reference [1]\n", "is not valid", 2);
}

#[test]
fn reference_cycle() {
    invalid(
        ".a:\n  script: !reference [.b, script]\n.b:\n  script: !reference [.a, script]\njob:\n  script: !reference [.a, script]\n",
        "is part of a circular chain",
        2,
    );
}

#[test]
fn rules_with_start_in() {
    invalid(
        "job:\n  script: echo\n  rules: [{when: delayed, start_in: 1 hour}]\n  start_in: 1 hour\n",
        "jobs:job config key may not be used with `rules`: start_in",
        4,
    );
}

#[test]
fn rules_with_only() {
    invalid(
        "job:\n  script: echo\n  rules: [{when: always}]\n  only: [main]\n",
        "jobs:job config key may not be used with `rules`: only",
        4,
    );
}

#[test]
fn invalid_rules_expression() {
    invalid(
        "job:\n  script: echo\n  rules:\n    - if: '$A = \"x\"'\n",
        "jobs:job:rules:rule if invalid expression syntax",
        4,
    );
}

#[test]
fn invalid_when() {
    invalid(
        "job:\n  script: echo\n  when: sometimes\n",
        "jobs:job when should be one of: on_success, on_failure, always, manual, delayed",
        3,
    );
}

#[test]
fn invalid_cache_when() {
    invalid(
        "job:\n  script: echo\n  cache: {paths: [a], when: later}\n",
        "jobs:job:cache when should be one of: on_success, on_failure, always",
        3,
    );
}

#[test]
fn too_many_tags() {
    let tags: Vec<String> = (0..50).map(|i| format!("t{i}")).collect();
    invalid(
        &format!("job:\n  script: echo\n  tags: [{}]\n", tags.join(", ")),
        "jobs:job:tags config must be less than the limit of 50 tags",
        3,
    );
}

#[test]
fn parallel_out_of_range() {
    invalid(
        "job:\n  script: echo\n  parallel: 201\n",
        "must be greater than or equal to 1 and less than or equal to 200",
        3,
    );
}

#[test]
fn retry_max_too_big() {
    invalid(
        "job:\n  script: echo\n  retry: 3\n",
        "jobs:job:retry max config must be less than or equal to 2",
        3,
    );
}

#[test]
fn global_and_default_conflict() {
    invalid(
        "image: a\ndefault:\n  image: b\njob:\n  script: echo\n",
        "image is defined in top-level and `default:` entry",
        1,
    );
}

#[test]
fn unknown_default_key() {
    invalid(
        "default:\n  stage: build\njob:\n  script: echo\n",
        "default config contains unknown keys: stage",
        2,
    );
}

#[test]
fn variables_must_be_a_hash() {
    invalid(
        "variables: [a]\njob:\n  script: echo\n",
        "variables config should be a hash of key value pairs",
        1,
    );
}

#[test]
fn dates_are_rejected_with_their_position() {
    invalid(
        "job:\n  script: echo\n  variables:\n    DAY: 2024-01-01\n",
        "Tried to load unspecified class: Date",
        4,
    );
}

#[test]
fn syntax_error_points_at_the_line() {
    let out = Test::new("job:\n  script: [echo\n")
        .args(&["lint"])
        .expect_code(2);
    assert!(out.stderr.contains(".gitlab-ci.yml:"), "{}", out.stderr);
}

#[test]
fn missing_local_include() {
    invalid(
        "include: ci/missing.yml\njob:\n  script: echo\n",
        "Local file `ci/missing.yml` does not exist!",
        1,
    );
}

#[test]
fn include_without_yaml_extension() {
    let out = Test::new("include: ci/x.txt\njob:\n  script: echo\n")
        .file("ci/x.txt", "a: 1\n")
        .args(&["lint"])
        .expect_code(2);
    assert!(
        out.stderr
            .contains("Included file `ci/x.txt` does not have YAML extension!"),
        "{}",
        out.stderr
    );
}

#[test]
fn template_include_is_a_clear_offline_error() {
    invalid(
        "include:\n  - template: Security/SAST.gitlab-ci.yml\njob:\n  script: echo\n",
        "Included template `Security/SAST.gitlab-ci.yml` is not available offline",
        2,
    );
}

#[test]
fn project_include_without_mapping() {
    invalid(
        "include:\n  - project: g/p\n    file: /ci.yml\njob:\n  script: echo\n",
        "Project `g/p` not found or access denied!",
        2,
    );
}

#[test]
fn need_removed_by_rules() {
    let yaml = "a:\n  script: echo\n  rules: [{if: '$NEVER'}]\nb:\n  script: echo\n  needs: [a]\n";
    let out = Test::new(yaml).args(&["lint"]).expect_code(2);
    assert!(
        out.stderr
            .contains("'b' job needs 'a' job, but 'a' is not in any previous stage"),
        "{}",
        out.stderr
    );
}

#[test]
fn errors_are_json_with_lint_output_json() {
    let out = Test::new("build:\n  scirpt: echo\n  script: echo\n")
        .args(&["lint", "-o", "json"])
        .expect_code(2);
    let v: serde_json::Value = serde_json::from_str(&out.stdout).expect("json");
    assert_eq!(v["valid"], false);
    assert!(
        v["errors"][0]
            .as_str()
            .unwrap()
            .contains("unknown keys: scirpt")
    );
    assert_eq!(v["diagnostics"][0]["line"], 2);
}

#[test]
fn files_over_two_mebibytes_are_too_big() {
    let mut yaml = String::from("job:\n  script: echo\n  variables:\n");
    let mut i = 0;
    while yaml.len() <= 2 * 1024 * 1024 {
        let _ = writeln!(yaml, "    V{i}: \"{}\"", "x".repeat(200));
        i += 1;
    }
    invalid(&yaml, "The parsed YAML is too big", 1);
}
