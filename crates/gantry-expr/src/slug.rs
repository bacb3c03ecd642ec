//! The slug algorithm behind `CI_COMMIT_REF_SLUG`, `CI_PROJECT_PATH_SLUG` and `CI_JOB_NAME_SLUG`.

/// Maximum number of characters a slug keeps (before trimming dashes).
pub const SLUG_MAX_CHARS: usize = 63;

/// GitLab's `slugify`: lowercase the string (full Unicode lowercasing, which can add characters,
/// e.g. `İ` becomes `i` plus a combining dot), replace every character that is not `[a-z0-9]`
/// by one `-` (runs are not collapsed), keep the first 63 characters, then strip leading and
/// trailing `-`. Truncation happens before stripping, so the result can be shorter than 63.
pub fn slugify(s: &str) -> String {
    let replaced: String = s
        .to_lowercase()
        .chars()
        .take(SLUG_MAX_CHARS)
        .map(|c| {
            if c.is_ascii_lowercase() || c.is_ascii_digit() {
                c
            } else {
                '-'
            }
        })
        .collect();
    replaced.trim_matches('-').to_owned()
}

#[cfg(test)]
mod tests {
    use super::slugify;

    #[test]
    fn documented_examples() {
        assert_eq!(slugify("v17.2.0-rc42-ee"), "v17-2-0-rc42-ee");
        assert_eq!(slugify("feature/Login-Page"), "feature-login-page");
        assert_eq!(slugify("__x__"), "x");
        assert_eq!(slugify("Ünïcode"), "n-code");
    }

    #[test]
    fn runs_are_not_collapsed() {
        assert_eq!(slugify("a//b"), "a--b");
        assert_eq!(slugify("a b\tc"), "a-b-c");
    }

    #[test]
    fn truncates_to_63_characters_before_trimming() {
        let long = "a".repeat(70);
        assert_eq!(slugify(&long), "a".repeat(63));
        // 62 letters, then a dash at position 63 which is trimmed after truncation.
        let s = format!("{}-{}", "b".repeat(62), "c".repeat(10));
        assert_eq!(slugify(&s), "b".repeat(62));
        // Characters, not bytes: each é is one character and becomes one dash.
        let s = format!("{}{}", "é".repeat(60), "abcdef");
        assert_eq!(slugify(&s), "abc");
    }

    #[test]
    fn unicode_lowercasing_can_add_characters() {
        // İ lowercases to "i" + U+0307, which becomes "i-", then the dash is trimmed.
        assert_eq!(slugify("İ"), "i");
        assert_eq!(slugify("İx"), "i-x");
        // KELVIN SIGN lowercases to an ASCII k.
        assert_eq!(slugify("\u{212A}elvin"), "kelvin");
    }

    #[test]
    fn empty_and_all_dashes() {
        assert_eq!(slugify(""), "");
        assert_eq!(slugify("---"), "");
        assert_eq!(slugify("MAIN"), "main");
        assert_eq!(slugify("123"), "123");
    }
}
