//! The docker-in-docker variables Gantry sets for a job that runs a dind service.

use super::image_ref::{ImageRef, split_aliases};
use crate::environment::JobEnvironment;
use crate::spec::ServiceSpec;

/// When the job runs a docker-in-docker service and does not set `DOCKER_HOST`, point the
/// docker CLI at it the way the `docker:` image's entrypoint would: TLS on 2376 with the client
/// certificates of `$DOCKER_TLS_CERTDIR/client`, or plain TCP on 2375 when
/// `DOCKER_TLS_CERTDIR` is empty.
pub(crate) fn dind_variables(
    services: &[(ServiceSpec, bool)],
    env: &mut JobEnvironment,
    volumes: &[String],
) {
    if env.get("DOCKER_HOST").is_some_and(|h| !h.is_empty()) {
        return;
    }
    let Some(host) = services.iter().find_map(|(service, _)| {
        let name = env.expand(&service.name);
        let image = ImageRef::parse(&name).ok()?;
        let is_dind = image.tag.as_deref().is_some_and(|t| t.contains("dind"))
            || image.repository.ends_with("dind");
        if !is_dind {
            return None;
        }
        let user_aliases = service
            .alias
            .as_deref()
            .map(|a| split_aliases(&env.expand(a)))
            .unwrap_or_default();
        user_aliases
            .into_iter()
            .chain(image.service_aliases())
            .next()
    }) else {
        return;
    };
    let certdir = env.get("DOCKER_TLS_CERTDIR").map(str::to_owned);
    let tls_dir = match certdir {
        Some(dir) if dir.is_empty() => None,
        Some(dir) => Some(dir),
        None => volumes
            .iter()
            .any(|v| v.trim_end_matches('/').ends_with("/certs/client"))
            .then(|| "/certs".to_owned()),
    };
    match tls_dir {
        Some(dir) => {
            env.set("DOCKER_HOST", format!("tcp://{host}:2376"));
            env.set("DOCKER_TLS_VERIFY", "1");
            env.set("DOCKER_CERT_PATH", format!("{dir}/client"));
        }
        None => env.set("DOCKER_HOST", format!("tcp://{host}:2375")),
    }
}
