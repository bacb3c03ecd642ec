//! Writing a node tree back as YAML (block style), for `gantry preview`.

use std::fmt::Write as _;

use gantry_yaml::{Node, Value};

/// The node as a YAML document that GitLab would read back to the same values.
pub fn to_yaml(node: &Node) -> String {
    let mut out = String::new();
    match &node.value {
        Value::Map(m) if !m.is_empty() => write_map(&mut out, node, 0),
        Value::Seq(s) if !s.is_empty() => write_seq(&mut out, node, 0),
        _ => {
            out.push_str(&scalar(&node.value, 0));
            out.push('\n');
        }
    }
    out
}

fn indent(out: &mut String, n: usize) {
    for _ in 0..n {
        out.push(' ');
    }
}

fn write_map(out: &mut String, node: &Node, level: usize) {
    let Value::Map(map) = &node.value else { return };
    for (key, value) in &map.entries {
        indent(out, level);
        out.push_str(&key_text(&key.value));
        out.push(':');
        write_value_after_key(out, value, level);
    }
}

fn write_value_after_key(out: &mut String, value: &Node, level: usize) {
    match &value.value {
        Value::Map(m) if !m.is_empty() => {
            out.push('\n');
            write_map(out, value, level + 2);
        }
        Value::Seq(s) if !s.is_empty() => {
            out.push('\n');
            write_seq(out, value, level);
        }
        Value::Reference(inner) => {
            out.push_str(" !reference ");
            out.push_str(&flow(inner));
            out.push('\n');
        }
        other => {
            out.push(' ');
            out.push_str(&scalar(other, level + 2));
            out.push('\n');
        }
    }
}

fn write_seq(out: &mut String, node: &Node, level: usize) {
    let Value::Seq(items) = &node.value else {
        return;
    };
    for item in items {
        indent(out, level);
        out.push('-');
        match &item.value {
            Value::Map(m) if !m.is_empty() => {
                // First entry on the dash line, the rest aligned under it.
                let mut first = true;
                for (key, value) in &m.entries {
                    if first {
                        out.push(' ');
                        first = false;
                    } else {
                        indent(out, level + 2);
                    }
                    out.push_str(&key_text(&key.value));
                    out.push(':');
                    write_value_after_key(out, value, level + 2);
                }
            }
            Value::Seq(s) if !s.is_empty() => {
                out.push(' ');
                out.push_str(&flow(item));
                out.push('\n');
            }
            other => {
                out.push(' ');
                out.push_str(&scalar(other, level + 2));
                out.push('\n');
            }
        }
    }
}

/// A collection in flow style (`[a, b]`, `{k: v}`).
fn flow(node: &Node) -> String {
    match &node.value {
        Value::Seq(items) => {
            let parts: Vec<String> = items.iter().map(flow).collect();
            format!("[{}]", parts.join(", "))
        }
        Value::Map(map) => {
            let parts: Vec<String> = map
                .entries
                .iter()
                .map(|(k, v)| {
                    let key = match &k.value {
                        Value::Str(s) if s != "<<" && !flow_plain_safe(s) => quoted(s),
                        other => key_text(other),
                    };
                    format!("{key}: {}", flow(v))
                })
                .collect();
            format!("{{{}}}", parts.join(", "))
        }
        Value::Reference(inner) => format!("!reference {}", flow(inner)),
        Value::Str(s) if s.contains('\n') || !flow_plain_safe(s) => quoted(s),
        other => scalar(other, 0),
    }
}

/// Inside `[...]` and `{...}` commas, brackets and braces end a plain scalar: only simple
/// words stay unquoted there.
fn flow_plain_safe(s: &str) -> bool {
    is_plain_safe(s)
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-./$ ".contains(c))
        && !s.contains(" -")
        && !s.ends_with('-')
}

fn key_text(value: &Value) -> String {
    match value {
        // A `<<` key, even quoted, is a merge key to Psych when its value is a hash: only an
        // explicit `!!str` tag makes it an ordinary key.
        Value::Str(s) if s == "<<" => "!!str \"<<\"".into(),
        Value::Str(s) if s.contains('\n') => quoted(s),
        other => scalar(other, 0),
    }
}

fn scalar(value: &Value, level: usize) -> String {
    match value {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Int(i) => i.to_string(),
        Value::Float(f) => {
            if f.is_nan() {
                ".nan".into()
            } else if f.is_infinite() {
                if *f > 0.0 {
                    ".inf".into()
                } else {
                    "-.inf".into()
                }
            } else {
                float_text(*f)
            }
        }
        Value::Symbol(s) => format!(":{s}"),
        Value::Str(s) => string(s, level),
        Value::Seq(_) | Value::Map(_) | Value::Reference(_) => {
            let node = Node::new(value.clone(), gantry_yaml::Span::synthetic("emit"));
            flow(&node)
        }
    }
}

/// A finite float the way Psych reads it back as a float: a dot in the mantissa, and an
/// exponent (if any) with an explicit sign (`1e3` and `1.0e3` are strings to Psych).
fn float_text(f: f64) -> String {
    let text = format!("{f:?}");
    let (mantissa, exponent) = match text.split_once('e') {
        Some((m, e)) => (m.to_string(), Some(e.to_string())),
        None => (text, None),
    };
    let mantissa = if mantissa.contains('.') {
        mantissa
    } else {
        format!("{mantissa}.0")
    };
    match exponent {
        Some(e) if e.starts_with('-') => format!("{mantissa}e{e}"),
        Some(e) => format!("{mantissa}e+{e}"),
        None => mantissa,
    }
}

fn string(s: &str, level: usize) -> String {
    if s.contains('\n') {
        let body = s.strip_suffix('\n').unwrap_or(s);
        let chomp = if s.ends_with('\n') { "" } else { "-" };
        let simple = !body.is_empty()
            && !body.ends_with('\n')
            && body
                .split('\n')
                .find(|l| !l.is_empty())
                .is_some_and(|l| !l.starts_with([' ', '\t']))
            && body.lines().all(|l| !l.ends_with([' ', '\t']))
            && !body.contains('\r')
            && !body
                .chars()
                .any(|c| needs_escape(c) && c != '\n' && c != '\t');
        if simple {
            let mut out = format!("|{chomp}");
            for line in body.split('\n') {
                out.push('\n');
                if !line.is_empty() {
                    for _ in 0..level {
                        out.push(' ');
                    }
                    out.push_str(line);
                }
            }
            return out;
        }
        return quoted(s);
    }
    if is_plain_safe(s) {
        s.to_string()
    } else {
        quoted(s)
    }
}

fn quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\u{85}' => out.push_str("\\N"),
            '\u{2028}' => out.push_str("\\L"),
            '\u{2029}' => out.push_str("\\P"),
            c if needs_escape(c) => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Characters that cannot appear as they are in a YAML scalar (outside YAML's printable set,
/// or line breaks and a BOM that a reader would act on).
fn needs_escape(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{feff}' | '\u{2028}' | '\u{2029}' | '\u{fffe}' | '\u{ffff}'
        )
}

/// Whether a string can be written unquoted and still load as the same string under Psych's
/// rules. Conservative: anything that might be typed or parsed differently is quoted.
fn is_plain_safe(s: &str) -> bool {
    let Some(first) = s.chars().next() else {
        return false;
    };
    if !(first.is_ascii_alphabetic() || first == '_' || first == '/' || first == '$') {
        return false;
    }
    if s.ends_with([' ', ':']) || s.contains(": ") || s.contains(" #") {
        return false;
    }
    if !s.chars().all(|c| {
        c.is_ascii_alphanumeric()
            || " _-./$@+=()'\"*&!%,;<>|~^`?".contains(c)
            || (!c.is_ascii() && !needs_escape(c) && !c.is_whitespace())
    }) {
        return false;
    }
    if s.contains(['\'', '"', ',', '&', '*', '!', '|', '>', '%', '@', '`', '?']) && !s.contains(' ')
    {
        // Single tokens with indicator characters: quote to be safe.
        return false;
    }
    let lower = s.to_ascii_lowercase();
    !matches!(
        lower.as_str(),
        "true" | "false" | "yes" | "no" | "on" | "off" | "null" | "y" | "n"
    ) && !s.starts_with("0x")
}
