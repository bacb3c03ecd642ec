//! Building Dockerfiles without a daemon: the layer cache, root file systems on disk, the
//! RUN sandbox and the builder that ties them together.

mod build_cache;
mod builder;
mod file_set;
mod lower_view;
mod options;
mod rootfs;
pub mod sandbox;
mod source_tree;
mod upper_diff;
mod user_spec;

pub use build_cache::{BuildCache, CachedLayer, chain_key};
pub use builder::{BuildResult, build};
pub use file_set::{Content, EntryKind, FileEntry, FileSet};
pub use lower_view::{LowerView, PathMeta};
pub use options::{BuildOptions, ImageFormat};
pub use rootfs::{LayerRef, chain_id, flattened, layer_dir};
pub use source_tree::{Ownership, SourceTree};
pub use upper_diff::layer_from_upper;
pub use user_spec::resolve as resolve_user;
