//! Random input never panics any parser, expander or matcher of the crate.

use gantry_expr::{
    DoubleStarGlob, Expression, FnmatchGlob, IncludeGlob, UntrustedRegexp, expand_runner,
    expand_server, expand_variables, parse_duration, slugify,
};
use proptest::prelude::*;

/// Strings biased towards the characters the small languages care about.
fn syntax_heavy() -> impl Strategy<Value = String> {
    proptest::string::string_regex(r#"[$%{}()\[\]/*?!=~&|'" \\,.:;0-9a-zA-Z_\-\n\téİ]{0,48}"#)
        .expect("valid strategy regex")
}

fn any_text() -> impl Strategy<Value = String> {
    prop_oneof![syntax_heavy(), any::<String>()]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn expression_parser_and_evaluator(s in any_text(), value in any_text()) {
        if let Ok(expr) = Expression::parse(&s) {
            let v = value.clone();
            let _ = expr.evaluate(&move |name| (name.len() % 2 == 0).then(|| v.clone()));
            let _ = expr.evaluate(&|_| None);
            let _ = expr.variables();
        }
    }

    #[test]
    fn untrusted_regexp(s in any_text()) {
        let _ = UntrustedRegexp::new(&s);
        let _ = UntrustedRegexp::from_ruby_syntax(&s);
    }

    #[test]
    fn expanders(s in any_text(), value in any_text()) {
        let _ = expand_runner(&s, |name| (name.len() < 3).then_some(value.as_str()));
        let _ = expand_server(&s, |name| {
            (name.len() < 3).then_some(gantry_expr::ServerVar::Plain(value.as_str()))
        });
        let vars = vec![
            ("A".to_owned(), s.clone(), true),
            ("B".to_owned(), value.clone(), true),
            ("A".to_owned(), format!("{s}$B"), true),
            ("C".to_owned(), value.clone(), false),
        ];
        let _ = expand_variables(&vars);
    }

    #[test]
    fn globs(pattern in any_text(), path in any_text()) {
        if let Ok(g) = IncludeGlob::new(&pattern) {
            let _ = g.matches(&path);
        }
        if let Ok(g) = FnmatchGlob::new(&pattern) {
            let _ = g.matches(&path);
        }
        if let Ok(g) = DoubleStarGlob::new(&pattern) {
            let _ = g.matches(&path);
        }
        let _ = gantry_expr::split_pattern(&pattern);
        let _ = gantry_expr::glob::clean_path(&pattern);
    }

    #[test]
    fn durations_and_slugs(s in any_text()) {
        let _ = parse_duration(&s);
        let slug = slugify(&s);
        prop_assert!(slug.chars().count() <= 63);
        prop_assert!(slug.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'));
        prop_assert!(!slug.starts_with('-') && !slug.ends_with('-'));
    }
}

#[test]
fn walk_on_random_patterns_does_not_panic() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("a/b")).unwrap();
    std::fs::write(dir.path().join("a/b/c.txt"), "x").unwrap();
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig::with_cases(256));
    runner
        .run(&syntax_heavy(), |pattern| {
            // Stay inside the temporary directory.
            if pattern.contains("..") || pattern.starts_with('/') {
                return Ok(());
            }
            let _ = gantry_expr::walk_matches(dir.path(), &pattern);
            Ok(())
        })
        .unwrap();
}
