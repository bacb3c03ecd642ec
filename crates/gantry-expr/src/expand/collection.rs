//! Expansion of a whole variable set: GitLab's `Collection#sort_and_expand_all` on the server,
//! then the runner's `JobVariables#Expand` pass.
//!
//! What is implemented, step by step:
//!
//! 1. The input is GitLab's variable collection in precedence order: later entries override
//!    earlier ones with the same name, and every entry is kept as its own node (as GitLab does).
//! 2. Each non-raw entry whose value contains `$` or `%` depends on the names it references
//!    (`$X`, `${X}`, `%X%`); a reference to a name depends on *every* entry with that name.
//! 3. The entries are put in topological order with Tarjan's algorithm (Ruby's `TSort`: nodes in
//!    input order, children in reference order). If any strongly connected component has more
//!    than one entry (a cycle such as `A: $B`, `B: $A`), nothing is expanded on the server and
//!    [`ExpandedVariables::cycle_error`] holds GitLab's message; a self reference (`FOO: $FOO`) is
//!    not a cycle: at that point `FOO` is not yet defined, so `$FOO` stays literally.
//! 4. Otherwise entries are expanded in that order against the entries already expanded (the last
//!    one with a name wins), keeping undefined names, `$$`, `%%` and references to raw or file
//!    variables as written ([`super::ServerExpandOptions::VARIABLE_VALUES`]).
//! 5. The runner then expands each non-raw value once more with `os.Expand` semantics
//!    ([`super::expand_runner`]): lookups see the server's values (not the runner-expanded ones),
//!    the last entry with a name wins, undefined names become empty, `$$` becomes `$`, and a
//!    reference to a file variable becomes its file path when one is given.
//! 6. The result has one entry per name: the value of the entry the runner sees last, listed in
//!    the order in which names first appear in the input.

use std::collections::HashMap;

use super::runner::go_expand;
use super::server::{ServerExpandOptions, ServerVar, expand_server_with, references};

/// One variable definition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VarDef<'a> {
    pub name: &'a str,
    pub value: &'a str,
    /// `expand: false` (or a variable stored with expansion off): never expanded, and references
    /// to it are left for the runner.
    pub raw: bool,
    /// For a file-type variable, the path of the file the runner writes; references to it expand
    /// to this path in the runner pass and are left as written by the server.
    pub file_path: Option<&'a str>,
}

impl<'a> VarDef<'a> {
    /// An ordinary variable.
    pub fn new(name: &'a str, value: &'a str) -> Self {
        VarDef {
            name,
            value,
            raw: false,
            file_path: None,
        }
    }
}

/// The outcome of [`expand_variable_defs`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpandedVariables {
    /// One `(name, value)` per name, in order of the name's first appearance in the input.
    pub variables: Vec<(String, String)>,
    /// `circular variable reference detected: ["A", "B"], ...` when the server skipped expansion.
    pub cycle_error: Option<String>,
}

/// Expands `(name, value, expand)` triples, later entries overriding earlier ones; see the module
/// documentation for the exact steps. `expand == false` marks a raw variable.
pub fn expand_variables<N, V>(vars: &[(N, V, bool)]) -> Vec<(String, String)>
where
    N: AsRef<str>,
    V: AsRef<str>,
{
    let defs: Vec<VarDef<'_>> = vars
        .iter()
        .map(|(name, value, expand)| VarDef {
            name: name.as_ref(),
            value: value.as_ref(),
            raw: !expand,
            file_path: None,
        })
        .collect();
    expand_variable_defs(&defs).variables
}

/// Steps 1–4: `(input index, server value)` in the order the server expands them.
fn server_pass(defs: &[VarDef<'_>]) -> (Vec<(usize, String)>, Option<String>) {
    let (order, cycle_error) = server_order(defs);
    // Server pass: values in the order the server produces them.
    let mut server: Vec<(usize, String)> = Vec::with_capacity(defs.len());
    if cycle_error.is_some() {
        server.extend(
            defs.iter()
                .enumerate()
                .map(|(i, d)| (i, d.value.to_owned())),
        );
    } else {
        let mut latest: HashMap<&str, usize> = HashMap::new(); // name -> index into `server`
        for &i in &order {
            let def = &defs[i];
            let value = if depends(def) {
                let lookup = |name: &str| {
                    latest.get(name).map(|&k| {
                        let (src, ref value) = server[k];
                        let d = &defs[src];
                        if d.file_path.is_some() {
                            ServerVar::File(value.as_str())
                        } else if d.raw {
                            ServerVar::Raw(value.as_str())
                        } else {
                            ServerVar::Plain(value.as_str())
                        }
                    })
                };
                expand_server_with(def.value, lookup, ServerExpandOptions::VARIABLE_VALUES)
            } else {
                def.value.to_owned()
            };
            latest.insert(def.name, server.len());
            server.push((i, value));
        }
    }

    (server, cycle_error)
}

/// The server's pass alone: each entry's value after GitLab's dependency-ordered expansion
/// (steps 1–4 of the module documentation), one per input entry, in input order. This is what a
/// GitLab server hands to a runner; the runner's own pass is left to the caller.
pub fn expand_server_values(defs: &[VarDef<'_>]) -> (Vec<String>, Option<String>) {
    let (server, cycle_error) = server_pass(defs);
    let mut values = vec![String::new(); defs.len()];
    for (i, value) in server {
        values[i] = value;
    }
    (values, cycle_error)
}

/// Full version of [`expand_variables`] with file variables and the cycle report.
pub fn expand_variable_defs(defs: &[VarDef<'_>]) -> ExpandedVariables {
    let (server, cycle_error) = server_pass(defs);
    // Runner pass over the list as the runner receives it; lookups see the server values.
    let mut last: HashMap<&str, usize> = HashMap::new();
    for (k, &(i, _)) in server.iter().enumerate() {
        last.insert(defs[i].name, k);
    }
    let runner_lookup = |name: &str, out: &mut String| match name {
        "$" => out.push('$'),
        "*" | "#" | "@" | "!" | "?" | "0" | "1" | "2" | "3" | "4" | "5" | "6" | "7" | "8" | "9" => {
        }
        _ => {
            if let Some(&k) = last.get(name) {
                let (i, ref value) = server[k];
                out.push_str(defs[i].file_path.unwrap_or(value));
            }
        }
    };
    let mut final_values: HashMap<&str, String> = HashMap::new();
    for (i, value) in &server {
        let def = &defs[*i];
        let value = if def.raw {
            value.clone()
        } else {
            go_expand(value, runner_lookup).into_owned()
        };
        final_values.insert(def.name, value);
    }

    let mut variables = Vec::with_capacity(final_values.len());
    for def in defs {
        if let Some(value) = final_values.remove(def.name) {
            variables.push((def.name.to_owned(), value));
        }
    }
    ExpandedVariables {
        variables,
        cycle_error,
    }
}

fn depends(def: &VarDef<'_>) -> bool {
    !def.raw && def.value.contains(['$', '%'])
}

/// Topological order of the entries (children first), or the cycle message.
fn server_order(defs: &[VarDef<'_>]) -> (Vec<usize>, Option<String>) {
    let mut by_name: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, def) in defs.iter().enumerate() {
        by_name.entry(def.name).or_default().push(i);
    }
    let children: Vec<Vec<usize>> = defs
        .iter()
        .map(|def| {
            if !depends(def) {
                return Vec::new();
            }
            references(def.value)
                .into_iter()
                .filter_map(|name| by_name.get(name))
                .flatten()
                .copied()
                .collect()
        })
        .collect();
    let components = tarjan(&children);
    let cycles: Vec<String> = components
        .iter()
        .filter(|c| c.len() > 1)
        .map(|c| {
            let names: Vec<String> = c.iter().map(|&i| format!("{:?}", defs[i].name)).collect();
            format!("[{}]", names.join(", "))
        })
        .collect();
    if cycles.is_empty() {
        (components.into_iter().flatten().collect(), None)
    } else {
        (
            Vec::new(),
            Some(format!(
                "circular variable reference detected: {}",
                cycles.join(", ")
            )),
        )
    }
}

/// Tarjan's strongly connected components, iteratively, emitted in completion order (every
/// component after the components it depends on). Within a component, nodes are listed in the
/// order they were reached.
fn tarjan(children: &[Vec<usize>]) -> Vec<Vec<usize>> {
    const UNSEEN: usize = usize::MAX;
    let n = children.len();
    let mut index = vec![UNSEEN; n];
    let mut low = vec![0; n];
    let mut on_stack = vec![false; n];
    let mut stack: Vec<usize> = Vec::new();
    let mut components = Vec::new();
    let mut counter = 0;
    for root in 0..n {
        if index[root] != UNSEEN {
            continue;
        }
        // (node, next child position)
        let mut work: Vec<(usize, usize)> = vec![(root, 0)];
        index[root] = counter;
        low[root] = counter;
        counter += 1;
        stack.push(root);
        on_stack[root] = true;
        while let Some(&mut (node, ref mut next)) = work.last_mut() {
            if let Some(&child) = children[node].get(*next) {
                *next += 1;
                if index[child] == UNSEEN {
                    index[child] = counter;
                    low[child] = counter;
                    counter += 1;
                    stack.push(child);
                    on_stack[child] = true;
                    work.push((child, 0));
                } else if on_stack[child] {
                    low[node] = low[node].min(index[child]);
                }
                continue;
            }
            work.pop();
            if let Some(&(parent, _)) = work.last() {
                low[parent] = low[parent].min(low[node]);
            }
            if low[node] == index[node] {
                let start = stack.iter().rposition(|&x| x == node).unwrap_or(0);
                let component: Vec<usize> = stack.drain(start..).collect();
                for &x in &component {
                    on_stack[x] = false;
                }
                components.push(component);
            }
        }
    }
    components
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(vars: &[(&str, &str, bool)]) -> Vec<(String, String)> {
        expand_variables(vars)
    }

    fn get(result: &[(String, String)], name: &str) -> String {
        result
            .iter()
            .find(|(n, _)| n == name)
            .map_or_else(|| panic!("{name} missing"), |(_, v)| v.clone())
    }

    #[test]
    fn nested_references_expand_in_dependency_order() {
        let out = run(&[
            ("C", "$B-c", true),
            ("B", "${A}-b", true),
            ("A", "a", true),
            ("D", "%C%/d", true),
        ]);
        assert_eq!(get(&out, "A"), "a");
        assert_eq!(get(&out, "B"), "a-b");
        assert_eq!(get(&out, "C"), "a-b-c");
        assert_eq!(get(&out, "D"), "a-b-c/d");
        let names: Vec<&str> = out.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, vec!["C", "B", "A", "D"], "input order of names");
    }

    #[test]
    fn later_definitions_override() {
        let out = run(&[("A", "one", true), ("B", "$A", true), ("A", "two", true)]);
        assert_eq!(
            out,
            vec![("A".into(), "two".into()), ("B".into(), "two".into())]
        );
    }

    #[test]
    fn self_reference_stays_literal() {
        // Server keeps `$FOO`; the runner's single pass replaces it by FOO's value, `$FOO` again.
        let out = run(&[("FOO", "$FOO", true)]);
        assert_eq!(get(&out, "FOO"), "$FOO");
        let out = run(&[("FOO", "x-$FOO", true)]);
        assert_eq!(get(&out, "FOO"), "x-x-$FOO");
    }

    #[test]
    fn self_reference_sees_a_lower_precedence_definition() {
        // GitLab resolves `$PATH_X` to the other entry with that name, already expanded.
        let out = run(&[("PATH_X", "/bin", true), ("PATH_X", "$PATH_X:/opt", true)]);
        assert_eq!(get(&out, "PATH_X"), "/bin:/opt");
    }

    #[test]
    fn cycles_leave_values_unexpanded_on_the_server() {
        let defs = [
            VarDef::new("A", "$B"),
            VarDef::new("B", "$A"),
            VarDef::new("C", "c"),
            VarDef::new("D", "$C"),
        ];
        let out = expand_variable_defs(&defs);
        assert_eq!(
            out.cycle_error.as_deref(),
            Some("circular variable reference detected: [\"A\", \"B\"]")
        );
        // The runner still does its one pass: A = value of B = "$A"; D = "c".
        assert_eq!(get(&out.variables, "A"), "$A");
        assert_eq!(get(&out.variables, "B"), "$B");
        assert_eq!(get(&out.variables, "D"), "c");
    }

    #[test]
    fn longer_cycles_do_not_loop() {
        let vars: Vec<(String, String, bool)> = (0..200)
            .map(|i| (format!("V{i}"), format!("${{V{}}}", (i + 1) % 200), true))
            .collect();
        let out = expand_variables(&vars);
        assert_eq!(out.len(), 200);
        assert_eq!(get(&out, "V0"), "${V2}");
    }

    #[test]
    fn long_chains_expand_fully() {
        let mut vars: Vec<(String, String, bool)> = (0..5_000)
            .map(|i| (format!("V{i}"), format!("${{V{}}}x", i + 1), true))
            .collect();
        vars.push(("V5000".into(), "end".into(), true));
        let out = expand_variables(&vars);
        assert_eq!(get(&out, "V4998"), "endxx");
        assert_eq!(get(&out, "V0").len(), "end".len() + 5_000);
    }

    #[test]
    fn raw_variables_are_not_expanded_and_referenced_as_written() {
        // B is raw; C references B: the server leaves `$B`, the runner puts B's raw value.
        let out = run(&[
            ("A", "normal", true),
            ("B", "raw-$A", false),
            ("C", "$B", true),
        ]);
        assert_eq!(get(&out, "B"), "raw-$A");
        assert_eq!(get(&out, "C"), "raw-$A");
    }

    #[test]
    fn dollar_escapes_and_undefined() {
        let out = run(&[
            ("A", "$$HOME", true),
            ("B", "%%", true),
            ("C", "$UNDEFINED-x", true),
            ("D", "100%", true),
            ("E", "$$HOME", false),
        ]);
        assert_eq!(get(&out, "A"), "$HOME");
        assert_eq!(get(&out, "B"), "%%");
        assert_eq!(get(&out, "C"), "-x");
        assert_eq!(get(&out, "D"), "100%");
        assert_eq!(get(&out, "E"), "$$HOME");
    }

    #[test]
    fn percent_syntax_is_server_only() {
        let out = run(&[("A", "a", true), ("B", "%A%-%NOPE%", true)]);
        assert_eq!(get(&out, "B"), "a-%NOPE%");
    }

    #[test]
    fn file_variables_expand_to_their_path_in_the_runner_pass() {
        let defs = [
            VarDef {
                name: "KUBECONFIG_DATA",
                value: "apiVersion: v1",
                raw: false,
                file_path: Some("/tmp/KUBECONFIG_DATA"),
            },
            VarDef::new("KUBECONFIG", "$KUBECONFIG_DATA"),
        ];
        let out = expand_variable_defs(&defs);
        assert_eq!(get(&out.variables, "KUBECONFIG"), "/tmp/KUBECONFIG_DATA");
        assert_eq!(get(&out.variables, "KUBECONFIG_DATA"), "apiVersion: v1");
        assert_eq!(out.cycle_error, None);
    }

    #[test]
    fn empty_input() {
        assert!(run(&[]).is_empty());
    }

    #[test]
    fn tarjan_orders_dependencies_first() {
        let children = vec![vec![1], vec![2], vec![], vec![0, 3]];
        let comps = tarjan(&children);
        assert_eq!(comps, vec![vec![2], vec![1], vec![0], vec![3]]);
        let comps = tarjan(&[vec![1], vec![0]]);
        assert_eq!(comps, vec![vec![0, 1]]);
    }
}
