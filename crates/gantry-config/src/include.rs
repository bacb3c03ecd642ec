//! `include`: finding, loading, interpolating and deep-merging included files, recursively.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use gantry_yaml::{Node, SourceFile, Span, Value};

use crate::diagnostic::Diagnostic;
use crate::inputs;
use crate::merge::deep_merge;

/// GitLab's limit on the size of one configuration file.
pub const MAX_FILE_BYTES: usize = 2 * 1024 * 1024;

/// GitLab's default limit on includes per pipeline, nested ones included.
pub const MAX_INCLUDES: usize = 150;

/// What include resolution needs to know about the world.
pub struct IncludeContext<'a> {
    /// The project checkout; `local` includes resolve against it.
    pub project_dir: &'a Path,
    /// `include:project` paths mapped to local checkouts (`group/project` => directory).
    pub project_mappings: &'a BTreeMap<String, PathBuf>,
    /// Variables usable in include locations and `include:rules` (pre-pipeline variables).
    pub variables: &'a dyn Fn(&str) -> Option<String>,
    /// Where remote includes are cached; `None` disables remote includes.
    pub remote_cache: Option<&'a Path>,
}

/// A file that was read while resolving includes, as reported by `lint`.
#[derive(Debug, Clone)]
pub struct IncludedFile {
    pub kind: &'static str,
    pub location: String,
    pub path: Option<PathBuf>,
}

/// Include resolution state for one pipeline.
pub struct Resolver<'a> {
    ctx: &'a IncludeContext<'a>,
    count: usize,
    stack: Vec<String>,
    pub included: Vec<IncludedFile>,
}

/// One configuration file: its optional `spec:` header and its content document.
pub struct LoadedFile {
    pub header: Option<Node>,
    pub content: Node,
    /// The text holds no document at all (only comments or whitespace).
    pub empty: bool,
}

/// Loads a configuration file the way GitLab does: documents split on `---`, an optional `spec:`
/// header document, then the content, which must be a hash.
pub fn load_file(file: &Arc<SourceFile>) -> Result<LoadedFile, Diagnostic> {
    let name = file.name.clone();
    if file.text.len() > MAX_FILE_BYTES {
        return Err(Diagnostic::error(
            format!("{name}: The parsed YAML is too big"),
            Some(&Span::new(file.clone(), 1, 1)),
        )
        .with_help("GitLab accepts configuration files up to 2 MiB; split it with `include:`"));
    }
    let docs = gantry_yaml::load_stream(file.clone()).map_err(|e| {
        Diagnostic::error(format!("{name}: {}", e.message), Some(&e.span))
            .with_help("fix the YAML syntax at this position")
    })?;
    let mut docs = docs.into_iter().filter(|d| !d.is_null());
    let first = docs.next();
    let second = docs.next();
    if let Some(extra) = docs.next() {
        return Err(Diagnostic::error(
            format!("{name}: Invalid configuration format: more than two YAML documents"),
            Some(&extra.span),
        ));
    }
    let empty = first.is_none();
    let (header, content) = match (first, second) {
        (Some(h), Some(c)) => (Some(h), c),
        (Some(only), None) => {
            let is_header = only
                .as_map()
                .is_some_and(|m| m.len() == 1 && m.contains_key("spec"));
            if is_header {
                (Some(only.clone()), empty_map(&only.span))
            } else {
                (None, only)
            }
        }
        (None, _) => (None, empty_map(&Span::new(file.clone(), 1, 1))),
    };
    for doc in header.iter().chain(std::iter::once(&content)) {
        if doc.as_map().is_none() {
            return Err(Diagnostic::error(
                format!("{name}: Invalid configuration format"),
                Some(&doc.span),
            )
            .with_help("the top level of a CI configuration must be a hash of keywords and jobs"));
        }
    }
    if let Some(h) = &header
        && !h.as_map().is_some_and(|m| m.contains_key("spec"))
    {
        return Err(Diagnostic::error(
            format!(
                "{name}: Invalid configuration format: the header document must contain only `spec:`"
            ),
            Some(&h.span),
        ));
    }
    Ok(LoadedFile {
        header,
        content,
        empty,
    })
}

fn empty_map(span: &Span) -> Node {
    Node::new(Value::Map(gantry_yaml::Mapping::default()), span.clone())
}

impl<'a> Resolver<'a> {
    pub fn new(ctx: &'a IncludeContext<'a>) -> Self {
        Self {
            ctx,
            count: 0,
            stack: Vec::new(),
            included: Vec::new(),
        }
    }

    /// Expands the `include` entries of `content` (nested first) and merges: includes in order,
    /// then the file itself on top. `base_dir` is the root that `local` includes in this file
    /// resolve against (another project's checkout for files of `include:project`).
    pub fn expand(
        &mut self,
        mut content: Node,
        base_dir: &Path,
        this_file: &str,
        errors: &mut Vec<Diagnostic>,
    ) -> Node {
        let Some(map) = content.as_map_mut() else {
            return content;
        };
        let Some(include) = map.remove("include") else {
            return content;
        };
        self.stack.push(this_file.to_string());
        let mut merged = empty_map(&content.span);
        for entry in include_entries(&include) {
            match self.load_entry(&entry, base_dir, errors) {
                Ok(files) => {
                    for (node, dir, name) in files {
                        let expanded = self.expand(node, &dir, &name, errors);
                        deep_merge(&mut merged, expanded);
                    }
                }
                Err(e) => errors.push(e),
            }
        }
        self.stack.pop();
        deep_merge(&mut merged, content);
        merged
    }

    /// Loads the files one include entry stands for (a wildcard can stand for several).
    fn load_entry(
        &mut self,
        entry: &Node,
        base_dir: &Path,
        errors: &mut Vec<Diagnostic>,
    ) -> Result<Vec<(Node, PathBuf, String)>, Diagnostic> {
        let owned;
        let map = match &entry.value {
            Value::Str(s) => {
                let key = if s.starts_with("http://") || s.starts_with("https://") {
                    "remote"
                } else {
                    "local"
                };
                owned = single_key_map(key, entry);
                owned.as_map().expect("constructed map")
            }
            Value::Map(m) => m,
            _ => {
                return Err(Diagnostic::error(
                    "include config should be a hash or a string",
                    Some(&entry.span),
                ));
            }
        };
        for (key, _) in &map.entries {
            let known = [
                "local",
                "project",
                "file",
                "ref",
                "remote",
                "template",
                "component",
                "inputs",
                "rules",
                "integrity",
            ];
            if !key.as_str().is_some_and(|k| known.contains(&k)) {
                return Err(Diagnostic::error(
                    format!(
                        "include config contains unknown keys: {}",
                        key.value.scalar_to_string().unwrap_or_default()
                    ),
                    Some(&key.span),
                ));
            }
        }
        if let Some(rules) = map.get("rules")
            && !self.rules_match(rules, base_dir)?
        {
            return Ok(Vec::new());
        }
        let given_inputs = map.get("inputs");
        let text_of = |key: &str| -> Result<Option<(String, &Node)>, Diagnostic> {
            match map.get(key) {
                None => Ok(None),
                Some(node) => match node.as_str() {
                    Some(s) => Ok(Some((self.expand_location(s), node))),
                    None => Err(Diagnostic::error(
                        format!("include:{key} config should be a string"),
                        Some(&node.span),
                    )),
                },
            }
        };
        if let Some((path, node)) = text_of("local")? {
            return self.load_local(&path, node, base_dir, given_inputs, "local", errors);
        }
        if let Some(project_node) = map.get("project") {
            let project = self.expand_location(project_node.as_str().unwrap_or_default());
            let Some(dir) = self.ctx.project_mappings.get(&project).cloned() else {
                return Err(Diagnostic::error(
                    format!("Project `{project}` not found or access denied! Make sure any includes in the pipeline configuration are correctly defined."),
                    Some(&project_node.span),
                )
                .with_help(format!(
                    "Gantry reads `include:project` from a local checkout: pass `--project-dir {project}=PATH`"
                )));
            };
            let files: Vec<&Node> = match map.get("file") {
                Some(n) if n.as_seq().is_some() => n.as_seq().unwrap_or_default().iter().collect(),
                Some(n) => vec![n],
                None => {
                    return Err(Diagnostic::error(
                        "include config must specify the file where to fetch the config from",
                        Some(&entry.span),
                    ));
                }
            };
            let mut out = Vec::new();
            for file in files {
                let path = self.expand_location(file.as_str().unwrap_or_default());
                out.extend(self.load_local(&path, file, &dir, given_inputs, "project", errors)?);
            }
            return Ok(out);
        }
        if let Some((url, node)) = text_of("remote")? {
            return self.load_remote(&url, node, given_inputs);
        }
        if let Some((name, node)) = text_of("template")? {
            return Err(Diagnostic::error(
                format!("Included template `{name}` is not available offline"),
                Some(&node.span),
            )
            .with_help("GitLab's templates are not shipped with Gantry; vendor the template into the repository and include it with `include:local`"));
        }
        if let Some((name, node)) = text_of("component")? {
            return Err(Diagnostic::error(
                format!("Included component `{name}` cannot be fetched: CI/CD components need a GitLab server"),
                Some(&node.span),
            )
            .with_help("map the component's project to a local checkout and include its template with `include:project`"));
        }
        Err(Diagnostic::error(
            "include config should contain one of: local, project, remote, template, component",
            Some(&entry.span),
        ))
    }

    fn expand_location(&self, s: &str) -> String {
        gantry_expr::expand::expand_runner(s, |v: &str| (self.ctx.variables)(v))
    }

    fn count_one(&mut self, span: &Span) -> Result<(), Diagnostic> {
        self.count += 1;
        if self.count > MAX_INCLUDES {
            return Err(Diagnostic::error(
                format!("Maximum of {MAX_INCLUDES} nested includes are allowed!"),
                Some(span),
            ));
        }
        Ok(())
    }

    fn load_local(
        &mut self,
        location: &str,
        node: &Node,
        base_dir: &Path,
        given_inputs: Option<&Node>,
        kind: &'static str,
        _errors: &mut Vec<Diagnostic>,
    ) -> Result<Vec<(Node, PathBuf, String)>, Diagnostic> {
        let relative = location.trim_start_matches('/');
        let paths: Vec<String> = if relative.contains('*') {
            let glob = gantry_expr::glob::IncludeGlob::new(relative).map_err(|e| {
                Diagnostic::error(
                    format!("invalid include wildcard `{relative}`: {e}"),
                    Some(&node.span),
                )
            })?;
            let mut found = Vec::new();
            list_files(base_dir, base_dir, &mut found);
            found.sort();
            found.retain(|p| glob.matches(p));
            found
        } else {
            vec![relative.to_string()]
        };
        let wildcard = relative.contains('*');
        let mut out = Vec::new();
        for path in paths {
            self.count_one(&node.span)?;
            // GitLab's check is case-insensitive (`/.+\.(yml|yaml)$/i`).
            let extension = Path::new(&path)
                .extension()
                .map(|e| e.to_string_lossy().to_ascii_lowercase());
            if !matches!(extension.as_deref(), Some("yml" | "yaml")) {
                return Err(Diagnostic::error(
                    format!("Included file `{path}` does not have YAML extension!"),
                    Some(&node.span),
                ));
            }
            if self.stack.iter().any(|s| s == &path) {
                return Err(Diagnostic::error(
                    format!(
                        "Included file `{path}` includes itself (include cycle: {} -> {path})",
                        self.stack.join(" -> ")
                    ),
                    Some(&node.span),
                ));
            }
            let full = base_dir.join(&path);
            let text = match fs_err::read_to_string(&full) {
                Ok(text) => text,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound || full.is_dir() => {
                    return Err(Diagnostic::error(
                        format!("Local file `{path}` does not exist!"),
                        Some(&node.span),
                    ));
                }
                Err(e) => return Err(Diagnostic::error(e.to_string(), Some(&node.span))),
            };
            if text.trim().is_empty() {
                return Err(Diagnostic::error(
                    format!("Local file `{path}` is empty!"),
                    Some(&node.span),
                ));
            }
            let display = display_name(self.ctx.project_dir, &full);
            let loaded = Self::parse_included(&display, text, &path)?;
            let content =
                self.apply_inputs(loaded, if wildcard { None } else { given_inputs }, &path)?;
            self.included.push(IncludedFile {
                kind,
                location: path.clone(),
                path: Some(full),
            });
            out.push((content, base_dir.to_path_buf(), path));
        }
        Ok(out)
    }

    fn parse_included(display: &str, text: String, path: &str) -> Result<LoadedFile, Diagnostic> {
        let file = SourceFile::new(display, text);
        let span = Span::new(file.clone(), 1, 1);
        let loaded = load_file(&file).map_err(|mut d| {
            if !d.message.contains("Included file") {
                d.message = format!(
                    "Included file `{path}` does not have valid YAML syntax! ({})",
                    d.message
                );
            }
            d
        })?;
        // A file of comments only parses to nothing: GitLab calls that invalid YAML.
        if loaded.empty {
            return Err(Diagnostic::error(
                format!("Included file `{path}` does not have valid YAML syntax!"),
                Some(&span),
            ));
        }
        Ok(loaded)
    }

    fn apply_inputs(
        &self,
        loaded: LoadedFile,
        given: Option<&Node>,
        path: &str,
    ) -> Result<Node, Diagnostic> {
        let spec = loaded
            .header
            .as_ref()
            .and_then(Node::as_map)
            .and_then(|m| m.get("spec"));
        let mut content = loaded.content;
        if spec.is_some() || given.is_some() {
            let values = inputs::resolve_inputs(spec, given, path)?;
            inputs::interpolate(&mut content, &values, self.ctx.variables)?;
        }
        Ok(content)
    }

    fn load_remote(
        &mut self,
        url: &str,
        node: &Node,
        given_inputs: Option<&Node>,
    ) -> Result<Vec<(Node, PathBuf, String)>, Diagnostic> {
        self.count_one(&node.span)?;
        let Some(cache) = self.ctx.remote_cache else {
            return Err(Diagnostic::error(
                format!("Remote file `{url}` could not be fetched: remote includes are disabled"),
                Some(&node.span),
            ));
        };
        let digest = {
            use sha2::Digest as _;
            let hash = sha2::Sha256::digest(url.as_bytes());
            hash.iter().fold(String::new(), |mut out, b| {
                let _ = write!(out, "{b:02x}");
                out
            })
        };
        let cached = cache.join(format!("{digest}.yml"));
        let text = if let Ok(text) = fs_err::read_to_string(&cached) {
            text
        } else {
            let output = std::process::Command::new("curl")
                .args(["-fsSL", "--max-time", "30", url])
                .output();
            match output {
                Ok(out) if out.status.success() => {
                    let text = String::from_utf8_lossy(&out.stdout).into_owned();
                    let _ = fs_err::create_dir_all(cache);
                    let _ = fs_err::write(&cached, &text);
                    text
                }
                Ok(out) => {
                    return Err(Diagnostic::error(
                        format!(
                            "Remote file `{url}` could not be fetched because of an error: {}",
                            String::from_utf8_lossy(&out.stderr).trim()
                        ),
                        Some(&node.span),
                    )
                    .with_help(format!(
                        "Gantry caches remote includes in {}; fetch it once while online, or vendor the file and use `include:local`",
                        cache.display()
                    )));
                }
                Err(e) => {
                    return Err(Diagnostic::error(
                        format!("Remote file `{url}` could not be fetched: curl: {e}"),
                        Some(&node.span),
                    ));
                }
            }
        };
        let loaded = Self::parse_included(url, text, url)?;
        let content = self.apply_inputs(loaded, given_inputs, url)?;
        self.included.push(IncludedFile {
            kind: "remote",
            location: url.to_string(),
            path: Some(cached),
        });
        Ok(vec![(
            content,
            self.ctx.project_dir.to_path_buf(),
            url.to_string(),
        )])
    }

    fn rules_match(&self, rules: &Node, base_dir: &Path) -> Result<bool, Diagnostic> {
        let Some(list) = rules.as_seq() else {
            return Err(Diagnostic::error(
                "include rules should be an array of hashes",
                Some(&rules.span),
            ));
        };
        for rule in list {
            let Some(map) = rule.as_map() else {
                return Err(Diagnostic::error(
                    "include rule should be a hash",
                    Some(&rule.span),
                ));
            };
            let mut matched = true;
            if let Some(cond) = map.get("if") {
                let text = cond.as_str().unwrap_or_default();
                let expr = gantry_expr::expression::Expression::parse(text).map_err(|_| {
                    Diagnostic::error(
                        "include:rule if invalid expression syntax",
                        Some(&cond.span),
                    )
                })?;
                matched &= expr.evaluate(&|v: &str| (self.ctx.variables)(v));
            }
            if let Some(exists) = map.get("exists") {
                matched &= crate::files::any_exists(base_dir, exists);
            }
            // `changes` has no diff to compare against for include rules evaluated locally:
            // GitLab treats a missing diff as a match.
            if matched {
                let when = map.get("when").and_then(Node::as_str).unwrap_or("always");
                return Ok(when != "never");
            }
        }
        Ok(false)
    }
}

fn single_key_map(key: &str, value: &Node) -> Node {
    let mut map = gantry_yaml::Mapping::default();
    map.insert(
        Node::new(Value::Str(key.to_string()), value.span.clone()),
        value.clone(),
    );
    Node::new(Value::Map(map), value.span.clone())
}

/// The include entries of an `include:` value (a string, a hash or a list of them).
fn include_entries(include: &Node) -> Vec<Node> {
    match &include.value {
        Value::Seq(items) => items.clone(),
        Value::Null => Vec::new(),
        _ => vec![include.clone()],
    }
}

fn display_name(project_dir: &Path, full: &Path) -> String {
    full.strip_prefix(project_dir)
        .map_or_else(|_| full.display().to_string(), |p| p.display().to_string())
}

/// Every file below `dir` as a `/`-separated path relative to `root` (skipping `.git` and
/// `.gantry`).
pub fn list_files(root: &Path, dir: &Path, out: &mut Vec<String>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        if name == ".git" || name == ".gantry" {
            continue;
        }
        let path = entry.path();
        match entry.file_type() {
            Ok(t) if t.is_dir() => list_files(root, &path, out),
            Ok(t) if t.is_file() => {
                if let Ok(rel) = path.strip_prefix(root) {
                    out.push(rel.to_string_lossy().replace('\\', "/"));
                }
            }
            _ => {}
        }
    }
}
