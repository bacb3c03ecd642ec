//! `JobEnvironment`: a job's final variables as the runner computes them — precedence with
//! dotenv variables, engine-owned variables, one `os.Expand` pass, file variables written to
//! files, and the set of values to mask.

use std::collections::HashMap;
use std::io;
use std::path::Path;

use crate::expand::expand;
use crate::spec::{JobVariable, VariableSource};

/// The environment a job's shells run with.
#[derive(Clone, Debug, Default)]
pub(crate) struct JobEnvironment {
    /// `(key, value)` in precedence order: later entries win.
    vars: Vec<(String, String)>,
    /// Values to mask in the log.
    masked: Vec<String>,
    /// Keys of pipeline (user), masked and file variables: not given to service containers.
    private: std::collections::HashSet<String>,
}

/// Variables the engine owns; they win over same-named spec variables because the spec cannot
/// know the per-job paths.
pub(crate) struct EngineVariables<'a> {
    pub(crate) project_dir: &'a Path,
    pub(crate) builds_dir: &'a Path,
    pub(crate) tmp_dir: &'a Path,
    pub(crate) gitlab_env: &'a Path,
    pub(crate) timeout_secs: u64,
    /// Where file variables are written; `tmp_dir` is the path the job sees (they differ when
    /// the job runs in a container).
    pub(crate) files_dir: &'a Path,
}

impl JobEnvironment {
    /// Builds the environment: `spec_vars` (server-expanded), `dotenv` from dependencies (they beat
    /// predefined and YAML variables, not pipeline variables), then the engine's own variables.
    /// File variables are written below `engine.tmp_dir`.
    pub(crate) fn build(
        spec_vars: &[JobVariable],
        dotenv: &[(String, String)],
        engine: &EngineVariables<'_>,
    ) -> io::Result<Self> {
        let mut ordered: Vec<JobVariable> = Vec::with_capacity(spec_vars.len() + dotenv.len() + 8);
        ordered.push(JobVariable::new(
            "CI_JOB_TIMEOUT",
            engine.timeout_secs.to_string(),
        ));
        ordered.extend(
            spec_vars
                .iter()
                .filter(|v| v.source != VariableSource::Pipeline)
                .cloned(),
        );
        ordered.extend(dotenv.iter().map(|(k, v)| JobVariable::new(k, v)));
        ordered.extend(
            spec_vars
                .iter()
                .filter(|v| v.source == VariableSource::Pipeline)
                .cloned(),
        );
        let path = |p: &Path| p.to_string_lossy().into_owned();
        let mut owned = vec![
            ("CI_PROJECT_DIR", path(engine.project_dir)),
            ("CI_BUILDS_DIR", path(engine.builds_dir)),
            ("RUNNER_TEMP_PROJECT_DIR", path(engine.tmp_dir)),
            ("GITLAB_ENV", path(engine.gitlab_env)),
            ("CI_JOB_STATUS", "running".to_owned()),
        ];
        ordered.retain(|v| !owned.iter().any(|(k, _)| *k == v.key));
        for (k, v) in owned.drain(..) {
            let mut var = JobVariable::new(k, v);
            var.raw = true;
            ordered.push(var);
        }

        // Lookup table for the expansion pass: last occurrence wins, file variables hold paths.
        let file_path = |key: &str| path(&engine.tmp_dir.join(key));
        let private = ordered
            .iter()
            .filter(|v| v.source == VariableSource::Pipeline || v.masked || v.file)
            .map(|v| v.key.clone())
            .collect();
        let mut table: HashMap<&str, String> = HashMap::with_capacity(ordered.len());
        for v in &ordered {
            let value = if v.file {
                file_path(&v.key)
            } else {
                v.value.clone()
            };
            table.insert(v.key.as_str(), value);
        }

        let mut vars = Vec::with_capacity(ordered.len());
        let mut masked = Vec::new();
        let mut written_files = false;
        for v in &ordered {
            let value = if v.raw {
                v.value.clone()
            } else {
                expand(&v.value, |name| table.get(name).map(String::as_str))
            };
            if v.masked || v.key == "CI_JOB_TOKEN" {
                masked.push(v.value.clone());
                masked.push(value.clone());
            }
            if v.file {
                if !written_files {
                    fs_err::create_dir_all(engine.files_dir)?;
                    written_files = true;
                }
                if is_valid_name(&v.key) {
                    fs_err::write(engine.files_dir.join(&v.key), value.as_bytes())?;
                }
                vars.push((v.key.clone(), file_path(&v.key)));
            } else {
                vars.push((v.key.clone(), value));
            }
        }
        masked.retain(|m| !m.is_empty());
        Ok(Self {
            vars,
            masked,
            private,
        })
    }

    /// Appends (overrides) a variable.
    pub(crate) fn set(&mut self, key: &str, value: impl Into<String>) {
        self.vars.push((key.to_owned(), value.into()));
    }

    /// The effective value of `key`.
    pub(crate) fn get(&self, key: &str) -> Option<&str> {
        self.vars
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// All entries, later ones winning.
    pub(crate) fn entries(&self) -> &[(String, String)] {
        &self.vars
    }

    /// Entries without pipeline, masked and file variables (what services see).
    pub(crate) fn public_entries(&self) -> Vec<(String, String)> {
        self.vars
            .iter()
            .filter(|(k, _)| !self.private.contains(k))
            .cloned()
            .collect()
    }

    /// Values to mask.
    pub(crate) fn masked_values(&self) -> &[String] {
        &self.masked
    }

    /// Expands `$VAR` in a keyword value (artifact name/paths, cache key/paths) the way the
    /// runner's helper does.
    pub(crate) fn expand(&self, input: &str) -> String {
        expand(input, |name| self.get(name))
    }

    /// Adds the `KEY=value` lines a script wrote to `$GITLAB_ENV`.
    pub(crate) fn load_gitlab_env(&mut self, file: &Path) {
        let Ok(content) = fs_err::read_to_string(file) else {
            return;
        };
        for line in content.lines() {
            if let Some((key, value)) = line.split_once('=')
                && is_valid_name(key)
            {
                self.set(key, value);
            }
        }
    }
}

/// `[A-Za-z_][A-Za-z0-9_]*`.
pub(crate) fn is_valid_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    bytes
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn precedence_expansion_and_files() {
        let dir = tempfile::tempdir().unwrap();
        let mut pipeline = JobVariable::new("P", "pipeline");
        pipeline.source = VariableSource::Pipeline;
        let mut file = JobVariable::new("CERT", "content $A");
        file.file = true;
        let mut raw = JobVariable::new("R", "$A");
        raw.raw = true;
        let mut secret = JobVariable::new("S", "hunter22");
        secret.masked = true;
        let vars = vec![
            JobVariable::new("A", "yaml"),
            JobVariable::new("P", "yaml"),
            JobVariable::new("B", "$A/$CERT/$$"),
            JobVariable::new("CI_PROJECT_DIR", "/wrong"),
            pipeline,
            file,
            raw,
            secret,
        ];
        let dotenv = vec![
            ("A".to_owned(), "dotenv".to_owned()),
            ("P".to_owned(), "dotenv".to_owned()),
        ];
        let engine = EngineVariables {
            project_dir: Path::new("/p"),
            builds_dir: Path::new("/b"),
            tmp_dir: dir.path(),
            gitlab_env: &dir.path().join("env"),
            timeout_secs: 60,
            files_dir: dir.path(),
        };
        let env = JobEnvironment::build(&vars, &dotenv, &engine).unwrap();
        assert_eq!(env.get("A"), Some("dotenv"));
        assert_eq!(env.get("P"), Some("pipeline"));
        let cert = dir.path().join("CERT");
        assert_eq!(
            env.get("B"),
            Some(format!("dotenv/{}/$", cert.display()).as_str())
        );
        assert_eq!(env.get("CERT"), Some(cert.to_str().unwrap()));
        assert_eq!(fs_err::read_to_string(&cert).unwrap(), "content dotenv");
        assert_eq!(env.get("R"), Some("$A"));
        assert_eq!(env.get("CI_PROJECT_DIR"), Some("/p"));
        assert!(env.masked_values().iter().any(|m| m == "hunter22"));
    }
}
