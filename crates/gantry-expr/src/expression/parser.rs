//! Builds the expression tree the way GitLab's `Expression::Parser` does: a shunting-yard pass to
//! reverse Polish notation, then a stack evaluation that builds the nodes.
//!
//! GitLab's algorithm is not a validating infix parser, and this reproduces its quirks on purpose:
//!
//! * precedence numbers are Ruby's: `==`, `!=`, `=~`, `!~` are 10, `&&` 11, `||` 12 (lower binds
//!   tighter); an operator pops every stacked operator whose number is lower or equal (left
//!   associative); `(` is 901 and `)` is 900, so `)` pops every operator down to the `(`;
//! * a `)` without `(` is an error; a `(` left unclosed ends up in the output and is an error;
//! * operands are taken from the result stack, so postfix forms such as `$A $B ==` or
//!   `== $A $B` are accepted, and `() $A` is just `$A`;
//! * an operator without two operands, or more or fewer than one node at the end, is an error.

use super::ExpressionError;
use super::lexer::Token;
use crate::untrusted_regexp::UntrustedRegexp;

/// A binary operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
    Equals,
    NotEquals,
    Matches,
    NotMatches,
    And,
    Or,
}

impl Op {
    fn precedence(self) -> u16 {
        match self {
            Op::Equals | Op::NotEquals | Op::Matches | Op::NotMatches => 10,
            Op::And => 11,
            Op::Or => 12,
        }
    }

    pub(crate) fn symbol(self) -> &'static str {
        match self {
            Op::Equals => "==",
            Op::NotEquals => "!=",
            Op::Matches => "=~",
            Op::NotMatches => "!~",
            Op::And => "&&",
            Op::Or => "||",
        }
    }
}

/// A node of the parse tree.
#[derive(Debug, Clone)]
pub(crate) enum Node {
    Variable(String),
    String(String),
    Null,
    /// A regex literal, compiled at parse time.
    Pattern(Box<UntrustedRegexp>),
    Binary(Op, Box<Node>, Box<Node>),
}

const PAREN_OPEN_PRECEDENCE: u16 = 901;
const PAREN_CLOSE_PRECEDENCE: u16 = 900;

enum Stacked {
    Op(Op),
    Open,
}

impl Stacked {
    fn precedence(&self) -> u16 {
        match self {
            Stacked::Op(op) => op.precedence(),
            Stacked::Open => PAREN_OPEN_PRECEDENCE,
        }
    }
}

enum Rpn {
    Value(Token),
    Op(Op),
    Open,
}

fn operator(token: &Token) -> Option<Op> {
    Some(match token {
        Token::Equals => Op::Equals,
        Token::NotEquals => Op::NotEquals,
        Token::Matches => Op::Matches,
        Token::NotMatches => Op::NotMatches,
        Token::And => Op::And,
        Token::Or => Op::Or,
        _ => return None,
    })
}

fn to_rpn(tokens: Vec<Token>) -> Result<Vec<Rpn>, ExpressionError> {
    let mut output = Vec::with_capacity(tokens.len());
    let mut stack: Vec<Stacked> = Vec::new();
    for token in tokens {
        if let Some(op) = operator(&token) {
            while let Some(top) = stack.last() {
                if op.precedence() < top.precedence() {
                    break;
                }
                if let Some(Stacked::Op(top)) = stack.pop() {
                    output.push(Rpn::Op(top));
                }
            }
            stack.push(Stacked::Op(op));
            continue;
        }
        match token {
            Token::ParenOpen => stack.push(Stacked::Open),
            Token::ParenClose => {
                while let Some(top) = stack.last() {
                    if PAREN_CLOSE_PRECEDENCE < top.precedence() {
                        break;
                    }
                    if let Some(Stacked::Op(top)) = stack.pop() {
                        output.push(Rpn::Op(top));
                    }
                }
                // Only `(` outranks `)`, so what is left on top (if anything) is a `(`.
                if stack.pop().is_none() {
                    return Err(ExpressionError::UnmatchedParenthesis);
                }
            }
            value => output.push(Rpn::Value(value)),
        }
    }
    output.extend(stack.into_iter().rev().map(|s| match s {
        Stacked::Op(op) => Rpn::Op(op),
        Stacked::Open => Rpn::Open,
    }));
    Ok(output)
}

fn build_value(token: Token) -> Result<Node, ExpressionError> {
    Ok(match token {
        Token::Variable(name) => Node::Variable(name),
        Token::String(s) => Node::String(s),
        Token::Null => Node::Null,
        Token::Pattern(text) => {
            // Lexeme::Pattern#initialize: unescape `\/`, then RubySyntax must accept it.
            let unescaped = text.replace("\\/", "/");
            let regex = UntrustedRegexp::from_ruby_syntax(&unescaped)
                .map_err(|err| ExpressionError::InvalidRegex(err.to_string()))?;
            Node::Pattern(Box::new(regex))
        }
        _ => unreachable!("only value tokens reach build_value"),
    })
}

/// Parses a token list into a single tree.
pub(crate) fn parse(tokens: Vec<Token>) -> Result<Node, ExpressionError> {
    if tokens.is_empty() {
        return Err(ExpressionError::Empty);
    }
    let mut results: Vec<Node> = Vec::new();
    for item in to_rpn(tokens)? {
        match item {
            Rpn::Value(token) => results.push(build_value(token)?),
            Rpn::Op(op) => {
                let right = results.pop();
                let left = results.pop();
                let (Some(left), Some(right)) = (left, right) else {
                    return Err(ExpressionError::MissingOperand(op.symbol()));
                };
                results.push(Node::Binary(op, Box::new(left), Box::new(right)));
            }
            Rpn::Open => return Err(ExpressionError::UnmatchedParenthesis),
        }
    }
    match results.len() {
        0 => Err(ExpressionError::Empty),
        1 => Ok(results.pop().unwrap_or(Node::Null)),
        _ => Err(ExpressionError::UnreachableNodes),
    }
}

#[cfg(test)]
mod tests {
    use super::super::lexer::tokenize;
    use super::*;

    fn shape(node: &Node) -> String {
        match node {
            Node::Variable(n) => format!("${n}"),
            Node::String(s) => format!("{s:?}"),
            Node::Null => "null".into(),
            Node::Pattern(p) => p.source().to_owned(),
            Node::Binary(op, l, r) => format!("({} {} {})", shape(l), op.symbol(), shape(r)),
        }
    }

    fn tree(s: &str) -> Result<String, ExpressionError> {
        parse(tokenize(s)?).map(|n| shape(&n))
    }

    #[test]
    fn precedence_is_rubys() {
        assert_eq!(tree("$A || $B && $C").unwrap(), "($A || ($B && $C))");
        assert_eq!(tree("$A && $B || $C").unwrap(), "(($A && $B) || $C)");
        assert_eq!(tree("$A == 'x' && $B").unwrap(), "(($A == \"x\") && $B)");
        assert_eq!(tree("$A && $B == 'x'").unwrap(), "($A && ($B == \"x\"))");
        assert_eq!(tree("$A && $B && $C").unwrap(), "(($A && $B) && $C)");
        assert_eq!(tree("$A || $B || $C").unwrap(), "(($A || $B) || $C)");
        assert_eq!(tree("$A == $B == $C").unwrap(), "(($A == $B) == $C)");
    }

    #[test]
    fn parentheses_group() {
        assert_eq!(tree("($A || $B) && $C").unwrap(), "(($A || $B) && $C)");
        assert_eq!(tree("$A && ($B || $C)").unwrap(), "($A && ($B || $C))");
        assert_eq!(tree("((($A)))").unwrap(), "$A");
        assert_eq!(tree("($A =~ /ab/)").unwrap(), "($A =~ /ab/)");
    }

    #[test]
    fn unbalanced_parentheses_are_errors() {
        assert_eq!(tree("($A"), Err(ExpressionError::UnmatchedParenthesis));
        assert_eq!(tree("$A)"), Err(ExpressionError::UnmatchedParenthesis));
        assert_eq!(
            tree("(($A) && $B"),
            Err(ExpressionError::UnmatchedParenthesis)
        );
        assert_eq!(tree("()"), Err(ExpressionError::Empty));
    }

    #[test]
    fn gitlab_accepts_postfix_forms() {
        assert_eq!(tree("$A $B ==").unwrap(), "($A == $B)");
        assert_eq!(tree("== $A $B").unwrap(), "($A == $B)");
        assert_eq!(tree("() $A").unwrap(), "$A");
    }

    #[test]
    fn malformed_trees_are_errors() {
        assert_eq!(tree("$A =="), Err(ExpressionError::MissingOperand("==")));
        assert_eq!(tree("&&"), Err(ExpressionError::MissingOperand("&&")));
        assert_eq!(tree("$A $B"), Err(ExpressionError::UnreachableNodes));
        assert_eq!(tree("$A == $B $C"), Err(ExpressionError::UnreachableNodes));
        assert_eq!(tree(""), Err(ExpressionError::Empty));
    }

    #[test]
    fn regex_literals_are_compiled_at_parse_time() {
        assert!(matches!(
            tree("$A =~ /((/"),
            Err(ExpressionError::InvalidRegex(_))
        ));
        assert!(matches!(
            tree("$A =~ /a\nb/"),
            Err(ExpressionError::InvalidRegex(_))
        ));
        assert_eq!(tree(r"$A =~ /a\/b/").unwrap(), "($A =~ /a/b/)");
        assert_eq!(tree("$A =~ /ab//").unwrap(), "($A =~ /ab//)");
    }
}
