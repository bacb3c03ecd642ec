//! Ruby's string-to-number conversions that Psych relies on: `Integer()`, `Float()`, `to_i`, `to_f`.
//!
//! Integers that do not fit in an `i64` (Ruby would make a Bignum) become `Value::Float` with the
//! nearest double: the loader has no big-integer type, and a float keeps the value numeric.

use crate::Value;
use crate::typing::ScalarError;

/// `Integer(s)` for a string that already matched Psych's integer expression with its `_` and `,`
/// removed: `[-+]?` then `0b…`, `0x…`, `0…` (octal) or decimal digits.
pub(crate) fn ruby_integer(s: &str) -> Result<Value, ScalarError> {
    let (negative, body) = split_sign(s);
    let (radix, digits) = if let Some(d) = body.strip_prefix("0b") {
        (2, d)
    } else if let Some(d) = body.strip_prefix("0x") {
        (16, d)
    } else if body.len() > 1 && body.starts_with('0') {
        (8, &body[1..])
    } else {
        (10, body)
    };
    let invalid = || ScalarError::Argument(format!("invalid value for Integer(): {s:?}"));
    if digits.is_empty() {
        return Err(invalid());
    }
    // Exact while it fits 128 bits; past that (radix 2, 8, 16 only) the dropped low digits
    // are remembered as a sticky bit, which keeps the final rounding to a float correct.
    let mut value: u128 = 0;
    let mut overflowed = false;
    let mut dropped_digits: i32 = 0;
    let mut sticky = false;
    for c in digits.chars() {
        let d = c.to_digit(radix).ok_or_else(invalid)?;
        match value
            .checked_mul(u128::from(radix))
            .and_then(|v| v.checked_add(u128::from(d)))
        {
            Some(v) if !overflowed => value = v,
            _ => {
                overflowed = true;
                dropped_digits += 1;
                sticky |= d != 0;
            }
        }
    }
    if !overflowed {
        let signed = i128::try_from(value)
            .ok()
            .map(|v| if negative { -v } else { v })
            .and_then(|v| i64::try_from(v).ok());
        if let Some(v) = signed {
            return Ok(Value::Int(v));
        }
    }
    // A Bignum in Ruby: keep the nearest double.
    #[allow(clippy::cast_precision_loss)]
    let magnitude = if radix == 10 {
        digits.parse::<f64>().unwrap_or(f64::INFINITY)
    } else {
        let bits_per_digit = match radix {
            2 => 1,
            8 => 3,
            _ => 4,
        };
        let top = (value | u128::from(sticky)) as f64;
        top * 2.0_f64.powi(dropped_digits.saturating_mul(bits_per_digit))
    };
    Ok(Value::Float(if negative { -magnitude } else { magnitude }))
}

/// `Float(s)` for a Ruby String: surrounding whitespace allowed, an optional sign, digits with
/// single underscores between them, an optional fraction and exponent, or a `0x` hexadecimal.
pub(crate) fn ruby_float_from_str(s: &str) -> Result<f64, ScalarError> {
    let invalid = || ScalarError::Argument(format!("invalid value for Float(): {s:?}"));
    let t = s.trim_matches(|c: char| matches!(c, ' ' | '\t' | '\n' | '\u{b}' | '\u{c}' | '\r'));
    let (negative, body) = split_sign(t);
    let magnitude = if let Some(hex) = body.strip_prefix("0x").or_else(|| body.strip_prefix("0X")) {
        hex_float(hex).ok_or_else(invalid)?
    } else {
        decimal_float(body).ok_or_else(invalid)?
    };
    Ok(if negative { -magnitude } else { magnitude })
}

/// Strict decimal: `digits? (. digits)? ([eE] [-+]? digits)?` with at least one mantissa digit,
/// digits after a `.`, and `_` only between two digits.
fn decimal_float(body: &str) -> Option<f64> {
    let b = body.as_bytes();
    let mut i = 0;
    let int = strict_digits(b, &mut i);
    let mut frac = "";
    if b.get(i) == Some(&b'.') {
        i += 1;
        frac = strict_digits(b, &mut i);
        if frac.is_empty() {
            return None;
        }
    }
    if int.is_empty() && frac.is_empty() {
        return None;
    }
    let mut exp = String::new();
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if let Some(&sign @ (b'+' | b'-')) = b.get(i) {
            exp.push(char::from(sign));
            i += 1;
        }
        let digits = strict_digits(b, &mut i);
        if digits.is_empty() {
            return None;
        }
        exp.push_str(digits);
    }
    if i != b.len() {
        return None;
    }
    let text = format!(
        "{}.{}e{}",
        if int.is_empty() { "0" } else { int },
        if frac.is_empty() { "0" } else { frac },
        if exp.is_empty() { "0" } else { &exp }
    )
    .replace('_', "");
    text.parse().ok()
}

/// Reads `[0-9]+(_[0-9]+)*` at `*i`; returns the text read (possibly empty).
fn strict_digits<'a>(b: &'a [u8], i: &mut usize) -> &'a str {
    let start = *i;
    while *i < b.len() {
        let separator = b[*i] == b'_'
            && *i > start
            && b[*i - 1].is_ascii_digit()
            && b.get(*i + 1).is_some_and(u8::is_ascii_digit);
        if !(b[*i].is_ascii_digit() || separator) {
            break;
        }
        *i += 1;
    }
    std::str::from_utf8(&b[start..*i]).unwrap_or("")
}

/// `0x` floats: hex digits, an optional hex fraction and an optional binary exponent `p±n`.
fn hex_float(hex: &str) -> Option<f64> {
    let (mantissa, exponent) = match hex.find(['p', 'P']) {
        Some(p) => (&hex[..p], Some(&hex[p + 1..])),
        None => (hex, None),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    if int.is_empty() && frac.is_empty() {
        return None;
    }
    let mut value = 0.0_f64;
    for c in int.chars() {
        value = value * 16.0 + f64::from(c.to_digit(16)?);
    }
    let mut scale = 1.0 / 16.0;
    for c in frac.chars() {
        value += f64::from(c.to_digit(16)?) * scale;
        scale /= 16.0;
    }
    if let Some(exp) = exponent {
        let exp: i32 = exp.parse().ok()?;
        value *= 2.0_f64.powi(exp);
    }
    Some(value)
}

/// `String#to_i` (base 10): the exact value when it fits an `i128`, and a float approximation.
pub(crate) fn ruby_to_i(s: &str) -> (Option<i128>, f64) {
    let (negative, body) = split_sign(s);
    let b = body.as_bytes();
    let mut i = 0;
    let digits = strict_digits(b, &mut i);
    let mut exact: Option<i128> = Some(0);
    let mut approx = 0.0_f64;
    for d in digits.bytes().filter(u8::is_ascii_digit) {
        let d = d - b'0';
        exact = exact
            .and_then(|v| v.checked_mul(10))
            .and_then(|v| v.checked_add(i128::from(d)));
        approx = approx * 10.0 + f64::from(d);
    }
    if negative {
        (exact.map(|v| -v), -approx)
    } else {
        (exact, approx)
    }
}

/// `String#to_f`: the longest valid prefix (`digits`, optional `.digits`), `_` only between digits.
pub(crate) fn ruby_to_f(s: &str) -> f64 {
    let (negative, body) = split_sign(s);
    let b = body.as_bytes();
    let mut i = 0;
    let int = strict_digits(b, &mut i);
    let mut frac = "";
    if b.get(i) == Some(&b'.') && b.get(i + 1).is_some_and(u8::is_ascii_digit) {
        i += 1;
        frac = strict_digits(b, &mut i);
    }
    let text = format!(
        "{}.{}",
        if int.is_empty() { "0" } else { int },
        if frac.is_empty() { "0" } else { frac }
    )
    .replace('_', "");
    let magnitude: f64 = text.parse().unwrap_or(0.0);
    if negative { -magnitude } else { magnitude }
}

fn split_sign(s: &str) -> (bool, &str) {
    match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integer_radixes() {
        assert!(matches!(ruby_integer("0755"), Ok(Value::Int(493))));
        assert!(matches!(ruby_integer("-0b101"), Ok(Value::Int(-5))));
        assert!(matches!(ruby_integer("0x1F"), Ok(Value::Int(31))));
        assert!(matches!(ruby_integer("0"), Ok(Value::Int(0))));
        assert!(matches!(ruby_integer("-0"), Ok(Value::Int(0))));
        assert!(ruby_integer("0x").is_err());
        // Beyond i64: the nearest double, also past 128 bits.
        assert!(
            matches!(ruby_integer("0x70FF999F9FF7Fa07F"), Ok(Value::Float(f)) if f.to_bits() == 130_278_328_994_749_200_000.0_f64.to_bits())
        );
        let big = format!("0x{}", "F".repeat(40));
        assert!(
            matches!(ruby_integer(&big), Ok(Value::Float(f)) if f.to_bits() == 2.0_f64.powi(160).to_bits())
        );
        assert!(
            matches!(ruby_integer(&format!("-0b1{}", "0".repeat(200))), Ok(Value::Float(f)) if f.to_bits() == (-(2.0_f64.powi(200))).to_bits())
        );
        assert!(ruby_integer("0b").is_err());
    }

    #[test]
    fn float_strictness() {
        assert_eq!(ruby_float_from_str("1e3").ok(), Some(1000.0));
        assert_eq!(ruby_float_from_str(" 1 ").ok(), Some(1.0));
        assert_eq!(ruby_float_from_str(".5").ok(), Some(0.5));
        assert_eq!(ruby_float_from_str("-.5").ok(), Some(-0.5));
        assert_eq!(ruby_float_from_str("1_0").ok(), Some(10.0));
        assert_eq!(ruby_float_from_str("0x1A").ok(), Some(26.0));
        for bad in [
            "1__0", "_1", "1_", "1.", "1._5", "e+3", "-e+3", "abc", "", "1e", "Infinity", "NaN",
        ] {
            assert!(ruby_float_from_str(bad).is_err(), "{bad}");
        }
        assert!(ruby_float_from_str("1e400").unwrap().is_infinite());
    }

    #[test]
    fn lenient_prefixes() {
        assert_eq!(ruby_to_i("1__0").0, Some(1));
        assert_eq!(ruby_to_i("1_0").0, Some(10));
        assert_eq!(ruby_to_i("-12").0, Some(-12));
        assert!((ruby_to_f("30.5_5") - 30.55).abs() < 1e-12);
        assert!((ruby_to_f("30.5__5") - 30.5).abs() < 1e-12);
        assert!((ruby_to_f("1._5") - 1.0).abs() < 1e-12);
        assert!((ruby_to_f("30.") - 30.0).abs() < 1e-12);
    }
}
