//! Masking of secrets in every output: events, the per-job log file and JSON.

mod common;

use common::{Fixture, job};
use gantry_engine::JobVariable;
use gantry_engine::printer::JsonPrinter;

const STAGES: &[&str] = &["test"];

#[test]
fn masked_values_never_appear() {
    let f = Fixture::new();
    let mut secret = JobVariable::new("SECRET", "secret123456");
    secret.masked = true;
    let token = JobVariable::new("CI_JOB_TOKEN", "jobtoken-abcdef");
    let mut j = job(
        "leaky",
        STAGES,
        0,
        &[
            "echo \"plain $SECRET\"",
            "printf 'split sec'; sleep 0.1; printf 'ret123'; sleep 0.1; printf '456 end\\n'",
            "printf 'no newline %s' \"$SECRET\"",
            "echo \"token $CI_JOB_TOKEN\"",
            "echo 'pat glpat-AbCdEf123456 done'",
        ],
    );
    j.after_script = vec!["echo \"after $SECRET\"".to_owned()];
    j.variables = vec![secret, token];
    let mut events = Vec::new();
    let mut json = JsonPrinter::new(Vec::new());
    let outcome = gantry_engine::run(f.spec(1, STAGES, vec![j]), f.options(), |e| {
        json.print(e);
        events.push(e.clone());
    })
    .unwrap();
    let json = String::from_utf8(json.into_inner()).unwrap();
    let raw = std::fs::read_to_string(outcome.jobs[0].log_path.as_ref().unwrap()).unwrap();
    for (what, text) in [("json", &json), ("log file", &raw)] {
        assert!(!text.contains("secret123456"), "{what} leaks: {text}");
        assert!(
            !text.contains("jobtoken-abcdef"),
            "{what} leaks the job token: {text}"
        );
        assert!(
            !text.contains("AbCdEf123456"),
            "{what} leaks a token: {text}"
        );
        assert!(text.contains("plain [MASKED]"), "{what}: {text}");
        assert!(text.contains("split [MASKED] end"), "{what}: {text}");
        assert!(text.contains("no newline [MASKED]"), "{what}: {text}");
        assert!(text.contains("token [MASKED]"), "{what}: {text}");
        assert!(text.contains("glpat-[MASKED] done"), "{what}: {text}");
        assert!(text.contains("after [MASKED]"), "{what}: {text}");
    }
}
