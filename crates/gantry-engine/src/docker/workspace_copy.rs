//! Copying a job's working copy into and out of its build container, for engines that cannot see
//! this machine's files (a remote `DOCKER_HOST`): the directory goes in as a tar through the
//! archive API before the first step, and comes back the same way before cache and artifacts
//! are collected.

use std::io;
use std::path::{Component, Path, PathBuf};

use bollard::query_parameters::{DownloadFromContainerOptions, UploadToContainerOptions};
use futures_util::StreamExt as _;

use super::client::DockerClient;

/// Uploads the contents of `host_dir` to `container_dir` (absolute) in `container`.
pub(crate) fn upload_dir(
    client: &DockerClient,
    container: &str,
    host_dir: &Path,
    container_dir: &str,
) -> io::Result<()> {
    let mut tar = tar::Builder::new(Vec::new());
    tar.follow_symlinks(false);
    let rel = container_dir.trim_start_matches('/');
    // Parents first, so they exist with sane permissions.
    let mut parent = PathBuf::new();
    for component in Path::new(rel).components() {
        parent.push(component);
        let mut header = tar::Header::new_gnu();
        header.set_entry_type(tar::EntryType::Directory);
        header.set_mode(0o755);
        header.set_size(0);
        tar.append_data(&mut header, &parent, io::empty())?;
    }
    if host_dir.is_dir() {
        tar.append_dir_all(rel, host_dir)?;
    }
    let bytes = tar.into_inner()?;
    client
        .block_on(client.docker.upload_to_container(
            container,
            Some(UploadToContainerOptions {
                path: "/".to_owned(),
                ..UploadToContainerOptions::default()
            }),
            bollard::body_full(bytes::Bytes::from(bytes)),
        ))
        .map_err(|e| {
            io::Error::other(format!(
                "copying {} into the container: {e}",
                host_dir.display()
            ))
        })
}

/// Replaces the contents of `host_dir` by those of `container_dir` in `container`.
pub(crate) fn download_dir(
    client: &DockerClient,
    container: &str,
    container_dir: &str,
    host_dir: &Path,
) -> io::Result<()> {
    let data = client.block_on(async {
        let mut stream = client.docker.download_from_container(
            container,
            Some(DownloadFromContainerOptions {
                path: container_dir.to_owned(),
            }),
        );
        let mut data = Vec::new();
        while let Some(chunk) = stream.next().await {
            data.extend_from_slice(&chunk?);
        }
        Ok::<_, bollard::errors::Error>(data)
    });
    let data = data.map_err(|e| {
        io::Error::other(format!("copying {container_dir} out of the container: {e}"))
    })?;
    if host_dir.exists() {
        for entry in fs_err::read_dir(host_dir)? {
            let entry = entry?;
            if entry.file_type()?.is_dir() {
                fs_err::remove_dir_all(entry.path())?;
            } else {
                fs_err::remove_file(entry.path())?;
            }
        }
    }
    fs_err::create_dir_all(host_dir)?;
    let mut archive = tar::Archive::new(data.as_slice());
    for entry in archive.entries()? {
        let mut entry = entry?;
        let path = entry.path()?.into_owned();
        // Entries are `<basename of container_dir>/...`: drop the first component.
        let rel: PathBuf = path.components().skip(1).collect();
        if rel.as_os_str().is_empty() {
            continue;
        }
        if !rel.components().all(|c| matches!(c, Component::Normal(_))) {
            continue;
        }
        let dest = host_dir.join(&rel);
        if let Some(parent) = dest.parent() {
            fs_err::create_dir_all(parent)?;
        }
        entry.unpack(&dest)?;
    }
    Ok(())
}
