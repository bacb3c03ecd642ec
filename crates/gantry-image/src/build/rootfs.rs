//! Root file systems on disk for `RUN` and `COPY --from`: a base image flattened into one
//! directory (keyed by its chain id), and one directory per layer built here (overlayfs
//! format: whiteouts as 0/0 character devices), stacked as overlay lower layers.

use std::path::PathBuf;

use fs_err as fs;
use serde::{Deserialize, Serialize};

use crate::descriptor::Descriptor;
use crate::digest::Digest;
use crate::error::Result;
use crate::local_store::LocalStore;
use crate::media_type;
use crate::oci_layout::temp_name;
use crate::unpack::{WhiteoutMode, remove_any, unpack_layer};

/// A layer of an image being built: its blob and its diff id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LayerRef {
    /// The blob.
    pub descriptor: Descriptor,
    /// sha256 of the uncompressed tar.
    pub diff_id: Digest,
}

/// `ChainID(L1) = DiffID(L1)`, `ChainID(Ln) = sha256(ChainID(Ln-1) + " " + DiffID(Ln))`.
pub fn chain_id(layers: &[LayerRef]) -> Option<Digest> {
    let mut it = layers.iter();
    let mut chain = it.next()?.diff_id.clone();
    for l in it {
        chain = Digest::sha256(format!("{chain} {}", l.diff_id).as_bytes());
    }
    Some(chain)
}

/// `layers` flattened into `<store>/rootfs/<chain id>` (made once, atomically). `None` for
/// no layers.
pub fn flattened(store: &LocalStore, layers: &[LayerRef]) -> Result<Option<PathBuf>> {
    let Some(chain) = chain_id(layers) else {
        return Ok(None);
    };
    let dir = store.dir("rootfs")?.join(chain.hex());
    if dir.is_dir() {
        return Ok(Some(dir));
    }
    let tmp = temp_name(&store.dir("rootfs")?, "flatten");
    fs::create_dir_all(&tmp)?;
    for l in layers {
        let mut f = std::io::BufReader::with_capacity(
            256 * 1024,
            store.layout().open_blob(&l.descriptor.digest)?,
        );
        let result = unpack_layer(
            &mut f,
            media_type::layer_compression(&l.descriptor.media_type),
            &tmp,
            WhiteoutMode::Apply,
            &format!("layer {}", l.descriptor.digest),
        );
        if let Err(e) = result {
            let _ = remove_any(&tmp);
            return Err(e);
        }
    }
    if fs::rename(&tmp, &dir).is_err() {
        // Another build made it first.
        let _ = remove_any(&tmp);
    }
    Ok(Some(dir))
}

/// `<store>/layers/<diff id>`: the layer as an overlay lower directory, unpacked from its blob
/// when not already there (a RUN leaves its upper directory there directly).
pub fn layer_dir(store: &LocalStore, layer: &LayerRef) -> Result<PathBuf> {
    let dir = store.dir("layers")?.join(layer.diff_id.hex());
    if dir.is_dir() {
        return Ok(dir);
    }
    let tmp = temp_name(&store.dir("layers")?, "unpack");
    fs::create_dir_all(&tmp)?;
    let mut f = std::io::BufReader::with_capacity(
        256 * 1024,
        store.layout().open_blob(&layer.descriptor.digest)?,
    );
    if let Err(e) = unpack_layer(
        &mut f,
        media_type::layer_compression(&layer.descriptor.media_type),
        &tmp,
        WhiteoutMode::Overlay,
        &format!("layer {}", layer.descriptor.digest),
    ) {
        let _ = remove_any(&tmp);
        return Err(e);
    }
    if fs::rename(&tmp, &dir).is_err() {
        let _ = remove_any(&tmp);
    }
    Ok(dir)
}
