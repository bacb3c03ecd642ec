//! Psych's typing of plain scalars (YAML 1.1 flavour).
//!
//! [`type_plain`] gives a plain scalar the Ruby type Psych 4's `ScalarScanner#tokenize` gives it.
//! The branches run in Psych's order (string words, time, date, infinities, symbols, base 60,
//! floats, integers); every regular expression of that scanner is written out by hand here, with
//! Ruby's semantics (`^`/`$` anchor lines, `\d` and `\s` are ASCII).

use crate::Value;
use crate::ruby_number::{ruby_float_from_str, ruby_integer, ruby_to_f, ruby_to_i};

/// Why a scalar could not be turned into a value: the Ruby exception Psych would raise.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ScalarError {
    /// `Psych::DisallowedClass`: the scalar would become an instance of a class `safe_load` refuses.
    DisallowedClass(String),
    /// `ArgumentError` (e.g. `Float("e+3")`), with Ruby's message.
    Argument(String),
    /// `TypeError` (e.g. `Float(nil)`), with Ruby's message.
    Type(String),
    /// A tag this loader does not reproduce.
    Unsupported(String),
}

impl ScalarError {
    /// The message as GitLab shows it (Ruby's exception message).
    pub(crate) fn message(&self) -> String {
        match self {
            ScalarError::DisallowedClass(class) => {
                format!("Tried to load unspecified class: {class}")
            }
            ScalarError::Argument(m) | ScalarError::Type(m) | ScalarError::Unsupported(m) => {
                m.clone()
            }
        }
    }
}

/// Types a plain (unquoted, untagged) scalar as Psych does.
pub(crate) fn type_plain(s: &str) -> Result<Value, ScalarError> {
    let Some(first) = s.chars().next() else {
        return Ok(Value::Null);
    };
    if s.contains('\n') || starts_like_word(s) {
        return Ok(type_word(s));
    }
    // Every later branch of Psych's scanner needs one of these first characters.
    if !matches!(first, '0'..='9' | '+' | '-' | '.' | ':') {
        return Ok(Value::Str(s.to_owned()));
    }
    let b = s.as_bytes();
    if is_time(b) {
        return Err(ScalarError::DisallowedClass("Time".into()));
    }
    if is_date(b) {
        return Err(ScalarError::DisallowedClass("Date".into()));
    }
    if let Some(special) = special_float(s) {
        return Ok(Value::Float(special));
    }
    if first == ':' {
        if s.len() > 1 {
            return Ok(Value::Symbol(symbol_name(s)));
        }
        return Ok(Value::Str(s.to_owned()));
    }
    match base60(b) {
        Some(Base60::Int) => return Ok(base60_int(s)),
        Some(Base60::Float) => return Ok(Value::Float(base60_float(s))),
        None => {}
    }
    if is_float(b) {
        if matches!(s, "." | "+." | "-.") {
            return Ok(Value::Str(s.to_owned()));
        }
        return float_value(s).map(Value::Float);
    }
    if is_integer(b) {
        let cleaned: String = s.chars().filter(|c| !matches!(c, ',' | '_')).collect();
        return ruby_integer(&cleaned);
    }
    Ok(Value::Str(s.to_owned()))
}

/// Characters of the string class in Psych's first test
/// (`[[:alpha:]_\s!@#$%\^&*(){}<>|/\\~;=]`).
fn in_word_class(c: char) -> bool {
    c.is_alphabetic()
        || matches!(
            c,
            '_' | ' '
                | '\t'
                | '\n'
                | '\u{b}'
                | '\u{c}'
                | '\r'
                | '!'
                | '@'
                | '#'
                | '$'
                | '%'
                | '^'
                | '&'
                | '*'
                | '('
                | ')'
                | '{'
                | '}'
                | '<'
                | '>'
                | '|'
                | '/'
                | '\\'
                | '~'
                | ';'
                | '='
        )
}

/// Psych's `^[^\d.:-]?[[:alpha:]_\s!@#$%\^&*(){}<>|/\\~;=]+` for a single-line string.
fn starts_like_word(s: &str) -> bool {
    let mut chars = s.chars();
    let Some(c0) = chars.next() else {
        return false;
    };
    if in_word_class(c0) {
        return true;
    }
    if matches!(c0, '0'..='9' | '.' | ':' | '-') {
        return false;
    }
    chars.next().is_some_and(in_word_class)
}

/// The word branch: strings longer than five characters stay strings, otherwise the YAML 1.1
/// null and boolean words are recognised (case-insensitively, line by line as Ruby's `^`/`$` do).
fn type_word(s: &str) -> Value {
    if s.len() > 5 && s.chars().nth(5).is_some() {
        return Value::Str(s.to_owned());
    }
    // `/^[^ytonf~]/i`: some line start is followed by a character outside that set.
    let mut line_start = true;
    for c in s.chars() {
        if line_start && !matches!(c.to_ascii_lowercase(), 'y' | 't' | 'o' | 'n' | 'f' | '~') {
            return Value::Str(s.to_owned());
        }
        line_start = c == '\n';
    }
    let any_line = |words: &[&str]| {
        s.split('\n')
            .any(|line| words.iter().any(|w| line.eq_ignore_ascii_case(w)))
    };
    if s == "~" || any_line(&["null"]) {
        Value::Null
    } else if any_line(&["yes", "true", "on"]) {
        Value::Bool(true)
    } else if any_line(&["no", "false", "off"]) {
        Value::Bool(false)
    } else {
        Value::Str(s.to_owned())
    }
}

/// A tiny cursor for the hand-written matchers below.
struct Cursor<'a> {
    b: &'a [u8],
    i: usize,
}

impl<'a> Cursor<'a> {
    fn new(b: &'a [u8]) -> Self {
        Self { b, i: 0 }
    }

    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn eat(&mut self, pred: impl Fn(u8) -> bool) -> bool {
        if self.peek().is_some_and(pred) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    fn eat_byte(&mut self, c: u8) -> bool {
        self.eat(|x| x == c)
    }

    /// Eats between `min` and `max` bytes matching `pred`; false (and nothing eaten) if fewer
    /// than `min` match.
    fn eat_range(&mut self, pred: impl Fn(u8) -> bool + Copy, min: usize, max: usize) -> bool {
        let start = self.i;
        while self.i - start < max && self.eat(pred) {}
        if self.i - start < min {
            self.i = start;
            false
        } else {
            true
        }
    }

    fn eat_while(&mut self, pred: impl Fn(u8) -> bool + Copy) -> usize {
        let start = self.i;
        while self.eat(pred) {}
        self.i - start
    }

    fn at_end(&self) -> bool {
        self.i == self.b.len()
    }

    fn rest(&self) -> &'a [u8] {
        &self.b[self.i..]
    }
}

fn digit(c: u8) -> bool {
    c.is_ascii_digit()
}

/// Ruby's `\s`.
fn space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// `-?\d{4}-\d{1,2}-\d{1,2}(?:[Tt]|\s+)\d{1,2}:\d\d:\d\d(?:\.\d*)?(?:\s*(?:Z|[-+]\d{1,2}:?(?:\d\d)?))?$`
fn is_time(b: &[u8]) -> bool {
    let mut c = Cursor::new(b);
    c.eat_byte(b'-');
    if !(c.eat_range(digit, 4, 4)
        && c.eat_byte(b'-')
        && c.eat_range(digit, 1, 2)
        && c.eat_byte(b'-')
        && c.eat_range(digit, 1, 2))
    {
        return false;
    }
    if !(c.eat(|x| x == b'T' || x == b't') || c.eat_while(space) > 0) {
        return false;
    }
    if !(c.eat_range(digit, 1, 2)
        && c.eat_byte(b':')
        && c.eat_range(digit, 2, 2)
        && c.eat_byte(b':')
        && c.eat_range(digit, 2, 2))
    {
        return false;
    }
    if c.eat_byte(b'.') {
        c.eat_while(digit);
    }
    if c.at_end() {
        return true;
    }
    c.eat_while(space);
    if c.eat_byte(b'Z') {
        return c.at_end();
    }
    if !c.eat(|x| x == b'-' || x == b'+') {
        return false;
    }
    // `\d{1,2}:?(?:\d\d)?$` with backtracking: 1 to 4 digits, or 1–2 digits, a colon and an
    // optional pair of digits.
    let rest = c.rest();
    let digits = rest.iter().take_while(|x| x.is_ascii_digit()).count();
    if digits == rest.len() {
        return (1..=4).contains(&digits);
    }
    if (1..=2).contains(&digits) && rest[digits] == b':' {
        let after = &rest[digits + 1..];
        return after.is_empty() || (after.len() == 2 && after.iter().all(u8::is_ascii_digit));
    }
    false
}

/// `^\d{4}-(?:1[012]|0\d|\d)-(?:[12]\d|3[01]|0\d|\d)$`
fn is_date(b: &[u8]) -> bool {
    let Some((year, rest)) = b.split_at_checked(4) else {
        return false;
    };
    if !year.iter().all(u8::is_ascii_digit) {
        return false;
    }
    let mut parts = rest.split(|&x| x == b'-');
    if parts.next() != Some(&[]) {
        return false;
    }
    let (Some(month), Some(day), None) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    let month_ok = match month {
        [m] | [b'0', m] => m.is_ascii_digit(),
        [b'1', m] => matches!(m, b'0'..=b'2'),
        _ => false,
    };
    let day_ok = match day {
        [d] | [b'0' | b'1' | b'2', d] => d.is_ascii_digit(),
        [b'3', d] => matches!(d, b'0' | b'1'),
        _ => false,
    };
    month_ok && day_ok
}

/// `.inf`, `+.inf`, `-.inf` and `.nan` in any case.
fn special_float(s: &str) -> Option<f64> {
    let (sign, body) = match s.as_bytes().first()? {
        b'+' => (1.0, &s[1..]),
        b'-' => (-1.0, &s[1..]),
        _ => (1.0, s),
    };
    if body.eq_ignore_ascii_case(".inf") {
        return Some(sign * f64::INFINITY);
    }
    if s.eq_ignore_ascii_case(".nan") {
        return Some(f64::NAN);
    }
    None
}

/// The symbol name of `:name`, `:"quoted name"` or `:'quoted name'`.
fn symbol_name(s: &str) -> String {
    let rest = &s[1..];
    if let Some(quote @ ('"' | '\'')) = rest.chars().next() {
        // `^:(["'])(.*)\1`: greedy, so the text up to the last matching quote.
        if let Some(end) = rest[1..].rfind(quote) {
            let inner = &rest[1..=end];
            return inner.strip_prefix(':').unwrap_or(inner).to_owned();
        }
    }
    rest.to_owned()
}

enum Base60 {
    Int,
    Float,
}

/// `^[-+]?[0-9][0-9_]*(:[0-5]?[0-9]){1,2}$` (integer) or the same followed by `\.[0-9_]*`
/// (float).
fn base60(b: &[u8]) -> Option<Base60> {
    let mut c = Cursor::new(b);
    c.eat(|x| x == b'-' || x == b'+');
    if !c.eat(digit) {
        return None;
    }
    c.eat_while(|x| x.is_ascii_digit() || x == b'_');
    let mut fields = 0;
    while fields < 2 && c.eat_byte(b':') {
        // `[0-5]?[0-9]`: one or two digits, the first of two at most 5.
        let digits = c
            .rest()
            .iter()
            .take(2)
            .take_while(|x| x.is_ascii_digit())
            .count();
        match digits {
            2 if c.rest()[0] <= b'5' => c.i += 2,
            1 | 2 => c.i += 1,
            _ => return None,
        }
        fields += 1;
    }
    if fields == 0 {
        return None;
    }
    if c.at_end() {
        return Some(Base60::Int);
    }
    if c.eat_byte(b'.') {
        c.eat_while(|x| x.is_ascii_digit() || x == b'_');
        if c.at_end() {
            return Some(Base60::Float);
        }
    }
    None
}

/// Sums the fields of a base-60 integer as Psych does (`n.to_i * 60 ** (e - 2).abs`); results
/// outside `i64` become floats.
fn base60_int(s: &str) -> Value {
    let mut total: Option<i128> = Some(0);
    let mut approx = 0.0_f64;
    for (index, field) in s.split(':').enumerate() {
        let weight: i32 = if index == 1 { 60 } else { 3600 };
        let weight = if index == 2 { 1 } else { weight };
        let (exact, float) = ruby_to_i(field);
        total = total.zip(exact).and_then(|(t, n)| {
            n.checked_mul(i128::from(weight))
                .and_then(|p| t.checked_add(p))
        });
        approx += float * f64::from(weight);
    }
    match total.and_then(|t| i64::try_from(t).ok()) {
        Some(i) => Value::Int(i),
        None => Value::Float(approx),
    }
}

fn base60_float(s: &str) -> f64 {
    let mut total = 0.0;
    for (index, field) in s.split(':').enumerate() {
        let weight = match index {
            1 => 60.0,
            2 => 1.0,
            _ => 3600.0,
        };
        total += ruby_to_f(field) * weight;
    }
    total
}

/// `^[-+]?([0-9][0-9_,]*)?\.[0-9]*([eE][-+][0-9]+)?$`
fn is_float(b: &[u8]) -> bool {
    let mut c = Cursor::new(b);
    c.eat(|x| x == b'-' || x == b'+');
    if c.eat(digit) {
        c.eat_while(|x| x.is_ascii_digit() || x == b'_' || x == b',');
    }
    if !c.eat_byte(b'.') {
        return false;
    }
    c.eat_while(digit);
    if c.eat(|x| x == b'e' || x == b'E')
        && (!c.eat(|x| x == b'-' || x == b'+') || c.eat_while(digit) == 0)
    {
        return false;
    }
    c.at_end()
}

/// `Float(string.gsub(/[,_]|\.([Ee]|$)/, '\1'))`.
fn float_value(s: &str) -> Result<f64, ScalarError> {
    let b = s.as_bytes();
    let mut cleaned = String::with_capacity(s.len());
    for (i, &x) in b.iter().enumerate() {
        match x {
            b',' | b'_' => {}
            b'.' if matches!(b.get(i + 1), None | Some(b'e' | b'E')) => {}
            _ => cleaned.push(char::from(x)),
        }
    }
    ruby_float_from_str(&cleaned)
}

/// Psych's integer expression (binary, octal, decimal with single `_`/`,` separators, hex).
fn is_integer(b: &[u8]) -> bool {
    let body = match b.first() {
        Some(b'-' | b'+') => &b[1..],
        _ => b,
    };
    let sep = |x: u8| x == b'_' || x == b',';
    match body {
        [b'0', b'b', rest @ ..] if !rest.is_empty() => {
            rest.iter().all(|&x| x == b'0' || x == b'1' || sep(x))
        }
        [b'0', b'x', rest @ ..] if !rest.is_empty() => {
            rest.iter().all(|&x| x.is_ascii_hexdigit() || sep(x))
        }
        [b'0'] => true,
        [b'0', rest @ ..] => rest.iter().all(|&x| matches!(x, b'0'..=b'7') || sep(x)),
        [b'1'..=b'9', rest @ ..] => {
            // `(?:[0-9]|,[0-9]|_[0-9])*`: every separator is followed by a digit.
            let mut prev_sep = false;
            for &x in rest {
                if sep(x) {
                    if prev_sep {
                        return false;
                    }
                    prev_sep = true;
                } else if x.is_ascii_digit() {
                    prev_sep = false;
                } else {
                    return false;
                }
            }
            !prev_sep
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Value {
        type_plain(s).unwrap_or_else(|e| panic!("{s:?} failed: {e:?}"))
    }

    fn is_str(s: &str) -> bool {
        matches!(t(s), Value::Str(ref x) if x == s)
    }

    fn int(s: &str) -> i64 {
        match t(s) {
            Value::Int(i) => i,
            other => panic!("{s:?} gave {other:?}"),
        }
    }

    fn float(s: &str) -> f64 {
        match t(s) {
            Value::Float(f) => f,
            other => panic!("{s:?} gave {other:?}"),
        }
    }

    #[test]
    fn booleans_any_case_but_not_y_n() {
        for s in [
            "true", "True", "TRUE", "tRuE", "yes", "Yes", "YES", "on", "On", "ON", "oN",
        ] {
            assert!(matches!(t(s), Value::Bool(true)), "{s}");
        }
        for s in [
            "false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF",
        ] {
            assert!(matches!(t(s), Value::Bool(false)), "{s}");
        }
        for s in ["y", "n", "Y", "N", "yes!", "truth", "nil", "None", "onn"] {
            assert!(is_str(s), "{s}");
        }
    }

    #[test]
    fn nulls() {
        for s in ["~", "null", "Null", "NULL", "nUll", ""] {
            assert!(matches!(t(s), Value::Null), "{s}");
        }
        assert!(is_str("~~"));
        assert!(is_str("nulls"));
    }

    #[test]
    fn multi_line_words_are_checked_line_by_line() {
        assert!(matches!(t("y\nno"), Value::Bool(false)));
        assert!(matches!(t("on\nn"), Value::Bool(true)));
        assert!(is_str("y\n\nno"));
        assert!(is_str("1\n2"));
        assert!(is_str("yes\nno"));
    }

    #[test]
    fn octal_hex_binary() {
        assert_eq!(int("0755"), 493);
        assert_eq!(int("-0755"), -493);
        assert_eq!(int("+0755"), 493);
        assert!(is_str("08"));
        assert!(is_str("0o17"));
        assert_eq!(int("0"), 0);
        assert_eq!(int("00"), 0);
        assert_eq!(int("-0"), 0);
        assert_eq!(int("0_"), 0);
        assert_eq!(int("0,7"), 7);
        assert_eq!(int("0x1F"), 31);
        assert_eq!(int("0x_1F"), 31);
        assert_eq!(int("-0x1f"), -31);
        assert_eq!(int("0b101"), 5);
        assert_eq!(int("0b1_0"), 2);
        assert!(is_str("0X1F"));
        assert!(is_str("0B1"));
        assert!(
            matches!(type_plain("0x_"), Err(ScalarError::Argument(m)) if m == r#"invalid value for Integer(): "0x""#)
        );
        assert!(matches!(type_plain("0b_"), Err(ScalarError::Argument(_))));
    }

    #[test]
    fn decimal_separators() {
        assert_eq!(int("1_000"), 1000);
        assert_eq!(int("1,000"), 1000);
        assert_eq!(int("1,5"), 15);
        assert_eq!(int("+12"), 12);
        assert_eq!(int("-12"), -12);
        assert!(is_str("1__0"));
        assert!(is_str("1_"));
        assert!(is_str("1,"));
        assert!(is_str("1,,0"));
        assert!(is_str("12a"));
        assert!(is_str("+"));
        assert!(is_str("-"));
    }

    #[test]
    fn integer_extremes() {
        assert_eq!(int("9223372036854775807"), i64::MAX);
        assert_eq!(int("-9223372036854775808"), i64::MIN);
        // Beyond i64: documented to load as a float.
        assert!((float("9223372036854775808") - 9.223_372_036_854_776e18).abs() < 1.0);
        assert!((float("99999999999999999999") - 1e20).abs() < 1.0);
        assert!(float("0xFFFFFFFFFFFFFFFFFF") > 4.7e21);
    }

    #[test]
    fn base_60() {
        assert_eq!(int("1:30"), 5400);
        assert_eq!(int("12:30:00"), 45000);
        assert_eq!(int("-1:30"), -1800);
        assert_eq!(int("1_0:30"), 37800);
        assert!(is_str("1:60"));
        assert!(is_str("1:2:3:4"));
        assert!(is_str("1:"));
        assert!(matches!(t(":30"), Value::Symbol(s) if s == "30"));
        assert!((float("1:30.5") - 5430.0).abs() < 1e-9);
        assert!((float("1:2:3.5") - 3723.5).abs() < 1e-9);
        assert!((float("-1:30.5") - -1770.0).abs() < 1e-9);
        assert!((float("1:30.5_5") - 5433.0).abs() < 1e-9);
        assert!((float("1_0:30._5") - 37800.0).abs() < 1e-9);
    }

    #[test]
    fn floats() {
        assert!((float("1.5") - 1.5).abs() < 1e-12);
        assert!((float("1.") - 1.0).abs() < 1e-12);
        assert!((float(".5") - 0.5).abs() < 1e-12);
        assert!((float("-.5") + 0.5).abs() < 1e-12);
        assert!((float("1_000.5") - 1000.5).abs() < 1e-12);
        assert!((float("1,000.5") - 1000.5).abs() < 1e-12);
        assert!((float("1.0e+3") - 1000.0).abs() < 1e-12);
        assert!((float("1.e-3") - 0.001).abs() < 1e-12);
        assert!(float("1.0e+400").is_infinite());
        for s in [
            "1e3", "1e-3", "1e+3", "1.0e3", "0.1_0", "1.2.3", ".", "+.", "-.", "1.5e+",
        ] {
            assert!(is_str(s), "{s}");
        }
        assert!(
            matches!(type_plain(".e+3"), Err(ScalarError::Argument(m)) if m == r#"invalid value for Float(): "e+3""#)
        );
    }

    #[test]
    fn special_floats() {
        assert!(float(".inf").is_infinite() && float(".inf") > 0.0);
        assert!(float("+.INF") > 0.0 && float("+.Inf").is_infinite());
        assert!(float("-.inf") < 0.0 && float("-.Inf").is_infinite());
        assert!(float(".nan").is_nan());
        assert!(float(".NaN").is_nan());
        assert!(float(".NAN").is_nan());
        assert!(is_str("inf"));
        assert!(is_str("-.nan"));
        assert!(is_str(".infinity"));
    }

    #[test]
    fn symbols() {
        assert!(matches!(t(":sym"), Value::Symbol(s) if s == "sym"));
        assert!(matches!(t("::a"), Value::Symbol(s) if s == ":a"));
        assert!(matches!(t(":\"a b\""), Value::Symbol(s) if s == "a b"));
        assert!(matches!(t(":'a'b'"), Value::Symbol(s) if s == "a'b"));
        assert!(matches!(t(":\""), Value::Symbol(s) if s == "\""));
        assert!(is_str(":"));
    }

    #[test]
    fn dates_and_times() {
        let date = ScalarError::DisallowedClass("Date".into());
        let time = ScalarError::DisallowedClass("Time".into());
        for s in [
            "2024-01-01",
            "2024-1-1",
            "2024-02-30",
            "2024-00-00",
            "2024-12-31",
        ] {
            assert_eq!(type_plain(s).unwrap_err(), date, "{s}");
        }
        for s in [
            "2024-01-01 10:00:00",
            "2024-01-01T10:00:00Z",
            "2024-1-1t1:00:00.5Z",
            "-2024-01-01 10:00:00",
            "2024-13-45 10:00:00",
            "2024-1-1 1:00:00 +5",
            "2024-1-1 1:00:00 +05:30",
            "2024-1-1 1:00:00+0530",
            "2024-1-1 1:00:00 -5:",
            "2001-12-14 21:59:43.10 -5",
        ] {
            assert_eq!(type_plain(s).unwrap_err(), time, "{s}");
        }
        for s in [
            "2024-13-45",
            "99-01-01",
            "2024-1-32",
            "2024-1-1 1:00:00 +12345",
            "2024-1-1 1:00:00 +05:3",
            "2024-01-01x",
        ] {
            assert!(is_str(s), "{s}");
        }
    }

    #[test]
    fn odd_strings() {
        for s in [
            "<<", "=", "+a", "-a", "_1", "a1", "é", "🎉", "1a", "1-2", "1.2.3", "+1a",
        ] {
            assert!(is_str(s), "{s}");
        }
    }
}
