//! GitLab's `UntrustedRegexp`: RE2 patterns (and the Ruby-style `/pattern/flags` syntax around
//! them) compiled with Rust's `regex` crate.
//!
//! GitLab evaluates user regular expressions with RE2. Rust's `regex` is very close to RE2; the
//! differences that matter for CI patterns are bridged by translating the pattern first:
//!
//! * `\d \D \w \W \s \S \b \B` are ASCII-only in RE2 (Unicode in Rust by default);
//! * inside `[...]` RE2 takes `[`, `&&`, `--` and `~~` literally (Rust has nested classes and set
//!   operations), and `]` right after `[` or `[^` is a literal;
//! * a `{` that does not start a valid `{n}`, `{n,}` or `{n,m}` repetition is a literal in RE2;
//! * RE2 knows `\Q...\E` quoting, octal escapes (`\0`, `\012`, `\123`) and `\C`.
//!
//! Remaining differences (RE2 errors that Rust accepts, such as `(?x)` or `a**`, and the reverse)
//! are not bridged.

use std::fmt::Write as _;

/// A regular expression could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegexError {
    /// The text is not of the form `/pattern/flags` (flags from `i m s U`).
    #[error("`{0}` is not a /pattern/flags regular expression")]
    NotRubySyntax(String),
    /// The pattern does not compile.
    #[error("invalid regular expression `{pattern}`: {reason}")]
    Invalid { pattern: String, reason: String },
}

/// A compiled RE2-style regular expression.
#[derive(Debug, Clone)]
pub struct UntrustedRegexp {
    source: String,
    regex: regex::Regex,
}

impl UntrustedRegexp {
    /// Compiles a plain RE2 pattern (no slashes, no flags), e.g. a `spec:inputs:regex`.
    pub fn new(pattern: &str) -> Result<Self, RegexError> {
        compile(pattern, "", pattern)
    }

    /// Compiles Ruby regexp syntax, `/pattern/flags`, the way GitLab's
    /// `UntrustedRegexp::RubySyntax.fabricate!` does: the text must match
    /// `^/(?<regexp>.*)/(?<flags>[ismU]*)$` (Ruby line anchors: the first line of the text that has
    /// this form is used; `.*` is greedy, so the pattern runs up to the last `/` of that line),
    /// and the flags are prepended as an inline group `(?flags)`.
    pub fn from_ruby_syntax(text: &str) -> Result<Self, RegexError> {
        let (pattern, flags) =
            ruby_syntax_parts(text).ok_or_else(|| RegexError::NotRubySyntax(text.to_owned()))?;
        compile(pattern, flags, text)
    }

    /// Whether the pattern matches anywhere in `text` (RE2 unanchored search).
    pub fn is_match(&self, text: &str) -> bool {
        self.regex.is_match(text)
    }

    /// The text this was built from (`/pattern/flags` or the plain pattern).
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The compiled Rust regex.
    pub fn regex(&self) -> &regex::Regex {
        &self.regex
    }
}

/// Splits Ruby regexp syntax `/pattern/flags` into `(pattern, flags)` without compiling it.
///
/// Mirrors `%r{^/(?<regexp>.*)/(?<flags>[ismU]*)$}` in Ruby: `^`/`$` are line anchors and `.`
/// does not cross a newline, so the first line that starts with `/` and ends with `/` plus
/// optional flags is taken.
pub fn ruby_syntax_parts(text: &str) -> Option<(&str, &str)> {
    for line in text.split('\n') {
        let Some(rest) = line.strip_prefix('/') else {
            continue;
        };
        let Some(slash) = rest.rfind('/') else {
            continue;
        };
        let flags = &rest[slash + 1..];
        if flags
            .bytes()
            .all(|b| matches!(b, b'i' | b'm' | b's' | b'U'))
        {
            return Some((&rest[..slash], flags));
        }
    }
    None
}

/// Compiles `full`, reusing an earlier compilation of the same text: large configurations repeat
/// the same few `rules:if` regexes hundreds of times, and compiling dominates their evaluation.
/// The cache is bounded; past the bound, patterns are compiled without being kept.
fn cached_regex(full: &str) -> Result<regex::Regex, regex::Error> {
    use std::collections::HashMap;
    use std::sync::{LazyLock, Mutex};
    const MAX_CACHED: usize = 4096;
    static CACHE: LazyLock<Mutex<HashMap<String, regex::Regex>>> =
        LazyLock::new(|| Mutex::new(HashMap::new()));
    if let Some(regex) = CACHE
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .get(full)
    {
        return Ok(regex.clone());
    }
    let regex = regex::Regex::new(full)?;
    let mut cache = CACHE
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if cache.len() < MAX_CACHED {
        cache.insert(full.to_owned(), regex.clone());
    }
    Ok(regex)
}

fn compile(pattern: &str, flags: &str, source: &str) -> Result<UntrustedRegexp, RegexError> {
    let mut full = String::with_capacity(pattern.len() + 8);
    let mut seen = Vec::new();
    for flag in flags.chars() {
        if !seen.contains(&flag) {
            seen.push(flag);
        }
    }
    if !seen.is_empty() {
        full.push_str("(?");
        full.extend(seen);
        full.push(')');
    }
    full.push_str(&translate_re2(pattern));
    match cached_regex(&full) {
        Ok(regex) => Ok(UntrustedRegexp {
            source: source.to_owned(),
            regex,
        }),
        Err(err) => Err(RegexError::Invalid {
            pattern: source.to_owned(),
            reason: err
                .to_string()
                .lines()
                .last()
                .unwrap_or("invalid")
                .trim()
                .to_owned(),
        }),
    }
}

const ASCII_DIGIT: &str = "0-9";
const ASCII_WORD: &str = "0-9A-Za-z_";
const RE2_SPACE: &str = r"\t\n\x0C\r\x20";

/// Translates RE2 syntax into equivalent Rust `regex` syntax (see the module documentation).
/// Never fails: anything it does not understand is passed through for Rust to judge.
pub fn translate_re2(pattern: &str) -> String {
    let chars: Vec<char> = pattern.chars().collect();
    let mut out = String::with_capacity(pattern.len() + 16);
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '\\' => i = translate_escape(&chars, i, &mut out),
            '[' => i = translate_class(&chars, i, &mut out),
            '{' => {
                if let Some(end) = repetition_end(&chars, i) {
                    out.extend(&chars[i..end]);
                    i = end;
                } else {
                    out.push_str(r"\{");
                    i += 1;
                }
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    out
}

/// If a valid `{n}`, `{n,}` or `{n,m}` starts at `i`, returns the index after its `}`.
fn repetition_end(chars: &[char], i: usize) -> Option<usize> {
    let mut j = i + 1;
    let digits_start = j;
    while chars.get(j).is_some_and(char::is_ascii_digit) {
        j += 1;
    }
    if j == digits_start {
        return None;
    }
    if chars.get(j) == Some(&',') {
        j += 1;
        while chars.get(j).is_some_and(char::is_ascii_digit) {
            j += 1;
        }
    }
    (chars.get(j) == Some(&'}')).then_some(j + 1)
}

fn is_octal(c: Option<&char>) -> bool {
    c.is_some_and(|c| ('0'..='7').contains(c))
}

/// Reads an RE2 octal escape starting at the digit `chars[i]`; returns (value, next index).
fn octal_escape(chars: &[char], i: usize) -> Option<(u32, usize)> {
    let first = chars[i];
    if first != '0' && !is_octal(chars.get(i + 1)) {
        return None; // `\1`..`\7` alone is a backreference: not supported
    }
    let mut j = i;
    let mut value = 0u32;
    while j < i + 3 && is_octal(chars.get(j)) {
        value = value * 8 + chars[j].to_digit(8).unwrap_or(0);
        j += 1;
    }
    Some((value, j))
}

fn push_hex(out: &mut String, c: char) {
    let _ = write!(out, r"\x{{{:X}}}", u32::from(c));
}

/// Translates the escape at `chars[i] == '\\'` outside a class; returns the next index.
fn translate_escape(chars: &[char], i: usize, out: &mut String) -> usize {
    let Some(&next) = chars.get(i + 1) else {
        out.push('\\'); // trailing backslash: an error in both
        return i + 1;
    };
    match next {
        'd' => out.push_str("[0-9]"),
        'D' => out.push_str("[^0-9]"),
        'w' => out.push_str("[0-9A-Za-z_]"),
        'W' => out.push_str("[^0-9A-Za-z_]"),
        's' => {
            let _ = write!(out, "[{RE2_SPACE}]");
        }
        'S' => {
            let _ = write!(out, "[^{RE2_SPACE}]");
        }
        'b' => out.push_str(r"(?-u:\b)"),
        'B' => out.push_str(r"(?-u:\B)"),
        'C' => out.push_str("(?s:.)"),
        'Q' => {
            let mut j = i + 2;
            while j < chars.len() {
                if chars[j] == '\\' && chars.get(j + 1) == Some(&'E') {
                    return j + 2;
                }
                push_hex(out, chars[j]);
                j += 1;
            }
            return j;
        }
        '0'..='7' => {
            if let Some((value, end)) = octal_escape(chars, i + 1) {
                let _ = write!(out, r"\x{{{value:X}}}");
                return end;
            }
            out.push('\\');
            out.push(next);
        }
        'p' | 'P' | 'x' if chars.get(i + 2) == Some(&'{') => {
            let close = chars[i + 2..].iter().position(|&c| c == '}');
            let end = close.map_or(chars.len(), |p| i + 2 + p + 1);
            out.extend(&chars[i..end]);
            return end;
        }
        _ => {
            out.push('\\');
            out.push(next);
        }
    }
    i + 2
}

/// One element inside a character class.
enum ClassAtom {
    /// A single character (can be a range endpoint).
    Char(char),
    /// Already-translated text that is not a single character (`\d`, `\pL`, ...).
    Text(String),
}

/// Reads one class element at `j`; returns the element and the next index.
fn class_atom(chars: &[char], j: usize) -> (ClassAtom, usize) {
    if chars[j] != '\\' {
        return (ClassAtom::Char(chars[j]), j + 1);
    }
    let Some(&next) = chars.get(j + 1) else {
        return (ClassAtom::Text("\\".to_owned()), j + 1);
    };
    let text = |s: &str| ClassAtom::Text(s.to_owned());
    let atom = match next {
        'd' => text(ASCII_DIGIT),
        'D' => text(&format!("[^{ASCII_DIGIT}]")),
        'w' => text(ASCII_WORD),
        'W' => text(&format!("[^{ASCII_WORD}]")),
        's' => text(RE2_SPACE),
        'S' => text(&format!("[^{RE2_SPACE}]")),
        'n' => ClassAtom::Char('\n'),
        't' => ClassAtom::Char('\t'),
        'r' => ClassAtom::Char('\r'),
        'f' => ClassAtom::Char('\x0C'),
        'v' => ClassAtom::Char('\x0B'),
        'a' => ClassAtom::Char('\x07'),
        '0'..='7' => {
            if let Some((value, end)) = octal_escape(chars, j + 1) {
                let c = char::from_u32(value).unwrap_or('\0');
                return (ClassAtom::Char(c), end);
            }
            ClassAtom::Text(format!("\\{next}"))
        }
        'x' => {
            // \xHH or \x{HHHH}
            if chars.get(j + 2) == Some(&'{') {
                let Some(p) = chars[j + 3..].iter().position(|&c| c == '}') else {
                    return (ClassAtom::Text(chars[j..].iter().collect()), chars.len());
                };
                let close = j + 3 + p;
                let hex: String = chars[j + 3..close].iter().collect();
                return match u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32) {
                    Some(c) => (ClassAtom::Char(c), close + 1),
                    None => (
                        ClassAtom::Text(chars[j..=close].iter().collect()),
                        close + 1,
                    ),
                };
            }
            let hex: String = chars[j + 2..(j + 4).min(chars.len())].iter().collect();
            let parsed = u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32);
            if let Some(c) = parsed.filter(|_| hex.len() == 2) {
                return (ClassAtom::Char(c), j + 4);
            }
            ClassAtom::Text(format!("\\{next}"))
        }
        'p' | 'P' => {
            if chars.get(j + 2) == Some(&'{') {
                let close = chars[j + 2..].iter().position(|&c| c == '}');
                let end = close.map_or(chars.len(), |p| j + 2 + p + 1);
                return (ClassAtom::Text(chars[j..end].iter().collect()), end);
            }
            let end = (j + 3).min(chars.len());
            return (ClassAtom::Text(chars[j..end].iter().collect()), end);
        }
        c if c.is_ascii_alphanumeric() => ClassAtom::Text(format!("\\{c}")),
        c => ClassAtom::Char(c),
    };
    (atom, j + 2)
}

fn push_class_char(out: &mut String, c: char) {
    if c.is_alphanumeric() {
        out.push(c);
    } else {
        push_hex(out, c);
    }
}

/// Translates the class starting at `chars[i] == '['`; returns the next index.
fn translate_class(chars: &[char], i: usize, out: &mut String) -> usize {
    let mut j = i + 1;
    out.push('[');
    if chars.get(j) == Some(&'^') {
        out.push('^');
        j += 1;
    }
    let mut first = true;
    while j < chars.len() {
        let c = chars[j];
        if c == ']' && !first {
            out.push(']');
            return j + 1;
        }
        first = false;
        if c == '[' && chars.get(j + 1) == Some(&':') {
            // POSIX class [:name:] / [:^name:], same names in RE2 and Rust.
            if let Some(p) = (j + 2..chars.len().saturating_sub(1))
                .find(|&k| chars[k] == ':' && chars[k + 1] == ']')
            {
                out.extend(&chars[j..p + 2]);
                j = p + 2;
                continue;
            }
        }
        let (lo, after) = class_atom(chars, j);
        j = after;
        match lo {
            ClassAtom::Char(lo) => {
                let is_range =
                    chars.get(j) == Some(&'-') && chars.get(j + 1).is_some_and(|&n| n != ']');
                if is_range {
                    let (hi, after_hi) = class_atom(chars, j + 1);
                    j = after_hi;
                    push_class_char(out, lo);
                    out.push('-');
                    match hi {
                        ClassAtom::Char(hi) => push_class_char(out, hi),
                        ClassAtom::Text(t) => out.push_str(&t),
                    }
                } else {
                    push_class_char(out, lo);
                }
            }
            ClassAtom::Text(t) => out.push_str(&t),
        }
    }
    // Unclosed class: leave it unclosed so that Rust reports the error, as RE2 would.
    j
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(p: &str) -> UntrustedRegexp {
        UntrustedRegexp::new(p).unwrap_or_else(|e| panic!("{p}: {e}"))
    }

    #[test]
    fn ruby_syntax_parts_takes_last_slash_and_flags() {
        assert_eq!(ruby_syntax_parts("/ab/"), Some(("ab", "")));
        assert_eq!(ruby_syntax_parts("/ab/imsU"), Some(("ab", "imsU")));
        assert_eq!(ruby_syntax_parts("/a/b/i"), Some(("a/b", "i")));
        assert_eq!(ruby_syntax_parts("//"), Some(("", "")));
        assert_eq!(ruby_syntax_parts("/ab/x"), None);
        assert_eq!(ruby_syntax_parts("ab/"), None);
        assert_eq!(ruby_syntax_parts("/ab"), None);
        assert_eq!(ruby_syntax_parts(""), None);
        // Ruby line anchors: a later line may match.
        assert_eq!(ruby_syntax_parts("x\n/ab/"), Some(("ab", "")));
        assert_eq!(ruby_syntax_parts("/a\nb/"), None);
    }

    #[test]
    fn flags_are_applied() {
        let re = UntrustedRegexp::from_ruby_syntax("/abc/i").unwrap();
        assert!(re.is_match("xABCx"));
        let re = UntrustedRegexp::from_ruby_syntax("/^b$/m").unwrap();
        assert!(re.is_match("a\nb\nc"));
        let re = UntrustedRegexp::from_ruby_syntax("/^b$/").unwrap();
        assert!(!re.is_match("a\nb\nc"));
        let re = UntrustedRegexp::from_ruby_syntax("/a.b/s").unwrap();
        assert!(re.is_match("a\nb"));
        let re = UntrustedRegexp::from_ruby_syntax("/a.b/").unwrap();
        assert!(!re.is_match("a\nb"));
        // U swaps greediness; duplicate flags are accepted like RE2 does.
        let re = UntrustedRegexp::from_ruby_syntax("/a+/UUii").unwrap();
        assert_eq!(re.regex().find("aaa").unwrap().as_str(), "a");
    }

    #[test]
    fn perl_classes_are_ascii_like_re2() {
        assert!(!ok(r"^\d$").is_match("٣"));
        assert!(ok(r"^\d$").is_match("7"));
        assert!(!ok(r"^\w$").is_match("é"));
        assert!(ok(r"^\W$").is_match("é"));
        assert!(ok(r"^\D$").is_match("é"));
        assert!(!ok(r"^\s$").is_match("\u{a0}"));
        assert!(ok(r"^\s$").is_match("\t"));
        assert!(!ok(r"^\s$").is_match("\x0B"), "RE2 \\s has no vertical tab");
        assert!(ok(r"^[\d]+$").is_match("123"));
        assert!(!ok(r"^[\w]+$").is_match("é"));
        assert!(ok(r"^[\W]$").is_match("é"));
        assert!(ok(r"\bfoo\b").is_match("a foo b"));
    }

    #[test]
    fn class_literals_follow_re2() {
        assert!(ok(r"^[[]$").is_match("["));
        assert!(ok(r"^[]a]+$").is_match("]a]"));
        assert!(ok(r"^[^]a]$").is_match("b"));
        assert!(!ok(r"^[^]a]$").is_match("]"));
        assert!(ok(r"^[a&&b]+$").is_match("a&b"));
        assert!(ok(r"^[a~~b]+$").is_match("~"));
        assert!(ok(r"^[a-]+$").is_match("a-"));
        assert!(ok(r"^[-a]+$").is_match("-a"));
        assert!(ok(r"^[a-c-e]+$").is_match("b-e"));
        assert!(ok(r"^[[:alpha:]]+$").is_match("abc"));
        assert!(ok(r"^[[:^digit:]]+$").is_match("abc"));
        assert!(ok(r"^[\]\\]+$").is_match("]\\"));
        assert!(ok(r"^[\x41-\x43]+$").is_match("ABC"));
        assert!(ok(r"^[\x{41}]$").is_match("A"));
        assert!(ok(r"^[\pL]+$").is_match("é"));
        assert!(ok(r"^[\p{Greek}]+$").is_match("αβ"));
        assert!(UntrustedRegexp::new("[abc").is_err());
    }

    #[test]
    fn braces_that_are_not_repetitions_are_literals() {
        assert!(ok(r"^a{$").is_match("a{"));
        assert!(ok(r"^a{,3}$").is_match("a{,3}"));
        assert!(ok(r"^{$").is_match("{"));
        assert!(ok(r"^a{2}$").is_match("aa"));
        assert!(ok(r"^a{2,}$").is_match("aaaa"));
        assert!(ok(r"^a{1,2}$").is_match("aa"));
        assert!(ok(r"^\p{L}$").is_match("é"));
        assert!(ok(r"^\x{41}$").is_match("A"));
    }

    #[test]
    fn re2_only_escapes() {
        assert!(ok(r"^\Qa.b*\E$").is_match("a.b*"));
        assert!(!ok(r"^\Qa.b\E$").is_match("axb"));
        assert!(
            ok(r"^\Qa.b$").is_match("a.b$"),
            "\\Q without \\E runs to the end"
        );
        assert!(ok(r"^\101$").is_match("A"));
        assert!(ok(r"^\0$").is_match("\0"));
        assert!(ok(r"^\/$").is_match("/"));
        assert!(UntrustedRegexp::new(r"\1").is_err());
        assert!(UntrustedRegexp::new(r"(").is_err());
        assert!(UntrustedRegexp::new(r"a\").is_err());
    }

    #[test]
    fn not_ruby_syntax_is_an_error() {
        assert!(matches!(
            UntrustedRegexp::from_ruby_syntax("abc"),
            Err(RegexError::NotRubySyntax(_))
        ));
        assert!(matches!(
            UntrustedRegexp::from_ruby_syntax("/(/"),
            Err(RegexError::Invalid { .. })
        ));
        let re = UntrustedRegexp::from_ruby_syntax("/a/i").unwrap();
        assert_eq!(re.source(), "/a/i");
    }
}
