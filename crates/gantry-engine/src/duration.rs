//! Duration text: Go's `Duration.String()` (the runner's timeout message) and a small
//! ChronicDuration-style parser for `expire_in` (`"42"`, `"3 mins 4 sec"`, `"2h20min"`, `"never"`).

use std::fmt::Write as _;
use std::time::Duration;

/// Formats like Go: `1h0m0s`, `10m0s`, `1m30.5s`, `500ms`, `0s`.
pub(crate) fn go_duration(d: Duration) -> String {
    let total_ms = d.as_millis();
    if total_ms == 0 {
        return "0s".to_owned();
    }
    if total_ms < 1000 {
        return format!("{total_ms}ms");
    }
    let hours = total_ms / 3_600_000;
    let minutes = (total_ms / 60_000) % 60;
    let ms = total_ms % 60_000;
    let mut out = String::new();
    if hours > 0 {
        let _ = write!(out, "{hours}h");
    }
    if hours > 0 || minutes > 0 {
        let _ = write!(out, "{minutes}m");
    }
    let secs = ms / 1000;
    let frac = ms % 1000;
    if frac == 0 {
        let _ = write!(out, "{secs}s");
    } else {
        let frac = format!("{frac:03}");
        let _ = write!(out, "{secs}.{}s", frac.trim_end_matches('0'));
    }
    out
}

/// Parses a Go duration (`1h30m`, `90s`, `1.5m`, `500ms`); `None` when invalid.
pub(crate) fn parse_go_duration(text: &str) -> Option<Duration> {
    let t = text.trim();
    if t == "0" {
        return Some(Duration::ZERO);
    }
    let mut rest = t;
    let mut total = 0f64;
    while !rest.is_empty() {
        let num_len = rest.find(|c: char| !(c.is_ascii_digit() || c == '.'))?;
        let value: f64 = rest[..num_len].parse().ok()?;
        rest = &rest[num_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let factor = match &rest[..unit_len] {
            "ns" => 1e-9,
            "us" | "µs" | "μs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return None,
        };
        rest = &rest[unit_len..];
        total += value * factor;
    }
    (!t.is_empty()).then(|| Duration::from_secs_f64(total))
}

/// Parses an `expire_in` value. `Ok(None)` means never.
pub(crate) fn parse_human_duration(text: &str) -> Result<Option<Duration>, String> {
    let t = text.trim().to_ascii_lowercase();
    if t == "never" {
        return Ok(None);
    }
    if t.is_empty() {
        return Err("empty duration".to_owned());
    }
    if let Ok(secs) = t.parse::<u64>() {
        return Ok(Some(Duration::from_secs(secs)));
    }
    let mut total = 0f64;
    let mut rest = t.as_str();
    let mut any = false;
    while !rest.is_empty() {
        rest = rest.trim_start_matches(|c: char| c.is_whitespace() || c == ',');
        if rest.is_empty() {
            break;
        }
        if let Some(after) = rest.strip_prefix("and") {
            rest = after;
            continue;
        }
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        if num_len == 0 {
            return Err(format!("invalid duration: {text}"));
        }
        let value: f64 = rest[..num_len]
            .parse()
            .map_err(|_| format!("invalid duration: {text}"))?;
        rest = rest[num_len..].trim_start();
        let unit_len = rest
            .find(|c: char| !c.is_ascii_alphabetic())
            .unwrap_or(rest.len());
        let unit = &rest[..unit_len];
        rest = &rest[unit_len..];
        let factor = match unit {
            "" | "s" | "sec" | "secs" | "second" | "seconds" => 1.0,
            "m" | "min" | "mins" | "minute" | "minutes" => 60.0,
            "h" | "hr" | "hrs" | "hour" | "hours" => 3600.0,
            "d" | "day" | "days" => 86_400.0,
            "w" | "wk" | "wks" | "week" | "weeks" => 604_800.0,
            "mo" | "mos" | "month" | "months" => 2_592_000.0,
            "y" | "yr" | "yrs" | "year" | "years" => 31_557_600.0,
            _ => return Err(format!("invalid duration unit {unit:?} in {text}")),
        };
        total += value * factor;
        any = true;
    }
    if !any {
        return Err(format!("invalid duration: {text}"));
    }
    Ok(Some(Duration::from_secs_f64(total)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_format() {
        assert_eq!(go_duration(Duration::from_hours(1)), "1h0m0s");
        assert_eq!(go_duration(Duration::from_mins(10)), "10m0s");
        assert_eq!(go_duration(Duration::from_millis(90_500)), "1m30.5s");
        assert_eq!(go_duration(Duration::from_secs(2)), "2s");
        assert_eq!(go_duration(Duration::from_millis(250)), "250ms");
    }

    #[test]
    fn go_parse() {
        assert_eq!(parse_go_duration("1h30m"), Some(Duration::from_mins(90)));
        assert_eq!(parse_go_duration("1.5s"), Some(Duration::from_millis(1500)));
        assert_eq!(parse_go_duration("250ms"), Some(Duration::from_millis(250)));
        assert_eq!(parse_go_duration("0"), Some(Duration::ZERO));
        assert_eq!(parse_go_duration("10"), None);
        assert_eq!(parse_go_duration(""), None);
    }

    #[test]
    fn human_parse() {
        assert_eq!(
            parse_human_duration("42").unwrap(),
            Some(Duration::from_secs(42))
        );
        assert_eq!(
            parse_human_duration("3 mins 4 sec").unwrap(),
            Some(Duration::from_secs(184))
        );
        assert_eq!(
            parse_human_duration("2h20min").unwrap(),
            Some(Duration::from_mins(140))
        );
        assert_eq!(parse_human_duration("never").unwrap(), None);
        assert!(parse_human_duration("soon").is_err());
    }
}
