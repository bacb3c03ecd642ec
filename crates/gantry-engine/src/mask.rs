//! `Masker`: replaces secret values (masked variables, the job token, well-known token prefixes
//! and secret URL parameters) by `[MASKED]` in log bytes.

const MASK: &[u8] = b"[MASKED]";

/// Token prefixes the runner always masks, keeping the prefix (`glpat-[MASKED]`).
const TOKEN_PREFIXES: &[&str] = &[
    "glpat-",
    "gloas-",
    "gldt-",
    "glrt-",
    "glcbt-",
    "glrtr-",
    "glptt-",
    "glft-",
    "glimt-",
    "glagent-",
    "glsoat-",
    "glffct-",
    "gltok-",
    "_gitlab_session=",
];

/// URL query parameters whose values the runner masks.
const URL_PARAMS: &[&str] = &[
    "private_token=",
    "authenticity_token=",
    "rss_token=",
    "X-Amz-Signature=",
    "X-Amz-Credential=",
    "X-Amz-Security-Token=",
];

/// Masks secrets in byte strings.
#[derive(Clone, Debug, Default)]
pub(crate) struct Masker {
    /// Longest first, so a value containing another is masked whole.
    values: Vec<Vec<u8>>,
}

impl Masker {
    /// A masker for these values (empty ones are ignored).
    pub(crate) fn new<I, S>(values: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut values: Vec<Vec<u8>> = values
            .into_iter()
            .map(|v| v.as_ref().as_bytes().to_vec())
            .filter(|v| !v.is_empty())
            .collect();
        values.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
        values.dedup();
        Self { values }
    }

    /// Length of the longest masked value (how much of an unfinished write must be held back).
    pub(crate) fn max_len(&self) -> usize {
        self.values.first().map_or(0, Vec::len)
    }

    /// Masks a complete piece of text (a whole line).
    pub(crate) fn mask(&self, input: &[u8]) -> Vec<u8> {
        let (mut out, consumed) = self.mask_values(input, input.len());
        out.extend_from_slice(&input[consumed..]);
        mask_token_patterns(&out)
    }

    /// Masks the start of `input`, an unfinished stream piece: returns the masked output and how
    /// many input bytes it covers. Bytes that could begin a value continuing in the next write are
    /// left for later (at most `max_len() - 1` of them).
    pub(crate) fn mask_prefix(&self, input: &[u8]) -> (Vec<u8>, usize) {
        let hold = self.max_len().saturating_sub(1);
        let safe = input.len().saturating_sub(hold);
        let (out, consumed) = self.mask_values(input, safe);
        (mask_token_patterns(&out), consumed)
    }

    /// Replaces values starting before `limit`; returns output and the consumed length (≥ limit
    /// when a match straddles it).
    fn mask_values(&self, input: &[u8], limit: usize) -> (Vec<u8>, usize) {
        let mut out = Vec::with_capacity(input.len());
        let mut i = 0;
        let mut plain_from = 0;
        while i < limit {
            let matched = self
                .values
                .iter()
                .find(|v| input[i..].starts_with(v))
                .map(Vec::len);
            if let Some(len) = matched {
                out.extend_from_slice(&input[plain_from..i]);
                out.extend_from_slice(MASK);
                i += len;
                plain_from = i;
            } else {
                i += 1;
            }
        }
        let end = i.max(limit).min(input.len());
        out.extend_from_slice(&input[plain_from..end]);
        (out, end)
    }
}

/// Masks the characters following a token prefix or a secret URL parameter.
fn mask_token_patterns(input: &[u8]) -> Vec<u8> {
    let mut out = input.to_vec();
    for prefix in TOKEN_PREFIXES {
        out = mask_after(&out, prefix.as_bytes(), is_token_byte);
    }
    for param in URL_PARAMS {
        out = mask_after(&out, param.as_bytes(), is_param_byte);
    }
    out
}

fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.')
}

fn is_param_byte(b: u8) -> bool {
    !b.is_ascii_whitespace() && !matches!(b, b'&' | b'"' | b'\'' | b'#' | 0x1b)
}

fn mask_after(input: &[u8], prefix: &[u8], keep: fn(u8) -> bool) -> Vec<u8> {
    if input.len() < prefix.len() || !contains(input, prefix) {
        return input.to_vec();
    }
    let mut out = Vec::with_capacity(input.len());
    let mut i = 0;
    while i < input.len() {
        if input[i..].starts_with(prefix) {
            let start = i + prefix.len();
            let mut end = start;
            while end < input.len() && keep(input[end]) {
                end += 1;
            }
            out.extend_from_slice(prefix);
            if end > start && &input[start..end] != MASK {
                out.extend_from_slice(MASK);
            } else {
                out.extend_from_slice(&input[start..end]);
            }
            i = end;
        } else {
            out.push(input[i]);
            i += 1;
        }
    }
    out
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_values_longest_first() {
        let m = Masker::new(["secret", "secret123"]);
        assert_eq!(
            m.mask(b"a secret123 b secret\n"),
            b"a [MASKED] b [MASKED]\n"
        );
    }

    #[test]
    fn holds_back_possible_value_start() {
        let m = Masker::new(["secret123"]);
        let (out, used) = m.mask_prefix(b"hello sec");
        assert_eq!(out, b"h");
        assert_eq!(used, 1);
        let (out, used) = m.mask_prefix(b"xx secret123yyyyyyyyyy");
        assert_eq!(out, b"xx [MASKED]yy");
        assert_eq!(used, 14);
    }

    #[test]
    fn masks_token_prefixes() {
        let m = Masker::new(Vec::<String>::new());
        assert_eq!(
            m.mask(b"tok glpat-abc_DEF-123 end"),
            b"tok glpat-[MASKED] end".to_vec()
        );
        assert_eq!(
            m.mask(b"https://x/y?private_token=abc&z=1"),
            b"https://x/y?private_token=[MASKED]&z=1".to_vec()
        );
    }
}
