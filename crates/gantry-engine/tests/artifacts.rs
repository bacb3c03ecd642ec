//! Artifacts: collection rules, passing by needs/dependencies, dotenv, junit, integrity.

mod common;

use common::{Fixture, job, var};
use gantry_engine::{ArtifactsSpec, ArtifactsWhen, FailureReason, JobStatus, Need, Reports};

const STAGES: &[&str] = &["build", "test", "verify"];

fn paths(list: &[&str]) -> ArtifactsSpec {
    ArtifactsSpec {
        paths: list.iter().map(|s| (*s).to_owned()).collect(),
        ..ArtifactsSpec::default()
    }
}

fn producer(name: &str, file: &str) -> gantry_engine::JobSpec {
    let mut j = job(
        name,
        STAGES,
        0,
        &[&format!("mkdir -p out && echo {name} > out/{file}")],
    );
    j.artifacts = Some(paths(&["out/"]));
    j
}

fn need(name: &str, artifacts: bool) -> Need {
    Need {
        job: name.to_owned(),
        artifacts,
        optional: false,
    }
}

#[test]
fn artifacts_follow_needs_and_dependencies_rules() {
    let f = Fixture::new();
    let check = "ls out 2>/dev/null | tr '\\n' ' '; echo";
    let default = job(
        "default",
        STAGES,
        1,
        &[&format!("echo \"files: $({check})\"")],
    );
    let mut no_deps = job(
        "no-deps",
        STAGES,
        1,
        &[&format!("echo \"files: $({check})\"")],
    );
    no_deps.dependencies = Some(vec![]);
    let mut only_a = job(
        "only-a",
        STAGES,
        1,
        &[&format!("echo \"files: $({check})\"")],
    );
    only_a.dependencies = Some(vec!["a".into()]);
    let mut needs_b = job(
        "needs-b",
        STAGES,
        1,
        &[&format!("echo \"files: $({check})\"")],
    );
    needs_b.needs = Some(vec![need("a", false), need("b", true)]);
    let mut both = job("both", STAGES, 1, &[&format!("echo \"files: $({check})\"")]);
    both.needs = Some(vec![need("a", true), need("b", true)]);
    both.dependencies = Some(vec!["b".into()]);
    let jobs = vec![
        producer("a", "a.txt"),
        producer("b", "b.txt"),
        default,
        no_deps,
        only_a,
        needs_b,
        both,
    ];
    let run = f.run(f.spec(1, STAGES, jobs));
    let files = |j: &str| {
        run.log(j)
            .into_iter()
            .find(|l| l.starts_with("files:"))
            .unwrap_or_else(|| panic!("{}", run.dump()))
    };
    assert_eq!(files("default"), "files: a.txt b.txt ");
    assert_eq!(files("no-deps"), "files: ");
    assert_eq!(files("only-a"), "files: a.txt ");
    assert_eq!(files("needs-b"), "files: b.txt ");
    assert_eq!(files("both"), "files: b.txt ");
}

#[test]
fn globs_exclude_and_outside_paths() {
    let f = Fixture::new();
    let mut build = job(
        "build",
        STAGES,
        0,
        &[
            "mkdir -p dist/sub logs",
            "echo 1 > dist/app.js; echo 2 > dist/sub/lib.js; echo 3 > dist/app.map; echo 4 > logs/x.log",
        ],
    );
    build.artifacts = Some(ArtifactsSpec {
        paths: vec![
            "./dist/**/*.js".into(),
            "dist/*.map".into(),
            "logs".into(),
            "/etc/hostname".into(),
            "missing/".into(),
        ],
        exclude: vec!["logs/**".into(), "**/lib.js".into()],
        ..ArtifactsSpec::default()
    });
    let check = job(
        "check",
        STAGES,
        1,
        &["find dist logs -type f 2>/dev/null | sort | tr '\\n' ' '; echo"],
    );
    let run = f.run(f.spec(1, STAGES, vec![build, check]));
    assert_eq!(run.status("build"), JobStatus::Success, "{}", run.dump());
    let log = run.log_text("build");
    assert!(
        log.contains("artifact path is not a subpath of project directory: /etc/hostname"),
        "{log}"
    );
    assert!(log.contains("missing/: no matching files"));
    assert!(
        run.log("check")
            .contains(&"dist/app.js dist/app.map ".to_owned()),
        "{}",
        run.dump()
    );
}

#[test]
fn artifacts_when_and_untracked() {
    let f = Fixture::new();
    f.write(".gitignore", "*.ignored\n");
    f.commit("ignore");
    let mut failing = job(
        "failing",
        STAGES,
        0,
        &["echo x > report.txt; echo y > junk.ignored; exit 1"],
    );
    failing.artifacts = Some(ArtifactsSpec {
        untracked: true,
        when: ArtifactsWhen::OnFailure,
        ..ArtifactsSpec::default()
    });
    failing.allow_failure = gantry_engine::AllowFailure::Yes;
    let mut success_only = job("success-only", STAGES, 0, &["echo z > other.txt; exit 1"]);
    success_only.artifacts = Some(paths(&["other.txt"]));
    success_only.allow_failure = gantry_engine::AllowFailure::Yes;
    let check = job(
        "check",
        STAGES,
        1,
        &["ls report.txt junk.ignored other.txt 2>&1 | sort | tr '\\n' ' '; echo"],
    );
    let run = f.run(f.spec(1, STAGES, vec![failing, success_only, check]));
    let line = run
        .log("check")
        .into_iter()
        .find(|l| l.contains("report.txt") && !l.starts_with("$ "))
        .unwrap();
    assert!(line.starts_with("junk.ignored "), "{line}");
    assert!(line.ends_with(" report.txt "), "{line}");
    assert!(line.contains("other.txt': No such file"), "{line}");
}

#[test]
fn dotenv_variables_reach_later_jobs() {
    let f = Fixture::new();
    let mut build = job(
        "build",
        STAGES,
        0,
        &["printf 'VERSION=1.2.3\\nYAML_VAR=from-dotenv\\n' > build.env"],
    );
    build.artifacts = Some(ArtifactsSpec {
        reports: Reports {
            dotenv: vec!["build.env".into()],
            junit: vec![],
        },
        ..ArtifactsSpec::default()
    });
    let mut test = job(
        "test",
        STAGES,
        1,
        &["echo \"version=$VERSION yaml=$YAML_VAR\""],
    );
    test.variables.push(var("YAML_VAR", "from-yaml"));
    let mut isolated = job(
        "isolated",
        STAGES,
        1,
        &["echo \"version=${VERSION:-none}\""],
    );
    isolated.dependencies = Some(vec![]);
    let mut bad = job(
        "bad-dotenv",
        STAGES,
        0,
        &["printf 'A=1\\n\\nB=2\\n' > bad.env"],
    );
    bad.artifacts = Some(ArtifactsSpec {
        reports: Reports {
            dotenv: vec!["bad.env".into()],
            junit: vec![],
        },
        ..ArtifactsSpec::default()
    });
    bad.allow_failure = gantry_engine::AllowFailure::Yes;
    let run = f.run(f.spec(1, STAGES, vec![build, test, isolated, bad]));
    assert!(
        run.log("test")
            .contains(&"version=1.2.3 yaml=from-dotenv".to_owned()),
        "{}",
        run.dump()
    );
    assert!(run.log("isolated").contains(&"version=none".to_owned()));
    assert_eq!(
        run.outcome.job("build").unwrap().dotenv,
        vec![
            ("VERSION".to_owned(), "1.2.3".to_owned()),
            ("YAML_VAR".to_owned(), "from-dotenv".to_owned())
        ]
    );
    assert_eq!(run.status("bad-dotenv"), JobStatus::Failed);
    assert!(run.log_text("bad-dotenv").contains("Invalid Format"));
}

#[test]
fn junit_reports_are_summarised() {
    let f = Fixture::new();
    let xml = r#"<testsuite><testcase name="a"/><testcase name="b"><failure/></testcase><testcase name="c"><skipped/></testcase></testsuite>"#;
    f.write("fixtures/report.xml", xml);
    f.commit("fixture");
    let mut test = job(
        "test",
        STAGES,
        0,
        &["mkdir -p reports && cp fixtures/report.xml reports/unit.xml"],
    );
    test.artifacts = Some(ArtifactsSpec {
        reports: Reports {
            dotenv: vec![],
            junit: vec!["reports/*.xml".into()],
        },
        ..ArtifactsSpec::default()
    });
    let run = f.run(f.spec(1, STAGES, vec![test]));
    let junit = run
        .outcome
        .job("test")
        .unwrap()
        .junit
        .clone()
        .expect("junit summary");
    assert_eq!((junit.tests, junit.failures, junit.skipped), (3, 1, 1));
    assert_eq!(junit.failed_tests, vec!["b".to_owned()]);
    let finished = run
        .events
        .iter()
        .find_map(|e| match e {
            gantry_engine::Event::JobFinished { junit, .. } => junit.clone(),
            _ => None,
        })
        .unwrap();
    assert_eq!(finished.tests, 3);
}

#[test]
fn corrupt_archive_fails_the_dependent_job() {
    let f = Fixture::new();
    let archive = f.state_dir().join("artifacts/1/a/artifacts.tar.gz");
    let mut corrupt = job("corrupt", STAGES, 1, &["printf garbage > \"$TARGET\""]);
    corrupt
        .variables
        .push(var("TARGET", archive.to_str().unwrap()));
    corrupt.dependencies = Some(vec![]);
    let mut consumer = job("consumer", STAGES, 2, &["cat out/a.txt"]);
    consumer.dependencies = Some(vec!["a".into()]);
    let run = f.run(f.spec(1, STAGES, vec![producer("a", "a.txt"), corrupt, consumer]));
    let consumer = run.outcome.job("consumer").unwrap();
    assert_eq!(consumer.status, JobStatus::Failed, "{}", run.dump());
    assert_eq!(
        consumer.failure_reason,
        Some(FailureReason::MissingDependencyFailure)
    );
    let log = run.log_text("consumer");
    assert!(log.contains("corrupt"), "{log}");
    assert!(log.contains(archive.to_str().unwrap()), "{log}");
}

#[test]
fn artifacts_are_stored_with_a_manifest() {
    let f = Fixture::new();
    let mut a = producer("a", "a.txt");
    a.artifacts.as_mut().unwrap().expire_in = Some("1 week".into());
    let run = f.run(f.spec(7, STAGES, vec![a]));
    assert_eq!(run.status("a"), JobStatus::Success);
    let dir = f.state_dir().join("artifacts/7/a");
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["job"], "a");
    assert_eq!(manifest["sha256"].as_str().unwrap().len(), 64);
    assert!(manifest["expires_at"].as_u64().unwrap() > manifest["created_at"].as_u64().unwrap());
    assert!(dir.join("artifacts.tar.gz").is_file());
}

#[test]
fn expired_artifacts_are_pruned_except_the_latest_pipeline() {
    let f = Fixture::new();
    let expiring = || {
        let mut a = producer("a", "a.txt");
        a.artifacts.as_mut().unwrap().expire_in = Some("0".into());
        a
    };
    let mut kept = producer("kept", "k.txt");
    kept.artifacts.as_mut().unwrap().expire_in = Some("never".into());
    f.run(f.spec(1, STAGES, vec![expiring(), kept]));
    f.run(f.spec(2, STAGES, vec![expiring()]));
    let removed = gantry_engine::prune_expired_artifacts(&f.state_dir()).unwrap();
    assert_eq!(removed, 1);
    assert!(!f.state_dir().join("artifacts/1/a").exists());
    assert!(f.state_dir().join("artifacts/1/kept").exists());
    assert!(f.state_dir().join("artifacts/2/a").exists());
}
