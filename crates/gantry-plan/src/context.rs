//! The pipeline context: which ref the pipeline runs for, from which source, with which user
//! variables — and the predefined variables that follow from it.

use std::path::{Path, PathBuf};

use crate::git::{GitFacts, parse_remote};

/// A variable given by the user (`--variable`, a variables file): the level of GitLab's
/// project and pipeline variables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserVariable {
    pub name: String,
    pub value: String,
    pub masked: bool,
    /// File-type: the job sees the path of a file holding the value.
    pub file: bool,
    /// `expand: false`.
    pub raw: bool,
}

/// What the user asked for on the command line.
#[derive(Debug, Clone, Default)]
pub struct ContextOptions {
    pub project_dir: PathBuf,
    /// Path of the configuration file relative to the project (`.gitlab-ci.yml`).
    pub config_path: String,
    /// Run as a pipeline for this branch (default: the checked-out branch).
    pub branch: Option<String>,
    /// Run as a pipeline for this tag.
    pub tag: Option<String>,
    /// `CI_PIPELINE_SOURCE` (default `push`).
    pub source: Option<String>,
    pub variables: Vec<UserVariable>,
    /// Container registry host (`CI_REGISTRY`).
    pub registry: Option<String>,
}

/// Everything about one pipeline that does not depend on a particular job.
#[derive(Debug, Clone)]
pub struct PipelineContext {
    pub project_dir: PathBuf,
    pub git: GitFacts,
    pub ref_name: String,
    pub branch: Option<String>,
    pub tag: Option<String>,
    pub source: String,
    pub default_branch: String,
    pub project_path: String,
    pub server_host: String,
    pub user_variables: Vec<UserVariable>,
    /// Predefined variables known at pipeline creation (usable in rules), in definition order.
    pub predefined: Vec<(String, String)>,
    pub registry: Option<String>,
}

/// The 63-character slug GitLab uses for `CI_COMMIT_REF_SLUG` and friends.
pub fn slug(s: &str) -> String {
    gantry_expr::slug::slugify(s)
}

impl PipelineContext {
    pub fn new(options: &ContextOptions) -> Self {
        let git = GitFacts::read(&options.project_dir);
        Self::with_git(options, git)
    }

    pub fn with_git(options: &ContextOptions, git: GitFacts) -> Self {
        let source = options.source.clone().unwrap_or_else(|| "push".into());
        let default_branch = git
            .default_branch
            .clone()
            .or_else(|| git.branch.clone())
            .unwrap_or_else(|| "main".into());
        let (tag, branch) = match (&options.tag, &options.branch) {
            (Some(tag), _) => (Some(tag.clone()), None),
            (None, Some(branch)) => (None, Some(branch.clone())),
            (None, None) => (
                None,
                Some(git.branch.clone().unwrap_or_else(|| default_branch.clone())),
            ),
        };
        let ref_name = tag.clone().or_else(|| branch.clone()).unwrap_or_default();
        let (server_host, project_path) = git
            .origin_url
            .as_deref()
            .and_then(parse_remote)
            .unwrap_or_else(|| {
                let dir_name = options
                    .project_dir
                    .canonicalize()
                    .ok()
                    .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
                    .unwrap_or_else(|| "project".into());
                ("gitlab.localhost".into(), format!("local/{dir_name}"))
            });
        let mut ctx = Self {
            project_dir: options.project_dir.clone(),
            git,
            ref_name,
            branch,
            tag,
            source,
            default_branch,
            project_path,
            server_host,
            user_variables: options.variables.clone(),
            predefined: Vec::new(),
            registry: options.registry.clone(),
        };
        ctx.predefined = ctx.compute_predefined(&options.config_path);
        ctx
    }

    pub fn project_dir(&self) -> &Path {
        &self.project_dir
    }

    /// Whether the ref counts as protected (GitLab protects the default branch by default).
    pub fn protected(&self) -> bool {
        self.branch.as_deref() == Some(self.default_branch.as_str())
    }

    fn compute_predefined(&self, config_path: &str) -> Vec<(String, String)> {
        let mut v: Vec<(String, String)> = Vec::with_capacity(64);
        let mut set = |k: &str, val: String| v.push((k.to_string(), val));
        let sha = if self.git.sha.is_empty() {
            "0".repeat(40)
        } else {
            self.git.sha.clone()
        };
        let server_url = format!("https://{}", self.server_host);
        let project_url = format!("{server_url}/{}", self.project_path);
        let (namespace, name) = self
            .project_path
            .rsplit_once('/')
            .map_or((String::new(), self.project_path.clone()), |(a, b)| {
                (a.to_string(), b.to_string())
            });
        let root_namespace = self
            .project_path
            .split('/')
            .next()
            .unwrap_or_default()
            .to_string();
        set("CI", "true".into());
        set("GITLAB_CI", "true".into());
        set("CI_SERVER", "yes".into());
        set("CI_SERVER_NAME", "GitLab".into());
        set("CI_SERVER_URL", server_url.clone());
        set("CI_SERVER_HOST", self.server_host.clone());
        set("CI_SERVER_PORT", "443".into());
        set("CI_SERVER_PROTOCOL", "https".into());
        set("CI_SERVER_FQDN", self.server_host.clone());
        set("CI_SERVER_VERSION", "18.6.0".into());
        set("CI_SERVER_VERSION_MAJOR", "18".into());
        set("CI_SERVER_VERSION_MINOR", "6".into());
        set("CI_SERVER_VERSION_PATCH", "0".into());
        set("CI_API_V4_URL", format!("{server_url}/api/v4"));
        set("CI_API_GRAPHQL_URL", format!("{server_url}/api/graphql"));
        set("CI_PROJECT_PATH", self.project_path.clone());
        set("CI_PROJECT_PATH_SLUG", slug(&self.project_path));
        set("CI_PROJECT_NAME", name.clone());
        set("CI_PROJECT_TITLE", name);
        set("CI_PROJECT_NAMESPACE", namespace.clone());
        set("CI_PROJECT_NAMESPACE_SLUG", slug(&namespace));
        set("CI_PROJECT_ROOT_NAMESPACE", root_namespace.clone());
        set("CI_PROJECT_ROOT_NAMESPACE_SLUG", slug(&root_namespace));
        set("CI_PROJECT_URL", project_url.clone());
        set("CI_PROJECT_VISIBILITY", "private".into());
        set("CI_PROJECT_ID", "1".into());
        set("CI_CONFIG_PATH", config_path.to_string());
        set("CI_DEFAULT_BRANCH", self.default_branch.clone());
        set("CI_DEFAULT_BRANCH_SLUG", slug(&self.default_branch));
        set("CI_PIPELINE_SOURCE", self.source.clone());
        set("CI_COMMIT_SHA", sha.clone());
        set("CI_COMMIT_SHORT_SHA", sha.chars().take(8).collect());
        set("CI_COMMIT_BEFORE_SHA", "0".repeat(40));
        set("CI_COMMIT_REF_NAME", self.ref_name.clone());
        set("CI_COMMIT_REF_SLUG", slug(&self.ref_name));
        set("CI_COMMIT_REF_PROTECTED", self.protected().to_string());
        // Merge request pipelines run for the source branch but have no CI_COMMIT_BRANCH;
        // they have the CI_MERGE_REQUEST_* variables instead (a detached pipeline of MR !1
        // from the branch into the default branch).
        let merge_request = self.source == "merge_request_event";
        if let Some(branch) = &self.branch {
            if merge_request {
                set("CI_MERGE_REQUEST_ID", "1".into());
                set("CI_MERGE_REQUEST_IID", "1".into());
                set("CI_MERGE_REQUEST_EVENT_TYPE", "detached".into());
                set("CI_MERGE_REQUEST_SOURCE_BRANCH_NAME", branch.clone());
                set(
                    "CI_MERGE_REQUEST_TARGET_BRANCH_NAME",
                    self.default_branch.clone(),
                );
                set("CI_MERGE_REQUEST_PROJECT_ID", "1".into());
                set("CI_MERGE_REQUEST_PROJECT_PATH", self.project_path.clone());
                set("CI_MERGE_REQUEST_PROJECT_URL", project_url.clone());
                set("CI_MERGE_REQUEST_SOURCE_PROJECT_ID", "1".into());
                set(
                    "CI_MERGE_REQUEST_SOURCE_PROJECT_PATH",
                    self.project_path.clone(),
                );
                set("CI_MERGE_REQUEST_SOURCE_PROJECT_URL", project_url.clone());
                set(
                    "CI_MERGE_REQUEST_REF_PATH",
                    "refs/merge-requests/1/head".into(),
                );
            } else {
                set("CI_COMMIT_BRANCH", branch.clone());
            }
        }
        if let Some(tag) = &self.tag {
            set("CI_COMMIT_TAG", tag.clone());
            if let Some(message) = GitFacts::tag_message(&self.project_dir, tag) {
                set("CI_COMMIT_TAG_MESSAGE", message);
            }
        }
        let message = self.git.message.clone();
        let (title, description) = title_and_description(&message);
        set("CI_COMMIT_MESSAGE", message);
        set("CI_COMMIT_TITLE", title);
        set("CI_COMMIT_DESCRIPTION", description);
        set("CI_COMMIT_TIMESTAMP", self.git.timestamp.clone());
        set("CI_COMMIT_AUTHOR", self.git.author.clone());
        if let Some(registry) = &self.registry {
            set("CI_REGISTRY", registry.clone());
            set(
                "CI_REGISTRY_IMAGE",
                format!("{registry}/{}", self.project_path.to_lowercase()),
            );
        }
        set("GITLAB_USER_ID", "1".into());
        let (user_name, user_email) = self
            .git
            .author
            .rsplit_once(" <")
            .map_or((self.git.author.clone(), String::new()), |(n, e)| {
                (n.to_string(), e.trim_end_matches('>').to_string())
            });
        set("GITLAB_USER_NAME", user_name);
        set("GITLAB_USER_EMAIL", user_email.clone());
        set(
            "GITLAB_USER_LOGIN",
            user_email.split('@').next().unwrap_or_default().to_string(),
        );
        v
    }
}

/// `CI_COMMIT_TITLE` and `CI_COMMIT_DESCRIPTION` from a commit message, as GitLab derives them.
fn title_and_description(message: &str) -> (String, String) {
    let (first, rest) = message.split_once('\n').unwrap_or((message, ""));
    let title = first.to_string();
    let description = if first.chars().count() > 100
        || (!message.contains('\n') && message.chars().count() > 100)
    {
        format!("…{}", message.chars().skip(80).collect::<String>())
    } else {
        rest.trim_end_matches('\n').to_string()
    };
    (title, description)
}

#[cfg(test)]
mod tests {
    use super::title_and_description;

    #[test]
    fn short_titles_keep_the_body_as_description() {
        assert_eq!(
            title_and_description("Add a\n\nBody text\n"),
            ("Add a".to_string(), "\nBody text".to_string())
        );
        assert_eq!(
            title_and_description("One line"),
            ("One line".into(), String::new())
        );
    }
}
