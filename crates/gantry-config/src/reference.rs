//! `!reference [name, key, ...]`: reusing a piece of another entry, resolved after includes and
//! `extends`.

use gantry_yaml::{Node, Value};

use crate::diagnostic::Diagnostic;

/// The most values references may copy into the configuration: the YAML loader's limit for
/// aliases. Past it (`[!reference [.a], !reference [.a]]` chains double at every level) the
/// resolution stops with an error instead of exhausting memory.
const MAX_COPIED: usize = 1_000_000;

/// Replaces every `!reference` in `root` by the value it points at.
pub fn resolve_references(root: &mut Node, errors: &mut Vec<Diagnostic>) {
    if !contains_reference(root) {
        return;
    }
    let snapshot = root.clone();
    let mut state = State {
        stack: Vec::new(),
        copied: 0,
        too_big: false,
    };
    resolve_in(root, &snapshot, &mut state, errors);
}

struct State {
    /// The reference paths being resolved (cycle detection).
    stack: Vec<Vec<String>>,
    /// Values copied so far.
    copied: usize,
    /// The copy budget was exceeded (reported once).
    too_big: bool,
}

fn contains_reference(node: &Node) -> bool {
    match &node.value {
        Value::Reference(_) => true,
        Value::Seq(items) => items.iter().any(contains_reference),
        Value::Map(map) => map.entries.iter().any(|(_, v)| contains_reference(v)),
        _ => false,
    }
}

fn resolve_in(node: &mut Node, root: &Node, state: &mut State, errors: &mut Vec<Diagnostic>) {
    match &mut node.value {
        Value::Reference(inner) => {
            let inner = (**inner).clone();
            *node = resolve_one(&inner, root, state, errors)
                .unwrap_or_else(|| Node::new(Value::Null, inner.span.clone()));
        }
        Value::Seq(items) => {
            for item in items {
                resolve_in(item, root, state, errors);
            }
        }
        Value::Map(map) => {
            for (_, value) in &mut map.entries {
                resolve_in(value, root, state, errors);
            }
        }
        _ => {}
    }
}

/// Ruby's `Array#inspect` of the reference path: `[".setup", "script"]`.
fn inspect(node: &Node) -> String {
    match &node.value {
        Value::Seq(items) => {
            let parts: Vec<String> = items.iter().map(inspect).collect();
            format!("[{}]", parts.join(", "))
        }
        Value::Str(s) => format!("{s:?}"),
        Value::Symbol(s) => format!(":{s}"),
        Value::Null => "nil".into(),
        Value::Map(map) => {
            let parts: Vec<String> = map
                .entries
                .iter()
                .map(|(k, v)| format!("{}=>{}", inspect(k), inspect(v)))
                .collect();
            format!("{{{}}}", parts.join(", "))
        }
        Value::Reference(inner) => inspect(inner),
        other => other.scalar_to_string().unwrap_or_default(),
    }
}

fn resolve_one(
    inner: &Node,
    root: &Node,
    state: &mut State,
    errors: &mut Vec<Diagnostic>,
) -> Option<Node> {
    if state.too_big {
        return None;
    }
    let path: Option<Vec<String>> = inner.as_seq().filter(|s| !s.is_empty()).and_then(|items| {
        items
            .iter()
            .map(|i| i.as_str().map(str::to_string))
            .collect()
    });
    let Some(path) = path else {
        errors.push(Diagnostic::error(
            format!("!reference {} is not valid", inspect(inner)),
            Some(&inner.span),
        ));
        return None;
    };
    if state.stack.contains(&path) {
        errors.push(Diagnostic::error(
            format!("!reference {} is part of a circular chain", inspect(inner)),
            Some(&inner.span),
        ));
        return None;
    }
    let mut target = root;
    for key in &path {
        if let Some(next) = target.as_map().and_then(|m| m.get(key)) {
            target = next;
        } else {
            errors.push(
                Diagnostic::error(
                    format!("!reference {} could not be found", inspect(inner)),
                    Some(&inner.span),
                )
                .with_help(
                    "the first element names a top-level entry, the rest are keys inside it",
                ),
            );
            return None;
        }
    }
    state.copied += crate::merge::node_count(target);
    if state.copied > MAX_COPIED {
        state.too_big = true;
        errors.push(
            Diagnostic::error(
                format!(
                    "!reference {} makes the configuration too big (more than {MAX_COPIED} values)",
                    inspect(inner)
                ),
                Some(&inner.span),
            )
            .with_help(
                "references that repeat other references double the configuration at every level",
            ),
        );
        return None;
    }
    let mut value = target.clone();
    state.stack.push(path);
    resolve_in(&mut value, root, state, errors);
    state.stack.pop();
    Some(value)
}
