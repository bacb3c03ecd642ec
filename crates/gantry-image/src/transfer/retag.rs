//! Registry-side retagging: within one repository the manifest bytes are fetched and PUT
//! under the new tag (no blob moves, digest unchanged); into another repository of the same
//! registry every blob is mounted first.

use crate::error::{ImageError, Result};
use crate::reference::Reference;
use crate::registry::RegistryClient;
use crate::transfer::copy::{CopyReport, PlatformChoice, copy_image};
use crate::transfer::endpoint::RegistryEndpoint;

/// Points `target` at what `source` points at. `target` may be a bare tag (same
/// repository) when parsed with [`retag_target`].
pub fn retag(
    client: &RegistryClient,
    source: &Reference,
    target: &Reference,
) -> Result<CopyReport> {
    if target.digest().is_some() {
        return Err(ImageError::Usage(format!(
            "cannot tag with a digest: `{target}`"
        )));
    }
    if source.registry() == target.registry() && source.repository() == target.repository() {
        let raw = client.get_manifest(source)?;
        let digest = client.put_manifest(target, &raw)?;
        return Ok(CopyReport {
            digest: Some(digest),
            media_type: raw.media_type,
            ..CopyReport::default()
        });
    }
    let src = RegistryEndpoint {
        client,
        reference: source.clone(),
    };
    let dst = RegistryEndpoint {
        client,
        reference: target.clone(),
    };
    copy_image(&src, &dst, &PlatformChoice::All, &source.to_string())
}

/// `NEWTAG` (same repository as `source`) or a full reference.
pub fn retag_target(source: &Reference, target: &str) -> Result<Reference> {
    if !target.contains('/') && !target.contains(':') && !target.contains('@') {
        return source.with_tag(target);
    }
    target.parse()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bare_tag_stays_in_repository() {
        let src: Reference = "127.0.0.1:5000/team/app:v1.2.0".parse().unwrap();
        assert_eq!(
            retag_target(&src, "latest").unwrap().to_string(),
            "127.0.0.1:5000/team/app:latest"
        );
        assert_eq!(
            retag_target(&src, "127.0.0.1:5000/team/other:x")
                .unwrap()
                .to_string(),
            "127.0.0.1:5000/team/other:x"
        );
        assert!(retag_target(&src, "bad/tag!").is_err());
    }
}
