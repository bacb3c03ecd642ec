//! `extends`: jobs inheriting from other (hidden or visible) jobs by deep merge.

use std::collections::{HashMap, HashSet};

use gantry_yaml::{Node, Value};

use crate::diagnostic::Diagnostic;
use crate::merge::deep_merge;

/// An entry with `extends` may have at most this many entries above it in the chain.
const MAX_DEPTH: usize = 10;

/// The most values `extends` may copy from parents into jobs. A big template extended by many
/// jobs multiplies the configuration; past this the resolution stops with an error.
const MAX_COPIED: usize = 2_000_000;

/// Resolves `extends` in every top-level entry of `root`, in place.
pub fn resolve_extends(root: &mut Node, errors: &mut Vec<Diagnostic>) {
    let Some(map) = root.as_map() else { return };
    let names: Vec<String> = map
        .entries
        .iter()
        .filter(|(_, v)| v.as_map().is_some_and(|m| m.contains_key("extends")))
        .filter_map(|(k, _)| k.as_str().map(str::to_string))
        .collect();
    if names.is_empty() {
        return;
    }
    let mut resolved = {
        let mut resolver = Extender {
            original: map
                .entries
                .iter()
                .filter_map(|(k, v)| k.as_str().map(|k| (k.to_string(), v)))
                .collect(),
            resolved: HashMap::new(),
            sizes: HashMap::new(),
            visiting: HashSet::new(),
            reported: HashSet::new(),
            copied: 0,
        };
        for name in &names {
            resolver.resolve(name, 0, errors);
        }
        resolver.resolved
    };
    let extending: HashSet<&str> = names.iter().map(String::as_str).collect();
    let Some(map) = root.as_map_mut() else { return };
    for (key, value) in &mut map.entries {
        if let Some(node) = key
            .as_str()
            .filter(|k| extending.contains(k))
            .and_then(|k| resolved.remove(k))
        {
            *value = node;
        }
    }
}

struct Extender<'a> {
    original: HashMap<String, &'a Node>,
    /// Entries with their parents merged in (entries without `extends` as written).
    resolved: HashMap<String, Node>,
    /// `node_count` of each resolved entry.
    sizes: HashMap<String, usize>,
    visiting: HashSet<String>,
    reported: HashSet<String>,
    /// Values copied from parents so far.
    copied: usize,
}

impl Extender<'_> {
    /// Resolves `name` into `self.resolved`; false when that failed (errors are recorded).
    fn resolve(&mut self, name: &str, depth: usize, errors: &mut Vec<Diagnostic>) -> bool {
        if self.resolved.contains_key(name) {
            return true;
        }
        let Some(own) = self.original.get(name).map(|n| (*n).clone()) else {
            return false;
        };
        let Some(extends) = own.as_map().and_then(|m| m.get("extends")).cloned() else {
            self.sizes
                .insert(name.to_string(), crate::merge::node_count(&own));
            self.resolved.insert(name.to_string(), own);
            return true;
        };
        let key_span = own.span.clone();
        if self.visiting.contains(name) {
            self.report(
                name,
                format!("{name}: circular dependency detected in `extends`"),
                &extends,
                errors,
            );
            return false;
        }
        if depth > MAX_DEPTH {
            self.report(
                name,
                format!("{name}: nesting too deep in `extends`"),
                &extends,
                errors,
            );
            return false;
        }
        let parents: Vec<String> = match &extends.value {
            Value::Str(s) | Value::Symbol(s) => vec![s.clone()],
            Value::Seq(items) if items.iter().all(|i| i.as_str().is_some()) => items
                .iter()
                .filter_map(|i| i.as_str().map(str::to_string))
                .collect(),
            _ => {
                self.report(
                    name,
                    format!(
                        "jobs:{} extends should be an array of strings or a string",
                        name.to_lowercase()
                    ),
                    &extends,
                    errors,
                );
                return false;
            }
        };
        let unknown: Vec<&str> = parents
            .iter()
            .filter(|p| !self.original.contains_key(p.as_str()))
            .map(String::as_str)
            .collect();
        if !unknown.is_empty() {
            self.report(
                name,
                format!("{name}: unknown keys in `extends` ({})", unknown.join(", ")),
                &extends,
                errors,
            );
            return false;
        }
        let invalid: Vec<&str> = parents
            .iter()
            .filter(|p| {
                self.original
                    .get(p.as_str())
                    .is_some_and(|n| n.as_map().is_none())
            })
            .map(String::as_str)
            .collect();
        if !invalid.is_empty() {
            self.report(
                name,
                format!(
                    "{name}: invalid base hashes in `extends` ({})",
                    invalid.join(", ")
                ),
                &extends,
                errors,
            );
            return false;
        }
        self.visiting.insert(name.to_string());
        let mut merged = Node::new(Value::Map(gantry_yaml::Mapping::default()), key_span);
        let mut failed = false;
        for parent in &parents {
            if !self.resolve(parent, depth + 1, errors) {
                failed = true;
                continue;
            }
            // Checked before copying: a big template extended by many jobs stops here.
            self.copied += self.sizes.get(parent.as_str()).copied().unwrap_or(0);
            if self.copied > MAX_COPIED {
                self.report(
                    name,
                    format!(
                        "{name}: `extends` makes the configuration too big (more than {MAX_COPIED} values)"
                    ),
                    &extends,
                    errors,
                );
                failed = true;
                break;
            }
            if let Some(base) = self.resolved.get(parent.as_str()) {
                deep_merge(&mut merged, base.clone());
            }
        }
        self.visiting.remove(name);
        if failed {
            return false;
        }
        let span = own.span.clone();
        deep_merge(&mut merged, own);
        merged.span = span;
        self.sizes
            .insert(name.to_string(), crate::merge::node_count(&merged));
        self.resolved.insert(name.to_string(), merged);
        true
    }

    fn report(&mut self, name: &str, message: String, at: &Node, errors: &mut Vec<Diagnostic>) {
        if self.reported.insert(name.to_string()) {
            errors.push(Diagnostic::error(message, Some(&at.span)));
        }
    }
}
