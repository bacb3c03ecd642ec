//! The registry client against a real `docker-registry` (distribution 2.8) in anonymous,
//! Basic (htpasswd), Bearer-token and TLS modes, checked with skopeo.

#![allow(clippy::items_after_statements)]

mod common;

use std::io::Read;

use common::{make_image, skopeo, skopeo_digest};
use gantry_image::registry::{
    Credential, CredentialStore, RawManifest, RegistryClient, RegistryOptions,
};
use gantry_image::transfer::{
    CopyReport, Destination, LayoutEndpoint, PlatformChoice, RegistryEndpoint, Source, copy_image,
    retag, retag_target,
};
use gantry_image::{
    Descriptor, ImageError, ImageIndex, OciLayout, Platform, Reference, media_type,
};
use gantry_test_support::registry::Registry;
use gantry_test_support::require_tools;

fn client(creds: Option<(&str, &str)>, registry: &Registry) -> RegistryClient {
    let mut credentials = CredentialStore::empty();
    if let Some((u, p)) = creds {
        credentials.set(
            &registry.addr(),
            Credential::UserPassword {
                username: u.into(),
                password: p.into(),
            },
        );
    }
    RegistryClient::new(RegistryOptions {
        credentials,
        ..RegistryOptions::default()
    })
    .unwrap()
}

fn push_layout(
    client: &RegistryClient,
    layout: &OciLayout,
    name: &str,
    target: &str,
) -> gantry_image::Result<CopyReport> {
    let src = LayoutEndpoint {
        layout: layout.clone(),
        name: Some(name.into()),
    };
    let dst = RegistryEndpoint {
        client,
        reference: target.parse().unwrap(),
    };
    copy_image(&src, &dst, &PlatformChoice::All, name)
}

fn sample(dir: &std::path::Path) -> (OciLayout, RawManifest) {
    let layout = OciLayout::create(dir).unwrap();
    let m = make_image(
        &layout,
        "v1",
        &[("hello.txt", b"hello\n"), ("etc/app.conf", b"x=1\n")],
        "amd64",
    );
    (layout, m)
}

#[test]
fn anonymous_push_pull_retag_and_errors() {
    if !require_tools(&["docker-registry", "skopeo"]) {
        return;
    }
    let reg = Registry::anonymous();
    let dir = tempfile::tempdir().unwrap();
    let (layout, m) = sample(dir.path());
    let c = client(None, &reg);
    let target = format!("{}/gantry/app:v1.2.0", reg.addr());

    let report = push_layout(&c, &layout, "v1", &target).unwrap();
    assert_eq!(report.digest.as_ref(), Some(&m.digest));
    assert_eq!(report.uploaded, 2, "{report:?}");
    assert_eq!(
        c.endpoint(&reg.addr()).unwrap(),
        reg.url(),
        "plain HTTP on loopback"
    );
    assert_eq!(skopeo_digest(&target, None), m.digest.to_string());

    // Re-push: every blob is a HEAD hit.
    let again = push_layout(&c, &layout, "v1", &target).unwrap();
    assert_eq!((again.uploaded, again.existing), (0, 2));

    // Retag registry-side: no blob moves, same digest.
    let src: Reference = target.parse().unwrap();
    let latest = retag_target(&src, "latest").unwrap();
    let r = retag(&c, &src, &latest).unwrap();
    assert_eq!((r.uploaded, r.mounted, r.existing), (0, 0, 0));
    assert_eq!(r.digest.as_ref(), Some(&m.digest));
    assert_eq!(
        skopeo_digest(&latest.to_string(), None),
        m.digest.to_string()
    );

    // Pull back into a fresh layout, byte for byte.
    let out = tempfile::tempdir().unwrap();
    let dst = LayoutEndpoint {
        layout: OciLayout::create(out.path()).unwrap(),
        name: Some("pulled".into()),
    };
    let pulled = copy_image(
        &RegistryEndpoint {
            client: &c,
            reference: latest.clone(),
        },
        &dst,
        &PlatformChoice::All,
        "x",
    )
    .unwrap();
    assert_eq!(pulled.digest.as_ref(), Some(&m.digest));
    skopeo(&["inspect", &format!("oci:{}:pulled", out.path().display())]);

    // Missing tag: a clear error.
    let missing: Reference = format!("{}/gantry/app:nope", reg.addr()).parse().unwrap();
    let err = c.get_manifest(&missing).unwrap_err();
    assert!(matches!(err, ImageError::ManifestUnknown { .. }), "{err}");
    assert!(err.to_string().contains("gantry/app:nope"), "{err}");
    assert_eq!(c.head_manifest(&missing).unwrap(), None);

    // Tags listing.
    let mut tags = c.list_tags(&src).unwrap();
    tags.sort();
    assert_eq!(tags, ["latest", "v1.2.0"]);
}

#[test]
fn chunked_upload_and_interrupted_source_leave_no_tag() {
    if !require_tools(&["docker-registry", "skopeo"]) {
        return;
    }
    let reg = Registry::anonymous();
    let dir = tempfile::tempdir().unwrap();
    let layout = OciLayout::create(dir.path()).unwrap();
    // ~200 KB of incompressible-ish data, pushed in 16 KiB chunks.
    let data: Vec<u8> = (0u32..50_000)
        .flat_map(|i| i.wrapping_mul(2_654_435_761).to_le_bytes())
        .collect();
    let m = make_image(&layout, "big", &[("data.bin", &data)], "amd64");
    let c = RegistryClient::new(RegistryOptions {
        chunk_size: 16 * 1024,
        ..RegistryOptions::default()
    })
    .unwrap();
    let target = format!("{}/gantry/big:1", reg.addr());
    push_layout(&c, &layout, "big", &target).unwrap();
    assert_eq!(skopeo_digest(&target, None), m.digest.to_string());

    // A source that dies half-way through a layer: error, and the tag never appears.
    struct Failing(OciLayout);
    impl Source for Failing {
        fn manifest(&self, d: Option<&gantry_image::Digest>) -> gantry_image::Result<RawManifest> {
            LayoutEndpoint {
                layout: self.0.clone(),
                name: Some("big".into()),
            }
            .manifest(d)
        }
        fn blob(&self, d: &Descriptor) -> gantry_image::Result<Box<dyn Read + '_>> {
            let f = self.0.open_blob(&d.digest)?;
            Ok(Box::new(f.take(d.size / 2).chain(ErrReader)))
        }
    }
    struct ErrReader;
    impl Read for ErrReader {
        fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
            Err(std::io::Error::new(
                std::io::ErrorKind::ConnectionReset,
                "connection reset by peer",
            ))
        }
    }
    let broken = format!("{}/gantry/broken:1", reg.addr());
    let dst = RegistryEndpoint {
        client: &c,
        reference: broken.parse().unwrap(),
    };
    let err = copy_image(&Failing(layout.clone()), &dst, &PlatformChoice::All, "big").unwrap_err();
    assert!(err.to_string().contains("connection reset"), "{err}");
    assert_eq!(
        c.head_manifest(&broken.parse().unwrap()).unwrap(),
        None,
        "no half-written tag"
    );
}

#[test]
fn multi_platform_index_copies_whole_tree_or_one_platform() {
    if !require_tools(&["docker-registry", "skopeo"]) {
        return;
    }
    let reg = Registry::anonymous();
    let dir = tempfile::tempdir().unwrap();
    let layout = OciLayout::create(dir.path()).unwrap();
    let amd = make_image(&layout, "amd", &[("arch", b"amd64")], "amd64");
    let arm = make_image(&layout, "arm", &[("arch", b"arm64")], "arm64");
    let mut index = ImageIndex::new_oci();
    for (m, p) in [(&amd, "linux/amd64"), (&arm, "linux/arm64")] {
        let mut d = m.descriptor();
        d.platform = Some(p.parse().unwrap());
        index.manifests.push(d);
    }
    let raw = RawManifest::new(index.to_bytes(), None);
    layout.write_blob(&raw.bytes).unwrap();
    layout.set_ref("multi", &raw.descriptor()).unwrap();

    let c = client(None, &reg);
    let target = format!("{}/gantry/multi:1", reg.addr());
    let report = push_layout(&c, &layout, "multi", &target).unwrap();
    assert_eq!(report.media_type, media_type::OCI_INDEX);
    let got = skopeo(&[
        "inspect",
        "--raw",
        "--tls-verify=false",
        &format!("docker://{target}"),
    ]);
    assert_eq!(
        got.as_bytes(),
        raw.bytes.as_slice(),
        "index bytes kept exactly"
    );
    // One platform only.
    let out = tempfile::tempdir().unwrap();
    let dst = LayoutEndpoint {
        layout: OciLayout::create(out.path()).unwrap(),
        name: Some("arm".into()),
    };
    let arm64: Platform = "linux/arm64".parse().unwrap();
    let one = copy_image(
        &RegistryEndpoint {
            client: &c,
            reference: target.parse().unwrap(),
        },
        &dst,
        &PlatformChoice::One(arm64),
        "multi",
    )
    .unwrap();
    assert_eq!(one.digest.as_ref(), Some(&arm.digest));
    let s390: Platform = "linux/s390x".parse().unwrap();
    let err = copy_image(
        &RegistryEndpoint {
            client: &c,
            reference: target.parse().unwrap(),
        },
        &dst,
        &PlatformChoice::One(s390),
        "multi",
    )
    .unwrap_err();
    assert!(
        err.to_string()
            .contains("available: linux/amd64, linux/arm64"),
        "{err}"
    );
}

#[test]
fn basic_auth() {
    if !require_tools(&["docker-registry", "skopeo", "htpasswd"]) {
        return;
    }
    let reg = Registry::htpasswd("ci", "s3cret");
    let dir = tempfile::tempdir().unwrap();
    let (layout, m) = sample(dir.path());
    let target = format!("{}/gantry/app:1", reg.addr());

    let err = push_layout(&client(None, &reg), &layout, "v1", &target).unwrap_err();
    assert!(matches!(err, ImageError::Unauthorized { .. }), "{err}");
    assert!(err.to_string().contains("gantry image login"), "{err}");

    let err =
        push_layout(&client(Some(("ci", "wrong")), &reg), &layout, "v1", &target).unwrap_err();
    assert!(
        err.to_string()
            .contains("credentials of `ci` were not accepted"),
        "{err}"
    );

    push_layout(
        &client(Some(("ci", "s3cret")), &reg),
        &layout,
        "v1",
        &target,
    )
    .unwrap();
    assert_eq!(
        skopeo_digest(&target, reg.authfile().as_deref()),
        m.digest.to_string()
    );

    // Credentials from a config.json file (what `gantry image login` writes).
    let mut store = CredentialStore::empty();
    store.add_config_file(&reg.authfile().unwrap()).unwrap();
    let c = RegistryClient::new(RegistryOptions {
        credentials: store,
        ..RegistryOptions::default()
    })
    .unwrap();
    c.login(&reg.addr()).unwrap();
    assert_eq!(
        c.head_manifest(&target.parse().unwrap()).unwrap(),
        Some(m.digest.clone())
    );
    assert!(
        client(Some(("ci", "nope")), &reg)
            .login(&reg.addr())
            .is_err()
    );
}

#[test]
fn bearer_token_auth_and_cross_repo_mount() {
    if !require_tools(&["docker-registry", "skopeo", "python3-cryptography"]) {
        return;
    }
    let reg = Registry::token("ci", "s3cret");
    let dir = tempfile::tempdir().unwrap();
    let (layout, m) = sample(dir.path());
    let target = format!("{}/gantry/app:1", reg.addr());

    let anon = client(None, &reg);
    let err = push_layout(&anon, &layout, "v1", &target).unwrap_err();
    assert!(matches!(err, ImageError::Unauthorized { .. }), "{err}");

    let err =
        push_layout(&client(Some(("ci", "wrong")), &reg), &layout, "v1", &target).unwrap_err();
    assert!(
        err.to_string()
            .contains("token server rejected the credentials"),
        "{err}"
    );

    let c = client(Some(("ci", "s3cret")), &reg);
    c.login(&reg.addr()).unwrap();
    let report = push_layout(&c, &layout, "v1", &target).unwrap();
    assert_eq!(report.uploaded, 2);
    assert_eq!(
        skopeo_digest(&target, reg.authfile().as_deref()),
        m.digest.to_string()
    );

    // Anonymous pull is allowed by this token server.
    assert_eq!(
        anon.head_manifest(&target.parse().unwrap()).unwrap(),
        Some(m.digest.clone())
    );

    // Into another repository: blobs are mounted, not uploaded.
    let src: Reference = target.parse().unwrap();
    let other = retag_target(&src, &format!("{}/gantry/promoted:stable", reg.addr())).unwrap();
    let r = retag(&c, &src, &other).unwrap();
    assert_eq!((r.uploaded, r.mounted), (0, 2), "{r:?}");
    assert_eq!(
        skopeo_digest(&other.to_string(), reg.authfile().as_deref()),
        m.digest.to_string()
    );
}

#[test]
fn tls_with_custom_ca() {
    if !require_tools(&["docker-registry", "python3-cryptography"]) {
        return;
    }
    let reg = Registry::tls();
    let dir = tempfile::tempdir().unwrap();
    let (layout, m) = sample(dir.path());
    let target = format!("{}/gantry/app:1", reg.addr());

    // Loopback does not mean "skip verification": an unknown CA fails with a hint.
    let plain = client(None, &reg);
    let err = push_layout(&plain, &layout, "v1", &target).unwrap_err();
    assert!(matches!(err, ImageError::Tls { .. }), "{err}");
    assert!(err.to_string().contains("--ca-file"), "{err}");

    let wrong = RegistryClient::new(RegistryOptions {
        ca_files: vec![reg.other_ca_file()],
        ..RegistryOptions::default()
    })
    .unwrap();
    let err = push_layout(&wrong, &layout, "v1", &target).unwrap_err();
    assert!(matches!(err, ImageError::Tls { .. }), "{err}");

    let good = RegistryClient::new(RegistryOptions {
        ca_files: vec![reg.ca_file()],
        ..RegistryOptions::default()
    })
    .unwrap();
    push_layout(&good, &layout, "v1", &target).unwrap();
    assert_eq!(
        good.endpoint(&reg.addr()).unwrap(),
        format!("https://{}", reg.addr())
    );
    assert_eq!(
        good.head_manifest(&target.parse().unwrap()).unwrap(),
        Some(m.digest)
    );

    let missing = RegistryClient::new(RegistryOptions {
        ca_files: vec![dir.path().join("nope.pem")],
        ..RegistryOptions::default()
    })
    .unwrap_err();
    assert!(missing.to_string().contains("nope.pem"), "{missing}");
}

#[test]
fn layout_destination_rejects_corrupt_blobs() {
    // No registry needed: a source whose bytes do not match the digest.
    let dir = tempfile::tempdir().unwrap();
    let (layout, _) = sample(dir.path());
    struct Corrupt(OciLayout);
    impl Source for Corrupt {
        fn manifest(&self, d: Option<&gantry_image::Digest>) -> gantry_image::Result<RawManifest> {
            LayoutEndpoint {
                layout: self.0.clone(),
                name: Some("v1".into()),
            }
            .manifest(d)
        }
        fn blob(&self, _: &Descriptor) -> gantry_image::Result<Box<dyn Read + '_>> {
            Ok(Box::new(&b"garbage"[..]))
        }
    }
    let out = tempfile::tempdir().unwrap();
    let dst = LayoutEndpoint {
        layout: OciLayout::create(out.path()).unwrap(),
        name: Some("x".into()),
    };
    let err = copy_image(&Corrupt(layout), &dst, &PlatformChoice::All, "v1").unwrap_err();
    assert!(matches!(err, ImageError::DigestMismatch { .. }), "{err}");
    assert!(dst.layout.resolve(Some("x")).is_err(), "no ref written");
    let _ = dst.has_blob(&gantry_image::Digest::sha256(b""));
}

/// A TCP proxy to `target` that cuts the connection 4 KiB into the body of a `PATCH` while
/// `cuts` is above zero (each cut decrements it). Returns its port.
fn cutting_proxy(target: u16, cuts: std::sync::Arc<std::sync::atomic::AtomicUsize>) -> u16 {
    use std::io::Write;
    use std::net::{Shutdown, TcpListener, TcpStream};
    use std::sync::atomic::Ordering;
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut client) = conn else { return };
            let Ok(mut server) = TcpStream::connect(("127.0.0.1", target)) else {
                return;
            };
            let (mut c2, mut s2) = (client.try_clone().unwrap(), server.try_clone().unwrap());
            std::thread::spawn(move || {
                let _ = std::io::copy(&mut s2, &mut c2);
                let _ = c2.shutdown(Shutdown::Both);
            });
            let cuts = cuts.clone();
            std::thread::spawn(move || {
                let mut buf = [0u8; 8192];
                let mut in_patch: Option<usize> = None;
                loop {
                    let n = match client.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => n,
                    };
                    if in_patch.is_none()
                        && buf[..n].windows(6).any(|w| w == b"PATCH ")
                        && cuts.load(Ordering::SeqCst) > 0
                    {
                        in_patch = Some(0);
                    }
                    if let Some(sent) = in_patch {
                        if sent + n > 4096 {
                            let _ = server.write_all(&buf[..4096 - sent.min(4096)]);
                            cuts.fetch_sub(1, Ordering::SeqCst);
                            let _ = server.shutdown(Shutdown::Both);
                            let _ = client.shutdown(Shutdown::Both);
                            break;
                        }
                        in_patch = Some(sent + n);
                    }
                    if server.write_all(&buf[..n]).is_err() {
                        break;
                    }
                }
            });
        }
    });
    port
}

#[test]
fn interrupted_uploads_are_retried_or_fail_cleanly() {
    use std::sync::Arc;
    use std::sync::atomic::AtomicUsize;
    if !require_tools(&["docker-registry", "skopeo"]) {
        return;
    }
    let reg = Registry::anonymous();
    let dir = tempfile::tempdir().unwrap();
    let layout = OciLayout::create(dir.path()).unwrap();
    let data: Vec<u8> = (0u32..50_000)
        .flat_map(|i| i.wrapping_mul(2_654_435_761).to_le_bytes())
        .collect();
    let m = make_image(&layout, "big", &[("data.bin", &data)], "amd64");
    let client = || {
        RegistryClient::new(RegistryOptions {
            chunk_size: 64 * 1024,
            ..RegistryOptions::default()
        })
        .unwrap()
    };

    // One cut: the upload is retried (resumed, or restarted when the registry cannot resume).
    let cuts = Arc::new(AtomicUsize::new(1));
    let port = cutting_proxy(reg.port(), cuts.clone());
    let target = format!("127.0.0.1:{port}/gantry/resumed:1");
    push_layout(&client(), &layout, "big", &target).unwrap();
    assert_eq!(
        cuts.load(std::sync::atomic::Ordering::SeqCst),
        0,
        "the proxy did cut a PATCH"
    );
    assert_eq!(
        skopeo_digest(&format!("{}/gantry/resumed:1", reg.addr()), None),
        m.digest.to_string()
    );

    // Every PATCH cut: a clear error, and no tag.
    let cuts = Arc::new(AtomicUsize::new(usize::MAX));
    let port = cutting_proxy(reg.port(), cuts);
    let target = format!("127.0.0.1:{port}/gantry/cut:1");
    let err = push_layout(&client(), &layout, "big", &target).unwrap_err();
    let text = err.to_string();
    assert!(text.contains("127.0.0.1"), "{text}");
    let direct: Reference = format!("{}/gantry/cut:1", reg.addr()).parse().unwrap();
    assert_eq!(
        client().head_manifest(&direct).unwrap(),
        None,
        "no half-written tag: {text}"
    );
}
