//! `include:local` wildcards: GitLab turns the path into an anchored regular expression over
//! repository paths where `**` is any characters including `/`, `*` any characters except `/`,
//! and every other character is literal (`?`, `[]`, `{}` included).

use super::GlobError;

/// A compiled `include:local` wildcard path.
#[derive(Debug, Clone)]
pub struct IncludeGlob {
    pattern: String,
    regex: regex::Regex,
    prefix_len: usize,
}

impl IncludeGlob {
    /// Compiles a wildcard path. Leading slashes are dropped (paths are relative to the
    /// repository root). Fails only if the resulting expression is too large.
    pub fn new(pattern: &str) -> Result<Self, GlobError> {
        let pattern = pattern.trim_start_matches('/');
        let mut re = String::with_capacity(pattern.len() * 2 + 4);
        re.push_str(r"\A");
        let mut rest = pattern;
        while !rest.is_empty() {
            if let Some(after) = rest.strip_prefix("**") {
                re.push_str(".*");
                rest = after;
            } else if let Some(after) = rest.strip_prefix('*') {
                re.push_str("[^/]*");
                rest = after;
            } else {
                let end = rest.find('*').unwrap_or(rest.len());
                re.push_str(&regex::escape(&rest[..end]));
                rest = &rest[end..];
            }
        }
        re.push_str(r"\z");
        let regex = regex::Regex::new(&re).map_err(|e| GlobError::BadPattern(e.to_string()))?;
        Ok(IncludeGlob {
            pattern: pattern.to_owned(),
            regex,
            prefix_len: pattern.find('*').unwrap_or(pattern.len()),
        })
    }

    /// Whether a repository path (no leading `/`) matches.
    pub fn matches(&self, path: &str) -> bool {
        self.regex.is_match(path)
    }

    /// Whether a `local` include location is a wildcard (contains `*`).
    pub fn is_wildcard(location: &str) -> bool {
        location.contains('*')
    }

    /// The pattern without leading slashes.
    pub fn pattern(&self) -> &str {
        &self.pattern
    }

    /// The text before the first `*`: every match starts with it, so a search can be narrowed.
    pub fn literal_prefix(&self) -> &str {
        &self.pattern[..self.prefix_len]
    }
}

#[cfg(test)]
mod tests {
    use super::IncludeGlob;

    fn m(pattern: &str, path: &str) -> bool {
        IncludeGlob::new(pattern).unwrap().matches(path)
    }

    #[test]
    fn documented_examples() {
        // configs/*.yml: that directory only.
        assert!(m("configs/*.yml", "configs/a.yml"));
        assert!(!m("configs/*.yml", "configs/sub/a.yml"));
        // configs/**.yml: the directory and all subdirectories.
        assert!(m("configs/**.yml", "configs/a.yml"));
        assert!(m("configs/**.yml", "configs/sub/deep/a.yml"));
        // configs/**/*.yml: subdirectories only.
        assert!(!m("configs/**/*.yml", "configs/a.yml"));
        assert!(m("configs/**/*.yml", "configs/sub/a.yml"));
        assert!(m("configs/**/*.yml", "configs/sub/deep/a.yml"));
    }

    #[test]
    fn anchored_and_literal() {
        assert!(!m("*.yml", "x/a.yml"));
        assert!(!m("configs/*.yml", "other/configs/a.yml"));
        assert!(!m("configs/*.yml", "configs/a.yml.bak"));
        assert!(m("a?.yml", "a?.yml"));
        assert!(!m("a?.yml", "ab.yml"));
        assert!(m("[ab].yml", "[ab].yml"));
        assert!(!m("[ab].yml", "a.yml"));
        assert!(m("{a,b}.yml", "{a,b}.yml"));
        assert!(!m("a.yml", "axyml"), "dot is literal");
        assert!(m("*", ".hidden"), "dotfiles match");
        assert!(m("***.yml", "a/b.yml"), "`**` then `*`");
    }

    #[test]
    fn leading_slash_and_prefix() {
        assert!(m("/configs/*.yml", "configs/a.yml"));
        let glob = IncludeGlob::new("/ci/jobs/**/*.yml").unwrap();
        assert_eq!(glob.pattern(), "ci/jobs/**/*.yml");
        assert_eq!(glob.literal_prefix(), "ci/jobs/");
        assert!(IncludeGlob::is_wildcard("a/*.yml"));
        assert!(!IncludeGlob::is_wildcard("a/b.yml"));
    }
}
