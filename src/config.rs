//! The command line and environment: every setting is declared once, as a
//! flag with an environment variable, its default and its meaning.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

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
    Serve(ServeConfig),
    /// Manage access keys (AK/SK).
    #[command(subcommand)]
    AccessKey(AccessKeyCommand),
    /// Manage tokens.
    #[command(subcommand)]
    Token(TokenCommand),
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
        #[arg(long, default_value = "24h", value_parser = humantime::parse_duration)]
        ttl: Duration,
        #[command(flatten)]
        store: StoreConfig,
    },
}

/// Where the catalogue and its keys are kept.
#[derive(Debug, Clone, Args)]
pub struct StoreConfig {
    /// The database: `sqlite://PATH`. The file and its directory are created when missing.
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

    /// The registry host implied by references that name none, such as `ns/name:tag`.
    #[arg(long, env = "EASEL_DEFAULT_REGISTRY_HOST", default_value = "localhost:5000")]
    pub default_registry_host: String,

    /// The largest request body accepted, in bytes; larger bodies get 413.
    #[arg(long, env = "EASEL_BODY_LIMIT_BYTES", default_value_t = 1024 * 1024)]
    pub body_limit_bytes: usize,

    /// Log format: `human` or `json`.
    #[arg(long, env = "EASEL_LOG_FORMAT", default_value = "human", value_parser = ["human", "json"])]
    pub log_format: String,
}
