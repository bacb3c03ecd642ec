//! The loader never panics: random text, YAML-flavoured noise, and the oracle corpus with random
//! insertions, deletions and replacements all give a node or an error.

use std::path::Path;
use std::sync::{Arc, OnceLock};

use gantry_yaml::{SourceFile, load_document, load_stream};
use proptest::prelude::*;

/// Every document of the oracle corpus.
fn corpus() -> &'static [String] {
    static CORPUS: OnceLock<Vec<String>> = OnceLock::new();
    CORPUS.get_or_init(|| {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/psych-corpus");
        let mut docs = Vec::new();
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .expect("corpus directory")
            .map(|e| e.expect("entry").path())
            .filter(|p| p.extension().is_some_and(|e| e == "yml"))
            .collect();
        entries.sort();
        for path in entries {
            let text = std::fs::read_to_string(path).expect("corpus file");
            let mut current: Option<String> = None;
            for line in text.split_inclusive('\n') {
                if line.starts_with("=== ") {
                    docs.extend(current.take());
                    current = Some(String::new());
                } else if let Some(doc) = current.as_mut() {
                    doc.push_str(line);
                }
            }
            docs.extend(current);
        }
        docs
    })
}

fn load_both(text: &str) {
    let file: Arc<SourceFile> = SourceFile::new("fuzz.yml", text);
    let _ = load_document(Arc::clone(&file));
    let _ = load_stream(file);
}

/// Characters that mean something to YAML, plus a few awkward ones.
const ALPHABET: &[char] = &[
    'a', 'b', 'x', '0', '1', '7', '9', ' ', ' ', ' ', '\n', '\n', '\t', '\r', ':', '-', '?', ',',
    '[', ']', '{', '}', '#', '&', '*', '!', '|', '>', '\'', '"', '%', '@', '`', '.', '+', '_', '~',
    '<', '=', '\\', 'é', '\u{feff}', '\u{85}', '\u{2028}', '\u{0}', '🎉',
];

fn yaml_noise() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(ALPHABET), 0..200)
        .prop_map(|chars| chars.into_iter().collect())
}

#[derive(Debug, Clone)]
enum Edit {
    Insert(usize, char),
    Delete(usize),
    Replace(usize, char),
    InsertText(usize, &'static str),
}

const SNIPPETS: &[&str] = &[
    "---\n",
    "\n---",
    "...\n",
    "&a ",
    "*a",
    "<<: *a\n",
    "!!str ",
    "!reference ",
    "[",
    "]",
    "{",
    "}",
    ": ",
    "- ",
    "\t",
    "\"",
    "'",
    "|\n",
    ">-\n",
    "  ",
    "\n  ",
    "? ",
    "%YAML 1.1\n",
    "2024-01-01",
    ":sym",
    "0x",
    "1:30",
    ".inf",
];

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (any::<usize>(), prop::sample::select(ALPHABET)).prop_map(|(i, c)| Edit::Insert(i, c)),
        any::<usize>().prop_map(Edit::Delete),
        (any::<usize>(), prop::sample::select(ALPHABET)).prop_map(|(i, c)| Edit::Replace(i, c)),
        (any::<usize>(), prop::sample::select(SNIPPETS)).prop_map(|(i, s)| Edit::InsertText(i, s)),
    ]
}

fn mutate(doc: &str, edits: &[Edit]) -> String {
    let mut chars: Vec<char> = doc.chars().collect();
    for e in edits {
        let at = |i: usize, len: usize| if len == 0 { 0 } else { i % (len + 1) };
        match *e {
            Edit::Insert(i, c) => {
                let i = at(i, chars.len());
                chars.insert(i, c);
            }
            Edit::Delete(i) if !chars.is_empty() => {
                let i = i % chars.len();
                chars.remove(i);
            }
            Edit::Replace(i, c) if !chars.is_empty() => {
                let i = i % chars.len();
                chars[i] = c;
            }
            Edit::InsertText(i, s) => {
                let i = at(i, chars.len());
                chars.splice(i..i, s.chars());
            }
            Edit::Delete(_) | Edit::Replace(..) => {}
        }
    }
    chars.into_iter().collect()
}

/// 512 cases by default (a few seconds in a debug build); `PROPTEST_CASES` asks for more.
fn case_count() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(512)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: case_count(), ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_strings_do_not_panic(text in any::<String>()) {
        load_both(&text);
    }

    #[test]
    fn yaml_noise_does_not_panic(text in yaml_noise()) {
        load_both(&text);
    }

    #[test]
    fn mutated_corpus_documents_do_not_panic(
        index in any::<prop::sample::Index>(),
        edits in prop::collection::vec(edit(), 1..6),
    ) {
        let docs = corpus();
        let doc = &docs[index.index(docs.len())];
        load_both(&mutate(doc, &edits));
    }
}

#[test]
fn every_corpus_document_with_every_single_deletion_does_not_panic() {
    // Exhaustive over the short documents: cheap and catches off-by-one slicing.
    for doc in corpus().iter().filter(|d| d.chars().count() <= 40) {
        let chars: Vec<char> = doc.chars().collect();
        for i in 0..chars.len() {
            let mut mutated = chars.clone();
            mutated.remove(i);
            load_both(&mutated.iter().collect::<String>());
        }
    }
}
