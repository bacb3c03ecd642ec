//! GitLab's deep merge of configuration hashes (includes and `extends`).

use gantry_yaml::{Node, Value};

/// Merges `over` into `base` as GitLab's `deep_merge` does: keys only in `base` stay, keys in both
/// merge recursively when both values are hashes, otherwise `over` wins (arrays are replaced,
/// never concatenated). A key keeps the position it first had.
pub fn deep_merge(base: &mut Node, over: Node) {
    match (&mut base.value, over.value) {
        (Value::Map(into), Value::Map(from)) => {
            for (key, value) in from.entries {
                let existing = into
                    .entries
                    .iter_mut()
                    .find(|(k, _)| gantry_yaml::keys_equal(&k.value, &key.value));
                match existing {
                    Some((_, slot)) if slot.as_map().is_some() && value.as_map().is_some() => {
                        deep_merge(slot, value);
                    }
                    Some((_, slot)) => *slot = value,
                    None => into.entries.push((key, value)),
                }
            }
        }
        (_, value) => {
            base.value = value;
            base.span = over.span;
        }
    }
}

/// How many values `node` holds (keys included), for the limits on copying.
pub(crate) fn node_count(node: &Node) -> usize {
    match &node.value {
        Value::Seq(items) => 1 + items.iter().map(node_count).sum::<usize>(),
        Value::Map(map) => {
            1 + map
                .entries
                .iter()
                .map(|(_, v)| 1 + node_count(v))
                .sum::<usize>()
        }
        Value::Reference(inner) => 1 + node_count(inner),
        _ => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gantry_yaml::{SourceFile, load_document};

    fn load(text: &str) -> Node {
        load_document(SourceFile::new("t.yml", text)).expect("valid yaml")
    }

    #[test]
    fn hashes_merge_and_arrays_are_replaced() {
        let mut a = load("x: {a: 1, b: [1, 2]}\ny: 1\n");
        let b = load("x: {b: [3], c: 2}\nz: 3\n");
        deep_merge(&mut a, b);
        assert_eq!(
            a.to_json().to_string(),
            r#"{"x":{"a":1,"b":[3],"c":2},"y":1,"z":3}"#
        );
    }

    #[test]
    fn scalar_over_hash_replaces() {
        let mut a = load("x: {a: 1}\n");
        deep_merge(&mut a, load("x: null\n"));
        assert_eq!(a.to_json().to_string(), r#"{"x":null}"#);
    }
}
