//! `spec:inputs` of an included file and the `$[[ inputs.NAME ]]` interpolation of its content.

use std::collections::BTreeMap;

use gantry_yaml::{Mapping, Node, Span, Value};

use crate::diagnostic::Diagnostic;

/// The type an input declares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum InputType {
    String,
    Number,
    Boolean,
    Array,
}

/// Checks `given` against the file's `spec:inputs` and returns the value of every input.
pub fn resolve_inputs(
    spec: Option<&Node>,
    given: Option<&Node>,
    file: &str,
) -> Result<BTreeMap<String, Node>, Diagnostic> {
    let spec_inputs = spec
        .and_then(Node::as_map)
        .and_then(|m| m.get("inputs"))
        .and_then(Node::as_map);
    let empty = Mapping::default();
    let given_map = match given {
        None => &empty,
        Some(node) => node.as_map().ok_or_else(|| {
            Diagnostic::error(
                format!("`{file}`: include inputs must be a hash"),
                Some(&node.span),
            )
        })?,
    };
    let Some(spec_inputs) = spec_inputs else {
        if let Some((key, _)) = given_map.entries.first() {
            return Err(Diagnostic::error(
                format!(
                    "Given inputs not defined in the `spec` section of the included configuration file `{file}`"
                ),
                Some(&key.span),
            ));
        }
        return Ok(BTreeMap::new());
    };
    for (key, _) in &given_map.entries {
        let name = key.as_str().unwrap_or_default();
        if !spec_inputs.contains_key(name) {
            return Err(Diagnostic::error(
                format!("unknown input arguments: {name} (in the include of `{file}`)"),
                Some(&key.span),
            ));
        }
    }
    let mut values = BTreeMap::new();
    for (key, decl) in &spec_inputs.entries {
        let name = key.as_str().unwrap_or_default().to_string();
        let decl_map = decl.as_map();
        let ty = match decl_map.and_then(|m| m.get("type")).and_then(Node::as_str) {
            None | Some("string") => InputType::String,
            Some("number") => InputType::Number,
            Some("boolean") => InputType::Boolean,
            Some("array") => InputType::Array,
            Some(other) => {
                return Err(Diagnostic::error(
                    format!("header:spec:inputs:{name} input type unknown value: {other}"),
                    Some(&decl.span),
                ));
            }
        };
        // `spec:inputs:<name>:rules` pick `default` and `options` by conditions on earlier inputs.
        let has_rules = decl_map.is_some_and(|m| m.contains_key("rules"));
        let rule = decl_map
            .and_then(|m| m.get("rules"))
            .and_then(|r| matching_input_rule(r, &values));
        if has_rules && rule.is_none() && !given_map.contains_key(&name) {
            // No rule applies: the input is not offered in this pipeline; it reads as empty.
            values.insert(
                name,
                Node::new(Value::Str(String::new()), decl.span.clone()),
            );
            continue;
        }
        let decl_map = rule.or(decl_map);
        let value = match given_map.get(&name) {
            Some(v) => v.clone(),
            None => match decl_map.and_then(|m| m.get("default")) {
                Some(default) => default.clone(),
                None => {
                    return Err(Diagnostic::error(
                        format!("`{name}` input: required value has not been provided"),
                        given.map_or(Some(&key.span), |g| Some(&g.span)),
                    ));
                }
            },
        };
        check_type(&name, ty, &value)?;
        if let Some(options) = decl_map
            .and_then(|m| m.get("options"))
            .and_then(Node::as_seq)
        {
            let text = value.value.scalar_to_string().unwrap_or_default();
            if !options
                .iter()
                .any(|o| o.value.scalar_to_string().as_deref() == Some(text.as_str()))
            {
                return Err(Diagnostic::error(
                    format!(
                        "`{name}` input: `{text}` cannot be used because it is not in the list of allowed options"
                    ),
                    Some(&value.span),
                ));
            }
        }
        if let Some(pattern) = decl_map.and_then(|m| m.get("regex")).and_then(Node::as_str) {
            let text = value.value.scalar_to_string().unwrap_or_default();
            let matches =
                regex::Regex::new(pattern.trim_matches('/')).is_ok_and(|re| re.is_match(&text));
            if !matches {
                return Err(Diagnostic::error(
                    format!("`{name}` input: provided value does not match required RegEx pattern"),
                    Some(&value.span),
                ));
            }
        }
        values.insert(name, value);
    }
    Ok(values)
}

/// The first entry of an input's `rules` whose `if` holds, given the inputs resolved so far.
fn matching_input_rule<'n>(
    rules: &'n Node,
    values: &BTreeMap<String, Node>,
) -> Option<&'n Mapping> {
    rules
        .as_seq()?
        .iter()
        .filter_map(Node::as_map)
        .find(|rule| {
            let Some(cond) = rule.get("if").and_then(Node::as_str) else {
                return true;
            };
            // Each `$[[ inputs.X ]]` becomes a string literal holding the input's value.
            let mut text = String::new();
            let mut rest = cond;
            while let Some(start) = rest.find("$[[") {
                let Some(len) = rest[start..].find("]]") else {
                    break;
                };
                let name = rest[start + 3..start + len]
                    .trim()
                    .trim_start_matches("inputs.")
                    .trim();
                let value = values
                    .get(name)
                    .and_then(|v| v.value.scalar_to_string())
                    .unwrap_or_default();
                let before = &rest[..start];
                // Already inside quotes in the source (`"$[[ inputs.x ]]" == ...`): insert raw text.
                if before.ends_with('"') || before.ends_with('\'') {
                    text.push_str(before);
                    text.push_str(&value);
                } else {
                    text.push_str(before);
                    text.push('"');
                    text.push_str(&value.replace('"', ""));
                    text.push('"');
                }
                rest = &rest[start + len + 2..];
            }
            text.push_str(rest);
            gantry_expr::Expression::parse(&text).is_ok_and(|e| e.evaluate(&|_: &str| None))
        })
}

fn check_type(name: &str, ty: InputType, value: &Node) -> Result<(), Diagnostic> {
    let ok = match ty {
        InputType::String => matches!(value.value, Value::Str(_) | Value::Symbol(_)),
        InputType::Number => matches!(value.value, Value::Int(_) | Value::Float(_)),
        InputType::Boolean => matches!(value.value, Value::Bool(_)),
        InputType::Array => matches!(value.value, Value::Seq(_)),
    };
    if ok {
        return Ok(());
    }
    let expected = match ty {
        InputType::String => "a string",
        InputType::Number => "a number",
        InputType::Boolean => "a boolean",
        InputType::Array => "an array",
    };
    Err(Diagnostic::error(
        format!("`{name}` input: provided value is not {expected}"),
        Some(&value.span),
    ))
}

/// Replaces every `$[[ inputs.NAME ]]` in keys and string values of `node`.
pub fn interpolate(
    node: &mut Node,
    inputs: &BTreeMap<String, Node>,
    vars: &dyn Fn(&str) -> Option<String>,
) -> Result<(), Diagnostic> {
    match &mut node.value {
        Value::Str(text) if text.contains("$[[") => {
            let replacement = interpolate_text(text, inputs, vars, &node.span)?;
            node.value = replacement;
        }
        Value::Seq(items) => {
            for item in items {
                interpolate(item, inputs, vars)?;
            }
        }
        Value::Map(map) => {
            for (key, value) in &mut map.entries {
                interpolate(key, inputs, vars)?;
                interpolate(value, inputs, vars)?;
            }
        }
        Value::Reference(inner) => interpolate(inner, inputs, vars)?,
        _ => {}
    }
    Ok(())
}

fn interpolate_text(
    text: &str,
    inputs: &BTreeMap<String, Node>,
    vars: &dyn Fn(&str) -> Option<String>,
    span: &Span,
) -> Result<Value, Diagnostic> {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("$[[") {
        let Some(len) = rest[start..].find("]]") else {
            break;
        };
        let block = &rest[start + 3..start + len];
        if block.trim().starts_with("matrix.") {
            // `$[[ matrix.X ]]` belongs to `needs:parallel:matrix`; the plan fills it in.
            out.push_str(&rest[..start + len + 2]);
            rest = &rest[start + len + 2..];
            continue;
        }
        let whole = start == 0 && start + len + 2 == rest.len() && out.is_empty();
        let value = evaluate_block(block, inputs, vars, span)?;
        if whole {
            return Ok(value.value);
        }
        out.push_str(&rest[..start]);
        out.push_str(&render_inline(&value));
        rest = &rest[start + len + 2..];
    }
    out.push_str(rest);
    Ok(Value::Str(out))
}

fn render_inline(node: &Node) -> String {
    node.value
        .scalar_to_string()
        .unwrap_or_else(|| node.to_json().to_string())
}

fn evaluate_block(
    block: &str,
    inputs: &BTreeMap<String, Node>,
    vars: &dyn Fn(&str) -> Option<String>,
    span: &Span,
) -> Result<Node, Diagnostic> {
    if block.len() > 1024 {
        return Err(Diagnostic::error(
            "interpolation interrupted by errors: the interpolation block is too long (maximum is 1 KB)",
            Some(span),
        ));
    }
    let mut parts = block.split('|').map(str::trim);
    let access = parts.next().unwrap_or_default();
    let Some(name) = access.strip_prefix("inputs.") else {
        return Err(Diagnostic::error(
            format!("unknown interpolation key: `{access}`"),
            Some(span),
        ));
    };
    let Some(value) = inputs.get(name) else {
        return Err(Diagnostic::error(
            format!("unknown interpolation key: `{name}`"),
            Some(span),
        ));
    };
    let functions: Vec<&str> = parts.collect();
    if functions.len() > 3 {
        return Err(Diagnostic::error(
            "interpolation interrupted by errors: too many functions in interpolation block (maximum is 3)",
            Some(span),
        ));
    }
    let mut node = value.clone();
    for function in functions {
        let text = render_inline(&node);
        let result = if function == "expand_vars" {
            gantry_expr::expand::expand_runner(&text, |v: &str| vars(v))
        } else if function == "posix_escape" {
            posix_escape(&text)
        } else if let Some(args) = function
            .strip_prefix("truncate(")
            .and_then(|s| s.strip_suffix(')'))
        {
            let mut nums = args.split(',').map(|a| a.trim().parse::<usize>());
            match (nums.next(), nums.next(), nums.next()) {
                (Some(Ok(offset)), Some(Ok(length)), None) => {
                    text.chars().skip(offset).take(length).collect()
                }
                _ => {
                    return Err(Diagnostic::error(
                        format!("invalid function arguments: `{function}`"),
                        Some(span),
                    ));
                }
            }
        } else {
            return Err(Diagnostic::error(
                format!(
                    "no function matching `{function}`: check that the function name, arguments, and types are correct"
                ),
                Some(span),
            ));
        };
        node = Node::new(Value::Str(result), node.span.clone());
    }
    Ok(node)
}

fn posix_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if !(c.is_ascii_alphanumeric() || "_-.,:/@\n".contains(c)) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}
