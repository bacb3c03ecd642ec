//! Behaviour tests for the expression language (reference section 9.5).

use std::collections::HashMap;

use super::{Expression, ExpressionError};

fn vars(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn eval_with(statement: &str, pairs: &[(&str, &str)]) -> bool {
    let map = vars(pairs);
    let expr = Expression::parse(statement).unwrap_or_else(|e| panic!("{statement:?} failed: {e}"));
    expr.evaluate(&|name| map.get(name).cloned())
}

fn env() -> Vec<(&'static str, &'static str)> {
    vec![
        ("SET", "value"),
        ("EMPTY", ""),
        ("BLANK", "  \t"),
        ("MAIN", "main"),
        ("ALSO_MAIN", "main"),
        ("PATTERN", "/^ma/"),
        ("PATTERN_I", "/^MA/i"),
        ("BAD_PATTERN", "/(/"),
        ("PLAIN", "1234"),
        ("SLASHED", r"/^feat\/x$/"),
        ("TAG", "v1.2.3"),
        ("TRUE_STR", "true"),
    ]
}

fn check(statement: &str) -> bool {
    eval_with(statement, &env())
}

fn invalid(statement: &str) -> ExpressionError {
    match Expression::parse(statement) {
        Ok(_) => panic!("{statement:?} should be invalid"),
        Err(e) => e,
    }
}

#[test]
fn bare_variable_is_defined_and_not_blank() {
    assert!(check("$SET"));
    assert!(!check("$EMPTY"));
    assert!(!check("$BLANK"));
    assert!(!check("$UNDEFINED"));
    assert!(!eval_with("$NBSP", &[("NBSP", "\u{a0}\u{3000}")]));
    assert!(eval_with("$ZERO", &[("ZERO", "0")]));
    assert!(eval_with("$F", &[("F", "false")]));
}

#[test]
fn string_equality() {
    assert!(check("$MAIN == \"main\""));
    assert!(check("$MAIN == 'main'"));
    assert!(check("'main' == $MAIN"));
    assert!(!check("$MAIN == 'Main'"));
    assert!(check("$MAIN != 'Main'"));
    assert!(!check("$MAIN != 'main'"));
    assert!(check("$MAIN == $ALSO_MAIN"));
    assert!(!check("$MAIN == $SET"));
    assert!(check("'a' == 'a'"));
    assert!(!check("'a' == \"b\""));
}

#[test]
fn null_and_undefined() {
    assert!(check("$UNDEFINED == null"));
    assert!(!check("$UNDEFINED != null"));
    assert!(check("$SET != null"));
    assert!(!check("$SET == null"));
    assert!(check("$EMPTY != null"));
    assert!(check("$UNDEFINED == $ALSO_UNDEFINED"));
    assert!(!check("$UNDEFINED == $SET"));
    assert!(check("null == null"));
    assert!(!check("null"));
}

#[test]
fn empty_string_comparison() {
    assert!(check("$EMPTY == \"\""));
    assert!(check("$EMPTY == ''"));
    assert!(!check("$UNDEFINED == \"\""));
    assert!(!check("$SET == ''"));
}

#[test]
fn regex_literal_matching() {
    assert!(check("$MAIN =~ /^ma/"));
    assert!(check("$MAIN =~ /ai/"), "unanchored search");
    assert!(!check("$MAIN =~ /^ai/"));
    assert!(check("$MAIN =~ /^MAIN$/i"));
    assert!(!check("$MAIN =~ /^MAIN$/"));
    assert!(check("$TAG =~ /^v\\d+\\.\\d+/"));
    assert!(check("$MAIN !~ /^x/"));
    assert!(!check("$MAIN !~ /^m/"));
    assert!(eval_with(r"$S =~ /^feat\/x$/", &[("S", "feat/x")]));
}

#[test]
fn undefined_left_side_matches_as_empty_string() {
    assert!(check("$UNDEFINED =~ /^$/"));
    assert!(!check("$UNDEFINED =~ /.+/"), "needs a character");
    assert!(check("$UNDEFINED !~ /.+/"));
    assert!(check("null =~ /^$/"));
}

#[test]
fn right_side_variable_holding_a_regex() {
    assert!(check("$MAIN =~ $PATTERN"));
    assert!(check("$MAIN =~ $PATTERN_I"));
    assert!(!check("$SET =~ $PATTERN"));
    assert!(check("$SET !~ $PATTERN"));
    assert!(eval_with(
        "$B =~ $P",
        &[("B", "feat/x"), ("P", r"/^feat\/x$/")]
    ));
    // Variables inside the regex are not expanded.
    assert!(!eval_with(
        "$A =~ $P",
        &[("A", "main"), ("P", "/$X/"), ("X", "main")]
    ));
    // A single-character regex is fine from a variable (only the lexer needs two).
    assert!(eval_with("$A =~ $P", &[("A", "x"), ("P", "/./")]));
}

#[test]
fn undefined_right_side() {
    assert!(!check("$MAIN =~ $UNDEFINED"));
    assert!(!check("$UNDEFINED =~ $UNDEFINED"));
    assert!(check("$MAIN !~ $UNDEFINED"));
    assert!(!check("$MAIN =~ null"));
    assert!(check("$MAIN !~ null"));
}

#[test]
fn plain_string_right_side_is_a_substring_test() {
    assert!(eval_with("$A =~ $B", &[("A", "23"), ("B", "1234")]));
    assert!(!eval_with("$A =~ $B", &[("A", "1234"), ("B", "23")]));
    assert!(check("'23' =~ \"1234\""));
    assert!(check("'23' =~ $PLAIN"));
    assert!(!check("'32' =~ $PLAIN"));
    assert!(check("'32' !~ $PLAIN"));
    // The empty string occurs in every string.
    assert!(check("$UNDEFINED =~ $PLAIN"));
    assert!(check("$EMPTY =~ \"\""));
    // An invalid regex in a variable degrades to the substring test too.
    assert!(eval_with("$A =~ $B", &[("A", "(/"), ("B", "/(/")]));
    assert!(!eval_with("$A =~ $B", &[("A", "x"), ("B", "/(/")]));
}

#[test]
fn and_or_precedence() {
    assert!(check("$SET || $UNDEFINED && $UNDEFINED"));
    assert!(!check("($SET || $UNDEFINED) && $UNDEFINED"));
    assert!(check("$UNDEFINED && $UNDEFINED || $SET"));
    assert!(check("$MAIN == 'main' && $SET"));
    assert!(!check("$MAIN == 'main' && $UNDEFINED"));
    assert!(check("$MAIN == 'x' || $TAG =~ /^v/"));
    assert!(check(
        "($MAIN == 'x' || $MAIN == 'main') && ($TAG =~ /^v1/)"
    ));
}

#[test]
fn logical_operators_use_ruby_truthiness_of_values() {
    // The documented table: with EMPTY="" and SET="value".
    assert!(
        !check("$EMPTY || $SET"),
        "`\"\" || x` is \"\", which is blank"
    );
    assert!(check("$EMPTY && $SET"), "`\"\" && x` is x");
    assert!(check("$UNDEFINED || $SET"));
    assert!(!check("$UNDEFINED && $SET"));
    assert!(!check("$SET && $EMPTY"));
    assert!(check("$SET || $EMPTY"));
    assert!(!check("$BLANK || $SET"));
    // A comparison yields a boolean; false is falsy.
    assert!(check("$MAIN == 'x' || $SET"));
    assert!(!check("$MAIN == 'main' && $EMPTY"));
    assert!(check("$EMPTY == '' && $SET"));
    // The string "true"/"false" is just a string.
    assert!(check("$TRUE_STR && $SET"));
}

#[test]
fn comparisons_of_booleans_and_regexps() {
    // `(a == b) == (c == d)` compares booleans.
    assert!(check("($MAIN == 'main') == ($SET == 'value')"));
    assert!(!check("($MAIN == 'main') == $TRUE_STR"));
    assert!(check("/ab/ == /ab/"));
    assert!(!check("/ab/ == /ab/i"));
    assert!(!check("/ab/ == 'ab'"));
    assert!(check("/ab/"), "a regexp value is present");
}

#[test]
fn invalid_statements() {
    assert_eq!(invalid(""), ExpressionError::Empty);
    assert_eq!(invalid("  "), ExpressionError::Empty);
    assert!(matches!(
        invalid("${SET}"),
        ExpressionError::UnknownLexeme { offset: 0 }
    ));
    assert!(matches!(
        invalid("$SET == \"a"),
        ExpressionError::UnknownLexeme { .. }
    ));
    assert!(matches!(
        invalid("$SET = 'a'"),
        ExpressionError::UnknownLexeme { .. }
    ));
    assert!(matches!(
        invalid("$SET =~ /./"),
        ExpressionError::UnknownLexeme { .. }
    ));
    assert!(matches!(
        invalid("$SET =~ /a(/"),
        ExpressionError::InvalidRegex(_)
    ));
    assert!(matches!(
        invalid("!$SET"),
        ExpressionError::UnknownLexeme { .. }
    ));
    assert!(matches!(
        invalid("$SET == true"),
        ExpressionError::UnknownLexeme { .. }
    ));
    assert_eq!(invalid("$SET =="), ExpressionError::MissingOperand("=="));
    assert_eq!(invalid("$A $B"), ExpressionError::UnreachableNodes);
    assert_eq!(invalid("($A"), ExpressionError::UnmatchedParenthesis);
}

#[test]
fn token_limit() {
    // 33 comparisons joined by 32 `&&`: 33 * 3 + 32 = 131 tokens.
    let long = vec!["$A == 'x'"; 33].join(" && ");
    assert_eq!(invalid(&long), ExpressionError::TooManyTokens);
    // 25 comparisons and 24 `&&`: 99 tokens, the most GitLab's lexer accepts.
    let ok = vec!["$A == 'x'"; 25].join(" && ");
    assert!(Expression::parse(&ok).is_ok());
    // One more token makes 100: rejected by the lexer before the parser sees the dangling `&&`.
    let hundred = format!("{ok} &&");
    assert_eq!(invalid(&hundred), ExpressionError::TooManyTokens);
}

#[test]
fn evaluation_is_repeatable_and_fast() {
    let expr = Expression::parse(
        "$CI_PIPELINE_SOURCE == 'merge_request_event' || ($CI_COMMIT_BRANCH =~ /^release\\/.*$/ && $DEPLOY)",
    )
    .unwrap();
    let map = vars(&[
        ("CI_PIPELINE_SOURCE", "push"),
        ("CI_COMMIT_BRANCH", "release/1.2"),
        ("DEPLOY", "1"),
    ]);
    let lookup = |name: &str| map.get(name).cloned();
    let borrowed = |name: &str| map.get(name).map(String::as_str);
    let start = std::time::Instant::now();
    for _ in 0..1_000 {
        assert!(expr.evaluate(&lookup));
        assert!(expr.evaluate_borrowed(&borrowed));
    }
    // 500 jobs x 4 rules, twice; generous bound so that unoptimised test builds pass too.
    let elapsed = start.elapsed();
    eprintln!("2,000 evaluations: {elapsed:?}");
    assert!(elapsed < std::time::Duration::from_millis(200));
}

#[test]
fn variables_lists_referenced_names() {
    let expr = Expression::parse("$A == $B || $A =~ /x./ && $C").unwrap();
    assert_eq!(expr.variables(), vec!["A", "B", "C"]);
    assert_eq!(expr.source(), "$A == $B || $A =~ /x./ && $C");
    let parsed: Expression = "$X".parse().unwrap();
    assert_eq!(parsed.variables(), vec!["X"]);
}
