//! GitLab's textual split of a file into YAML documents.
//!
//! GitLab does not let the YAML parser find documents: it splits the text with the regular
//! expression `/^---\s+/` (a line starting with `---`, and all the whitespace after it, line
//! breaks included) and loads every piece on its own. A `---` at the very end of the text also
//! ends a piece here. Pieces made only of whitespace are dropped. Each piece remembers where it
//! starts so that positions inside it can be mapped back to the file.

/// One piece of the file, loaded as one document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Piece<'a> {
    pub text: &'a str,
    /// 1-based line of the file on which the piece starts.
    pub line: u32,
    /// 0-based column (in characters) of the piece's first character on that line.
    pub column: u32,
}

/// Ruby's `\s`.
fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// Keeps a piece unless it is only whitespace.
fn push<'a>(pieces: &mut Vec<Piece<'a>>, text: &'a str, line: u32, column: u32) {
    if !text.bytes().all(is_space) {
        pieces.push(Piece { text, line, column });
    }
}

/// Splits `text` on divider lines; whitespace-only pieces are dropped.
pub(crate) fn split_documents(text: &str) -> Vec<Piece<'_>> {
    let bytes = text.as_bytes();
    let mut pieces = Vec::new();
    let mut start = 0;
    let mut start_line: u32 = 1;
    let mut start_column: u32 = 0;
    let mut line_start = 0;
    let mut line: u32 = 1;
    loop {
        let rest = &bytes[line_start..];
        let is_divider = rest.starts_with(b"---") && rest.get(3).is_none_or(|&b| is_space(b));
        if is_divider {
            push(
                &mut pieces,
                &text[start..line_start],
                start_line,
                start_column,
            );
            // Consume `---` and all following whitespace, tracking lines.
            let mut i = line_start + 3;
            let mut column_start = line_start;
            while i < bytes.len() && is_space(bytes[i]) {
                if bytes[i] == b'\n' {
                    line += 1;
                    column_start = i + 1;
                }
                i += 1;
            }
            start = i;
            start_line = line;
            start_column = u32::try_from(i - column_start).unwrap_or(u32::MAX);
            line_start = if column_start > line_start {
                column_start
            } else {
                // Still on the divider line: the next line start is after its line break.
                match text[i..].find('\n') {
                    Some(n) => {
                        line += 1;
                        i + n + 1
                    }
                    None => bytes.len(),
                }
            };
            // `column_start` may be the start of a line that itself begins the piece; that line
            // start must still be checked for a divider, which the loop does next.
            if line_start >= bytes.len() {
                break;
            }
            continue;
        }
        match text[line_start..].find('\n') {
            Some(n) => {
                line_start += n + 1;
                line += 1;
                if line_start >= bytes.len() {
                    break;
                }
            }
            None => break,
        }
    }
    push(&mut pieces, &text[start..], start_line, start_column);
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(s: &str) -> Vec<(&str, u32, u32)> {
        split_documents(s)
            .into_iter()
            .map(|p| (p.text, p.line, p.column))
            .collect()
    }

    #[test]
    fn single_document() {
        assert_eq!(texts("a: 1\n"), vec![("a: 1\n", 1, 0)]);
        assert_eq!(texts(""), vec![]);
        assert_eq!(texts("  \n\n"), vec![]);
        assert_eq!(texts("# c\n"), vec![("# c\n", 1, 0)]);
    }

    #[test]
    fn header_and_content() {
        assert_eq!(
            texts("spec:\n  inputs:\n---\na: 1\n"),
            vec![("spec:\n  inputs:\n", 1, 0), ("a: 1\n", 4, 0)]
        );
        assert_eq!(texts("---\na: 1\n"), vec![("a: 1\n", 2, 0)]);
        assert_eq!(texts("--- \n\n\nb: 2\n---"), vec![("b: 2\n", 4, 0)]);
    }

    #[test]
    fn divider_rest_of_line_starts_the_piece() {
        assert_eq!(texts("---   a: 1\n"), vec![("a: 1\n", 1, 6)]);
        assert_eq!(texts("--- |\n  x\n"), vec![("|\n  x\n", 1, 4)]);
    }

    #[test]
    fn not_dividers() {
        assert_eq!(texts("a: 1\n----\nb\n"), vec![("a: 1\n----\nb\n", 1, 0)]);
        assert_eq!(texts("a: 1\n ---\n"), vec![("a: 1\n ---\n", 1, 0)]);
        assert_eq!(texts("a: ---\n"), vec![("a: ---\n", 1, 0)]);
        assert_eq!(texts("---x\n"), vec![("---x\n", 1, 0)]);
    }

    #[test]
    fn consecutive_dividers() {
        assert_eq!(
            texts("a\n---\n---\nb\n--- \nc"),
            vec![("a\n", 1, 0), ("b\n", 4, 0), ("c", 6, 0)]
        );
        assert_eq!(
            texts("a\r\n---\r\nb\r\n"),
            vec![("a\r\n", 1, 0), ("b\r\n", 3, 0)]
        );
    }
}
