//! [`Registry`] over a real OCI distribution registry, through the
//! `oci-client` crate. Every call is bounded by the configured timeout, and
//! a registry that cannot be reached, times out or fails with a 5xx is
//! `Error::Unavailable`.

use std::time::Duration;

use async_trait::async_trait;
use oci_client::client::{ClientConfig, ClientProtocol};
use oci_client::errors::{OciDistributionError, OciErrorCode};
use oci_client::manifest::{OciDescriptor, OciImageIndex, OciImageManifest, OciManifest};
use oci_client::secrets::RegistryAuth;
use oci_client::{Client, Reference};
use serde::Deserialize;
use tracing::debug;

use crate::error::{Error, Result};
use crate::registry::{ImageManifest, IndexManifest, Manifest, PlatformEntry, Registry, RegistryEndpoint};

/// Image configs are small JSON documents; a larger one is not read.
const MAX_CONFIG_BYTES: i64 = 4 * 1024 * 1024;

/// The credentials easel sends to the registry.
#[derive(Clone)]
pub enum Credentials {
    Anonymous,
    Basic { username: String, password: String },
    Bearer(String),
}

/// A distribution registry reached over HTTP(S).
pub struct OciRegistry {
    endpoint: RegistryEndpoint,
    client: Client,
    auth: RegistryAuth,
    credentials: Credentials,
    /// `oci-client` has no manifest delete, so deletes go through this client.
    http: reqwest::Client,
    timeout: Duration,
}

/// The part of an image config that easel reads.
#[derive(Deserialize)]
struct ImageConfig {
    architecture: Option<String>,
}

impl OciRegistry {
    /// Creates a client for the registry at `endpoint`; every call gives up after `timeout`.
    pub fn new(endpoint: RegistryEndpoint, credentials: Credentials, timeout: Duration) -> anyhow::Result<Self> {
        let protocol = if endpoint.https { ClientProtocol::Https } else { ClientProtocol::Http };
        let client = Client::new(ClientConfig {
            protocol,
            connect_timeout: Some(timeout),
            read_timeout: Some(timeout),
            // Indexes are resolved by the catalogue, per requested arch.
            platform_resolver: None,
            ..ClientConfig::default()
        });
        let auth = match &credentials {
            Credentials::Anonymous => RegistryAuth::Anonymous,
            Credentials::Basic { username, password } => RegistryAuth::Basic(username.clone(), password.clone()),
            Credentials::Bearer(token) => RegistryAuth::Bearer(token.clone()),
        };
        let http = reqwest::Client::builder().connect_timeout(timeout).read_timeout(timeout).build()?;
        Ok(OciRegistry { endpoint, client, auth, credentials, http, timeout })
    }

    fn reference(&self, repository: &str, reference: &str) -> Reference {
        let registry = self.endpoint.host.clone();
        if reference.contains(':') {
            Reference::with_digest(registry, repository.to_owned(), reference.to_owned())
        } else {
            Reference::with_tag(registry, repository.to_owned(), reference.to_owned())
        }
    }

    /// Runs one registry call within the timeout.
    async fn bounded<T>(&self, call: impl std::future::Future<Output = Result<T>>) -> Result<T> {
        match tokio::time::timeout(self.timeout, call).await {
            Ok(result) => result,
            Err(_) => Err(Error::Unavailable(format!(
                "The registry at {} did not respond within {}; nothing was changed. Retry later.",
                self.endpoint,
                humantime::format_duration(self.timeout)
            ))),
        }
    }

    async fn fetch(&self, repository: &str, reference: &str) -> Result<Option<Manifest>> {
        let image = self.reference(repository, reference);
        let (manifest, digest) = match self.client.pull_manifest(&image, &self.auth).await {
            Ok(found) => found,
            Err(err) if is_not_found(&err) => return Ok(None),
            Err(err) => return Err(self.failure(err, &format!("read the manifest {repository}:{reference}"))),
        };
        debug!(registry.repository = repository, registry.reference = reference, registry.digest = %digest, "manifest fetched");

        match manifest {
            OciManifest::Image(manifest) => self.describe_image(&image, manifest, digest).await.map(Some),
            OciManifest::ImageIndex(index) => Ok(Some(describe_index(index, digest))),
        }
    }

    async fn describe_image(&self, image: &Reference, manifest: OciImageManifest, digest: String) -> Result<Manifest> {
        let size = manifest.config.size + manifest.layers.iter().map(|layer| layer.size).sum::<i64>();
        let config = self.read_config(image, &manifest.config).await?;
        let architecture = config.architecture.filter(|a| !a.is_empty()).ok_or_else(|| {
            Error::field("swr_path", format!("the image config {} names no architecture", manifest.config.digest))
        })?;
        Ok(Manifest::Image(ImageManifest { digest, size, architecture }))
    }

    async fn read_config(&self, image: &Reference, descriptor: &OciDescriptor) -> Result<ImageConfig> {
        if descriptor.size > MAX_CONFIG_BYTES {
            return Err(Error::field(
                "swr_path",
                format!("the image config is {} bytes; the maximum easel reads is {MAX_CONFIG_BYTES}", descriptor.size),
            ));
        }
        let mut bytes = Vec::with_capacity(usize::try_from(descriptor.size).unwrap_or(0));
        self.client
            .pull_blob(image, descriptor, &mut bytes)
            .await
            .map_err(|err| self.failure(err, &format!("read the image config {}", descriptor.digest)))?;
        serde_json::from_slice(&bytes).map_err(|err| {
            Error::field("swr_path", format!("the image config {} is not valid JSON: {err}", descriptor.digest))
        })
    }

    // NOTE: credentials go straight on the DELETE request, so deletes fail
    // on a registry that responds to basic credentials with a bearer-token
    // challenge (a token server). Reads work there, because oci-client
    // follows the challenge.
    async fn delete(&self, repository: &str, digest: &str) -> Result<bool> {
        let url = format!("{}/v2/{repository}/manifests/{digest}", self.endpoint.base_url());
        let request = match &self.credentials {
            Credentials::Anonymous => self.http.delete(&url),
            Credentials::Basic { username, password } => self.http.delete(&url).basic_auth(username, Some(password)),
            Credentials::Bearer(token) => self.http.delete(&url).bearer_auth(token),
        };
        let response = request.send().await.map_err(|err| self.unreachable(&err, "delete a manifest"))?;
        let status = response.status();
        match status.as_u16() {
            200..=299 => Ok(true),
            404 => Ok(false),
            405 => Err(Error::Unavailable(format!(
                "The registry at {} does not allow deletes; set storage.delete.enabled in its configuration. Nothing was changed.",
                self.endpoint
            ))),
            401 | 403 => Err(self.rejected_credentials(&format!("delete {repository}@{digest}"))),
            429 => Err(self.busy(&format!("delete {repository}@{digest}"))),
            _ => Err(Error::Unavailable(format!(
                "The registry at {} failed to delete {repository}@{digest} (HTTP {status}); nothing was changed. Retry later.",
                self.endpoint
            ))),
        }
    }

    fn busy(&self, action: &str) -> Error {
        Error::Unavailable(format!(
            "The registry at {} asked easel to slow down (HTTP 429, failed to {action}); nothing was changed. Retry later.",
            self.endpoint
        ))
    }

    fn rejected_credentials(&self, action: &str) -> Error {
        Error::Unavailable(format!(
            "The registry at {} rejected easel's credentials (failed to {action}); check --registry-username, \
             --registry-password or --registry-token. Nothing was changed.",
            self.endpoint
        ))
    }

    fn unreachable(&self, err: &reqwest::Error, action: &str) -> Error {
        let cause = if err.is_timeout() { "timed out" } else { "is unreachable" };
        Error::Unavailable(format!(
            "The registry at {} {cause} (failed to {action}); nothing was changed. Retry later.",
            self.endpoint
        ))
    }

    /// Turns a client error other than "not found" into the catalogue's error.
    fn failure(&self, err: OciDistributionError, action: &str) -> Error {
        match err {
            OciDistributionError::RequestError(err) => self.unreachable(&err, action),
            OciDistributionError::ServerError { code, .. } if code >= 500 => Error::Unavailable(format!(
                "The registry at {} failed with HTTP {code} (failed to {action}); nothing was changed. Retry later.",
                self.endpoint
            )),
            OciDistributionError::UnauthorizedError { .. } | OciDistributionError::AuthenticationFailure(_) => {
                self.rejected_credentials(action)
            }
            OciDistributionError::ServerError { code: 429, .. } => self.busy(action),
            OciDistributionError::RegistryError { ref envelope, .. }
                if envelope.errors.iter().any(|e| e.code == OciErrorCode::Toomanyrequests) =>
            {
                self.busy(action)
            }
            OciDistributionError::RegistryError { ref envelope, .. }
                if envelope
                    .errors
                    .iter()
                    .any(|e| matches!(e.code, OciErrorCode::Unauthorized | OciErrorCode::Denied)) =>
            {
                self.rejected_credentials(action)
            }
            // Any other 4xx is about the image, such as a missing config blob.
            OciDistributionError::RegistryError { .. } | OciDistributionError::ServerError { .. } => {
                Error::field("swr_path", format!("the registry failed to {action}: {err}"))
            }
            OciDistributionError::ManifestParsingError(_)
            | OciDistributionError::UnsupportedMediaTypeError(_)
            | OciDistributionError::UnsupportedSchemaVersionError(_)
            | OciDistributionError::VersionedParsingError(_) => {
                Error::field("swr_path", format!("failed to {action}: it is not an image manifest or index ({err})"))
            }
            other => Error::Internal(anyhow::Error::new(other).context(format!("failed to {action}"))),
        }
    }
}

fn is_not_found(err: &OciDistributionError) -> bool {
    match err {
        OciDistributionError::ImageManifestNotFoundError(_) => true,
        OciDistributionError::ServerError { code, .. } => *code == 404,
        OciDistributionError::RegistryError { envelope, .. } => envelope.errors.iter().any(|e| {
            matches!(e.code, OciErrorCode::ManifestUnknown | OciErrorCode::NameUnknown | OciErrorCode::NotFound)
        }),
        _ => false,
    }
}

fn describe_index(index: OciImageIndex, digest: String) -> Manifest {
    let platforms = index
        .manifests
        .into_iter()
        .filter_map(|entry| {
            let platform = entry.platform?;
            Some(PlatformEntry {
                digest: entry.digest,
                architecture: platform.architecture.to_string(),
                os: platform.os.to_string(),
            })
        })
        .collect();
    Manifest::Index(IndexManifest { digest, platforms })
}

#[async_trait]
impl Registry for OciRegistry {
    fn host(&self) -> &str {
        &self.endpoint.host
    }

    async fn fetch_manifest(&self, repository: &str, reference: &str) -> Result<Option<Manifest>> {
        self.bounded(self.fetch(repository, reference)).await
    }

    async fn delete_manifest(&self, repository: &str, digest: &str) -> Result<bool> {
        self.bounded(self.delete(repository, digest)).await
    }
}
