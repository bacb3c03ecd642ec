//! Ruby's `File.fnmatch?(pattern, path, File::FNM_PATHNAME | File::FNM_DOTMATCH |
//! File::FNM_EXTGLOB)`, used by `rules:changes`, `rules:exists` and `only/except:changes`.
//!
//! * `FNM_EXTGLOB`: `{a,b}` braces are expanded textually first (Ruby's `ruby_brace_expand`):
//!   the first `{` and its matching `}` (nesting counted, `\` escapes the next character, brackets
//!   not special), top-level commas split the alternatives, and the results are expanded again.
//!   A `{` without a matching `}` makes the pattern match nothing; a lone `}` is a literal.
//! * `FNM_PATHNAME`: `*`, `?` and `[...]` never match `/`; a segment that is exactly `**`
//!   followed by `/` matches zero or more directories, so `**/*.md` matches `a.md`; `**`
//!   anywhere else is `*`, so `dir/**` matches only direct children of `dir`.
//! * `FNM_DOTMATCH`: no special case for leading dots: `*` matches `.env`.
//! * Brackets: `[abc]`, ranges `[a-z]` (a reversed range still matches its two endpoints),
//!   negation with `!` or `^`, `\` escapes inside; `]` right after `[` closes an empty class
//!   that matches nothing (`[!]` matches any one character); an unterminated `[` makes the
//!   pattern match nothing.
//! * `\` escapes the next character (`\/` is a separator); a trailing `\` is ignored.
//! * Matching is case-sensitive.

use super::GlobError;
use super::segment::{Class, ClassItem, Segment, Tok, match_segments, segments};

/// Upper bound on brace alternatives, to keep hostile patterns bounded.
pub const MAX_ALTERNATIVES: usize = 4096;

/// Upper bound on brace groups expanded one inside another (or one after another).
pub(crate) const MAX_BRACE_DEPTH: usize = 128;

/// A compiled Ruby `File.fnmatch` pattern (`FNM_PATHNAME | FNM_DOTMATCH | FNM_EXTGLOB`).
#[derive(Debug, Clone)]
pub struct FnmatchGlob {
    pattern: String,
    /// One segment list per brace alternative; `None` for an alternative that can never match.
    alternatives: Vec<Option<Vec<Segment>>>,
}

impl FnmatchGlob {
    /// Compiles a pattern. The only error is a pattern with more than [`MAX_ALTERNATIVES`]
    /// brace alternatives.
    pub fn new(pattern: &str) -> Result<Self, GlobError> {
        let mut expanded = Vec::new();
        brace_expand(pattern, &mut expanded, 0)?;
        let alternatives = expanded
            .iter()
            .map(|alt| tokenize(alt).map(|toks| segments(toks, false)))
            .collect();
        Ok(FnmatchGlob {
            pattern: pattern.to_owned(),
            alternatives,
        })
    }

    /// Whether `path` matches (paths are compared as given; use repository-relative paths without
    /// a leading `/`, as GitLab does).
    pub fn matches(&self, path: &str) -> bool {
        self.alternatives
            .iter()
            .flatten()
            .any(|segs| match_segments(segs, path, false))
    }

    /// The pattern as written.
    pub fn pattern(&self) -> &str {
        &self.pattern
    }

    /// Whether the pattern has no glob characters (`* ? [ { \`), so that it names one exact path.
    pub fn is_literal(&self) -> bool {
        !self.pattern.contains(['*', '?', '[', '{', '\\'])
    }
}

/// Ruby's `ruby_brace_expand`.
fn brace_expand(pattern: &str, out: &mut Vec<String>, depth: usize) -> Result<(), GlobError> {
    if depth > MAX_BRACE_DEPTH {
        return Err(GlobError::TooManyAlternatives(MAX_ALTERNATIVES));
    }
    let chars: Vec<char> = pattern.chars().collect();
    let mut nest = 0usize;
    let mut lbrace = None;
    let mut rbrace = None;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '{' {
            if nest == 0 {
                lbrace = Some(i);
            }
            nest += 1;
        }
        if c == '}' && lbrace.is_some() {
            nest -= 1;
            if nest == 0 {
                rbrace = Some(i);
                break;
            }
        }
        if c == '\\' {
            i += 1;
            if i >= chars.len() {
                break;
            }
        }
        i += 1;
    }
    match (lbrace, rbrace) {
        (None, _) => {
            out.push(pattern.to_owned());
            Ok(())
        }
        (Some(_), None) => Ok(()), // unbalanced: nothing to match
        (Some(l), Some(r)) => {
            let prefix: String = chars[..l].iter().collect();
            let suffix: String = chars[r + 1..].iter().collect();
            let mut p = l;
            while p < r {
                let start = p + 1;
                p = start;
                let mut nest = 0i64;
                while p < r && !(chars[p] == ',' && nest == 0) {
                    match chars[p] {
                        '{' => nest += 1,
                        '}' => nest -= 1,
                        '\\' => {
                            p += 1;
                            if p == r {
                                break;
                            }
                        }
                        _ => {}
                    }
                    p += 1;
                }
                let alt: String = chars[start..p.min(r)].iter().collect();
                brace_expand(&format!("{prefix}{alt}{suffix}"), out, depth + 1)?;
                if out.len() > MAX_ALTERNATIVES {
                    return Err(GlobError::TooManyAlternatives(MAX_ALTERNATIVES));
                }
            }
            Ok(())
        }
    }
}

/// Tokenizes one brace-free pattern; `None` if it can never match (unterminated bracket).
fn tokenize(pattern: &str) -> Option<Vec<Tok>> {
    let chars: Vec<char> = pattern.chars().collect();
    let mut toks = Vec::with_capacity(chars.len());
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '*' => toks.push(Tok::Star),
            '?' => toks.push(Tok::One),
            '/' => toks.push(Tok::Sep),
            '[' => {
                let (class, next) = bracket(&chars, i + 1)?;
                toks.push(Tok::Class(class));
                i = next;
                continue;
            }
            '\\' => {
                match chars.get(i + 1) {
                    Some('/') => toks.push(Tok::Sep),
                    Some(&c) => toks.push(Tok::Lit(c)),
                    None => {} // trailing backslash: ignored
                }
                i += 2;
                continue;
            }
            c => toks.push(Tok::Lit(c)),
        }
        i += 1;
    }
    Some(toks)
}

/// Ruby's `bracket()` starting after `[`: the class and the index after `]`, or `None` when the
/// bracket never closes.
fn bracket(chars: &[char], mut p: usize) -> Option<(Class, usize)> {
    let mut negated = false;
    if matches!(chars.get(p), Some('!' | '^')) {
        negated = true;
        p += 1;
    }
    let mut items = Vec::new();
    while chars.get(p) != Some(&']') {
        let mut t1 = p;
        if chars.get(t1) == Some(&'\\') {
            t1 += 1;
        }
        let &lo = chars.get(t1)?;
        p = t1 + 1;
        chars.get(p)?;
        if chars[p] == '-' && chars.get(p + 1) != Some(&']') {
            let mut t2 = p + 1;
            if chars.get(t2) == Some(&'\\') {
                t2 += 1;
            }
            let &hi = chars.get(t2)?;
            p = t2 + 1;
            items.push(ClassItem::Char(lo));
            items.push(ClassItem::Char(hi));
            items.push(ClassItem::Range(lo, hi));
        } else {
            items.push(ClassItem::Char(lo));
        }
    }
    Some((Class { negated, items }, p + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(pattern: &str, path: &str) -> bool {
        FnmatchGlob::new(pattern).unwrap().matches(path)
    }

    #[test]
    fn star_does_not_cross_slash() {
        assert!(m("*.md", "README.md"));
        assert!(!m("*.md", "docs/README.md"));
        assert!(m("docs/*.md", "docs/a.md"));
        assert!(!m("docs/*.md", "docs/sub/a.md"));
        assert!(m("*", "file"));
        assert!(!m("*", "dir/file"));
        assert!(m("a*/b", "abc/b"));
    }

    #[test]
    fn doublestar_slash_is_zero_or_more_directories() {
        assert!(m("**/*.md", "a.md"));
        assert!(m("**/*.md", "docs/a.md"));
        assert!(m("**/*.md", "docs/x/y/a.md"));
        assert!(m("docs/**/*.md", "docs/a.md"));
        assert!(m("docs/**/*.md", "docs/x/y/a.md"));
        assert!(!m("docs/**/*.md", "other/a.md"));
        assert!(m("a/**/b/**/c", "a/x/b/y/z/c"));
        assert!(m("a/**/b/**/c", "a/b/c"));
        assert!(m("**/**/x", "a/b/x"));
        assert!(m("**/.gitlab-ci.yml", ".gitlab-ci.yml"));
    }

    #[test]
    fn trailing_doublestar_is_a_single_star() {
        assert!(m("dir/**", "dir/a"));
        assert!(!m("dir/**", "dir/a/b"));
        assert!(m("dir/**/*", "dir/a/b"));
        assert!(!m("dir/**", "dir"));
        assert!(m("dir/**", "dir/"));
        assert!(m("**.md", "a.md"));
        assert!(!m("**.md", "x/a.md"));
        assert!(!m("a**/b", "ax/y/b"));
        assert!(!m("***/x", "a/b/x"), "three stars are not a doublestar");
    }

    #[test]
    fn dotfiles_are_matched() {
        assert!(m("*", ".env"));
        assert!(m("**/*", ".hidden/.file"));
        assert!(m(".*", ".env"));
        assert!(m("?env", ".env"));
        assert!(m("**/x", ".git/x"));
    }

    #[test]
    fn question_mark_and_brackets() {
        assert!(m("file?.txt", "file1.txt"));
        assert!(!m("file?.txt", "file.txt"));
        assert!(!m("a?b", "a/b"));
        assert!(m("[abc].txt", "b.txt"));
        assert!(!m("[abc].txt", "d.txt"));
        assert!(m("[a-c]", "b"));
        assert!(m("[!a-c]", "d"));
        assert!(m("[^a-c]", "d"));
        assert!(!m("[!a-c]", "a"));
        assert!(m("[z-a]", "z"), "reversed range matches its endpoints");
        assert!(m("[z-a]", "a"));
        assert!(!m("[z-a]", "m"));
        assert!(m("[a-]", "-"));
        assert!(m("[\\]]", "]"));
        assert!(!m("[]a]", "a"), "`]` first closes an empty class");
        assert!(!m("[]a]", "]"));
        assert!(m("[!]", "x"));
        assert!(!m("[!]", ""));
        assert!(!m("[abc", "[abc"), "unterminated bracket never matches");
        assert!(!m("[abc", "a"));
        assert!(m("[a/]x", "ax"), "brackets are parsed across `/`");
        assert!(!m("a[/]b", "a/b"));
    }

    #[test]
    fn braces() {
        assert!(m("{a,b}.txt", "a.txt"));
        assert!(m("{a,b}.txt", "b.txt"));
        assert!(!m("{a,b}.txt", "c.txt"));
        assert!(m("src/{lib,bin}/**/*.rs", "src/bin/x/main.rs"));
        assert!(m("{a,{b,c}}", "c"));
        assert!(m("x{,y}", "x"));
        assert!(m("{a/b,c}", "a/b"));
        assert!(m("{}", ""));
        assert!(!m("a{b", "a{b"), "unbalanced `{{` matches nothing");
        assert!(!m("a{b", "ab"));
        assert!(m("a}b", "a}b"));
        assert!(m("a,b", "a,b"));
        assert!(m("\\{a,b}", "{a,b}"));
        // Braces are expanded before brackets are seen: `[{]` has an unbalanced `{`.
        assert!(!m("[{]", "{"));
        assert!(!m("[{]", "[{]"));
    }

    #[test]
    fn escapes() {
        assert!(m("\\*", "*"));
        assert!(!m("\\*", "a"));
        assert!(m("a\\/b", "a/b"));
        assert!(m("a\\", "a"), "trailing backslash is ignored");
        assert!(m("\\?", "?"));
    }

    #[test]
    fn anchoring_and_slashes() {
        assert!(m("dir/", "dir/"));
        assert!(!m("dir/", "dir"));
        assert!(!m("dir", "dir/"));
        assert!(m("/abs/*", "/abs/x"));
        assert!(!m("abs", "/abs"));
        assert!(m("", ""));
        assert!(!m("", "a"));
        assert!(!m("Readme.md", "README.md"), "case-sensitive");
    }

    #[test]
    fn literal_detection_and_limits() {
        assert!(FnmatchGlob::new("docs/README.md").unwrap().is_literal());
        assert!(!FnmatchGlob::new("docs/*.md").unwrap().is_literal());
        assert!(!FnmatchGlob::new("{a,b}").unwrap().is_literal());
        let bomb = "{a,b}".repeat(13);
        assert_eq!(
            FnmatchGlob::new(&bomb).unwrap_err(),
            GlobError::TooManyAlternatives(MAX_ALTERNATIVES)
        );
        assert!(FnmatchGlob::new(&"{a,b}".repeat(12)).is_ok());
        let deep = format!("{}{}", "{".repeat(5_000), "}".repeat(5_000));
        assert!(FnmatchGlob::new(&deep).is_err());
        assert!(
            FnmatchGlob::new(&"{a}".repeat(100))
                .unwrap()
                .matches(&"a".repeat(100))
        );
    }
}
