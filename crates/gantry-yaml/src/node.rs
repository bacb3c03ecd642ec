//! The loaded document tree: typed values with their source spans.

use std::fmt::Write as _;

use crate::source::Span;

/// One YAML node: its typed value and where it starts.
#[derive(Debug, Clone)]
pub struct Node {
    pub value: Value,
    pub span: Span,
}

/// A value typed as Psych types it.
#[derive(Debug, Clone)]
pub enum Value {
    Null,
    Bool(bool),
    /// Integers (decimal, octal `0755`, hex, binary, base 60, `_` and `,` separators).
    Int(i64),
    Float(f64),
    Str(String),
    /// A plain scalar written `:name`; Psych loads it as a Ruby Symbol.
    Symbol(String),
    Seq(Vec<Node>),
    Map(Mapping),
    /// A node tagged `!reference`; the inner node is kept as written (normally a sequence of
    /// strings) and resolved by the configuration layer.
    Reference(Box<Node>),
}

/// An ordered mapping. Keys are nodes (Psych types keys too); a repeated key keeps the position of
/// its first occurrence and the value of its last, as a Ruby Hash does.
#[derive(Debug, Clone, Default)]
pub struct Mapping {
    pub entries: Vec<(Node, Node)>,
}

impl Node {
    pub fn new(value: Value, span: Span) -> Self {
        Self { value, span }
    }

    /// The string content of a `Str` or `Symbol` value.
    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Str(s) | Value::Symbol(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_map(&self) -> Option<&Mapping> {
        match &self.value {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }

    pub fn as_map_mut(&mut self) -> Option<&mut Mapping> {
        match &mut self.value {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }

    pub fn as_seq(&self) -> Option<&[Node]> {
        match &self.value {
            Value::Seq(s) => Some(s),
            _ => None,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self.value, Value::Null)
    }

    /// A short name of the value's type for error messages.
    pub fn type_name(&self) -> &'static str {
        self.value.type_name()
    }

    /// The value as a JSON tree (the shape Ruby's `JSON.generate` gives for the same document;
    /// symbols become strings, `!reference` becomes its inner node, non-finite floats become
    /// the strings `Infinity`, `-Infinity` and `NaN`).
    pub fn to_json(&self) -> serde_json::Value {
        self.value.to_json()
    }
}

impl Value {
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Int(_) => "integer",
            Value::Float(_) => "float",
            Value::Str(_) => "string",
            Value::Symbol(_) => "symbol",
            Value::Seq(_) => "array",
            Value::Map(_) => "hash",
            Value::Reference(_) => "!reference",
        }
    }

    /// Ruby's `to_s` of a scalar, as GitLab stringifies variable values: `true`, `5349`, `1.1`.
    /// `None` for collections.
    pub fn scalar_to_string(&self) -> Option<String> {
        Some(match self {
            Value::Null => String::new(),
            Value::Bool(b) => b.to_string(),
            Value::Int(i) => i.to_string(),
            Value::Float(f) => ruby_float_to_s(*f),
            Value::Str(s) | Value::Symbol(s) => s.clone(),
            Value::Seq(_) | Value::Map(_) | Value::Reference(_) => return None,
        })
    }

    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match self {
            Value::Null => J::Null,
            Value::Bool(b) => J::Bool(*b),
            Value::Int(i) => J::from(*i),
            Value::Float(f) => {
                if f.is_nan() {
                    J::String("NaN".into())
                } else if f.is_infinite() {
                    J::String(if *f > 0.0 { "Infinity" } else { "-Infinity" }.into())
                } else {
                    serde_json::Number::from_f64(*f).map_or(J::Null, J::Number)
                }
            }
            Value::Str(s) | Value::Symbol(s) => J::String(s.clone()),
            Value::Seq(items) => J::Array(items.iter().map(Node::to_json).collect()),
            Value::Map(m) => J::Object(
                m.entries
                    .iter()
                    .map(|(k, v)| (key_to_json_string(&k.value), v.to_json()))
                    .collect(),
            ),
            Value::Reference(inner) => inner.to_json(),
        }
    }
}

/// How Ruby's JSON generator writes a Hash key of any type (`key.to_s`).
fn key_to_json_string(key: &Value) -> String {
    match key {
        Value::Null => String::new(),
        Value::Reference(inner) => key_to_json_string(&inner.value),
        Value::Seq(_) | Value::Map(_) => ruby_inspect(key),
        other => other.scalar_to_string().unwrap_or_default(),
    }
}

/// Ruby's `inspect` (Ruby 3.1–3.3 style: `["a", 1]`, `{"a"=>1}`, `:sym`, `nil`).
pub(crate) fn ruby_inspect(value: &Value) -> String {
    match value {
        Value::Null => "nil".into(),
        Value::Bool(b) => b.to_string(),
        Value::Int(i) => i.to_string(),
        Value::Float(f) => ruby_float_to_s(*f),
        Value::Str(s) => inspect_string(s),
        Value::Symbol(s) => {
            let simple = s
                .chars()
                .next()
                .is_some_and(|c| c.is_alphabetic() || c == '_')
                && s.chars().all(|c| c.is_alphanumeric() || c == '_');
            if simple {
                format!(":{s}")
            } else {
                format!(":{}", inspect_string(s))
            }
        }
        Value::Seq(items) => {
            let inner: Vec<String> = items.iter().map(|n| ruby_inspect(&n.value)).collect();
            format!("[{}]", inner.join(", "))
        }
        Value::Map(m) => {
            let inner: Vec<String> = m
                .entries
                .iter()
                .map(|(k, v)| format!("{}=>{}", ruby_inspect(&k.value), ruby_inspect(&v.value)))
                .collect();
            format!("{{{}}}", inner.join(", "))
        }
        Value::Reference(inner) => ruby_inspect(&inner.value),
    }
}

/// Ruby's `String#inspect` for a UTF-8 string.
fn inspect_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\u{c}' => out.push_str("\\f"),
            '\u{b}' => out.push_str("\\v"),
            '\u{8}' => out.push_str("\\b"),
            '\u{7}' => out.push_str("\\a"),
            '\u{1b}' => out.push_str("\\e"),
            '#' if matches!(chars.peek(), Some('{' | '$' | '@')) => out.push_str("\\#"),
            c if c.is_ascii_control() => {
                let _ = write!(out, "\\u{:04X}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Ruby's `Float#to_s`: `1.0`, `1.1`, `1.0e+20`, `1.0e-05`, `Infinity`, `NaN`.
///
/// The digits are the shortest that read back as the same float, and among those the closest,
/// ties going to the even digit (David Gay's algorithm, as Ruby and Python use; Rust's `Display`
/// breaks ties upwards). Ruby writes them in fixed notation when the decimal exponent is
/// between -4 and 14 (`0.0001`, `999999999999999.0`) and in scientific notation otherwise
/// (`1.0e+15`, with at least one fractional digit and a two-digit exponent).
pub(crate) fn ruby_float_to_s(f: f64) -> String {
    if f.is_nan() {
        return "NaN".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "Infinity" } else { "-Infinity" }.into();
    }
    let (digits, exponent) = shortest_digits(f.abs());
    let mut out = String::with_capacity(digits.len() + 8);
    if f.is_sign_negative() {
        out.push('-');
    }
    if (-4..=14).contains(&exponent) {
        let point = exponent + 1;
        if point <= 0 {
            out.push_str("0.");
            out.extend(std::iter::repeat_n('0', point.unsigned_abs() as usize));
            out.push_str(&digits);
        } else {
            let point = point.unsigned_abs() as usize;
            if point >= digits.len() {
                out.push_str(&digits);
                out.extend(std::iter::repeat_n('0', point - digits.len()));
                out.push_str(".0");
            } else {
                out.push_str(&digits[..point]);
                out.push('.');
                out.push_str(&digits[point..]);
            }
        }
    } else {
        out.push_str(&digits[..1]);
        out.push('.');
        out.push_str(if digits.len() > 1 { &digits[1..] } else { "0" });
        let sign = if exponent < 0 { '-' } else { '+' };
        let _ = write!(out, "e{sign}{:02}", exponent.unsigned_abs());
    }
    out
}

/// The shortest round-trip decimal digits of a finite, non-negative `f` (no trailing zeros)
/// and the exponent of the first digit (`f = d.ddd × 10^exponent`), ties broken to even.
fn shortest_digits(f: f64) -> (String, i32) {
    let split = |s: &str| -> (String, i32) {
        let (mantissa, exp) = s.split_once('e').unwrap_or((s, "0"));
        let mut digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
        while digits.len() > 1 && digits.ends_with('0') {
            digits.pop();
        }
        (digits, exp.parse().unwrap_or(0))
    };
    // `{:e}` gives the shortest length; `{:.*e}` rounds the exact value (ties to even) at that
    // length, which picks the same digits as Ruby whenever it still reads back as `f`.
    let (shortest, exponent) = split(&format!("{f:e}"));
    let exact = format!("{:.*e}", shortest.len() - 1, f);
    #[allow(clippy::float_cmp)]
    if exact.parse::<f64>() == Ok(f) {
        return split(&exact);
    }
    (shortest, exponent)
}

impl Mapping {
    /// The value for a string (or symbol) key.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.entries
            .iter()
            .find(|(k, _)| k.as_str() == Some(key))
            .map(|(_, v)| v)
    }

    pub fn get_mut(&mut self, key: &str) -> Option<&mut Node> {
        self.entries
            .iter_mut()
            .find(|(k, _)| k.as_str() == Some(key))
            .map(|(_, v)| v)
    }

    /// The entry (key node and value node) for a string key.
    pub fn get_entry(&self, key: &str) -> Option<(&Node, &Node)> {
        self.entries
            .iter()
            .find(|(k, _)| k.as_str() == Some(key))
            .map(|(k, v)| (k, v))
    }

    pub fn contains_key(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    /// Sets `key` to `value`: replaces the value in place when the key exists, appends otherwise.
    pub fn insert(&mut self, key: Node, value: Node) {
        if let Some(slot) = self
            .entries
            .iter_mut()
            .find(|(k, _)| keys_equal(&k.value, &key.value))
        {
            slot.1 = value;
        } else {
            self.entries.push((key, value));
        }
    }

    pub fn remove(&mut self, key: &str) -> Option<Node> {
        let index = self
            .entries
            .iter()
            .position(|(k, _)| k.as_str() == Some(key))?;
        Some(self.entries.remove(index).1)
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&Node, &Node)> {
        self.entries.iter().map(|(k, v)| (k, v))
    }
}

/// Whether two keys are the same Hash key. Strings and symbols with the same text are the same key
/// (GitLab symbolizes keys); other values compare as Ruby's `eql?` does: `1` and `1.0` differ,
/// `0.0` and `-0.0` are the same, every NaN loaded from YAML is the same `Float::NAN`, and
/// sequences and mappings compare by content (mappings regardless of order).
pub fn keys_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Str(x) | Value::Symbol(x), Value::Str(y) | Value::Symbol(y)) => x == y,
        (Value::Null, Value::Null) => true,
        (Value::Bool(x), Value::Bool(y)) => x == y,
        (Value::Int(x), Value::Int(y)) => x == y,
        #[allow(clippy::float_cmp)]
        (Value::Float(x), Value::Float(y)) => x == y || (x.is_nan() && y.is_nan()),
        (Value::Seq(x), Value::Seq(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| keys_equal(&p.value, &q.value))
        }
        (Value::Map(x), Value::Map(y)) => {
            x.len() == y.len()
                && x.entries.iter().all(|(k, v)| {
                    y.entries.iter().any(|(k2, v2)| {
                        keys_equal(&k.value, &k2.value) && keys_equal(&v.value, &v2.value)
                    })
                })
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn float_to_s_like_ruby() {
        for (f, s) in [
            (0.0, "0.0"),
            (-0.0, "-0.0"),
            (1.0, "1.0"),
            (1.1, "1.1"),
            (100.0, "100.0"),
            (0.1, "0.1"),
            (0.0001, "0.0001"),
            (0.00001, "1.0e-05"),
            (0.000_12, "0.00012"),
            (2.5e-5, "2.5e-05"),
            (123_456_789.123, "123456789.123"),
            (999_999_999_999_999.0, "999999999999999.0"),
            (1e15, "1.0e+15"),
            (1_234_567_890_123_456.0, "1.234567890123456e+15"),
            (1e16, "1.0e+16"),
            (1e20, "1.0e+20"),
            (1.5e300, "1.5e+300"),
            (-1.5e-300, "-1.5e-300"),
            (706_856_617_016_155.3, "706856617016155.2"),
            (986_393_503_384_560.2, "986393503384560.2"),
            (5e-324, "5.0e-324"),
            (f64::INFINITY, "Infinity"),
            (f64::NEG_INFINITY, "-Infinity"),
            (f64::NAN, "NaN"),
        ] {
            assert_eq!(ruby_float_to_s(f), s, "{f:e}");
        }
    }

    #[test]
    fn ruby_hash_key_equality() {
        assert!(keys_equal(&Value::Float(0.0), &Value::Float(-0.0)));
        assert!(keys_equal(&Value::Float(f64::NAN), &Value::Float(f64::NAN)));
        assert!(!keys_equal(&Value::Int(1), &Value::Float(1.0)));
        assert!(keys_equal(
            &Value::Str("a".into()),
            &Value::Symbol("a".into())
        ));
    }

    #[test]
    fn inspect_like_ruby() {
        let span = Span::synthetic("t");
        let seq = Value::Seq(vec![
            Node::new(Value::Str("a\"b\n#{".into()), span.clone()),
            Node::new(Value::Int(1), span.clone()),
            Node::new(Value::Null, span.clone()),
            Node::new(Value::Symbol("s".into()), span.clone()),
            Node::new(Value::Symbol("a b".into()), span),
        ]);
        assert_eq!(ruby_inspect(&seq), r#"["a\"b\n\#{", 1, nil, :s, :"a b"]"#);
    }
}
