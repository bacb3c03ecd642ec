//! `to_yaml` (what `gantry preview` prints) reads back to the same values: for every
//! hand-written configuration of gantry-cli's `tests/configs/`, every self-contained entry of
//! the real-world corpus, and random strings in keys and values.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use gantry_yaml::{Mapping, Node, SourceFile, Span, Value};
use proptest::prelude::*;

/// The self-contained entries of `shared/corpus/real-world` (no remote, template, project or
/// component include).
const SELF_CONTAINED: &[&str] = &[
    "05", "06", "08", "09", "12", "13", "18", "19", "20", "23", "25", "27", "28", "29", "31", "35",
    "36", "37", "38", "42",
];

fn configs_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../gantry-cli/tests/configs")
}

fn corpus_dir() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus/real-world");
    if dir.is_dir() {
        return Some(dir);
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "shared/corpus/real-world must be beside the checkout in CI"
    );
    eprintln!("SKIPPED (shared/corpus/real-world not found): corpus round trip");
    None
}

/// The merged configuration of the project in `dir`.
fn merged(dir: &Path) -> Node {
    let mappings = BTreeMap::new();
    let vars = |_: &str| None;
    let options = gantry_config::LoadOptions {
        project_dir: dir,
        config_file: ".gitlab-ci.yml",
        project_mappings: &mappings,
        variables: &vars,
        remote_cache: None,
    };
    match gantry_config::load(&options) {
        Ok(config) => config.merged,
        Err(e) => panic!(
            "{}: {}",
            dir.display(),
            e.errors
                .iter()
                .map(|d| d.message.clone())
                .collect::<Vec<_>>()
                .join("; ")
        ),
    }
}

/// Emits `node`, reads the text back, and compares the two as JSON.
fn assert_round_trip(what: &str, node: &Node) {
    let yaml = gantry_config::to_yaml(node);
    let back = gantry_yaml::load_document(SourceFile::new("preview.yml", yaml.as_str()))
        .unwrap_or_else(|e| panic!("{what}: the preview does not load: {}\n{yaml}", e.message));
    let (want, got) = (node.to_json(), back.to_json());
    if want != got {
        let (want, got) = (
            serde_json::to_string_pretty(&want).unwrap(),
            serde_json::to_string_pretty(&got).unwrap(),
        );
        let first = want
            .lines()
            .zip(got.lines())
            .position(|(a, b)| a != b)
            .unwrap_or(0);
        panic!(
            "{what}: the preview reads back differently, first at JSON line {first}:\n  want {}\n  got  {}\n--- preview\n{yaml}",
            want.lines().nth(first).unwrap_or(""),
            got.lines().nth(first).unwrap_or("")
        );
    }
}

#[test]
fn hand_written_configurations_round_trip() {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(configs_dir())
        .expect("tests/configs of gantry-cli")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.join(".gitlab-ci.yml").is_file())
        .collect();
    dirs.sort();
    assert!(dirs.len() >= 25, "{} configurations", dirs.len());
    for dir in dirs {
        assert_round_trip(&dir.display().to_string(), &merged(&dir));
    }
}

#[test]
fn corpus_round_trips() {
    let Some(corpus) = corpus_dir() else { return };
    for nn in SELF_CONTAINED {
        let dir = std::fs::read_dir(&corpus)
            .expect("corpus")
            .map(|e| e.expect("entry").path())
            .find(|p| {
                p.file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with(&format!("{nn}-")))
            })
            .unwrap_or_else(|| panic!("corpus entry {nn}"));
        assert_round_trip(&dir.display().to_string(), &merged(&dir));
    }
}

fn node(value: Value) -> Node {
    Node::new(value, Span::synthetic("test"))
}

/// Characters that YAML cares about, line breaks of every kind, controls and non-ASCII.
const CHARS: &[char] = &[
    'a', 'b', 'Z', '0', '1', '9', ' ', ' ', '\t', '\n', '\r', ':', '-', '?', ',', '[', ']', '{',
    '}', '#', '&', '*', '!', '|', '>', '\'', '"', '%', '@', '`', '.', '+', '_', '~', '<', '=',
    '\\', '/', '$', 'é', '\u{feff}', '\u{85}', '\u{2028}', '\u{2029}', '\u{7}', '\u{0}', '\u{1b}',
    '\u{a0}', '\u{7f}', '🎉',
];

/// Words that YAML 1.1 types when plain.
const WORDS: &[&str] = &[
    "yes",
    "No",
    "on",
    "OFF",
    "y",
    "n",
    "true",
    "null",
    "~",
    "Null",
    "0755",
    "0x1F",
    "0b101",
    "1_000",
    "1,000",
    "1:30",
    "-1:30",
    "1.5",
    ".5",
    "1.",
    "1.0e+3",
    "1e3",
    ".inf",
    "-.Inf",
    ".nan",
    ":sym",
    "2024-01-01",
    "2024-13-45",
    "<<",
    "=",
    "---",
    "...",
    "- x",
    "? x",
    "%x",
    "!x",
    "&x",
    "*x",
    "a: b",
    "a #b",
    "#a",
    "",
    " ",
    "x ",
    " x",
    "@x",
    "`x`",
];

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(WORDS).prop_map(str::to_string),
        prop::collection::vec(prop::sample::select(CHARS), 0..12)
            .prop_map(|c| c.into_iter().collect::<String>()),
        (
            prop::sample::select(WORDS),
            prop::collection::vec(prop::sample::select(CHARS), 0..6)
        )
            .prop_map(|(w, c)| format!("{w}{}", c.into_iter().collect::<String>())),
    ]
}

/// Mapping keys: mostly strings, sometimes other scalars (Psych types keys too).
fn key() -> impl Strategy<Value = Node> {
    prop_oneof![
        6 => text().prop_map(|s| node(Value::Str(s))),
        1 => any::<i64>().prop_map(|i| node(Value::Int(i))),
        1 => any::<bool>().prop_map(|b| node(Value::Bool(b))),
    ]
}

fn value() -> impl Strategy<Value = Node> {
    let leaf = prop_oneof![
        text().prop_map(|s| node(Value::Str(s))),
        any::<i64>().prop_map(|i| node(Value::Int(i))),
        any::<bool>().prop_map(|b| node(Value::Bool(b))),
        Just(node(Value::Null)),
        prop::num::f64::NORMAL.prop_map(|f| node(Value::Float(f))),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(|items| node(Value::Seq(items))),
            prop::collection::vec((key(), inner), 0..4).prop_map(|entries| {
                let mut map = Mapping::default();
                for (k, v) in entries {
                    map.insert(k, v);
                }
                node(Value::Map(map))
            }),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 512,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn random_documents_round_trip(entries in prop::collection::vec((text(), value()), 1..5)) {
        let mut map = Mapping::default();
        for (k, v) in entries {
            map.insert(node(Value::Str(k)), v);
        }
        assert_round_trip("random document", &node(Value::Map(map)));
    }
}
