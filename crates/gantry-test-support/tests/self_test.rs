//! Self-tests of the fixtures, through the public API. Docker and registry tests are gated with
//! `require_tool` (a failure on CI, a skip elsewhere).

use std::process::Command;
use std::time::{Duration, Instant};

use gantry_test_support::docker::{
    self, BUSYBOX_HTTP_IMAGE, BUSYBOX_IMAGE, HTTP_INDEX, TestRun, docker_ok,
};
use gantry_test_support::registry::Registry;
use gantry_test_support::{GitRepo, redact, require_tool, require_tools};

// ---- git ---------------------------------------------------------------------------------

#[test]
fn git_sha_matches_reference_recipe() {
    // test-infrastructure.md §8: the same inputs give the same SHA on every machine.
    let repo = GitRepo::new()
        .file(".gitlab-ci.yml", "job:\n  script: echo hi\n")
        .commit("Initial commit");
    assert_eq!(repo.head_sha(), "f2dcf082a8b18106e00747864d2f1edae02e8752");
    assert_eq!(repo.rev_parse("HEAD"), repo.head_sha());
}

#[test]
fn git_branches_tags_and_origin() {
    let repo = GitRepo::new()
        .file(".gitlab-ci.yml", "job:\n  script: echo hi\n")
        .commit("Initial commit")
        .tag("v1.0.0", "Release 1.0.0")
        .branch("feature/Login-Page")
        .file("a.txt", "x\n")
        .commit("Add a")
        .checkout("main")
        .remote_origin("git@gitlab.example.com:my-group/sub/my-project.git");
    let main = repo.head_sha();
    let feature = repo.rev_parse("feature/Login-Page");
    assert_ne!(main, feature);
    assert_eq!(repo.rev_parse("v1.0.0"), main);
    assert_eq!(repo.git(&["cat-file", "-t", "v1.0.0"]), "tag");
    assert_eq!(repo.rev_parse("origin/main"), main);
    assert_eq!(
        repo.git(&["symbolic-ref", "refs/remotes/origin/HEAD"]),
        "refs/remotes/origin/main"
    );
    assert_eq!(
        repo.git(&["remote", "get-url", "origin"]),
        "git@gitlab.example.com:my-group/sub/my-project.git"
    );
    assert_eq!(repo.git(&["rev-parse", "--abbrev-ref", "HEAD"]), "main");
    assert!(
        !repo.path().join("a.txt").exists(),
        "checkout main restored the tree"
    );
    // Second commit is dated one day after the first.
    assert_eq!(
        repo.git(&["log", "-1", "--format=%aI %an <%ae>", "feature/Login-Page"]),
        "2024-01-02T00:00:00Z Test User <test@example.com>"
    );
    assert_eq!(
        repo.git(&["diff", "--name-only", "main", "feature/Login-Page"]),
        "a.txt"
    );
    // Clean tree: nothing left untracked by the fixture itself.
    assert_eq!(repo.git(&["status", "--porcelain"]), "");
}

#[test]
fn git_detached_checkout_lightweight_tag_and_bare_clone() {
    let repo = GitRepo::new()
        .file("x", "1")
        .commit("one")
        .lightweight_tag("light")
        .file("x", "2")
        .commit("two")
        .remote_origin("git@gitlab.example.com:g/p.git")
        .checkout("light");
    assert_eq!(repo.head_sha(), repo.rev_parse("light"));
    assert_eq!(std::fs::read_to_string(repo.path().join("x")).unwrap(), "1");
    let bare = repo.bare_clone();
    let out = Command::new("git")
        .args(["--git-dir"])
        .arg(&bare)
        .args(["rev-parse", "main"])
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        repo.rev_parse("main")
    );
    assert!(GitRepo::file_url(&bare).starts_with("file:///"));
}

#[test]
fn git_host_config_does_not_leak() {
    let repo = GitRepo::with_pipeline("job:\n  script: echo hi\n");
    let origins = repo.git(&["config", "--list", "--show-origin"]);
    for line in origins.lines() {
        assert!(
            line.starts_with("file:.git/config"),
            "config from outside the repo: {line}"
        );
    }
    assert_eq!(repo.git(&["config", "user.name"]), "Test User");
    let home = repo
        .env()
        .into_iter()
        .find(|(k, _)| *k == "HOME")
        .unwrap()
        .1;
    assert_eq!(home, repo.home().as_os_str());
}

#[test]
fn git_fixtures_are_fast() {
    let start = Instant::now();
    for i in 0..20 {
        let repo = GitRepo::with_pipeline(&format!("job{i}:\n  script: echo hi\n"));
        assert_eq!(repo.head_sha().len(), 40);
    }
    let per_repo = start.elapsed() / 20;
    eprintln!("GitRepo::with_pipeline: {per_repo:?} per repository");
    // Three git processes per repository; generous bound for a loaded 2-core machine.
    assert!(per_repo < Duration::from_millis(500), "{per_repo:?}");
}

#[test]
fn redact_fixture_output() {
    let repo = GitRepo::with_pipeline("job:\n  script: echo hi\n");
    let text = format!("{} at {}", repo.path().display(), repo.head_sha());
    assert_eq!(redact(&text), "[TMP]/repo at [SHA]");
}

// ---- gating ------------------------------------------------------------------------------

#[test]
fn gating_passes_for_present_tools() {
    assert!(require_tools(&["sh", "git"]));
}

#[test]
fn ruby_psych_oracle_runs() {
    if !require_tool("ruby") {
        return;
    }
    let out = Command::new("ruby")
        .args([
            "-ryaml",
            "-rjson",
            "-e",
            "puts JSON.generate(YAML.safe_load('a: &x [1, yes]\nb: *x', aliases: true))",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        r#"{"a":[1,true],"b":[1,true]}"#
    );
}

// ---- docker ------------------------------------------------------------------------------

#[test]
fn docker_busybox_image_runs() {
    if !require_tools(&["docker", "busybox-static"]) {
        return;
    }
    let run = TestRun::new();
    assert_eq!(docker::ensure_busybox_image(), BUSYBOX_IMAGE);
    // Second call: no re-import (same image ID).
    let id = docker_ok(&["image", "inspect", "--format", "{{.Id}}", BUSYBOX_IMAGE]);
    docker::ensure_busybox_image();
    assert_eq!(
        docker_ok(&["image", "inspect", "--format", "{{.Id}}", BUSYBOX_IMAGE]),
        id
    );
    let out = docker_ok(&[
        "run",
        "--rm",
        "--label",
        &run.label(),
        BUSYBOX_IMAGE,
        "sh",
        "-c",
        "echo hello; id -u; ls -ld /tmp | cut -c1-10",
    ]);
    assert_eq!(out, "hello\n0\ndrwxrwxrwt");
    assert_eq!(run.counts().containers, 0, "--rm removed the container");
}

#[test]
fn docker_label_counting_and_cleanup() {
    if !require_tools(&["docker", "busybox-static"]) {
        return;
    }
    let image = docker::ensure_busybox_image();
    let run = TestRun::new();
    let label = run.label();
    docker_ok(&["network", "create", "--label", &label, &run.name("net")]);
    docker_ok(&["volume", "create", "--label", &label, &run.name("vol")]);
    docker_ok(&[
        "create",
        "--label",
        &label,
        "--name",
        &run.name("c"),
        image,
        "true",
    ]);
    let counts = run.counts();
    assert_eq!(
        (counts.containers, counts.networks, counts.volumes),
        (1, 1, 1)
    );
    let removed = run.cleanup();
    assert_eq!(removed, counts);
    assert_eq!(run.counts(), docker::ResourceCounts::default());
}

#[test]
fn docker_http_service_image_answers_on_8080() {
    if !require_tools(&["docker", "busybox-static"]) {
        return;
    }
    let run = TestRun::new();
    let label = run.label();
    let image = docker::ensure_busybox_http_image();
    assert_eq!(image, BUSYBOX_HTTP_IMAGE);
    let exposed = docker_ok(&[
        "image",
        "inspect",
        "--format",
        "{{json .Config.ExposedPorts}}",
        image,
    ]);
    let exposed: serde_json::Value = serde_json::from_str(&exposed).unwrap();
    assert!(exposed.get("8080/tcp").is_some(), "{exposed}");

    let net = run.name("net");
    docker_ok(&["network", "create", "--label", &label, &net]);
    docker_ok(&[
        "run",
        "-d",
        "--label",
        &label,
        "--name",
        &run.name("web"),
        "--network",
        &net,
        "--network-alias",
        "web",
        image,
    ]);
    // Bounded wait for httpd, from a client container on the same network.
    let script =
        "for i in $(seq 1 50); do wget -qO- http://web:8080/ && exit 0; sleep 0.1; done; exit 1";
    let out = docker_ok(&[
        "run",
        "--rm",
        "--label",
        &label,
        "--network",
        &net,
        BUSYBOX_IMAGE,
        "sh",
        "-c",
        script,
    ]);
    assert_eq!(format!("{out}\n"), HTTP_INDEX);
    drop(run);
    assert_eq!(
        docker::count_by_label(&label),
        docker::ResourceCounts::default()
    );
}

// ---- registry ----------------------------------------------------------------------------

#[test]
fn registry_anonymous_serves_v2() {
    if !require_tool("docker-registry") {
        return;
    }
    let reg = Registry::anonymous();
    let r = reg.get("/v2/").unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("Docker-Distribution-Api-Version"),
        Some("registry/2.0")
    );
    assert_eq!(
        reg.get("/v2/_catalog").unwrap().text().trim(),
        r#"{"repositories":[]}"#
    );
    assert!(reg.credentials().is_none() && reg.authfile().is_none());
    let port = reg.port();
    drop(reg);
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", port)).is_err(),
        "registry still listening after drop"
    );
}

#[test]
fn registry_htpasswd_requires_basic_auth() {
    if !require_tools(&["docker-registry", "htpasswd"]) {
        return;
    }
    let reg = Registry::htpasswd("ci", "s3cret");
    let r = reg.get("/v2/").unwrap();
    assert_eq!(r.status, 401);
    assert_eq!(
        r.header("WWW-Authenticate"),
        Some(r#"Basic realm="gantry-test""#)
    );
    assert_eq!(
        reg.get_with_auth("/v2/", "ci", "s3cret").unwrap().status,
        200
    );
    assert_eq!(
        reg.get_with_auth("/v2/", "ci", "wrong").unwrap().status,
        401
    );
    let auth: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(reg.authfile().unwrap()).unwrap()).unwrap();
    assert_eq!(auth["auths"][reg.addr()]["auth"], "Y2k6czNjcmV0");
}

#[test]
fn registry_accepts_skopeo_push_of_busybox() {
    if !require_tools(&[
        "docker",
        "busybox-static",
        "docker-registry",
        "htpasswd",
        "skopeo",
    ]) {
        return;
    }
    let image = docker::ensure_busybox_image();
    let reg = Registry::htpasswd("ci", "s3cret");
    let dest = format!("docker://{}/gantry/busybox:1", reg.addr());
    let authfile = reg.authfile().unwrap();
    let out = Command::new("skopeo")
        .args(["copy", "-q", "--dest-tls-verify=false", "--authfile"])
        .arg(&authfile)
        .arg(format!("docker-daemon:{image}"))
        .arg(&dest)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "skopeo copy: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let tags = reg
        .get_with_auth("/v2/gantry/busybox/tags/list", "ci", "s3cret")
        .unwrap();
    assert_eq!(tags.status, 200);
    assert_eq!(
        tags.text().trim(),
        r#"{"name":"gantry/busybox","tags":["1"]}"#
    );
}
