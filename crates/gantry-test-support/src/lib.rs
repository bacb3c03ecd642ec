//! Test fixtures for Gantry: git repositories, tool gating and snapshot filters.
//!
//! This crate is a dev-dependency of the other Gantry crates. It offers:
//!
//! * [`GitRepo`]: a throw-away git repository with a fixed identity and fixed dates (reproducible
//!   SHAs), an isolated `HOME` so the host's git configuration never leaks in, branches, tags and a
//!   fake `origin` with `origin/HEAD`.
//! * [`require_tool`]: gating for tests that need an external tool (`ruby`, a Docker daemon,
//!   `docker-registry`, `skopeo`, ...). On CI (`CI=true`) a missing tool fails the test; locally
//!   the test is skipped with a `SKIPPED (...)` line on stderr.
//! * [`redact`] and [`Redactor`]: snapshot filters for temp paths, durations, SHAs and timestamps.
//! * [`docker`]: local test images built without any registry pull, and label-based cleanup.
//! * [`registry`]: a local `docker-registry` on `127.0.0.1` (anonymous, htpasswd, Bearer-token
//!   auth with a local token server, or HTTPS with a test CA).
//!
//! Everything here panics with a clear message on failure: it is meant for tests only.

pub mod docker;
mod gate;
mod git;
mod process;
mod redact;
pub mod registry;

pub use gate::{is_ci, require_tool, require_tools, tool_available};
pub use git::{
    AUTHOR_EMAIL, AUTHOR_NAME, BASE_EPOCH, DEFAULT_BRANCH, DEFAULT_ORIGIN, GitRepo, commit_date,
};
pub use process::{find_executable, run_with_timeout};
pub use redact::{Redactor, insta_filters, redact};
