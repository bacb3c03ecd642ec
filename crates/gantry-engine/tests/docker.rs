//! The docker executor against the real engine: images built locally (busybox-static via
//! `docker import`, nothing is pulled), services reached by alias, volumes, extra hosts,
//! privileged requests, allow-lists, pull policies, and clean-up after success, failure, timeout
//! and cancel (every test counts the labelled containers, networks and volumes left).
//!
//! Gated with `require_tool("docker")`: a failure with `CI=true`, a visible skip elsewhere.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use common::{Fixture, Run, job, var};
use gantry_engine::{
    CancelToken, DockerOptions, Event, Executor, ImageSpec, JobStatus, PipelineStatus, ServiceSpec,
    strip_ansi,
};
use gantry_test_support::docker::{
    ResourceCounts, TestRun, docker_ok, ensure_busybox_http_image, ensure_busybox_image,
};
use gantry_test_support::require_tool;

const STAGES: &[&str] = &["test"];

fn available() -> bool {
    require_tool("docker") && require_tool("busybox-static")
}

/// Docker options that label everything with the test run's label.
fn docker_options(run: &TestRun) -> DockerOptions {
    DockerOptions {
        labels: BTreeMap::from([(
            gantry_test_support::docker::LABEL_KEY.to_owned(),
            run.id().to_owned(),
        )]),
        ..DockerOptions::default()
    }
}

fn run_docker(f: &Fixture, spec: gantry_engine::PipelineSpec, options: DockerOptions) -> Run {
    let mut run_options = f.options();
    run_options.executor = Executor::Docker(Box::new(options));
    f.run_with(spec, run_options)
}

fn busybox_job(name: &str, script: &[&str]) -> gantry_engine::JobSpec {
    let mut j = job(name, STAGES, 0, script);
    j.image = Some(ImageSpec::named(ensure_busybox_image()));
    j
}

fn nothing_left(run: &TestRun) {
    assert_eq!(
        run.counts(),
        ResourceCounts::default(),
        "resources left behind"
    );
}

#[test]
fn runs_a_job_in_the_image_with_the_project_mounted() {
    if !available() {
        return;
    }
    let test = TestRun::new();
    let f = Fixture::new();
    f.write("data.txt", "from the host\n");
    f.commit("data");
    let mut j = busybox_job(
        "build",
        &[
            "cat data.txt",
            "echo \"dir=$CI_PROJECT_DIR pwd=$(pwd)\"",
            "echo \"var=$MY_VAR\"",
            "echo made > out.txt",
            "cat /etc/os-release 2>/dev/null || echo no-os-release",
        ],
    );
    j.variables = vec![
        var("CI_PROJECT_PATH", "group/project"),
        var("MY_VAR", "hello"),
    ];
    j.artifacts = Some(gantry_engine::ArtifactsSpec {
        paths: vec!["out.txt".into()],
        ..Default::default()
    });
    let r = run_docker(&f, f.spec(1, STAGES, vec![j]), docker_options(&test));
    let log = r.log_text("build");
    assert_eq!(r.status("build"), JobStatus::Success, "{}", r.dump());
    assert!(log.contains("from the host"), "{log}");
    assert!(
        log.contains("dir=/builds/group/project pwd=/builds/group/project"),
        "{log}"
    );
    assert!(log.contains("var=hello"), "{log}");
    assert!(log.contains("no-os-release"), "{log}");
    assert!(log.contains("Preparing the \"docker\" executor"), "{log}");
    assert!(log.contains("Uploading artifacts"), "{log}");
    nothing_left(&test);
}

#[test]
fn failing_script_reports_the_exit_code_and_after_script_runs() {
    if !available() {
        return;
    }
    let test = TestRun::new();
    let f = Fixture::new();
    let mut j = busybox_job("fail", &["echo before", "exit 3"]);
    j.after_script = vec!["echo \"after status=$CI_JOB_STATUS\"".into()];
    let r = run_docker(&f, f.spec(1, STAGES, vec![j]), docker_options(&test));
    let outcome = r.outcome.job("fail").unwrap();
    assert_eq!(outcome.status, JobStatus::Failed);
    assert_eq!(outcome.exit_code, Some(3));
    let log = r.log_text("fail");
    assert!(log.contains("after status=failed"), "{log}");
    assert!(log.contains("ERROR: Job failed: exit code 3"), "{log}");
    nothing_left(&test);
}

#[test]
fn services_answer_by_alias_on_the_job_network() {
    if !available() {
        return;
    }
    let test = TestRun::new();
    let f = Fixture::new();
    let http = ensure_busybox_http_image();
    let mut j = busybox_job(
        "web",
        &[
            "wget -qO- http://web:8080/",
            "wget -qO- http://site:8080/",
            "wget -qO- http://gantry-test__busybox-http:8080/",
            "wget -qO- http://gantry-test-busybox-http:8080/",
            "echo \"env=$SERVICE_ONLY\"",
        ],
    );
    j.services = vec![ServiceSpec {
        alias: Some("web, site".into()),
        variables: vec![var("SERVICE_ONLY", "svc")],
        ..ServiceSpec::named(http)
    }];
    let r = run_docker(&f, f.spec(1, STAGES, vec![j]), docker_options(&test));
    let log = r.log_text("web");
    assert_eq!(r.status("web"), JobStatus::Success, "{log}");
    assert_eq!(log.matches("gantry-test ok").count(), 4, "{log}");
    assert!(
        log.contains("Starting service gantry-test/busybox-http:1"),
        "{log}"
    );
    assert!(log.contains("Waiting for services to be up and running (timeout 30 seconds)"));
    assert!(!log.contains("probably didn't start properly"), "{log}");
    // Service variables are the service's only.
    assert!(log.contains("env="), "{log}");
    assert!(!log.contains("env=svc"), "{log}");
    nothing_left(&test);
}

#[test]
fn a_service_that_does_not_answer_gets_a_warning_with_its_logs() {
    if !available() {
        return;
    }
    let test = TestRun::new();
    let f = Fixture::new();
    let http = ensure_busybox_http_image();
    let mut j = busybox_job("slow", &["echo job-ran"]);
    j.services = vec![
        // Exposes 8080 but never listens.
        ServiceSpec {
            alias: Some("mute".into()),
            command: Some(vec![
                "sh".into(),
                "-c".into(),
                "echo service-says-hi; sleep 60".into(),
            ]),
            ..ServiceSpec::named(http)
        },
        // Exposes nothing.
        ServiceSpec {
            alias: Some("plain".into()),
            command: Some(vec!["sleep".into(), "60".into()]),
            ..ServiceSpec::named(ensure_busybox_image())
        },
    ];
    let mut options = docker_options(&test);
    options.wait_for_services_timeout = Some(2);
    let started = std::time::Instant::now();
    let r = run_docker(&f, f.spec(1, STAGES, vec![j]), options);
    let log = r.log_text("slow");
    assert_eq!(r.status("slow"), JobStatus::Success, "{log}");
    assert!(log.contains("job-ran"));
    assert_eq!(
        log.matches("probably didn't start properly").count(),
        2,
        "{log}"
    );
    assert!(log.contains("did not answer on"), "{log}");
    assert!(log.contains("has no exposed ports"), "{log}");
    assert!(log.contains("service-says-hi"), "{log}");
    assert!(started.elapsed() < Duration::from_secs(25));
    nothing_left(&test);
}

#[test]
fn volumes_extra_hosts_and_the_kept_cache_volume() {
    if !available() {
        return;
    }
    let test = TestRun::new();
    let f = Fixture::new();
    let host_dir = tempfile::tempdir().unwrap();
    std::fs::write(host_dir.path().join("file"), "bound from host\n").unwrap();
    let stages = &["one", "two"];
    let mut first = job(
        "first",
        stages,
        0,
        &[
            "echo cached > /cache/value",
            "cat /hostdir/file",
            "grep 'gantry.example' /etc/hosts",
        ],
    );
    first.image = Some(ImageSpec::named(ensure_busybox_image()));
    let mut second = job("second", stages, 1, &["cat /cache/value"]);
    second.image = Some(ImageSpec::named(ensure_busybox_image()));
    let mut options = docker_options(&test);
    options.volumes = vec![
        "/cache".into(),
        format!("{}:/hostdir:ro", host_dir.path().display()),
    ];
    options.extra_hosts = vec!["gantry.example:10.1.2.3".into()];
    let r = run_docker(&f, f.spec(1, stages, vec![first, second]), options.clone());
    assert_eq!(r.status("first"), JobStatus::Success, "{}", r.dump());
    assert_eq!(r.status("second"), JobStatus::Success, "{}", r.dump());
    let log = r.log_text("first");
    assert!(log.contains("bound from host"), "{log}");
    assert!(log.contains("10.1.2.3"), "{log}");
    assert!(r.log_text("second").contains("cached"));
    // The `/cache` volume is kept for the project; `gantry clean --all` removes it.
    assert_eq!(
        test.counts(),
        ResourceCounts {
            volumes: 1,
            ..ResourceCounts::default()
        }
    );
    let report = gantry_engine::clean_docker_resources(
        &options,
        &gantry_engine::CleanRequest {
            project_dir: Some(f.project()),
            include_cache_volumes: true,
            force: false,
        },
    )
    .unwrap();
    assert_eq!(report.volumes, 1, "{report:?}");
    nothing_left(&test);
}

#[test]
fn a_timed_out_job_leaves_no_containers_networks_or_volumes() {
    if !available() {
        return;
    }
    let test = TestRun::new();
    let f = Fixture::new();
    let mut j = busybox_job("slow", &["echo sleeping", "sleep 60"]);
    j.timeout = Some(Duration::from_secs(2));
    j.services = vec![ServiceSpec {
        alias: Some("svc".into()),
        ..ServiceSpec::named(ensure_busybox_http_image())
    }];
    let mut options = docker_options(&test);
    options.volumes = vec!["/scratch".into()];
    options.disable_cache = true;
    let started = std::time::Instant::now();
    let r = run_docker(&f, f.spec(1, STAGES, vec![j]), options);
    let outcome = r.outcome.job("slow").unwrap();
    assert_eq!(outcome.status, JobStatus::Failed);
    assert_eq!(
        outcome.failure_reason,
        Some(gantry_engine::FailureReason::JobExecutionTimeout)
    );
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
    nothing_left(&test);
}

#[test]
fn ctrl_c_leaves_no_containers_networks_or_volumes() {
    if !available() {
        return;
    }
    let test = TestRun::new();
    let f = Fixture::new();
    let mut j = busybox_job("long", &["echo sleeping", "sleep 60"]);
    j.after_script = vec!["echo \"after=$CI_JOB_STATUS\"".into()];
    j.services = vec![ServiceSpec::named(ensure_busybox_http_image())];
    let mut options = docker_options(&test);
    options.volumes = vec!["/scratch".into()];
    options.disable_cache = true;
    let token = CancelToken::new();
    let mut run_options = f.options();
    run_options.executor = Executor::Docker(Box::new(options));
    run_options.cancel = Some(token.clone());
    let mut lines = Vec::new();
    let started = std::time::Instant::now();
    let outcome = gantry_engine::run(f.spec(1, STAGES, vec![j]), run_options, |e| {
        if let Event::Log { text, .. } = e {
            let text = strip_ansi(text).into_owned();
            if text == "sleeping" {
                // What the signal handler does on Ctrl-C.
                token.cancel();
            }
            lines.push(text);
        }
    })
    .unwrap();
    assert_eq!(outcome.status, PipelineStatus::Canceled, "{lines:#?}");
    assert!(lines.iter().any(|l| l == "after=canceled"), "{lines:#?}");
    assert!(started.elapsed() < Duration::from_secs(30));
    nothing_left(&test);
}

#[test]
fn the_engine_refusing_a_privileged_container_is_a_clear_error() {
    if !available() {
        return;
    }
    // These machines cannot start privileged containers (the engine asks for a capability the
    // machine lacks). Where it works, the container gets every capability.
    let test = TestRun::new();
    let f = Fixture::new();
    let j = busybox_job("priv", &["grep CapEff /proc/self/status"]);
    let mut options = docker_options(&test);
    options.privileged = true;
    let r = run_docker(&f, f.spec(1, STAGES, vec![j]), options);
    let log = r.log_text("priv");
    if r.status("priv") == JobStatus::Success {
        assert!(
            log.contains("CapEff:\t000001ffffffffff") || log.contains("CapEff:\t0000003fffffffff"),
            "{log}"
        );
    } else {
        assert!(log.contains("privileged"), "{log}");
        assert!(log.contains("docs/docker-executor.md"), "{log}");
        assert_eq!(
            r.outcome.job("priv").unwrap().failure_reason,
            Some(gantry_engine::FailureReason::RunnerSystemFailure)
        );
    }
    nothing_left(&test);
}

#[test]
fn allow_lists_and_pull_policies_refuse_with_clear_errors() {
    if !available() {
        return;
    }
    let test = TestRun::new();
    let f = Fixture::new();
    let not_allowed = busybox_job("not-allowed", &["true"]);
    let mut never = job("never", STAGES, 0, &["true"]);
    never.image = Some(ImageSpec {
        pull_policy: vec!["never".into()],
        ..ImageSpec::named("gantry-test/does-not-exist:1")
    });
    let mut unreachable = job("unreachable", STAGES, 0, &["true"]);
    unreachable.image = Some(ImageSpec::named("127.0.0.1:9/gantry/nope:1"));
    let mut options = docker_options(&test);
    options.allowed_images = vec!["gantry-test/does-*".into(), "127.0.0.1:9/**".into()];
    let r = run_docker(
        &f,
        f.spec(1, STAGES, vec![not_allowed, never, unreachable]),
        options,
    );
    let reason = |job: &str| r.outcome.job(job).unwrap().failure_reason;
    assert_eq!(
        reason("not-allowed"),
        Some(gantry_engine::FailureReason::RunnerConfigurationError)
    );
    assert!(
        r.log_text("not-allowed").contains(
            "The \"gantry-test/busybox:1\" image is not present on list of allowed images:"
        )
    );
    assert_eq!(
        reason("never"),
        Some(gantry_engine::FailureReason::ImagePullFailure)
    );
    assert!(
        r.log_text("never")
            .contains("is not present locally and the pull policy is `never`"),
        "{}",
        r.log_text("never")
    );
    assert_eq!(
        reason("unreachable"),
        Some(gantry_engine::FailureReason::ImagePullFailure)
    );
    assert!(r.log_text("unreachable").contains("failed to pull image"));
    nothing_left(&test);
}

#[test]
fn a_job_pull_policy_outside_the_allowed_ones_is_a_configuration_error() {
    if !available() {
        return;
    }
    let test = TestRun::new();
    let f = Fixture::new();
    let mut j = busybox_job("policy", &["true"]);
    j.image.as_mut().unwrap().pull_policy = vec!["if-not-present".into()];
    let mut options = docker_options(&test);
    options.pull_policy = vec![gantry_engine::PullPolicy::Always];
    let r = run_docker(&f, f.spec(1, STAGES, vec![j]), options);
    assert!(
        r.log_text("policy").contains(
            "pull_policy ([if-not-present]) defined in GitLab pipeline config is not one of the allowed_pull_policies ([always])"
        ),
        "{}",
        r.log_text("policy")
    );
    nothing_left(&test);
}

/// A unix-socket proxy in front of the Docker socket that records what clients send, so a test
/// can check what Gantry asked the engine for (the machines here cannot start privileged
/// containers, so `HostConfig.Privileged` is checked in the request).
struct RecordingProxy {
    _dir: tempfile::TempDir,
    socket: std::path::PathBuf,
    sent: std::sync::Arc<std::sync::Mutex<Vec<u8>>>,
}

impl RecordingProxy {
    fn start() -> Self {
        use std::os::unix::net::{UnixListener, UnixStream};
        let dir = tempfile::tempdir().unwrap();
        let socket = dir.path().join("docker.sock");
        let listener = UnixListener::bind(&socket).unwrap();
        let sent = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let log = std::sync::Arc::clone(&sent);
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { return };
                let Ok(server) = UnixStream::connect("/var/run/docker.sock") else {
                    return;
                };
                let log = std::sync::Arc::clone(&log);
                let (mut c_read, mut s_write) =
                    (client.try_clone().unwrap(), server.try_clone().unwrap());
                std::thread::spawn(move || {
                    use std::io::{Read, Write};
                    let mut buf = [0u8; 16384];
                    while let Ok(n) = c_read.read(&mut buf) {
                        if n == 0 {
                            break;
                        }
                        log.lock().unwrap().extend_from_slice(&buf[..n]);
                        if s_write.write_all(&buf[..n]).is_err() {
                            break;
                        }
                    }
                    let _ = s_write.shutdown(std::net::Shutdown::Write);
                });
                let (mut s_read, mut c_write) = (server, client);
                std::thread::spawn(move || {
                    let _ = std::io::copy(&mut s_read, &mut c_write);
                    let _ = c_write.shutdown(std::net::Shutdown::Write);
                });
            }
        });
        Self {
            _dir: dir,
            socket,
            sent,
        }
    }

    fn host(&self) -> String {
        format!("unix://{}", self.socket.display())
    }

    /// The JSON bodies of `POST .../containers/create?name=<...suffix>` requests.
    fn created(&self, name_suffix: &str) -> Vec<serde_json::Value> {
        let sent = String::from_utf8_lossy(&self.sent.lock().unwrap()).into_owned();
        if std::env::var_os("GANTRY_TEST_DUMP").is_some() {
            eprintln!("{sent}");
        }
        sent.split("POST /")
            .filter(|r| {
                r.contains("containers/create?")
                    && r.lines().next().is_some_and(|l| l.contains(name_suffix))
            })
            .filter_map(|r| {
                let body = r.split("\r\n\r\n").nth(1)?;
                let end = body.rfind('}')?;
                serde_json::from_str(&body[..=end]).ok()
            })
            .collect()
    }
}

fn env_of(body: &serde_json::Value) -> Vec<String> {
    body["Env"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn docker_in_docker_socket_binding_asks_for_the_socket_and_privileged() {
    if !available() {
        return;
    }
    if !std::path::Path::new("/var/run/docker.sock").exists() {
        return;
    }
    let test = TestRun::new();
    let f = Fixture::new();
    let proxy = RecordingProxy::start();
    let j = busybox_job(
        "socket",
        &["test -S /var/run/docker.sock && echo socket-ok"],
    );
    let mut options = docker_options(&test);
    options.host = Some(proxy.host());
    options.volumes = vec!["/var/run/docker.sock:/var/run/docker.sock".into()];
    options.privileged = true;
    let r = run_docker(&f, f.spec(1, STAGES, vec![j]), options.clone());
    let created = proxy.created("-build");
    assert_eq!(created.len(), 1, "{}", r.dump());
    let host = &created[0]["HostConfig"];
    assert_eq!(host["Privileged"], serde_json::Value::Bool(true));
    let binds: Vec<&str> = host["Binds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b.as_str().unwrap())
        .collect();
    assert!(
        binds.contains(&"/var/run/docker.sock:/var/run/docker.sock"),
        "{binds:?}"
    );
    assert!(
        !env_of(&created[0])
            .iter()
            .any(|e| e.starts_with("DOCKER_HOST="))
    );
    // Unprivileged, the job itself runs and sees the socket.
    options.privileged = false;
    let j = busybox_job(
        "socket",
        &["test -S /var/run/docker.sock && echo socket-ok"],
    );
    let r = run_docker(&f, f.spec(2, STAGES, vec![j]), options);
    assert!(r.log_text("socket").contains("socket-ok"), "{}", r.dump());
    nothing_left(&test);
}

/// A stand-in for `docker:dind`: busybox tagged `gantry-test/docker:dind` (the tag makes Gantry
/// treat it as a docker-in-docker service). It writes a fake client certificate into
/// `/certs/client` and listens on the daemon port.
fn fake_dind() -> &'static str {
    let busybox = ensure_busybox_http_image();
    docker_ok(&["tag", busybox, "gantry-test/docker:dind"]);
    "gantry-test/docker:dind"
}

#[test]
fn docker_in_docker_with_tls_shares_the_certificates_and_sets_the_variables() {
    if !available() {
        return;
    }
    let test = TestRun::new();
    let f = Fixture::new();
    let proxy = RecordingProxy::start();
    let mut j = busybox_job(
        "tls",
        &[
            "echo \"host=$DOCKER_HOST verify=$DOCKER_TLS_VERIFY certs=$DOCKER_CERT_PATH\"",
            "cat $DOCKER_CERT_PATH/ca.pem",
            "wget -qO- http://docker:2376/www/index.html",
        ],
    );
    j.variables = vec![var("DOCKER_TLS_CERTDIR", "/certs")];
    j.services = vec![ServiceSpec {
        alias: Some("docker".into()),
        command: Some(vec![
            "sh".into(),
            "-c".into(),
            "mkdir -p /certs/client && echo fake-ca > /certs/client/ca.pem && httpd -f -p 2376 -h /".into(),
        ]),
        variables: vec![var("HEALTHCHECK_TCP_PORT", "2376")],
        ..ServiceSpec::named(fake_dind())
    }];
    let mut options = docker_options(&test);
    options.host = Some(proxy.host());
    options.volumes = vec!["/certs/client".into()];
    options.disable_cache = true;
    options.services_privileged = Some(false);
    options.privileged = true;
    let r = run_docker(&f, f.spec(1, STAGES, vec![j]), options);
    let log = r.log_text("tls");
    // The build container is privileged (refused on these machines); the service is not.
    let build = proxy.created("-build");
    assert_eq!(
        build[0]["HostConfig"]["Privileged"],
        serde_json::Value::Bool(true)
    );
    let env = env_of(&build[0]);
    assert!(
        env.contains(&"DOCKER_HOST=tcp://docker:2376".to_owned()),
        "{env:?}"
    );
    assert!(env.contains(&"DOCKER_TLS_VERIFY=1".to_owned()), "{env:?}");
    assert!(
        env.contains(&"DOCKER_CERT_PATH=/certs/client".to_owned()),
        "{env:?}"
    );
    let service = proxy.created("-gantry-test__docker-0");
    assert_eq!(service.len(), 1, "{log}");
    assert_eq!(
        service[0]["HostConfig"]["Privileged"],
        serde_json::Value::Bool(false)
    );
    assert!(env_of(&service[0]).contains(&"DOCKER_TLS_CERTDIR=/certs".to_owned()));
    let certs_bind = |body: &serde_json::Value| {
        body["HostConfig"]["Binds"]
            .as_array()
            .unwrap()
            .iter()
            .any(|b| b.as_str().unwrap().ends_with(":/certs/client"))
    };
    assert!(certs_bind(&build[0]) && certs_bind(&service[0]));
    if r.status("tls") == JobStatus::Success {
        assert!(
            log.contains("host=tcp://docker:2376 verify=1 certs=/certs/client"),
            "{log}"
        );
        assert!(log.contains("fake-ca"), "{log}");
    } else {
        assert!(log.contains("privileged"), "{log}");
    }
    nothing_left(&test);
}

#[test]
fn docker_in_docker_without_tls_uses_port_2375() {
    if !available() {
        return;
    }
    let test = TestRun::new();
    let f = Fixture::new();
    let mut j = busybox_job(
        "plain",
        &[
            "echo \"host=$DOCKER_HOST\"",
            "wget -qO- http://gantry-test__docker:2375/www/index.html",
        ],
    );
    j.variables = vec![var("DOCKER_TLS_CERTDIR", "")];
    j.services = vec![ServiceSpec {
        command: Some(vec![
            "httpd".into(),
            "-f".into(),
            "-p".into(),
            "2375".into(),
            "-h".into(),
            "/".into(),
        ]),
        variables: vec![var("HEALTHCHECK_TCP_PORT", "2375")],
        ..ServiceSpec::named(fake_dind())
    }];
    let r = run_docker(&f, f.spec(1, STAGES, vec![j]), docker_options(&test));
    let log = r.log_text("plain");
    assert_eq!(r.status("plain"), JobStatus::Success, "{log}");
    // `gantry-test/docker:dind` derives the aliases gantry-test__docker and gantry-test-docker;
    // no alias named `docker` exists, so Gantry points DOCKER_HOST at the first derived one.
    assert!(log.contains("host=tcp://gantry-test__docker:2375"), "{log}");
    nothing_left(&test);
}

#[test]
fn the_image_entrypoint_is_kept_or_cleared_and_the_user_applies() {
    if !available() {
        return;
    }
    // An image whose entrypoint exports a variable and execs its arguments, as entrypoints
    // must for the docker executor.
    let image = "gantry-test/entrypoint:1";
    if !gantry_test_support::docker::image_exists(image) {
        let tar = gantry_test_support::docker::busybox_rootfs_tar(false);
        let mut cmd = std::process::Command::new("docker");
        cmd.args([
            "import",
            "-c",
            r#"ENTRYPOINT ["/bin/sh", "-c", "export FROM_ENTRYPOINT=yes; exec \"$@\"", "--"]"#,
            "-c",
            r#"CMD ["/bin/sh"]"#,
            "-",
            image,
        ]);
        let mut child = cmd
            .stdin(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        std::io::Write::write_all(&mut child.stdin.take().unwrap(), &tar).unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let test = TestRun::new();
    let f = Fixture::new();
    let mut kept = job(
        "kept",
        STAGES,
        0,
        &["echo \"entrypoint=${FROM_ENTRYPOINT:-no}\""],
    );
    kept.image = Some(ImageSpec::named(image));
    let mut cleared = job(
        "cleared",
        STAGES,
        0,
        &["echo \"entrypoint=${FROM_ENTRYPOINT:-no}\""],
    );
    cleared.image = Some(ImageSpec {
        entrypoint: Some(vec![String::new()]),
        ..ImageSpec::named(image)
    });
    let mut user = job("user", STAGES, 0, &["echo \"uid=$(id -u)\""]);
    user.image = Some(ImageSpec {
        user: Some("65534".into()),
        ..ImageSpec::named(ensure_busybox_image())
    });
    let r = run_docker(
        &f,
        f.spec(1, STAGES, vec![kept, cleared, user]),
        docker_options(&test),
    );
    assert!(
        r.log_text("kept").contains("entrypoint=yes"),
        "{}",
        r.dump()
    );
    assert!(
        r.log_text("cleared").contains("entrypoint=no"),
        "{}",
        r.dump()
    );
    assert!(r.log_text("user").contains("uid=65534"), "{}", r.dump());
    nothing_left(&test);
}

#[test]
fn resource_and_security_settings_reach_the_engine() {
    if !available() {
        return;
    }
    let test = TestRun::new();
    let f = Fixture::new();
    let proxy = RecordingProxy::start();
    let j = busybox_job(
        "limits",
        &[
            "cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max",
            "grep nameserver /etc/resolv.conf",
        ],
    );
    let mut options = docker_options(&test);
    options.host = Some(proxy.host());
    options.memory = Some(64 << 20);
    options.nano_cpus = Some(500_000_000);
    options.shm_size = Some(32 << 20);
    options.cap_add = vec!["NET_ADMIN".into()];
    options.cap_drop = vec!["MKNOD".into()];
    options.dns = vec!["10.0.0.53".into()];
    let r = run_docker(&f, f.spec(1, STAGES, vec![j]), options);
    let log = r.log_text("limits");
    assert_eq!(r.status("limits"), JobStatus::Success, "{log}");
    assert!(log.contains("67108864"), "{log}");
    assert!(log.contains("nameserver 10.0.0.53"), "{log}");
    let host = &proxy.created("-build")[0]["HostConfig"];
    assert_eq!(host["Memory"], 64 << 20);
    assert_eq!(host["NanoCpus"], 500_000_000);
    assert_eq!(host["ShmSize"], 32 << 20);
    assert_eq!(host["CapAdd"][0], "NET_ADMIN");
    assert_eq!(host["CapDrop"][0], "MKNOD");
    nothing_left(&test);
}

/// TLS to a `tcp://` engine with client certificates: a TLS proxy (Python's `ssl`, requiring a
/// client certificate signed by a test CA made with `openssl`) in front of the local socket.
#[test]
fn talks_to_a_tcp_engine_over_tls_with_client_certificates() {
    if !available() || !gantry_test_support::require_tools(&["openssl", "python3"]) {
        return;
    }
    if !std::path::Path::new("/var/run/docker.sock").exists() {
        return;
    }
    let certs = tempfile::tempdir().unwrap();
    let d = certs.path();
    let sh = |script: &str| {
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(script)
            .current_dir(d)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{script}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    sh(
        "openssl req -x509 -newkey rsa:2048 -nodes -keyout ca-key.pem -out ca.pem -days 1 -subj /CN=gantry-test-ca 2>/dev/null",
    );
    sh(
        "openssl req -newkey rsa:2048 -nodes -keyout server-key.pem -out server.csr -subj /CN=localhost 2>/dev/null \
        && printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\\nextendedKeyUsage=serverAuth\\n' > server.ext \
        && openssl x509 -req -in server.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial -out server-cert.pem -days 1 -extfile server.ext 2>/dev/null",
    );
    sh(
        "openssl req -newkey rsa:2048 -nodes -keyout key.pem -out client.csr -subj /CN=client 2>/dev/null \
        && printf 'extendedKeyUsage=clientAuth\\n' > client.ext \
        && openssl x509 -req -in client.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial -out cert.pem -days 1 -extfile client.ext 2>/dev/null",
    );
    let proxy = r#"
import socket, ssl, sys, threading
d = sys.argv[1]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(d + "/server-cert.pem", d + "/server-key.pem")
ctx.load_verify_locations(d + "/ca.pem")
ctx.verify_mode = ssl.CERT_REQUIRED
srv = socket.socket()
srv.bind(("127.0.0.1", 0))
srv.listen(64)
print(srv.getsockname()[1], flush=True)
def pipe(a, b):
    try:
        while True:
            data = a.recv(65536)
            if not data:
                break
            b.sendall(data)
    except Exception:
        pass
    try:
        b.shutdown(socket.SHUT_WR)
    except Exception:
        pass
def handle(c):
    try:
        s = ctx.wrap_socket(c, server_side=True)
    except Exception:
        c.close()
        return
    u = socket.socket(socket.AF_UNIX)
    u.connect("/var/run/docker.sock")
    threading.Thread(target=pipe, args=(s, u), daemon=True).start()
    pipe(u, s)
while True:
    c, _ = srv.accept()
    threading.Thread(target=handle, args=(c,), daemon=True).start()
"#;
    let mut child = std::process::Command::new("python3")
        .args(["-c", proxy])
        .arg(d)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let port = {
        use std::io::BufRead as _;
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.as_mut().unwrap())
            .read_line(&mut line)
            .unwrap();
        line.trim().to_owned()
    };
    let test = TestRun::new();
    let f = Fixture::new();
    let mut options = docker_options(&test);
    options.host = Some(format!("tcp://127.0.0.1:{port}"));
    options.tls_verify = Some(true);
    options.tls_cert_path = Some(d.to_path_buf());
    let j = busybox_job("tls", &["echo over-tls"]);
    let r = run_docker(&f, f.spec(1, STAGES, vec![j]), options.clone());
    // Without client certificates the proxy refuses the connection.
    let mut no_certs = options;
    no_certs.tls_cert_path = Some(d.join("missing"));
    let mut run_options = f.options();
    run_options.executor = Executor::Docker(Box::new(no_certs));
    let refused = gantry_engine::run(
        f.spec(2, STAGES, vec![busybox_job("x", &["true"])]),
        run_options,
        |_| {},
    );
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(r.status("tls"), JobStatus::Success, "{}", r.dump());
    assert!(r.log_text("tls").contains("over-tls"));
    assert!(
        r.log_text("tls")
            .contains(&format!("at tcp://127.0.0.1:{port}"))
    );
    let err = refused.unwrap_err().to_string();
    assert!(
        err.contains("cannot connect to the Docker engine at tcp://127.0.0.1:"),
        "{err}"
    );
    nothing_left(&test);
}

#[test]
fn pulls_with_credentials_from_docker_auth_config() {
    if !available()
        || !gantry_test_support::require_tools(&["docker-registry", "skopeo", "htpasswd"])
    {
        return;
    }
    let registry = gantry_test_support::registry::Registry::htpasswd("ci", "s3cret");
    let image = format!("{}/gantry/busybox:1", registry.addr());
    let busybox = ensure_busybox_image();
    let out = std::process::Command::new("skopeo")
        .args([
            "copy",
            "--dest-tls-verify=false",
            "--dest-creds",
            "ci:s3cret",
        ])
        .arg(format!("docker-daemon:{busybox}"))
        .arg(format!("docker://{image}"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let test = TestRun::new();
    let f = Fixture::new();
    let mut anonymous = job("anonymous", STAGES, 0, &["true"]);
    anonymous.image = Some(ImageSpec {
        pull_policy: vec!["always".into()],
        ..ImageSpec::named(&image)
    });
    let mut authenticated = job("authenticated", STAGES, 0, &["echo pulled-with-auth"]);
    authenticated.image = Some(ImageSpec {
        pull_policy: vec!["always".into()],
        ..ImageSpec::named(&image)
    });
    // base64("ci:s3cret")
    authenticated.variables = vec![var(
        "DOCKER_AUTH_CONFIG",
        &format!(
            r#"{{"auths":{{"{}":{{"auth":"Y2k6czNjcmV0"}}}}}}"#,
            registry.addr()
        ),
    )];
    let r = run_docker(
        &f,
        f.spec(1, STAGES, vec![anonymous, authenticated]),
        docker_options(&test),
    );
    let _ = std::process::Command::new("docker")
        .args(["rmi", "-f", &image])
        .output();
    assert_eq!(r.status("anonymous"), JobStatus::Failed);
    let log = r.log_text("anonymous");
    assert!(log.contains("failed to pull image"), "{log}");
    assert_eq!(
        r.status("authenticated"),
        JobStatus::Success,
        "{}",
        r.dump()
    );
    let log = r.log_text("authenticated");
    assert!(
        log.contains("Authenticating with credentials from DOCKER_AUTH_CONFIG"),
        "{log}"
    );
    assert!(log.contains("pulled-with-auth"));
    nothing_left(&test);
}

#[test]
fn configured_services_start_first_and_skip_the_allow_list() {
    if !available() {
        return;
    }
    let test = TestRun::new();
    let f = Fixture::new();
    let mut allowed = busybox_job(
        "allowed",
        &[
            "wget -qO- http://configured:8080/",
            "wget -qO- http://own:8081/",
        ],
    );
    allowed.services = vec![ServiceSpec {
        alias: Some("own".into()),
        entrypoint: Some(vec!["/bin/httpd".into()]),
        command: Some(vec![
            "-f".into(),
            "-p".into(),
            "8081".into(),
            "-h".into(),
            "/www".into(),
        ]),
        variables: vec![var("HEALTHCHECK_TCP_PORT", "8081")],
        ..ServiceSpec::named(ensure_busybox_http_image())
    }];
    let mut refused = busybox_job("refused", &["true"]);
    refused.services = vec![ServiceSpec::named(ensure_busybox_image())];
    let mut options = docker_options(&test);
    options.services = vec![ServiceSpec {
        alias: Some("configured".into()),
        ..ServiceSpec::named(ensure_busybox_http_image())
    }];
    options.allowed_services = vec!["gantry-test/busybox-http:*".into()];
    let r = run_docker(&f, f.spec(1, STAGES, vec![allowed, refused]), options);
    let log = r.log_text("allowed");
    assert_eq!(r.status("allowed"), JobStatus::Success, "{log}");
    assert_eq!(log.matches("gantry-test ok").count(), 2, "{log}");
    // The configured service is started before the job's.
    let configured = log.find("Starting service").unwrap();
    assert!(log[configured..].matches("Starting service").count() == 2);
    let log = r.log_text("refused");
    assert!(
        log.contains(
            "The \"gantry-test/busybox:1\" service is not present on list of allowed services:"
        ),
        "{log}"
    );
    nothing_left(&test);
}

/// What a remote engine gets: the working copy copied in and out through the archive API
/// (forced here against the local engine).
#[test]
fn copy_mode_moves_the_working_copy_in_and_out() {
    if !available() {
        return;
    }
    let test = TestRun::new();
    let f = Fixture::new();
    f.write("data.txt", "from the host\n");
    f.commit("data");
    let mut j = busybox_job(
        "copied",
        &[
            "cat data.txt",
            "cat \"$SECRET_FILE\"",
            "echo made-in-container > out.txt",
            "echo FROM_STEP=carried >> \"$GITLAB_ENV\"",
        ],
    );
    j.after_script = vec!["echo \"after=$FROM_STEP\"".into()];
    let mut file = var("SECRET_FILE", "file content");
    file.file = true;
    j.variables = vec![file];
    j.artifacts = Some(gantry_engine::ArtifactsSpec {
        paths: vec!["out.txt".into()],
        ..Default::default()
    });
    let mut options = docker_options(&test);
    options.copy_workspace = Some(true);
    let r = run_docker(&f, f.spec(1, STAGES, vec![j]), options);
    let log = r.log_text("copied");
    assert_eq!(r.status("copied"), JobStatus::Success, "{log}");
    assert!(log.contains("copied into the container and back"), "{log}");
    assert!(log.contains("from the host"), "{log}");
    assert!(log.contains("file content"), "{log}");
    assert!(log.contains("after=carried"), "{log}");
    let archive = f.state_dir().join("artifacts/1/copied/artifacts.tar.gz");
    assert!(archive.exists(), "{log}");
    nothing_left(&test);
}
