//! `parallel: N` and `parallel:matrix` expansion into job instances with GitLab's names.

use gantry_config::Parallel;

/// One instance of a job after parallel expansion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instance {
    pub name: String,
    /// `CI_NODE_INDEX` (1-based), only for parallel jobs.
    pub node_index: Option<u32>,
    pub node_total: u32,
    /// Matrix variables in key order.
    pub matrix: Vec<(String, String)>,
}

/// Expands a job name into its instances.
pub fn expand(name: &str, parallel: Option<&Parallel>) -> Vec<Instance> {
    match parallel {
        None => vec![Instance {
            name: name.to_string(),
            node_index: None,
            node_total: 1,
            matrix: Vec::new(),
        }],
        Some(Parallel::Count(n)) => (1..=*n)
            .map(|i| Instance {
                name: format!("{name} {i}/{n}"),
                node_index: Some(i),
                node_total: *n,
                matrix: Vec::new(),
            })
            .collect(),
        Some(Parallel::Matrix(entries)) => {
            let combos = matrix_combinations(entries);
            let total = u32::try_from(combos.len()).unwrap_or(u32::MAX);
            let mut out: Vec<Instance> = Vec::with_capacity(combos.len());
            for (i, combo) in combos.into_iter().enumerate() {
                let values: Vec<&str> = combo.iter().map(|(_, v)| v.as_str()).collect();
                let instance = Instance {
                    name: format!("{name}: [{}]", values.join(", ")),
                    node_index: Some(u32::try_from(i + 1).unwrap_or(u32::MAX)),
                    node_total: total,
                    matrix: combo,
                };
                // Identical value tuples produce identical names: the later one overwrites.
                if let Some(existing) = out.iter_mut().find(|o| o.name == instance.name) {
                    *existing = instance;
                } else {
                    out.push(instance);
                }
            }
            out
        }
    }
}

/// Every combination of a matrix, entries concatenated, the first key varying slowest.
pub fn matrix_combinations(entries: &[Vec<(String, Vec<String>)>]) -> Vec<Vec<(String, String)>> {
    let mut out = Vec::new();
    for entry in entries {
        let mut combos: Vec<Vec<(String, String)>> = vec![Vec::new()];
        for (key, values) in entry {
            let mut next = Vec::with_capacity(combos.len() * values.len());
            for combo in &combos {
                for value in values {
                    let mut c = combo.clone();
                    c.push((key.clone(), value.clone()));
                    next.push(c);
                }
            }
            combos = next;
        }
        out.extend(combos.into_iter().filter(|c| !c.is_empty()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_are_named_index_slash_total() {
        let names: Vec<String> = expand("test", Some(&Parallel::Count(3)))
            .into_iter()
            .map(|i| i.name)
            .collect();
        assert_eq!(names, ["test 1/3", "test 2/3", "test 3/3"]);
    }

    #[test]
    fn matrix_first_key_varies_slowest() {
        let m = Parallel::Matrix(vec![
            vec![
                ("PROVIDER".into(), vec!["aws".into(), "gcp".into()]),
                ("STACK".into(), vec!["app".into(), "data".into()]),
            ],
            vec![("PROVIDER".into(), vec!["ovh".into()])],
        ]);
        let got: Vec<(String, Option<u32>, u32)> = expand("deploy", Some(&m))
            .into_iter()
            .map(|i| (i.name, i.node_index, i.node_total))
            .collect();
        assert_eq!(
            got,
            [
                ("deploy: [aws, app]".to_string(), Some(1), 5),
                ("deploy: [aws, data]".to_string(), Some(2), 5),
                ("deploy: [gcp, app]".to_string(), Some(3), 5),
                ("deploy: [gcp, data]".to_string(), Some(4), 5),
                ("deploy: [ovh]".to_string(), Some(5), 5),
            ]
        );
    }
}
