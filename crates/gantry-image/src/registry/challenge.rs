//! `WWW-Authenticate` challenges: `Basic realm="..."` and
//! `Bearer realm="...",service="...",scope="..."`.

use std::collections::BTreeMap;

/// A parsed authentication challenge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Challenge {
    /// Send `Authorization: Basic` with the user's credentials.
    Basic {
        /// The realm (informational).
        realm: String,
    },
    /// Fetch a token from `realm` for `service` and the needed scopes.
    Bearer {
        /// The token endpoint.
        realm: String,
        /// The `service` parameter.
        service: Option<String>,
        /// Scopes the registry asked for (space-separated in the header).
        scopes: Vec<String>,
        /// `insufficient_scope` and the like.
        error: Option<String>,
    },
}

impl Challenge {
    /// Parses a header value; `None` for schemes we do not speak.
    pub fn parse(header: &str) -> Option<Self> {
        let header = header.trim();
        let (scheme, rest) = header
            .split_once(char::is_whitespace)
            .unwrap_or((header, ""));
        let params = parse_params(rest);
        let get = |k: &str| params.get(k).cloned();
        if scheme.eq_ignore_ascii_case("basic") {
            Some(Self::Basic {
                realm: get("realm").unwrap_or_default(),
            })
        } else if scheme.eq_ignore_ascii_case("bearer") {
            Some(Self::Bearer {
                realm: get("realm")?,
                service: get("service"),
                scopes: get("scope")
                    .map(|s| s.split_whitespace().map(str::to_owned).collect())
                    .unwrap_or_default(),
                error: get("error"),
            })
        } else {
            None
        }
    }
}

/// `key="quoted value",key2=token` pairs; keys lowercased.
fn parse_params(s: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        while i < b.len() && (b[i] == b',' || b[i].is_ascii_whitespace()) {
            i += 1;
        }
        let start = i;
        while i < b.len() && b[i] != b'=' && b[i] != b',' {
            i += 1;
        }
        let key = s[start..i].trim().to_ascii_lowercase();
        if i >= b.len() || b[i] != b'=' {
            continue;
        }
        i += 1;
        let mut value = String::new();
        if i < b.len() && b[i] == b'"' {
            i += 1;
            while i < b.len() && b[i] != b'"' {
                if b[i] == b'\\' && i + 1 < b.len() {
                    i += 1;
                }
                let ch_len = s[i..].chars().next().map_or(1, char::len_utf8);
                value.push_str(&s[i..i + ch_len]);
                i += ch_len;
            }
            i += 1;
        } else {
            let vs = i;
            while i < b.len() && b[i] != b',' {
                i += 1;
            }
            s[vs..i].trim().clone_into(&mut value);
        }
        if !key.is_empty() {
            out.insert(key, value);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_basic_and_bearer() {
        assert_eq!(
            Challenge::parse(r#"Basic realm="gantry-test""#),
            Some(Challenge::Basic {
                realm: "gantry-test".into()
            })
        );
        let c = Challenge::parse(
            r#"Bearer realm="http://127.0.0.1:5003/token",service="gantry-registry",scope="repository:gantry/other:pull,push repository:gantry/busybox:pull",error="insufficient_scope""#,
        )
        .unwrap();
        assert_eq!(
            c,
            Challenge::Bearer {
                realm: "http://127.0.0.1:5003/token".into(),
                service: Some("gantry-registry".into()),
                scopes: vec![
                    "repository:gantry/other:pull,push".into(),
                    "repository:gantry/busybox:pull".into()
                ],
                error: Some("insufficient_scope".into()),
            }
        );
        assert_eq!(Challenge::parse("Negotiate abc"), None);
        assert!(Challenge::parse("Bearer service=x").is_none());
    }
}
