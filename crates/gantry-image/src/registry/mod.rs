//! The registry side: distribution-API client, authentication and credentials, TLS roots.

mod base64;
mod challenge;
mod client;
mod credentials;
mod tls;

pub use base64::{decode as base64_decode, encode as base64_encode};
pub use challenge::Challenge;
pub use client::{BlobPush, DEFAULT_CHUNK_SIZE, RawManifest, RegistryClient, RegistryOptions};
pub use credentials::{
    Credential, CredentialStore, DOCKER_HUB_KEY, docker_config_path, normalize_registry_key,
    remove_login, save_login,
};
pub use tls::{base_roots, ca_files_from_env, certificates_from_pem};
