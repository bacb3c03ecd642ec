//! `gantry preview`: the merged configuration (includes, `extends`, `!reference`, anchors and
//! `<<` resolved) written back as YAML, for configurations of `tests/configs/`. Checked by hand
//! against GitLab's merge rules; `preview_roundtrip` in gantry-config checks that the YAML reads
//! back to the same values.

mod common;
mod snapshot_support;

use snapshot_support::{configs_dir, render_run, repo_from_dir};

fn check(dir: &str) {
    let repo = repo_from_dir(&configs_dir().join(dir), None);
    let (_, text) = render_run(repo, &["preview"]);
    insta::with_settings!({ omit_expression => true, description => format!("tests/configs/{dir}") }, {
        insta::assert_snapshot!(dir, text);
    });
}

macro_rules! cases {
    ($($test:ident: $dir:literal;)*) => {
        $(
            #[test]
            fn $test() {
                check($dir);
            }
        )*
    };
}

cases! {
    extends_deep_merge: "03-extends-deep-merge";
    default_inherit: "04-default-inherit";
    reference: "05-reference";
    anchors_merge_keys: "06-anchors-merge-keys";
    includes: "11-includes";
    include_merge_override: "12-include-merge-override";
    variable_forms: "16-variable-forms";
    include_inputs: "18-include-inputs";
    job_names: "20-job-names";
    scripts_and_strings: "21-scripts-and-strings";
    keyword_zoo: "23-keyword-zoo";
    stages_nested: "27-stages-nested";
}
