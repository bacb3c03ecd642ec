//! Loader behaviour through the public API: merge keys, aliases, tags, spans, the textual
//! document split, limits and error messages.

use std::fmt::Write as _;
use std::sync::Arc;

use gantry_yaml::{Node, SourceFile, Value, YamlError, load_document, load_stream};

fn file(text: &str) -> Arc<SourceFile> {
    SourceFile::new("test.yml", text)
}

fn load(text: &str) -> Node {
    load_document(file(text)).unwrap_or_else(|e| panic!("{text:?}: {e} at {}", e.span.location()))
}

fn fail(text: &str) -> YamlError {
    match load_document(file(text)) {
        Ok(node) => panic!("{text:?} loaded as {}", node.to_json()),
        Err(e) => e,
    }
}

/// The mapping as `(key, value)` JSON text pairs, in order.
fn pairs(node: &Node) -> Vec<(String, String)> {
    node.as_map()
        .expect("a mapping")
        .iter()
        .map(|(k, v)| (k.to_json().to_string(), v.to_json().to_string()))
        .collect()
}

fn at<'a>(node: &'a Node, key: &str) -> &'a Node {
    node.as_map()
        .and_then(|m| m.get(key))
        .unwrap_or_else(|| panic!("no key {key}"))
}

#[test]
fn merge_overrides_keys_written_before_it() {
    let doc = load("b: &b {x: 1, y: 2}\nm: {x: 0, z: 3, <<: *b}\n");
    assert_eq!(
        pairs(at(&doc, "m")),
        [("\"x\"", "1"), ("\"z\"", "3"), ("\"y\"", "2")].map(|(a, b)| (a.into(), b.into()))
    );
}

#[test]
fn keys_after_merge_win() {
    let doc = load("b: &b {x: 1, y: 2}\nm:\n  <<: *b\n  x: 0\n");
    assert_eq!(at(at(&doc, "m"), "x").to_json(), 0);
    assert_eq!(at(at(&doc, "m"), "y").to_json(), 2);
}

#[test]
fn merge_sequence_earlier_entry_wins_and_new_keys_come_from_the_last() {
    let doc = load("a: &a {x: 1, y: 2}\nb: &b {y: 3, z: 4}\nc: {<<: [*a, *b], w: 0}\n");
    let keys: Vec<String> = pairs(at(&doc, "c")).into_iter().map(|(k, _)| k).collect();
    assert_eq!(keys, ["\"y\"", "\"z\"", "\"x\"", "\"w\""]);
    assert_eq!(at(at(&doc, "c"), "y").to_json(), 2);
}

#[test]
fn merge_of_non_mappings_is_a_literal_key() {
    for (text, value) in [
        ("m: {<<: 1}", "1"),
        ("m: {<<: }", "null"),
        ("s: &s x\nm: {<<: *s}", "\"x\""),
        ("l: &l [1]\nm: {<<: *l}", "[1]"),
        ("a: &a {x: 1}\nm: {<<: [*a, 2]}", "[{\"x\":1},2]"),
        ("m: {<<: !reference [a, b]}", "[\"a\",\"b\"]"),
    ] {
        let doc = load(text);
        let m = at(&doc, "m");
        assert_eq!(at(m, "<<").to_json().to_string(), value, "{text}");
    }
}

#[test]
fn repeated_merge_keys_apply_in_order() {
    let doc = load("a: &a {x: 1, s: a}\nb: &b {y: 1, s: b}\nc: {<<: *a, q: 1, <<: *b}\n");
    let c = at(&doc, "c");
    let keys: Vec<String> = pairs(c).into_iter().map(|(k, _)| k).collect();
    assert_eq!(keys, ["\"x\"", "\"s\"", "\"q\"", "\"y\""]);
    assert_eq!(at(c, "s").to_json(), "b");
}

#[test]
fn merge_key_quoting_and_tags() {
    let doc = load("a: &a {x: 1}\nq: {\"<<\": *a}\ns: {!!str <<: *a}\nt: {!foo <<: *a}\n");
    assert!(at(&doc, "q").as_map().unwrap().contains_key("x"));
    assert!(at(&doc, "s").as_map().unwrap().contains_key("<<"));
    assert!(at(&doc, "t").as_map().unwrap().contains_key("x"));
}

#[test]
fn merging_a_mapping_into_itself() {
    let doc = load("x: &a {k: 1, <<: *a, j: 2}\ny: &b\n  k: 1\n  in: {<<: *b}\n");
    assert_eq!(at(&doc, "x").as_map().unwrap().len(), 2);
    assert_eq!(at(at(&doc, "y"), "in").to_json().to_string(), "{\"k\":1}");
}

#[test]
fn duplicate_keys_keep_first_position_and_last_value() {
    let doc = load("a: 1\nb: 2\na: 3\n");
    assert_eq!(
        pairs(&doc),
        [("\"a\"", "3"), ("\"b\"", "2")].map(|(a, b)| (a.into(), b.into()))
    );
}

#[test]
fn large_mappings_deduplicate() {
    let mut text = String::new();
    for i in 0..200 {
        writeln!(text, "k{i}: {i}").unwrap();
    }
    text.push_str("k7: last\n");
    let doc = load(&text);
    assert_eq!(doc.as_map().unwrap().len(), 200);
    assert_eq!(at(&doc, "k7").to_json(), "last");
    assert_eq!(doc.as_map().unwrap().entries[7].0.as_str(), Some("k7"));
}

#[test]
fn keys_are_typed() {
    let doc = load("on: 1\n\"on\": 2\n~: 3\n1: 4\n:sym: 5\n");
    let keys: Vec<&Value> = doc
        .as_map()
        .unwrap()
        .iter()
        .map(|(k, _)| &k.value)
        .collect();
    assert!(matches!(keys[0], Value::Bool(true)));
    assert!(matches!(keys[1], Value::Str(s) if s == "on"));
    assert!(matches!(keys[2], Value::Null));
    assert!(matches!(keys[3], Value::Int(1)));
    assert!(matches!(keys[4], Value::Symbol(s) if s == "sym"));
}

#[test]
fn reference_tag_wraps_the_untagged_node() {
    let doc = load("a: !reference [.tpl, script]\nb: !reference foo\nc: !reference\n  - x\n");
    let Value::Reference(inner) = &at(&doc, "a").value else {
        panic!("not a reference")
    };
    assert_eq!(inner.to_json().to_string(), "[\".tpl\",\"script\"]");
    assert!(matches!(&at(&doc, "b").value, Value::Reference(n) if n.as_str() == Some("foo")));
    assert!(matches!(&at(&doc, "c").value, Value::Reference(n) if n.as_seq().is_some()));
    assert_eq!(at(&doc, "a").span.line, 1);
    assert_eq!(at(&doc, "a").span.column, 4);
}

#[test]
fn aliases_copy_the_anchored_node_and_point_at_the_alias() {
    let doc = load("a: &x\n  k: [1, 2]\nb: *x\n");
    assert_eq!(at(&doc, "b").to_json(), at(&doc, "a").to_json());
    assert_eq!(at(&doc, "b").span.line, 3);
    assert_eq!(at(&doc, "b").span.column, 4);
    // The copied content keeps the spans of where it was written.
    assert_eq!(at(at(&doc, "b"), "k").span.line, 2);
}

#[test]
fn unknown_alias() {
    let e = fail("a: 1\nb: *nope\n");
    assert_eq!(e.message, "Unknown alias: nope");
    assert_eq!((e.span.line, e.span.column), (2, 4));
    assert_eq!(
        fail("a: *later\nb: &later 1\n").message,
        "Unknown alias: later"
    );
}

#[test]
fn recursive_alias_is_refused() {
    let e = fail("a: &r [1, *r]\n");
    assert!(
        e.message.starts_with("The parsed YAML is too big"),
        "{}",
        e.message
    );
}

#[test]
fn dates_and_times_are_refused_like_psych() {
    let e = fail("a:\n  when: 2024-01-01\n");
    assert_eq!(e.message, "Tried to load unspecified class: Date");
    assert_eq!((e.span.line, e.span.column), (2, 9));
    assert_eq!(
        fail("a: 2024-01-01 10:00:00\n").message,
        "Tried to load unspecified class: Time"
    );
    assert_eq!(
        fail("a: !!set {x}\n").message,
        "Tried to load unspecified class: Psych::Set"
    );
    assert_eq!(
        fail("a: !ruby/object:Foo {}\n").message,
        "Tried to load unspecified class: Foo"
    );
}

#[test]
fn syntax_errors_read_like_psych_and_point_at_the_source() {
    let e = fail("a:\n  b: [1, 2\nc: 3\n");
    assert_eq!(
        e.message,
        "did not find expected ',' or ']' while parsing a flow sequence"
    );
    assert_eq!(e.span.location(), "test.yml:2:6");
    let e = fail("a: {b: 1\n");
    assert_eq!(
        e.message,
        "did not find expected ',' or '}' while parsing a flow mapping"
    );
    assert_eq!(e.span.location(), "test.yml:1:4");
    let e = fail("a: b: c\n");
    assert_eq!(e.message, "mapping values are not allowed in this context");
    assert_eq!(e.span.line, 1);
}

#[test]
fn empty_and_comment_only_documents_are_null() {
    assert!(load("").is_null());
    assert!(load("# nothing\n\n").is_null());
    assert!(load("---\n").is_null());
    assert_eq!(load_stream(file("")).unwrap().len(), 0);
    let pieces = load_stream(file("# c\n---\na: 1\n")).unwrap();
    assert_eq!(pieces.len(), 2);
    assert!(pieces[0].is_null());
}

#[test]
fn load_document_takes_the_first_document() {
    let doc = load("a: 1\n---\nb: 2\n---\n[[[\n");
    assert_eq!(doc.to_json().to_string(), "{\"a\":1}");
}

#[test]
fn stream_spans_refer_to_the_whole_file() {
    let text = "spec:\n  inputs:\n    env:\n---\n\njob:\n  script: [a, 2024-01-01]\n";
    let e = load_stream(file(text)).unwrap_err();
    assert_eq!(e.message, "Tried to load unspecified class: Date");
    assert_eq!((e.span.line, e.span.column), (7, 15));

    let docs = load_stream(file("a: 1\n---   b: 2\n--- |\n  text\n")).unwrap();
    assert_eq!(docs.len(), 3);
    assert_eq!(at(&docs[1], "b").span.line, 2);
    assert_eq!(at(&docs[1], "b").span.column, 10);
    assert_eq!(docs[2].to_json(), "text\n");
    // A block scalar's span is where its content starts.
    assert_eq!((docs[2].span.line, docs[2].span.column), (4, 3));

    let e = load_stream(file("a: 1\n---\nb: [1\n")).unwrap_err();
    assert!(e.span.line >= 3, "{}", e.span.location());
}

#[test]
fn bom_is_ignored() {
    assert_eq!(load("\u{feff}a: 1\n").to_json().to_string(), "{\"a\":1}");
    assert_eq!(load_stream(file("\u{feff}a: 1\n")).unwrap().len(), 1);
}

#[test]
fn spans_are_one_based_in_characters() {
    let doc = load("é: [x, \"y\"]\n  # c\nz:\n  - w\n");
    let seq = at(&doc, "é").as_seq().unwrap();
    assert_eq!((seq[0].span.line, seq[0].span.column), (1, 5));
    assert_eq!((seq[1].span.line, seq[1].span.column), (1, 8));
    let w = &at(&doc, "z").as_seq().unwrap()[0];
    assert_eq!((w.span.line, w.span.column), (4, 5));
}

#[test]
fn nesting_is_limited_to_100_collections() {
    let ok = format!("{}{}", "[".repeat(100), "]".repeat(100));
    assert!(load_document(file(&ok)).is_ok());
    let too_deep = format!("{}{}", "[".repeat(101), "]".repeat(101));
    assert_eq!(fail(&too_deep).message, "The parsed YAML is too big");
    let hostile = "[".repeat(10_000);
    assert!(load_document(file(&hostile)).is_err());
    let mut block = String::new();
    for i in 0..150 {
        block.push_str(&" ".repeat(i));
        block.push_str("- \n");
    }
    assert!(load_document(file(&block)).is_err());
    // Aliases count with the depth of what they copy.
    let deep = format!("a: &a {}{}\nb: [[*a]]\n", "[".repeat(98), "]".repeat(98));
    assert_eq!(fail(&deep).message, "The parsed YAML is too big");
}

#[test]
fn alias_bombs_are_refused() {
    let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..10 {
        let prev = i - 1;
        let items = vec![format!("*a{prev}"); 10].join(", ");
        writeln!(text, "a{i}: &a{i} [{items}]").unwrap();
    }
    assert_eq!(fail(&text).message, "The parsed YAML is too big");
}

#[test]
fn tab_after_colon_and_underindented_quotes_load_like_psych() {
    assert_eq!(
        load("a:\t1\nb:\tfoo\n").to_json().to_string(),
        "{\"a\":1,\"b\":\"foo\"}"
    );
    let doc = load("b:\n  c: \"x\ny\n\n z\"\n  d: 'it''s\nok'\n");
    assert_eq!(at(at(&doc, "b"), "c").to_json(), "x y\nz");
    assert_eq!(at(at(&doc, "b"), "d").to_json(), "it's ok");
}

#[test]
fn libyaml_strictness_is_kept() {
    assert_eq!(
        fail("a: [x, :b]\n").message,
        "did not find expected node content while parsing a flow node"
    );
    assert_eq!(
        fail("a: [x:]\n").message,
        "found unexpected ':' while scanning a plain scalar"
    );
    assert!(fail("a: &x.y 1\n").message.contains("scanning an anchor"));
    assert!(fail("- \tx\n").message.contains("cannot start any token"));
    assert!(
        fail("a: 1\n\t\nb: 2\n")
            .message
            .contains("cannot start any token")
    );
    assert_eq!(
        fail("a: b\u{7}\n").message,
        "control characters are not allowed"
    );
    // Tabs are fine inside quoted scalars, block scalars and flow collections.
    load("a: \"x\n\ty\"\nb: [1,\n\t2]\nc: |\n  x\n  \ty\n");
}

#[test]
fn integers_beyond_i64_become_floats() {
    let doc = load("a: 99999999999999999999\nb: -9223372036854775808\n");
    assert!(matches!(at(&doc, "a").value, Value::Float(f) if (f - 1e20).abs() < 1.0));
    assert!(matches!(at(&doc, "b").value, Value::Int(i64::MIN)));
}

#[test]
fn variables_stringify_like_ruby() {
    let doc = load("a: 1.10\nb: 012345\nc: 1:30\nd: 1.0e+15\ne: yes\nf:\n");
    let s = |k: &str| at(&doc, k).value.scalar_to_string().unwrap();
    assert_eq!(s("a"), "1.1");
    assert_eq!(s("b"), "5349");
    assert_eq!(s("c"), "5400");
    assert_eq!(s("d"), "1.0e+15");
    assert_eq!(s("e"), "true");
    assert_eq!(s("f"), "");
}
