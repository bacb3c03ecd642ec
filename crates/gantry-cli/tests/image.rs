//! `gantry image ...` end to end: build/push/tag/inspect/copy/login against a real
//! `docker-registry`, checked with skopeo; a pipeline job (shell executor) that builds and
//! pushes `$CI_REGISTRY_IMAGE:$CI_COMMIT_REF_SLUG`; and the built image run by Docker when a
//! daemon answers.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use gantry_test_support::registry::Registry;
use gantry_test_support::{GitRepo, require_tool, require_tools, run_with_timeout};

struct Env {
    dir: tempfile::TempDir,
}

impl Env {
    fn new() -> Self {
        Self {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn path(&self, p: &str) -> PathBuf {
        self.dir.path().join(p)
    }

    fn write(&self, p: &str, content: &str) {
        let p = self.path(p);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, content).unwrap();
    }

    fn gantry(&self, args: &[&str]) -> Output {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_gantry"));
        cmd.args(args)
            .current_dir(self.dir.path())
            .env("GANTRY_IMAGE_STORE", self.path("store"))
            .env("HOME", self.path("home"))
            .env_remove("DOCKER_CONFIG")
            .env_remove("REGISTRY_AUTH_FILE")
            .env_remove("CI_REGISTRY")
            .env_remove("DOCKER_AUTH_CONFIG");
        run_with_timeout(&mut cmd, std::time::Duration::from_mins(2)).unwrap()
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.gantry(args);
        assert!(
            out.status.success(),
            "gantry {args:?} failed:\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }

    fn fail(&self, args: &[&str]) -> String {
        let out = self.gantry(args);
        assert!(!out.status.success(), "gantry {args:?} should fail");
        String::from_utf8_lossy(&out.stderr).into_owned()
    }
}

fn skopeo(args: &[&str]) -> String {
    let out = run_with_timeout(
        Command::new("skopeo").args(args),
        std::time::Duration::from_mins(2),
    )
    .unwrap();
    assert!(
        out.status.success(),
        "skopeo {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

fn digest_of(image: &str, authfile: Option<&Path>) -> String {
    let mut args = vec!["inspect".to_owned(), "--tls-verify=false".to_owned()];
    if let Some(a) = authfile {
        args.extend(["--authfile".to_owned(), a.display().to_string()]);
    }
    args.extend([
        "--format".to_owned(),
        "{{.Digest}}".to_owned(),
        format!("docker://{image}"),
    ]);
    skopeo(&args.iter().map(String::as_str).collect::<Vec<_>>())
}

const DOCKERFILE: &str = "FROM scratch\nARG GREETING=hello\nCOPY app.txt /app/\nLABEL greeting=$GREETING\nCMD [\"/app/app.txt\"]\n";

#[test]
fn build_push_tag_inspect_copy() {
    if !require_tools(&["docker-registry", "skopeo"]) {
        return;
    }
    let reg = Registry::anonymous();
    let env = Env::new();
    env.write("ctx/Dockerfile", DOCKERFILE);
    env.write("ctx/app.txt", "v1\n");
    let image = format!("{}/gantry/cli:v1.2.0", reg.addr());

    let digest = env.ok(&["image", "build", "-q", "-t", &image, "--push", "ctx"]);
    assert!(digest.starts_with("sha256:"), "{digest}");
    assert_eq!(digest_of(&image, None), digest);

    // Same inputs, same digest; `-f` names the Dockerfile.
    std::fs::rename(env.path("ctx/Dockerfile"), env.path("Containerfile")).unwrap();
    assert_eq!(
        env.ok(&["image", "build", "-q", "-f", "Containerfile", "ctx"]),
        digest
    );

    // Retag registry-side.
    env.ok(&["image", "tag", &image, "latest"]);
    assert_eq!(
        digest_of(&format!("{}/gantry/cli:latest", reg.addr()), None),
        digest
    );

    // Inspect (registry and local store).
    let json: serde_json::Value =
        serde_json::from_str(&env.ok(&["image", "inspect", &image])).unwrap();
    assert_eq!(json["Digest"], digest.as_str());
    assert_eq!(json["Labels"]["greeting"], "hello");
    assert_eq!(json["Cmd"][0], "/app/app.txt");
    let raw = env.ok(&["image", "inspect", "--raw", &format!("local:{image}")]);
    assert!(
        raw.contains("application/vnd.oci.image.manifest.v1+json"),
        "{raw}"
    );

    // Copy to an OCI layout and a docker archive; skopeo reads both.
    let oci = env.path("out-oci");
    env.ok(&[
        "image",
        "copy",
        &image,
        &format!("oci:{}:v1", oci.display()),
    ]);
    assert!(skopeo(&["inspect", &format!("oci:{}:v1", oci.display())]).contains(&digest));
    let archive = env.path("out.tar");
    env.ok(&[
        "image",
        "copy",
        &image,
        &format!("docker-archive:{}:gantry/cli:1", archive.display()),
    ]);
    skopeo(&["inspect", &format!("docker-archive:{}", archive.display())]);

    // Errors: a missing tag, a bad reference, a Dockerfile error with its line.
    let err = env.fail(&[
        "image",
        "inspect",
        &format!("{}/gantry/cli:nope", reg.addr()),
    ]);
    assert!(
        err.contains("manifest unknown") && err.contains("gantry/cli:nope"),
        "{err}"
    );
    let err = env.fail(&["image", "tag", &image, "v1!"]);
    assert!(err.contains("invalid image reference"), "{err}");
    env.write("bad/Dockerfile", "FROM scratch\nCOPY\n");
    let err = env.fail(&["image", "build", "bad"]);
    assert!(
        err.contains("Dockerfile:2: COPY requires at least two arguments"),
        "{err}"
    );
}

#[test]
fn login_and_basic_auth_push() {
    if !require_tools(&["docker-registry", "skopeo", "htpasswd"]) {
        return;
    }
    let reg = Registry::htpasswd("ci", "s3cret");
    let env = Env::new();
    env.write("ctx/Dockerfile", DOCKERFILE);
    env.write("ctx/app.txt", "v1\n");
    let image = format!("{}/gantry/auth:1", reg.addr());
    env.ok(&["image", "build", "-q", "-t", &image, "ctx"]);

    let err = env.fail(&["image", "push", &image]);
    assert!(
        err.contains("unauthorized") && err.contains("gantry image login"),
        "{err}"
    );
    let err = env.fail(&["image", "login", &reg.addr(), "-u", "ci", "-p", "wrong"]);
    assert!(err.contains("unauthorized"), "{err}");

    let auth = env.path("auth.json");
    let authfile = auth.display().to_string();
    env.ok(&[
        "image",
        "login",
        "--authfile",
        &authfile,
        &reg.addr(),
        "-u",
        "ci",
        "-p",
        "s3cret",
    ]);
    env.ok(&["image", "push", "--authfile", &authfile, &image]);
    assert_eq!(
        digest_of(&image, Some(&auth)),
        env.ok(&["image", "build", "-q", "ctx"])
    );
    env.ok(&["image", "logout", "--authfile", &authfile, &reg.addr()]);
    let err = env.fail(&["image", "push", "--authfile", &authfile, &image]);
    assert!(err.contains("unauthorized"), "{err}");
    // --creds works without any file.
    env.ok(&["image", "push", "--creds", "ci:s3cret", &image]);
}

#[test]
fn pipeline_job_builds_and_pushes_with_ci_variables() {
    if !require_tools(&["docker-registry", "skopeo", "git"]) {
        return;
    }
    let reg = Registry::anonymous();
    let yaml = "build-image:\n  script:\n    - gantry image build -t \"$CI_REGISTRY_IMAGE:$CI_COMMIT_REF_SLUG\" --push .\n";
    let repo = GitRepo::with_pipeline(yaml)
        .file("Dockerfile", DOCKERFILE)
        .file("app.txt", "from a pipeline\n");
    let store = tempfile::tempdir().unwrap();
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_gantry"))
        .parent()
        .unwrap()
        .to_path_buf();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_gantry"));
    for k in GitRepo::inherited_git_vars() {
        cmd.env_remove(k);
    }
    cmd.envs(repo.env())
        .env("NO_COLOR", "1")
        .env("PATH", path)
        .env("GANTRY_IMAGE_STORE", store.path())
        .env("GANTRY_CACHE_DIR", repo.home().join("cache"))
        .current_dir(repo.path())
        .args(["run", "--registry", &reg.addr()]);
    let out = run_with_timeout(&mut cmd, std::time::Duration::from_mins(3)).unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "gantry run failed:\n{stdout}\n{stderr}"
    );
    let tags = skopeo(&[
        "list-tags",
        "--tls-verify=false",
        &format!("docker://{}/my-group/sub/my-project", reg.addr()),
    ]);
    assert!(tags.contains("\"main\""), "{tags}\n{stdout}");
}

#[test]
fn docker_runs_a_built_image() {
    if !require_tools(&["docker", "busybox-static"]) {
        return;
    }
    let env = Env::new();
    std::fs::create_dir_all(env.path("bb")).unwrap();
    let busybox = gantry_test_support::docker::busybox_path().unwrap();
    std::fs::copy(busybox, env.path("bb/busybox")).unwrap();
    env.write(
        "bb/Dockerfile",
        "FROM scratch\nCOPY busybox /bin/busybox\nRUN [\"/bin/busybox\", \"--install\", \"-s\", \"/bin\"]\nRUN echo built-by-gantry > /msg\nCMD [\"cat\", \"/msg\"]\n",
    );
    if !require_tool("unshare") {
        return;
    }
    let archive = env.path("bb.tar");
    let name = format!("gantry-test/built-{}:1", std::process::id());
    env.ok(&[
        "image",
        "build",
        "-q",
        "-t",
        &name,
        "--output",
        &format!("docker-archive:{}:{name}", archive.display()),
        "bb",
    ]);
    let load = run_with_timeout(
        Command::new("docker").args(["load", "-i"]).arg(&archive),
        std::time::Duration::from_mins(2),
    )
    .unwrap();
    assert!(
        load.status.success(),
        "docker load: {}",
        String::from_utf8_lossy(&load.stderr)
    );
    let run = run_with_timeout(
        Command::new("docker").args(["run", "--rm", &name]),
        std::time::Duration::from_mins(2),
    )
    .unwrap();
    let _ = Command::new("docker").args(["rmi", "-f", &name]).output();
    assert!(
        run.status.success(),
        "docker run: {}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&run.stdout).trim(),
        "built-by-gantry"
    );
}

/// examples/go-service: its pipeline builds the Go binary, the image and pushes it; the image
/// prints the version the linker set (run by Docker when a daemon answers).
#[test]
fn go_service_example_pipeline() {
    if !require_tools(&["docker-registry", "skopeo", "git", "go"]) {
        return;
    }
    let reg = Registry::anonymous();
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/go-service");
    let mut repo =
        GitRepo::with_pipeline(&std::fs::read_to_string(example.join(".gitlab-ci.yml")).unwrap());
    for f in [
        "go.mod",
        "main.go",
        "main_test.go",
        "Dockerfile",
        ".dockerignore",
    ] {
        repo = repo.file(f, std::fs::read(example.join(f)).unwrap());
    }
    let repo = repo.commit("go-service");
    let store = tempfile::tempdir().unwrap();
    let go_cache = std::env::temp_dir().join("gantry-test-go-cache");
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_gantry"))
        .parent()
        .unwrap()
        .to_path_buf();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_gantry"));
    for k in GitRepo::inherited_git_vars() {
        cmd.env_remove(k);
    }
    cmd.envs(repo.env())
        .env("NO_COLOR", "1")
        .env("PATH", path)
        .env("GOCACHE", go_cache.join("build"))
        .env("GOPATH", go_cache.join("gopath"))
        .env("GANTRY_IMAGE_STORE", store.path())
        .env("GANTRY_CACHE_DIR", repo.home().join("cache"))
        .current_dir(repo.path())
        .args(["run", "--registry", &reg.addr()]);
    let out = run_with_timeout(&mut cmd, std::time::Duration::from_mins(5)).unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "pipeline failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !stdout.contains("release "),
        "release runs only for tags:\n{stdout}"
    );
    let image = format!("{}/my-group/sub/my-project:main", reg.addr());
    let config = skopeo(&[
        "inspect",
        "--config",
        "--tls-verify=false",
        &format!("docker://{image}"),
    ]);
    assert!(
        config.contains("\"User\":\"65534:65534\"") || config.contains("65534:65534"),
        "{config}"
    );
    assert!(
        config.contains("\"org.opencontainers.image.version\": \"main\"")
            || config.contains("image.version\":\"main"),
        "{config}"
    );

    if gantry_test_support::tool_available("docker").is_ok() {
        let run = run_with_timeout(
            Command::new("docker").args(["run", "--rm", &image, "-version"]),
            std::time::Duration::from_mins(2),
        )
        .unwrap();
        let _ = Command::new("docker").args(["rmi", "-f", &image]).output();
        assert!(
            run.status.success(),
            "docker run: {}",
            String::from_utf8_lossy(&run.stderr)
        );
        assert_eq!(String::from_utf8_lossy(&run.stdout).trim(), "main");
    }
}

/// RUN without root: the build runs as uid 65534 (`setpriv`), RUN executes in a user
/// namespace, and files it creates are owned by root in the layer. Where the kernel refuses
/// user namespaces the error says what it needs.
#[test]
fn rootless_run_in_a_user_namespace() {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    if !require_tools(&["setpriv", "busybox-static"]) {
        return;
    }
    if std::fs::metadata("/proc/self").map_or(1, |m| m.uid()) != 0 {
        eprintln!(
            "SKIPPED (needs root to switch to an unprivileged user): rootless_run_in_a_user_namespace"
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o777)).unwrap();
    std::fs::create_dir_all(d.join("ctx")).unwrap();
    std::fs::copy(
        gantry_test_support::docker::busybox_path().unwrap(),
        d.join("ctx/busybox"),
    )
    .unwrap();
    std::fs::write(
        d.join("ctx/Dockerfile"),
        "FROM scratch\nCOPY busybox /bin/busybox\nRUN [\"/bin/busybox\", \"sh\", \"-c\", \"echo rootless > /msg\"]\n",
    )
    .unwrap();
    let bin = d.join("gantry");
    std::fs::copy(env!("CARGO_BIN_EXE_gantry"), &bin).unwrap();
    for p in [
        d.join("ctx"),
        d.join("ctx/busybox"),
        d.join("ctx/Dockerfile"),
    ] {
        let mode = if p.is_dir() { 0o777 } else { 0o755 };
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).unwrap();
    }
    let out_dir = d.join("out");
    let mut cmd = Command::new("setpriv");
    cmd.args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(&bin)
        .args(["image", "build", "-q", "-t", "x/rootless:1", "--output"])
        .arg(format!("oci:{}", out_dir.display()))
        .arg(d.join("ctx"))
        .env("HOME", d)
        .env("GANTRY_IMAGE_STORE", d.join("store"))
        .current_dir(d);
    let out = run_with_timeout(&mut cmd, std::time::Duration::from_mins(2)).unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        // Kernels without unprivileged user namespaces: the error must say so.
        assert!(
            stderr.contains("cannot isolate RUN") && stderr.contains("user namespaces"),
            "{stderr}"
        );
        eprintln!("rootless RUN refused by this kernel (as reported): {stderr}");
        return;
    }
    let layout = gantry_image::OciLayout::open(&out_dir).unwrap();
    let desc = layout.resolve(Some("1")).unwrap();
    let manifest =
        gantry_image::ImageManifest::from_slice(&layout.read_blob(&desc.digest).unwrap(), "m")
            .unwrap();
    let last = manifest.layers.last().unwrap();
    let mut blob = layout.open_blob(&last.digest).unwrap();
    let unpacked = tempfile::tempdir().unwrap();
    gantry_image::unpack_layer(
        &mut blob,
        gantry_image::media_type::layer_compression(&last.media_type),
        unpacked.path(),
        gantry_image::WhiteoutMode::Apply,
        "layer",
    )
    .unwrap();
    let names: Vec<String> = std::fs::read_dir(unpacked.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["msg"], "{stderr}");
    let msg = unpacked.path().join("msg");
    assert_eq!(std::fs::read_to_string(&msg).unwrap(), "rootless\n");
    assert_eq!(
        std::fs::metadata(&msg).unwrap().uid(),
        0,
        "owned by root in the layer"
    );
}
