//! Leniencies of libyaml that `saphyr-parser` lacks, recovered by rewriting the text and retrying.
//!
//! Psych (libyaml) accepts two things that saphyr refuses, and both are found in real pipelines:
//! a tab as the only separator after a mapping `:` (`key:<TAB>value`), and continuation lines of
//! a multi-line quoted scalar indented less than its block (`  key: "a` + newline + `b"`). In both
//! cases the fix does not change the document's meaning: the tab becomes a space, and the
//! continuation lines (whose leading white space quoted scalars drop) are indented. The loader
//! retries with the rewritten text a bounded number of times.

use saphyr_parser::{Marker, ScanError};

use crate::text_cursor::TextCursor;

/// The most rewrites tried for one document.
pub(crate) const MAX_RETRIES: usize = 64;

/// Rewrites `text` so that the parser gets past `error`, when `error` is one of the recoverable
/// ones; `None` otherwise.
pub(crate) fn rewrite(text: &str, error: &ScanError) -> Option<String> {
    match error.info() {
        "':' must be followed by a valid YAML whitespace" => tab_after_colon(text, *error.marker()),
        "invalid indentation in quoted scalar" => indent_quoted(text, *error.marker()),
        "tab cannot be used as indentation" => untab_line(text, *error.marker()),
        _ => None,
    }
}

/// The marker sits after the tabs that follow a `:`; they become spaces.
fn tab_after_colon(text: &str, marker: Marker) -> Option<String> {
    let end = TextCursor::new(text).byte_offset(marker.index());
    let bytes = text.as_bytes();
    let mut start = end;
    while start > 0 && matches!(bytes[start - 1], b' ' | b'\t') {
        start -= 1;
    }
    if start == 0 || bytes[start - 1] != b':' || !bytes[start..end].contains(&b'\t') {
        return None;
    }
    let mut fixed = String::with_capacity(text.len());
    fixed.push_str(&text[..start]);
    fixed.push_str(&text[start..end].replace('\t', " "));
    fixed.push_str(&text[end..]);
    Some(fixed)
}

/// Inside a quoted scalar, a continuation line indented with tabs: they become spaces (quoted
/// scalars drop the leading white space of their continuation lines).
fn untab_line(text: &str, marker: Marker) -> Option<String> {
    let at = TextCursor::new(text).byte_offset(marker.index());
    let line_start = text[..at].rfind('\n').map_or(0, |n| n + 1);
    let indent_end = line_start
        + text[line_start..]
            .bytes()
            .take_while(|&b| b == b' ' || b == b'\t')
            .count();
    let indent = &text[line_start..indent_end];
    if !indent.contains('\t') {
        return None;
    }
    Some(format!(
        "{}{}{}",
        &text[..line_start],
        indent.replace('\t', " "),
        &text[indent_end..]
    ))
}

/// The marker sits on the opening quote; every continuation line of that scalar is indented to
/// at least the quote's column.
fn indent_quoted(text: &str, marker: Marker) -> Option<String> {
    let start = TextCursor::new(text).byte_offset(marker.index());
    let quote = *text.as_bytes().get(start)?;
    if quote != b'"' && quote != b'\'' {
        return None;
    }
    let column = marker.col();
    let bytes = text.as_bytes();
    let mut fixed = String::with_capacity(text.len() + 64);
    fixed.push_str(&text[..=start]);
    let mut i = start + 1;
    let mut changed = false;
    while i < bytes.len() {
        let b = bytes[i];
        if quote == b'"' && b == b'\\' && bytes.get(i + 1) != Some(&b'\n') {
            let next = text[i + 1..].chars().next().map_or(0, char::len_utf8);
            fixed.push_str(&text[i..=i + next]);
            i += 1 + next;
            continue;
        }
        if b == quote {
            if quote == b'\'' && bytes.get(i + 1) == Some(&b'\'') {
                fixed.push_str("''");
                i += 2;
                continue;
            }
            fixed.push_str(&text[i..]);
            return changed.then_some(fixed);
        }
        if b == b'\n' {
            fixed.push('\n');
            i += 1;
            let line = &text[i..];
            let spaces = line.bytes().take_while(|&c| c == b' ').count();
            let marker_line = (line.starts_with("---") || line.starts_with("..."))
                && line[3..].chars().next().is_none_or(char::is_whitespace);
            if spaces < column && !marker_line {
                fixed.extend(std::iter::repeat_n(' ', column - spaces));
                changed = true;
            }
            continue;
        }
        let len = text[i..].chars().next().map_or(1, char::len_utf8);
        fixed.push_str(&text[i..i + len]);
        i += len;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tabs_after_colon_become_spaces() {
        let e = ScanError::new_str(
            Marker::new(3, 1, 3),
            "':' must be followed by a valid YAML whitespace",
        );
        assert_eq!(rewrite("a:\t1\n", &e).as_deref(), Some("a: 1\n"));
        let e = ScanError::new_str(
            Marker::new(2, 1, 2),
            "':' must be followed by a valid YAML whitespace",
        );
        assert_eq!(rewrite("ab1\n", &e), None);
    }

    #[test]
    fn quoted_continuations_are_indented() {
        let text = "b:\n  c: \"x\\\"\ny\"\n";
        let e = ScanError::new_str(Marker::new(8, 2, 5), "invalid indentation in quoted scalar");
        assert_eq!(
            rewrite(text, &e).as_deref(),
            Some("b:\n  c: \"x\\\"\n     y\"\n")
        );
        let text = "b:\n  c: 'it''s\ny'\n";
        assert_eq!(
            rewrite(text, &e).as_deref(),
            Some("b:\n  c: 'it''s\n     y'\n")
        );
    }
}
