//! The runner's expansion: Go's `os.Expand` with gitlab-runner's variable mapping.
//!
//! `os.Expand` rules (Go's `getShellName`), applied left to right over bytes:
//!
//! * `$` as the last character is kept;
//! * `${name}` names anything up to the first `}` (`${a b}` looks up `a b`); `${}` and an unclosed
//!   `${` are invalid syntax and are removed (`a${}b` gives `ab`, `a${b` gives `ab`);
//! * `${c}` and `$c` where `c` is one of `*#$@!?-0123456789` name that single character
//!   (`$12` is `$1` followed by `2`);
//! * otherwise the name is the longest run of `[A-Za-z0-9_]`; if that run is empty (`$%`, `$ `,
//!   `$é`) the `$` is kept and the next character is copied normally.
//!
//! gitlab-runner's mapping: `$` gives `$` (so `$$` becomes `$`), `* # @ ! ?` and the digits give
//! the empty string, anything else is the variable's value or empty when it is not defined.

use std::borrow::Cow;

fn is_special(b: u8) -> bool {
    matches!(
        b,
        b'*' | b'#' | b'$' | b'@' | b'!' | b'?' | b'-' | b'0'..=b'9'
    )
}

fn is_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// Go's `getShellName` on `s` (non-empty, the text after a `$`): the name and how many bytes it
/// used. An empty name with a non-zero width is invalid syntax that is dropped.
fn shell_name(s: &str) -> (&str, usize) {
    let b = s.as_bytes();
    if b[0] == b'{' {
        if b.len() > 2 && is_special(b[1]) && b[2] == b'}' {
            return (&s[1..2], 3);
        }
        return match b[1..].iter().position(|&c| c == b'}') {
            Some(0) => ("", 2),
            Some(p) => (&s[1..=p], p + 2),
            None => ("", 1),
        };
    }
    if is_special(b[0]) {
        return (&s[..1], 1);
    }
    let n = b.iter().take_while(|&&c| is_name_byte(c)).count();
    (&s[..n], n)
}

/// Go's `os.Expand`, with `mapping` appending the replacement of a name.
pub(crate) fn go_expand(s: &str, mut mapping: impl FnMut(&str, &mut String)) -> Cow<'_, str> {
    let bytes = s.as_bytes();
    let mut out: Option<String> = None;
    let mut i = 0;
    let mut j = 0;
    while j < bytes.len() {
        if bytes[j] == b'$' && j + 1 < bytes.len() {
            let buf = out.get_or_insert_with(|| String::with_capacity(s.len() * 2));
            buf.push_str(&s[i..j]);
            let (name, width) = shell_name(&s[j + 1..]);
            if name.is_empty() && width > 0 {
                // Invalid syntax: eat the characters.
            } else if name.is_empty() {
                buf.push('$');
            } else {
                mapping(name, buf);
            }
            j += width;
            i = j + 1;
        }
        j += 1;
    }
    match out {
        None => Cow::Borrowed(s),
        Some(mut buf) => {
            buf.push_str(&s[i..]);
            Cow::Owned(buf)
        }
    }
}

/// Expands `$X` and `${X}` once, as gitlab-runner does for `image`, `services`, `cache:key`,
/// `artifacts:name` and variable values: unknown names become empty, `$$` becomes `$`, the shell
/// specials `$*`, `$#`, `$@`, `$!`, `$?`, `$0`–`$9` become empty. `lookup` gives a variable's value
/// (`None` when undefined); a file variable should be looked up as its file's path.
pub fn expand_runner<F, S>(s: &str, lookup: F) -> String
where
    F: Fn(&str) -> Option<S>,
    S: AsRef<str>,
{
    go_expand(s, |name, out| match name {
        "$" => out.push('$'),
        "*" | "#" | "@" | "!" | "?" | "0" | "1" | "2" | "3" | "4" | "5" | "6" | "7" | "8" | "9" => {
        }
        _ => {
            if let Some(value) = lookup(name) {
                out.push_str(value.as_ref());
            }
        }
    })
    .into_owned()
}

#[cfg(test)]
mod tests {
    use super::expand_runner;

    fn exp(s: &str) -> String {
        expand_runner(s, |name| match name {
            "A" => Some("alpha"),
            "B_2" => Some("beta"),
            "a b" => Some("spaced"),
            "10" => Some("ten"),
            "-" => Some("dash"),
            "EMPTY" => Some(""),
            _ => None,
        })
    }

    #[test]
    fn plain_and_braced_names() {
        assert_eq!(exp("$A"), "alpha");
        assert_eq!(exp("${A}"), "alpha");
        assert_eq!(exp("x$A-y"), "xalpha-y");
        assert_eq!(exp("${A}x"), "alphax");
        assert_eq!(exp("$Ax"), "");
        assert_eq!(exp("$B_2/$A"), "beta/alpha");
        assert_eq!(exp("${a b}"), "spaced");
        assert_eq!(exp("$EMPTY."), ".");
        assert_eq!(exp("no dollars"), "no dollars");
    }

    #[test]
    fn unknown_names_are_empty() {
        assert_eq!(exp("[$NOPE]"), "[]");
        assert_eq!(exp("[${NOPE}]"), "[]");
    }

    #[test]
    fn dollar_dollar_is_a_dollar() {
        assert_eq!(exp("$$"), "$");
        assert_eq!(exp("$$A"), "$A");
        assert_eq!(exp("${$}"), "$");
        assert_eq!(exp("$$$$"), "$$");
    }

    #[test]
    fn shell_specials_are_empty() {
        for special in ["*", "#", "@", "!", "?", "0", "1", "5", "9"] {
            assert_eq!(exp(&format!("<${special}>")), "<>", "${special}");
            assert_eq!(exp(&format!("<${{{special}}}>")), "<>", "${{{special}}}");
        }
        assert_eq!(exp("$12"), "2", "only one digit is special");
        assert_eq!(exp("${10}"), "ten", "braces name the whole run");
        // `-` is special for the parser but not in the runner's mapping: it is looked up.
        assert_eq!(exp("$-"), "dash");
        assert_eq!(expand_runner("$-", |_| None::<&str>), "");
    }

    #[test]
    fn dollar_before_an_invalid_character_is_kept() {
        assert_eq!(exp("$"), "$");
        assert_eq!(exp("a$"), "a$");
        assert_eq!(exp("$%"), "$%");
        assert_eq!(exp("$ A"), "$ A");
        assert_eq!(exp("$é"), "$é");
        assert_eq!(exp("$/A"), "$/A");
        assert_eq!(exp("100$."), "100$.");
    }

    #[test]
    fn invalid_brace_syntax_is_eaten() {
        assert_eq!(exp("a${}b"), "ab");
        assert_eq!(exp("a${b"), "ab");
        assert_eq!(exp("a${"), "a");
        assert_eq!(exp("${A"), "A");
    }

    #[test]
    fn one_pass_only() {
        let out = expand_runner("$X", |name| (name == "X").then_some("$A"));
        assert_eq!(out, "$A");
    }
}
