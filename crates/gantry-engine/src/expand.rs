//! Runner-side variable expansion with Go's `os.Expand` semantics: `$NAME` and `${NAME}`, unknown
//! names expand to nothing, `$$` is `$`, shell specials (`$1`, `$*`, `$?`, ...) expand to nothing.

/// Expands `$NAME`/`${NAME}` in `input` using `lookup`.
pub(crate) fn expand<'a>(input: &str, lookup: impl Fn(&str) -> Option<&'a str>) -> String {
    if !input.contains('$') {
        return input.to_owned();
    }
    let bytes = input.as_bytes();
    let mut out = String::with_capacity(input.len());
    let mut plain_from = 0;
    let mut j = 0;
    while j < bytes.len() {
        if bytes[j] == b'$' && j + 1 < bytes.len() {
            out.push_str(&input[plain_from..j]);
            let (name, width) = shell_name(&input[j + 1..]);
            match name {
                None if width > 0 => {} // bad syntax: eat it
                None | Some("$") => out.push('$'),
                Some(name) => out.push_str(lookup(name).unwrap_or("")),
            }
            j += width + 1;
            plain_from = j;
        } else {
            j += 1;
        }
    }
    out.push_str(&input[plain_from..]);
    out
}

fn is_special(b: u8) -> bool {
    matches!(b, b'*' | b'#' | b'$' | b'@' | b'!' | b'?' | b'-') || b.is_ascii_digit()
}

/// The name after a `$` and how many bytes it spans (Go's `getShellName`).
fn shell_name(s: &str) -> (Option<&str>, usize) {
    let b = s.as_bytes();
    if b[0] == b'{' {
        if b.len() > 2 && is_special(b[1]) && b[2] == b'}' {
            return (Some(&s[1..2]), 3);
        }
        for (i, &c) in b.iter().enumerate().skip(1) {
            if c == b'}' {
                if i == 1 {
                    return (None, 2);
                }
                return (Some(&s[1..i]), i + 1);
            }
        }
        return (None, 1);
    }
    if is_special(b[0]) {
        return (Some(&s[0..1]), 1);
    }
    let len = b
        .iter()
        .take_while(|c| c.is_ascii_alphanumeric() || **c == b'_')
        .count();
    if len == 0 {
        (None, 0)
    } else {
        (Some(&s[..len]), len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup(name: &str) -> Option<&'static str> {
        match name {
            "A" => Some("x"),
            "LONG_NAME" => Some("y"),
            _ => None,
        }
    }

    #[test]
    fn go_semantics() {
        assert_eq!(expand("$A-${A}-$LONG_NAME.z", lookup), "x-x-y.z");
        assert_eq!(expand("$$A $UNKNOWN|$1|${}|$", lookup), "$A |||$");
        assert_eq!(expand("cost: $ 5 ${A", lookup), "cost: $ 5 A");
        assert_eq!(expand("no dollars", lookup), "no dollars");
    }
}
