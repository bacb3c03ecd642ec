//! Terminal-escape helpers: the runner's colour codes, ANSI stripping and removal of GitLab's
//! `section_start`/`section_end` markers from display text.

use std::borrow::Cow;

/// Bold green (notices, command echo).
pub(crate) const GREEN: &str = "\x1b[32;1m";
/// Yellow (warnings).
pub(crate) const YELLOW: &str = "\x1b[0;33m";
/// Bold red (errors).
pub(crate) const RED: &str = "\x1b[31;1m";
/// Bold cyan (section headers).
pub(crate) const CYAN: &str = "\x1b[36;1m";
/// Reset.
pub(crate) const RESET: &str = "\x1b[0;m";
/// Clear to end of line.
pub(crate) const CLEAR: &str = "\x1b[0K";

/// Removes ANSI escape sequences (CSI, OSC and two-byte escapes).
pub fn strip_ansi(text: &str) -> Cow<'_, str> {
    if !text.contains('\x1b') {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\x1b' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('[') => {
                // CSI: parameter/intermediate bytes, then one final byte in 0x40..=0x7e.
                for c in chars.by_ref() {
                    if ('\x40'..='\x7e').contains(&c) {
                        break;
                    }
                }
            }
            Some(']') => {
                // OSC: until BEL or ESC \.
                while let Some(c) = chars.next() {
                    if c == '\x07' {
                        break;
                    }
                    if c == '\x1b' && chars.peek() == Some(&'\\') {
                        chars.next();
                        break;
                    }
                }
            }
            _ => {}
        }
    }
    Cow::Owned(out)
}

/// Removes `section_start:<ts>:<name>[opts]\r\e[0K` and `section_end:<ts>:<name>\r\e[0K` markers.
/// Returns `None` when nothing was removed.
pub(crate) fn strip_section_markers(text: &str) -> Option<String> {
    if !text.contains("section_") {
        return None;
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    let mut changed = false;
    while let Some(pos) = rest.find("section_") {
        let candidate = &rest[pos..];
        if let Some(len) = marker_len(candidate) {
            out.push_str(&rest[..pos]);
            rest = &candidate[len..];
            changed = true;
        } else {
            out.push_str(&rest[..pos + "section_".len()]);
            rest = &candidate["section_".len()..];
        }
    }
    out.push_str(rest);
    changed.then_some(out)
}

/// Length of a well-formed marker at the start of `s`.
fn marker_len(s: &str) -> Option<usize> {
    let after = s
        .strip_prefix("section_start:")
        .or_else(|| s.strip_prefix("section_end:"))?;
    let digits = after.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 || after.as_bytes().get(digits) != Some(&b':') {
        return None;
    }
    let name_part = &after[digits + 1..];
    let name_len = name_part
        .bytes()
        .take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
        .count();
    if name_len == 0 {
        return None;
    }
    let mut tail = &name_part[name_len..];
    if tail.starts_with('[') {
        let close = tail.find(']')?;
        tail = &tail[close + 1..];
    }
    let tail = tail.strip_prefix("\r\x1b[0K")?;
    Some(s.len() - tail.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_csi_and_osc() {
        assert_eq!(strip_ansi("\x1b[32;1m$ echo\x1b[0;m hi"), "$ echo hi");
        assert_eq!(strip_ansi("a\x1b]0;title\x07b"), "ab");
    }

    #[test]
    fn strips_markers() {
        let line =
            "section_end:1:a\r\x1b[0Ksection_start:2:b[collapsed=true]\r\x1b[0K\x1b[0KHeader";
        assert_eq!(
            strip_section_markers(line).as_deref(),
            Some("\x1b[0KHeader")
        );
        assert_eq!(strip_section_markers("no section_here"), None);
    }
}
