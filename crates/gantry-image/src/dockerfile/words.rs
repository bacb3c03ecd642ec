//! Dockerfile word processing: splitting arguments into words (respecting quotes) and
//! substituting `$VAR`, `${VAR}`, `${VAR:-default}`, `${VAR:+alt}`, `${VAR:?message}` (and
//! the forms without `:`), the way Docker does for `ENV`, `COPY`, `WORKDIR` and friends.

/// Splits `text` at unquoted whitespace; quotes and escapes are kept for [`expand`].
pub fn split_raw(text: &str, escape: char) -> Vec<String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    let mut chars = text.chars();
    let mut in_word = false;
    while let Some(c) = chars.next() {
        match quote {
            Some(q) => {
                cur.push(c);
                if c == escape && q == '"' {
                    if let Some(n) = chars.next() {
                        cur.push(n);
                    }
                } else if c == q {
                    quote = None;
                }
            }
            None if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            None => {
                in_word = true;
                cur.push(c);
                if c == escape {
                    if let Some(n) = chars.next() {
                        cur.push(n);
                    }
                } else if c == '"' || c == '\'' {
                    quote = Some(c);
                }
            }
        }
    }
    if in_word {
        words.push(cur);
    }
    words
}

/// Removes quotes and escapes from `word` and substitutes variables from `lookup` (not
/// inside single quotes). Errors come from `${VAR:?message}` and unterminated `${`.
#[allow(clippy::many_single_char_names)]
pub fn expand(
    word: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
    escape: char,
) -> Result<String, String> {
    let chars: Vec<char> = word.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    let mut quote: Option<char> = None;
    while i < chars.len() {
        let c = chars[i];
        match (quote, c) {
            (Some('\''), '\'') | (Some('"'), '"') => {
                quote = None;
                i += 1;
            }
            (Some('\''), _) => {
                out.push(c);
                i += 1;
            }
            (None, '\'' | '"') => {
                quote = Some(c);
                i += 1;
            }
            (q, e) if e == escape => {
                match chars.get(i + 1) {
                    Some(&n) if q.is_none() || matches!(n, '$' | '"') || n == escape => out.push(n),
                    Some(&n) => {
                        out.push(e);
                        out.push(n);
                    }
                    None => out.push(e),
                }
                i += 2;
            }
            (_, '$') => {
                let (value, next) = variable(&chars, i, lookup, escape)?;
                out.push_str(&value);
                i = next;
            }
            _ => {
                out.push(c);
                i += 1;
            }
        }
    }
    if let Some(q) = quote {
        return Err(format!("unterminated {q} quote in `{word}`"));
    }
    Ok(out)
}

fn is_name_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_'
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Expands the variable starting at `chars[start] == '$'`; returns the value and the index
/// after it.
fn variable(
    chars: &[char],
    start: usize,
    lookup: &dyn Fn(&str) -> Option<String>,
    escape: char,
) -> Result<(String, usize), String> {
    let mut i = start + 1;
    match chars.get(i) {
        Some('{') => {
            i += 1;
            let name_start = i;
            while i < chars.len() && is_name_char(chars[i]) {
                i += 1;
            }
            let name: String = chars[name_start..i].iter().collect();
            if name.is_empty() {
                return Err("bad substitution: `${` must be followed by a variable name".into());
            }
            // Operator and word up to the matching '}'.
            let mut depth = 1;
            let op_start = i;
            while i < chars.len() {
                match chars[i] {
                    '{' => depth += 1,
                    '}' => {
                        depth -= 1;
                        if depth == 0 {
                            break;
                        }
                    }
                    _ => {}
                }
                i += 1;
            }
            if i >= chars.len() {
                return Err(format!("unterminated `${{{name}`"));
            }
            let rest: String = chars[op_start..i].iter().collect();
            let value = lookup(&name);
            let (colon, op, word) = if let Some(r) = rest.strip_prefix(':') {
                (true, r.chars().next(), r.get(1..).unwrap_or(""))
            } else {
                (false, rest.chars().next(), rest.get(1..).unwrap_or(""))
            };
            let set = match (&value, colon) {
                (Some(v), true) => !v.is_empty(),
                (Some(_), false) => true,
                (None, _) => false,
            };
            let result = match op {
                None => value.unwrap_or_default(),
                Some('-') => {
                    if set {
                        value.unwrap_or_default()
                    } else {
                        expand(word, lookup, escape)?
                    }
                }
                Some('+') => {
                    if set {
                        expand(word, lookup, escape)?
                    } else {
                        String::new()
                    }
                }
                Some('?') => {
                    if set {
                        value.unwrap_or_default()
                    } else {
                        let msg = expand(word, lookup, escape)?;
                        return Err(format!(
                            "{name}: {}",
                            if msg.is_empty() { "is not set" } else { &msg }
                        ));
                    }
                }
                Some(other) => {
                    return Err(format!(
                        "unsupported modifier `{other}` in `${{{name}{rest}}}`"
                    ));
                }
            };
            Ok((result, i + 1))
        }
        Some(&c) if is_name_start(c) => {
            let name_start = i;
            while i < chars.len() && is_name_char(chars[i]) {
                i += 1;
            }
            let name: String = chars[name_start..i].iter().collect();
            Ok((lookup(&name).unwrap_or_default(), i))
        }
        _ => Ok(("$".into(), start + 1)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        match name {
            "A" => Some("alpha".into()),
            "EMPTY" => Some(String::new()),
            "PATH" => Some("/bin".into()),
            _ => None,
        }
    }

    fn x(s: &str) -> String {
        expand(s, &env, '\\').unwrap()
    }

    #[test]
    fn substitutes() {
        assert_eq!(x("$A"), "alpha");
        assert_eq!(x("${A}-x"), "alpha-x");
        assert_eq!(x("$A.b"), "alpha.b");
        assert_eq!(x("${B:-def}"), "def");
        assert_eq!(x("${EMPTY:-def}"), "def");
        assert_eq!(x("${EMPTY-def}"), "");
        assert_eq!(x("${A:+yes}"), "yes");
        assert_eq!(x("${B:+yes}"), "");
        assert_eq!(x("${B:-${A}}"), "alpha");
        assert_eq!(x("/usr/local/bin:$PATH"), "/usr/local/bin:/bin");
        assert_eq!(x("$"), "$");
        assert_eq!(x("$1"), "$1");
        assert!(
            expand("${B:?needed}", &env, '\\')
                .unwrap_err()
                .contains("needed")
        );
        assert!(expand("${A", &env, '\\').is_err());
    }

    #[test]
    fn quotes_and_escapes() {
        assert_eq!(x("'$A'"), "$A");
        assert_eq!(x("\"$A b\""), "alpha b");
        assert_eq!(x("\\$A"), "$A");
        assert_eq!(x("a\\ b"), "a b");
        assert_eq!(x("\"a\\\"b\""), "a\"b");
        assert!(expand("'open", &env, '\\').is_err());
        assert_eq!(expand("`$A", &env, '`').unwrap(), "$A");
    }

    #[test]
    fn splits_respecting_quotes() {
        assert_eq!(
            split_raw(r#"a=1 b="two words" c='x y'"#, '\\'),
            [r"a=1", r#"b="two words""#, "c='x y'"]
        );
        assert_eq!(split_raw(r"a\ b c", '\\'), [r"a\ b", "c"]);
        assert_eq!(split_raw("  ", '\\'), Vec::<String>::new());
    }
}
