//! A fluent builder for CLI integration tests: a git repository with a pipeline, the `gantry`
//! command to run in it, and assertions on what came out.

#![allow(dead_code)]

use std::process::Command;

use gantry_test_support::GitRepo;

pub struct Test {
    pub repo: GitRepo,
    args: Vec<String>,
    env: Vec<(String, String)>,
}

pub struct Outcome {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Test {
    /// A repository whose `.gitlab-ci.yml` is `yaml`, committed on `main` with an origin.
    pub fn new(yaml: &str) -> Self {
        Self {
            repo: GitRepo::with_pipeline(yaml),
            args: Vec::new(),
            env: Vec::new(),
        }
    }

    pub fn from_repo(repo: GitRepo) -> Self {
        Self {
            repo,
            args: Vec::new(),
            env: Vec::new(),
        }
    }

    /// Adds (uncommitted) file to the work tree.
    #[must_use]
    pub fn file(mut self, path: &str, contents: &str) -> Self {
        self.repo = self.repo.file(path, contents);
        self
    }

    /// The same repository, with the arguments cleared (to run gantry again).
    #[must_use]
    pub fn again(mut self) -> Self {
        self.args.clear();
        self
    }

    #[must_use]
    pub fn args(mut self, args: &[&str]) -> Self {
        self.args.extend(args.iter().map(|s| (*s).to_string()));
        self
    }

    #[must_use]
    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.env.push((key.into(), value.into()));
        self
    }

    pub fn command(&self) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_gantry"));
        for k in GitRepo::inherited_git_vars() {
            cmd.env_remove(k);
        }
        cmd.envs(self.repo.env())
            .env("NO_COLOR", "1")
            .env("GANTRY_CACHE_DIR", self.repo.home().join("cache"))
            .current_dir(self.repo.path());
        // The subcommand goes first, whatever order the test added arguments in.
        let commands = ["lint", "list", "preview", "run"];
        let mut args = self.args.clone();
        if let Some(pos) = args.iter().position(|a| commands.contains(&a.as_str())) {
            let command = args.remove(pos);
            args.insert(0, command);
        }
        cmd.args(&args);
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        cmd
    }

    pub fn run(&self) -> Outcome {
        let out = self.command().output().expect("run gantry");
        Outcome {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// Runs and asserts the exit code.
    pub fn expect_code(&self, code: i32) -> Outcome {
        let out = self.run();
        assert_eq!(
            out.code, code,
            "exit code of gantry {:?}\n--- stdout\n{}\n--- stderr\n{}",
            self.args, out.stdout, out.stderr
        );
        out
    }

    /// `gantry list -o json` names.
    pub fn job_names(self) -> Vec<String> {
        let out = self.args(&["list", "-o", "json"]).expect_code(0);
        let value: serde_json::Value = serde_json::from_str(&out.stdout).expect("json");
        value
            .as_array()
            .expect("array")
            .iter()
            .map(|j| j["name"].as_str().expect("name").to_string())
            .collect()
    }
}
