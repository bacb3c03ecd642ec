//! Reading `config.toml`: every honoured `[runners.docker]` key, warnings for unknown and
//! unsupported keys, errors with line numbers for invalid values.

use std::path::Path;

use gantry_engine::PullPolicy;
use gantry_runner_config::RunnerConfig;

const FULL: &str = r#"
concurrent = 4

[[runners]]
  name = "local"
  url = "https://gitlab.example.com"
  token = "glrt-xxxx"
  executor = "docker"
  environment = ["FOO=bar", "EMPTY="]
  [runners.docker]
    host = "unix:///run/podman/podman.sock"
    tls_verify = false
    image = "ruby:3.3"
    privileged = true
    services_privileged = false
    allowed_privileged_images = ["docker:*"]
    volumes = ["/var/run/docker.sock:/var/run/docker.sock", "/certs/client", "/cache"]
    extra_hosts = ["db.example:10.0.0.5"]
    network_mode = "host"
    dns = ["1.1.1.1"]
    cap_add = ["NET_ADMIN"]
    cap_drop = ["MKNOD"]
    devices = ["/dev/fuse"]
    memory = "512m"
    cpus = "1.5"
    shm_size = 268435456
    user = "1000:1000"
    pull_policy = ["always", "if-not-present"]
    allowed_pull_policies = ["always", "if-not-present"]
    allowed_images = ["ruby:*", "registry.example.com/**"]
    allowed_services = ["postgres:*"]
    disable_cache = true
    cache_dir = "/srv/cache"
    wait_for_services_timeout = 60
    container_labels = { team = "ci" }
    [[runners.docker.services]]
      name = "postgres:16"
      alias = "db"
      command = ["postgres", "-c", "fsync=off"]
      environment = ["POSTGRES_PASSWORD=x"]
"#;

#[test]
fn reads_every_honoured_key() {
    let c = RunnerConfig::parse(Path::new("config.toml"), FULL).unwrap();
    assert!(c.warnings.is_empty(), "{:?}", c.warnings);
    assert_eq!(c.executor.as_deref(), Some("docker"));
    assert_eq!(c.environment[0], ("FOO".into(), "bar".into()));
    let d = &c.docker;
    assert_eq!(d.host.as_deref(), Some("unix:///run/podman/podman.sock"));
    assert_eq!(d.tls_verify, Some(false));
    assert_eq!(d.image.as_deref(), Some("ruby:3.3"));
    assert!(d.privileged);
    assert_eq!(d.services_privileged, Some(false));
    assert_eq!(d.volumes.len(), 3);
    assert_eq!(d.extra_hosts, ["db.example:10.0.0.5"]);
    assert_eq!(d.network_mode.as_deref(), Some("host"));
    assert_eq!(d.memory, Some(512 << 20));
    assert_eq!(d.nano_cpus, Some(1_500_000_000));
    assert_eq!(d.shm_size, Some(268_435_456));
    assert_eq!(
        d.pull_policy,
        [PullPolicy::Always, PullPolicy::IfNotPresent]
    );
    assert_eq!(d.allowed_images.len(), 2);
    assert!(d.disable_cache);
    assert_eq!(d.wait_for_services_timeout, Some(60));
    assert_eq!(d.labels["team"], "ci");
    assert_eq!(d.services[0].alias.as_deref(), Some("db"));
    assert_eq!(d.services[0].variables[0].key, "POSTGRES_PASSWORD");
}

#[test]
fn unknown_and_unsupported_keys_warn_with_lines() {
    let text = "[[runners]]\nexecutor = \"docker\"\n[runners.docker]\nimage = \"x\"\nfancy = 1\nulimit = {}\n";
    let c = RunnerConfig::parse(Path::new("c.toml"), text).unwrap();
    let warnings: Vec<String> = c.warnings.iter().map(ToString::to_string).collect();
    assert_eq!(
        warnings,
        [
            "c.toml:5:1: [runners.docker]: unknown key `fancy` (ignored)",
            "c.toml:6:1: [runners.docker]: `ulimit` is not supported by gantry and is ignored",
        ]
    );
}

#[test]
fn invalid_values_are_errors_with_lines() {
    let text = "[[runners]]\n[runners.docker]\nprivileged = \"yes\"\nmemory = \"lots\"\npull_policy = \"sometimes\"\nvolumes = [\"/ok\", \"relative\"]\nextra_hosts = [\"nohost\"]\n";
    let e = RunnerConfig::parse(Path::new("c.toml"), text).unwrap_err();
    let errors: Vec<String> = e.errors.iter().map(ToString::to_string).collect();
    assert_eq!(errors.len(), 5, "{errors:#?}");
    assert!(errors[0].starts_with("c.toml:3:14: `privileged` must be true or false, not a string"));
    assert!(errors[1].starts_with("c.toml:4:10: `memory`: invalid size"));
    assert!(errors[2].starts_with("c.toml:5:15: `pull_policy`: unknown pull policy"));
    assert!(errors[3].starts_with("c.toml:6:19: `volumes`: invalid volume \"relative\""));
    assert!(errors[4].starts_with("c.toml:7:16: `extra_hosts`: invalid extra_hosts entry"));
}

#[test]
fn syntax_errors_have_positions() {
    let e = RunnerConfig::parse(Path::new("c.toml"), "[[runners]]\nexecutor = \n").unwrap_err();
    assert!(e.to_string().starts_with("c.toml:2:"), "{e}");
    assert!(e.to_string().contains("invalid TOML"), "{e}");
}

#[test]
fn a_missing_explicit_file_is_an_error() {
    let e = RunnerConfig::load(Path::new("/nonexistent/config.toml")).unwrap_err();
    assert!(
        e.to_string()
            .contains("cannot read the runner configuration"),
        "{e}"
    );
}
