//! `!reference [name, key, ...]`: reusing a piece of another entry, resolved after includes and
//! `extends`.

use gantry_yaml::{Node, Value};

use crate::diagnostic::Diagnostic;

/// Replaces every `!reference` in `root` by the value it points at.
pub fn resolve_references(root: &mut Node, errors: &mut Vec<Diagnostic>) {
    if !contains_reference(root) {
        return;
    }
    let snapshot = root.clone();
    let mut stack = Vec::new();
    resolve_in(root, &snapshot, &mut stack, errors);
}

fn contains_reference(node: &Node) -> bool {
    match &node.value {
        Value::Reference(_) => true,
        Value::Seq(items) => items.iter().any(contains_reference),
        Value::Map(map) => map.entries.iter().any(|(_, v)| contains_reference(v)),
        _ => false,
    }
}

fn resolve_in(
    node: &mut Node,
    root: &Node,
    stack: &mut Vec<Vec<String>>,
    errors: &mut Vec<Diagnostic>,
) {
    match &mut node.value {
        Value::Reference(inner) => {
            let inner = (**inner).clone();
            *node = resolve_one(&inner, root, stack, errors)
                .unwrap_or_else(|| Node::new(Value::Null, inner.span.clone()));
        }
        Value::Seq(items) => {
            for item in items {
                resolve_in(item, root, stack, errors);
            }
        }
        Value::Map(map) => {
            for (_, value) in &mut map.entries {
                resolve_in(value, root, stack, errors);
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
        other => other.scalar_to_string().unwrap_or_else(|| "{...}".into()),
    }
}

fn resolve_one(
    inner: &Node,
    root: &Node,
    stack: &mut Vec<Vec<String>>,
    errors: &mut Vec<Diagnostic>,
) -> Option<Node> {
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
    if stack.contains(&path) {
        errors.push(Diagnostic::error(
            format!("!reference {} is part of a circular chain", inspect(inner)),
            Some(&inner.span),
        ));
        return None;
    }
    let mut target = root;
    for key in &path {
        match target.as_map().and_then(|m| m.get(key)) {
            Some(next) => target = next,
            None => {
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
    }
    let mut value = target.clone();
    stack.push(path);
    resolve_in(&mut value, root, stack, errors);
    stack.pop();
    Some(value)
}
