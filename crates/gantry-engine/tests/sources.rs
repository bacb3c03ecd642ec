//! Working-tree copies: what is copied, `.git` in the copy, `GIT_STRATEGY`.

mod common;

use common::{Fixture, job, var};
use gantry_engine::JobStatus;

const STAGES: &[&str] = &["test"];

#[test]
fn copy_has_tracked_modified_and_untracked_but_not_ignored_files() {
    let f = Fixture::new();
    f.write(".gitignore", "build/\n*.log\n");
    f.write("src/main.rs", "committed\n");
    f.commit("sources");
    f.write("src/main.rs", "modified\n");
    f.write("new-file.txt", "untracked\n");
    f.write("build/output.bin", "ignored\n");
    f.write("debug.log", "ignored\n");
    let j = job(
        "list",
        STAGES,
        0,
        &[
            "echo \"main=$(cat src/main.rs)\"",
            "echo \"new=$(cat new-file.txt)\"",
            "echo \"ignored=$(ls build debug.log .gantry 2>/dev/null | wc -l)\"",
            "echo \"status=$(git status --porcelain | tr '\\n' ',')\"",
            "echo \"head=$(git log --format=%s -1)\"",
            "git -c user.name=x -c user.email=x@y commit -qam 'job commit'",
            "echo \"committed=$(git log --format=%s -1)\"",
        ],
    );
    let run = f.run(f.spec(1, STAGES, vec![j]));
    assert_eq!(run.status("list"), JobStatus::Success, "{}", run.dump());
    let log = run.log("list");
    for expected in [
        "main=modified",
        "new=untracked",
        "ignored=0",
        "status= M src/main.rs,?? new-file.txt,",
        "head=sources",
        "committed=job commit",
    ] {
        assert!(
            log.contains(&expected.to_owned()),
            "missing {expected}: {log:?}"
        );
    }
    // The user's repository is untouched, and the state directory is invisible to git.
    assert!(!f.git(&["status", "--porcelain"]).contains(".gantry"));
    assert_eq!(f.git(&["log", "--format=%s", "-1"]).trim(), "sources");
    assert_eq!(
        std::fs::read_to_string(f.project().join("src/main.rs")).unwrap(),
        "modified\n"
    );
}

#[test]
fn jobs_do_not_see_each_others_changes() {
    let f = Fixture::new();
    let stages = &["one", "two"];
    let writer = job("writer", stages, 0, &["echo changed > README.md"]);
    let reader = job("reader", stages, 1, &["echo \"readme=$(cat README.md)\""]);
    let run = f.run(f.spec(1, stages, vec![writer, reader]));
    assert!(
        run.log("reader").contains(&"readme=hello".to_owned()),
        "{}",
        run.dump()
    );
    assert_eq!(
        std::fs::read_to_string(f.project().join("README.md")).unwrap(),
        "hello\n"
    );
}

#[test]
fn git_strategy_none_and_empty_give_no_sources() {
    let f = Fixture::new();
    let mut none = job("none", STAGES, 0, &["echo \"count=$(ls -A | wc -l)\""]);
    none.variables.push(var("GIT_STRATEGY", "none"));
    let mut empty = job("empty", STAGES, 0, &["echo \"count=$(ls -A | wc -l)\""]);
    empty.variables.push(var("GIT_STRATEGY", "empty"));
    let run = f.run(f.spec(1, STAGES, vec![none, empty]));
    assert!(
        run.log("none").contains(&"count=0".to_owned()),
        "{}",
        run.dump()
    );
    assert!(
        run.log_text("none")
            .contains("Skipping Git repository setup")
    );
    assert!(run.log("empty").contains(&"count=0".to_owned()));
}

#[test]
fn working_copies_are_recycled_and_restored() {
    let f = Fixture::new();
    for i in 0..50 {
        f.write(&format!("src/file{i}.txt"), "content\n");
    }
    f.commit("files");
    let stages = &["one", "two", "three"];
    let writer = job(
        "writer",
        stages,
        0,
        &[
            "echo changed > src/file1.txt",
            "rm src/file2.txt",
            "mkdir -p out && touch out/x leftover",
        ],
    );
    let reader = job(
        "reader",
        stages,
        1,
        &[
            "cat src/file1.txt src/file2.txt",
            "ls out leftover 2>&1 || true",
        ],
    );
    let mut options = f.options();
    options.concurrency = 1;
    let run = f.run_with(f.spec(1, stages, vec![writer, reader]), options.clone());
    assert_eq!(run.status("reader"), JobStatus::Success, "{}", run.dump());
    let log = run.log("reader");
    assert_eq!(log.iter().filter(|l| *l == "content").count(), 2, "{log:?}");
    assert!(
        log.iter()
            .any(|l| l.contains("out") && l.contains("No such file")),
        "{log:?}"
    );
    // Only what the writer touched (and freshly written `.git` metadata) was copied again.
    let (copied, unchanged, removed) = sync_counts(&log);
    assert!((2..12).contains(&copied), "{log:?}");
    assert!(unchanged >= 40, "{log:?}");
    assert_eq!(removed, 2, "{log:?}");

    // A later run reuses the same slot.
    let run = f.run_with(
        f.spec(2, stages, vec![job("again", stages, 0, &["true"])]),
        options,
    );
    let (copied, unchanged, _) = sync_counts(&run.log("again"));
    assert!(copied < 12 && unchanged >= 40, "{}", run.dump());
    assert!(f.state_dir().join("logs/2/again.log").is_file());
    assert!(!f.state_dir().join("builds/2").exists());
}

/// `(copied, unchanged, removed)` from the sync line of a job log.
fn sync_counts(log: &[String]) -> (usize, usize, usize) {
    let line = log
        .iter()
        .find(|l| l.contains(" copied, "))
        .unwrap_or_else(|| panic!("{log:?}"));
    let numbers: Vec<usize> = line
        .split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().unwrap())
        .collect();
    (numbers[0], numbers[1], numbers[2])
}

#[test]
fn a_directory_that_is_not_a_repository_is_copied_whole() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("file.txt"), "plain\n").unwrap();
    let cache = tempfile::tempdir().unwrap();
    let spec = gantry_engine::PipelineSpec {
        pipeline_id: 1,
        project_dir: dir.path().to_path_buf(),
        state_dir: dir.path().join(".gantry"),
        stages: vec!["test".into()],
        jobs: vec![job("j", STAGES, 0, &["cat file.txt", "ls -A"])],
    };
    let options = gantry_engine::RunOptions {
        cache_dir: Some(cache.path().to_path_buf()),
        ..Default::default()
    };
    let mut lines = Vec::new();
    let outcome = gantry_engine::run(spec, options, |e| {
        if let gantry_engine::Event::Log { text, .. } = e {
            lines.push(gantry_engine::strip_ansi(text).into_owned());
        }
    })
    .unwrap();
    assert_eq!(outcome.jobs[0].status, JobStatus::Success, "{lines:?}");
    assert!(lines.contains(&"plain".to_owned()));
    assert!(!lines.contains(&".gantry".to_owned()), "{lines:?}");
}
