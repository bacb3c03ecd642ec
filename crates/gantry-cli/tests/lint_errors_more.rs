//! More validation rules, beyond `lint_errors.rs`: the keyword tables of the reference
//! (section 3: the type of every job keyword, `needs` and `rules` objects, `workflow`,
//! `variables` in hash form, `include` forms and limits) and the error list of section 18.
//! Every error names the file, line and column it comes from.

mod common;

use std::fmt::Write as _;

use common::Test;

/// Lints `test` and asserts exit code 2, `message` and the location `file:line:column`.
fn assert_invalid(test: Test, message: &str, location: &str) {
    let out = test.args(&["lint"]).expect_code(2);
    assert!(
        out.stderr.contains(message),
        "expected {message:?} in:\n{}",
        out.stderr
    );
    assert!(
        out.stderr.contains(&format!("--> {location}\n")),
        "expected location {location} in:\n{}",
        out.stderr
    );
}

/// `.gitlab-ci.yml` is `yaml`; the error is at `line:column` of it.
fn invalid(yaml: &str, message: &str, at: &str) {
    assert_invalid(Test::new(yaml), message, &format!(".gitlab-ci.yml:{at}"));
}

fn valid(yaml: &str) {
    Test::new(yaml).args(&["lint"]).expect_code(0);
}

// ---- top level and job structure ----------------------------------------------------------

#[test]
fn top_level_must_be_a_hash() {
    invalid("- a\n- b\n", "Invalid configuration format", "1:1");
}

#[test]
fn job_that_is_not_a_hash_is_reported_like_a_job_without_script() {
    invalid(
        "build: echo hello\n",
        "jobs build config should implement the script:, run:, or trigger: keyword",
        "1:8",
    );
}

#[test]
fn job_named_by_a_yaml_boolean() {
    invalid(
        "true:\n  script: echo\n",
        "jobs:true config should be a hash with a string name",
        "1:1",
    );
}

#[test]
fn job_name_too_long() {
    let name = "j".repeat(256);
    invalid(
        &format!("{name}:\n  script: echo\n"),
        "name is too long (maximum is 255 characters)",
        "1:1",
    );
}

#[test]
fn stage_name_too_long() {
    let stage = "s".repeat(256);
    invalid(
        &format!("job:\n  stage: {stage}\n  script: echo\n"),
        "jobs:job:stage config is too long (maximum is 255 characters)",
        "2:10",
    );
}

#[test]
fn stage_must_be_a_string() {
    invalid(
        "job:\n  stage: [a]\n  script: echo\n",
        "jobs:job:stage config should be a string",
        "2:10",
    );
}

#[test]
fn stages_must_be_strings() {
    invalid(
        "stages: {a: 1}\njob:\n  script: echo\n",
        "stages config should be an array of strings",
        "1:9",
    );
}

#[test]
fn script_and_trigger_together() {
    invalid(
        "job:\n  script: echo\n  trigger: group/project\n",
        "jobs:job config these keys cannot be used together: script, trigger",
        "2:3",
    );
}

#[test]
fn trigger_job_rejects_job_only_keywords() {
    invalid(
        "job:\n  trigger: group/project\n  image: ruby\n",
        "jobs:job config contains unknown keys: image",
        "3:3",
    );
}

#[test]
fn script_items_must_be_strings() {
    invalid(
        "job:\n  script: [echo, 123]\n",
        "jobs:job:script config should be a string or a nested array of strings up to 10 levels deep",
        "2:11",
    );
}

#[test]
fn before_script_nested_deeper_than_ten_levels() {
    invalid(
        "job:\n  script: echo\n  before_script: [[[[[[[[[[[echo]]]]]]]]]]]\n",
        "jobs:job:before_script config should be a string or a nested array of strings up to 10 levels deep",
        "3:18",
    );
}

#[test]
fn after_script_must_be_strings() {
    invalid(
        "job:\n  script: echo\n  after_script: {a: b}\n",
        "jobs:job:after_script config should be a string or a nested array of strings up to 10 levels deep",
        "3:17",
    );
}

// ---- image and services -------------------------------------------------------------------

#[test]
fn image_type() {
    invalid(
        "job:\n  script: echo\n  image: [ruby]\n",
        "jobs:job:image config should be a hash or a string",
        "3:10",
    );
}

#[test]
fn image_unknown_key() {
    invalid(
        "job:\n  script: echo\n  image: {name: ruby, tag: x}\n",
        "jobs:job:image config contains unknown keys: tag",
        "3:23",
    );
}

#[test]
fn image_hash_without_name() {
    invalid(
        "job:\n  script: echo\n  image: {entrypoint: ['']}\n",
        "jobs:job:image config must have a name",
        "3:10",
    );
}

#[test]
fn image_entrypoint_must_be_strings() {
    invalid(
        "job:\n  script: echo\n  image: {name: ruby, entrypoint: /bin/sh}\n",
        "jobs:job:image:entrypoint config should be an array of strings",
        "3:35",
    );
}

#[test]
fn services_must_be_an_array() {
    invalid(
        "job:\n  script: echo\n  services: postgres\n",
        "jobs:job:services config should be a array",
        "3:13",
    );
}

#[test]
fn service_entry_type() {
    invalid(
        "job:\n  script: echo\n  services: [[postgres]]\n",
        "jobs:job:services:service config should be a hash or a string",
        "3:14",
    );
}

#[test]
fn service_unknown_key() {
    invalid(
        "job:\n  script: echo\n  services:\n    - name: postgres\n      port: 5432\n",
        "jobs:job:services:service config contains unknown keys: port",
        "5:7",
    );
}

#[test]
fn service_without_name() {
    invalid(
        "job:\n  script: echo\n  services:\n    - alias: db\n",
        "jobs:job:services:service config must have a name",
        "4:7",
    );
}

// ---- artifacts and cache ------------------------------------------------------------------

#[test]
fn artifacts_type() {
    invalid(
        "job:\n  script: echo\n  artifacts: [dist]\n",
        "jobs:job:artifacts config should be a hash",
        "3:14",
    );
}

#[test]
fn artifacts_unknown_key() {
    invalid(
        "job:\n  script: echo\n  artifacts:\n    path: [dist]\n",
        "jobs:job:artifacts config contains unknown keys: path",
        "4:5",
    );
}

#[test]
fn artifacts_when() {
    invalid(
        "job:\n  script: echo\n  artifacts:\n    paths: [dist]\n    when: sometimes\n",
        "jobs:job:artifacts when should be on_success, on_failure or always",
        "5:11",
    );
}

#[test]
fn artifacts_expire_in_must_be_a_duration() {
    invalid(
        "job:\n  script: echo\n  artifacts:\n    paths: [dist]\n    expire_in: soon\n",
        "jobs:job:artifacts expire in should be a duration",
        "5:16",
    );
}

#[test]
fn artifacts_untracked_is_a_boolean() {
    invalid(
        "job:\n  script: echo\n  artifacts:\n    untracked: sometimes\n",
        "jobs:job:artifacts:untracked config should be a boolean value",
        "4:16",
    );
}

#[test]
fn artifacts_reports_type() {
    invalid(
        "job:\n  script: echo\n  artifacts:\n    reports: junit.xml\n",
        "jobs:job:artifacts:reports config should be a hash",
        "4:14",
    );
}

#[test]
fn cache_type() {
    invalid(
        "job:\n  script: echo\n  cache: vendor\n",
        "jobs:job:cache config should be a hash or an array",
        "3:10",
    );
}

#[test]
fn cache_unknown_key() {
    invalid(
        "job:\n  script: echo\n  cache:\n    key: k\n    path: [x]\n",
        "jobs:job:cache config contains unknown keys: path",
        "5:5",
    );
}

#[test]
fn at_most_four_caches() {
    invalid(
        "job:\n  script: echo\n  cache: [{key: a}, {key: b}, {key: c}, {key: d}, {key: e}]\n",
        "jobs:job:cache config no more than 4 caches can be created",
        "3:10",
    );
}

#[test]
fn cache_key_with_a_slash() {
    invalid(
        "job:\n  script: echo\n  cache: {key: a/b, paths: [x]}\n",
        "jobs:job:cache:key config cannot contain the \"/\" character",
        "3:16",
    );
}

#[test]
fn cache_key_of_dots() {
    invalid(
        "job:\n  script: echo\n  cache: {key: '..', paths: [x]}\n",
        "jobs:job:cache:key config cannot be \".\" or \"..\"",
        "3:16",
    );
}

#[test]
fn cache_key_files_at_most_two() {
    invalid(
        "job:\n  script: echo\n  cache:\n    key:\n      files: [a, b, c]\n    paths: [x]\n",
        "jobs:job:cache:key:files config has too many items (maximum is 2)",
        "5:7",
    );
}

#[test]
fn cache_fallback_keys_at_most_five() {
    invalid(
        "job:\n  script: echo\n  cache:\n    paths: [x]\n    fallback_keys: [a, b, c, d, e, f]\n",
        "jobs:job:cache:fallback_keys config has to many entries (maximum 5)",
        "5:20",
    );
}

// ---- when, allow_failure, retry, timeout, parallel, start_in -------------------------------

#[test]
fn allow_failure_type() {
    invalid(
        "job:\n  script: echo\n  allow_failure: maybe\n",
        "jobs:job allow failure should be a hash or a boolean value",
        "3:18",
    );
}

#[test]
fn allow_failure_exit_codes_are_integers() {
    invalid(
        "job:\n  script: echo\n  allow_failure:\n    exit_codes: [one]\n",
        "jobs:job:allow_failure exit codes should be an array of integers or an integer",
        "4:18",
    );
}

#[test]
fn allow_failure_unknown_key() {
    invalid(
        "job:\n  script: echo\n  allow_failure:\n    codes: [1]\n",
        "jobs:job:allow_failure config contains unknown keys: codes",
        "4:5",
    );
}

#[test]
fn retry_type() {
    invalid(
        "job:\n  script: echo\n  retry: twice\n",
        "jobs:job retry should be a hash or an integer",
        "3:10",
    );
}

#[test]
fn retry_max_in_hash_form() {
    invalid(
        "job:\n  script: echo\n  retry:\n    max: 5\n",
        "jobs:job:retry max config must be less than or equal to 2",
        "4:10",
    );
}

#[test]
fn retry_when_unknown_reason() {
    invalid(
        "job:\n  script: echo\n  retry:\n    max: 1\n    when: [cosmic_rays]\n",
        "jobs:job:retry when unknown value: cosmic_rays",
        "5:11",
    );
}

#[test]
fn retry_unknown_key() {
    invalid(
        "job:\n  script: echo\n  retry:\n    maximum: 1\n",
        "jobs:job:retry config contains unknown keys: maximum",
        "4:5",
    );
}

#[test]
fn timeout_is_a_duration_string() {
    invalid(
        "job:\n  script: echo\n  timeout: soon\n",
        "jobs:job timeout should be a duration",
        "3:12",
    );
}

#[test]
fn parallel_zero() {
    invalid(
        "job:\n  script: echo\n  parallel: 0\n",
        "must be greater than or equal to 1 and less than or equal to 200",
        "3:13",
    );
}

#[test]
fn parallel_type() {
    invalid(
        "job:\n  script: echo\n  parallel: many\n",
        "jobs:job:parallel config should be an integer or a hash",
        "3:13",
    );
}

#[test]
fn parallel_matrix_must_be_an_array_of_hashes() {
    invalid(
        "job:\n  script: echo\n  parallel:\n    matrix: {A: [1]}\n",
        "jobs:job:parallel:matrix config should be an array of hashes",
        "4:13",
    );
}

#[test]
fn parallel_matrix_over_200_jobs() {
    let values: Vec<String> = (0..15).map(|i| i.to_string()).collect();
    let list = values.join(", ");
    invalid(
        &format!(
            "job:\n  script: echo\n  parallel:\n    matrix:\n      - A: [{list}]\n        B: [{list}]\n"
        ),
        "jobs:job:parallel:matrix config generates too many jobs (maximum is 200)",
        "4:5",
    );
}

#[test]
fn parallel_unknown_key() {
    invalid(
        "job:\n  script: echo\n  parallel:\n    matrx: []\n",
        "jobs:job:parallel config contains unknown keys: matrx",
        "4:5",
    );
}

#[test]
fn delayed_job_needs_start_in() {
    invalid(
        "job:\n  script: echo\n  when: delayed\n",
        "jobs:job start in should be a duration",
        "2:3",
    );
}

#[test]
fn start_in_at_most_a_week() {
    invalid(
        "job:\n  script: echo\n  when: delayed\n  start_in: 8 days\n",
        "jobs:job start in should not exceed the limit",
        "4:13",
    );
}

#[test]
fn start_in_only_for_delayed_jobs() {
    invalid(
        "job:\n  script: echo\n  start_in: 1 hour\n",
        "jobs:job start in must be blank",
        "3:13",
    );
}

#[test]
fn interruptible_is_a_boolean() {
    invalid(
        "job:\n  script: echo\n  interruptible: sometimes\n",
        "jobs:job:interruptible config should be a boolean value",
        "3:18",
    );
}

#[test]
fn tags_are_strings() {
    invalid(
        "job:\n  script: echo\n  tags: docker\n",
        "jobs:job:tags config should be an array of strings",
        "3:9",
    );
}

#[test]
fn resource_group_is_a_string() {
    invalid(
        "job:\n  script: echo\n  resource_group: [a]\n",
        "jobs:job resource group should be a string",
        "3:19",
    );
}

#[test]
fn coverage_is_a_regular_expression() {
    invalid(
        "job:\n  script: echo\n  coverage: 'Total: \\d+%'\n",
        "jobs:job:coverage config must be a regular expression with re2 syntax",
        "3:13",
    );
}

#[test]
fn dependencies_are_strings() {
    invalid(
        "job:\n  script: echo\n  dependencies: build\n",
        "jobs:job dependencies should be an array of strings",
        "3:17",
    );
}

// ---- environment and inherit --------------------------------------------------------------

#[test]
fn environment_type() {
    invalid(
        "job:\n  script: echo\n  environment: [production]\n",
        "jobs:job:environment config should be a hash or a string",
        "3:16",
    );
}

#[test]
fn environment_without_name() {
    invalid(
        "job:\n  script: echo\n  environment:\n    url: https://example.com\n",
        "jobs:job:environment config must have a name",
        "4:5",
    );
}

#[test]
fn environment_unknown_key() {
    invalid(
        "job:\n  script: echo\n  environment:\n    name: prod\n    region: eu\n",
        "jobs:job:environment config contains unknown keys: region",
        "5:5",
    );
}

#[test]
fn inherit_unknown_key() {
    invalid(
        "job:\n  script: echo\n  inherit:\n    defaults: false\n",
        "jobs:job:inherit config contains unknown keys: defaults",
        "4:5",
    );
}

#[test]
fn inherit_default_type() {
    invalid(
        "job:\n  script: echo\n  inherit:\n    default: image\n",
        "jobs:job:inherit:default config should be a boolean value or an array of strings",
        "4:14",
    );
}

#[test]
fn inherit_default_unknown_keyword() {
    invalid(
        "job:\n  script: echo\n  inherit:\n    default: [image, stage]\n",
        "jobs:job:inherit:default config contains unknown values: stage",
        "4:14",
    );
}

#[test]
fn inherit_variables_type() {
    invalid(
        "job:\n  script: echo\n  inherit:\n    variables: A\n",
        "jobs:job:inherit:variables config should be a boolean value or an array of strings",
        "4:16",
    );
}

// ---- needs --------------------------------------------------------------------------------

#[test]
fn needs_type() {
    invalid(
        "job:\n  script: echo\n  needs: 1\n",
        "jobs:job:needs config can only be a hash or an array",
        "3:10",
    );
}

#[test]
fn need_unknown_key() {
    invalid(
        "a:\n  script: echo\njob:\n  script: echo\n  needs:\n    - job: a\n      some: x\n",
        "need config contains unknown keys: some",
        "7:7",
    );
}

#[test]
fn need_hash_without_job() {
    invalid(
        "job:\n  script: echo\n  needs:\n    - artifacts: false\n",
        "jobs:job:needs:need config must specify a job",
        "4:7",
    );
}

#[test]
fn need_artifacts_is_a_boolean() {
    invalid(
        "a:\n  script: echo\njob:\n  script: echo\n  needs:\n    - job: a\n      artifacts: yes please\n",
        "jobs:job:needs:need:artifacts config should be a boolean value",
        "7:18",
    );
}

#[test]
fn need_name_too_long() {
    let name = "n".repeat(129);
    invalid(
        &format!("{name}:\n  script: echo\njob:\n  script: echo\n  needs: [{name}]\n"),
        "job job: need `nnnn",
        "5:11",
    );
}

#[test]
fn at_most_fifty_needs() {
    let mut yaml = String::new();
    let mut names = Vec::new();
    for i in 0..51 {
        let _ = writeln!(yaml, "j{i}:\n  stage: build\n  script: echo");
        names.push(format!("j{i}"));
    }
    let _ = write!(
        yaml,
        "job:\n  script: echo\n  needs: [{}]\n",
        names.join(", ")
    );
    invalid(
        &yaml,
        "job: one job can only need 50 others, but you have listed 51. See needs keyword documentation for more details",
        "154:1",
    );
}

#[test]
fn optional_need_on_an_undefined_job_is_fine() {
    valid("job:\n  script: echo\n  needs:\n    - job: nope\n      optional: true\n");
}

#[test]
fn dependency_in_a_later_stage() {
    invalid(
        "a:\n  stage: build\n  script: echo\n  dependencies: [b]\nb:\n  stage: deploy\n  script: echo\n",
        "a job: dependency b is not defined in current or prior stages",
        "1:1",
    );
}

#[test]
fn needs_cycle_of_one() {
    invalid(
        "a:\n  script: echo\n  needs: [a]\n",
        "The pipeline has circular dependencies",
        "1:1",
    );
}

// ---- rules --------------------------------------------------------------------------------

#[test]
fn rules_must_be_an_array() {
    invalid(
        "job:\n  script: echo\n  rules: {if: $A}\n",
        "jobs:job:rules config should be an array of hashes",
        "3:10",
    );
}

#[test]
fn rule_must_be_a_hash() {
    invalid(
        "job:\n  script: echo\n  rules: [$A]\n",
        "jobs:job:rules:rule config should be a hash",
        "3:11",
    );
}

#[test]
fn empty_rule() {
    invalid(
        "job:\n  script: echo\n  rules: [{}]\n",
        "jobs:job:rules:rule config can't be blank",
        "3:11",
    );
}

#[test]
fn rule_unknown_key() {
    invalid(
        "job:\n  script: echo\n  rules:\n    - if: $A\n      unless: $B\n",
        "jobs:job:rules:rule config contains unknown keys: unless",
        "5:7",
    );
}

#[test]
fn rule_when_value() {
    invalid(
        "job:\n  script: echo\n  rules:\n    - when: later\n",
        "jobs:job:rules:rule when unknown value: later",
        "4:13",
    );
}

#[test]
fn rule_if_must_be_a_string() {
    invalid(
        "job:\n  script: echo\n  rules:\n    - if: [$A]\n",
        "jobs:job:rules:rule if invalid expression syntax",
        "4:11",
    );
}

#[test]
fn rule_start_in_without_delayed() {
    invalid(
        "job:\n  script: echo\n  rules:\n    - when: manual\n      start_in: 1 hour\n",
        "jobs:job:rules:rule config contains disallowed keys: start_in",
        "5:7",
    );
}

#[test]
fn rule_delayed_without_start_in() {
    invalid(
        "job:\n  script: echo\n  rules:\n    - when: delayed\n",
        "jobs:job:rules:rule start in can't be blank",
        "4:7",
    );
}

#[test]
fn rule_start_in_at_most_a_week() {
    invalid(
        "job:\n  script: echo\n  rules:\n    - when: delayed\n      start_in: 2 weeks\n",
        "jobs:job:rules:rule start in should not exceed the limit",
        "5:17",
    );
}

#[test]
fn rule_allow_failure_is_a_boolean() {
    invalid(
        "job:\n  script: echo\n  rules:\n    - allow_failure: {exit_codes: 1}\n",
        "jobs:job:rules:rule allow failure should be a boolean value",
        "4:22",
    );
}

#[test]
fn rule_variables_are_plain_values() {
    invalid(
        "job:\n  script: echo\n  rules:\n    - variables:\n        A: {value: x, expand: false}\n",
        "jobs:job:rules:rule:variables:a config must be a string",
        "5:12",
    );
}

#[test]
fn rule_changes_at_most_fifty() {
    let paths: Vec<String> = (0..51).map(|i| format!("p{i}")).collect();
    invalid(
        &format!(
            "job:\n  script: echo\n  rules:\n    - changes: [{}]\n",
            paths.join(", ")
        ),
        "jobs:job:rules:rule:changes config has too many entries (maximum 50)",
        "4:16",
    );
}

#[test]
fn rule_changes_unknown_key() {
    invalid(
        "job:\n  script: echo\n  rules:\n    - changes:\n        paths: [a]\n        compare: main\n",
        "jobs:job:rules:rule:changes config contains unknown keys: compare",
        "6:9",
    );
}

#[test]
fn rules_with_except() {
    invalid(
        "job:\n  script: echo\n  rules: [{when: always}]\n  except: [main]\n",
        "jobs:job config key may not be used with `rules`: except",
        "4:3",
    );
}

#[test]
fn compare_to_must_name_a_ref() {
    let out = Test::new(
        "job:\n  script: echo\n  rules:\n    - changes:\n        paths: ['*']\n        compare_to: no-such-branch\n",
    )
    .args(&["lint"])
    .expect_code(2);
    assert!(
        out.stderr
            .contains("Failed to parse rule for job: rules:changes:compare_to is not a valid ref"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("--> .gitlab-ci.yml:1:1\n"),
        "{}",
        out.stderr
    );
}

// ---- only / except ------------------------------------------------------------------------

#[test]
fn only_type() {
    invalid(
        "job:\n  script: echo\n  only: 1\n",
        "jobs:job:only config should be an array of strings or a hash",
        "3:9",
    );
}

#[test]
fn only_unknown_key() {
    invalid(
        "job:\n  script: echo\n  only:\n    branches: [main]\n",
        "jobs:job:only config contains unknown keys: branches",
        "4:5",
    );
}

#[test]
fn except_variables_must_be_expressions() {
    invalid(
        "job:\n  script: echo\n  except:\n    variables: ['$A = 1']\n",
        "jobs:job:except:variables config should be an array of valid expressions",
        "4:16",
    );
}

// ---- workflow -----------------------------------------------------------------------------

#[test]
fn workflow_unknown_key() {
    invalid(
        "workflow:\n  rule: []\njob:\n  script: echo\n",
        "workflow config contains unknown keys: rule",
        "2:3",
    );
}

#[test]
fn workflow_rule_when_is_always_or_never() {
    invalid(
        "workflow:\n  rules:\n    - when: manual\njob:\n  script: echo\n",
        "workflow:rules:rule when unknown value: manual",
        "3:13",
    );
}

#[test]
fn workflow_rule_unknown_key() {
    invalid(
        "workflow:\n  rules:\n    - if: $A\n      interruptible: true\njob:\n  script: echo\n",
        "workflow:rules:rule config contains unknown keys: interruptible",
        "4:7",
    );
}

#[test]
fn workflow_name_too_long() {
    let name = "n".repeat(256);
    invalid(
        &format!("workflow:\n  name: {name}\njob:\n  script: echo\n"),
        "workflow name is too long (maximum is 255 characters)",
        "2:9",
    );
}

#[test]
fn workflow_rule_expression() {
    invalid(
        "workflow:\n  rules:\n    - if: $A ==\njob:\n  script: echo\n",
        "workflow:rules:rule if invalid expression syntax",
        "3:11",
    );
}

// ---- variables ----------------------------------------------------------------------------

#[test]
fn top_level_variable_with_an_unknown_data_key() {
    invalid(
        "variables:\n  A:\n    value: x\n    secret: true\njob:\n  script: echo\n",
        "variables:a config uses invalid data keys: secret",
        "3:5",
    );
}

#[test]
fn job_variable_with_description() {
    invalid(
        "job:\n  script: echo\n  variables:\n    A:\n      value: x\n      description: no\n",
        "jobs:job:variables:a config uses invalid data keys: description",
        "5:7",
    );
}

#[test]
fn variable_value_not_in_options() {
    invalid(
        "variables:\n  ENV:\n    value: dev\n    options: [staging, production]\njob:\n  script: echo\n",
        "variables:env config value must be present in options",
        "3:5",
    );
}

#[test]
fn variable_expand_is_a_boolean() {
    invalid(
        "variables:\n  A:\n    value: x\n    expand: sometimes\njob:\n  script: echo\n",
        "variables:a config expand should be a boolean value",
        "4:13",
    );
}

#[test]
fn variable_value_that_is_a_list() {
    invalid(
        "job:\n  script: echo\n  variables:\n    A: [1, 2]\n",
        "jobs:job:variables config variable definition must be either a string or a hash",
        "4:8",
    );
}

#[test]
fn job_variables_must_be_a_hash() {
    invalid(
        "job:\n  script: echo\n  variables: [A]\n",
        "jobs:job:variables config should be a hash of key value pairs",
        "3:14",
    );
}

#[test]
fn null_variable_values_are_accepted() {
    valid("variables:\n  A:\njob:\n  script: echo\n  variables:\n    B:\n");
}

// ---- default: and extends -----------------------------------------------------------------

#[test]
fn default_must_be_a_hash() {
    invalid(
        "default: ruby\njob:\n  script: echo\n",
        "default config should be a hash",
        "1:10",
    );
}

#[test]
fn extends_type() {
    invalid(
        "job:\n  script: echo\n  extends: {a: 1}\n",
        "jobs:job extends should be an array of strings or a string",
        "3:12",
    );
}

#[test]
fn extends_a_non_hash() {
    invalid(
        ".base: [a]\njob:\n  script: echo\n  extends: .base\n",
        "job: invalid base hashes in `extends` (.base)",
        "4:12",
    );
}

#[test]
fn extends_too_big() {
    // A template of about 100 000 values extended by 200 jobs.
    let mut yaml = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..5 {
        let p = i - 1;
        let _ = writeln!(
            yaml,
            "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]"
        );
    }
    yaml.push_str(".big:\n  script: echo\n  tags: *a4\n");
    for j in 0..200 {
        let _ = writeln!(yaml, "job{j}:\n  extends: .big");
    }
    let out = Test::new(&yaml).args(&["lint"]).expect_code(2);
    assert!(
        out.stderr
            .contains("`extends` makes the configuration too big"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("--> .gitlab-ci.yml:"), "{}", out.stderr);
}

#[test]
fn references_too_big() {
    let mut yaml = String::from(".l0: [x, y]\n");
    for i in 1..=40 {
        let _ = writeln!(
            yaml,
            ".l{i}: [!reference [.l{p}], !reference [.l{p}]]",
            p = i - 1
        );
    }
    yaml.push_str("job:\n  script: !reference [.l40]\n");
    let out = Test::new(&yaml).args(&["lint"]).expect_code(2);
    assert!(
        out.stderr.contains("makes the configuration too big"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("--> .gitlab-ci.yml:"), "{}", out.stderr);
}

#[test]
fn reference_not_a_list_of_strings() {
    invalid(
        "job:\n  script: !reference [.a, {b: 1}]\n",
        "!reference [\".a\", {\"b\"=>1}] is not valid",
        "2:11",
    );
}

// ---- YAML ---------------------------------------------------------------------------------

#[test]
fn unknown_alias() {
    invalid("job:\n  script: *nope\n", "Unknown alias: nope", "2:11");
}

#[test]
fn timestamps_are_rejected() {
    invalid(
        "job:\n  script: echo\n  variables:\n    AT: 2024-01-01 10:00:00\n",
        "Tried to load unspecified class: Time",
        "4:9",
    );
}

#[test]
fn ruby_objects_are_rejected() {
    invalid(
        "job:\n  script: !ruby/object:Foo {}\n",
        "Tried to load unspecified class",
        "2:11",
    );
}

// ---- include ------------------------------------------------------------------------------

#[test]
fn include_entry_type() {
    invalid(
        "include: [1]\njob:\n  script: echo\n",
        "include config should be a hash or a string",
        "1:11",
    );
}

#[test]
fn include_unknown_key() {
    invalid(
        "include:\n  - locale: a.yml\njob:\n  script: echo\n",
        "include config contains unknown keys: locale",
        "2:5",
    );
}

#[test]
fn include_without_a_location() {
    invalid(
        "include:\n  - inputs: {a: 1}\njob:\n  script: echo\n",
        "include config should contain one of: local, project, remote, template, component",
        "2:5",
    );
}

#[test]
fn include_local_must_be_a_string() {
    invalid(
        "include:\n  - local: [a.yml]\njob:\n  script: echo\n",
        "include:local config should be a string",
        "2:12",
    );
}

#[test]
fn included_file_that_is_empty() {
    assert_invalid(
        Test::new("include: ci/empty.yml\njob:\n  script: echo\n").file("ci/empty.yml", "\n"),
        "Local file `ci/empty.yml` is empty!",
        ".gitlab-ci.yml:1:10",
    );
}

#[test]
fn included_file_of_comments_only() {
    assert_invalid(
        Test::new("include: ci/comments.yml\njob:\n  script: echo\n")
            .file("ci/comments.yml", "# nothing here\n"),
        "Included file `ci/comments.yml` does not have valid YAML syntax!",
        "ci/comments.yml:1:1",
    );
}

#[test]
fn included_file_with_bad_syntax() {
    assert_invalid(
        Test::new("include: ci/bad.yml\njob:\n  script: echo\n").file("ci/bad.yml", "a: [b\n"),
        "Included file `ci/bad.yml` does not have valid YAML syntax!",
        "ci/bad.yml:1:4",
    );
}

#[test]
fn included_file_that_is_not_a_hash() {
    assert_invalid(
        Test::new("include: ci/list.yml\njob:\n  script: echo\n").file("ci/list.yml", "- a\n"),
        "Invalid configuration format",
        "ci/list.yml:1:1",
    );
}

#[test]
fn include_cycle() {
    assert_invalid(
        Test::new("include: ci/a.yml\njob:\n  script: echo\n")
            .file("ci/a.yml", "include: ci/b.yml\n")
            .file("ci/b.yml", "include: ci/a.yml\n"),
        "Included file `ci/a.yml` includes itself",
        "ci/b.yml:1:10",
    );
}

#[test]
fn more_than_150_includes() {
    let mut test = Test::new("include: ci/*.yml\njob:\n  script: echo\n");
    for i in 0..151 {
        test = test.file(
            &format!("ci/f{i:03}.yml"),
            &format!("j{i}:\n  script: echo\n"),
        );
    }
    assert_invalid(
        test,
        "Maximum of 150 nested includes are allowed!",
        ".gitlab-ci.yml:1:10",
    );
}

#[test]
fn include_rule_expression() {
    invalid(
        "include:\n  - local: a.yml\n    rules:\n      - if: $A ==\njob:\n  script: echo\n",
        "include:rule if invalid expression syntax",
        "4:13",
    );
}

#[test]
fn include_input_not_in_options() {
    assert_invalid(
        Test::new("include:\n  - local: ci/t.yml\n    inputs:\n      env: dev\n").file(
            "ci/t.yml",
            "spec:\n  inputs:\n    env:\n      options: [staging, production]\n---\njob:\n  script: echo\n",
        ),
        "`env` input: `dev` cannot be used because it is not in the list of allowed options",
        ".gitlab-ci.yml:4:12",
    );
}

#[test]
fn include_input_not_declared() {
    assert_invalid(
        Test::new("include:\n  - local: ci/t.yml\n    inputs:\n      nope: 1\n").file(
            "ci/t.yml",
            "spec:\n  inputs:\n    env:\n      default: x\n---\njob:\n  script: echo\n",
        ),
        "unknown input arguments: nope",
        ".gitlab-ci.yml:4:7",
    );
}

#[test]
fn include_input_missing() {
    assert_invalid(
        Test::new("include:\n  - local: ci/t.yml\n").file(
            "ci/t.yml",
            "spec:\n  inputs:\n    env:\n---\njob:\n  script: echo $[[ inputs.env ]]\n",
        ),
        "`env` input: required value has not been provided",
        "ci/t.yml:3:5",
    );
}

#[test]
fn include_input_regex() {
    assert_invalid(
        Test::new("include:\n  - local: ci/t.yml\n    inputs:\n      name: UPPER\n").file(
            "ci/t.yml",
            "spec:\n  inputs:\n    name:\n      regex: ^[a-z]+$\n---\njob:\n  script: echo\n",
        ),
        "`name` input: provided value does not match required RegEx pattern",
        ".gitlab-ci.yml:4:13",
    );
}

#[test]
fn include_interpolation_of_an_unknown_input() {
    assert_invalid(
        Test::new("include:\n  - local: ci/t.yml\n").file(
            "ci/t.yml",
            "spec:\n  inputs:\n    env:\n      default: x\n---\njob:\n  script: echo $[[ inputs.nope ]]\n",
        ),
        "unknown interpolation key: `nope`",
        "ci/t.yml:7:11",
    );
}

#[test]
fn include_interpolation_with_too_many_functions() {
    assert_invalid(
        Test::new("include:\n  - local: ci/t.yml\n").file(
            "ci/t.yml",
            "spec:\n  inputs:\n    env:\n      default: x\n---\njob:\n  script: echo $[[ inputs.env | posix_escape | posix_escape | posix_escape | posix_escape ]]\n",
        ),
        "too many functions in interpolation block (maximum is 3)",
        "ci/t.yml:7:11",
    );
}
