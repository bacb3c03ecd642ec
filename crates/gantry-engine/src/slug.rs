//! Job slugs: unique, directory-safe names for job directories and log files.

use std::collections::HashSet;

/// `CI_JOB_NAME_SLUG`-style slugs (lower case, `[a-z0-9-]`, at most 63 bytes), made unique by a
/// numeric suffix.
pub(crate) fn unique_slugs<'a>(names: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let mut used = HashSet::new();
    names
        .into_iter()
        .map(|name| {
            let base = slugify(name);
            let mut slug = base.clone();
            let mut n = 2;
            while !used.insert(slug.clone()) {
                slug = format!("{base}-{n}");
                n += 1;
            }
            slug
        })
        .collect()
}

fn slugify(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    let mut out = out.trim_matches('-').to_owned();
    out.truncate(63);
    let out = out.trim_end_matches('-').to_owned();
    if out.is_empty() {
        "job".to_owned()
    } else {
        out
    }
}

#[cfg(test)]
mod tests {
    use super::unique_slugs;

    #[test]
    fn slugs_are_unique() {
        assert_eq!(
            unique_slugs(["Build 1/2", "build-1-2", "deploy: [gcp, data]", "..."]),
            vec!["build-1-2", "build-1-2-2", "deploy-gcp-data", "job"]
        );
    }
}
