//! Evaluation of a parsed expression with Ruby value semantics, as GitLab's lexemes evaluate.
//!
//! Every node evaluates to a Ruby value: `nil` (undefined variable or `null`), a string, a boolean
//! (the result of a comparison) or a regexp (a regex literal). Then:
//!
//! * `==` / `!=` compare values (`nil == nil`; a string never equals `nil`, a boolean or a regexp);
//! * `=~`: `false` if the right side is `nil` or `false`; a regexp is matched (unanchored) against
//!   the left side's string form (`nil` is `""`); a string right side is first tried as
//!   `/pattern/flags` (after unescaping `\/`), and if that is not a valid regexp the test becomes
//!   "the left side occurs in the right side" (`"23" =~ "1234"` is true);
//! * `!~`: `true` if the right side is `nil` or `false`, otherwise the negation of the match;
//! * `&&` / `||` are Ruby's: they return one of their operand *values* (`a && b` is `b` when `a`
//!   is truthy, else `a`; `a || b` is `a` when truthy, else `b`), where only `nil` and `false` are
//!   falsy, so a defined empty string is truthy;
//! * the statement is true when the final value is `present?`: not `nil`, not `false`, not a
//!   blank string (empty or only whitespace).

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use super::parser::{Node, Op};
use crate::untrusted_regexp::UntrustedRegexp;

/// A Ruby value produced while evaluating.
#[derive(Debug)]
pub(crate) enum Value<'a> {
    Nil,
    Str(Cow<'a, str>),
    Bool(bool),
    Regexp(&'a UntrustedRegexp),
}

impl Value<'_> {
    fn truthy(&self) -> bool {
        !matches!(self, Value::Nil | Value::Bool(false))
    }

    /// `ActiveSupport`'s `present?`.
    pub(crate) fn present(&self) -> bool {
        match self {
            Value::Nil => false,
            Value::Bool(b) => *b,
            Value::Str(s) => !s.chars().all(char::is_whitespace),
            Value::Regexp(_) => true,
        }
    }

    /// Ruby's `to_s` of the left side of a match.
    fn to_text(&self) -> Cow<'_, str> {
        match self {
            Value::Nil => Cow::Borrowed(""),
            Value::Str(s) => Cow::Borrowed(s),
            Value::Bool(true) => Cow::Borrowed("true"),
            Value::Bool(false) => Cow::Borrowed("false"),
            Value::Regexp(re) => Cow::Borrowed(re.source()),
        }
    }
}

fn equal(left: &Value<'_>, right: &Value<'_>) -> bool {
    match (left, right) {
        (Value::Nil, Value::Nil) => true,
        (Value::Str(a), Value::Str(b)) => a == b,
        (Value::Bool(a), Value::Bool(b)) => a == b,
        (Value::Regexp(a), Value::Regexp(b)) => a.source() == b.source(),
        _ => false,
    }
}

/// Variable values are compiled when first seen and kept, so that `$X =~ $PATTERN` in many jobs
/// does not recompile. The cache is bounded; it is cleared when full.
const CACHE_LIMIT: usize = 512;

type Cache = Mutex<HashMap<String, Option<Arc<UntrustedRegexp>>>>;

fn regexp_from_string(s: &str) -> Option<Arc<UntrustedRegexp>> {
    static CACHE: OnceLock<Cache> = OnceLock::new();
    let cache = CACHE.get_or_init(|| Mutex::new(HashMap::new()));
    if let Some(hit) = cache.lock().ok().and_then(|map| map.get(s).cloned()) {
        return hit;
    }
    // Lexeme::Pattern.build_and_evaluate: `\/` is unescaped, then RubySyntax must accept it.
    let compiled = UntrustedRegexp::from_ruby_syntax(&s.replace("\\/", "/"))
        .ok()
        .map(Arc::new);
    if let Ok(mut map) = cache.lock() {
        if map.len() >= CACHE_LIMIT {
            map.clear();
        }
        map.insert(s.to_owned(), compiled.clone());
    }
    compiled
}

/// `Some(matched)` for a usable right side, `None` when the right side is `nil` or `false`.
fn match_right(left: &Value<'_>, right: &Value<'_>) -> Option<bool> {
    let text = left.to_text();
    match right {
        Value::Nil | Value::Bool(false) => None,
        // GitLab raises (HTTP 500) on a `true` right side; treat it as "no match".
        Value::Bool(true) => Some(false),
        Value::Regexp(re) => Some(re.is_match(&text)),
        Value::Str(s) => Some(match regexp_from_string(s) {
            Some(re) => re.is_match(&text),
            None => s.contains(text.as_ref()),
        }),
    }
}

/// Variable lookup used during evaluation: `None` for an undefined variable.
pub(crate) type Lookup<'a, 'f> = &'f dyn Fn(&str) -> Option<Cow<'a, str>>;

pub(crate) fn evaluate<'a>(node: &'a Node, lookup: Lookup<'a, '_>) -> Value<'a> {
    match node {
        Node::Variable(name) => lookup(name).map_or(Value::Nil, Value::Str),
        Node::String(s) => Value::Str(Cow::Borrowed(s)),
        Node::Null => Value::Nil,
        Node::Pattern(re) => Value::Regexp(re),
        Node::Binary(op, left, right) => match op {
            Op::Equals => Value::Bool(equal(&evaluate(left, lookup), &evaluate(right, lookup))),
            Op::NotEquals => Value::Bool(!equal(&evaluate(left, lookup), &evaluate(right, lookup))),
            Op::Matches => {
                let l = evaluate(left, lookup);
                let r = evaluate(right, lookup);
                Value::Bool(match_right(&l, &r).unwrap_or(false))
            }
            Op::NotMatches => {
                let l = evaluate(left, lookup);
                let r = evaluate(right, lookup);
                Value::Bool(match_right(&l, &r).is_none_or(|m| !m))
            }
            Op::And => {
                let l = evaluate(left, lookup);
                if l.truthy() {
                    evaluate(right, lookup)
                } else {
                    l
                }
            }
            Op::Or => {
                let l = evaluate(left, lookup);
                if l.truthy() {
                    l
                } else {
                    evaluate(right, lookup)
                }
            }
        },
    }
}
