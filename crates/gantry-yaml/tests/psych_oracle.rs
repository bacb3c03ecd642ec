//! Differential test against Ruby's Psych, the loader GitLab uses.
//!
//! Every document of `tests/psych-corpus/*.yml` (plus a few that need bytes a text file cannot
//! show plainly) is loaded by Gantry and by one Ruby process running
//! `YAML.safe_load(doc, permitted_classes: [Symbol], permitted_symbols: [], aliases: true)`.
//! Both sides are turned into the same canonical JSON, which keeps what plain JSON loses:
//! integer versus float (`{"$float": "<Ruby Float#to_s>"}`), symbols (`{"$sym": name}`), key order
//! and key types (`{"$map": [[key, value], ...]}`). The test also checks `Node::to_json` against
//! Ruby's `JSON.generate` and `load_stream` against Psych loading each piece of GitLab's
//! textual split.
//!
//! Without `ruby` the test is skipped with a message, except on CI (`CI=true`) where it fails.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};

use gantry_yaml::{Node, SourceFile, Value, load_document, load_stream};
use serde_json::{Value as J, json};

const RUBY_ORACLE: &str = r##"
require 'yaml'
require 'json'

def canon(x, depth = 0)
  raise 'nesting too deep' if depth > 300
  case x
  when nil, true, false then x
  when Integer then (x >= -2**63 && x < 2**63) ? x : { '$float' => x.to_f.to_s }
  when Float then { '$float' => x.to_s }
  when String then x.dup.force_encoding('UTF-8').scrub
  when Symbol then { '$sym' => x.to_s }
  when Array then x.map { |e| canon(e, depth + 1) }
  when Hash then { '$map' => x.map { |k, v| [canon(k, depth + 1), canon(v, depth + 1)] } }
  else raise "unsupported class #{x.class}"
  end
end

# JSON.generate(allow_nan: true) would write bare NaN/Infinity; Node::to_json writes strings.
def finite(x)
  case x
  when Float then x.finite? ? x : x.to_s
  when Array then x.map { |e| finite(e) }
  when Hash then x.each_with_object({}) { |(k, v), h| h[k] = finite(v) }
  else x
  end
end

def load(doc)
  YAML.safe_load(doc, permitted_classes: [Symbol], permitted_symbols: [], aliases: true)
end

def result(doc)
  value = load(doc)
  { 'ok' => canon(value), 'json' => JSON.parse(JSON.generate(finite(value), allow_nan: true, max_nesting: false), max_nesting: false) }
rescue Exception => e
  { 'error' => "#{e.class}: #{e.message}" }
end

docs = JSON.parse(STDIN.read)
out = docs.map do |doc|
  pieces = doc.sub(/\A\uFEFF/, '').split(/^---\s+/).reject { |p| p.match?(/\A\s*\z/) }
  { 'doc' => result(doc), 'stream' => pieces.map { |p| result(p) } }
end
puts JSON.generate(out, max_nesting: false)
"##;

struct Case {
    name: String,
    text: String,
}

fn corpus() -> Vec<Case> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/psych-corpus");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("corpus directory")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "yml"))
        .collect();
    files.sort();
    let mut cases = Vec::new();
    for file in files {
        let stem = file.file_stem().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(&file).expect("corpus file");
        let mut current: Option<Case> = None;
        for line in text.split_inclusive('\n') {
            if let Some(name) = line.strip_prefix("=== ") {
                cases.extend(current.take());
                current = Some(Case {
                    name: format!("{stem}/{}", name.trim()),
                    text: String::new(),
                });
            } else if let Some(case) = current.as_mut() {
                case.text.push_str(line);
            }
        }
        cases.extend(current);
    }
    // Documents whose bytes are clearer written out here.
    let extra = [
        ("crlf-line-endings", "a: 1\r\nb:\r\n  - x\r\n  - y\r\n"),
        ("crlf-stream", "a: 1\r\n---\r\nb: 2\r\n"),
        ("bom", "\u{feff}a: 1\n"),
        ("no-final-newline", "a: 1"),
        ("tab-after-colon", "a:\t1\n"),
        ("tab-in-plain", "a: b\tc\n"),
        ("tab-in-flow", "[a,\tb]\n"),
        ("trailing-spaces", "a: 1   \nb: two  \n"),
        ("nul-in-double-quotes", "a: \"x\\0y\"\n"),
        ("nbsp-in-plain", "a: b\u{a0}c\n"),
        ("control-char-in-plain", "a: b\u{7}c\n"),
        ("del-in-plain", "a: b\u{7f}c\n"),
        ("c1-control-in-double-quotes", "a: \"b\u{9b}c\"\n"),
        ("bom-in-the-middle", "a: 1\n\u{feff}b: 2\n"),
        ("nul-in-plain", "a: b\u{0}c\n"),
        ("known-line-separator-in-plain", "a: b\u{2028}c\n"),
        ("known-next-line-in-plain", "a: b\u{85}c\n"),
        ("emoji-key", "\u{1f680}: launch\n"),
        ("combining-mark", "a: e\u{301}\n"),
        (
            "deep-flow-99",
            &format!("{}{}", "[".repeat(99), "]".repeat(99)),
        ),
    ];
    for (name, text) in extra {
        cases.push(Case {
            name: format!("extra/{name}"),
            text: text.to_owned(),
        });
    }
    cases
}

fn ruby_available() -> bool {
    Command::new("ruby")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn run_ruby(docs: &[&str]) -> Vec<J> {
    let mut child = Command::new("ruby")
        .arg("-e")
        .arg(RUBY_ORACLE)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start ruby");
    let input = serde_json::to_vec(docs).unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let output = child.wait_with_output().expect("ruby output");
    writer.join().unwrap().expect("write to ruby");
    assert!(
        output.status.success(),
        "ruby failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    match serde_json::from_slice(&output.stdout).expect("ruby JSON") {
        J::Array(results) => results,
        other => panic!("unexpected oracle output {other}"),
    }
}

/// The canonical form of a Gantry node (see the module documentation).
fn canon(node: &Node) -> J {
    match &node.value {
        Value::Null => J::Null,
        Value::Bool(b) => J::Bool(*b),
        Value::Int(i) => json!(i),
        Value::Float(_) => json!({ "$float": node.value.scalar_to_string().unwrap() }),
        Value::Str(s) => J::String(s.clone()),
        Value::Symbol(s) => json!({ "$sym": s }),
        Value::Seq(items) => J::Array(items.iter().map(canon).collect()),
        Value::Map(m) => json!({
            "$map": m.entries.iter().map(|(k, v)| json!([canon(k), canon(v)])).collect::<Vec<_>>()
        }),
        // Bare Psych knows nothing of GitLab's tag: it loads the tagged node as it is.
        Value::Reference(inner) => canon(inner),
    }
}

/// Whether Gantry's `to_json` matches Ruby's `JSON.generate`. Floats are compared with a
/// relative tolerance because `serde_json`'s float reading may be one unit in the last place off
/// (the canonical comparison checks exact `Float#to_s` texts). Integers beyond `i64` — a Ruby
/// Bignum, a float in Gantry (documented) — compare as floats, also as hash keys.
fn json_matches(ours: &J, ruby: &J) -> bool {
    match (ours, ruby) {
        (J::Number(a), J::Number(b)) => {
            if let (Some(x), Some(y)) = (a.as_i64(), b.as_i64()) {
                x == y
            } else {
                let (x, y) = (a.as_f64().unwrap(), b.as_f64().unwrap());
                (x - y).abs() <= 1e-15 * x.abs().max(y.abs())
            }
        }
        (J::Array(a), J::Array(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| json_matches(x, y))
        }
        (J::Object(a), J::Object(b)) => {
            a.len() == b.len()
                && b.iter().all(|(key, value)| {
                    a.get(&bignum_key_as_float(key))
                        .is_some_and(|ours| json_matches(ours, value))
                })
        }
        _ => ours == ruby,
    }
}

/// `"24831501462267069443"` (a Bignum key) as Gantry writes the same key: a Ruby float text.
fn bignum_key_as_float(key: &str) -> String {
    let digits = key.strip_prefix('-').unwrap_or(key);
    let is_integer = !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit());
    match key.parse::<f64>() {
        Ok(f) if is_integer && key.parse::<i64>().is_err() => {
            Value::Float(f).scalar_to_string().unwrap()
        }
        _ => key.to_owned(),
    }
}

/// Documents where Gantry knowingly differs from Psych (see `known-differences.yml`): the test
/// checks that they still differ, so that a change of behaviour is noticed and documented.
fn is_known_difference(name: &str) -> bool {
    name.starts_with("known-differences/") || name.starts_with("extra/known-")
}

/// The Ruby exception class of an oracle error (`Psych::BadAlias: Unknown alias: x`).
fn error_class(message: &str) -> &str {
    message.split(": ").next().unwrap_or("")
}

/// Errors whose message Gantry reproduces word for word (syntax errors are only checked to fail).
fn message_must_match(class: &str) -> bool {
    matches!(
        class,
        "Psych::DisallowedClass" | "Psych::BadAlias" | "ArgumentError" | "TypeError"
    )
}

/// Compares one Gantry result with one oracle result; returns a description of any difference.
fn compare(ours: Result<&Node, &gantry_yaml::YamlError>, oracle: &J) -> Option<String> {
    match (ours, oracle.get("error").and_then(J::as_str)) {
        (Ok(node), None) => {
            let expected = &oracle["ok"];
            let got = canon(node);
            if &got != expected {
                return Some(format!(
                    "tree differs\n  psych:  {expected}\n  gantry: {got}"
                ));
            }
            let json = node.to_json();
            if !json_matches(&json, &oracle["json"]) {
                return Some(format!(
                    "to_json differs\n  psych:  {}\n  gantry: {json}",
                    oracle["json"]
                ));
            }
            None
        }
        (Ok(node), Some(error)) => Some(format!(
            "psych fails ({error}) but gantry loads {}",
            canon(node)
        )),
        (Err(e), None) => Some(format!(
            "gantry fails ({} at {}:{}) but psych loads {}",
            e.message, e.span.line, e.span.column, oracle["ok"]
        )),
        (Err(e), Some(error)) => {
            let class = error_class(error);
            let expected = error.split_once(": ").map_or("", |(_, m)| m);
            if message_must_match(class) && e.message != expected {
                return Some(format!(
                    "messages differ\n  psych:  {error}\n  gantry: {}",
                    e.message
                ));
            }
            None
        }
    }
}

/// Whether the oracle can run; panics on CI without Ruby, prints a skip message otherwise.
fn oracle_available() -> bool {
    if ruby_available() {
        return true;
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "ruby is required on CI for the Psych oracle test (apt-get install ruby)"
    );
    // Straight to the stderr handle: the test harness does not capture that, so the skip shows
    // even when the test passes.
    let _ = writeln!(
        std::io::stderr(),
        "SKIPPED: ruby not installed; the Psych oracle test did not run"
    );
    false
}

#[test]
fn gantry_loads_like_psych() {
    if !oracle_available() {
        return;
    }
    let cases = corpus();
    assert!(cases.len() >= 150, "corpus too small: {}", cases.len());
    let docs: Vec<&str> = cases.iter().map(|c| c.text.as_str()).collect();
    let oracle = run_ruby(&docs);
    assert_eq!(oracle.len(), cases.len());

    let mut failures = String::new();
    let mut failed = 0;
    let mut known = 0;
    for (case, expected) in cases.iter().zip(&oracle) {
        let file = SourceFile::new(&case.name, case.text.as_str());
        let doc = load_document(file.clone());
        let mut problems = Vec::new();
        if let Some(diff) = compare(doc.as_ref(), &expected["doc"]) {
            problems.push(format!("load_document: {diff}"));
        }
        let pieces = expected["stream"].as_array().expect("stream results");
        match load_stream(file) {
            Ok(nodes) if nodes.len() == pieces.len() => {
                for (i, (node, piece)) in nodes.iter().zip(pieces).enumerate() {
                    if let Some(diff) = compare(Ok(node), piece) {
                        problems.push(format!("load_stream piece {i}: {diff}"));
                    }
                }
            }
            Ok(nodes) => problems.push(format!(
                "load_stream: {} pieces, psych {}",
                nodes.len(),
                pieces.len()
            )),
            Err(e) => {
                let failing = pieces.iter().find(|p| p.get("error").is_some());
                match failing {
                    Some(piece) => {
                        if let Some(diff) = compare(Err(&e), piece) {
                            problems.push(format!("load_stream: {diff}"));
                        }
                    }
                    None => problems.push(format!(
                        "load_stream fails ({}) but psych loads every piece",
                        e.message
                    )),
                }
            }
        }
        if is_known_difference(&case.name) {
            known += 1;
            if problems.is_empty() {
                failed += 1;
                let _ = writeln!(
                    failures,
                    "--- {}\n{}\nnow loads like Psych: move it out of the known differences",
                    case.name, case.text
                );
            }
        } else if !problems.is_empty() {
            failed += 1;
            let _ = writeln!(
                failures,
                "--- {}\n{}\n{}",
                case.name,
                case.text,
                problems.join("\n")
            );
        }
    }
    let _ = writeln!(
        std::io::stderr(),
        "psych oracle: {} documents ({known} known differences), {} passed, {failed} failed",
        cases.len(),
        cases.len() - failed
    );
    assert!(
        failed == 0,
        "{failed} documents differ from Psych:\n{failures}"
    );
}

fn env_number<T: std::str::FromStr>(name: &str) -> Option<T> {
    std::env::var(name).ok()?.parse().ok()
}

/// A small deterministic generator (xorshift), so that the random scalars are the same on
/// every run and a failure can be reproduced.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % n as u64).unwrap()
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

/// Plain scalars near the edges of Psych's typing rules: number-like soup and variations of
/// the shapes in its scanner (dates, times, base 60, exponents, words).
fn random_scalar(rng: &mut Rng) -> String {
    const SOUP: &[&str] = &[
        "0", "1", "2", "5", "7", "8", "9", "0", "1", "+", "-", ".", "_", ",", ":", "e", "E", "x",
        "b", "o", "y", "t", "n", "f", "u", "l", "s", "a", "r", "N", "O", "T", "Y", "~", "i", "I",
        "F", "Z", " ",
    ];
    const SHAPES: &[&str] = &[
        "D",
        "DD",
        "0DDD",
        "-0DD",
        "0xHH",
        "0bBB",
        "D_DDD",
        "D,DDD",
        "D__D",
        "D:DD",
        "D:DD:DD",
        "-D:DD",
        "D:DD.D",
        "D:6D",
        "D.D",
        ".D",
        "D.",
        "D.De+D",
        "D.DE-DD",
        "DeD",
        "D.DeD",
        "DDDD-D-D",
        "DDDD-DD-DD",
        "DDDD-DD-DD DD:DD:DD",
        "DDDD-D-DTD:DD:DDZ",
        "DDDD-DD-DD DD:DD:DD.DD -D",
        "DDDD-DD-DD DD:DD:DD +DD:DD",
        "DD-DD-DD",
        ":W",
        ":D",
        "W",
        "WW",
        ".inf",
        "-.Inf",
        ".NaN",
        "+DDDDDDDDDDDDDDDDDDDD",
        "0xHHHHHHHHHHHHHHHHH",
        "D.DDDDDDDDDDDDDDDDDD",
        "DDDDDDDDDDDDDDD.D",
        "D.De+DDD",
        "0.000DD",
    ];
    const WORDS: &[&str] = &[
        "yes", "No", "ON", "off", "true", "False", "null", "NULL", "~", "y", "n", "nil",
    ];
    if rng.below(3) == 0 {
        let len = 1 + rng.below(10);
        let soup: String = (0..len).map(|_| rng.pick(SOUP)).collect();
        let soup = soup.trim();
        if soup.is_empty() {
            "0".into()
        } else {
            soup.to_owned()
        }
    } else {
        rng.pick(SHAPES)
            .chars()
            .map(|c| match c {
                'D' => char::from(b'0' + u8::try_from(rng.below(10)).unwrap()).to_string(),
                'H' => rng.pick(&["0", "7", "a", "F", "9", "_"]).to_owned(),
                'B' => rng.pick(&["0", "1", "_", ","]).to_owned(),
                'W' => rng.pick(WORDS).to_owned(),
                other => other.to_string(),
            })
            .collect()
    }
}

/// Random plain scalars, as values and as keys, against Psych in one batch.
#[test]
fn random_scalars_type_like_psych() {
    if !oracle_available() {
        return;
    }
    // `ORACLE_SCALARS` and `ORACLE_SEED` ask for another batch when hunting differences.
    let count: usize = env_number("ORACLE_SCALARS").unwrap_or(3000);
    let mut rng = Rng(env_number("ORACLE_SEED").unwrap_or(0x9e37_79b9_7f4a_7c15));
    let docs: Vec<String> = (0..count)
        .map(|_| {
            let s = random_scalar(&mut rng);
            format!("v: {s}\n{s}: k\n")
        })
        .collect();
    let refs: Vec<&str> = docs.iter().map(String::as_str).collect();
    let oracle = run_ruby(&refs);
    let mut failures = Vec::new();
    for (doc, expected) in docs.iter().zip(&oracle) {
        let loaded = load_document(SourceFile::new("scalar.yml", doc.as_str()));
        if let Some(diff) = compare(loaded.as_ref(), &expected["doc"]) {
            failures.push(format!("{doc:?}: {diff}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} random scalars differ from Psych:\n{}",
        failures.len(),
        docs.len(),
        failures.join("\n")
    );
}
