//! File-system checks used while reading the configuration (`rules:exists` in includes).

use std::path::Path;

use gantry_yaml::Node;

/// Whether any pattern of an `exists` value (a list, or `{paths: [...]}`) matches a file under
/// `root`, with GitLab's `File.fnmatch` rules.
pub fn any_exists(root: &Path, exists: &Node) -> bool {
    let patterns: Vec<String> = exists_patterns(exists);
    if patterns.is_empty() {
        return false;
    }
    let mut globs = Vec::new();
    for pattern in &patterns {
        let plain = !pattern.contains(['*', '?', '[', '{']);
        if plain {
            let trimmed = pattern.trim_start_matches("./");
            if root.join(trimmed).exists() {
                return true;
            }
        } else if let Ok(glob) = gantry_expr::glob::FnmatchGlob::new(pattern) {
            globs.push(glob);
        }
    }
    if globs.is_empty() {
        return false;
    }
    let mut files = Vec::new();
    crate::include::list_files(root, root, &mut files);
    files.iter().any(|f| globs.iter().any(|g| g.matches(f)))
}

/// The patterns of an `exists` or `changes` value.
pub fn exists_patterns(node: &Node) -> Vec<String> {
    let list = node.as_map().and_then(|m| m.get("paths")).unwrap_or(node);
    list.as_seq()
        .map(|items| {
            items
                .iter()
                .filter_map(|n| n.value.scalar_to_string())
                .collect()
        })
        .unwrap_or_default()
}
