//! Writing `docker save`-format archives (`manifest.json` + uncompressed `layer.tar`s), the
//! only format Docker 20.10's `docker load` accepts.

use std::io::{Read, Write};
use std::path::Path;

use fs_err as fs;
use serde_json::json;

use crate::error::{ImageError, Result};
use crate::image_config::ImageConfig;
use crate::manifest::ImageManifest;
use crate::media_type::{self, Compression};
use crate::registry::RawManifest;
use crate::transfer::endpoint::Source;

/// Writes the single-platform image `manifest` from `src` to `file`, tagged `repo_tags`.
pub fn write_docker_archive(
    src: &dyn Source,
    manifest: &RawManifest,
    repo_tags: &[String],
    file: &Path,
) -> Result<()> {
    let m = ImageManifest::from_slice(&manifest.bytes, "manifest")?;
    let mut config_bytes = Vec::new();
    src.blob(&m.config)?.read_to_end(&mut config_bytes)?;
    let config = ImageConfig::from_slice(&config_bytes, "image config")?;
    if config.rootfs.diff_ids.len() != m.layers.len() {
        return Err(ImageError::Usage(format!(
            "image config lists {} diff_ids for {} layers",
            config.rootfs.diff_ids.len(),
            m.layers.len()
        )));
    }
    let dir = file
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    fs::create_dir_all(dir)?;
    let tmp = crate::oci_layout::temp_name(dir, "archive");
    let result = (|| -> Result<()> {
        let out = fs::File::create(&tmp)?;
        let mut tar = tar::Builder::new(std::io::BufWriter::new(out));
        tar.mode(tar::HeaderMode::Deterministic);
        let config_name = format!("{}.json", m.config.digest.hex());
        append(&mut tar, &config_name, &config_bytes)?;
        let mut layer_names = Vec::new();
        for (layer, diff_id) in m.layers.iter().zip(&config.rootfs.diff_ids) {
            let name = format!("{}/layer.tar", diff_id.hex());
            // The size must be known up front: decompress to a temp file first.
            let spool = crate::oci_layout::temp_name(dir, "layer");
            {
                let mut w = std::io::BufWriter::new(fs::File::create(&spool)?);
                let mut r = src.blob(layer)?;
                match media_type::layer_compression(&layer.media_type) {
                    Compression::None => std::io::copy(&mut r, &mut w)?,
                    Compression::Gzip => {
                        std::io::copy(&mut flate2::read::GzDecoder::new(r), &mut w)?
                    }
                    Compression::Zstd => {
                        return Err(ImageError::UnsupportedMediaType {
                            media_type: layer.media_type.clone(),
                            what: "docker-archive output (zstd layers are not decoded)".into(),
                        });
                    }
                };
                w.flush()?;
            }
            let mut f = fs::File::open(&spool)?;
            let len = f.metadata()?.len();
            let mut h = tar::Header::new_gnu();
            h.set_entry_type(tar::EntryType::Regular);
            h.set_size(len);
            h.set_mode(0o644);
            h.set_mtime(0);
            tar.append_data(&mut h, &name, &mut f)?;
            drop(f);
            let _ = fs::remove_file(&spool);
            layer_names.push(name);
        }
        let manifest_json =
            json!([{ "Config": config_name, "RepoTags": repo_tags, "Layers": layer_names }]);
        append(
            &mut tar,
            "manifest.json",
            manifest_json.to_string().as_bytes(),
        )?;
        tar.into_inner()?.flush()?;
        Ok(())
    })();
    match result {
        Ok(()) => {
            fs::rename(&tmp, file)?;
            Ok(())
        }
        Err(e) => {
            let _ = fs::remove_file(&tmp);
            Err(e)
        }
    }
}

fn append<W: Write>(tar: &mut tar::Builder<W>, name: &str, data: &[u8]) -> Result<()> {
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(tar::EntryType::Regular);
    h.set_size(data.len() as u64);
    h.set_mode(0o644);
    h.set_mtime(0);
    tar.append_data(&mut h, name, data)?;
    Ok(())
}
