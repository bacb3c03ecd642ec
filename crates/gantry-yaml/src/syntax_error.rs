//! Parser error messages reworded the way Psych (libyaml) words them.

/// Rewrites a `saphyr-parser` message in libyaml's order: the problem first, then the context
/// (`did not find expected ',' or ']' while parsing a flow sequence`).
pub(crate) fn syntax_message(info: &str) -> String {
    let info = info.trim();
    let Some(rest) = info.strip_prefix("while ") else {
        return info.to_owned();
    };
    let Some((context, problem)) = rest.split_once(", ") else {
        return info.to_owned();
    };
    let problem = match problem.strip_prefix("expected ") {
        Some(expected) => format!("did not find expected {expected}"),
        None => problem.to_owned(),
    };
    format!("{problem} while {context}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn libyaml_order() {
        assert_eq!(
            syntax_message("while parsing a flow sequence, expected ',' or ']'"),
            "did not find expected ',' or ']' while parsing a flow sequence"
        );
        assert_eq!(
            syntax_message("while parsing a block mapping, did not find expected key"),
            "did not find expected key while parsing a block mapping"
        );
        assert_eq!(
            syntax_message("mapping values are not allowed in this context"),
            "mapping values are not allowed in this context"
        );
    }
}
