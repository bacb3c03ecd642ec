//! Overhead measurements (printed, never asserted): a 1000-file repository copied per job.

mod common;

use std::time::Instant;

use common::{Fixture, job};
use gantry_engine::{JobStatus, PipelineStatus};

#[test]
fn thousand_file_repository() {
    let f = Fixture::new();
    for d in 0..20 {
        for i in 0..50 {
            f.write(&format!("src/d{d}/file{i}.txt"), &"x".repeat(2000 + i));
        }
    }
    f.commit("many files");
    let stages = &["one", "two"];
    let jobs: Vec<_> = (0..10)
        .map(|i| {
            job(
                &format!("job-{i}"),
                stages,
                i % 2,
                &["test -f src/d3/file7.txt"],
            )
        })
        .collect();
    let started = Instant::now();
    let run = f.run(f.spec(1, stages, jobs));
    eprintln!("10 jobs over 1000 files took {:?}", started.elapsed());
    for j in &run.outcome.jobs {
        let line = run
            .log(&j.name)
            .into_iter()
            .find(|l| l.contains(" copied, "))
            .unwrap_or_default();
        eprintln!("{}: {:?} {line}", j.name, j.duration);
    }
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
