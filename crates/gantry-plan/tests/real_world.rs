//! The 42 real configurations of `shared/corpus/real-world`: the self-contained ones load and
//! plan without error; the others stop with a clear error naming the include that cannot be
//! fetched offline.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use gantry_plan::{ContextOptions, PipelineContext};

fn corpus_dir() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus/real-world");
    dir.is_dir().then_some(dir)
}

/// Loads and plans one entry; `Ok(job count)` or the first error message.
fn load(dir: &Path) -> Result<usize, String> {
    let options = ContextOptions {
        project_dir: dir.to_path_buf(),
        config_path: ".gitlab-ci.yml".into(),
        branch: Some("main".into()),
        ..ContextOptions::default()
    };
    let ctx = PipelineContext::new(&options);
    let vars = |name: &str| {
        ctx.predefined
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    let mappings = BTreeMap::new();
    let config = gantry_config::load(&gantry_config::LoadOptions {
        project_dir: dir,
        config_file: ".gitlab-ci.yml",
        project_mappings: &mappings,
        variables: &vars,
        remote_cache: None,
    })
    .map_err(|e| e.errors[0].message.clone())?;
    let plan = gantry_plan::plan(&config, &ctx).map_err(|e| e.errors[0].message.clone())?;
    Ok(plan.jobs.len())
}

#[test]
fn every_entry_loads_or_names_the_missing_include() {
    let Some(corpus) = corpus_dir() else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "shared/corpus/real-world must be beside the checkout in CI"
        );
        eprintln!("SKIPPED (shared/corpus not found): real-world corpus");
        return;
    };
    let mut entries: Vec<PathBuf> = std::fs::read_dir(&corpus)
        .expect("read corpus")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    entries.sort();
    assert_eq!(entries.len(), 42);
    let mut report = String::new();
    let mut failures = Vec::new();
    for entry in &entries {
        let name = entry.file_name().unwrap().to_string_lossy().into_owned();
        let result = std::panic::catch_unwind(|| load(entry));
        let line = match &result {
            Ok(Ok(n)) => format!("{name}: {n} jobs"),
            Ok(Err(e)) => format!("{name}: error: {e}"),
            Err(_) => format!("{name}: PANIC"),
        };
        report.push_str(&line);
        report.push('\n');
        match result {
            Err(_) => failures.push(line),
            Ok(Err(e)) => {
                let offline = ["template", "component", "Project `", "Remote file"]
                    .iter()
                    .any(|w| e.contains(w));
                if !offline {
                    failures.push(line);
                }
            }
            Ok(Ok(_)) => {}
        }
    }
    eprintln!("{report}");
    assert!(
        failures.is_empty(),
        "unexpected results:\n{}",
        failures.join("\n")
    );
}
