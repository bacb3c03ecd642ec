//! The layer cache: content-addressed keys (the previous step's key, the instruction after
//! expansion, and the checksums of the files it reads — never mtimes) mapped to the layer the
//! step produced. Entries live in `<store>/build-cache/<key>.json`; the layers themselves are
//! ordinary blobs of the local store.

use std::path::PathBuf;

use fs_err as fs;
use serde::{Deserialize, Serialize};

use crate::descriptor::Descriptor;
use crate::digest::Digest;
use crate::error::Result;
use crate::local_store::LocalStore;
use crate::oci_layout::write_atomic;

/// What a cached step produced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CachedLayer {
    /// The layer blob.
    pub descriptor: Descriptor,
    /// Its uncompressed digest.
    pub diff_id: Digest,
}

/// The cache directory.
#[derive(Debug, Clone)]
pub struct BuildCache {
    dir: PathBuf,
    store: LocalStore,
}

impl BuildCache {
    /// The cache of `store`.
    pub fn open(store: &LocalStore) -> Result<Self> {
        Ok(Self {
            dir: store.dir("build-cache")?,
            store: store.clone(),
        })
    }

    /// The layer for `key`, when cached and its blob still exists.
    pub fn get(&self, key: &Digest) -> Option<CachedLayer> {
        let bytes = fs::read(self.dir.join(format!("{}.json", key.hex()))).ok()?;
        let entry: CachedLayer = serde_json::from_slice(&bytes).ok()?;
        self.store
            .layout()
            .has_blob(&entry.descriptor.digest)
            .then_some(entry)
    }

    /// Records the layer for `key`.
    pub fn put(&self, key: &Digest, layer: &CachedLayer) -> Result<()> {
        let bytes = serde_json::to_vec(layer).unwrap_or_default();
        write_atomic(&self.dir.join(format!("{}.json", key.hex())), &bytes)
    }
}

/// The next key of a chain: sha256 of the previous key and this step's parts.
pub fn chain_key(previous: &Digest, parts: &[&[u8]]) -> Digest {
    let mut data = previous.to_string().into_bytes();
    for p in parts {
        data.push(0);
        data.extend_from_slice(&(p.len() as u64).to_le_bytes());
        data.extend_from_slice(p);
    }
    Digest::sha256(&data)
}
