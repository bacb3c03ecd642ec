//! Trusted roots for registry TLS: the system bundle plus custom CA files (`--ca-file`,
//! `SSL_CERT_FILE`, `CI_SERVER_TLS_CA_FILE`), `ADDITIONAL_CA_CERT_BUNDLE` (PEM text), and the
//! per-registry `certs.d/<host[:port]>/*.crt` directories Docker and podman use.

use std::path::{Path, PathBuf};

use fs_err as fs;
use ureq::tls::{Certificate, PemItem, RootCerts, parse_pem};

use crate::error::{ImageError, Result};

/// System CA bundles, first existing wins.
const SYSTEM_BUNDLES: &[&str] = &[
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/cert.pem",
];

/// Directories with per-registry CA files.
const CERTS_D: &[&str] = &["/etc/docker/certs.d", "/etc/containers/certs.d"];

/// Certificates from PEM text (`source` names it in errors).
pub fn certificates_from_pem(pem: &[u8], source: &str) -> Result<Vec<Certificate<'static>>> {
    let mut out = Vec::new();
    for item in parse_pem(pem) {
        match item {
            Ok(PemItem::Certificate(c)) => out.push(c),
            Ok(_) => {}
            Err(e) => {
                return Err(ImageError::Usage(format!(
                    "cannot read CA certificates from {source}: {e}"
                )));
            }
        }
    }
    Ok(out)
}

fn read_pem_file(path: &Path) -> Result<Vec<Certificate<'static>>> {
    let bytes = fs::read(path).map_err(|e| {
        ImageError::Usage(format!(
            "cannot read CA file: {e} (check --ca-file / SSL_CERT_FILE / CI_SERVER_TLS_CA_FILE)"
        ))
    })?;
    let certs = certificates_from_pem(&bytes, &path.display().to_string())?;
    if certs.is_empty() {
        return Err(ImageError::Usage(format!(
            "CA file {} contains no PEM certificate",
            path.display()
        )));
    }
    Ok(certs)
}

/// The CA files named by the environment: `SSL_CERT_FILE`, `CI_SERVER_TLS_CA_FILE`.
pub fn ca_files_from_env() -> Vec<PathBuf> {
    ["SSL_CERT_FILE", "CI_SERVER_TLS_CA_FILE"]
        .iter()
        .filter_map(|k| {
            std::env::var_os(k)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        })
        .collect()
}

/// Roots shared by every registry: system bundle (or Mozilla's built-in list when there is
/// none), `ca_files`, and `ADDITIONAL_CA_CERT_BUNDLE`.
pub fn base_roots(ca_files: &[PathBuf]) -> Result<Vec<Certificate<'static>>> {
    let mut roots = Vec::new();
    if let Some(bundle) = SYSTEM_BUNDLES.iter().map(Path::new).find(|p| p.is_file()) {
        let bytes = fs::read(bundle)?;
        roots.extend(
            certificates_from_pem(&bytes, &bundle.display().to_string()).unwrap_or_default(),
        );
    }
    for f in ca_files {
        roots.extend(read_pem_file(f)?);
    }
    if let Ok(text) = std::env::var("ADDITIONAL_CA_CERT_BUNDLE")
        && !text.trim().is_empty()
    {
        roots.extend(certificates_from_pem(
            text.as_bytes(),
            "ADDITIONAL_CA_CERT_BUNDLE",
        )?);
    }
    Ok(roots)
}

/// `base` plus the registry's `certs.d` files; Mozilla's list when all are empty.
pub fn roots_for(registry: &str, base: &[Certificate<'static>]) -> Result<RootCerts> {
    let mut roots: Vec<Certificate<'static>> = base.to_vec();
    for dir in CERTS_D {
        let d = Path::new(dir).join(registry);
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        let mut files: Vec<PathBuf> = rd
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "crt"))
            .collect();
        files.sort();
        for f in files {
            roots.extend(read_pem_file(&f)?);
        }
    }
    if roots.is_empty() {
        Ok(RootCerts::WebPki)
    } else {
        Ok(RootCerts::new_with_certs(&roots))
    }
}
