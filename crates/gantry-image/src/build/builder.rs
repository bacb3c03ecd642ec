//! The builder: runs a Dockerfile's stages (only those the target needs), consulting the
//! layer cache before every layer-producing step, and assembles a reproducible image in the
//! local store.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use fs_err as fs;

use super::build_cache::{BuildCache, CachedLayer, chain_key};
use super::file_set::{Content, EntryKind, FileEntry, FileSet};
use super::lower_view::LowerView;
use super::options::{BuildOptions, ImageFormat};
use super::rootfs::{LayerRef, flattened, layer_dir};
use super::sandbox::{self, MOUNT_POINTS, RunSpec};
use super::source_tree::{Ownership, SourceTree};
use super::upper_diff::layer_from_upper;
use super::user_spec;
use crate::descriptor::Descriptor;
use crate::digest::Digest;
use crate::dockerfile::{
    self, CommandForm, CopyArgs, Dockerfile, Instruction, InstructionKind, expand,
};
use crate::error::{ImageError, Result};
use crate::image_config::{History, ImageConfig, RootFs, rfc3339};
use crate::index::ImageIndex;
use crate::local_store::LocalStore;
use crate::manifest::ImageManifest;
use crate::media_type;
use crate::platform::Platform;
use crate::reference::Reference;
use crate::registry::{RawManifest, RegistryClient};
use crate::transfer::{LayoutEndpoint, PlatformChoice, RegistryEndpoint, copy_image_with};

const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// What a build produced.
#[derive(Debug, Clone)]
pub struct BuildResult {
    /// The image manifest (stored in the local store).
    pub manifest: RawManifest,
    /// The config blob's digest (Docker's image id).
    pub config_digest: Digest,
    /// Steps that produce layers.
    pub layer_steps: usize,
    /// Of those, the ones served from the cache.
    pub cached_steps: usize,
}

/// A stage's state while its instructions run.
#[derive(Debug, Clone)]
struct StageState {
    config: ImageConfig,
    layers: Vec<LayerRef>,
    key: Digest,
    args: BTreeMap<String, String>,
    shell: Vec<String>,
    cmd_from_base: bool,
}

impl StageState {
    fn lookup(&self, name: &str) -> Option<String> {
        self.config
            .config
            .env_var(name)
            .map(str::to_owned)
            .or_else(|| self.args.get(name).cloned())
    }

    fn workdir(&self) -> String {
        self.config
            .config
            .working_dir
            .clone()
            .filter(|w| !w.is_empty())
            .unwrap_or_else(|| "/".into())
    }
}

/// Builds `options` with base images from the local store or `client`'s registries.
pub fn build(
    store: &LocalStore,
    client: &RegistryClient,
    options: &BuildOptions,
) -> Result<BuildResult> {
    let text = fs::read_to_string(&options.dockerfile).map_err(|e| {
        ImageError::Usage(format!(
            "cannot read the Dockerfile: {e} (pass -f <Dockerfile>, or put one in the context)"
        ))
    })?;
    let df = dockerfile::parse(&text, &options.dockerfile)?;
    if !options.context.is_dir() {
        return Err(ImageError::Usage(format!(
            "build context {} is not a directory",
            options.context.display()
        )));
    }
    let mut b = Builder {
        store,
        client,
        options,
        cache: BuildCache::open(store)?,
        context: SourceTree::context(&options.context)?,
        platform: options.platform.clone().unwrap_or_else(Platform::host),
        df: &df,
        global_args: BTreeMap::new(),
        results: Vec::new(),
        layer_steps: 0,
        cached_steps: 0,
    };
    b.global_args = b.global_args()?;
    let target = match &options.target {
        Some(t) => df.stage(t).map(|s| s.index).ok_or_else(|| {
            ImageError::Usage(format!(
                "target stage `{t}` not found in {} (stages: {})",
                options.dockerfile.display(),
                df.stages
                    .iter()
                    .map(|s| s.alias.clone().unwrap_or_else(|| s.index.to_string()))
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        })?,
        None => df.stages.len() - 1,
    };
    let needed = b.needed_stages(target);
    for (i, needed) in needed.iter().enumerate().take(target + 1) {
        let state = if *needed {
            Some(b.build_stage(i)?)
        } else {
            None
        };
        b.results.push(state);
    }
    let state = b.results[target]
        .take()
        .ok_or_else(|| ImageError::Usage("target stage was not built".into()))?;
    b.finish(state)
}

struct Builder<'a> {
    store: &'a LocalStore,
    client: &'a RegistryClient,
    options: &'a BuildOptions,
    cache: BuildCache,
    context: SourceTree,
    platform: Platform,
    df: &'a Dockerfile,
    global_args: BTreeMap<String, String>,
    results: Vec<Option<StageState>>,
    layer_steps: usize,
    cached_steps: usize,
}

impl Builder<'_> {
    fn err(&self, ins: &Instruction, message: impl Into<String>) -> ImageError {
        ImageError::Build {
            file: self.options.dockerfile.clone(),
            line: ins.line,
            instruction: ins.keyword().to_owned(),
            message: message.into(),
        }
    }

    fn log(&self, stage: usize, ins: &Instruction, note: &str) {
        if self.options.verbose {
            let first = ins.text.lines().next().unwrap_or("");
            let shown: String = first.chars().take(100).collect();
            eprintln!(
                "[stage {stage}] {}:{} {shown}{note}",
                self.options.dockerfile.display(),
                ins.line
            );
        }
    }

    /// Built-in platform ARGs, then the ARGs before the first FROM.
    fn global_args(&self) -> Result<BTreeMap<String, String>> {
        let mut args = BTreeMap::new();
        let host = Platform::host();
        for (prefix, p) in [("TARGET", &self.platform), ("BUILD", &host)] {
            args.insert(format!("{prefix}PLATFORM"), p.to_string());
            args.insert(format!("{prefix}OS"), p.os.clone());
            args.insert(format!("{prefix}ARCH"), p.architecture.clone());
            args.insert(
                format!("{prefix}VARIANT"),
                p.variant.clone().unwrap_or_default(),
            );
        }
        for ins in &self.df.global_args {
            let InstructionKind::Arg(list) = &ins.kind else {
                continue;
            };
            for (name, default) in list {
                let value = match (self.options.build_args.get(name), default) {
                    (Some(v), _) => Some(v.clone()),
                    (None, Some(d)) => Some(
                        expand(d, &|n| args.get(n).cloned(), '\\').map_err(|e| self.err(ins, e))?,
                    ),
                    (None, None) => None,
                };
                if let Some(v) = value {
                    args.insert(name.clone(), v);
                }
            }
        }
        Ok(args)
    }

    fn expand_global(&self, ins: &Instruction, s: &str) -> Result<String> {
        expand(s, &|n| self.global_args.get(n).cloned(), '\\').map_err(|e| self.err(ins, e))
    }

    /// Which stages the target needs (FROM <stage>, COPY --from=<stage>), transitively.
    fn needed_stages(&self, target: usize) -> Vec<bool> {
        let mut needed = vec![false; self.df.stages.len()];
        let mut todo = vec![target];
        while let Some(i) = todo.pop() {
            if needed[i] {
                continue;
            }
            needed[i] = true;
            let stage = &self.df.stages[i];
            let mut refs = Vec::new();
            if let InstructionKind::From { image, .. } = &stage.from.kind {
                refs.push(
                    self.expand_global(&stage.from, image)
                        .unwrap_or_else(|_| image.clone()),
                );
            }
            for ins in &stage.instructions {
                if let InstructionKind::Copy(CopyArgs { from: Some(f), .. }) = &ins.kind {
                    refs.push(self.expand_global(ins, f).unwrap_or_else(|_| f.clone()));
                }
            }
            for r in refs {
                if let Some(s) = self.df.stage(&r).filter(|s| s.index < i) {
                    todo.push(s.index);
                }
            }
        }
        needed
    }

    /// A base image from the local store, pulled into it when missing (or with `--pull`).
    fn base_image(
        &self,
        ins: &Instruction,
        image: &str,
        platform: &Platform,
    ) -> Result<(Digest, ImageManifest, ImageConfig)> {
        let reference: Reference = image
            .parse()
            .map_err(|e: ImageError| self.err(ins, e.to_string()))?;
        let layout = self.store.layout();
        let local = if self.options.pull {
            None
        } else {
            self.store.resolve(&reference).ok()
        };
        let desc = if let Some(d) = local {
            d
        } else {
            let src = RegistryEndpoint {
                client: self.client,
                reference: reference.clone(),
            };
            let dst = LayoutEndpoint {
                layout: layout.clone(),
                name: Some(reference.to_string()),
            };
            copy_image_with(
                &src,
                &dst,
                &PlatformChoice::One(platform.clone()),
                &reference.to_string(),
                Some(&self.store.blob_locations()),
            )
            .map_err(|e| match e {
                ImageError::ManifestUnknown { .. } => self.err(
                    ins,
                    format!("base image `{reference}` not found: it is not in the local store and the registry has no such tag"),
                ),
                other => self.err(ins, format!("pulling base image `{reference}`: {other}")),
            })?;
            self.store.resolve(&reference)?
        };
        let mut bytes = layout.read_blob(&desc.digest)?;
        let mut digest = desc.digest.clone();
        if media_type::is_index(&desc.media_type) {
            let index = ImageIndex::from_slice(&bytes, &reference.to_string())?;
            let child = index.select(platform, &reference.to_string())?;
            digest = child.digest.clone();
            bytes = layout.read_blob(&digest)?;
        }
        let manifest = ImageManifest::from_slice(&bytes, &format!("manifest of {reference}"))?;
        let config = ImageConfig::from_slice(
            &layout.read_blob(&manifest.config.digest)?,
            &format!("config of {reference}"),
        )?;
        if config.rootfs.diff_ids.len() != manifest.layers.len() {
            return Err(self.err(
                ins,
                format!(
                    "base image `{reference}`: config has {} diff_ids for {} layers",
                    config.rootfs.diff_ids.len(),
                    manifest.layers.len()
                ),
            ));
        }
        Ok((digest, manifest, config))
    }

    fn layer_refs(manifest: &ImageManifest, config: &ImageConfig) -> Vec<LayerRef> {
        manifest
            .layers
            .iter()
            .zip(&config.rootfs.diff_ids)
            .map(|(d, id)| LayerRef {
                descriptor: d.clone(),
                diff_id: id.clone(),
            })
            .collect()
    }

    fn build_stage(&mut self, index: usize) -> Result<StageState> {
        let stage = &self.df.stages[index];
        let from = &stage.from;
        let InstructionKind::From {
            image, platform, ..
        } = &from.kind
        else {
            return Err(self.err(from, "stage does not start with FROM"));
        };
        let image = self.expand_global(from, image)?;
        let earlier = self
            .df
            .stage(&image)
            .filter(|s| s.index < index)
            .map(|s| s.index);
        let mut state = if image.eq_ignore_ascii_case("scratch") {
            StageState {
                config: ImageConfig {
                    architecture: self.platform.architecture.clone(),
                    os: self.platform.os.clone(),
                    variant: self.platform.variant.clone(),
                    ..ImageConfig::default()
                },
                layers: Vec::new(),
                key: Digest::sha256(format!("scratch {}", self.platform).as_bytes()),
                args: BTreeMap::new(),
                shell: vec!["/bin/sh".into(), "-c".into()],
                cmd_from_base: false,
            }
        } else if let Some(j) = earlier {
            let mut s = self.results[j]
                .clone()
                .ok_or_else(|| self.err(from, format!("stage `{image}` was not built")))?;
            s.args = BTreeMap::new();
            s.cmd_from_base = s.config.config.cmd.is_some();
            s
        } else {
            let platform = match platform {
                Some(p) => self
                    .expand_global(from, p)?
                    .parse::<Platform>()
                    .map_err(|e| self.err(from, e.to_string()))?,
                None => self.platform.clone(),
            };
            let (digest, manifest, config) = self.base_image(from, &image, &platform)?;
            StageState {
                layers: Self::layer_refs(&manifest, &config),
                cmd_from_base: config.config.cmd.is_some(),
                config,
                key: Digest::sha256(format!("from {digest}").as_bytes()),
                args: BTreeMap::new(),
                shell: vec!["/bin/sh".into(), "-c".into()],
            }
        };
        self.log(index, from, "");
        for ins in &stage.instructions {
            self.step(index, ins, &mut state)?;
        }
        Ok(state)
    }

    fn x(&self, ins: &Instruction, state: &StageState, s: &str) -> Result<String> {
        expand(s, &|n| state.lookup(n), '\\').map_err(|e| self.err(ins, e))
    }

    fn history(state: &mut StageState, ins: &Instruction, empty: bool) {
        state.config.history.push(History {
            created_by: Some(ins.text.lines().next().unwrap_or("").to_owned()),
            comment: Some("gantry".into()),
            empty_layer: empty,
            ..History::default()
        });
    }

    fn exec_or_shell(state: &StageState, form: &CommandForm) -> Vec<String> {
        match form {
            CommandForm::Exec(v) => v.clone(),
            CommandForm::Shell(s) => {
                let mut v = state.shell.clone();
                v.push(s.clone());
                v
            }
        }
    }

    fn step(&mut self, stage: usize, ins: &Instruction, state: &mut StageState) -> Result<()> {
        let mut key_text = ins.text.clone();
        match &ins.kind {
            InstructionKind::Env(pairs) => {
                key_text = String::from("ENV");
                for (k, v) in pairs {
                    let v = self.x(ins, state, v)?;
                    let _ = write!(key_text, " {k}={v}");
                    state.config.config.set_env(k, &v);
                }
            }
            InstructionKind::Label(pairs) => {
                key_text = String::from("LABEL");
                for (k, v) in pairs {
                    let (k, v) = (self.x(ins, state, k)?, self.x(ins, state, v)?);
                    let _ = write!(key_text, " {k}={v}");
                    state
                        .config
                        .config
                        .labels
                        .get_or_insert_with(BTreeMap::new)
                        .insert(k, v);
                }
            }
            InstructionKind::Arg(list) => {
                key_text = String::from("ARG");
                for (name, default) in list {
                    let value = match (self.options.build_args.get(name), default) {
                        (Some(v), _) => Some(v.clone()),
                        (None, Some(d)) => Some(self.x(ins, state, d)?),
                        (None, None) => self.global_args.get(name).cloned(),
                    };
                    if let Some(v) = value {
                        let _ = write!(key_text, " {name}={v}");
                        state.args.insert(name.clone(), v);
                    }
                }
            }
            InstructionKind::Workdir(w) => {
                let w = self.x(ins, state, w)?;
                let abs = normalize_abs(&if w.starts_with('/') {
                    w
                } else {
                    format!("{}/{w}", state.workdir())
                });
                key_text = format!("WORKDIR {abs}");
                state.config.config.working_dir = Some(abs);
            }
            InstructionKind::User(u) => {
                let u = self.x(ins, state, u)?;
                key_text = format!("USER {u}");
                state.config.config.user = Some(u);
            }
            InstructionKind::Expose(ports) => {
                for p in ports {
                    let p = self.x(ins, state, p)?;
                    let p = if p.contains('/') {
                        p
                    } else {
                        format!("{p}/tcp")
                    };
                    state
                        .config
                        .config
                        .exposed_ports
                        .get_or_insert_with(BTreeMap::new)
                        .insert(p, serde_json::json!({}));
                }
            }
            InstructionKind::Entrypoint(form) => {
                state.config.config.entrypoint = Some(Self::exec_or_shell(state, form));
                if state.cmd_from_base {
                    state.config.config.cmd = None;
                    state.cmd_from_base = false;
                }
            }
            InstructionKind::Cmd(form) => {
                state.config.config.cmd = Some(Self::exec_or_shell(state, form));
                state.cmd_from_base = false;
            }
            InstructionKind::Volume(v) => {
                for p in v {
                    let p = self.x(ins, state, p)?;
                    state
                        .config
                        .config
                        .volumes
                        .get_or_insert_with(BTreeMap::new)
                        .insert(p, serde_json::json!({}));
                }
            }
            InstructionKind::StopSignal(s) => {
                state.config.config.stop_signal = Some(self.x(ins, state, s)?);
            }
            InstructionKind::Shell(v) => state.shell.clone_from(v),
            InstructionKind::Maintainer(m) => state.config.author = Some(m.clone()),
            InstructionKind::Healthcheck(h) => {
                let value = healthcheck(h).map_err(|e| self.err(ins, e))?;
                state
                    .config
                    .config
                    .extra
                    .insert("Healthcheck".into(), value);
            }
            InstructionKind::From { .. } => return Err(self.err(ins, "unexpected FROM")),
            InstructionKind::Copy(args) | InstructionKind::Add(args) => {
                let is_add = matches!(ins.kind, InstructionKind::Add(_));
                self.copy(stage, ins, state, args, is_add)?;
                return Ok(());
            }
            InstructionKind::Run { command, heredocs } => {
                self.run(stage, ins, state, command, heredocs)?;
                return Ok(());
            }
        }
        state.key = chain_key(&state.key, &[key_text.as_bytes()]);
        Self::history(state, ins, true);
        Ok(())
    }

    fn add_layer(state: &mut StageState, ins: &Instruction, layer: CachedLayer) {
        state.layers.push(LayerRef {
            descriptor: layer.descriptor,
            diff_id: layer.diff_id,
        });
        Self::history(state, ins, false);
    }

    /// Looks the key up; on a hit adds the cached layer and returns `true`.
    fn cached(
        &mut self,
        stage: usize,
        ins: &Instruction,
        state: &mut StageState,
        key: &Digest,
    ) -> bool {
        self.layer_steps += 1;
        if self.options.no_cache {
            return false;
        }
        if let Some(hit) = self.cache.get(key) {
            self.cached_steps += 1;
            self.log(stage, ins, "  (cached)");
            state.key = key.clone();
            Self::add_layer(state, ins, hit);
            return true;
        }
        false
    }

    fn layer_media_type(&self) -> &'static str {
        match self.options.format {
            ImageFormat::Oci => media_type::OCI_LAYER_GZIP,
            ImageFormat::Docker => media_type::DOCKER_LAYER_GZIP,
        }
    }

    fn owner(&self, ins: &Instruction, state: &StageState, spec: &str) -> Result<(u64, u64)> {
        let spec = self.x(ins, state, spec)?;
        let numeric = spec
            .split(':')
            .all(|p| p.is_empty() || p.parse::<u32>().is_ok());
        let (passwd, group) = if numeric {
            (None, None)
        } else {
            let mut view = LowerView::new(self.store, &state.layers);
            (view.read_file("etc/passwd")?, view.read_file("etc/group")?)
        };
        let passwd = passwd.map(|b| String::from_utf8_lossy(&b).into_owned());
        let group = group.map(|b| String::from_utf8_lossy(&b).into_owned());
        let (u, g) = user_spec::resolve(&spec, passwd.as_deref(), group.as_deref())
            .map_err(|e| self.err(ins, e))?;
        Ok((u64::from(u), u64::from(g)))
    }

    fn copy(
        &mut self,
        stage: usize,
        ins: &Instruction,
        state: &mut StageState,
        args: &CopyArgs,
        is_add: bool,
    ) -> Result<()> {
        let own = Ownership {
            owner: args
                .chown
                .as_ref()
                .map(|c| self.owner(ins, state, c))
                .transpose()?,
            mode: args
                .chmod
                .as_ref()
                .and_then(|m| u32::from_str_radix(m, 8).ok()),
        };
        let from_tree = match &args.from {
            None => None,
            Some(f) => {
                let f = self.x(ins, state, f)?;
                let layers = match self.df.stage(&f).filter(|s| s.index < stage) {
                    Some(s) => self.results[s.index]
                        .as_ref()
                        .map(|r| r.layers.clone())
                        .ok_or_else(|| self.err(ins, format!("stage `{f}` was not built")))?,
                    None if self.df.stage(&f).is_some() => {
                        return Err(
                            self.err(ins, format!("--from={f} refers to this or a later stage"))
                        );
                    }
                    None => {
                        let (_, m, c) = self.base_image(ins, &f, &self.platform)?;
                        Self::layer_refs(&m, &c)
                    }
                };
                let dir = flattened(self.store, &layers)?
                    .unwrap_or_else(|| self.store.root().join("empty-rootfs"));
                fs::create_dir_all(&dir)?;
                Some(SourceTree::rootfs(&dir))
            }
        };
        let tree = from_tree.as_ref().unwrap_or(&self.context);
        let dest = self.x(ins, state, &args.dest)?;
        let dest_abs = normalize_abs(&if dest.starts_with('/') {
            dest.clone()
        } else {
            format!("{}/{dest}", state.workdir())
        });
        let mut view = LowerView::new(self.store, &state.layers);
        let dest_clean = dest_abs.trim_matches('/').to_owned();
        let dest_exists_dir =
            !dest_clean.is_empty() && view.lookup(&dest_clean)?.is_some_and(|m| m.dir);
        let mut sources: Vec<(String, bool)> = Vec::new(); // (rel path, is heredoc)
        for s in &args.sources {
            if let Some(name) = s.strip_prefix("<<") {
                let name = name.trim_start_matches('-').trim_matches(['"', '\'']);
                sources.push((name.to_owned(), true));
                continue;
            }
            let s = self.x(ins, state, s)?;
            if is_add
                && (s.starts_with("http://") || s.starts_with("https://") || s.starts_with("git@"))
            {
                return Err(self.err(ins, format!("ADD {s}: remote sources are not supported; download with RUN (curl/wget) or COPY a local file")));
            }
            for m in tree
                .resolve(&s)
                .map_err(|e| self.err(ins, format!("{} failed: {e}", ins.keyword())))?
            {
                sources.push((m, false));
            }
        }
        let dest_is_dir = dest.ends_with('/')
            || dest.ends_with("/.")
            || dest == "."
            || dest.ends_with("..")
            || sources.len() > 1
            || dest_exists_dir
            || dest_clean.is_empty();
        let mut set = FileSet::default();
        for (src, heredoc) in &sources {
            if *heredoc {
                let doc = args
                    .heredocs
                    .iter()
                    .find(|h| h.name == *src)
                    .ok_or_else(|| self.err(ins, format!("no heredoc `{src}`")))?;
                let content = if doc.quoted {
                    doc.content.clone()
                } else {
                    self.x(ins, state, &doc.content)?
                };
                let path = if dest_is_dir {
                    format!("{dest_clean}/{src}")
                } else {
                    dest_clean.clone()
                };
                let (uid, gid) = own.owner.unwrap_or((0, 0));
                set.insert(
                    &path,
                    FileEntry {
                        kind: EntryKind::File(Content::Bytes(Arc::new(content.into_bytes()))),
                        mode: own.mode.unwrap_or(0o644),
                        uid,
                        gid,
                    },
                );
                continue;
            }
            let full = tree_path(tree, src);
            if is_add && full.as_ref().is_some_and(|p| is_archive(p)) {
                let p = full.unwrap_or_default();
                add_archive(&p, &dest_clean, own, &mut set)
                    .map_err(|e| self.err(ins, format!("ADD {src}: {e}")))?;
                continue;
            }
            tree.add(src, &dest_clean, dest_is_dir, own, &mut set)
                .map_err(|e| self.err(ins, format!("{} {src}: {e}", ins.keyword())))?;
            if full.as_ref().is_some_and(|p| p.is_dir())
                && !dest_clean.is_empty()
                && !set.contains(&dest_clean)
                && !dest_exists_dir
            {
                let (uid, gid) = own.owner.unwrap_or((0, 0));
                set.insert(
                    &dest_clean,
                    FileEntry {
                        kind: EntryKind::Dir,
                        mode: 0o755,
                        uid,
                        gid,
                    },
                );
            }
        }
        // Missing parent directories (existing ones keep their metadata from lower layers).
        let mut parents = Vec::new();
        for p in set.paths() {
            for (i, _) in p.match_indices('/') {
                parents.push(p[..i].to_owned());
            }
        }
        parents.sort();
        parents.dedup();
        for parent in parents {
            if !set.contains(&parent) && view.lookup(&parent)?.is_none() {
                set.insert(
                    &parent,
                    FileEntry {
                        kind: EntryKind::Dir,
                        mode: 0o755,
                        uid: 0,
                        gid: 0,
                    },
                );
            }
        }
        let sum = set.checksum()?;
        let owner_text = format!("{:?} {:?}", own.owner, own.mode);
        let key = chain_key(
            &state.key,
            &[
                ins.keyword().as_bytes(),
                dest_abs.as_bytes(),
                owner_text.as_bytes(),
                sum.to_string().as_bytes(),
            ],
        );
        if self.cached(stage, ins, state, &key) {
            return Ok(());
        }
        self.log(stage, ins, "");
        let layer = set.write_layer(
            self.store.layout(),
            self.layer_media_type(),
            self.options.source_date_epoch,
        )?;
        let cached = CachedLayer {
            descriptor: layer.descriptor,
            diff_id: layer.diff_id,
        };
        self.cache.put(&key, &cached)?;
        state.key = key;
        Self::add_layer(state, ins, cached);
        Ok(())
    }

    fn run(
        &mut self,
        stage: usize,
        ins: &Instruction,
        state: &mut StageState,
        command: &CommandForm,
        heredocs: &[dockerfile::Heredoc],
    ) -> Result<()> {
        let argv = match command {
            CommandForm::Exec(v) => v.clone(),
            CommandForm::Shell(s) => {
                let only_heredoc = heredocs.len() == 1
                    && s.trim()
                        .trim_start_matches("<<")
                        .trim_start_matches('-')
                        .trim_matches(['"', '\''])
                        == heredocs[0].name;
                let script = if only_heredoc {
                    heredocs[0].content.clone()
                } else {
                    let mut script = s.clone();
                    for h in heredocs {
                        script.push('\n');
                        script.push_str(&h.content);
                        script.push_str(&h.name);
                    }
                    script
                };
                let mut v = state.shell.clone();
                v.push(script);
                v
            }
        };
        let mut env: BTreeMap<String, String> = state.args.clone();
        for kv in state.config.config.env.iter().flatten() {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            env.insert(k.to_owned(), v.to_owned());
        }
        env.entry("PATH".into())
            .or_insert_with(|| DEFAULT_PATH.into());
        let user = state.config.config.user.clone().unwrap_or_default();
        let (uid, gid) = if user.is_empty() || user == "root" || user == "0" {
            (0, 0)
        } else {
            let (u, g) = self.owner(ins, state, &user)?;
            (u32::try_from(u).unwrap_or(0), u32::try_from(g).unwrap_or(0))
        };
        env.entry("HOME".into())
            .or_insert_with(|| if uid == 0 { "/root".into() } else { "/".into() });
        let env_text: Vec<String> = env.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let key = chain_key(
            &state.key,
            &[
                b"RUN",
                argv.join("\0").as_bytes(),
                env_text.join("\0").as_bytes(),
                user.as_bytes(),
            ],
        );
        if self.cached(stage, ins, state, &key) {
            return Ok(());
        }
        self.log(stage, ins, "");
        // Lower directories: the stage's layers as overlay lowers, top first, over the base.
        let (base_count, lowers) = self.lowers(state)?;
        let _ = base_count;
        let spec = RunSpec {
            lowers,
            argv,
            env: env.into_iter().collect(),
            workdir: state.workdir(),
            uid,
            gid,
        };
        let (scratch, status) =
            sandbox::run(&spec, &self.store.dir("tmp")?).map_err(|e| match e {
                ImageError::Sandbox { .. } => e,
                other => self.err(ins, other.to_string()),
            })?;
        if !status.success() {
            let code = status
                .code()
                .map_or_else(|| format!("{status}"), |c| format!("exit code {c}"));
            return Err(self.err(ins, format!("the command failed ({code})")));
        }
        let skip: Vec<&str> = {
            let mut view = LowerView::new(self.store, &state.layers);
            let mut s = Vec::new();
            for m in MOUNT_POINTS {
                if view.lookup(m)?.is_none() {
                    s.push(*m);
                }
            }
            s
        };
        let layer = layer_from_upper(
            &scratch.upper(),
            &skip,
            self.store.layout(),
            self.layer_media_type(),
            self.options.source_date_epoch,
        )?;
        // Keep the upper directory as this layer's overlay lower for later RUNs.
        let target = self.store.dir("layers")?.join(layer.diff_id.hex());
        if !target.exists() {
            let upper = scratch.upper();
            for m in &skip {
                let _ = fs::remove_dir(upper.join(m));
            }
            let _ = fs::rename(&upper, &target);
        }
        let cached = CachedLayer {
            descriptor: layer.descriptor,
            diff_id: layer.diff_id,
        };
        self.cache.put(&key, &cached)?;
        state.key = key;
        Self::add_layer(state, ins, cached);
        Ok(())
    }

    /// Overlay lower directories for the stage's current layers, top first: per-layer
    /// directories for layers built here (those whose directory exists or can be made),
    /// the rest flattened.
    fn lowers(&self, state: &StageState) -> Result<(usize, Vec<PathBuf>)> {
        let layers_dir = self.store.dir("layers")?;
        // Layers from the top down that already have a directory stay separate.
        let mut split = state.layers.len();
        while split > 0
            && layers_dir
                .join(state.layers[split - 1].diff_id.hex())
                .is_dir()
        {
            split -= 1;
        }
        let mut lowers = Vec::new();
        for l in state.layers[split..].iter().rev() {
            lowers.push(layer_dir(self.store, l)?);
        }
        if let Some(base) = flattened(self.store, &state.layers[..split])? {
            lowers.push(base);
        }
        Ok((split, lowers))
    }

    fn finish(&self, mut state: StageState) -> Result<BuildResult> {
        let created = rfc3339(i64::try_from(self.options.source_date_epoch).unwrap_or(0));
        state.config.created = Some(created.clone());
        for h in &mut state.config.history {
            if h.comment.as_deref() == Some("gantry") {
                h.created = Some(created.clone());
            }
        }
        state.config.rootfs = RootFs {
            kind: "layers".into(),
            diff_ids: state.layers.iter().map(|l| l.diff_id.clone()).collect(),
        };
        let (manifest_type, config_type) = match self.options.format {
            ImageFormat::Oci => (media_type::OCI_MANIFEST, media_type::OCI_CONFIG),
            ImageFormat::Docker => (media_type::DOCKER_MANIFEST, media_type::DOCKER_CONFIG),
        };
        let layers = state
            .layers
            .iter()
            .map(|l| {
                let mut d = l.descriptor.clone();
                d.media_type = convert_layer_type(&d.media_type, self.options.format)?;
                d.annotations = None;
                Ok(d)
            })
            .collect::<Result<Vec<Descriptor>>>()?;
        let config_bytes = state.config.to_bytes();
        self.store.layout().write_blob(&config_bytes)?;
        let manifest = ImageManifest {
            schema_version: 2,
            media_type: Some(manifest_type.into()),
            artifact_type: None,
            config: Descriptor::for_bytes(config_type, &config_bytes),
            layers,
            subject: None,
            annotations: None,
        };
        let raw = RawManifest::new(manifest.to_bytes(), None);
        self.store.layout().write_blob(&raw.bytes)?;
        let mut desc = raw.descriptor();
        desc.platform = Some(Platform {
            architecture: state.config.architecture.clone(),
            os: state.config.os.clone(),
            variant: state.config.variant.clone(),
            os_version: None,
            os_features: None,
        });
        for t in &self.options.tags {
            self.store.tag(t, &desc)?;
        }
        Ok(BuildResult {
            config_digest: manifest.config.digest.clone(),
            manifest: raw,
            layer_steps: self.layer_steps,
            cached_steps: self.cached_steps,
        })
    }
}

/// An absolute path with `.`, `..` and repeated slashes resolved (`/` at most).
fn normalize_abs(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for c in path.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            other => parts.push(other),
        }
    }
    format!("/{}", parts.join("/"))
}

/// The same layer bytes under the other family's media type.
fn convert_layer_type(mt: &str, format: ImageFormat) -> Result<String> {
    Ok(match (format, mt) {
        (ImageFormat::Oci, media_type::DOCKER_LAYER_GZIP) => media_type::OCI_LAYER_GZIP.into(),
        (ImageFormat::Docker, media_type::OCI_LAYER_GZIP) => media_type::DOCKER_LAYER_GZIP.into(),
        (ImageFormat::Docker, media_type::OCI_LAYER_ZSTD) => {
            return Err(ImageError::UnsupportedMediaType {
                media_type: mt.into(),
                what: "a Docker-format image (zstd layers exist only in OCI; build with the OCI format)".into(),
            });
        }
        _ => mt.into(),
    })
}

/// `HEALTHCHECK [--interval=..] CMD ...` / `NONE` as the config's `Healthcheck` object.
fn healthcheck(args: &str) -> std::result::Result<serde_json::Value, String> {
    let mut rest = args.trim();
    let mut obj = serde_json::Map::new();
    while let Some(f) = rest.strip_prefix("--") {
        let end = f.find(char::is_whitespace).unwrap_or(f.len());
        let (k, v) = f[..end]
            .split_once('=')
            .ok_or_else(|| format!("HEALTHCHECK flag --{} needs a value", &f[..end]))?;
        let key = match k {
            "interval" => "Interval",
            "timeout" => "Timeout",
            "start-period" => "StartPeriod",
            "start-interval" => "StartInterval",
            "retries" => "Retries",
            other => return Err(format!("unknown HEALTHCHECK flag --{other}")),
        };
        let value = if key == "Retries" {
            serde_json::json!(
                v.parse::<u64>()
                    .map_err(|_| format!("--retries={v}: not a number"))?
            )
        } else {
            serde_json::json!(
                parse_duration_ns(v)
                    .ok_or_else(|| format!("--{k}={v}: not a duration like 30s"))?
            )
        };
        obj.insert(key.into(), value);
        rest = f[end..].trim_start();
    }
    if rest.eq_ignore_ascii_case("none") {
        obj.insert("Test".into(), serde_json::json!(["NONE"]));
    } else if let Some(cmd) = rest
        .strip_prefix("CMD")
        .or_else(|| rest.strip_prefix("cmd"))
    {
        let cmd = cmd.trim();
        let test = match serde_json::from_str::<Vec<String>>(cmd) {
            Ok(v) if cmd.starts_with('[') => std::iter::once("CMD".to_owned()).chain(v).collect(),
            _ => vec!["CMD-SHELL".to_owned(), cmd.to_owned()],
        };
        obj.insert("Test".into(), serde_json::json!(test));
    } else {
        return Err("HEALTHCHECK takes `[options] CMD command` or `NONE`".into());
    }
    Ok(serde_json::Value::Object(obj))
}

fn parse_duration_ns(s: &str) -> Option<u64> {
    let (num, unit) = s
        .find(|c: char| !c.is_ascii_digit())
        .map_or((s, "s"), |i| (&s[..i], &s[i..]));
    let n: u64 = num.parse().ok()?;
    let mul = match unit {
        "ns" => 1,
        "us" => 1_000,
        "ms" => 1_000_000,
        "s" => 1_000_000_000,
        "m" => 60_000_000_000,
        "h" => 3_600_000_000_000,
        _ => return None,
    };
    n.checked_mul(mul)
}

fn tree_path(tree: &SourceTree, rel: &str) -> Option<PathBuf> {
    let p = tree.root().join(rel);
    p.exists().then_some(p)
}

/// Whether `path` is a (possibly gzip-compressed) tar archive, by content.
fn is_archive(path: &Path) -> bool {
    let Ok(mut f) = std::fs::File::open(path) else {
        return false;
    };
    let mut head = [0u8; 512];
    let Ok(n) = read_up_to(&mut f, &mut head) else {
        return false;
    };
    if n >= 2 && head[..2] == [0x1f, 0x8b] {
        let Ok(f) = std::fs::File::open(path) else {
            return false;
        };
        let mut gz = flate2::read::GzDecoder::new(f);
        let mut inner = [0u8; 512];
        return read_up_to(&mut gz, &mut inner)
            .is_ok_and(|n| n >= 262 && &inner[257..262] == b"ustar");
    }
    n >= 262 && &head[257..262] == b"ustar"
}

fn read_up_to(r: &mut dyn Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

/// ADD of a local archive: its members go under `dest`.
fn add_archive(path: &Path, dest: &str, own: Ownership, set: &mut FileSet) -> std::io::Result<()> {
    let f = std::fs::File::open(path)?;
    let mut head = [0u8; 2];
    let gz = std::fs::File::open(path)?.read_exact(&mut head).is_ok() && head == [0x1f, 0x8b];
    let reader: Box<dyn Read> = if gz {
        Box::new(flate2::read::GzDecoder::new(f))
    } else {
        Box::new(f)
    };
    let mut archive = tar::Archive::new(reader);
    for entry in archive.entries()? {
        let mut entry = entry?;
        let name = entry
            .path()?
            .to_string_lossy()
            .trim_start_matches("./")
            .trim_matches('/')
            .to_owned();
        if name.is_empty() || name.split('/').any(|c| c == "..") {
            continue;
        }
        let target = if dest.is_empty() {
            name.clone()
        } else {
            format!("{dest}/{name}")
        };
        let h = entry.header().clone();
        let (uid, gid) = own
            .owner
            .unwrap_or((h.uid().unwrap_or(0), h.gid().unwrap_or(0)));
        let mode = own.mode.unwrap_or(h.mode().unwrap_or(0o644) & 0o7777);
        let kind = match h.entry_type() {
            t if t.is_dir() => EntryKind::Dir,
            t if t.is_symlink() => EntryKind::Symlink(
                entry
                    .link_name()?
                    .map(|l| l.to_string_lossy().into_owned())
                    .unwrap_or_default(),
            ),
            t if t.is_file() => {
                let mut data = Vec::new();
                entry.read_to_end(&mut data)?;
                EntryKind::File(Content::Bytes(Arc::new(data)))
            }
            _ => continue,
        };
        set.insert(
            &target,
            FileEntry {
                kind,
                mode,
                uid,
                gid,
            },
        );
    }
    Ok(())
}
