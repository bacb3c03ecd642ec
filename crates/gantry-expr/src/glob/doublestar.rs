//! Go's `github.com/bmatcuk/doublestar/v4` `Match` semantics, used by the runner for
//! `artifacts:paths`, `artifacts:exclude` and `cache:paths`.
//!
//! * `*` matches any run of characters except `/`, including dotfiles; `?` one character
//!   except `/`; `[...]` a class (`[!...]`/`[^...]` negated, ranges, `\` escapes; an empty class or
//!   an unclosed `[` is a bad pattern); `\` escapes the next character (a trailing `\` is a bad
//!   pattern).
//! * `{a,b}` alternatives (nested allowed, `/` allowed inside); an unclosed `{` is a bad
//!   pattern, a lone `}` or `,` is a literal. Alternatives are expanded textually when the
//!   left-to-right scan reaches the `{` (so a `{` inside `[...]` is part of the class).
//! * A segment that is exactly `**`: followed by `/` it matches zero or more directories; at the
//!   end of the pattern it matches everything below, and also the directory itself (`a/**`
//!   matches `a`, `a/` and `a/b/c`). `**` inside a segment (`a**`, `**.txt`) is `*`.
//! * A pattern that ends in `/**/` matches a path that stops right before it (`a/**/` matches
//!   `a`), as doublestar's zero-length rule says.
//!
//! Not reproduced: after expanding `{...}` Go restarts its scan "at the start of a segment" even
//! in the middle of one, which makes `a{**/b,c}` treat `**` as a doublestar; here `a**/b` is `a*/b`.

use super::GlobError;
use super::fnmatch::{MAX_ALTERNATIVES, MAX_BRACE_DEPTH};
use super::segment::{Class, ClassItem, Segment, Tok, match_segments, segments};

/// A compiled doublestar pattern.
#[derive(Debug, Clone)]
pub struct DoubleStarGlob {
    pattern: String,
    alternatives: Vec<Vec<Segment>>,
    base: String,
    walk: Vec<WalkAlternative>,
}

/// One alternative of the pattern part below the base, prepared for walking a directory tree.
#[derive(Debug, Clone)]
pub(crate) struct WalkAlternative {
    pub(crate) segments: Vec<Segment>,
    /// The alternative ended in `/`: only directories match.
    pub(crate) dir_only: bool,
}

impl DoubleStarGlob {
    /// Compiles a pattern; malformed patterns are errors (Go's `ErrBadPattern`).
    pub fn new(pattern: &str) -> Result<Self, GlobError> {
        let alternatives = expand(pattern)?
            .into_iter()
            .map(|toks| segments(toks, true))
            .collect();
        let (base, rest) = split_pattern(pattern);
        let walk = expand(rest)?
            .into_iter()
            .map(|mut toks| {
                let dir_only = toks.last() == Some(&Tok::Sep);
                if dir_only {
                    toks.pop();
                }
                WalkAlternative {
                    segments: segments(toks, true),
                    dir_only,
                }
            })
            .collect();
        Ok(DoubleStarGlob {
            pattern: pattern.to_owned(),
            alternatives,
            base: base.to_owned(),
            walk,
        })
    }

    /// Go's `doublestar.Match(pattern, path)`.
    pub fn matches(&self, path: &str) -> bool {
        self.alternatives
            .iter()
            .any(|segs| match_segments(segs, path, true))
    }

    /// The pattern as written.
    pub fn pattern(&self) -> &str {
        &self.pattern
    }

    /// The literal base directory ([`split_pattern`]'s first part).
    pub fn base(&self) -> &str {
        &self.base
    }

    pub(crate) fn walk_alternatives(&self) -> &[WalkAlternative] {
        &self.walk
    }
}

/// doublestar's `SplitPattern`: the base is everything before the last `/` that comes before the
/// first unescaped meta character (`* ? [ {`), the pattern is what follows that `/`. Without such
/// a slash the base is `.` and the pattern is unchanged; a slash at index 0 gives base `/`.
/// The base is returned as written (escapes are not removed).
pub fn split_pattern(pattern: &str) -> (&str, &str) {
    let bytes = pattern.as_bytes();
    let mut split = None;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 1,
            b'/' => split = Some(i),
            b'*' | b'?' | b'[' | b'{' => break,
            _ => {}
        }
        i += 1;
    }
    match split {
        Some(0) => ("/", &pattern[1..]),
        Some(at) => (&pattern[..at], &pattern[at + 1..]),
        None => (".", pattern),
    }
}

/// Expands alternatives and tokenizes each resulting pattern.
fn expand(pattern: &str) -> Result<Vec<Vec<Tok>>, GlobError> {
    let mut out = Vec::new();
    expand_into(pattern, &mut out, 0)?;
    Ok(out)
}

fn bad(pattern: &str) -> GlobError {
    GlobError::BadPattern(pattern.to_owned())
}

fn expand_into(pattern: &str, out: &mut Vec<Vec<Tok>>, depth: usize) -> Result<(), GlobError> {
    if depth > MAX_BRACE_DEPTH || out.len() > MAX_ALTERNATIVES {
        return Err(GlobError::TooManyAlternatives(MAX_ALTERNATIVES));
    }
    let chars: Vec<char> = pattern.chars().collect();
    let mut toks = Vec::with_capacity(chars.len());
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '*' => toks.push(Tok::Star),
            '?' => toks.push(Tok::One),
            '/' => toks.push(Tok::Sep),
            '[' => {
                let (class, next) = class(&chars, i + 1).ok_or_else(|| bad(pattern))?;
                toks.push(Tok::Class(class));
                i = next;
                continue;
            }
            '\\' => {
                match chars.get(i + 1) {
                    Some('/') => toks.push(Tok::Sep),
                    Some(&c) => toks.push(Tok::Lit(c)),
                    None => return Err(bad(pattern)),
                }
                i += 2;
                continue;
            }
            '{' => {
                let close = matching_close(&chars, i + 1).ok_or_else(|| bad(pattern))?;
                let prefix: String = chars[..i].iter().collect();
                let suffix: String = chars[close + 1..].iter().collect();
                for alt in alternatives(&chars[i + 1..close]) {
                    let alt: String = alt.iter().collect();
                    expand_into(&format!("{prefix}{alt}{suffix}"), out, depth + 1)?;
                }
                return Ok(());
            }
            c => toks.push(Tok::Lit(c)),
        }
        i += 1;
    }
    out.push(toks);
    if out.len() > MAX_ALTERNATIVES {
        return Err(GlobError::TooManyAlternatives(MAX_ALTERNATIVES));
    }
    Ok(())
}

/// Index of the `}` matching the `{` just before `from` (nesting and `\` escapes counted).
fn matching_close(chars: &[char], from: usize) -> Option<usize> {
    let mut depth = 1usize;
    let mut i = from;
    while i < chars.len() {
        match chars[i] {
            '\\' => i += 1,
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// Splits the inside of `{...}` at top-level commas.
fn alternatives(inner: &[char]) -> Vec<&[char]> {
    let mut parts = Vec::new();
    let mut depth = 0usize;
    let mut start = 0;
    let mut i = 0;
    while i < inner.len() {
        match inner[i] {
            '\\' => i += 1,
            '{' => depth += 1,
            '}' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => {
                parts.push(&inner[start..i]);
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    parts.push(&inner[start.min(inner.len())..]);
    parts
}

/// A class after `[`: Go's rules (non-empty, `!`/`^` negation, `lo-hi` ranges where `lo` also
/// matches on its own, `\` escapes). `None` for a malformed class.
fn class(chars: &[char], mut p: usize) -> Option<(Class, usize)> {
    let mut negated = false;
    if matches!(chars.get(p), Some('!' | '^')) {
        negated = true;
        p += 1;
    }
    if matches!(chars.get(p), None | Some(']')) {
        return None;
    }
    let mut items = Vec::new();
    let mut last: Option<char> = None;
    while let Some(&r) = chars.get(p) {
        if r == ']' {
            return Some((Class { negated, items }, p + 1));
        }
        p += 1;
        let range_start = last.filter(|_| r == '-' && chars.get(p).is_some_and(|&c| c != ']'));
        if let Some(lo) = range_start {
            if chars[p] == '\\' {
                p += 1;
            }
            let &hi = chars.get(p)?;
            p += 1;
            items.push(ClassItem::Range(lo, hi));
            last = None;
            continue;
        }
        let c = if r == '\\' {
            let &c = chars.get(p)?;
            p += 1;
            c
        } else {
            r
        };
        items.push(ClassItem::Char(c));
        last = Some(c);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(pattern: &str, path: &str) -> bool {
        DoubleStarGlob::new(pattern)
            .unwrap_or_else(|e| panic!("{pattern}: {e}"))
            .matches(path)
    }

    #[test]
    fn doublestar_matches_any_depth() {
        assert!(m("**", "a"));
        assert!(m("**", "a/b/c"));
        assert!(m("**", ""));
        assert!(m("**/*.txt", "a.txt"));
        assert!(m("**/*.txt", "x/y/a.txt"));
        assert!(m("a/**/b", "a/b"));
        assert!(m("a/**/b", "a/x/y/b"));
        assert!(!m("a/**/b", "a/x/y/c"));
        assert!(m("a/**/b/**/c", "a/1/b/2/3/c"));
        assert!(m("**/x/**", "a/x/b/c"));
    }

    #[test]
    fn trailing_doublestar_includes_the_directory_itself() {
        assert!(m("dir/**", "dir"));
        assert!(m("dir/**", "dir/"));
        assert!(m("dir/**", "dir/a"));
        assert!(m("dir/**", "dir/a/b/c"));
        assert!(!m("dir/**", "dirx"));
        assert!(!m("dir/**", "other/dir/a"));
    }

    #[test]
    fn trailing_slash_forms() {
        assert!(m("dir/**/", "dir"), "zero-length rule");
        assert!(m("dir/**/", "dir/"));
        assert!(m("dir/**/", "dir/a/b/"));
        assert!(!m("dir/**/", "dir/a"));
        assert!(m("dir/", "dir/"));
        assert!(!m("dir/", "dir"));
        assert!(m("dir/*", "dir/"));
        assert!(!m("dir/*", "dir"));
    }

    #[test]
    fn mid_segment_doublestar_is_a_star() {
        assert!(m("path/**.txt", "path/a.txt"));
        assert!(!m("path/**.txt", "path/x/a.txt"));
        assert!(m("a**", "abc"));
        assert!(!m("a**/x", "ab/c/x"));
        assert!(!m("***/x", "a/b/x"));
    }

    #[test]
    fn stars_questions_classes() {
        assert!(m("*.o", ".hidden.o"));
        assert!(!m("*.o", "dir/x.o"));
        assert!(m("build/*/out", "build/x/out"));
        assert!(m("file?.log", "file1.log"));
        assert!(!m("a?b", "a/b"));
        assert!(m("[abc]", "b"));
        assert!(m("[a-c]x", "bx"));
        assert!(m("[!a-c]", "d"));
        assert!(m("[^a-c]", "d"));
        assert!(!m("[^a-c]", "b"));
        assert!(m("[z-a]", "z"), "Go tests the range start on its own");
        assert!(!m("[z-a]", "a"));
        assert!(m("[a-]", "-"));
        assert!(m("[\\]]", "]"));
        assert!(m("[[]", "["));
        assert!(m("[{]", "{"), "a brace inside a class is a character");
    }

    #[test]
    fn alternatives_expand() {
        assert!(m("{a,b}.txt", "a.txt"));
        assert!(m("{a,b}.txt", "b.txt"));
        assert!(!m("{a,b}.txt", "c.txt"));
        assert!(m("{a/b,c}/d", "a/b/d"));
        assert!(m("x{a,{b,c}}", "xc"));
        assert!(m("x{,y}", "x"));
        assert!(m("{**/,}file", "file"));
        assert!(m("{**/,}file", "a/b/file"));
        assert!(m("a}b", "a}b"));
        assert!(m("a,b", "a,b"));
        assert!(m("\\{a}", "{a}"));
    }

    #[test]
    fn escapes() {
        assert!(m("\\*", "*"));
        assert!(!m("\\*", "a"));
        assert!(m("a\\/b", "a/b"));
        assert!(m("\\[x]", "[x]"));
    }

    #[test]
    fn bad_patterns() {
        for bad in ["[", "[]", "[!]", "[a", "a\\", "{a,b", "x/{"] {
            assert!(
                matches!(DoubleStarGlob::new(bad), Err(GlobError::BadPattern(_))),
                "{bad}"
            );
        }
        assert!(DoubleStarGlob::new(&"{a,b}".repeat(13)).is_err());
        let deep = format!("{}{}", "{".repeat(5_000), "}".repeat(5_000));
        assert!(DoubleStarGlob::new(&deep).is_err());
    }

    #[test]
    fn split_pattern_examples() {
        assert_eq!(
            split_pattern("../../path/to/meta*/**"),
            ("../../path/to", "meta*/**")
        );
        assert_eq!(split_pattern("meta*/**"), (".", "meta*/**"));
        assert_eq!(split_pattern("a/b/c"), ("a/b", "c"));
        assert_eq!(split_pattern("file"), (".", "file"));
        assert_eq!(split_pattern("/abs/x*"), ("/abs", "x*"));
        assert_eq!(split_pattern("/x*"), ("/", "x*"));
        assert_eq!(split_pattern("a/\\*b/c*"), ("a/\\*b", "c*"));
        assert_eq!(split_pattern("build/"), ("build", ""));
        assert_eq!(split_pattern("a/{b,c}/d"), ("a", "{b,c}/d"));
        assert_eq!(split_pattern("a/b[c]/d"), ("a", "b[c]/d"));
    }
}
