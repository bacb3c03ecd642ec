//! Docker's units: sizes (`memory = "128m"`) and CPU counts (`cpus = "1.5"`).

/// Bytes of a size like docker's `--memory`: a number with an optional unit `b`, `k`, `m`, `g`
/// (powers of 1024; `kb`, `mb`, `gb` and upper case accepted).
pub fn parse_size(text: &str) -> Result<i64, String> {
    let t = text.trim().to_ascii_lowercase();
    let t = t.strip_suffix('b').filter(|r| !r.is_empty()).unwrap_or(&t);
    let (number, factor) = match t.chars().last() {
        Some('k') => (&t[..t.len() - 1], 1i64 << 10),
        Some('m') => (&t[..t.len() - 1], 1 << 20),
        Some('g') => (&t[..t.len() - 1], 1 << 30),
        Some('t') => (&t[..t.len() - 1], 1 << 40),
        _ => (t, 1),
    };
    let value: f64 = number.trim().parse().map_err(|_| {
        format!("invalid size {text:?} (expected e.g. 512m, 2g or a number of bytes)")
    })?;
    if !(value.is_finite() && value >= 0.0) {
        return Err(format!("invalid size {text:?}: it must be positive"));
    }
    #[allow(clippy::cast_possible_truncation, clippy::cast_precision_loss)]
    let bytes = (value * factor as f64) as i64;
    Ok(bytes)
}

/// Billionths of a CPU for `cpus = "1.5"`.
pub fn parse_cpus(text: &str) -> Result<i64, String> {
    let value: f64 = text
        .trim()
        .parse()
        .map_err(|_| format!("invalid cpus {text:?} (expected a number such as 1.5)"))?;
    if !(value.is_finite() && value > 0.0) {
        return Err(format!("invalid cpus {text:?}: it must be greater than 0"));
    }
    #[allow(clippy::cast_possible_truncation)]
    let nanos = (value * 1e9).round() as i64;
    Ok(nanos)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_cpus() {
        assert_eq!(parse_size("128m").unwrap(), 128 << 20);
        assert_eq!(parse_size("1G").unwrap(), 1 << 30);
        assert_eq!(parse_size("2gb").unwrap(), 2 << 30);
        assert_eq!(parse_size("4096").unwrap(), 4096);
        assert!(parse_size("lots").is_err());
        assert_eq!(parse_cpus("1.5").unwrap(), 1_500_000_000);
        assert!(parse_cpus("0").is_err());
    }
}
