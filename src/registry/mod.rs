//! The OCI registry behind the catalogue: the operations the catalogue needs
//! ([`Registry`]), the client that calls a real distribution registry
//! ([`client::OciRegistry`]) and the notification events it sends
//! ([`events`]).

pub mod client;
pub mod events;
pub mod metered;

use std::fmt;

use async_trait::async_trait;

use crate::catalogue::fields::Arch;
use crate::error::Result;

/// The registry's address: its `host[:port]`, as image references name it,
/// and whether it uses HTTPS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistryEndpoint {
    pub host: String,
    pub https: bool,
}

impl RegistryEndpoint {
    /// Parses `http://host[:port]` or `https://host[:port]`, with an optional trailing `/`.
    pub fn parse(url: &str) -> std::result::Result<Self, String> {
        let (https, rest) = if let Some(rest) = url.strip_prefix("https://") {
            (true, rest)
        } else if let Some(rest) = url.strip_prefix("http://") {
            (false, rest)
        } else {
            return Err(format!("'{url}' is not a registry URL; expected http://HOST[:PORT] or https://HOST[:PORT]"));
        };
        let host = rest.strip_suffix('/').unwrap_or(rest);
        let valid = !host.is_empty()
            && host.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':'))
            && host.split(':').count() <= 2;
        if !valid {
            return Err(format!("'{url}' has an invalid host; expected http://HOST[:PORT] without a path"));
        }
        Ok(RegistryEndpoint { host: host.to_ascii_lowercase(), https })
    }

    /// Returns the base URL, such as `http://127.0.0.1:5000`.
    pub fn base_url(&self) -> String {
        let scheme = if self.https { "https" } else { "http" };
        format!("{scheme}://{}", self.host)
    }
}

impl fmt::Display for RegistryEndpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.base_url())
    }
}

/// A manifest as the catalogue needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Manifest {
    Image(ImageManifest),
    Index(IndexManifest),
}

impl Manifest {
    /// Returns the digest of the manifest itself.
    pub fn digest(&self) -> &str {
        match self {
            Manifest::Image(image) => &image.digest,
            Manifest::Index(index) => &index.digest,
        }
    }
}

/// A single-platform image manifest and the architecture its config names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageManifest {
    pub digest: String,
    /// Compressed bytes: the config plus every layer, as the manifest's descriptors give them.
    pub size: i64,
    /// The `architecture` of the image config, such as `amd64`.
    pub architecture: String,
}

impl ImageManifest {
    /// Returns the catalogue's arch for the image, or `None` for an
    /// architecture the API has no value for.
    pub fn arch(&self) -> Option<Arch> {
        arch_of(&self.architecture)
    }
}

/// An image index (multi-platform manifest list).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexManifest {
    pub digest: String,
    pub platforms: Vec<PlatformEntry>,
}

impl IndexManifest {
    /// Returns the digest of the manifest for `arch` on Linux, when the index has one.
    pub fn manifest_for(&self, arch: Arch) -> Option<&str> {
        self.platforms
            .iter()
            .find(|entry| entry.os == "linux" && arch_of(&entry.architecture) == Some(arch))
            .map(|entry| entry.digest.as_str())
    }

    /// Returns the architectures of the index, as OCI names them.
    pub fn architectures(&self) -> Vec<&str> {
        self.platforms.iter().map(|entry| entry.architecture.as_str()).collect()
    }
}

/// One platform's manifest in an index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlatformEntry {
    pub digest: String,
    pub architecture: String,
    pub os: String,
}

/// Maps an OCI architecture name to the catalogue's arch.
pub fn arch_of(architecture: &str) -> Option<Arch> {
    match architecture {
        "amd64" => Some(Arch::X86_64),
        "arm64" => Some(Arch::Aarch64),
        _ => None,
    }
}

/// Returns the OCI name of the catalogue's arch.
pub fn oci_architecture(arch: Arch) -> &'static str {
    match arch {
        Arch::X86_64 => "amd64",
        Arch::Aarch64 => "arm64",
    }
}

/// What the catalogue asks of a registry. A failure to reach it is
/// `Error::Unavailable`; an absent manifest is not an error.
#[async_trait]
pub trait Registry: Send + Sync + 'static {
    /// Returns the `host[:port]` that image references in this registry name.
    fn host(&self) -> &str;

    /// Fetches the manifest that `reference` (a tag or a `sha256:` digest)
    /// names in `repository`. Returns `None` when the registry has no such
    /// manifest or repository.
    async fn fetch_manifest(&self, repository: &str, reference: &str) -> Result<Option<Manifest>>;

    /// Deletes the manifest with `digest` from `repository`, and with it
    /// every tag that points at it. Returns `false` when it was already gone.
    async fn delete_manifest(&self, repository: &str, digest: &str) -> Result<bool>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_parses_scheme_and_host() {
        let plain = RegistryEndpoint::parse("http://127.0.0.1:5000/").unwrap();
        assert_eq!(plain, RegistryEndpoint { host: "127.0.0.1:5000".into(), https: false });
        assert_eq!(plain.base_url(), "http://127.0.0.1:5000");

        let secure = RegistryEndpoint::parse("https://Registry.Example.com").unwrap();
        assert_eq!(secure, RegistryEndpoint { host: "registry.example.com".into(), https: true });
    }

    #[test]
    fn endpoint_rejects_paths_and_other_schemes() {
        assert!(RegistryEndpoint::parse("127.0.0.1:5000").is_err());
        assert!(RegistryEndpoint::parse("ftp://127.0.0.1").is_err());
        assert!(RegistryEndpoint::parse("http://127.0.0.1:5000/v2").is_err());
        assert!(RegistryEndpoint::parse("http://").is_err());
    }

    #[test]
    fn index_picks_linux_manifest_for_arch() {
        let index = IndexManifest {
            digest: "sha256:index".into(),
            platforms: vec![
                PlatformEntry { digest: "sha256:win".into(), architecture: "amd64".into(), os: "windows".into() },
                PlatformEntry { digest: "sha256:amd".into(), architecture: "amd64".into(), os: "linux".into() },
            ],
        };
        assert_eq!(index.manifest_for(Arch::X86_64), Some("sha256:amd"));
        assert_eq!(index.manifest_for(Arch::Aarch64), None);
    }
}
