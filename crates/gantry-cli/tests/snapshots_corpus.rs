//! `gantry list` for the self-contained entries of the shared real-world corpus
//! (`shared/corpus/real-world`, beside the checkout), each copied into a fresh git repository
//! (default branch `main`, origin `my-group/sub/my-project`) and listed for the default branch
//! and for a tag (and for `master` where the project's default branch is `master` and its
//! rules filter everything else out). Without the corpus the tests skip, except in CI where they fail.

mod common;
mod snapshot_support;

use snapshot_support::{corpus_dir, corpus_entry, render_run, repo_from_dir};

fn check(nn: &str, extra: &[&[&str]]) {
    let Some(corpus) = corpus_dir() else { return };
    let entry = corpus_entry(&corpus, nn);
    let name = entry
        .file_name()
        .expect("entry name")
        .to_string_lossy()
        .into_owned();
    let mut repo = repo_from_dir(&entry, None);
    let mut snapshot = String::new();
    let mut contexts: Vec<Vec<&str>> = vec![vec!["list"], vec!["list", "--tag", "v1.0.0"]];
    for context in extra {
        let mut args = vec!["list"];
        args.extend_from_slice(context);
        contexts.push(args);
    }
    for args in &contexts {
        let (back, text) = render_run(repo, args);
        repo = back;
        snapshot.push_str(&text);
        snapshot.push('\n');
    }
    insta::with_settings!({ omit_expression => true, description => format!("shared/corpus/real-world/{name}") }, {
        insta::assert_snapshot!(name, snapshot);
    });
}

macro_rules! entries {
    ($($test:ident: $nn:literal $(, extra = [$($ctx:expr),* $(,)?])?;)*) => {
        $(
            #[test]
            fn $test() {
                check($nn, &[$($(&$ctx[..]),*)?]);
            }
        )*
    };
}

entries! {
    e05_xen: "05";
    e06_fdroidserver: "06";
    e08_dns_updater: "08";
    e09_ucode_auth: "09";
    e12_openrgb: "12";
    e13_tor: "13";
    e18_commento: "18";
    e19_thornode: "19", extra = [["--ref", "master"]];
    e20_sia: "20";
    e23_tezos: "23";
    e25_cta: "25";
    e27_openwrt_ci: "27";
    e28_baserow: "28";
    e29_fdroidclient: "29";
    e31_redis_throttle: "31";
    e35_alertsnitch: "35";
    e36_elixxir_server: "36";
    e37_gitlab_ci_drupal: "37";
    e38_esp_dl: "38", extra = [["--ref", "master"]];
    e42_tsm_orchestration: "42";
}
