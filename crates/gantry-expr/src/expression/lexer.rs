//! Tokenizer for CI/CD variable expressions, reproducing GitLab's `Expression::Lexer`.
//!
//! GitLab scans the statement with a `StringScanner`: whitespace (`\s`, i.e. space, tab, CR, LF,
//! FF, VT) is skipped, then each lexeme pattern is tried in a fixed order, anchored at the current
//! position; the first that matches produces the token. If none matches the statement is invalid.
//! The loop runs at most 100 times, and it only notices the end of input at the *start* of an
//! iteration, so a statement with 100 or more tokens is rejected (99 is the maximum).
//!
//! Lexemes, in the order GitLab tries them:
//!
//! | lexeme | Ruby pattern | notes |
//! |---|---|---|
//! | `(` `)` | `/\(/`, `/\)/` | |
//! | variable | `/\$(?<name>\w+)/` | `\w` is ASCII: `[A-Za-z0-9_]`; `${X}` does not lex |
//! | string | `/("(?<string>.*?)")\|('(?<string>.*?)')/` | no escapes; ends at the first matching quote; `.` does not cross a newline |
//! | pattern | `%r{^\/([^\/]\|\\/)+[^\\]\/[ismU]*}` | at least two characters between the slashes |
//! | `null` | `/null/` | no word boundary: `nullx` lexes `null` then fails on `x` |
//! | operators | `==`, `=~`, `!=`, `!~`, `&&`, `\|\|` | |

use super::ExpressionError;

/// GitLab's `Lexer::MAX_TOKENS`.
pub const MAX_TOKENS: usize = 100;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Token {
    ParenOpen,
    ParenClose,
    Variable(String),
    String(String),
    /// The matched text of a regex literal, including slashes and flags.
    Pattern(String),
    Null,
    Equals,
    Matches,
    NotEquals,
    NotMatches,
    And,
    Or,
}

fn is_ruby_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\x0B' | b'\x0C' | b'\r')
}

fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// Splits a statement into tokens, or reports why it cannot.
pub(crate) fn tokenize(src: &str) -> Result<Vec<Token>, ExpressionError> {
    let bytes = src.as_bytes();
    let mut pos = 0;
    let mut tokens = Vec::new();
    for _ in 0..MAX_TOKENS {
        while pos < bytes.len() && is_ruby_space(bytes[pos]) {
            pos += 1;
        }
        if pos == bytes.len() {
            return Ok(tokens);
        }
        let (token, next) = scan(src, pos).ok_or(ExpressionError::UnknownLexeme { offset: pos })?;
        tokens.push(token);
        pos = next;
    }
    Err(ExpressionError::TooManyTokens)
}

/// Tries every lexeme at `pos` in GitLab's order.
fn scan(src: &str, pos: usize) -> Option<(Token, usize)> {
    let bytes = src.as_bytes();
    let rest = &src[pos..];
    match bytes[pos] {
        b'(' => return Some((Token::ParenOpen, pos + 1)),
        b')' => return Some((Token::ParenClose, pos + 1)),
        b'$' => {
            let len = bytes[pos + 1..].iter().take_while(|&&b| is_word(b)).count();
            return (len > 0).then(|| {
                let end = pos + 1 + len;
                (Token::Variable(src[pos + 1..end].to_owned()), end)
            });
        }
        quote @ (b'"' | b'\'') => return scan_string(src, pos, quote),
        b'/' => {
            return scan_pattern(bytes, pos)
                .map(|end| (Token::Pattern(src[pos..end].to_owned()), end));
        }
        _ => {}
    }
    let fixed: [(&str, Token); 7] = [
        ("null", Token::Null),
        ("==", Token::Equals),
        ("=~", Token::Matches),
        ("!=", Token::NotEquals),
        ("!~", Token::NotMatches),
        ("&&", Token::And),
        ("||", Token::Or),
    ];
    fixed
        .into_iter()
        .find(|(text, _)| rest.starts_with(text))
        .map(|(text, token)| (token, pos + text.len()))
}

/// `"(?<string>.*?)"` or `'(?<string>.*?)'`: up to the first closing quote, not across `\n`.
fn scan_string(src: &str, pos: usize, quote: u8) -> Option<(Token, usize)> {
    let body = &src.as_bytes()[pos + 1..];
    let close = body.iter().position(|&b| b == quote || b == b'\n')?;
    if body[close] != quote {
        return None;
    }
    let end = pos + 1 + close;
    Some((Token::String(src[pos + 1..end].to_owned()), end + 1))
}

/// The regex-literal lexeme `^\/([^\/]|\\/)+[^\\]\/[ismU]*`, with Onigmo's backtracking order.
///
/// After the opening slash, one or more units (any character but `/`, or the pair `\/`) are
/// followed by one character that is not a backslash and the closing `/`. Greedy backtracking
/// first tries the longest run of units; working that out gives this loop: within a run of
/// non-slash characters ending at the slash `q`, the literal ends at `q + 1` if another `/`
/// follows immediately (the last "character" is then that slash itself), otherwise, if the
/// character before `q` is a backslash the pair `\/` is consumed and the search goes on, else the
/// literal ends at `q`. Returns the end offset (after the flags).
fn scan_pattern(bytes: &[u8], start: usize) -> Option<usize> {
    let first = start + 1;
    let &b = bytes.get(first)?;
    let mut close = None;
    if b != b'/' {
        // First unit is one (possibly multi-byte) character.
        let width = utf8_width(b);
        close = scan_pattern_from(bytes, first + width);
    }
    if close.is_none() && bytes[first..].starts_with(b"\\/") {
        close = scan_pattern_from(bytes, first + 2);
    }
    let mut end = close?;
    while bytes
        .get(end)
        .is_some_and(|b| matches!(b, b'i' | b's' | b'm' | b'U'))
    {
        end += 1;
    }
    Some(end)
}

/// Continues the pattern scan at `p`, where at least one unit has been consumed; returns the
/// offset just after the closing slash.
fn scan_pattern_from(bytes: &[u8], mut p: usize) -> Option<usize> {
    loop {
        let q = p + bytes.get(p..)?.iter().position(|&b| b == b'/')?;
        if bytes.get(q + 1) == Some(&b'/') {
            return Some(q + 2);
        }
        if q == p {
            return None;
        }
        if bytes[q - 1] == b'\\' {
            p = q + 1;
            continue;
        }
        return Some(q + 1);
    }
}

fn utf8_width(first: u8) -> usize {
    match first {
        0xF0..=0xFF => 4,
        0xE0..=0xEF => 3,
        0xC0..=0xDF => 2,
        _ => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(s: &str) -> Vec<Token> {
        tokenize(s).unwrap_or_else(|e| panic!("{s:?}: {e}"))
    }

    #[test]
    fn variables_are_ascii_words() {
        assert_eq!(
            toks("$CI_COMMIT_BRANCH"),
            vec![Token::Variable("CI_COMMIT_BRANCH".into())]
        );
        assert_eq!(toks("$1a"), vec![Token::Variable("1a".into())]);
        assert!(tokenize("${NAME}").is_err());
        assert!(tokenize("$").is_err());
        assert!(tokenize("$é").is_err());
        assert!(tokenize("$A-B").is_err());
    }

    #[test]
    fn strings_have_no_escapes() {
        assert_eq!(toks(r#""a b""#), vec![Token::String("a b".into())]);
        assert_eq!(toks("'it\"s'"), vec![Token::String("it\"s".into())]);
        assert_eq!(toks(r#""""#), vec![Token::String(String::new())]);
        // `\"` does not escape: the string ends at the first quote and `b"` does not lex.
        assert!(tokenize(r#""a\"b""#).is_err());
        assert_eq!(
            toks(r#""a\" "b""#),
            vec![Token::String("a\\".into()), Token::String("b".into())]
        );
        assert!(tokenize("\"a\nb\"").is_err());
        assert!(tokenize("'unterminated").is_err());
        assert_eq!(toks(r#""$X""#), vec![Token::String("$X".into())]);
    }

    #[test]
    fn regex_literals_need_two_characters() {
        assert!(tokenize("/./").is_err());
        assert!(tokenize("//").is_err());
        assert_eq!(toks("/ab/"), vec![Token::Pattern("/ab/".into())]);
        assert_eq!(toks("/ab/imsU"), vec![Token::Pattern("/ab/imsU".into())]);
        assert_eq!(toks("/é./"), vec![Token::Pattern("/é./".into())]);
        assert!(tokenize("/é/").is_err());
    }

    #[test]
    fn regex_literal_boundaries() {
        assert_eq!(
            toks("/ab/ == /cd/"),
            vec![
                Token::Pattern("/ab/".into()),
                Token::Equals,
                Token::Pattern("/cd/".into())
            ]
        );
        assert_eq!(toks(r"/a\/b/"), vec![Token::Pattern(r"/a\/b/".into())]);
        assert_eq!(toks(r"/\/a/"), vec![Token::Pattern(r"/\/a/".into())]);
        // The character before the closing slash may itself be a slash.
        assert_eq!(toks("/ab//"), vec![Token::Pattern("/ab//".into())]);
        // A literal cannot end in a backslash.
        assert!(tokenize(r"/a\\/").is_err());
        // Newlines are allowed inside ([^/] matches them).
        assert_eq!(toks("/a\nb/"), vec![Token::Pattern("/a\nb/".into())]);
        // Flags end the literal; an unknown flag letter is an unknown lexeme.
        assert!(tokenize("/ab/x").is_err());
    }

    #[test]
    fn operators_null_and_parentheses() {
        assert_eq!(
            toks("($A==null)&&($B!=\"x\")||$C=~/ab/&&$D!~/cd/"),
            vec![
                Token::ParenOpen,
                Token::Variable("A".into()),
                Token::Equals,
                Token::Null,
                Token::ParenClose,
                Token::And,
                Token::ParenOpen,
                Token::Variable("B".into()),
                Token::NotEquals,
                Token::String("x".into()),
                Token::ParenClose,
                Token::Or,
                Token::Variable("C".into()),
                Token::Matches,
                Token::Pattern("/ab/".into()),
                Token::And,
                Token::Variable("D".into()),
                Token::NotMatches,
                Token::Pattern("/cd/".into()),
            ]
        );
        assert!(tokenize("nullx").is_err());
        assert_eq!(toks("nullnull"), vec![Token::Null, Token::Null]);
        assert!(tokenize("=").is_err());
        assert!(tokenize("!").is_err());
        assert!(tokenize("&").is_err());
        assert!(tokenize("true").is_err());
    }

    #[test]
    fn whitespace_is_ruby_s() {
        assert_eq!(
            toks(" \t\r\n\x0B\x0C$A \n"),
            vec![Token::Variable("A".into())]
        );
        assert!(tokenize("\u{a0}$A").is_err());
        assert_eq!(toks("   "), Vec::<Token>::new());
    }

    #[test]
    fn token_limit_is_99() {
        let ninety_nine = vec!["$A"; 99].join(" ");
        assert_eq!(toks(&ninety_nine).len(), 99);
        let hundred = vec!["$A"; 100].join(" ");
        assert_eq!(tokenize(&hundred), Err(ExpressionError::TooManyTokens));
    }
}
