//! `.dockerignore`: which context files `COPY`/`ADD` never see. Patterns use Go's
//! `filepath.Match` syntax per path component (`*`, `?`, `[a-z]`, `\` escapes) plus `**` for any
//! number of directories; `!` re-includes; the last matching pattern wins; a pattern that
//! matches a directory also covers everything under it.

/// A parsed `.dockerignore`.
#[derive(Debug, Clone, Default)]
pub struct DockerIgnore {
    rules: Vec<(bool, Vec<String>)>,
}

impl DockerIgnore {
    /// Parses the file's text.
    pub fn parse(text: &str) -> Self {
        let mut rules = Vec::new();
        for line in text.lines() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (negate, pat) = line
                .strip_prefix('!')
                .map_or((false, line), |p| (true, p.trim()));
            let parts: Vec<String> = pat
                .split('/')
                .filter(|c| !c.is_empty() && *c != ".")
                .map(str::to_owned)
                .collect();
            if !parts.is_empty() {
                rules.push((negate, parts));
            }
        }
        Self { rules }
    }

    /// Whether `path` (context-relative, `/`-separated) is excluded.
    pub fn is_excluded(&self, path: &str) -> bool {
        let comps: Vec<&str> = path
            .split('/')
            .filter(|c| !c.is_empty() && *c != ".")
            .collect();
        let mut excluded = false;
        for (negate, pat) in &self.rules {
            // The pattern matches the path itself or one of its parent directories.
            let hit = (1..=comps.len()).any(|n| match_components(pat, &comps[..n]));
            if hit {
                excluded = !negate;
            }
        }
        excluded
    }

    /// Whether some `!` rule could re-include something under `dir` (then an excluded
    /// directory must still be walked).
    pub fn has_exceptions(&self) -> bool {
        self.rules.iter().any(|(n, _)| *n)
    }
}

/// Matches path components against pattern components (`**` spans any number).
pub fn match_components(pat: &[String], path: &[&str]) -> bool {
    match pat.split_first() {
        None => path.is_empty(),
        Some((first, rest)) if first == "**" => {
            (0..=path.len()).any(|i| match_components(rest, &path[i..]))
        }
        Some((first, rest)) => path
            .split_first()
            .is_some_and(|(p, prest)| match_segment(first, p) && match_components(rest, prest)),
    }
}

/// Go `filepath.Match` for one path component.
pub fn match_segment(pattern: &str, name: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    seg(&p, &n)
}

fn seg(p: &[char], n: &[char]) -> bool {
    match p.first() {
        None => n.is_empty(),
        Some('*') => (0..=n.len()).any(|i| seg(&p[1..], &n[i..])),
        Some('?') => !n.is_empty() && seg(&p[1..], &n[1..]),
        Some('[') => {
            let Some(&c) = n.first() else { return false };
            let mut i = 1;
            let negate = matches!(p.get(1), Some('^' | '!'));
            if negate {
                i += 1;
            }
            let mut matched = false;
            let mut first = true;
            while i < p.len() && (p[i] != ']' || first) {
                first = false;
                let lo = if p[i] == '\\' && i + 1 < p.len() {
                    i += 1;
                    p[i]
                } else {
                    p[i]
                };
                if p.get(i + 1) == Some(&'-') && p.get(i + 2).is_some_and(|&h| h != ']') {
                    let hi = p[i + 2];
                    matched |= lo <= c && c <= hi;
                    i += 3;
                } else {
                    matched |= lo == c;
                    i += 1;
                }
            }
            if i >= p.len() {
                return false;
            }
            matched != negate && seg(&p[i + 1..], &n[1..])
        }
        Some('\\') if p.len() > 1 => n.first() == Some(&p[1]) && seg(&p[2..], &n[1..]),
        Some(&c) => n.first() == Some(&c) && seg(&p[1..], &n[1..]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments() {
        assert!(match_segment("*.go", "main.go"));
        assert!(!match_segment("*.go", "main.rs"));
        assert!(match_segment("a?c", "abc"));
        assert!(match_segment("[a-c]x", "bx"));
        assert!(!match_segment("[!a-c]x", "bx"));
        assert!(match_segment("\\*", "*"));
    }

    #[test]
    fn ignore_rules() {
        let ig = DockerIgnore::parse(
            "# comment\n.git\n*.log\n**/node_modules\nbuild/\n!build/keep.txt\n/tmp/*\n",
        );
        assert!(ig.is_excluded(".git"));
        assert!(ig.is_excluded(".git/HEAD"));
        assert!(ig.is_excluded("debug.log"));
        assert!(!ig.is_excluded("sub/debug.log"));
        assert!(ig.is_excluded("a/b/node_modules/x.js"));
        assert!(ig.is_excluded("node_modules"));
        assert!(ig.is_excluded("build/out.bin"));
        assert!(!ig.is_excluded("build/keep.txt"));
        assert!(ig.is_excluded("tmp/x"));
        assert!(!ig.is_excluded("tmp"));
        assert!(!ig.is_excluded("src/main.go"));
        assert!(ig.has_exceptions());
    }
}
