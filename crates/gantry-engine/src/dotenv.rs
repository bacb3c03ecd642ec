//! `reports:dotenv` parsing with GitLab's strict rules: every line `KEY=value` (split at the first
//! `=`, both sides whitespace-stripped, quotes kept literally); any other line — an empty line or a
//! comment too — rejects the whole file; names `[A-Za-z0-9_]+`; the last duplicate wins; at most
//! 5 KB and 20 variables; UTF-16 (with BOM) is converted and a UTF-8 BOM stripped.

/// Largest accepted file.
const MAX_SIZE: usize = 5 * 1024;
/// Most variables accepted.
const MAX_VARIABLES: usize = 20;

/// Parses a dotenv report; the error says why the whole file is rejected.
pub(crate) fn parse_dotenv(bytes: &[u8]) -> Result<Vec<(String, String)>, String> {
    if bytes.len() > MAX_SIZE {
        return Err(format!(
            "dotenv file is too large ({} bytes, the limit is {MAX_SIZE})",
            bytes.len()
        ));
    }
    let text = decode(bytes);
    let mut vars: Vec<(String, String)> = Vec::new();
    for (index, line) in text.split_inclusive('\n').enumerate() {
        let Some((key, value)) = line.split_once('=') else {
            return Err(format!(
                "Invalid Format: line {} is not KEY=value",
                index + 1
            ));
        };
        let key = key.trim_matches(ruby_space);
        let value = value.trim_matches(ruby_space);
        if key.is_empty() || !key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            return Err(format!("Invalid Key: {key:?} on line {}", index + 1));
        }
        vars.retain(|(k, _)| k != key);
        vars.push((key.to_owned(), value.to_owned()));
    }
    if vars.len() > MAX_VARIABLES {
        return Err(format!(
            "dotenv files cannot have more than {MAX_VARIABLES} variables ({} given)",
            vars.len()
        ));
    }
    Ok(vars)
}

/// Ruby's `String#strip` set: whitespace and NUL.
fn ruby_space(c: char) -> bool {
    c.is_ascii_whitespace() || c == '\0' || c == '\x0b'
}

fn decode(bytes: &[u8]) -> String {
    let utf16 = |le: bool| {
        let units: Vec<u16> = bytes[2..]
            .chunks_exact(2)
            .map(|c| {
                if le {
                    u16::from_le_bytes([c[0], c[1]])
                } else {
                    u16::from_be_bytes([c[0], c[1]])
                }
            })
            .collect();
        String::from_utf16_lossy(&units)
    };
    match bytes {
        [0xFF, 0xFE, ..] => utf16(true),
        [0xFE, 0xFF, ..] => utf16(false),
        [0xEF, 0xBB, 0xBF, rest @ ..] => String::from_utf8_lossy(rest).into_owned(),
        _ => String::from_utf8_lossy(bytes).into_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strict_format() {
        assert_eq!(
            parse_dotenv(b" A = 1 \nB=\"q\"=x\nA=2").unwrap(),
            vec![
                ("B".to_owned(), "\"q\"=x".to_owned()),
                ("A".to_owned(), "2".to_owned())
            ]
        );
        assert!(parse_dotenv(b"A=1\n\nB=2\n").is_err());
        assert!(parse_dotenv(b"# comment\nA=1\n").is_err());
        assert!(parse_dotenv(b"A-B=1\n").is_err());
        assert_eq!(parse_dotenv(b"").unwrap(), vec![]);
        assert_eq!(
            parse_dotenv(b"\xEF\xBB\xBFX=1\r\n").unwrap(),
            vec![("X".into(), "1".into())]
        );
        let many: String = (0..21)
            .map(|i| format!("V{i}=1\n"))
            .collect::<Vec<_>>()
            .concat();
        assert!(parse_dotenv(many.as_bytes()).is_err());
    }
}
