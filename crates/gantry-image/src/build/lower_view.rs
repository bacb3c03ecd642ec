//! A read-only view of an image's layers without unpacking them: which paths exist (with
//! their metadata, honouring whiteouts) and the content of small files such as `/etc/passwd`.
//! Each layer's path index is computed once and cached in `<store>/index/<diff_id>.json`.

use std::collections::BTreeMap;
use std::io::Read;

use fs_err as fs;
use serde::{Deserialize, Serialize};

use crate::build::rootfs::LayerRef;
use crate::error::{ImageError, Result};
use crate::local_store::LocalStore;
use crate::media_type::{self, Compression};
use crate::oci_layout::write_atomic;

/// Metadata of one path in a layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PathMeta {
    /// A directory.
    pub dir: bool,
    /// Mode bits.
    pub mode: u32,
    /// Owner.
    pub uid: u64,
    /// Group.
    pub gid: u64,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct LayerIndex {
    entries: BTreeMap<String, PathMeta>,
    whiteouts: Vec<String>,
    opaque: Vec<String>,
}

fn clean(path: &str) -> String {
    path.trim_start_matches("./").trim_matches('/').to_owned()
}

fn parent_chain(path: &str) -> impl Iterator<Item = &str> {
    path.match_indices('/').map(move |(i, _)| &path[..i])
}

/// The view over a list of layers (base first).
#[derive(Debug)]
pub struct LowerView<'a> {
    store: &'a LocalStore,
    layers: Vec<LayerRef>,
    indexes: Vec<Option<LayerIndex>>,
}

impl<'a> LowerView<'a> {
    /// A view over `layers`.
    pub fn new(store: &'a LocalStore, layers: &[LayerRef]) -> Self {
        Self {
            store,
            layers: layers.to_vec(),
            indexes: vec![None; layers.len()],
        }
    }

    fn open_tar(&self, layer: &LayerRef) -> Result<Box<dyn Read + '_>> {
        let f = self.store.layout().open_blob(&layer.descriptor.digest)?;
        let r = std::io::BufReader::with_capacity(128 * 1024, f);
        Ok(
            match media_type::layer_compression(&layer.descriptor.media_type) {
                Compression::None => Box::new(r),
                Compression::Gzip => Box::new(flate2::read::GzDecoder::new(r)),
                Compression::Zstd => {
                    return Err(ImageError::UnsupportedMediaType {
                        media_type: layer.descriptor.media_type.clone(),
                        what: "layer (zstd is not decoded by gantry yet)".into(),
                    });
                }
            },
        )
    }

    fn index(&mut self, i: usize) -> Result<&LayerIndex> {
        if self.indexes[i].is_none() {
            let layer = self.layers[i].clone();
            let cache = self
                .store
                .dir("index")?
                .join(format!("{}.json", layer.diff_id.hex()));
            let cached = fs::read(&cache)
                .ok()
                .and_then(|b| serde_json::from_slice::<LayerIndex>(&b).ok());
            let idx = if let Some(idx) = cached {
                idx
            } else {
                let idx = self.scan(&layer)?;
                write_atomic(&cache, &serde_json::to_vec(&idx).unwrap_or_default())?;
                idx
            };
            self.indexes[i] = Some(idx);
        }
        Ok(self.indexes[i].as_ref().unwrap_or_else(|| unreachable!()))
    }

    fn scan(&self, layer: &LayerRef) -> Result<LayerIndex> {
        let mut idx = LayerIndex::default();
        let mut archive = tar::Archive::new(self.open_tar(layer)?);
        for entry in archive.entries()? {
            let entry = entry?;
            let path = clean(&entry.path()?.to_string_lossy());
            if path.is_empty() {
                continue;
            }
            let (dir, name) = path
                .rsplit_once('/')
                .map_or(("", path.as_str()), |(d, n)| (d, n));
            if name == ".wh..wh..opq" {
                idx.opaque.push(dir.to_owned());
                continue;
            }
            if let Some(hidden) = name.strip_prefix(".wh.") {
                idx.whiteouts.push(if dir.is_empty() {
                    hidden.to_owned()
                } else {
                    format!("{dir}/{hidden}")
                });
                continue;
            }
            let h = entry.header();
            idx.entries.insert(
                path.clone(),
                PathMeta {
                    dir: h.entry_type().is_dir(),
                    mode: h.mode().unwrap_or(0o644),
                    uid: h.uid().unwrap_or(0),
                    gid: h.gid().unwrap_or(0),
                },
            );
        }
        Ok(idx)
    }

    /// Which layer (index) provides `path`, and its metadata.
    fn locate(&mut self, path: &str) -> Result<Option<(usize, PathMeta)>> {
        let path = clean(path);
        for i in (0..self.layers.len()).rev() {
            let idx = self.index(i)?;
            if let Some(m) = idx.entries.get(&path) {
                return Ok(Some((i, *m)));
            }
            let hidden = idx
                .whiteouts
                .iter()
                .any(|w| *w == path || parent_chain(&path).any(|p| p == w))
                || idx.opaque.iter().any(|o| {
                    parent_chain(&path).any(|p| p == o) || (o.is_empty() && !path.is_empty())
                });
            if hidden {
                return Ok(None);
            }
        }
        Ok(None)
    }

    /// Metadata of `path` in the merged view, `None` when absent.
    pub fn lookup(&mut self, path: &str) -> Result<Option<PathMeta>> {
        Ok(self.locate(path)?.map(|(_, m)| m))
    }

    /// The content of regular file `path` (`None` when absent or not a regular file).
    pub fn read_file(&mut self, path: &str) -> Result<Option<Vec<u8>>> {
        let Some((i, meta)) = self.locate(path)? else {
            return Ok(None);
        };
        if meta.dir {
            return Ok(None);
        }
        let want = clean(path);
        let layer = self.layers[i].clone();
        let mut archive = tar::Archive::new(self.open_tar(&layer)?);
        for entry in archive.entries()? {
            let mut entry = entry?;
            if clean(&entry.path()?.to_string_lossy()) == want {
                if !entry.header().entry_type().is_file() {
                    return Ok(None);
                }
                let mut buf = Vec::new();
                entry.read_to_end(&mut buf)?;
                return Ok(Some(buf));
            }
        }
        Ok(None)
    }
}
