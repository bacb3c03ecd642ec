//! `[runners.docker]` into [`DockerOptions`]: every key Gantry honours is read and validated;
//! keys gitlab-runner knows but Gantry does not use are warnings, others are unknown-key warnings.

use std::path::PathBuf;

use gantry_engine::{DockerOptions, JobVariable, PullPolicy, ServiceSpec};
use toml::de::{DeTable, DeValue};

use crate::table_reader::{TableReader, Value, get};
use crate::units::{parse_cpus, parse_size};

const SUPPORTED: &[&str] = &[
    "host",
    "tls_verify",
    "tls_cert_path",
    "image",
    "privileged",
    "services_privileged",
    "allowed_privileged_images",
    "allowed_privileged_services",
    "volumes",
    "extra_hosts",
    "network_mode",
    "dns",
    "dns_search",
    "cap_add",
    "cap_drop",
    "security_opt",
    "devices",
    "memory",
    "memory_swap",
    "memory_reservation",
    "cpus",
    "shm_size",
    "user",
    "pull_policy",
    "allowed_pull_policies",
    "allowed_images",
    "allowed_services",
    "disable_cache",
    "cache_dir",
    "wait_for_services_timeout",
    "services",
    "container_labels",
    "disable_entrypoint_overwrite",
];

const IGNORED: &[&str] = &[
    "volumes_from",
    "volume_driver",
    "volume_keep",
    "network_mtu",
    "enable_ipv6",
    "links",
    "hostname",
    "mac_address",
    "services_limit",
    "cpu_shares",
    "cpuset_cpus",
    "cpuset_mems",
    "cgroup_parent",
    "oom_kill_disable",
    "oom_score_adjust",
    "ulimit",
    "sysctls",
    "tmpfs",
    "services_tmpfs",
    "service_memory",
    "service_memory_swap",
    "service_memory_reservation",
    "service_cpus",
    "service_cpu_shares",
    "service_cpuset_cpus",
    "service_cgroup_parent",
    "service_gpus",
    "services_security_opt",
    "services_devices",
    "device_cgroup_rules",
    "gpus",
    "runtime",
    "userns_mode",
    "pid_mode",
    "ipcmode",
    "isolation",
    "group_add",
    "allowed_users",
    "log_options",
];

/// Keys with no meaning for a local run: accepted silently.
const QUIET: &[&str] = &[
    "helper_image",
    "helper_image_flavor",
    "helper_image_autoset_arch_and_os",
];

/// Reads `[runners.docker]`.
pub(crate) fn read_docker(reader: &mut TableReader<'_>, table: &DeTable<'_>) -> DockerOptions {
    reader.check_keys(table, "[runners.docker]", SUPPORTED, IGNORED, QUIET);
    let mut o = DockerOptions::default();
    let r = reader;
    let strings = |r: &mut TableReader<'_>, key: &str| -> Vec<String> {
        get(table, key)
            .and_then(|v| r.strings(v, key))
            .unwrap_or_default()
    };
    let string = |r: &mut TableReader<'_>, key: &str| -> Option<String> {
        get(table, key).and_then(|v| r.string(v, key))
    };
    let boolean = |r: &mut TableReader<'_>, key: &str| -> Option<bool> {
        get(table, key).and_then(|v| r.boolean(v, key))
    };
    o.host = string(r, "host").filter(|h| !h.is_empty());
    o.tls_verify = boolean(r, "tls_verify");
    o.tls_cert_path = string(r, "tls_cert_path")
        .filter(|p| !p.is_empty())
        .map(PathBuf::from);
    o.image = string(r, "image").filter(|i| !i.is_empty());
    o.privileged = boolean(r, "privileged").unwrap_or(false);
    o.services_privileged = boolean(r, "services_privileged");
    o.allowed_privileged_images = strings(r, "allowed_privileged_images");
    o.allowed_privileged_services = strings(r, "allowed_privileged_services");
    o.volumes = strings(r, "volumes");
    if let Some(v) = get(table, "volumes") {
        check_each(r, v, &o.volumes, "volumes", check_volume);
    }
    o.extra_hosts = strings(r, "extra_hosts");
    if let Some(v) = get(table, "extra_hosts") {
        check_each(r, v, &o.extra_hosts, "extra_hosts", |h| {
            match h.split_once(':') {
                Some((host, ip)) if !host.is_empty() && !ip.is_empty() => Ok(()),
                _ => Err(format!(
                    "invalid extra_hosts entry {h:?} (expected \"host:ip\")"
                )),
            }
        });
    }
    o.network_mode = string(r, "network_mode").filter(|m| !m.is_empty());
    o.dns = strings(r, "dns");
    o.dns_search = strings(r, "dns_search");
    o.cap_add = strings(r, "cap_add");
    o.cap_drop = strings(r, "cap_drop");
    o.security_opt = strings(r, "security_opt");
    o.devices = strings(r, "devices");
    if let Some(v) = get(table, "devices") {
        check_each(r, v, &o.devices, "devices", |d| {
            if d.starts_with('/') {
                Ok(())
            } else {
                Err(format!(
                    "invalid device {d:?} (expected /dev/host[:/dev/container[:rwm]])"
                ))
            }
        });
    }
    o.memory = size(r, table, "memory");
    o.memory_swap = size(r, table, "memory_swap");
    o.memory_reservation = size(r, table, "memory_reservation");
    if let Some(v) = get(table, "cpus") {
        let text = match v.get_ref() {
            DeValue::Integer(i) => Some(i.as_str().to_owned()),
            DeValue::Float(f) => Some(f.as_str().to_owned()),
            _ => r.string(v, "cpus"),
        };
        if let Some(text) = text.filter(|t| !t.is_empty()) {
            match parse_cpus(&text) {
                Ok(n) => o.nano_cpus = Some(n),
                Err(e) => r.error(v.span().start, e),
            }
        }
    }
    if let Some(v) = get(table, "shm_size") {
        o.shm_size = r.integer(v, "shm_size");
        if o.shm_size.is_some_and(|s| s < 0) {
            r.error(v.span().start, "`shm_size` must not be negative".into());
        }
    }
    o.user = string(r, "user").filter(|u| !u.is_empty());
    o.pull_policy = policies(r, table, "pull_policy");
    o.allowed_pull_policies = policies(r, table, "allowed_pull_policies");
    o.allowed_images = strings(r, "allowed_images");
    o.allowed_services = strings(r, "allowed_services");
    o.disable_cache = boolean(r, "disable_cache").unwrap_or(false);
    o.cache_dir = string(r, "cache_dir")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from);
    if let Some(v) = get(table, "wait_for_services_timeout") {
        o.wait_for_services_timeout = r.integer(v, "wait_for_services_timeout");
    }
    if let Some(v) = get(table, "container_labels") {
        o.labels = r.string_map(v, "container_labels").unwrap_or_default();
    }
    o.disable_entrypoint_overwrite = boolean(r, "disable_entrypoint_overwrite").unwrap_or(false);
    if let Some(v) = get(table, "services") {
        o.services = services(r, v);
    }
    o
}

fn size(r: &mut TableReader<'_>, table: &DeTable<'_>, key: &str) -> Option<i64> {
    let v = get(table, key)?;
    let text = match v.get_ref() {
        DeValue::Integer(i) => i.as_str().to_owned(),
        _ => r.string(v, key)?,
    };
    if text.is_empty() {
        return None;
    }
    match parse_size(&text) {
        Ok(n) => Some(n),
        Err(e) => {
            r.error(v.span().start, format!("`{key}`: {e}"));
            None
        }
    }
}

fn policies(r: &mut TableReader<'_>, table: &DeTable<'_>, key: &str) -> Vec<PullPolicy> {
    let Some(v) = get(table, key) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for name in r.string_or_strings(v, key).unwrap_or_default() {
        match name.parse::<PullPolicy>() {
            Ok(p) => out.push(p),
            Err(e) => r.error(v.span().start, format!("`{key}`: {e}")),
        }
    }
    out
}

fn check_volume(spec: &str) -> Result<(), String> {
    let parts: Vec<&str> = spec.split(':').collect();
    let target = match parts.as_slice() {
        [t] | [_, t] | [_, t, _] => *t,
        _ => return Err(format!("invalid volume {spec:?}: too many `:`")),
    };
    if target.starts_with('/') {
        Ok(())
    } else {
        Err(format!(
            "invalid volume {spec:?}: the container path must be absolute (expected \
             /container/path or /host/path:/container/path[:ro|rw])"
        ))
    }
}

/// Validates each string of an array, reporting at the element's position.
fn check_each(
    r: &mut TableReader<'_>,
    v: &Value<'_>,
    values: &[String],
    key: &str,
    check: impl Fn(&str) -> Result<(), String>,
) {
    let DeValue::Array(items) = v.get_ref() else {
        return;
    };
    for (item, value) in items.iter().zip(values) {
        if let Err(e) = check(value) {
            r.error(item.span().start, format!("`{key}`: {e}"));
        }
    }
}

/// `[[runners.docker.services]]`: `name`, `alias`, `entrypoint`, `command`, `environment`.
fn services(r: &mut TableReader<'_>, v: &Value<'_>) -> Vec<ServiceSpec> {
    let DeValue::Array(items) = v.get_ref() else {
        r.error(
            v.span().start,
            "`services` must be an array of tables ([[runners.docker.services]])".into(),
        );
        return Vec::new();
    };
    let mut out = Vec::new();
    for item in &**items {
        let DeValue::Table(t) = item.get_ref() else {
            r.error(
                item.span().start,
                "each `services` entry must be a table with a `name`".into(),
            );
            continue;
        };
        r.check_keys(
            t,
            "[[runners.docker.services]]",
            &["name", "alias", "entrypoint", "command", "environment"],
            &[],
            &[],
        );
        let Some(name) = get(t, "name").and_then(|n| r.string(n, "name")) else {
            r.error(item.span().start, "a service needs a `name`".into());
            continue;
        };
        let mut service = ServiceSpec::named(name);
        service.alias = get(t, "alias").and_then(|a| r.string(a, "alias"));
        service.entrypoint = get(t, "entrypoint").and_then(|e| r.strings(e, "entrypoint"));
        service.command = get(t, "command").and_then(|c| r.strings(c, "command"));
        if let Some(env) = get(t, "environment") {
            for entry in r.strings(env, "environment").unwrap_or_default() {
                match entry.split_once('=') {
                    Some((k, val)) if !k.is_empty() => {
                        service.variables.push(JobVariable::new(k, val));
                    }
                    _ => r.error(
                        env.span().start,
                        format!("invalid environment entry {entry:?} (expected KEY=value)"),
                    ),
                }
            }
        }
        out.push(service);
    }
    out
}
