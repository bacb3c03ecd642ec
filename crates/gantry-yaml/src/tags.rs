//! What Psych's `ToRuby` visitor does with a tag on a scalar, a sequence or a mapping.
//!
//! `safe_load` honours the core tags (`!!str`, `!!binary`, `!!float`, …), refuses the Ruby object
//! tags with `Tried to load unspecified class: <class>`, and loads every other tag as if it were
//! absent. GitLab's own `!reference` tag is handled by the loader before these rules apply.

use crate::Value;
use crate::ruby_number::ruby_float_from_str;
use crate::typing::{ScalarError, type_plain};

/// GitLab's tag for references to other parts of the configuration.
pub(crate) const REFERENCE: &str = "!reference";
/// The tag that stops `<<` from being a merge key.
pub(crate) const CORE_STR: &str = "tag:yaml.org,2002:str";

/// How a tagged mapping is built.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MapKind {
    /// An ordinary Hash.
    Hash,
    /// `!!str` on a mapping: the string is the value of its `str` key.
    StrObject,
}

/// How a tagged sequence is built.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SeqKind {
    /// An ordinary Array.
    Array,
    /// `!!omap` on a sequence: a Hash made of each element's first key and last value.
    Omap,
}

fn disallowed(class: &str) -> ScalarError {
    ScalarError::DisallowedClass(class.to_owned())
}

/// `/^!(?:str|ruby\/string)(?::(.*))?$/` or the core `str` tag; gives the class name part.
fn str_tag(tag: &str) -> Option<&str> {
    if tag == CORE_STR {
        return Some("");
    }
    let rest = tag
        .strip_prefix("!str")
        .or_else(|| tag.strip_prefix("!ruby/string"))?;
    if rest.is_empty() {
        Some("")
    } else {
        rest.strip_prefix(':')
    }
}

/// `/^<prefix>:?(.*)?$/`: the optional class name after a Ruby tag prefix.
fn optional_class<'a>(tag: &'a str, prefix: &str) -> Option<&'a str> {
    let rest = tag.strip_prefix(prefix)?;
    Some(rest.strip_prefix(':').unwrap_or(rest))
}

/// The value of a scalar. `plain` is false for quoted and block scalars.
pub(crate) fn scalar_value(
    value: &str,
    plain: bool,
    tag: Option<&str>,
) -> Result<Value, ScalarError> {
    let Some(tag) = tag else {
        return if plain {
            type_plain(value)
        } else {
            Ok(Value::Str(value.to_owned()))
        };
    };
    // A tagged scalar is never "quoted" for Psych: unless the tag says otherwise, it is typed
    // like a plain one, whatever its style.
    if let Some(class) = str_tag(tag) {
        return if class.is_empty() {
            Ok(Value::Str(value.to_owned()))
        } else {
            Err(disallowed(class))
        };
    }
    if tag == "!binary" || tag == "tag:yaml.org,2002:binary" {
        return Ok(Value::Str(decode_base64(value)));
    }
    if tag == "tag:yaml.org,2002:float" || tag == "!float" {
        return to_float(type_plain(value)?).map(Value::Float);
    }
    if tag.starts_with("!ruby/sym") {
        return Ok(Value::Symbol(value.to_owned()));
    }
    match tag {
        "!ruby/object:BigDecimal" => Err(disallowed("BigDecimal")),
        "!ruby/object:DateTime" => Err(disallowed("DateTime")),
        "!ruby/object:Complex" => Err(disallowed("Complex")),
        "!ruby/object:Rational" => Err(disallowed("Rational")),
        "!ruby/regexp" => Err(disallowed("Regexp")),
        "!ruby/range" => Err(disallowed("Range")),
        "!ruby/class" | "!ruby/module" if value.is_empty() => Ok(Value::Null),
        "!ruby/class" | "!ruby/module" => Err(disallowed(value)),
        "!ruby/encoding" => Err(ScalarError::Unsupported(
            "the tag !ruby/encoding is not supported".into(),
        )),
        _ => type_plain(value),
    }
}

/// Ruby's `Float(x)` applied to what `tokenize` returned.
fn to_float(value: Value) -> Result<f64, ScalarError> {
    match value {
        #[allow(clippy::cast_precision_loss)]
        Value::Int(i) => Ok(i as f64),
        Value::Float(f) => Ok(f),
        Value::Str(s) => ruby_float_from_str(&s),
        Value::Null => Err(ScalarError::Type("can't convert nil into Float".into())),
        Value::Bool(b) => Err(ScalarError::Type(format!("can't convert {b} into Float"))),
        Value::Symbol(_) => Err(ScalarError::Type("can't convert Symbol into Float".into())),
        Value::Seq(_) | Value::Map(_) | Value::Reference(_) => Err(ScalarError::Type(
            "can't convert a collection into Float".into(),
        )),
    }
}

/// How a mapping with `tag` is loaded, or the error Psych raises for it.
pub(crate) fn mapping_kind(tag: &str) -> Result<MapKind, ScalarError> {
    if let Some(name) = optional_class(tag, "!ruby/struct") {
        return Err(disallowed(if name.is_empty() { "Struct" } else { name }));
    }
    if let Some(name) = optional_class(tag, "!ruby/object") {
        return match name {
            "Hash" => Ok(MapKind::Hash),
            "" => Err(disallowed("Object")),
            other => Err(disallowed(other)),
        };
    }
    if let Some(class) = str_tag(tag) {
        return if class.is_empty() {
            Ok(MapKind::StrObject)
        } else {
            Err(disallowed(class))
        };
    }
    if let Some(name) = tag.strip_prefix("!ruby/array:") {
        return Err(disallowed(name));
    }
    if tag == "!ruby/range" {
        return Err(disallowed("Range"));
    }
    if tag.starts_with("!ruby/hash-with-ivars") {
        return Err(ScalarError::Unsupported(format!(
            "the tag {tag} is not supported"
        )));
    }
    if let Some(name) = optional_class(tag, "!ruby/exception") {
        return Err(disallowed(if name.is_empty() { "Exception" } else { name }));
    }
    if tag == "!set" || tag == "tag:yaml.org,2002:set" {
        return Err(disallowed("Psych::Set"));
    }
    if tag == "!omap" || tag == "tag:yaml.org,2002:omap" {
        return Err(disallowed("Psych::Omap"));
    }
    for prefix in ["!map:", "!ruby/hash:", "!ruby/marshalable:"] {
        if let Some(name) = tag.strip_prefix(prefix) {
            return Err(disallowed(name));
        }
    }
    Ok(MapKind::Hash)
}

/// How a sequence with `tag` is loaded, or the error Psych raises for it.
pub(crate) fn sequence_kind(tag: &str) -> Result<SeqKind, ScalarError> {
    if tag == "!omap" || tag == "tag:yaml.org,2002:omap" {
        return Ok(SeqKind::Omap);
    }
    for prefix in ["!seq:", "!ruby/array:"] {
        if let Some(name) = tag.strip_prefix(prefix) {
            return Err(disallowed(name));
        }
    }
    Ok(SeqKind::Array)
}

/// The full text of a tag as libyaml reports it (`!foo`, `tag:yaml.org,2002:str`).
pub(crate) fn full_tag(handle: &str, suffix: &str) -> String {
    let mut s = String::with_capacity(handle.len() + suffix.len());
    s.push_str(handle);
    s.push_str(suffix);
    s
}

/// Ruby's `unpack('m')`: characters outside the base64 alphabet are skipped, decoding stops at
/// the first `=`, and incomplete trailing bits are dropped. Bytes that are not UTF-8 are
/// replaced (Ruby would keep a binary string).
pub(crate) fn decode_base64(text: &str) -> String {
    let mut bytes = Vec::with_capacity(text.len() / 4 * 3);
    let mut acc: u32 = 0;
    let mut bits = 0;
    for c in text.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            b'=' => break,
            _ => continue,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            bytes.push(u8::try_from((acc >> bits) & 0xff).unwrap_or(0));
        }
    }
    String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn core(suffix: &str) -> String {
        full_tag("tag:yaml.org,2002:", suffix)
    }

    #[test]
    fn core_tags() {
        assert!(
            matches!(scalar_value("123", true, Some(&core("str"))), Ok(Value::Str(s)) if s == "123")
        );
        assert!(
            matches!(scalar_value("abc", true, Some(&core("int"))), Ok(Value::Str(s)) if s == "abc")
        );
        assert!(matches!(
            scalar_value("0755", false, Some(&core("int"))),
            Ok(Value::Int(493))
        ));
        assert!(matches!(
            scalar_value("yes", true, Some(&core("bool"))),
            Ok(Value::Bool(true))
        ));
        assert!(
            matches!(scalar_value("foo", true, Some(&core("null"))), Ok(Value::Str(s)) if s == "foo")
        );
        assert!(
            matches!(scalar_value("1", true, Some(&core("float"))), Ok(Value::Float(f)) if (f - 1.0).abs() < 1e-12)
        );
        assert!(
            matches!(scalar_value("1e3", true, Some(&core("float"))), Ok(Value::Float(f)) if (f - 1000.0).abs() < 1e-9)
        );
        assert!(matches!(
            scalar_value("abc", true, Some(&core("float"))),
            Err(ScalarError::Argument(_))
        ));
        assert!(matches!(
            scalar_value("", true, Some(&core("float"))),
            Err(ScalarError::Type(_))
        ));
        assert!(
            matches!(scalar_value("", true, Some(&core("str"))), Ok(Value::Str(s)) if s.is_empty())
        );
        assert!(matches!(
            scalar_value("foo", true, Some(&core("timestamp"))),
            Ok(Value::Str(_))
        ));
        assert_eq!(
            scalar_value("2024-01-01", true, Some(&core("timestamp"))).unwrap_err(),
            ScalarError::DisallowedClass("Date".into())
        );
    }

    #[test]
    fn local_tags() {
        assert!(matches!(
            scalar_value("123", false, Some("!foo")),
            Ok(Value::Int(123))
        ));
        assert!(matches!(
            scalar_value("123", true, Some("!")),
            Ok(Value::Int(123))
        ));
        assert!(matches!(
            scalar_value("12", true, Some("!str")),
            Ok(Value::Str(_))
        ));
        assert!(matches!(
            scalar_value("a", true, Some("!ruby/string")),
            Ok(Value::Str(_))
        ));
        assert!(
            matches!(scalar_value("foo", true, Some("!ruby/sym")), Ok(Value::Symbol(s)) if s == "foo")
        );
        assert_eq!(
            scalar_value("a", true, Some("!ruby/string:Foo")).unwrap_err(),
            ScalarError::DisallowedClass("Foo".into())
        );
        assert_eq!(
            scalar_value("/a/", true, Some("!ruby/regexp")).unwrap_err(),
            ScalarError::DisallowedClass("Regexp".into())
        );
        assert!(matches!(
            scalar_value("", true, Some("!ruby/class")),
            Ok(Value::Null)
        ));
    }

    #[test]
    fn collection_tags() {
        assert_eq!(mapping_kind("!foo"), Ok(MapKind::Hash));
        assert_eq!(mapping_kind(&core("map")), Ok(MapKind::Hash));
        assert_eq!(mapping_kind("!ruby/object:Hash"), Ok(MapKind::Hash));
        assert_eq!(mapping_kind(&core("str")), Ok(MapKind::StrObject));
        assert_eq!(mapping_kind(&core("set")), Err(disallowed("Psych::Set")));
        assert_eq!(mapping_kind(&core("omap")), Err(disallowed("Psych::Omap")));
        assert_eq!(mapping_kind("!ruby/object"), Err(disallowed("Object")));
        assert_eq!(mapping_kind("!ruby/object:Foo"), Err(disallowed("Foo")));
        assert_eq!(mapping_kind("!ruby/struct"), Err(disallowed("Struct")));
        assert_eq!(
            mapping_kind("!ruby/exception"),
            Err(disallowed("Exception"))
        );
        assert_eq!(sequence_kind(&core("omap")), Ok(SeqKind::Omap));
        assert_eq!(sequence_kind(&core("map")), Ok(SeqKind::Array));
        assert_eq!(sequence_kind("!ruby/array:Foo"), Err(disallowed("Foo")));
    }

    #[test]
    fn base64_like_ruby() {
        assert_eq!(decode_base64("aGVsbG8="), "hello");
        assert_eq!(decode_base64("aGVsbG8"), "hello");
        assert_eq!(decode_base64("aGV sbG8=\n"), "hello");
        assert_eq!(decode_base64("aGVs!bG8="), "hello");
        assert_eq!(decode_base64("a"), "");
        assert_eq!(decode_base64("aG=Vs"), "h");
        assert_eq!(decode_base64(""), "");
    }
}
