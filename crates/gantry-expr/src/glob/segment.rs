//! Path-segment matching shared by the fnmatch and doublestar dialects: a pattern is a list of
//! tokens (`*`, `?`, classes, literals, separators) cut into `/`-separated segments; a segment
//! that is exactly `**` becomes "any number of directories" (or, at the end of a doublestar
//! pattern, "everything below").

/// One item of a character class.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ClassItem {
    Char(char),
    /// Inclusive range. Dialect quirks for reversed ranges are encoded by the parsers, which add
    /// the endpoints that match on their own as separate `Char` items.
    Range(char, char),
}

/// A bracket expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Class {
    pub(crate) negated: bool,
    pub(crate) items: Vec<ClassItem>,
}

impl Class {
    fn matches(&self, c: char) -> bool {
        let hit = self.items.iter().any(|item| match *item {
            ClassItem::Char(x) => x == c,
            ClassItem::Range(lo, hi) => lo <= c && c <= hi,
        });
        hit != self.negated
    }
}

/// A pattern token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Tok {
    Lit(char),
    /// `*`: any run of characters within a segment.
    Star,
    /// `?`: one character.
    One,
    Class(Class),
    /// Path separator.
    Sep,
}

/// The part of a pattern between separators.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SegmentPattern {
    toks: Vec<Tok>,
    literal: Option<String>,
}

impl SegmentPattern {
    fn new(toks: Vec<Tok>) -> Self {
        let literal = toks
            .iter()
            .map(|t| match t {
                Tok::Lit(c) => Some(*c),
                _ => None,
            })
            .collect::<Option<String>>();
        SegmentPattern { toks, literal }
    }

    /// The literal text, when the segment has no wildcard.
    pub(crate) fn literal(&self) -> Option<&str> {
        self.literal.as_deref()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.toks.is_empty()
    }

    /// Whether the segment matches `name` entirely (`name` contains no separator).
    /// Classic wildcard matching with one backtrack point (the last `*`), which is complete for
    /// `*`, `?` and classes.
    pub(crate) fn matches(&self, name: &str) -> bool {
        if let Some(lit) = &self.literal {
            return lit == name;
        }
        let toks = &self.toks;
        let (mut ti, mut si) = (0usize, 0usize);
        let mut star: Option<(usize, usize)> = None;
        loop {
            let next = name[si..].chars().next();
            if ti < toks.len() {
                let advanced = match (&toks[ti], next) {
                    (Tok::Star, _) => {
                        star = Some((ti + 1, si));
                        ti += 1;
                        continue;
                    }
                    (Tok::Lit(c), Some(n)) => *c == n,
                    (Tok::One, Some(_)) => true,
                    (Tok::Class(class), Some(n)) => class.matches(n),
                    _ => false,
                };
                if advanced {
                    ti += 1;
                    si += next.map_or(0, char::len_utf8);
                    continue;
                }
            } else if next.is_none() {
                return true;
            }
            match star {
                Some((resume, from)) if from < name.len() => {
                    let from = from + name[from..].chars().next().map_or(1, char::len_utf8);
                    star = Some((resume, from));
                    ti = resume;
                    si = from;
                }
                _ => return false,
            }
        }
    }
}

/// A pattern segment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Segment {
    Pattern(SegmentPattern),
    /// `**/`: zero or more directories.
    AnyDirs,
    /// A doublestar pattern's final `**`: the rest of the path, whatever it is (even nothing).
    Rest,
}

impl Segment {
    fn is_empty_pattern(&self) -> bool {
        matches!(self, Segment::Pattern(p) if p.is_empty())
    }
}

/// Cuts tokens into segments. A segment made of exactly two `*` becomes [`Segment::AnyDirs`] when
/// another segment follows; at the end it is [`Segment::Rest`] if `final_doublestar_is_rest`,
/// else an ordinary segment (where `**` is just `*`).
pub(crate) fn segments(toks: Vec<Tok>, final_doublestar_is_rest: bool) -> Vec<Segment> {
    let mut parts: Vec<Vec<Tok>> = vec![Vec::new()];
    for tok in toks {
        if tok == Tok::Sep {
            parts.push(Vec::new());
        } else if let Some(last) = parts.last_mut() {
            last.push(tok);
        }
    }
    let count = parts.len();
    parts
        .into_iter()
        .enumerate()
        .map(|(i, part)| {
            let doublestar = part.len() == 2 && part.iter().all(|t| *t == Tok::Star);
            if doublestar && i + 1 < count {
                Segment::AnyDirs
            } else if doublestar && final_doublestar_is_rest {
                Segment::Rest
            } else {
                Segment::Pattern(SegmentPattern::new(part))
            }
        })
        .collect()
}

/// Whether `path` (split on `/`) matches the segments.
///
/// `**/` keeps one backtrack point (the most recent), like both Ruby's `fnmatch` and Go's
/// doublestar; since it can absorb any number of segments this finds a match whenever one exists.
/// `zero_length_dirs` enables doublestar's special case: when the path ends right before a
/// remaining `/**/`, the pattern still matches (`a/**/` matches `a`).
pub(crate) fn match_segments(segs: &[Segment], path: &str, zero_length_dirs: bool) -> bool {
    let names: Vec<&str> = path.split('/').collect();
    let (mut pi, mut ni) = (0usize, 0usize);
    let mut backtrack: Option<(usize, usize)> = None;
    loop {
        if zero_length_dirs
            && ni == names.len()
            && segs.len() == pi + 2
            && segs[pi] == Segment::AnyDirs
            && segs[pi + 1].is_empty_pattern()
        {
            return true;
        }
        if pi < segs.len() {
            match &segs[pi] {
                Segment::AnyDirs => {
                    pi += 1;
                    backtrack = Some((pi, ni));
                    continue;
                }
                Segment::Rest => return true,
                Segment::Pattern(p) => {
                    if ni < names.len() && p.matches(names[ni]) {
                        pi += 1;
                        ni += 1;
                        continue;
                    }
                }
            }
        } else if ni == names.len() {
            return true;
        }
        match backtrack {
            Some((resume, from)) if from + 1 < names.len() => {
                backtrack = Some((resume, from + 1));
                pi = resume;
                ni = from + 1;
            }
            _ => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seg(s: &str) -> SegmentPattern {
        SegmentPattern::new(
            s.chars()
                .map(|c| match c {
                    '*' => Tok::Star,
                    '?' => Tok::One,
                    c => Tok::Lit(c),
                })
                .collect(),
        )
    }

    #[test]
    fn wildcards_within_a_segment() {
        assert!(seg("*").matches(""));
        assert!(seg("*").matches(".hidden"));
        assert!(seg("a*b").matches("ab"));
        assert!(seg("a*b").matches("axxb"));
        assert!(!seg("a*b").matches("axxbc"));
        assert!(seg("*.md").matches("README.md"));
        assert!(seg("*a*b*").matches("xxaxxbxx"));
        assert!(!seg("*a*b").matches("xa"));
        assert!(seg("?").matches("é"));
        assert!(!seg("?").matches(""));
        assert!(!seg("??").matches("a"));
        assert!(seg("a?c").matches("abc"));
        assert!(seg("lit").matches("lit"));
        assert!(!seg("lit").matches("lite"));
    }

    #[test]
    fn classes() {
        let class = Class {
            negated: false,
            items: vec![ClassItem::Range('a', 'c'), ClassItem::Char('x')],
        };
        assert!(class.matches('b'));
        assert!(class.matches('x'));
        assert!(!class.matches('d'));
        let negated = Class {
            negated: true,
            ..class
        };
        assert!(negated.matches('d'));
        assert!(!negated.matches('a'));
    }
}
