//! Parsed Dockerfile instructions (arguments still unexpanded: variables are substituted by
//! the builder, which knows ARG and ENV values at each step).

use std::path::PathBuf;

/// `RUN`, `CMD` and `ENTRYPOINT` arguments: shell form or exec (JSON) form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommandForm {
    /// `RUN echo hi` — run with the stage's `SHELL` (default `/bin/sh -c`).
    Shell(String),
    /// `RUN ["echo", "hi"]`.
    Exec(Vec<String>),
}

/// A heredoc body (`RUN <<EOF ... EOF`, `COPY <<EOF /dest ... EOF`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Heredoc {
    /// The delimiter word.
    pub name: String,
    /// The body, each line ending in `\n`.
    pub content: String,
    /// `<<"EOF"` / `<<'EOF'`: no variable expansion in the body.
    pub quoted: bool,
}

/// `COPY`/`ADD` arguments.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CopyArgs {
    /// Sources (context-relative paths or globs, or heredoc names).
    pub sources: Vec<String>,
    /// Destination (absolute, or relative to `WORKDIR`).
    pub dest: String,
    /// `--from=<stage|image>` (COPY only).
    pub from: Option<String>,
    /// `--chown=<user>[:<group>]`.
    pub chown: Option<String>,
    /// `--chmod=<octal>`.
    pub chmod: Option<String>,
    /// Heredoc bodies used as sources.
    pub heredocs: Vec<Heredoc>,
}

/// What an instruction does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InstructionKind {
    /// `FROM image [AS name]` with an optional `--platform`.
    From {
        /// Image, `scratch` or an earlier stage's name.
        image: String,
        /// `AS name`.
        alias: Option<String>,
        /// `--platform=...`.
        platform: Option<String>,
    },
    /// `RUN`.
    Run {
        /// The command.
        command: CommandForm,
        /// Heredocs fed to the shell (`RUN <<EOF`).
        heredocs: Vec<Heredoc>,
    },
    /// `COPY`.
    Copy(CopyArgs),
    /// `ADD` (local files and local tar archives).
    Add(CopyArgs),
    /// `ENV k=v ...` (raw words, expanded later).
    Env(Vec<(String, String)>),
    /// `LABEL k=v ...`.
    Label(Vec<(String, String)>),
    /// `ARG name[=default] ...`.
    Arg(Vec<(String, Option<String>)>),
    /// `WORKDIR`.
    Workdir(String),
    /// `USER`.
    User(String),
    /// `EXPOSE port[/proto] ...`.
    Expose(Vec<String>),
    /// `ENTRYPOINT`.
    Entrypoint(CommandForm),
    /// `CMD`.
    Cmd(CommandForm),
    /// `VOLUME`.
    Volume(Vec<String>),
    /// `STOPSIGNAL`.
    StopSignal(String),
    /// `SHELL ["executable", "params"]`.
    Shell(Vec<String>),
    /// `MAINTAINER` (deprecated; sets the author).
    Maintainer(String),
    /// `HEALTHCHECK` (kept in the config as given; `NONE` disables).
    Healthcheck(String),
}

/// One instruction with where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instruction {
    /// 1-based line of the keyword.
    pub line: usize,
    /// The instruction as written (continuations joined), for history and messages.
    pub text: String,
    /// What it does.
    pub kind: InstructionKind,
}

impl Instruction {
    /// The keyword, upper case.
    pub fn keyword(&self) -> &str {
        self.text.split_whitespace().next().unwrap_or("")
    }
}

/// A build stage: a `FROM` and what follows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stage {
    /// 0-based index.
    pub index: usize,
    /// The `FROM` instruction.
    pub from: Instruction,
    /// The `AS` name.
    pub alias: Option<String>,
    /// Everything after `FROM` until the next `FROM`.
    pub instructions: Vec<Instruction>,
}

/// A parsed Dockerfile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dockerfile {
    /// Where it was read from (for messages).
    pub path: PathBuf,
    /// `ARG`s before the first `FROM`.
    pub global_args: Vec<Instruction>,
    /// The stages, in order.
    pub stages: Vec<Stage>,
}

impl Dockerfile {
    /// The stage named `name` (case-insensitive) or with that index.
    pub fn stage(&self, name: &str) -> Option<&Stage> {
        self.stages
            .iter()
            .find(|s| {
                s.alias
                    .as_deref()
                    .is_some_and(|a| a.eq_ignore_ascii_case(name))
            })
            .or_else(|| name.parse::<usize>().ok().and_then(|i| self.stages.get(i)))
    }
}
