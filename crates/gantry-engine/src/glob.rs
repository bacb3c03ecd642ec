//! A minimal doublestar matcher (the runner's artifact/cache path rules): `*` never crosses `/`,
//! `**` as a whole path component matches zero or more components, `?` one character,
//! `[...]`/`[^...]`/`[!...]` classes, `{a,b}` alternatives, `\` escapes. Dotfiles are not special.
//!
//! Stand-in until `gantry_expr::glob` (`DoubleStarGlob`, `walk_matches`) is ready: only
//! [`matches`] and [`walk_matches`] are used, from `file_set.rs`.

use std::io;
use std::path::{Path, PathBuf};

/// Whether `path` (relative, `/`-separated) matches `pattern`.
pub(crate) fn matches(pattern: &str, path: &str) -> bool {
    let path_parts: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    expand_braces(pattern).iter().any(|p| {
        let parts: Vec<&str> = p.split('/').filter(|s| !s.is_empty()).collect();
        match_parts(&parts, &path_parts)
    })
}

/// Entries below `root` (relative paths) matching `pattern`; symlinks are not followed and a
/// matched directory is returned without descending into it.
pub(crate) fn walk_matches(root: &Path, pattern: &str) -> io::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for alternative in expand_braces(pattern) {
        let parts: Vec<&str> = alternative.split('/').filter(|s| !s.is_empty()).collect();
        let literal = parts.iter().take_while(|p| !has_meta(p)).count();
        let base: PathBuf = parts[..literal].iter().map(|p| unescape(p)).collect();
        if literal == parts.len() {
            if std::fs::symlink_metadata(root.join(&base)).is_ok() && !parts.is_empty() {
                out.push(base);
            }
            continue;
        }
        let Ok(meta) = std::fs::symlink_metadata(root.join(&base)) else {
            continue;
        };
        if !meta.is_dir() {
            continue;
        }
        let mut stack = vec![base];
        while let Some(dir) = stack.pop() {
            let Ok(entries) = std::fs::read_dir(root.join(&dir)) else {
                continue;
            };
            for entry in entries {
                let entry = entry?;
                let rel = dir.join(entry.file_name());
                let rel_str = rel.to_string_lossy();
                let rel_parts: Vec<&str> = rel_str.split('/').collect();
                let is_dir = entry.file_type()?.is_dir();
                if match_parts(&parts, &rel_parts) {
                    out.push(rel.clone());
                } else if is_dir {
                    stack.push(rel);
                }
            }
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

fn has_meta(segment: &str) -> bool {
    segment.contains(['*', '?', '[', '{', '\\'])
}

fn unescape(segment: &str) -> String {
    segment.replace('\\', "")
}

fn match_parts(pattern: &[&str], path: &[&str]) -> bool {
    match pattern.split_first() {
        None => path.is_empty(),
        Some((&"**", rest)) => (0..=path.len()).any(|skip| match_parts(rest, &path[skip..])),
        Some((first, rest)) => match path.split_first() {
            Some((segment, path_rest)) => {
                match_segment(first.as_bytes(), segment.as_bytes()) && match_parts(rest, path_rest)
            }
            None => false,
        },
    }
}

/// Wildcard match of one path component.
fn match_segment(pattern: &[u8], text: &[u8]) -> bool {
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pattern.len() {
            match pattern[p] {
                b'*' => {
                    while p < pattern.len() && pattern[p] == b'*' {
                        p += 1;
                    }
                    star = Some((p, t));
                    continue;
                }
                b'?' => {
                    p += 1;
                    t += utf8_len(text[t]);
                    continue;
                }
                b'[' => {
                    if let Some((matched, next)) = match_class(pattern, p, text, t) {
                        if matched {
                            p = next;
                            t += utf8_len(text[t]);
                            continue;
                        }
                    } else if text[t] == b'[' {
                        p += 1;
                        t += 1;
                        continue;
                    }
                }
                b'\\' if p + 1 < pattern.len() => {
                    if pattern[p + 1] == text[t] {
                        p += 2;
                        t += 1;
                        continue;
                    }
                }
                c => {
                    if c == text[t] {
                        p += 1;
                        t += 1;
                        continue;
                    }
                }
            }
        }
        match star {
            Some((sp, st)) => {
                let st = st + utf8_len(text[st]);
                star = Some((sp, st));
                p = sp;
                t = st;
            }
            None => return false,
        }
    }
    while p < pattern.len() && pattern[p] == b'*' {
        p += 1;
    }
    p == pattern.len()
}

fn utf8_len(first: u8) -> usize {
    match first {
        0xF0..=0xFF => 4,
        0xE0..=0xEF => 3,
        0xC0..=0xDF => 2,
        _ => 1,
    }
}

/// Matches a `[...]` class at `pattern[p]` against the character at `text[t]`; `None` when the
/// class is unterminated. Returns (matched, index after the class).
fn match_class(pattern: &[u8], p: usize, text: &[u8], t: usize) -> Option<(bool, usize)> {
    let mut i = p + 1;
    let negate = matches!(pattern.get(i), Some(b'^' | b'!'));
    if negate {
        i += 1;
    }
    let len = utf8_len(text[t]).min(text.len() - t);
    let c = std::str::from_utf8(&text[t..t + len])
        .ok()
        .and_then(|s| s.chars().next())
        .unwrap_or(char::REPLACEMENT_CHARACTER);
    let class_text = std::str::from_utf8(&pattern[i..]).ok()?;
    let mut chars = class_text.char_indices().peekable();
    let mut matched = false;
    let mut first = true;
    while let Some((idx, ch)) = chars.next() {
        if ch == ']' && !first {
            return Some((matched != negate, i + idx + 1));
        }
        first = false;
        let lo = if ch == '\\' { chars.next()?.1 } else { ch };
        if let Some(&(_, '-')) = chars.peek() {
            let mut look = chars.clone();
            look.next();
            if let Some(&(_, hi)) = look.peek()
                && hi != ']'
            {
                chars.next();
                let (_, hi) = chars.next()?;
                let hi = if hi == '\\' { chars.next()?.1 } else { hi };
                if lo <= c && c <= hi {
                    matched = true;
                }
                continue;
            }
        }
        if lo == c {
            matched = true;
        }
    }
    None
}

/// `a{b,c}d` → `abd`, `acd` (nested braces allowed; an unbalanced brace is literal).
fn expand_braces(pattern: &str) -> Vec<String> {
    let bytes = pattern.as_bytes();
    let mut depth = 0usize;
    let mut open = None;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 1,
            b'{' => {
                if depth == 0 {
                    open = Some(i);
                }
                depth += 1;
            }
            b'}' if depth > 0 => {
                depth -= 1;
                if depth == 0 {
                    let start = open.unwrap_or(0);
                    let inner = &pattern[start + 1..i];
                    let prefix = &pattern[..start];
                    let suffix = &pattern[i + 1..];
                    let mut out = Vec::new();
                    for alt in split_top_level(inner) {
                        out.extend(expand_braces(&format!("{prefix}{alt}{suffix}")));
                    }
                    return out;
                }
            }
            _ => {}
        }
        i += 1;
    }
    vec![pattern.to_owned()]
}

fn split_top_level(inner: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut depth = 0usize;
    let mut start = 0;
    let bytes = inner.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 1,
            b'{' => depth += 1,
            b'}' => depth = depth.saturating_sub(1),
            b',' if depth == 0 => {
                parts.push(&inner[start..i]);
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    parts.push(&inner[start..]);
    parts
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn doublestar_rules() {
        assert!(matches("*.txt", "a.txt"));
        assert!(!matches("*.txt", "d/a.txt"));
        assert!(matches("**/*.txt", "a.txt"));
        assert!(matches("**/*.txt", "d/e/a.txt"));
        assert!(matches("d/**", "d/e/a.txt"));
        assert!(matches("d/**", "d"));
        assert!(matches("*", ".hidden"));
        assert!(matches("a?c", "abc"));
        assert!(matches("[a-c]x", "bx"));
        assert!(!matches("[^a-c]x", "bx"));
        assert!(matches("[!a-c]x", "dx"));
        assert!(matches("{foo,bar}/*.log", "bar/x.log"));
        assert!(matches("a\\*b", "a*b"));
        assert!(!matches("a\\*b", "axb"));
        assert!(matches("out/*/x", "out/1/x"));
        assert!(!matches("out/*/x", "out/1/2/x"));
    }
}
