//! libyaml's stricter rules that `saphyr-parser` (a YAML 1.2 parser) does not enforce.
//!
//! Psych refuses some documents that saphyr accepts. GitLab shows an error for them, so Gantry
//! checks them on the event stream, looking at the source text where needed:
//!
//! * in flow collections, a plain scalar cannot start with `:` (libyaml takes it as a value
//!   indicator) and `x:` cannot be followed by one of `,?[]{}`;
//! * anchor and alias names are made of ASCII letters, digits, `_` and `-`;
//! * a tab cannot separate a block sequence's `-` from its entry;
//! * the text holds only YAML's printable characters (no C0 or C1 controls but tab and line
//!   breaks, no U+FFFE or U+FFFF);
//! * a line of block context cannot start with a tab (blank and comment lines included), outside
//!   quoted and block scalars and flow collections. libyaml also refuses some tabs that follow
//!   spaces at the start of a line, depending on the indentation; that finer rule is not
//!   reproduced.

use saphyr_parser::{Marker, ScalarStyle, Span};

use crate::text_cursor::TextCursor;

/// A rule broken at a position, with libyaml's message.
pub(crate) type Violation = (Marker, &'static str);

pub(crate) struct LibyamlRules<'a> {
    text: &'a str,
    cursor: TextCursor<'a>,
    /// Whether the text has any tab (most files have none, and then the tab rules cost nothing).
    has_tab: bool,
    /// Byte offsets of the lines that start with a tab.
    tab_lines: Vec<usize>,
    /// Byte ranges of quoted and block scalars and of outermost flow collections.
    protected: Vec<(usize, usize)>,
}

impl<'a> LibyamlRules<'a> {
    pub(crate) fn new(text: &'a str) -> Self {
        let has_tab = text.contains('\t');
        let mut tab_lines = Vec::new();
        if has_tab {
            if text.starts_with('\t') {
                tab_lines.push(0);
            }
            tab_lines.extend(text.match_indices("\n\t").map(|(i, _)| i + 1));
        }
        Self {
            text,
            cursor: TextCursor::new(text),
            has_tab,
            tab_lines,
            protected: Vec::new(),
        }
    }

    /// Whether a collection whose start event has `span` opens a flow collection.
    pub(crate) fn opens_flow(&mut self, span: Span) -> bool {
        span.end.index() > span.start.index()
            && matches!(self.cursor.char_at(span.end.index() - 1), Some('[' | '{'))
    }

    /// Remembers a region where line-starting tabs are allowed.
    pub(crate) fn protect(&mut self, start: Marker, end: Marker) {
        if self.tab_lines.is_empty() {
            return;
        }
        let from = self.cursor.byte_offset(start.index());
        let to = self.cursor.byte_offset(end.index());
        self.protected.push((from, to));
    }

    /// The rules for a plain scalar inside a flow collection.
    pub(crate) fn flow_scalar(
        &mut self,
        value: &str,
        style: ScalarStyle,
        decorated: bool,
        span: Span,
    ) -> Result<(), Violation> {
        if style != ScalarStyle::Plain || value.is_empty() {
            return Ok(());
        }
        if value.starts_with(':') && !decorated {
            return Err((
                span.start,
                "did not find expected node content while parsing a flow node",
            ));
        }
        let end = span.end.index();
        if self.cursor.char_at(end) == Some(':')
            && matches!(
                self.cursor.char_at(end + 1),
                Some(',' | '?' | '[' | ']' | '{' | '}')
            )
        {
            return Err((
                span.start,
                "found unexpected ':' while scanning a plain scalar",
            ));
        }
        Ok(())
    }

    /// The anchor of a node whose event starts at `start` (possibly at its tag).
    pub(crate) fn anchor(&mut self, start: Marker) -> Result<(), Violation> {
        let offset = self.cursor.byte_offset(start.index());
        let mut rest = &self.text[offset..];
        if rest.starts_with('!') {
            let tag_end = rest.find(|c: char| c.is_whitespace()).unwrap_or(rest.len());
            rest = rest[tag_end..].trim_start();
        }
        match rest.strip_prefix('&') {
            Some(name) if !valid_name(name) => Err((
                start,
                "did not find expected alphabetic or numeric character while scanning an anchor",
            )),
            _ => Ok(()),
        }
    }

    /// The name of an alias whose event starts at `start`.
    pub(crate) fn alias(&mut self, start: Marker) -> Result<(), Violation> {
        let offset = self.cursor.byte_offset(start.index());
        match self.text[offset..].strip_prefix('*') {
            Some(name) if !valid_name(name) => Err((
                start,
                "did not find expected alphabetic or numeric character while scanning an alias",
            )),
            _ => Ok(()),
        }
    }

    /// No tab between a block sequence's `-` and the entry starting at `start`.
    pub(crate) fn block_entry(&mut self, start: Marker) -> Result<(), Violation> {
        if !self.has_tab {
            return Ok(());
        }
        let offset = self.cursor.byte_offset(start.index());
        let before = &self.text.as_bytes()[..offset];
        let gap = before
            .iter()
            .rev()
            .take_while(|&&b| b == b' ' || b == b'\t')
            .count();
        let dash = before.len().checked_sub(gap + 1).map(|i| before[i]);
        if dash == Some(b'-') && before[before.len() - gap..].contains(&b'\t') {
            return Err((
                start,
                "found character that cannot start any token while scanning for the next token",
            ));
        }
        Ok(())
    }

    /// After a whole document whose root is a collection: no line starts with a tab outside the
    /// protected regions.
    pub(crate) fn tab_lines(&mut self) -> Result<(), Violation> {
        if self.tab_lines.is_empty() {
            return Ok(());
        }
        self.protected.sort_unstable();
        // `reach[i]`: the furthest end among the first `i + 1` ranges (ranges may nest).
        let reach: Vec<usize> = self
            .protected
            .iter()
            .scan(0, |max, &(_, to)| {
                *max = (*max).max(to);
                Some(*max)
            })
            .collect();
        for &line_start in &self.tab_lines {
            let before = self
                .protected
                .partition_point(|&(from, _)| from < line_start);
            let inside = before > 0 && reach[before - 1] > line_start;
            if !inside {
                let line = self.text[..line_start].matches('\n').count() + 1;
                let index = self.text[..line_start].chars().count();
                return Err((
                    Marker::new(index, line, 0),
                    "found character that cannot start any token while scanning for the next token",
                ));
            }
        }
        Ok(())
    }
}

/// libyaml's reader check: the first character outside YAML's printable set, if any.
pub(crate) fn unprintable(text: &str) -> Option<Violation> {
    let bytes = text.as_bytes();
    let bad = bytes.iter().enumerate().position(|(i, &b)| match b {
        b'\t' | b'\n' | b'\r' | 0x20..=0x7e => false,
        0x00..=0x1f | 0x7f => true,
        // U+0080..U+009F (C1 controls) except U+0085 (next line).
        0xc2 => matches!(bytes.get(i + 1), Some(&c) if (0x80..=0x9f).contains(&c) && c != 0x85),
        // U+FFFE and U+FFFF.
        0xef => bytes.get(i + 1) == Some(&0xbf) && matches!(bytes.get(i + 2), Some(0xbe | 0xbf)),
        _ => false,
    })?;
    let line = text[..bad].matches('\n').count() + 1;
    let line_start = text[..bad].rfind('\n').map_or(0, |n| n + 1);
    let col = text[line_start..bad].chars().count();
    let index = text[..bad].chars().count();
    Some((
        Marker::new(index, line, col),
        "control characters are not allowed",
    ))
}

/// libyaml's anchor names: `[0-9A-Za-z_-]+`, up to a blank or a flow indicator.
fn valid_name(rest: &str) -> bool {
    let name: &str = rest
        .split(|c: char| c.is_whitespace() || matches!(c, ',' | '[' | ']' | '{' | '}'))
        .next()
        .unwrap_or("");
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printable_characters() {
        assert!(unprintable("a: b\tc\r\n\u{85}é\u{a0}🎉\u{feff}").is_none());
        for bad in [
            "\u{0}", "\u{7}", "\u{7f}", "\u{9b}", "\u{80}", "\u{fffe}", "\u{ffff}",
        ] {
            let (marker, _) = unprintable(&format!("a:\n b{bad}")).expect(bad);
            assert_eq!((marker.line(), marker.col()), (2, 2));
        }
    }

    #[test]
    fn names() {
        assert!(valid_name("a-b_C9 rest"));
        assert!(valid_name("x]"));
        assert!(!valid_name("x.y"));
        assert!(!valid_name("é"));
        assert!(!valid_name(" x"));
    }

    #[test]
    fn tab_lines_outside_protected_ranges() {
        let mut rules = LibyamlRules::new("a: \"x\n\ty\"\nb: 1\n\t\n");
        rules.protected.push((3, 9));
        let (marker, _) = rules.tab_lines().unwrap_err();
        assert_eq!(marker.line(), 4);
        let mut rules = LibyamlRules::new("a: \"x\n\ty\"\n");
        rules.protected.push((3, 9));
        assert!(rules.tab_lines().is_ok());
    }
}
