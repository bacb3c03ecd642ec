//! Shared helpers for gantry-image's integration tests: tiny images made in-process.
#![allow(dead_code)]

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use gantry_image::media_type::{OCI_CONFIG, OCI_LAYER_GZIP, OCI_MANIFEST};
use gantry_image::registry::RawManifest;
use gantry_image::{
    Descriptor, EntryMeta, History, ImageConfig, ImageManifest, LayerWriter, OciLayout, RootFs,
};

/// Writes a one-layer image with `files` (path, content) into `layout` under `name` and
/// returns its manifest.
pub fn make_image(
    layout: &OciLayout,
    name: &str,
    files: &[(&str, &[u8])],
    arch: &str,
) -> RawManifest {
    let meta = EntryMeta {
        mode: 0o644,
        uid: 0,
        gid: 0,
        mtime: 0,
    };
    let mut w = LayerWriter::new(layout, OCI_LAYER_GZIP).unwrap();
    let mut sorted = files.to_vec();
    sorted.sort();
    for (path, data) in sorted {
        w.file(path, meta, data.len() as u64, &mut &data[..])
            .unwrap();
    }
    let layer = w.finish().unwrap();
    let config = ImageConfig {
        created: Some("1970-01-01T00:00:00Z".into()),
        architecture: arch.into(),
        os: "linux".into(),
        rootfs: RootFs {
            kind: "layers".into(),
            diff_ids: vec![layer.diff_id.clone()],
        },
        history: vec![History {
            created_by: Some("test".into()),
            ..History::default()
        }],
        ..ImageConfig::default()
    };
    let config_bytes = config.to_bytes();
    layout.write_blob(&config_bytes).unwrap();
    let manifest = ImageManifest {
        schema_version: 2,
        media_type: Some(OCI_MANIFEST.into()),
        artifact_type: None,
        config: Descriptor::for_bytes(OCI_CONFIG, &config_bytes),
        layers: vec![layer.descriptor],
        subject: None,
        annotations: None,
    };
    let raw = RawManifest::new(manifest.to_bytes(), None);
    layout.write_blob(&raw.bytes).unwrap();
    layout.set_ref(name, &raw.descriptor()).unwrap();
    raw
}

/// `skopeo <args>`; returns stdout, panics with stderr on failure.
pub fn skopeo(args: &[&str]) -> String {
    let mut cmd = Command::new("skopeo");
    cmd.args(args);
    let out = gantry_test_support::run_with_timeout(&mut cmd, Duration::from_mins(2)).unwrap();
    assert!(
        out.status.success(),
        "skopeo {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The digest skopeo reports for `docker://<image>` (plain HTTP, optional authfile).
pub fn skopeo_digest(image: &str, authfile: Option<&Path>) -> String {
    let mut args = vec!["inspect".to_owned(), "--tls-verify=false".to_owned()];
    if let Some(a) = authfile {
        args.push("--authfile".into());
        args.push(a.display().to_string());
    }
    args.push("--format".into());
    args.push("{{.Digest}}".into());
    args.push(format!("docker://{image}"));
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    skopeo(&refs).trim().to_owned()
}

/// Puts the busybox test rootfs (`gantry_test_support::docker::busybox_rootfs_tar`) into
/// `store` as a one-layer Docker-format image tagged `reference`; returns its manifest.
pub fn busybox_into_store(store: &gantry_image::LocalStore, reference: &str) -> RawManifest {
    use std::io::Write;
    let tar = gantry_test_support::docker::busybox_rootfs_tar(false);
    let mut gz = flate2::GzBuilder::new()
        .mtime(0)
        .write(Vec::new(), flate2::Compression::new(6));
    gz.write_all(&tar).unwrap();
    let blob = gz.finish().unwrap();
    let layout = store.layout();
    let digest = layout.write_blob(&blob).unwrap();
    let config = ImageConfig {
        created: Some("1970-01-01T00:00:00Z".into()),
        architecture: gantry_image::Platform::host().architecture,
        os: "linux".into(),
        config: gantry_image::RuntimeConfig {
            cmd: Some(vec!["/bin/sh".into()]),
            env: Some(vec![
                "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".into(),
            ]),
            ..Default::default()
        },
        rootfs: RootFs {
            kind: "layers".into(),
            diff_ids: vec![gantry_image::Digest::sha256(&tar)],
        },
        history: vec![History {
            created_by: Some("busybox rootfs".into()),
            ..History::default()
        }],
        ..ImageConfig::default()
    };
    let config_bytes = config.to_bytes();
    layout.write_blob(&config_bytes).unwrap();
    let manifest = ImageManifest {
        schema_version: 2,
        media_type: Some(gantry_image::media_type::DOCKER_MANIFEST.into()),
        artifact_type: None,
        config: Descriptor::for_bytes(gantry_image::media_type::DOCKER_CONFIG, &config_bytes),
        layers: vec![Descriptor {
            media_type: gantry_image::media_type::DOCKER_LAYER_GZIP.into(),
            digest,
            size: blob.len() as u64,
            platform: None,
            annotations: None,
            artifact_type: None,
        }],
        subject: None,
        annotations: None,
    };
    let raw = RawManifest::new(manifest.to_bytes(), None);
    layout.write_blob(&raw.bytes).unwrap();
    store
        .tag(&reference.parse().unwrap(), &raw.descriptor())
        .unwrap();
    raw
}

/// The files of an image in `store` flattened into `dir`.
pub fn flatten_image(store: &gantry_image::LocalStore, manifest: &RawManifest, dir: &Path) {
    let m = ImageManifest::from_slice(&manifest.bytes, "m").unwrap();
    for l in &m.layers {
        let mut f = store.layout().open_blob(&l.digest).unwrap();
        gantry_image::unpack_layer(
            &mut f,
            gantry_image::media_type::layer_compression(&l.media_type),
            dir,
            gantry_image::WhiteoutMode::Apply,
            "layer",
        )
        .unwrap();
    }
}

/// The image config of `manifest` in `store`.
pub fn config_of(store: &gantry_image::LocalStore, manifest: &RawManifest) -> ImageConfig {
    let m = ImageManifest::from_slice(&manifest.bytes, "m").unwrap();
    ImageConfig::from_slice(&store.layout().read_blob(&m.config.digest).unwrap(), "c").unwrap()
}
