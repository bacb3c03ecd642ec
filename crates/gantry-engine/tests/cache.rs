//! Cache: persistence across runs, policies, fallback keys, `when`.

mod common;

use common::{Fixture, job};
use gantry_engine::{CachePolicy, CacheSpec, CacheWhen, JobStatus};

const STAGES: &[&str] = &["test"];

fn cache(key: &str, policy: CachePolicy) -> CacheSpec {
    CacheSpec {
        key: key.to_owned(),
        fallback_keys: vec![],
        paths: vec!["vendor/".to_owned()],
        untracked: false,
        policy,
        when: CacheWhen::OnSuccess,
    }
}

const SHOW: &str = "echo \"cached=$(cat vendor/dep 2>/dev/null || echo none)\"";

#[test]
fn cache_persists_between_runs() {
    let f = Fixture::new();
    let mut first = job(
        "deps",
        STAGES,
        0,
        &[SHOW, "mkdir -p vendor && echo v1 > vendor/dep"],
    );
    first.cache = vec![cache("deps-key", CachePolicy::PullPush)];
    let run = f.run(f.spec(1, STAGES, vec![first.clone()]));
    assert!(
        run.log("deps").contains(&"cached=none".to_owned()),
        "{}",
        run.dump()
    );
    assert!(run.log_text("deps").contains("Created cache"));

    let run = f.run(f.spec(2, STAGES, vec![first]));
    assert!(
        run.log("deps").contains(&"cached=v1".to_owned()),
        "{}",
        run.dump()
    );
    assert!(
        run.log_text("deps")
            .contains("Successfully extracted cache")
    );
}

#[test]
fn pull_policy_does_not_write_and_fallback_keys_are_tried() {
    let f = Fixture::new();
    let mut pull = job(
        "pull",
        STAGES,
        0,
        &[SHOW, "mkdir -p vendor && echo pulled > vendor/dep"],
    );
    pull.cache = vec![cache("pull-only", CachePolicy::Pull)];
    let run = f.run(f.spec(1, STAGES, vec![pull.clone()]));
    assert!(run.log("pull").contains(&"cached=none".to_owned()));
    let run = f.run(f.spec(2, STAGES, vec![pull]));
    assert!(
        run.log("pull").contains(&"cached=none".to_owned()),
        "{}",
        run.dump()
    );

    let mut seed = job(
        "seed",
        STAGES,
        0,
        &["mkdir -p vendor && echo main > vendor/dep"],
    );
    seed.cache = vec![cache("main", CachePolicy::Push)];
    f.run(f.spec(3, STAGES, vec![seed]));
    let mut branch = job("branch", STAGES, 0, &[SHOW]);
    let mut spec = cache("feature", CachePolicy::Pull);
    spec.fallback_keys = vec!["missing".into(), "main".into()];
    branch.cache = vec![spec];
    let run = f.run(f.spec(4, STAGES, vec![branch]));
    assert!(
        run.log("branch").contains(&"cached=main".to_owned()),
        "{}",
        run.dump()
    );
    assert!(
        run.log_text("branch")
            .contains("Checking cache for missing...")
    );
}

#[test]
fn cache_when_and_failures_are_warnings() {
    let f = Fixture::new();
    let mut failing = job(
        "failing",
        STAGES,
        0,
        &["mkdir -p vendor && echo f > vendor/dep", "exit 1"],
    );
    let mut on_failure = cache("on-failure", CachePolicy::Push);
    on_failure.when = CacheWhen::OnFailure;
    let mut on_success = cache("on-success", CachePolicy::Push);
    on_success.when = CacheWhen::OnSuccess;
    failing.cache = vec![on_failure, on_success];
    let run = f.run(f.spec(1, STAGES, vec![failing]));
    assert!(
        run.log_text("failing")
            .contains("Saving cache for failed job")
    );
    assert!(
        run.log_text("failing")
            .contains("Creating cache on-failure...")
    );
    assert!(
        !run.log_text("failing")
            .contains("Creating cache on-success...")
    );

    // Nothing to cache is only a warning.
    let mut empty = job("empty", STAGES, 0, &["true"]);
    empty.cache = vec![cache("empty", CachePolicy::PullPush)];
    let run = f.run(f.spec(2, STAGES, vec![empty]));
    assert_eq!(run.status("empty"), JobStatus::Success);
    assert!(run.log_text("empty").contains("No files to cache."));
}

#[test]
fn concurrent_jobs_share_a_key_safely() {
    let f = Fixture::new();
    let jobs: Vec<_> = (0..4)
        .map(|i| {
            let mut j = job(
                &format!("writer-{i}"),
                STAGES,
                0,
                &["mkdir -p vendor && head -c 200000 /dev/urandom > vendor/blob && echo ok > vendor/dep"],
            );
            j.cache = vec![cache("shared", CachePolicy::PullPush)];
            j
        })
        .collect();
    let run = f.run(f.spec(1, STAGES, jobs));
    assert!(
        run.outcome
            .jobs
            .iter()
            .all(|j| j.status == JobStatus::Success)
    );
    let mut reader = job("reader", STAGES, 0, &[SHOW]);
    reader.cache = vec![cache("shared", CachePolicy::Pull)];
    let run = f.run(f.spec(2, STAGES, vec![reader]));
    assert!(
        run.log("reader").contains(&"cached=ok".to_owned()),
        "{}",
        run.dump()
    );
}
