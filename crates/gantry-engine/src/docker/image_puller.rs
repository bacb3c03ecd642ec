//! `ImagePuller`: makes an image available to the engine following its pull policies —
//! `always` pulls (once per job), `if-not-present` uses the local image when there is one,
//! `never` only uses the local image; policies are tried in order until one succeeds.

use std::collections::HashSet;
use std::time::Duration;

use bollard::query_parameters::CreateImageOptions;
use futures_util::StreamExt as _;

use super::client::DockerClient;
use super::image_ref::ImageRef;
use super::pull_policy::PullPolicy;
use super::registry_auth::RegistryAuth;

/// Pulls images for one job.
pub(crate) struct ImagePuller<'a> {
    pub(crate) client: &'a DockerClient,
    /// `DOCKER_AUTH_CONFIG` of the job.
    pub(crate) auth_config: Option<String>,
    /// Images already pulled for this job (`always` does not pull them again).
    pub(crate) pulled: HashSet<String>,
    /// Polled while a pull runs: `true` abandons it (the job was canceled).
    pub(crate) canceled: &'a mut dyn FnMut() -> bool,
}

impl ImagePuller<'_> {
    /// Makes `name` available; `log` receives the runner-style lines (`warn` the warnings).
    /// Returns the image id.
    pub(crate) fn ensure(
        &mut self,
        name: &str,
        policies: &[PullPolicy],
        platform: Option<&str>,
        log: &mut dyn FnMut(&str),
        warn: &mut dyn FnMut(&str),
    ) -> Result<String, String> {
        let image = ImageRef::parse(name)?;
        let list: Vec<&str> = policies.iter().map(|p| p.as_str()).collect();
        log(&format!(
            "Using effective pull policy of [{}] for container {name}",
            list.join(" ")
        ));
        let mut errors = Vec::new();
        for policy in policies {
            let local = self.local_id(name);
            let attempt = match policy {
                PullPolicy::Never => local.ok_or_else(|| {
                    format!(
                        "the image {name:?} is not present locally and the pull policy is `never` \
                         (build or pull it first: `docker pull {name}`)"
                    )
                }),
                PullPolicy::IfNotPresent if local.is_some() => Ok(local.unwrap_or_default()),
                PullPolicy::Always if local.is_some() && self.pulled.contains(name) => {
                    Ok(local.unwrap_or_default())
                }
                PullPolicy::IfNotPresent | PullPolicy::Always => {
                    self.pull(&image, name, platform, log, warn)
                }
            };
            match attempt {
                Ok(id) => {
                    log(&format!("Using docker image {id} for {name} ..."));
                    return Ok(id);
                }
                Err(e) => {
                    if policies.len() > 1 {
                        warn(&format!(
                            "Failed to pull image with policy \"{policy}\": {e}"
                        ));
                    }
                    errors.push(e);
                }
            }
        }
        Err(errors.pop().unwrap_or_else(|| "no pull policy".to_owned()))
    }

    fn local_id(&self, name: &str) -> Option<String> {
        self.client
            .block_on(self.client.docker.inspect_image(name))
            .ok()
            .and_then(|i| i.id)
    }

    fn pull(
        &mut self,
        image: &ImageRef,
        name: &str,
        platform: Option<&str>,
        log: &mut dyn FnMut(&str),
        warn: &mut dyn FnMut(&str),
    ) -> Result<String, String> {
        log(&format!("Pulling docker image {name} ..."));
        let mut warnings = Vec::new();
        let auth = RegistryAuth::find(&image.registry, self.auth_config.as_deref(), &mut warnings);
        for w in &warnings {
            warn(w);
        }
        if let Some(auth) = &auth {
            log(&format!(
                "Authenticating with credentials from {}",
                auth.source
            ));
        }
        let (from_image, reference) = image.pull_parts();
        let options = CreateImageOptions {
            from_image: Some(from_image),
            tag: Some(reference),
            platform: platform.unwrap_or_default().to_owned(),
            ..CreateImageOptions::default()
        };
        let client = self.client;
        let canceled = &mut *self.canceled;
        let result = client.block_on(async {
            let mut stream =
                client
                    .docker
                    .create_image(Some(options), None, auth.map(|a| a.credentials));
            loop {
                match tokio::time::timeout(Duration::from_millis(200), stream.next()).await {
                    Ok(Some(item)) => {
                        item?;
                    }
                    Ok(None) => return Ok(()),
                    Err(_) if canceled() => {
                        return Err(bollard::errors::Error::DockerStreamError {
                            error: "canceled".to_owned(),
                        });
                    }
                    Err(_) => {}
                }
            }
        });
        if let Err(e) = result {
            let message = match &e {
                bollard::errors::Error::DockerResponseServerError { message, .. }
                | bollard::errors::Error::DockerStreamError { error: message } => message.clone(),
                other => other.to_string(),
            };
            let hint = if message.contains("not found")
                || message.contains("does not exist")
                || message.contains("manifest unknown")
            {
                " (check the image name and tag)"
            } else if message.contains("unauthorized") || message.contains("denied") {
                " (log in to the registry, or give credentials in DOCKER_AUTH_CONFIG)"
            } else {
                ""
            };
            return Err(format!("failed to pull image {name:?}: {message}{hint}"));
        }
        self.pulled.insert(name.to_owned());
        self.local_id(name)
            .ok_or_else(|| format!("the image {name:?} was pulled but the engine cannot find it"))
    }
}
