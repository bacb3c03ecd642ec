//! The CI/CD variable expression language of `rules:if`, `workflow:rules:if`,
//! `include:rules:if` and `only/except:variables`, as GitLab lexes, parses and evaluates it.
//!
//! Statements are parsed once ([`Expression::parse`], regex literals compiled then) and evaluated
//! many times against a variable lookup ([`Expression::evaluate`]). See the submodules for the
//! exact lexing ([`lexer`]), tree-building (`parser.rs`) and evaluation (`eval.rs`) rules.
//!
//! Not implemented: the newest lexer's unary `!`, `true`/`false` literals and
//! `$[[ inputs.X ]]` operands (the reference says not to rely on them for 17.x); they are
//! syntax errors here.

use std::borrow::Cow;

mod eval;
pub mod lexer;
mod parser;

#[cfg(test)]
mod tests;

pub use lexer::MAX_TOKENS;

/// Why a statement is not a valid expression. Callers report any of these as
/// `... rules:rule if invalid expression syntax`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExpressionError {
    /// Nothing to evaluate (empty or whitespace-only statement, or `()`).
    #[error("empty expression")]
    Empty,
    /// No lexeme matches at this byte offset.
    #[error("unknown lexeme at offset {offset}")]
    UnknownLexeme { offset: usize },
    /// 100 tokens or more.
    #[error("too many tokens (at most {} allowed)", MAX_TOKENS - 1)]
    TooManyTokens,
    /// A regex literal does not compile.
    #[error("{0}")]
    InvalidRegex(String),
    /// A `)` without `(`, or a `(` never closed.
    #[error("unmatched parenthesis")]
    UnmatchedParenthesis,
    /// An operator lacks an operand.
    #[error("operator `{0}` is missing an operand")]
    MissingOperand(&'static str),
    /// Values left over that no operator combines.
    #[error("unreachable nodes in parse tree")]
    UnreachableNodes,
}

/// A parsed statement.
#[derive(Debug, Clone)]
pub struct Expression {
    source: String,
    root: parser::Node,
}

impl Expression {
    /// Lexes and parses a statement. Regex literals are compiled here, so an invalid regex is a
    /// parse error, as in GitLab.
    pub fn parse(statement: &str) -> Result<Expression, ExpressionError> {
        let tokens = lexer::tokenize(statement)?;
        let root = parser::parse(tokens)?;
        Ok(Expression {
            source: statement.to_owned(),
            root,
        })
    }

    /// Evaluates the statement. `lookup` returns a variable's value, or `None` when the variable
    /// is not defined. The result is GitLab's `truthful?`: whether the final value is `present?`.
    pub fn evaluate(&self, lookup: &dyn Fn(&str) -> Option<String>) -> bool {
        eval::evaluate(&self.root, &|name| lookup(name).map(Cow::Owned)).present()
    }

    /// [`Expression::evaluate`] with a lookup that lends the values instead of allocating them
    /// (for example `|name| map.get(name).map(String::as_str)`).
    pub fn evaluate_borrowed<'v>(&self, lookup: &dyn Fn(&str) -> Option<&'v str>) -> bool {
        eval::evaluate(&self.root, &|name| lookup(name).map(Cow::Borrowed)).present()
    }

    /// The statement as written.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Names of the variables the statement reads, in order of appearance, without duplicates.
    pub fn variables(&self) -> Vec<&str> {
        fn walk<'a>(node: &'a parser::Node, out: &mut Vec<&'a str>) {
            match node {
                parser::Node::Variable(name) if !out.contains(&name.as_str()) => out.push(name),
                parser::Node::Binary(_, l, r) => {
                    walk(l, out);
                    walk(r, out);
                }
                _ => {}
            }
        }
        let mut out = Vec::new();
        walk(&self.root, &mut out);
        out
    }
}

impl std::str::FromStr for Expression {
    type Err = ExpressionError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Expression::parse(s)
    }
}
