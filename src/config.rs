//! The command line and environment: every setting is declared once, as a
//! flag with an environment variable, its default and its meaning.

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::catalogue::fields::ProjectId;
use crate::registry::RegistryEndpoint;
use crate::client::args::{GroupsArgs, ImagesArgs};

/// easel: a self-hosted image catalogue serving the ModelArts v1 image API.
#[derive(Debug, Parser)]
#[command(name = "easel", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Start the service.
    // Boxed because the serve settings dwarf the other commands' arguments.
    Serve(Box<ServeConfig>),
    /// Manage access keys (AK/SK).
    #[command(subcommand)]
    AccessKey(AccessKeyCommand),
    /// Manage tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Register, list, show, delete and synchronize images of a running service.
    Images(ImagesArgs),
    /// List, update and delete image groups of a running service.
    Groups(GroupsArgs),
    /// Print a shell completion script, for example `easel completions bash > /etc/bash_completion.d/easel`.
    Completions {
        /// The shell to complete for.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

#[derive(Debug, Subcommand)]
pub enum AccessKeyCommand {
    /// Create an access key for a project and print it as JSON.
    Create {
        /// The project the key belongs to: 32 lower-case hexadecimal characters.
        #[arg(long)]
        project_id: String,
        #[command(flatten)]
        store: StoreConfig,
    },
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a token for a project and print it as JSON.
    Create {
        /// The project the token belongs to: 32 lower-case hexadecimal characters.
        #[arg(long)]
        project_id: String,
        /// How long the token stays valid, such as 30m, 24h or 7d.
        #[arg(long, default_value = "24h", value_parser = parse_ttl)]
        ttl: Duration,
        #[command(flatten)]
        store: StoreConfig,
    },
}

/// Where the catalogue and its keys are kept.
#[derive(Debug, Clone, Args)]
pub struct StoreConfig {
    /// The database: `sqlite://PATH`, whose file and directory are created when
    /// missing, or `postgres://USER:PASSWORD@HOST:PORT/DATABASE` for an existing
    /// PostgreSQL database that several replicas may share.
    #[arg(long = "database", env = "EASEL_DATABASE_URL", default_value = "sqlite://./easel-data/easel.db")]
    pub database_url: String,

    /// The file holding the key that encrypts stored secret keys; created with
    /// owner-only permissions when missing. Every process that serves or
    /// creates keys for one database must use the same file.
    #[arg(long, env = "EASEL_MASTER_KEY_FILE", default_value = "./easel-data/master.key")]
    pub master_key_file: PathBuf,
}

/// The settings of `easel serve`.
#[derive(Debug, Clone, Args)]
pub struct ServeConfig {
    /// The address to listen on.
    #[arg(long = "listen", env = "EASEL_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,

    #[command(flatten)]
    pub store: StoreConfig,

    /// A presets file (JSON) to load instead of the bundled presets.
    #[arg(long = "presets", env = "EASEL_PRESETS")]
    pub presets: Option<PathBuf>,

    /// The registry host implied by references that name none, such as
    /// `ns/name:tag`. Defaults to the host of --registry when that is set,
    /// else `localhost:5000`.
    #[arg(long, env = "EASEL_DEFAULT_REGISTRY_HOST")]
    pub default_registry_host: Option<String>,

    #[command(flatten)]
    pub registry: RegistryConfig,

    /// The largest request body accepted, in bytes; larger bodies get 413.
    #[arg(long, env = "EASEL_BODY_LIMIT_BYTES", default_value_t = 1024 * 1024)]
    pub body_limit_bytes: usize,

    /// How many recent group listings, and as many image listings, are kept in
    /// memory until the next write of any replica. 0 turns the cache off.
    #[arg(long, env = "EASEL_LISTING_CACHE_ENTRIES", default_value_t = 1024)]
    pub listing_cache_entries: usize,

    /// Log format: `human` or `json`.
    #[arg(long, env = "EASEL_LOG_FORMAT", default_value = "human", value_parser = ["human", "json"])]
    pub log_format: String,

    /// How often the catalogue size gauges of /metrics are recounted, such as 30s or 5m.
    #[arg(long, env = "EASEL_CATALOGUE_METRICS_INTERVAL", default_value = "60s", value_parser = humantime::parse_duration)]
    pub catalogue_metrics_interval: Duration,
}

/// 50 GiB: a limit that stops an accidental push of a whole data set, not a
/// limit of any registry.
const DEFAULT_MAX_IMAGE_SIZE_BYTES: u64 = 50 * 1024 * 1024 * 1024;

/// The OCI registry behind the catalogue. Without `--registry`, references
/// are recorded as given and never checked.
#[derive(Clone, Args)]
pub struct RegistryConfig {
    /// The OCI distribution registry to catalogue, such as `http://127.0.0.1:5000`.
    /// Registered references must name its host (or none), and register,
    /// sync and forced deletes consult it.
    #[arg(long = "registry", env = "EASEL_REGISTRY_URL", value_parser = RegistryEndpoint::parse)]
    pub url: Option<RegistryEndpoint>,

    /// The user name for HTTP basic authentication to the registry.
    #[arg(long = "registry-username", env = "EASEL_REGISTRY_USERNAME", requires = "password", conflicts_with = "token")]
    pub username: Option<String>,

    /// The password for HTTP basic authentication to the registry.
    #[arg(long = "registry-password", env = "EASEL_REGISTRY_PASSWORD", hide_env_values = true, requires = "username")]
    pub password: Option<String>,

    /// A bearer token sent to the registry, instead of a user name and password.
    #[arg(long = "registry-token", env = "EASEL_REGISTRY_TOKEN", hide_env_values = true)]
    pub token: Option<String>,

    /// How long one registry call may take, such as 10s; a slower registry gets 503.
    #[arg(
        long = "registry-timeout",
        env = "EASEL_REGISTRY_TIMEOUT",
        value_name = "DURATION",
        default_value = "10s",
        value_parser = humantime::parse_duration
    )]
    pub timeout: Duration,

    /// The largest image accepted at register, config plus layers in bytes (compressed).
    #[arg(
        long = "max-image-size-bytes",
        env = "EASEL_MAX_IMAGE_SIZE_BYTES",
        value_name = "BYTES",
        default_value_t = DEFAULT_MAX_IMAGE_SIZE_BYTES
    )]
    pub max_image_size_bytes: u64,

    /// The shared secret the registry sends as `Authorization: Bearer SECRET`
    /// with its notifications to `POST /registry/events`. Without it that
    /// endpoint is off.
    #[arg(
        long = "registry-events-secret",
        env = "EASEL_REGISTRY_EVENTS_SECRET",
        hide_env_values = true,
        value_name = "SECRET"
    )]
    pub events_secret: Option<String>,

    /// Maps a registry namespace to the project its pushes are registered
    /// for, as `NAMESPACE=PROJECT_ID`. Repeat the flag, or separate pairs
    /// with commas in the environment variable. Pushes to other namespaces are ignored.
    #[arg(
        long = "registry-namespace",
        env = "EASEL_REGISTRY_NAMESPACES",
        value_name = "NAMESPACE=PROJECT_ID",
        value_delimiter = ',',
        value_parser = parse_namespace_mapping
    )]
    pub namespaces: Vec<NamespaceMapping>,
}

impl fmt::Debug for RegistryConfig {
    /// Shows whether each secret is set, never its value.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let redacted = |secret: &Option<String>| secret.as_ref().map(|_| "<redacted>");
        f.debug_struct("RegistryConfig")
            .field("url", &self.url)
            .field("username", &self.username)
            .field("password", &redacted(&self.password))
            .field("token", &redacted(&self.token))
            .field("timeout", &self.timeout)
            .field("max_image_size_bytes", &self.max_image_size_bytes)
            .field("events_secret", &redacted(&self.events_secret))
            .field("namespaces", &self.namespaces)
            .finish()
    }
}

impl Default for RegistryConfig {
    /// No registry, with the flags' defaults.
    fn default() -> Self {
        RegistryConfig {
            url: None,
            username: None,
            password: None,
            token: None,
            timeout: Duration::from_secs(10),
            max_image_size_bytes: DEFAULT_MAX_IMAGE_SIZE_BYTES,
            events_secret: None,
            namespaces: Vec::new(),
        }
    }
}

/// One `NAMESPACE=PROJECT_ID` pair of `--registry-namespace`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamespaceMapping {
    pub namespace: String,
    pub project: ProjectId,
}

fn parse_namespace_mapping(value: &str) -> Result<NamespaceMapping, String> {
    let (namespace, project) = value
        .split_once('=')
        .ok_or_else(|| format!("'{value}' is not NAMESPACE=PROJECT_ID"))?;
    let namespace = namespace.trim();
    if namespace.is_empty() || namespace.contains('/') {
        return Err(format!("'{value}' has an invalid namespace; expected one path segment such as 'team'"));
    }
    let project = ProjectId::parse(project.trim()).map_err(|err| err.to_string())?;
    Ok(NamespaceMapping { namespace: namespace.to_owned(), project })
}

impl ServeConfig {
    /// Returns the registry host implied by references that name none.
    pub fn implied_registry_host(&self) -> String {
        match (&self.default_registry_host, &self.registry.url) {
            (Some(host), _) => host.clone(),
            (None, Some(endpoint)) => endpoint.host.clone(),
            (None, None) => "localhost:5000".to_owned(),
        }
    }
}

/// Parses a token lifetime such as `30m` or `7d`; a zero lifetime would make
/// a token that is expired when issued, so it is rejected.
fn parse_ttl(value: &str) -> Result<Duration, String> {
    let ttl = humantime::parse_duration(value).map_err(|err| format!("invalid duration '{value}': {err}"))?;
    if ttl.is_zero() {
        return Err("the lifetime must be longer than zero, such as 30m or 24h".to_owned());
    }
    Ok(ttl)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespace_mapping_parses_pairs() {
        let mapping = parse_namespace_mapping("team=0123456789abcdef0123456789abcdef").unwrap();
        assert_eq!(mapping.namespace, "team");
        assert_eq!(mapping.project.as_str(), "0123456789abcdef0123456789abcdef");

        assert!(parse_namespace_mapping("team").is_err());
        assert!(parse_namespace_mapping("a/b=0123456789abcdef0123456789abcdef").is_err());
        assert!(parse_namespace_mapping("team=NOTAPROJECT").is_err());
    }

    #[test]
    fn registry_config_debug_hides_secrets() {
        let cli = Cli::parse_from([
            "easel", "serve", "--registry", "http://127.0.0.1:5999", "--registry-token", "tok-123",
            "--registry-events-secret", "sec-456",
        ]);
        let Command::Serve(config) = cli.command else { panic!("expected serve") };
        let debug = format!("{config:?}");
        assert!(!debug.contains("tok-123"), "{debug}");
        assert!(!debug.contains("sec-456"), "{debug}");
        assert!(debug.contains("<redacted>"), "{debug}");
    }

    #[test]
    fn registry_host_is_implied_by_registry_url() {
        let cli = Cli::parse_from(["easel", "serve", "--registry", "http://127.0.0.1:5999"]);
        let Command::Serve(config) = cli.command else { panic!("expected serve") };
        assert_eq!(config.implied_registry_host(), "127.0.0.1:5999");

        let cli = Cli::parse_from(["easel", "serve"]);
        let Command::Serve(config) = cli.command else { panic!("expected serve") };
        assert_eq!(config.implied_registry_host(), "localhost:5000");
    }
}

