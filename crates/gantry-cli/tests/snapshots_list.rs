//! `gantry list` (text and JSON) for the hand-written configurations of `tests/configs/`, each
//! for the default branch and a tag, some for more contexts. Every snapshot was checked by hand
//! against GitLab's documented behaviour; the comment at the top of each configuration says
//! what it exercises.

mod common;
mod snapshot_support;

use gantry_test_support::GitRepo;
use snapshot_support::{configs_dir, render_run, repo_from_dir};

const TAG: &[&str] = &["--tag", "v1.0.0"];

/// Lists `dir` for the default branch, for a tag and for `extra` contexts, in text and JSON.
fn check(dir: &str, extra: &[&[&str]], after_first: Option<fn(GitRepo) -> GitRepo>) {
    let path = configs_dir().join(dir);
    let mut repo = repo_from_dir(&path, after_first);
    let mut contexts: Vec<&[&str]> = vec![&[], TAG];
    contexts.extend_from_slice(extra);
    let mut snapshot = String::new();
    for context in contexts {
        for json in [false, true] {
            let mut args = vec!["list"];
            args.extend_from_slice(context);
            if json {
                args.extend_from_slice(&["-o", "json"]);
            }
            let (back, text) = render_run(repo, &args);
            repo = back;
            snapshot.push_str(&text);
            snapshot.push('\n');
        }
    }
    insta::with_settings!({ omit_expression => true, description => format!("tests/configs/{dir}") }, {
        insta::assert_snapshot!(dir, snapshot);
    });
}

macro_rules! cases {
    ($($test:ident: $dir:literal $(, extra = [$($ctx:expr),* $(,)?])? $(, setup = $setup:expr)?;)*) => {
        $(
            #[test]
            fn $test() {
                #[allow(unused_mut, unused_assignments)]
                let mut setup: Option<fn(GitRepo) -> GitRepo> = None;
                $(setup = Some($setup);)?
                check($dir, &[$($(&$ctx[..]),*)?], setup);
            }
        )*
    };
}

/// A first commit tagged `v0.1` (for `compare_to: v0.1`).
fn tag_v0_1(repo: GitRepo) -> GitRepo {
    repo.tag("v0.1", "First release")
}

cases! {
    stages_pre_post: "01-stages-pre-post";
    pre_post_only: "02-pre-post-only";
    extends_deep_merge: "03-extends-deep-merge";
    default_inherit: "04-default-inherit";
    reference: "05-reference";
    anchors_merge_keys: "06-anchors-merge-keys";
    parallel_matrix: "07-parallel-matrix";
    rules_clauses: "08-rules-clauses", extra = [["--ref", "feature/x"]];
    only_except: "09-only-except", extra = [
        ["--ref", "release-1"],
        ["--tag", "2.0"],
        ["--source", "schedule"],
        ["--source", "merge_request_event"],
        ["--source", "web"],
        ["--variable", "DEPLOY=yes", "--variable", "FORCE=yes"],
    ];
    workflow_rules: "10-workflow-rules", extra = [["--ref", "feature/x"], ["--source", "schedule"]];
    includes: "11-includes";
    include_merge_override: "12-include-merge-override";
    manual_delayed: "13-manual-delayed";
    trigger_jobs: "14-trigger-jobs";
    needs_dependencies: "15-needs-dependencies";
    variable_forms: "16-variable-forms";
    variable_precedence: "17-variable-precedence", extra = [["--variable", "TARGET=cli"]];
    include_inputs: "18-include-inputs";
    global_defaults: "19-global-defaults";
    job_names: "20-job-names";
    scripts_and_strings: "21-scripts-and-strings";
    changes_compare_to: "22-changes-compare-to", setup = tag_v0_1;
    keyword_zoo: "23-keyword-zoo";
    merge_request_workflow: "24-merge-request-workflow", extra = [
        ["--source", "merge_request_event"],
        ["--source", "schedule"],
        ["--ref", "feature/x", "--variable", "CI_OPEN_MERGE_REQUESTS=group/project!1"],
    ];
    exists_clauses: "25-exists-clauses";
    rules_needs_matrix: "26-rules-needs-matrix", extra = [["--ref", "feature/x"]];
    stages_nested: "27-stages-nested";
}
