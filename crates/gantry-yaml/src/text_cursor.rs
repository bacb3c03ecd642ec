//! Finds characters of the source by the parser's character index, in amortised linear time.

/// Parser markers count characters; the text is indexed by bytes. Markers mostly move forward,
/// so the cursor remembers where it last was and walks from there.
pub(crate) struct TextCursor<'a> {
    text: &'a str,
    char_index: usize,
    byte_index: usize,
}

impl<'a> TextCursor<'a> {
    pub(crate) fn new(text: &'a str) -> Self {
        Self {
            text,
            char_index: 0,
            byte_index: 0,
        }
    }

    /// The byte offset of character `index` (the text's length past its end).
    pub(crate) fn byte_offset(&mut self, index: usize) -> usize {
        if index < self.char_index {
            self.char_index = 0;
            self.byte_index = 0;
        }
        let rest = &self.text[self.byte_index..];
        let ahead = index - self.char_index;
        let delta = rest
            .char_indices()
            .nth(ahead)
            .map_or(rest.len(), |(offset, _)| offset);
        self.char_index = index;
        self.byte_index += delta;
        self.byte_index
    }

    /// The character at character index `index`.
    pub(crate) fn char_at(&mut self, index: usize) -> Option<char> {
        let offset = self.byte_offset(index);
        self.text[offset..].chars().next()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walks_both_ways() {
        let mut c = TextCursor::new("aé🎉b");
        assert_eq!(c.char_at(3), Some('b'));
        assert_eq!(c.char_at(1), Some('é'));
        assert_eq!(c.char_at(2), Some('🎉'));
        assert_eq!(c.byte_offset(3), 7);
        assert_eq!(c.char_at(4), None);
        assert_eq!(c.char_at(0), Some('a'));
    }
}
