//! The whole reading path — `gantry_config::load_text`, `gantry_plan::plan`, the variables of
//! each planned job, and `to_yaml` of the merged configuration — never panics and never blows
//! up: on random YAML-flavoured text, on mutations (byte and line edits, swapped lines, renamed
//! keys, changed indentation) of the real-world corpus and of the hand-written configurations
//! of gantry-cli, and on inputs built to explode (alias bombs, deep or wide `extends`,
//! `!reference` chains). Case counts are kept small so the suite runs in seconds in debug.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use gantry_plan::{ContextOptions, GitFacts, JobRuntime, PipelineContext};
use gantry_yaml::SourceFile;
use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;

/// A seed file and the project directory its includes resolve against.
struct Seed {
    dir: PathBuf,
    text: String,
    /// A project's `.gitlab-ci.yml` (the others are included files).
    main: bool,
}

fn collect_yaml(root: &Path, dir: &Path, out: &mut Vec<Seed>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for path in paths {
        if path.is_dir() {
            collect_yaml(root, &path, out);
        } else if path.extension().is_some_and(|e| e == "yml" || e == "yaml")
            && let Ok(text) = std::fs::read_to_string(&path)
        {
            out.push(Seed {
                dir: root.to_path_buf(),
                text,
                main: path.parent() == Some(root)
                    && path.file_name().is_some_and(|n| n == ".gitlab-ci.yml"),
            });
        }
    }
}

/// Every YAML file of the corpus (when present) and of the hand-written configurations.
fn seeds() -> &'static [Seed] {
    static SEEDS: OnceLock<Vec<Seed>> = OnceLock::new();
    SEEDS.get_or_init(|| {
        let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut out = Vec::new();
        for base in [
            manifest.join("../gantry-cli/tests/configs"),
            manifest.join("../../../shared/corpus/real-world"),
        ] {
            let Ok(entries) = std::fs::read_dir(&base) else {
                continue;
            };
            let mut dirs: Vec<PathBuf> = entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.is_dir())
                .collect();
            dirs.sort();
            for dir in dirs {
                collect_yaml(&dir, &dir, &mut out);
            }
        }
        assert!(out.len() >= 25, "found only {} seed files", out.len());
        out
    })
}

fn empty_dir() -> &'static Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| tempfile::tempdir().expect("temp dir"))
        .path()
}

/// A pipeline context for a tag pipeline without git: no process is started.
fn context(dir: &Path) -> PipelineContext {
    let options = ContextOptions {
        project_dir: dir.to_path_buf(),
        config_path: ".gitlab-ci.yml".into(),
        tag: Some("v1.2.3".into()),
        ..ContextOptions::default()
    };
    let git = GitFacts {
        sha: "0123456789abcdef0123456789abcdef01234567".into(),
        message: "Fuzz".into(),
        author: "Fuzz <fuzz@example.com>".into(),
        branch: Some("main".into()),
        origin_url: Some("https://gitlab.example.com/group/project.git".into()),
        default_branch: Some("main".into()),
        ..GitFacts::default()
    };
    PipelineContext::with_git(&options, git)
}

/// Reads, plans and previews `text` as the `.gitlab-ci.yml` of `dir`. Errors are fine; a panic
/// fails the test. Returns how far it got, for the record.
fn read_all(text: &str, dir: &Path) -> &'static str {
    let ctx = context(dir);
    let vars = |name: &str| {
        ctx.predefined
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    let mappings = BTreeMap::new();
    let options = gantry_config::LoadOptions {
        project_dir: dir,
        config_file: ".gitlab-ci.yml",
        project_mappings: &mappings,
        variables: &vars,
        remote_cache: None,
    };
    let file = SourceFile::new(".gitlab-ci.yml", text);
    let config = match gantry_config::load_text(&file, &options) {
        Ok(config) => config,
        Err(e) => {
            for d in &e.errors {
                let _ = d.render(false);
            }
            return "invalid";
        }
    };
    // The preview of any valid configuration reads back to the same values.
    let yaml = gantry_config::to_yaml(&config.merged);
    let back = gantry_yaml::load_document(SourceFile::new("preview.yml", yaml.as_str()))
        .unwrap_or_else(|e| panic!("preview does not load: {}\n{yaml}", e.message));
    assert_eq!(back.to_json(), config.merged.to_json(), "preview:\n{yaml}");
    let Ok(plan) = gantry_plan::plan(&config, &ctx) else {
        return "plan error";
    };
    let runtime = JobRuntime {
        pipeline_id: 1,
        job_id: 1,
        job_token: "token".into(),
        pipeline_created_at: "2024-01-01T00:00:00Z".into(),
    };
    for planned in plan.jobs.iter().take(5) {
        let _ = gantry_plan::job_variables(&config, &ctx, &plan, planned, &runtime);
    }
    "planned"
}

/// Pieces of GitLab CI YAML to build random documents from.
const TOKENS: &[&str] = &[
    "job:",
    "build:",
    ".hidden:",
    "script:",
    " echo hi",
    "stages:",
    "stage:",
    " test",
    " build",
    "extends:",
    " .hidden",
    " [.hidden, job]",
    "!reference",
    " [.hidden, script]",
    "needs:",
    " []",
    " [job]",
    "- job: build",
    "  parallel:",
    "    matrix:",
    "      - A: [1, 2]",
    "rules:",
    "  - if: $CI_COMMIT_TAG",
    "    when: manual",
    "    when: never",
    "  - changes: [a/*]",
    "  - exists: ['**/*.x']",
    "only:",
    "except:",
    " [tags, main]",
    "variables:",
    "  X: 1",
    "  Y: {value: a, expand: false}",
    "default:",
    "  image: ruby",
    "inherit:",
    "  default: false",
    "workflow:",
    "  name: $X",
    "include:",
    " - local: a.yml",
    " {local: '*.yml'}",
    "trigger:",
    " group/project",
    "when:",
    " delayed",
    "start_in:",
    " 1 hour",
    "allow_failure:",
    " {exit_codes: [1]}",
    "retry:",
    " 2",
    "timeout:",
    " 1h",
    "cache:",
    " {key: k, paths: [x]}",
    "artifacts:",
    " {paths: [x], reports: {junit: r.xml}}",
    "&a",
    " *a",
    "<<: *a",
    "<<:",
    "- ",
    "-",
    "? ",
    ": ",
    "---",
    "...",
    "spec:",
    "  inputs:",
    "    x:",
    "      default: 1",
    "$[[ inputs.x ]]",
    "$[[ matrix.A ]]",
    "[",
    "]",
    "{",
    "}",
    ",",
    "\"",
    "'",
    "|",
    ">",
    "#",
    "!!str",
    "~",
    "null",
    "yes",
    "0755",
    "1:30",
    "2024-01-01",
    ":sym",
    "\t",
    " ",
    "  ",
    "    ",
    "é",
    "\u{feff}",
];

fn yaml_ish() -> impl Strategy<Value = String> {
    prop::collection::vec(
        (
            prop::sample::select(TOKENS),
            prop::sample::select(&["", " ", "\n", "\n  ", "\n    ", "\n- "][..]),
        ),
        0..60,
    )
    .prop_map(|parts| {
        parts.into_iter().fold(String::new(), |mut out, (t, sep)| {
            out.push_str(t);
            out.push_str(sep);
            out
        })
    })
}

/// One edit of a seed text.
#[derive(Debug, Clone)]
enum Edit {
    InsertChar(usize, char),
    DeleteBytes(usize, usize),
    InsertToken(usize, &'static str),
    DeleteLine(usize),
    DuplicateLine(usize),
    SwapLines(usize, usize),
    Indent(usize),
    Dedent(usize),
    RenameKey(usize, &'static str),
}

const KEYS: &[&str] = &[
    "script",
    "stage",
    "extends",
    "needs",
    "rules",
    "only",
    "except",
    "variables",
    "parallel",
    "when",
    "include",
    "stages",
    "default",
    "inherit",
    "trigger",
    "image",
    "services",
    "cache",
    "artifacts",
    "dependencies",
    "workflow",
    "allow_failure",
    "retry",
    "timeout",
    "spec",
    "before_script",
    ".hidden",
    "<<",
    "!reference",
    "job",
];

fn edit() -> impl Strategy<Value = Edit> {
    let pos = any::<usize>();
    prop_oneof![
        (
            pos,
            prop::sample::select(
                &[
                    ':', '-', ' ', '\n', '[', '{', '&', '*', '!', '"', '\t', '#', '|'
                ][..]
            )
        )
            .prop_map(|(p, c)| Edit::InsertChar(p, c)),
        (pos, 1..20usize).prop_map(|(p, n)| Edit::DeleteBytes(p, n)),
        (pos, prop::sample::select(TOKENS)).prop_map(|(p, t)| Edit::InsertToken(p, t)),
        pos.prop_map(Edit::DeleteLine),
        pos.prop_map(Edit::DuplicateLine),
        (pos, pos).prop_map(|(a, b)| Edit::SwapLines(a, b)),
        pos.prop_map(Edit::Indent),
        pos.prop_map(Edit::Dedent),
        (pos, prop::sample::select(KEYS)).prop_map(|(p, k)| Edit::RenameKey(p, k)),
    ]
}

fn char_boundary(text: &str, pos: usize) -> usize {
    let mut p = pos % (text.len() + 1);
    while !text.is_char_boundary(p) {
        p -= 1;
    }
    p
}

fn apply(text: &str, edit: &Edit) -> String {
    let mut lines: Vec<String> = text.split('\n').map(str::to_string).collect();
    let n = lines.len();
    match edit {
        Edit::InsertChar(p, c) => {
            let mut s = text.to_string();
            s.insert(char_boundary(text, *p), *c);
            return s;
        }
        Edit::DeleteBytes(p, len) => {
            let start = char_boundary(text, *p);
            let end = char_boundary(text, start.saturating_add(*len).min(text.len()));
            let mut s = text.to_string();
            s.replace_range(start..end.max(start), "");
            return s;
        }
        Edit::InsertToken(p, t) => {
            let mut s = text.to_string();
            s.insert_str(char_boundary(text, *p), t);
            return s;
        }
        Edit::DeleteLine(i) => {
            lines.remove(i % n);
        }
        Edit::DuplicateLine(i) => {
            let line = lines[i % n].clone();
            lines.insert(i % n, line);
        }
        Edit::SwapLines(a, b) => lines.swap(a % n, b % n),
        Edit::Indent(i) => lines[i % n].insert_str(0, "  "),
        Edit::Dedent(i) => {
            let line = &mut lines[i % n];
            let spaces = line.len() - line.trim_start_matches(' ').len();
            line.replace_range(..spaces.min(2), "");
        }
        Edit::RenameKey(i, key) => {
            // The first `word:` of the line (at or after line i) that has one becomes `key:`.
            for k in 0..n {
                let line = &mut lines[(i + k) % n];
                let indent = line.len() - line.trim_start().len();
                let rest = line[indent..].trim_start_matches("- ");
                let dash = line.len() - indent - rest.len();
                if let Some(colon) = rest.find(':')
                    && colon > 0
                    && !rest[..colon].contains([' ', '"', '\''])
                {
                    let start = indent + dash;
                    line.replace_range(start..start + colon, key);
                    break;
                }
            }
        }
    }
    lines.join("\n")
}

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 64,
        failure_persistence: Some(Box::new(FileFailurePersistence::Off)),
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn random_yaml_ish_text(text in yaml_ish()) {
        read_all(&text, empty_dir());
    }

    #[test]
    fn mutated_seeds(
        main in prop::bool::weighted(0.75),
        seed in any::<prop::sample::Index>(),
        edits in prop::collection::vec(edit(), 1..4),
    ) {
        // Mostly main files that plan as they are (mutants of them get furthest), sometimes
        // any file.
        let pool: Vec<&Seed> = if main {
            planned_seeds().to_vec()
        } else {
            seeds().iter().collect()
        };
        let seed = pool[seed.index(pool.len())];
        let mut text = seed.text.clone();
        for e in &edits {
            text = apply(&text, e);
        }
        read_all(&text, &seed.dir);
    }
}

/// The main files that read and plan as they are.
fn planned_seeds() -> &'static [&'static Seed] {
    static PLANNED: OnceLock<Vec<&'static Seed>> = OnceLock::new();
    PLANNED.get_or_init(|| {
        seeds()
            .iter()
            .filter(|s| s.main && read_all(&s.text, &s.dir) == "planned")
            .collect()
    })
}

/// Every seed unchanged: also a check that the harness reaches the plan on real inputs.
#[test]
fn every_seed_reads() {
    for seed in seeds() {
        read_all(&seed.text, &seed.dir);
    }
    let planned = planned_seeds().len();
    assert!(planned >= 40, "only {planned} main files were planned");
}

/// Runs `read_all` and checks it finishes within `limit` (generous for a debug build).
fn bounded(text: &str, limit: Duration) -> &'static str {
    let start = Instant::now();
    let outcome = read_all(text, empty_dir());
    let took = start.elapsed();
    assert!(took < limit, "took {took:?} (limit {limit:?})");
    outcome
}

#[test]
fn alias_bomb_is_refused_quickly() {
    let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..12 {
        let p = i - 1;
        let _ = writeln!(
            text,
            "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]"
        );
    }
    text.push_str("job:\n  script: echo\n  variables: {X: *a11}\n");
    assert_eq!(bounded(&text, Duration::from_secs(5)), "invalid");
}

#[test]
fn long_extends_chain_is_refused_quickly() {
    let mut text = String::new();
    for i in 0..2000 {
        let _ = write!(text, ".t{i}:\n  extends: .t{}\n", i + 1);
    }
    text.push_str(".t2000:\n  script: echo\njob:\n  extends: .t0\n");
    assert_eq!(bounded(&text, Duration::from_secs(5)), "invalid");
}

#[test]
fn wide_extends_is_fast() {
    // 300 jobs, each extending 10 templates that each extend a common base.
    let mut text = String::from(".base:\n  script: [echo base]\n  variables: {A: a}\n");
    for t in 0..10 {
        let _ = writeln!(text, ".t{t}:\n  extends: .base\n  variables: {{T{t}: x}}");
    }
    for j in 0..300 {
        let parents: Vec<String> = (0..10).map(|t| format!(".t{t}")).collect();
        let _ = write!(text, "job{j}:\n  extends: [{}]\n", parents.join(", "));
    }
    assert_eq!(bounded(&text, Duration::from_secs(10)), "planned");
}

#[test]
fn exponential_references_are_refused_quickly() {
    // Each level references the previous one twice: 2^40 strings if expanded naively.
    let mut text = String::from(".l0: [x, y]\n");
    for i in 1..=40 {
        let p = i - 1;
        let _ = writeln!(text, ".l{i}: [!reference [.l{p}], !reference [.l{p}]]");
    }
    text.push_str("job:\n  script: !reference [.l40]\n");
    assert_eq!(bounded(&text, Duration::from_secs(5)), "invalid");
}

#[test]
fn extends_of_a_huge_template_is_refused_quickly() {
    // A template of ~100k values (through aliases) extended by 200 jobs: 20 million values.
    let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..5 {
        let p = i - 1;
        let _ = writeln!(
            text,
            "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]"
        );
    }
    text.push_str(".big:\n  script: echo\n  variables: {}\n  tags: *a4\n");
    for j in 0..200 {
        let _ = writeln!(text, "job{j}:\n  extends: .big");
    }
    assert_eq!(bounded(&text, Duration::from_secs(5)), "invalid");
}

#[test]
fn deeply_nested_references_in_scripts() {
    // A chain of 200 references, each script one level deeper: resolved, then rejected by the
    // 10-level script limit, without recursion trouble.
    let mut text = String::from(".s0:\n  script: [echo]\n");
    for i in 1..200 {
        let _ = write!(
            text,
            ".s{i}:\n  script: [!reference [.s{}, script]]\n",
            i - 1
        );
    }
    text.push_str("job:\n  script: !reference [.s199, script]\n");
    assert_eq!(bounded(&text, Duration::from_secs(5)), "invalid");
}
