//! `gantry image`: build, push, pull, copy, tag, inspect, login and logout — container images
//! without a Docker daemon.
//!
//! Credentials come from `--creds`, the CI job (`CI_REGISTRY`, `CI_REGISTRY_USER`,
//! `CI_REGISTRY_PASSWORD`), `--authfile` / `REGISTRY_AUTH_FILE`, `DOCKER_AUTH_CONFIG` and
//! Docker's `config.json`. CAs come from `--ca-file`, `SSL_CERT_FILE`, `CI_SERVER_TLS_CA_FILE`,
//! `ADDITIONAL_CA_CERT_BUNDLE` and `/etc/{docker,containers}/certs.d/<host>/`. Registries on the
//! loopback interface may be plain HTTP (as Docker allows); others only when listed with
//! `--insecure-registry` (or `GANTRY_INSECURE_REGISTRIES`).

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Instant;

use clap::{Args, Subcommand, ValueEnum};
use gantry_image::build::{BuildOptions, ImageFormat, build};
use gantry_image::registry::{
    Credential, CredentialStore, RegistryClient, RegistryOptions, remove_login, save_login,
};
use gantry_image::transfer::{
    CopyReport, ImageLocation, LayoutEndpoint, PinnedLayout, PlatformChoice, RegistryEndpoint,
    Source, copy_image, copy_image_with, retag, retag_target, write_docker_archive,
};
use gantry_image::{
    ImageConfig, ImageError, ImageIndex, ImageManifest, LocalStore, OciLayout, Platform, Reference,
    media_type,
};
use serde_json::json;

use crate::cli::Cli;
use crate::output::print;

/// `gantry image ...`.
#[derive(Debug, Clone, Args)]
pub struct ImageArgs {
    #[command(subcommand)]
    pub command: ImageCommand,

    #[command(flatten)]
    pub registry: RegistryFlags,
}

/// How to reach registries.
#[derive(Debug, Clone, Args)]
pub struct RegistryFlags {
    /// Trust this CA (PEM) for registry TLS. Repeatable.
    #[arg(long = "ca-file", value_name = "PEM", global = true)]
    pub ca_files: Vec<PathBuf>,

    /// Allow plain HTTP and unverified TLS for this registry (host[:port]). Repeatable.
    #[arg(long = "insecure-registry", value_name = "HOST", global = true)]
    pub insecure: Vec<String>,

    /// Credentials file in Docker's config.json format.
    #[arg(long, value_name = "FILE", global = true)]
    pub authfile: Option<PathBuf>,

    /// USER:PASSWORD for every registry this command talks to.
    #[arg(long, value_name = "USER:PASSWORD", global = true)]
    pub creds: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    Oci,
    Docker,
}

#[derive(Debug, Clone, Subcommand)]
pub enum ImageCommand {
    /// Build a Dockerfile (no daemon; RUN in a user/mount namespace).
    ///
    /// The Dockerfile is `--dockerfile FILE` or the global `-f FILE` (default
    /// CONTEXT/Dockerfile).
    Build {
        /// Dockerfile path.
        #[arg(long, value_name = "FILE")]
        dockerfile: Option<PathBuf>,
        /// Name the result. Repeatable.
        #[arg(short = 't', long = "tag", value_name = "REF")]
        tags: Vec<String>,
        /// Set a build argument. Repeatable.
        #[arg(long = "build-arg", value_name = "KEY=VALUE")]
        build_args: Vec<String>,
        /// Build this stage (default: the last).
        #[arg(long, value_name = "STAGE")]
        target: Option<String>,
        /// Target platform, e.g. linux/amd64 (RUN needs the host's).
        #[arg(long, value_name = "OS/ARCH")]
        platform: Option<String>,
        /// Push every tag after building.
        #[arg(long)]
        push: bool,
        /// Also write the image to oci:DIR[:NAME] or docker-archive:FILE[:REF]. Repeatable.
        #[arg(long, value_name = "DEST")]
        output: Vec<String>,
        /// Do not use the layer cache.
        #[arg(long)]
        no_cache: bool,
        /// Fetch base images from their registry even when stored locally.
        #[arg(long)]
        pull: bool,
        /// Manifest format.
        #[arg(long, value_enum, default_value_t = FormatArg::Oci)]
        format: FormatArg,
        /// Print only the digest.
        #[arg(short, long)]
        quiet: bool,
        /// The build context.
        #[arg(value_name = "CONTEXT", default_value = ".")]
        context: PathBuf,
    },
    /// Push a locally built image to its registry (or to DEST).
    Push {
        /// The local image.
        #[arg(value_name = "IMAGE")]
        image: String,
        /// Where to push (default: IMAGE itself).
        #[arg(value_name = "DEST")]
        dest: Option<String>,
    },
    /// Fetch an image into the local store.
    Pull {
        #[arg(value_name = "IMAGE")]
        image: String,
        /// Platform to fetch (default: the host's).
        #[arg(long, value_name = "OS/ARCH")]
        platform: Option<String>,
    },
    /// Copy an image between `docker://REF`, `local:REF`, `oci:DIR[:NAME]` and
    /// `docker-archive:FILE[:REF]`.
    Copy {
        #[arg(value_name = "SRC")]
        src: String,
        #[arg(value_name = "DST")]
        dst: String,
        /// Copy one platform of a multi-platform image (default: all of them).
        #[arg(long, value_name = "OS/ARCH")]
        platform: Option<String>,
    },
    /// Tag a registry image with more tags, registry-side (no layer transfer in one repository).
    Tag {
        /// The existing image.
        #[arg(value_name = "IMAGE")]
        image: String,
        /// New tags (bare tags stay in IMAGE's repository) or full references.
        #[arg(value_name = "NEWTAG", required = true)]
        tags: Vec<String>,
    },
    /// Show an image's digest, media type, platforms, layers and config.
    Inspect {
        #[arg(value_name = "IMAGE")]
        image: String,
        /// Print the raw manifest bytes.
        #[arg(long, conflicts_with = "config")]
        raw: bool,
        /// Print the raw config.
        #[arg(long)]
        config: bool,
    },
    /// Store credentials for a registry (Docker's config.json, or --authfile).
    Login {
        /// Registry host[:port] (default: `$CI_REGISTRY`).
        #[arg(value_name = "REGISTRY")]
        registry: Option<String>,
        #[arg(short, long)]
        username: Option<String>,
        #[arg(short, long)]
        password: Option<String>,
        /// Read the password from stdin.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Remove stored credentials for a registry.
    Logout {
        #[arg(value_name = "REGISTRY")]
        registry: Option<String>,
    },
}

/// Runs `gantry image ...`; returns the exit code.
pub fn image(cli: &Cli, args: &ImageArgs) -> i32 {
    match run(cli, args) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("error: {e}");
            1
        }
    }
}

fn base_dir(cli: &Cli) -> PathBuf {
    cli.directory.clone().unwrap_or_else(|| PathBuf::from("."))
}

fn resolve(cli: &Cli, p: &Path) -> PathBuf {
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        base_dir(cli).join(p)
    }
}

fn client(flags: &RegistryFlags) -> Result<RegistryClient, ImageError> {
    let mut credentials = CredentialStore::from_environment(flags.authfile.as_deref())?;
    if let Some(c) = &flags.creds {
        let (u, p) = c
            .split_once(':')
            .ok_or_else(|| ImageError::Usage("--creds must be USER:PASSWORD".into()))?;
        credentials.set_default(Credential::UserPassword {
            username: u.into(),
            password: p.into(),
        });
    }
    RegistryClient::new(RegistryOptions {
        credentials,
        ca_files: flags.ca_files.clone(),
        insecure: flags.insecure.clone(),
        ..RegistryOptions::default()
    })
}

fn parse_ref(s: &str) -> Result<Reference, ImageError> {
    s.parse()
}

fn platform(p: Option<&String>) -> Result<Option<Platform>, ImageError> {
    p.map(|s| s.parse()).transpose()
}

fn report_line(what: &str, r: &CopyReport, secs: f64) -> String {
    format!(
        "{what} {} ({} uploaded, {} mounted, {} already there; {:.1} MB sent) in {secs:.2} s",
        r.digest
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default(),
        r.uploaded,
        r.mounted,
        r.existing,
        f64::from(u32::try_from(r.bytes_uploaded / 1000).unwrap_or(u32::MAX)) / 1e3,
    )
}

fn run(cli: &Cli, args: &ImageArgs) -> Result<(), ImageError> {
    match &args.command {
        ImageCommand::Build { .. } => build_cmd(cli, args),
        ImageCommand::Push { image, dest } => {
            let store = LocalStore::open_default()?;
            let client = client(&args.registry)?;
            let source = parse_ref(image)?;
            let target = parse_ref(dest.as_deref().unwrap_or(image))?;
            push(&store, &client, &source, &target)?;
            Ok(())
        }
        ImageCommand::Pull { image, platform: p } => {
            let store = LocalStore::open_default()?;
            let client = client(&args.registry)?;
            let reference = parse_ref(image)?;
            let t = Instant::now();
            let src = RegistryEndpoint {
                client: &client,
                reference: reference.clone(),
            };
            let dst = LayoutEndpoint {
                layout: store.layout().clone(),
                name: Some(reference.to_string()),
            };
            let choice = PlatformChoice::One(platform(p.as_ref())?.unwrap_or_else(Platform::host));
            let r = copy_image_with(
                &src,
                &dst,
                &choice,
                &reference.to_string(),
                Some(&store.blob_locations()),
            )?;
            eprintln!(
                "{}",
                report_line(
                    &format!("pulled {reference}"),
                    &r,
                    t.elapsed().as_secs_f64()
                )
                .replace("uploaded", "fetched")
            );
            print(&format!(
                "{}\n",
                r.digest.map(|d| d.to_string()).unwrap_or_default()
            ));
            Ok(())
        }
        ImageCommand::Copy {
            src,
            dst,
            platform: p,
        } => {
            let client = client(&args.registry)?;
            let choice = match platform(p.as_ref())? {
                Some(p) => PlatformChoice::One(p),
                None => PlatformChoice::All,
            };
            let t = Instant::now();
            let src_loc: ImageLocation = src.parse()?;
            let dst_loc: ImageLocation = dst.parse()?;
            let r = copy(&client, &src_loc, &dst_loc, &choice)?;
            eprintln!(
                "{}",
                report_line(
                    &format!("copied {src_loc} to {dst_loc}"),
                    &r,
                    t.elapsed().as_secs_f64()
                )
            );
            print(&format!(
                "{}\n",
                r.digest.map(|d| d.to_string()).unwrap_or_default()
            ));
            Ok(())
        }
        ImageCommand::Tag { image, tags } => {
            let client = client(&args.registry)?;
            let source = parse_ref(image)?;
            for t in tags {
                let target = retag_target(&source, t)?;
                let start = Instant::now();
                let r = retag(&client, &source, &target)?;
                eprintln!(
                    "{}",
                    report_line(
                        &format!("tagged {target}"),
                        &r,
                        start.elapsed().as_secs_f64()
                    )
                );
            }
            Ok(())
        }
        ImageCommand::Inspect { image, raw, config } => {
            inspect(&args.registry, image, *raw, *config)
        }
        ImageCommand::Login {
            registry,
            username,
            password,
            password_stdin,
        } => login(
            &args.registry,
            registry.as_deref(),
            username.as_deref(),
            password.as_deref(),
            *password_stdin,
        ),
        ImageCommand::Logout { registry } => {
            let registry = registry_or_ci(registry.as_deref())?;
            let store = CredentialStore::from_environment(args.registry.authfile.as_deref())?;
            let file = store.login_file().ok_or_else(|| {
                ImageError::Usage("no credentials file: set HOME or pass --authfile".into())
            })?;
            if remove_login(file, &registry)? {
                eprintln!("removed credentials for {registry} from {}", file.display());
            } else {
                eprintln!("no credentials for {registry} in {}", file.display());
            }
            Ok(())
        }
    }
}

fn registry_or_ci(registry: Option<&str>) -> Result<String, ImageError> {
    registry
        .map(str::to_owned)
        .or_else(|| std::env::var("CI_REGISTRY").ok().filter(|r| !r.is_empty()))
        .ok_or_else(|| ImageError::Usage("name the registry (or set CI_REGISTRY)".into()))
}

fn login(
    flags: &RegistryFlags,
    registry: Option<&str>,
    username: Option<&str>,
    password: Option<&str>,
    password_stdin: bool,
) -> Result<(), ImageError> {
    let registry = registry_or_ci(registry)?;
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    let username = username
        .map(str::to_owned)
        .or_else(|| env("CI_REGISTRY_USER"))
        .ok_or_else(|| ImageError::Usage("pass -u USER (or set CI_REGISTRY_USER)".into()))?;
    let password = if password_stdin {
        let mut s = String::new();
        std::io::stdin().read_to_string(&mut s)?;
        s.trim_end_matches(['\n', '\r']).to_owned()
    } else {
        password
            .map(str::to_owned)
            .or_else(|| env("CI_REGISTRY_PASSWORD"))
            .ok_or_else(|| {
                ImageError::Usage(
                    "pass -p PASSWORD or --password-stdin (or set CI_REGISTRY_PASSWORD)".into(),
                )
            })?
    };
    let mut store = CredentialStore::from_environment(flags.authfile.as_deref())?;
    let file = store.login_file().map(Path::to_path_buf).ok_or_else(|| {
        ImageError::Usage("no credentials file: set HOME or pass --authfile".into())
    })?;
    store.set(
        &registry,
        Credential::UserPassword {
            username: username.clone(),
            password: password.clone(),
        },
    );
    let client = RegistryClient::new(RegistryOptions {
        credentials: store,
        ca_files: flags.ca_files.clone(),
        insecure: flags.insecure.clone(),
        ..RegistryOptions::default()
    })?;
    client.login(&registry)?;
    save_login(&file, &registry, &username, &password)?;
    eprintln!(
        "login succeeded; credentials for {registry} stored in {}",
        file.display()
    );
    Ok(())
}

fn push(
    store: &LocalStore,
    client: &RegistryClient,
    source: &Reference,
    target: &Reference,
) -> Result<CopyReport, ImageError> {
    let t = Instant::now();
    store.resolve(source)?;
    let src = LayoutEndpoint {
        layout: store.layout().clone(),
        name: Some(source.to_string()),
    };
    let dst = RegistryEndpoint {
        client,
        reference: target.clone(),
    };
    let r = copy_image_with(
        &src,
        &dst,
        &PlatformChoice::All,
        &source.to_string(),
        Some(&store.blob_locations()),
    )?;
    eprintln!(
        "{}",
        report_line(&format!("pushed {target}"), &r, t.elapsed().as_secs_f64())
    );
    Ok(r)
}

/// Opens a location as a copy source.
fn source<'c>(
    client: &'c RegistryClient,
    loc: &ImageLocation,
) -> Result<Box<dyn Source + 'c>, ImageError> {
    Ok(match loc {
        ImageLocation::Registry(r) => Box::new(RegistryEndpoint {
            client,
            reference: r.clone(),
        }),
        ImageLocation::Local(r) => {
            let store = LocalStore::open_default()?;
            store.resolve(r)?;
            Box::new(LayoutEndpoint {
                layout: store.layout().clone(),
                name: Some(r.to_string()),
            })
        }
        ImageLocation::Oci { dir, name } => Box::new(LayoutEndpoint {
            layout: OciLayout::open(dir)?,
            name: name.clone(),
        }),
        ImageLocation::DockerArchive { .. } => {
            return Err(ImageError::Usage(
                "docker-archive: is supported as a destination only".into(),
            ));
        }
    })
}

fn copy(
    client: &RegistryClient,
    src: &ImageLocation,
    dst: &ImageLocation,
    choice: &PlatformChoice,
) -> Result<CopyReport, ImageError> {
    let source = source(client, src)?;
    let what = src.to_string();
    // Blob locations are remembered in the local store (for mounts on later pushes).
    let locations = LocalStore::open_default().ok().map(|s| s.blob_locations());
    match dst {
        ImageLocation::Registry(r) => copy_image_with(
            source.as_ref(),
            &RegistryEndpoint {
                client,
                reference: r.clone(),
            },
            choice,
            &what,
            locations.as_ref(),
        ),
        ImageLocation::Local(r) => {
            let store = LocalStore::open_default()?;
            copy_image_with(
                source.as_ref(),
                &LayoutEndpoint {
                    layout: store.layout().clone(),
                    name: Some(r.to_string()),
                },
                choice,
                &what,
                locations.as_ref(),
            )
        }
        ImageLocation::Oci { dir, name } => {
            let name = name
                .clone()
                .or_else(|| src.reference().and_then(|r| r.tag().map(str::to_owned)));
            copy_image(
                source.as_ref(),
                &LayoutEndpoint {
                    layout: OciLayout::create(dir)?,
                    name,
                },
                choice,
                &what,
            )
        }
        ImageLocation::DockerArchive { file, name } => {
            let mut manifest = source.manifest(None)?;
            if media_type::is_index(&manifest.media_type) {
                let index = ImageIndex::from_slice(&manifest.bytes, &what)?;
                let p = match choice {
                    PlatformChoice::One(p) => p.clone(),
                    PlatformChoice::All => Platform::host(),
                };
                manifest = source.manifest(Some(&index.select(&p, &what)?.digest))?;
            }
            let tags: Vec<String> = name
                .clone()
                .or_else(|| {
                    src.reference().map(|r| {
                        format!(
                            "{}/{}:{}",
                            r.registry(),
                            r.repository(),
                            r.tag().unwrap_or("latest")
                        )
                    })
                })
                .into_iter()
                .collect();
            write_docker_archive(source.as_ref(), &manifest, &tags, file)?;
            Ok(CopyReport {
                digest: Some(manifest.digest.clone()),
                media_type: manifest.media_type,
                ..CopyReport::default()
            })
        }
    }
}

fn inspect(flags: &RegistryFlags, image: &str, raw: bool, config: bool) -> Result<(), ImageError> {
    let client = client(flags)?;
    let loc: ImageLocation = image.parse()?;
    let src = source(&client, &loc)?;
    let top = src.manifest(None)?;
    if raw {
        print(&String::from_utf8_lossy(&top.bytes));
        return Ok(());
    }
    let (manifest_raw, platforms) = if media_type::is_index(&top.media_type) {
        let index = ImageIndex::from_slice(&top.bytes, image)?;
        let platforms: Vec<String> = index
            .manifests
            .iter()
            .filter_map(|d| d.platform.as_ref().map(ToString::to_string))
            .collect();
        let child = index.select(&Platform::host(), image).or_else(|_| {
            index
                .manifests
                .first()
                .ok_or_else(|| ImageError::Usage("empty index".into()))
        })?;
        (src.manifest(Some(&child.digest))?, platforms)
    } else {
        (top.clone(), Vec::new())
    };
    let m = ImageManifest::from_slice(&manifest_raw.bytes, image)?;
    let mut config_bytes = Vec::new();
    src.blob(&m.config)?.read_to_end(&mut config_bytes)?;
    if config {
        print(&String::from_utf8_lossy(&config_bytes));
        return Ok(());
    }
    let c = ImageConfig::from_slice(&config_bytes, "image config")?;
    let labels: BTreeMap<String, String> = c.config.labels.clone().unwrap_or_default();
    let out = json!({
        "Name": image,
        "Digest": top.digest.to_string(),
        "MediaType": top.media_type,
        "Platforms": platforms,
        "ManifestDigest": manifest_raw.digest.to_string(),
        "Architecture": c.architecture,
        "Os": c.os,
        "Created": c.created,
        "Layers": m.layers.iter().map(|l| json!({"Digest": l.digest.to_string(), "Size": l.size, "MediaType": l.media_type})).collect::<Vec<_>>(),
        "Env": c.config.env,
        "Entrypoint": c.config.entrypoint,
        "Cmd": c.config.cmd,
        "User": c.config.user,
        "WorkingDir": c.config.working_dir,
        "ExposedPorts": c.config.exposed_ports.map(|p| p.into_keys().collect::<Vec<_>>()),
        "Labels": labels,
    });
    print(&format!(
        "{}\n",
        serde_json::to_string_pretty(&out).unwrap_or_default()
    ));
    Ok(())
}

fn build_cmd(cli: &Cli, args: &ImageArgs) -> Result<(), ImageError> {
    let ImageCommand::Build {
        dockerfile,
        tags,
        build_args,
        target,
        platform: p,
        push: do_push,
        output,
        no_cache,
        pull,
        format,
        quiet,
        context,
    } = &args.command
    else {
        return Ok(());
    };
    let context = resolve(cli, context);
    let mut o = BuildOptions::new(&context);
    // `-f` is gantry's global --file; for builds it names the Dockerfile unless left at its
    // pipeline default.
    let global_file = (cli.file != ".gitlab-ci.yml").then(|| PathBuf::from(&cli.file));
    if let Some(d) = dockerfile.clone().or(global_file) {
        o.dockerfile = resolve(cli, &d);
    }
    o.tags = tags
        .iter()
        .map(|t| parse_ref(t))
        .collect::<Result<_, _>>()?;
    o.build_args = build_args
        .iter()
        .map(|kv| match kv.split_once('=') {
            Some((k, v)) => Ok((k.to_owned(), v.to_owned())),
            // `--build-arg NAME` takes the value from the environment, as Docker does.
            None => std::env::var(kv).map(|v| (kv.clone(), v)).map_err(|_| {
                ImageError::Usage(format!(
                    "--build-arg {kv}: not KEY=VALUE and not set in the environment"
                ))
            }),
        })
        .collect::<Result<_, _>>()?;
    o.target.clone_from(target);
    o.platform = platform(p.as_ref())?;
    o.no_cache = *no_cache;
    o.pull = *pull;
    o.format = match format {
        FormatArg::Oci => ImageFormat::Oci,
        FormatArg::Docker => ImageFormat::Docker,
    };
    o.verbose = !quiet;
    if *do_push && o.tags.is_empty() {
        return Err(ImageError::Usage("--push needs at least one -t REF".into()));
    }
    let outputs: Vec<ImageLocation> = output.iter().map(|s| s.parse()).collect::<Result<_, _>>()?;
    if let Some(bad) = outputs.iter().find(|l| {
        !matches!(
            l,
            ImageLocation::Oci { .. } | ImageLocation::DockerArchive { .. }
        )
    }) {
        return Err(ImageError::Usage(format!(
            "--output {bad}: use oci:DIR[:NAME] or docker-archive:FILE[:REF]"
        )));
    }
    let store = LocalStore::open_default()?;
    let client = client(&args.registry)?;
    let t = Instant::now();
    let result = build(&store, &client, &o)?;
    if !quiet {
        eprintln!(
            "built {} ({} of {} layer steps cached) in {:.2} s",
            result.manifest.digest,
            result.cached_steps,
            result.layer_steps,
            t.elapsed().as_secs_f64()
        );
    }
    let src = PinnedLayout {
        layout: store.layout().clone(),
        manifest: result.manifest.clone(),
    };
    for out in &outputs {
        match out {
            ImageLocation::Oci { dir, name } => {
                let name = name
                    .clone()
                    .or_else(|| o.tags.first().and_then(|t| t.tag().map(str::to_owned)))
                    .unwrap_or_else(|| "latest".into());
                let dst = LayoutEndpoint {
                    layout: OciLayout::create(dir)?,
                    name: Some(name),
                };
                copy_built(&store, &result.manifest, &dst)?;
            }
            ImageLocation::DockerArchive { file, name } => {
                let tags: Vec<String> = match name {
                    Some(n) => vec![n.clone()],
                    None => o
                        .tags
                        .iter()
                        .map(|t| {
                            format!(
                                "{}/{}:{}",
                                t.registry(),
                                t.repository(),
                                t.tag().unwrap_or("latest")
                            )
                        })
                        .collect(),
                };
                write_docker_archive(&src, &result.manifest, &tags, file)?;
            }
            _ => {}
        }
        if !quiet {
            eprintln!("wrote {out}");
        }
    }
    if *do_push {
        for tag in &o.tags {
            push(&store, &client, tag, tag)?;
        }
    }
    print(&format!("{}\n", result.manifest.digest));
    Ok(())
}

/// Copies the built manifest (by digest) from the store into `dst`.
fn copy_built(
    store: &LocalStore,
    manifest: &gantry_image::registry::RawManifest,
    dst: &LayoutEndpoint,
) -> Result<(), ImageError> {
    let src = PinnedLayout {
        layout: store.layout().clone(),
        manifest: manifest.clone(),
    };
    copy_image(&src, dst, &PlatformChoice::All, "built image")?;
    Ok(())
}
