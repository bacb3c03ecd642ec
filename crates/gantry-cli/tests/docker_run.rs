//! `gantry run --executor docker`, the runner configuration and `gantry clean`, end to end with
//! the real engine (gated: a failure with `CI=true`, a visible skip elsewhere).

mod common;

use common::Test;
use gantry_test_support::docker::{
    LABEL_KEY, ResourceCounts, TestRun, docker_ok, ensure_busybox_http_image, ensure_busybox_image,
};
use gantry_test_support::require_tool;

fn available() -> bool {
    require_tool("docker") && require_tool("busybox-static")
}

fn config(test: &TestRun, docker_lines: &str) -> String {
    format!(
        "[[runners]]\n  name = \"local\"\n  executor = \"docker\"\n  environment = [\"FROM_RUNNER=yes\"]\n  [runners.docker]\n    container_labels = {{ \"{LABEL_KEY}\" = \"{}\" }}\n{docker_lines}",
        test.id()
    )
}

#[test]
fn runs_images_and_services_from_the_yaml_with_the_configured_executor() {
    if !available() {
        return;
    }
    let busybox = ensure_busybox_image();
    let http = ensure_busybox_http_image();
    let test = TestRun::new();
    let yaml = format!(
        r#"
stages: [build, test]
build:
  stage: build
  image: {busybox}
  script:
    - echo "dir=$CI_PROJECT_DIR runner=$FROM_RUNNER"
    - echo built > out.txt
  artifacts:
    paths: [out.txt]
test:
  stage: test
  image:
    name: {busybox}
    entrypoint: [""]
  services:
    - name: {http}
      alias: web
  script:
    - cat out.txt
    - wget -qO- http://web:8080/
"#
    );
    let t = Test::new(&yaml).file(
        ".gantry/config.toml",
        &config(&test, "    extra_hosts = [\"gantry.example:10.9.8.7\"]\n"),
    );
    let out = t.args(&["run"]).expect_code(0);
    assert!(
        out.stdout.contains("Preparing the \"docker\" executor"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("runner=yes"), "{}", out.stdout);
    assert!(out.stdout.contains("dir=/builds/"), "{}", out.stdout);
    assert!(out.stdout.contains("gantry-test ok"), "{}", out.stdout);
    assert_eq!(test.counts(), ResourceCounts::default());
}

#[test]
fn an_invalid_runner_configuration_is_reported_with_its_line() {
    let t = Test::new("job:\n  script: echo hi\n").file(
        "runner.toml",
        "[[runners]]\n[runners.docker]\nprivileged = \"yes\"\nbogus = 1\n",
    );
    let out = t
        .args(&["run", "--executor", "docker", "--config", "runner.toml"])
        .expect_code(2);
    assert!(
        out.stderr
            .contains("runner.toml:3:14: `privileged` must be true or false, not a string"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("runner.toml:4:1: [runners.docker]: unknown key `bogus`"),
        "{}",
        out.stderr
    );
}

#[test]
fn clean_removes_what_a_crashed_run_left_and_all_removes_the_state() {
    if !available() {
        return;
    }
    let test = TestRun::new();
    let t = Test::new("job:\n  script: echo hi\n").file(".gantry/config.toml", &config(&test, ""));
    let dir = t.repo.path().canonicalize().unwrap();
    let project = gantry_engine::project_key(&dir);
    // What a SIGKILLed gantry would leave: its process is gone (pid 999999 does not exist).
    let labels = [
        format!("{}=true", gantry_engine::MANAGED_LABEL),
        format!("{}={project}", gantry_engine::PROJECT_LABEL),
        format!("{}=nohost:999999", gantry_engine::OWNER_LABEL),
        test.label(),
    ];
    let mut create = vec!["create".to_owned()];
    for l in &labels {
        create.extend(["--label".to_owned(), l.clone()]);
    }
    create.push(ensure_busybox_image().to_owned());
    let args: Vec<&str> = create.iter().map(String::as_str).collect();
    docker_ok(&args);
    let mut net = vec!["network", "create"];
    for l in &labels {
        net.extend(["--label", l.as_str()]);
    }
    let name = test.name("net");
    net.push(&name);
    docker_ok(&net);
    let before = test.counts();
    assert_eq!((before.containers, before.networks), (1, 1));
    std::fs::create_dir_all(t.repo.path().join(".gantry/logs")).unwrap();
    let t = t.args(&["clean", "--all"]);
    let out = t.expect_code(0);
    assert!(
        out.stdout.contains("Removed 1 containers, 1 networks"),
        "{}",
        out.stdout
    );
    assert_eq!(test.counts(), ResourceCounts::default());
    assert!(!t.repo.path().join(".gantry/logs").exists());
    assert!(t.repo.path().join(".gantry/config.toml").exists());
}
