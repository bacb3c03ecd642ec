//! Snapshot filters: replace what changes from run to run with stable placeholders.

use std::path::Path;
use std::sync::OnceLock;

use regex::Regex;

/// Replaces, in order: temp paths (`/tmp/.tmpAbC123/repo/x` ⇒ `[TMP]/repo/x`), timestamps
/// (`2024-01-01T00:00:00Z` ⇒ `[TIMESTAMP]`, `12:03:04` ⇒ `[TIME]`), SHA-256 digests
/// (`sha256:<64 hex>` ⇒ `sha256:[DIGEST]`, bare 64 hex ⇒ `[SHA256]`), 40-hex SHAs (⇒ `[SHA]`) and
/// durations (`0.12s`, `12ms`, `521 ms`, `1m30s` ⇒ `[DURATION]`).
///
/// ```
/// use gantry_test_support::redact;
///
/// let text = format!(
///     "{}/x/log at 2024-01-01T00:00:00Z: job done in 0.12s (12ms), commit {}",
///     std::env::temp_dir().join(".tmpAbC123").display(),
///     "f2dcf082a8b18106e00747864d2f1edae02e8752",
/// );
/// assert_eq!(
///     redact(&text),
///     "[TMP]/x/log at [TIMESTAMP]: job done in [DURATION] ([DURATION]), commit [SHA]"
/// );
/// ```
pub fn redact(text: &str) -> String {
    static DEFAULT: OnceLock<Redactor> = OnceLock::new();
    DEFAULT.get_or_init(Redactor::new).redact(text)
}

/// A configurable [`redact`]: your own rules run first, then the standard ones.
///
/// ```
/// use gantry_test_support::Redactor;
///
/// let r = Redactor::new().path("/work/project", "[PROJECT]").rule(r"pid \d+", "pid [PID]");
/// assert_eq!(r.redact("/work/project/a (pid 42) took 3ms"), "[PROJECT]/a (pid [PID]) took [DURATION]");
/// ```
#[derive(Debug, Clone)]
pub struct Redactor {
    custom: Vec<(Regex, String)>,
    standard: bool,
}

impl Default for Redactor {
    fn default() -> Self {
        Self::new()
    }
}

impl Redactor {
    /// The standard rules (those of [`redact`]).
    pub fn new() -> Self {
        Self {
            custom: Vec::new(),
            standard: true,
        }
    }

    /// No rules at all; add your own.
    pub fn empty() -> Self {
        Self {
            custom: Vec::new(),
            standard: false,
        }
    }

    /// Replaces the literal `path` (and its canonical form, if different) with `replacement`.
    #[must_use]
    pub fn path(mut self, path: impl AsRef<Path>, replacement: &str) -> Self {
        let path = path.as_ref();
        let mut forms = vec![path.to_path_buf()];
        if let Ok(c) = path.canonicalize()
            && c != path
        {
            forms.push(c);
        }
        for p in forms {
            let s = p.to_string_lossy();
            let s = s.trim_end_matches('/');
            if s.is_empty() {
                continue;
            }
            let re = Regex::new(&regex::escape(s)).expect("escaped path is a valid regex");
            self.custom.push((re, replacement.to_owned()));
        }
        self
    }

    /// Adds a regex rule (`regex` crate syntax; `$1`-style groups allowed in `replacement`).
    #[must_use]
    pub fn rule(mut self, regex: &str, replacement: &str) -> Self {
        let re = Regex::new(regex).unwrap_or_else(|e| panic!("Redactor::rule: bad regex: {e}"));
        self.custom.push((re, replacement.to_owned()));
        self
    }

    /// Applies the rules in order.
    pub fn redact(&self, text: &str) -> String {
        let mut out = text.to_owned();
        let standard = if self.standard { standard_rules() } else { &[] };
        for (re, rep) in self.custom.iter().chain(standard) {
            if let std::borrow::Cow::Owned(s) = re.replace_all(&out, rep.as_str()) {
                out = s;
            }
        }
        out
    }
}

/// The standard rules as `(regex, replacement)` pairs, in order, for
/// `insta::Settings::add_filter`.
pub fn insta_filters() -> Vec<(String, String)> {
    standard_rules()
        .iter()
        .map(|(re, rep)| (re.as_str().to_owned(), rep.clone()))
        .collect()
}

fn standard_rules() -> &'static [(Regex, String)] {
    static RULES: OnceLock<Vec<(Regex, String)>> = OnceLock::new();
    RULES.get_or_init(|| {
        let mut pairs: Vec<(String, &str)> = Vec::new();
        for root in temp_roots() {
            // The first component below the temp root is the random part.
            pairs.push((
                format!(r#"{}/[^/\s"':,;)\]]+"#, regex::escape(&root)),
                "[TMP]",
            ));
        }
        pairs.extend([
            (
                r"\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?(?:Z|[+-]\d{2}:?\d{2}|\s?UTC)?"
                    .to_owned(),
                "[TIMESTAMP]",
            ),
            (r"\b\d{2}:\d{2}:\d{2}(?:\.\d+)?\b".to_owned(), "[TIME]"),
            (r"sha256:[0-9a-f]{64}\b".to_owned(), "sha256:[DIGEST]"),
            (r"\b[0-9a-f]{64}\b".to_owned(), "[SHA256]"),
            (r"\b[0-9a-f]{40}\b".to_owned(), "[SHA]"),
            // Not inside a word or a name such as `build-2s` or `v1.2s`.
            (
                r"(^|[^\w.\-/])(?:\d+h ?)?(?:\d+m ?)?\d+(?:\.\d+)? ?(?:ns|µs|us|ms|s|secs?|seconds?|min|minutes?|m|h)\b"
                    .to_owned(),
                "${1}[DURATION]",
            ),
        ]);
        pairs
            .into_iter()
            .map(|(re, rep)| (Regex::new(&re).expect("standard rule"), rep.to_owned()))
            .collect()
    })
}

/// The temp directory, its canonical form and `/tmp`, longest first so the most specific matches.
fn temp_roots() -> Vec<String> {
    let tmp = std::env::temp_dir();
    let mut roots = vec![tmp.to_string_lossy().into_owned()];
    if let Ok(c) = tmp.canonicalize() {
        roots.push(c.to_string_lossy().into_owned());
    }
    roots.push("/tmp".to_owned());
    let mut roots: Vec<String> = roots
        .into_iter()
        .map(|r| r.trim_end_matches('/').to_owned())
        .filter(|r| !r.is_empty())
        .collect();
    roots.sort_by_key(|r| std::cmp::Reverse(r.len()));
    roots.dedup();
    roots
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        for d in [
            "0.12s", "12ms", "521 ms", "3s", "1m30s", "2m 3s", "1h2m3s", "12µs", "40ns", "1.5 s",
        ] {
            assert_eq!(redact(&format!("took {d}.")), "took [DURATION].", "{d}");
        }
        for keep in [
            "3 stages", "5 jobs", "s1", "job-1-2s", "v1.2.3", "x86_64", "10 items",
        ] {
            assert_eq!(redact(keep), keep);
        }
    }

    #[test]
    fn shas_and_digests() {
        let sha = "0123456789abcdef0123456789abcdef01234567";
        assert_eq!(redact(&format!("at {sha}\n")), "at [SHA]\n");
        let digest = format!("sha256:{sha}{}", &sha[..24]);
        assert_eq!(redact(&digest), "sha256:[DIGEST]");
        // Not 40 hex: left alone.
        assert_eq!(redact("abc1234"), "abc1234");
        assert_eq!(redact(&format!("{sha}0")), format!("{sha}0"));
    }

    #[test]
    fn timestamps() {
        assert_eq!(
            redact("2024-01-01T00:00:00Z 2026-11-22 12:03:04.123+01:00 at 09:15:00"),
            "[TIMESTAMP] [TIMESTAMP] at [TIME]"
        );
    }

    #[test]
    fn temp_paths() {
        let t = std::env::temp_dir().join(".tmpXyZ987");
        let text = format!("'{}/repo/.gitlab-ci.yml': bad", t.display());
        assert_eq!(redact(&text), "'[TMP]/repo/.gitlab-ci.yml': bad");
        assert_eq!(redact("/tmp/gantry-git-abc/repo"), "[TMP]/repo");
    }

    #[test]
    fn custom_rules_run_first() {
        let r = Redactor::new().path("/tmp/gantry-git-abc/repo", "[REPO]");
        assert_eq!(r.redact("/tmp/gantry-git-abc/repo/x"), "[REPO]/x");
        let r = Redactor::empty().rule("a+", "A");
        assert_eq!(r.redact("caaab 3s"), "cAb 3s");
    }

    #[test]
    fn filters_for_insta_compile() {
        let f = insta_filters();
        assert!(f.len() >= 6);
        for (re, _) in f {
            Regex::new(&re).unwrap();
        }
    }
}
