//! The server-side expansion GitLab applies to variable values (and, with other options, to
//! keywords such as `environment:name`): `$X`, `${X}` and `%X%`.
//!
//! References are found with GitLab's `/\$\$|%%|\$(?<key>[a-zA-Z_][a-zA-Z0-9_]*)|\${\g<key>?}|%\g<key>%/`
//! scanned left to right: `$$` and `%%` are escapes that are left as they are (the runner's later
//! pass turns `$$` into `$`), `${}` is left as it is, a name must start with a letter or `_`.

/// What a lookup knows about a defined variable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerVar<S> {
    /// An ordinary (expandable) variable and its value.
    Plain(S),
    /// A raw variable (`expand: false`) and its value.
    Raw(S),
    /// A file-type variable and its value (the file's content).
    File(S),
}

/// How references are treated; see the constants for the two uses GitLab makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerExpandOptions {
    /// Leave `$UNDEFINED` as written (else it becomes empty).
    pub keep_undefined: bool,
    /// Replace references to file variables by their value (else leave them as written).
    pub expand_file_refs: bool,
    /// Replace references to raw variables by their value (else leave them as written).
    pub expand_raw_refs: bool,
}

impl ServerExpandOptions {
    /// Variable values sent to the runner (`sort_and_expand_all(keep_undefined: true,
    /// expand_file_refs: false, expand_raw_refs: false)`): everything unknown, file or raw stays
    /// for the runner.
    pub const VARIABLE_VALUES: ServerExpandOptions = ServerExpandOptions {
        keep_undefined: true,
        expand_file_refs: false,
        expand_raw_refs: false,
    };

    /// Keywords the server expands itself (`ExpandVariables.expand`): unknown references become
    /// empty, file and raw variables give their value.
    pub const KEYWORDS: ServerExpandOptions = ServerExpandOptions {
        keep_undefined: false,
        expand_file_refs: true,
        expand_raw_refs: true,
    };
}

fn is_name_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_'
}

fn is_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

fn name_len(bytes: &[u8]) -> usize {
    match bytes.first() {
        Some(&b) if is_name_start(b) => {
            1 + bytes[1..].iter().take_while(|&&b| is_name_byte(b)).count()
        }
        _ => 0,
    }
}

/// One match of GitLab's reference regex at `pos`: `(match length, Some(name))` for a reference,
/// `(length, None)` for an escape left intact (`$$`, `%%`, `${}`), `None` for no match.
pub(crate) fn reference_at(s: &str, pos: usize) -> Option<(usize, Option<&str>)> {
    let b = &s.as_bytes()[pos..];
    match b.first()? {
        b'$' => {
            if b.get(1) == Some(&b'$') {
                return Some((2, None));
            }
            let n = name_len(&b[1..]);
            if n > 0 {
                return Some((1 + n, Some(&s[pos + 1..pos + 1 + n])));
            }
            if b.get(1) == Some(&b'{') {
                let n = name_len(&b[2..]);
                if b.get(2 + n) == Some(&b'}') {
                    let name = (n > 0).then(|| &s[pos + 2..pos + 2 + n]);
                    return Some((3 + n, name));
                }
            }
            None
        }
        b'%' => {
            if b.get(1) == Some(&b'%') {
                return Some((2, None));
            }
            let n = name_len(&b[1..]);
            (n > 0 && b.get(1 + n) == Some(&b'%')).then(|| (2 + n, Some(&s[pos + 1..pos + 1 + n])))
        }
        _ => None,
    }
}

/// Names referenced by `value` (GitLab's `Item#depends_on` scan), in order, with repeats.
pub(crate) fn references(value: &str) -> Vec<&str> {
    let mut names = Vec::new();
    let mut pos = 0;
    while pos < value.len() {
        match reference_at(value, pos) {
            Some((len, name)) => {
                names.extend(name);
                pos += len;
            }
            None => pos += value[pos..].chars().next().map_or(1, char::len_utf8),
        }
    }
    names
}

/// Server expansion with explicit options. `lookup` returns `None` for an undefined variable.
pub fn expand_server_with<F, S>(s: &str, lookup: F, options: ServerExpandOptions) -> String
where
    F: Fn(&str) -> Option<ServerVar<S>>,
    S: AsRef<str>,
{
    if !s.contains(['$', '%']) {
        return s.to_owned();
    }
    let mut out = String::with_capacity(s.len());
    let mut pos = 0;
    let mut copied = 0;
    while pos < s.len() {
        let Some((len, name)) = reference_at(s, pos) else {
            pos += s[pos..].chars().next().map_or(1, char::len_utf8);
            continue;
        };
        let full = &s[pos..pos + len];
        out.push_str(&s[copied..pos]);
        match name {
            None => out.push_str(full),
            Some(name) => match lookup(name) {
                None if options.keep_undefined => out.push_str(full),
                None => {}
                Some(ServerVar::File(v)) if options.expand_file_refs => out.push_str(v.as_ref()),
                Some(ServerVar::Raw(v)) if options.expand_raw_refs => out.push_str(v.as_ref()),
                Some(ServerVar::Plain(v)) => out.push_str(v.as_ref()),
                Some(_) => out.push_str(full),
            },
        }
        pos += len;
        copied = pos;
    }
    out.push_str(&s[copied..]);
    out
}

/// Server expansion of a variable value: `$X`, `${X}` and `%X%` are replaced by the value of an
/// ordinary variable; undefined names, `$$`, `%%`, `${}` and references to raw or file variables
/// are left exactly as written ([`ServerExpandOptions::VARIABLE_VALUES`]).
pub fn expand_server<F, S>(s: &str, lookup: F) -> String
where
    F: Fn(&str) -> Option<ServerVar<S>>,
    S: AsRef<str>,
{
    expand_server_with(s, lookup, ServerExpandOptions::VARIABLE_VALUES)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup(name: &str) -> Option<ServerVar<&'static str>> {
        match name {
            "A" => Some(ServerVar::Plain("alpha")),
            "_U" => Some(ServerVar::Plain("under")),
            "R" => Some(ServerVar::Raw("raw-$A")),
            "F" => Some(ServerVar::File("content")),
            _ => None,
        }
    }

    fn exp(s: &str) -> String {
        expand_server(s, lookup)
    }

    #[test]
    fn three_syntaxes() {
        assert_eq!(exp("$A"), "alpha");
        assert_eq!(exp("${A}"), "alpha");
        assert_eq!(exp("%A%"), "alpha");
        assert_eq!(exp("x-$A-${A}-%A%-y"), "x-alpha-alpha-alpha-y");
        assert_eq!(exp("$_U"), "under");
        assert_eq!(exp("$A_"), "$A_", "A_ is another (undefined) name");
    }

    #[test]
    fn unknown_and_escapes_stay() {
        assert_eq!(exp("$NOPE ${NOPE} %NOPE%"), "$NOPE ${NOPE} %NOPE%");
        assert_eq!(exp("$$A"), "$$A");
        assert_eq!(exp("%%A%"), "%%A%");
        assert_eq!(exp("%A%%"), "alpha%");
        assert_eq!(exp("${}"), "${}");
        assert_eq!(
            exp("$1 ${1} %1%"),
            "$1 ${1} %1%",
            "names start with a letter or _"
        );
        assert_eq!(exp("${A-B}"), "${A-B}");
        assert_eq!(exp("%A"), "%A");
        assert_eq!(exp("100%"), "100%");
        assert_eq!(exp("é$Aé"), "éalphaé");
    }

    #[test]
    fn raw_and_file_references_stay() {
        assert_eq!(exp("$R/${F}/%F%"), "$R/${F}/%F%");
        let keywords = expand_server_with("$R/$F/$NOPE", lookup, ServerExpandOptions::KEYWORDS);
        assert_eq!(keywords, "raw-$A/content/");
    }

    #[test]
    fn single_pass() {
        let out = expand_server("$X", |n| (n == "X").then_some(ServerVar::Plain("$A")));
        assert_eq!(out, "$A");
    }

    #[test]
    fn references_lists_names() {
        assert_eq!(
            references("$A ${B} %C% $$D %%E% ${} $1"),
            vec!["A", "B", "C"]
        );
    }
}
