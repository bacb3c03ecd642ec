//! `install_signal_handlers`: SIGTERM to the process cancels the run (alone in its test binary,
//! since the handlers stay installed for the whole process).

mod common;

use common::{Fixture, job, processes_with};
use gantry_engine::{Event, JobStatus, PipelineStatus, install_signal_handlers, strip_ansi};

#[test]
fn sigterm_cancels_the_run() {
    let f = Fixture::new();
    let token = install_signal_handlers().unwrap();
    let marker = "321.0417";
    let stages = &["test"];
    let mut long = job(
        "long",
        stages,
        0,
        &["echo started-marker", &format!("sleep {marker}")],
    );
    long.after_script = vec!["echo \"after status=$CI_JOB_STATUS\"".to_owned()];
    let mut options = f.options();
    options.cancel = Some(token);
    let mut lines = Vec::new();
    let outcome = gantry_engine::run(f.spec(1, stages, vec![long]), options, |e| {
        if let Event::Log { text, .. } = e {
            let text = strip_ansi(text).into_owned();
            if text == "started-marker" {
                // SAFETY: sends a signal to this process; the handler installed above catches it.
                unsafe {
                    libc::kill(libc::getpid(), libc::SIGTERM);
                }
            }
            lines.push(text);
        }
    })
    .unwrap();
    assert_eq!(outcome.status, PipelineStatus::Canceled, "{lines:#?}");
    assert_eq!(outcome.jobs[0].status, JobStatus::Canceled);
    assert!(
        lines.contains(&"after status=canceled".to_owned()),
        "{lines:#?}"
    );
    assert!(processes_with(marker).is_empty());
}
