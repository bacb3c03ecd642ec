//! Building Dockerfiles: scratch and busybox bases, multi-stage, RUN in the sandbox, the
//! layer cache, reproducibility and error messages.

mod common;

use std::io::Write;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::time::Instant;

use common::{busybox_into_store, config_of, flatten_image};
use gantry_image::build::{BuildOptions, BuildResult, build};
use gantry_image::registry::{RegistryClient, RegistryOptions};
use gantry_image::transfer::{
    LayoutEndpoint, PlatformChoice, RegistryEndpoint, copy_image, copy_image_with,
};
use gantry_image::{ImageError, LocalStore, Reference};

fn write(dir: &Path, files: &[(&str, &str)]) {
    for (name, content) in files {
        let p = dir.join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, content).unwrap();
    }
}

fn client() -> RegistryClient {
    RegistryClient::new(RegistryOptions::default()).unwrap()
}

fn opts(ctx: &Path, tag: &str) -> BuildOptions {
    let mut o = BuildOptions::new(ctx);
    o.tags = vec![tag.parse::<Reference>().unwrap()];
    o.source_date_epoch = 0;
    o
}

fn build_in(store: &LocalStore, o: &BuildOptions) -> gantry_image::Result<BuildResult> {
    build(store, &client(), o)
}

fn is_root() -> bool {
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

const SCRATCH: &str = r#"ARG VERSION=1.0
FROM scratch
ARG VERSION
ENV APP_VERSION=$VERSION PATH=/bin
LABEL org.opencontainers.image.version="${VERSION}" maintainer="gantry"
WORKDIR /app
COPY --chmod=0755 bin/ ./bin/
COPY config.txt /etc/app/
COPY <<EOF /etc/app/motd
hello $VERSION
EOF
USER 1000:1000
EXPOSE 8080 9090/udp
ENTRYPOINT ["/app/bin/server"]
CMD --port 8080
"#;

#[test]
#[allow(clippy::many_single_char_names)]
fn scratch_image_is_reproducible_and_cached() {
    let ctx = tempfile::tempdir().unwrap();
    write(
        ctx.path(),
        &[
            ("Dockerfile", SCRATCH),
            ("bin/server", "#!/bin/sh\necho server\n"),
            ("config.txt", "port=8080\n"),
            ("secret.key", "nope"),
            (".dockerignore", "*.key\n"),
        ],
    );
    let s1 = tempfile::tempdir().unwrap();
    let s2 = tempfile::tempdir().unwrap();
    let store1 = LocalStore::open(s1.path()).unwrap();
    let store2 = LocalStore::open(s2.path()).unwrap();
    let o = opts(ctx.path(), "127.0.0.1:5000/gantry/scratch:1");
    let a = build_in(&store1, &o).unwrap();
    let b = build_in(&store2, &o).unwrap();
    assert_eq!(
        a.manifest.digest, b.manifest.digest,
        "same inputs, same digest"
    );
    assert_eq!((a.layer_steps, a.cached_steps), (3, 0));

    let config = config_of(&store1, &a.manifest);
    let rc = &config.config;
    assert_eq!(rc.env_var("APP_VERSION"), Some("1.0"));
    assert_eq!(
        rc.labels.as_ref().unwrap()["org.opencontainers.image.version"],
        "1.0"
    );
    assert_eq!(rc.working_dir.as_deref(), Some("/app"));
    assert_eq!(rc.user.as_deref(), Some("1000:1000"));
    assert_eq!(
        rc.entrypoint.as_deref(),
        Some(&["/app/bin/server".to_owned()][..])
    );
    assert_eq!(
        rc.cmd.as_deref(),
        Some(
            &[
                "/bin/sh".to_owned(),
                "-c".to_owned(),
                "--port 8080".to_owned()
            ][..]
        )
    );
    assert!(rc.exposed_ports.as_ref().unwrap().contains_key("9090/udp"));
    assert!(rc.exposed_ports.as_ref().unwrap().contains_key("8080/tcp"));
    assert_eq!(config.created.as_deref(), Some("1970-01-01T00:00:00Z"));
    assert_eq!(config.history.iter().filter(|h| !h.empty_layer).count(), 3);

    let out = tempfile::tempdir().unwrap();
    flatten_image(&store1, &a.manifest, out.path());
    assert_eq!(
        std::fs::read_to_string(out.path().join("etc/app/motd")).unwrap(),
        "hello 1.0\n"
    );
    assert_eq!(
        std::fs::read_to_string(out.path().join("etc/app/config.txt")).unwrap(),
        "port=8080\n"
    );
    let mode = std::fs::metadata(out.path().join("app/bin/server"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o755);
    assert!(!out.path().join("app/secret.key").exists());

    // Unchanged rebuild: all cache hits, fast, same digest.
    let t = Instant::now();
    let c = build_in(&store1, &o).unwrap();
    let elapsed = t.elapsed();
    assert_eq!(c.manifest.digest, a.manifest.digest);
    assert_eq!(c.cached_steps, c.layer_steps);
    assert!(elapsed.as_millis() < 200, "cached rebuild took {elapsed:?}");

    // One source change: only the layers from that COPY on are rebuilt.
    write(ctx.path(), &[("config.txt", "port=9090\n")]);
    let d = build_in(&store1, &o).unwrap();
    assert_eq!((d.layer_steps, d.cached_steps), (3, 1));
    assert_ne!(d.manifest.digest, a.manifest.digest);

    // A build arg changes the result; SOURCE_DATE_EPOCH changes timestamps.
    let mut o2 = o.clone();
    o2.build_args.insert("VERSION".into(), "2.0".into());
    let e = build_in(&store1, &o2).unwrap();
    assert_eq!(
        config_of(&store1, &e.manifest)
            .config
            .env_var("APP_VERSION"),
        Some("2.0")
    );
    let mut o3 = o.clone();
    o3.source_date_epoch = 1_704_067_200;
    let f = build_in(&store1, &o3).unwrap();
    assert_eq!(
        config_of(&store1, &f.manifest).created.as_deref(),
        Some("2024-01-01T00:00:00Z")
    );
    assert_ne!(f.manifest.digest, d.manifest.digest);
    // The tag points at the latest build.
    let tagged = store1
        .resolve(&"127.0.0.1:5000/gantry/scratch:1".parse().unwrap())
        .unwrap();
    assert_eq!(tagged.digest, f.manifest.digest);
}

#[test]
fn dockerfile_errors_name_file_and_line() {
    let ctx = tempfile::tempdir().unwrap();
    let store_dir = tempfile::tempdir().unwrap();
    let store = LocalStore::open(store_dir.path()).unwrap();
    let o = opts(ctx.path(), "x/y:1");
    let cases: &[(&str, &str)] = &[
        (
            "FROM scratch\nCOPY missing.txt /\n",
            ":2: COPY: COPY failed: `missing.txt` not found in the build context",
        ),
        (
            "FROM scratch\nBOGUS x\n",
            "Dockerfile:2: unknown instruction: BOGUS",
        ),
        (
            "FROM scratch\nCOPY ../outside /\n",
            "points outside the build context",
        ),
        (
            "FROM scratch\nADD https://example.com/x /\n",
            "remote sources are not supported",
        ),
        (
            "FROM scratch\nCOPY --chown=app a /\n",
            "the image has no /etc/passwd",
        ),
        ("FROM scratch\nRUN true\n", "not found in the image"),
    ];
    std::fs::write(ctx.path().join("a"), "a").unwrap();
    for (text, want) in cases {
        if text.contains("RUN") && !is_root() {
            continue;
        }
        std::fs::write(ctx.path().join("Dockerfile"), text).unwrap();
        let err = build_in(&store, &o).unwrap_err().to_string();
        assert!(err.contains(want), "{text:?}: {err}");
    }
    let mut o2 = o.clone();
    o2.target = Some("nope".into());
    std::fs::write(ctx.path().join("Dockerfile"), "FROM scratch AS base\n").unwrap();
    let err = build_in(&store, &o2).unwrap_err().to_string();
    assert!(
        err.contains("target stage `nope` not found") && err.contains("base"),
        "{err}"
    );
}

const MULTI: &str = r"FROM gantry-test/busybox:1 AS build
WORKDIR /src
COPY main.txt .
RUN echo built-$(cat main.txt) > /out.txt && rm /etc/group && mkdir -p /var/empty && touch /var/empty/x
RUN <<EOS
set -e
echo heredoc > /heredoc.txt
rm /var/empty/x
EOS

FROM gantry-test/busybox:1
RUN echo 'app:x:1000:1000::/home/app:/bin/sh' >> /etc/passwd && mkdir -p /home/app && chown 1000:1000 /home/app
COPY --from=build /out.txt /heredoc.txt /data/
COPY --chown=app main.txt /home/app/
USER app
WORKDIR /home/app
RUN id -u > uid.txt && pwd > pwd.txt && touch /tmp/ok-as-user
CMD cat /data/out.txt
";

#[test]
fn busybox_run_multistage_and_users() {
    if !gantry_test_support::require_tool("busybox-static") {
        return;
    }
    if !is_root() {
        eprintln!(
            "SKIPPED (these RUN steps use several uids, which needs root): busybox_run_multistage_and_users"
        );
        return;
    }
    let store_dir = tempfile::tempdir().unwrap();
    let store = LocalStore::open(store_dir.path()).unwrap();
    busybox_into_store(&store, "gantry-test/busybox:1");
    let ctx = tempfile::tempdir().unwrap();
    write(ctx.path(), &[("Dockerfile", MULTI), ("main.txt", "v1")]);
    let o = opts(ctx.path(), "127.0.0.1:5000/gantry/app:1");
    let r = build_in(&store, &o).unwrap();
    let out = tempfile::tempdir().unwrap();
    flatten_image(&store, &r.manifest, out.path());
    let read = |p: &str| {
        std::fs::read_to_string(out.path().join(p)).unwrap_or_else(|e| panic!("{p}: {e}"))
    };
    assert_eq!(read("data/out.txt"), "built-v1\n");
    assert_eq!(read("data/heredoc.txt"), "heredoc\n");
    assert_eq!(read("home/app/uid.txt"), "1000\n");
    assert_eq!(read("home/app/pwd.txt"), "/home/app\n");
    assert!(
        out.path().join("etc/group").exists(),
        "final stage has the base's /etc/group"
    );
    assert!(
        !out.path().join("proc").exists(),
        "no mount point leaked into a layer"
    );
    let m = std::fs::metadata(out.path().join("home/app/main.txt")).unwrap();
    assert_eq!((m.uid(), m.gid()), (1000, 1000));
    let tmp = std::fs::metadata(out.path().join("tmp")).unwrap();
    assert_eq!(
        tmp.permissions().mode() & 0o7777,
        0o1777,
        "lower-layer directory metadata kept"
    );

    // The build stage's deletions are whiteouts in its layers.
    let mut ob = o.clone();
    ob.target = Some("build".into());
    ob.tags.clear();
    let rb = build_in(&store, &ob).unwrap();
    let outb = tempfile::tempdir().unwrap();
    flatten_image(&store, &rb.manifest, outb.path());
    assert!(!outb.path().join("etc/group").exists());
    assert!(outb.path().join("var/empty").is_dir());
    assert!(!outb.path().join("var/empty/x").exists());

    // Cached rebuild: every layer step hits, quickly.
    let t = Instant::now();
    let again = build_in(&store, &o).unwrap();
    assert_eq!(again.manifest.digest, r.manifest.digest);
    assert_eq!(again.cached_steps, again.layer_steps);
    assert!(t.elapsed().as_millis() < 200, "{:?}", t.elapsed());

    // A failing RUN names the line and the exit code.
    std::fs::write(
        ctx.path().join("Dockerfile"),
        "FROM gantry-test/busybox:1\nRUN echo about to fail\nRUN exit 7\n",
    )
    .unwrap();
    let err = build_in(&store, &o).unwrap_err().to_string();
    assert!(
        err.contains("Dockerfile:3: RUN: the command failed (exit code 7)"),
        "{err}"
    );
}

#[test]
fn missing_base_image_is_a_clear_error() {
    if !gantry_test_support::require_tool("docker-registry") {
        return;
    }
    let reg = gantry_test_support::registry::Registry::anonymous();
    let ctx = tempfile::tempdir().unwrap();
    let store_dir = tempfile::tempdir().unwrap();
    let store = LocalStore::open(store_dir.path()).unwrap();
    write(
        ctx.path(),
        &[(
            "Dockerfile",
            &format!("# base\nFROM {}/gantry/nothing:1\nRUN true\n", reg.addr()),
        )],
    );
    let err = build_in(&store, &opts(ctx.path(), "x/y:1")).unwrap_err();
    assert!(matches!(err, ImageError::Build { line: 2, .. }), "{err}");
    assert!(
        err.to_string()
            .contains("not in the local store and the registry has no such tag"),
        "{err}"
    );
}

#[test]
fn base_layers_are_mounted_when_pushing_to_the_base_registry() {
    if !gantry_test_support::require_tools(&["docker-registry", "busybox-static"]) {
        return;
    }
    let reg = gantry_test_support::registry::Registry::anonymous();
    let c = client();
    // Publish a base image from one store...
    let s1 = tempfile::tempdir().unwrap();
    let store1 = LocalStore::open(s1.path()).unwrap();
    busybox_into_store(&store1, "gantry-test/busybox:1");
    let base = format!("{}/gantry/base:1", reg.addr());
    let src = LayoutEndpoint {
        layout: store1.layout().clone(),
        name: Some("docker.io/gantry-test/busybox:1".into()),
    };
    copy_image(
        &src,
        &RegistryEndpoint {
            client: &c,
            reference: base.parse().unwrap(),
        },
        &PlatformChoice::All,
        "base",
    )
    .unwrap();
    // ...build on it from a fresh store (the base is pulled), push next to it.
    let s2 = tempfile::tempdir().unwrap();
    let store2 = LocalStore::open(s2.path()).unwrap();
    let ctx = tempfile::tempdir().unwrap();
    write(
        ctx.path(),
        &[
            ("Dockerfile", &format!("FROM {base}\nCOPY f /f\n")),
            ("f", "x"),
        ],
    );
    let app = format!("{}/gantry/app:1", reg.addr());
    let built = build_in(&store2, &opts(ctx.path(), &app)).unwrap();
    let src = LayoutEndpoint {
        layout: store2.layout().clone(),
        name: Some(app.clone()),
    };
    let dst = RegistryEndpoint {
        client: &c,
        reference: app.parse().unwrap(),
    };
    let locations = store2.blob_locations();
    let report =
        copy_image_with(&src, &dst, &PlatformChoice::All, "app", Some(&locations)).unwrap();
    assert_eq!(report.digest.as_ref(), Some(&built.manifest.digest));
    assert_eq!((report.mounted, report.uploaded), (1, 2), "{report:?}");
}

#[test]
fn add_archives_copy_from_images_and_docker_format() {
    let ctx = tempfile::tempdir().unwrap();
    // A gzip tar for ADD to unpack.
    let mut tar = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(tar::EntryType::Regular);
    h.set_size(6);
    h.set_mode(0o640);
    h.set_uid(0);
    h.set_gid(0);
    h.set_mtime(0);
    tar.append_data(&mut h, "inner/file.txt", &b"inside"[..])
        .unwrap();
    let raw = tar.into_inner().unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&raw).unwrap();
    std::fs::write(ctx.path().join("bundle.tar.gz"), gz.finish().unwrap()).unwrap();
    write(
        ctx.path(),
        &[
            ("plain.txt", "plain"),
            ("keep/a.txt", "a"),
            ("keep/b.log", "b"),
            (".dockerignore", "keep/*\n!keep/a.txt\n"),
        ],
    );
    let store_dir = tempfile::tempdir().unwrap();
    let store = LocalStore::open(store_dir.path()).unwrap();
    // A first image, then one that copies from it by reference.
    write(
        ctx.path(),
        &[(
            "Dockerfile",
            "FROM scratch\nADD bundle.tar.gz /opt/\nADD plain.txt /opt/\nCOPY keep /keep\n",
        )],
    );
    let first = build_in(&store, &opts(ctx.path(), "example.com/first:1")).unwrap();
    let out = tempfile::tempdir().unwrap();
    flatten_image(&store, &first.manifest, out.path());
    assert_eq!(
        std::fs::read_to_string(out.path().join("opt/inner/file.txt")).unwrap(),
        "inside"
    );
    assert_eq!(
        std::fs::read_to_string(out.path().join("opt/plain.txt")).unwrap(),
        "plain"
    );
    assert!(out.path().join("keep/a.txt").exists());
    assert!(
        !out.path().join("keep/b.log").exists(),
        ".dockerignore exclusion"
    );

    write(
        ctx.path(),
        &[(
            "Dockerfile",
            "FROM scratch\nCOPY --from=example.com/first:1 /opt/inner/file.txt /copied.txt\n",
        )],
    );
    let mut o = opts(ctx.path(), "example.com/second:1");
    o.format = gantry_image::build::ImageFormat::Docker;
    let second = build_in(&store, &o).unwrap();
    assert_eq!(
        second.manifest.media_type,
        gantry_image::media_type::DOCKER_MANIFEST
    );
    let m = gantry_image::ImageManifest::from_slice(&second.manifest.bytes, "m").unwrap();
    assert_eq!(m.config.media_type, gantry_image::media_type::DOCKER_CONFIG);
    assert!(
        m.layers
            .iter()
            .all(|l| l.media_type == gantry_image::media_type::DOCKER_LAYER_GZIP)
    );
    let out2 = tempfile::tempdir().unwrap();
    flatten_image(&store, &second.manifest, out2.path());
    assert_eq!(
        std::fs::read_to_string(out2.path().join("copied.txt")).unwrap(),
        "inside"
    );
}
