//! The command line of the client commands, `easel images ...` and
//! `easel groups ...`: every flag with its environment variable and meaning.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Subcommand, ValueEnum};

use crate::http::params::{GroupListParams, ImageListParams};

/// The output format of results.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// An aligned table for people.
    Table,
    /// The API's JSON response, pretty-printed.
    Json,
}

/// The service's address and credentials, and the output format. A token,
/// when given, is used instead of the access key pair.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Connection and output")]
pub struct ClientOptions {
    /// The base URL of the easel service.
    #[arg(long, env = "EASEL_ENDPOINT", default_value = "http://127.0.0.1:8080", global = true)]
    pub endpoint: String,

    /// The project the requests are for: 32 lower-case hexadecimal characters.
    #[arg(long, env = "HUAWEICLOUD_SDK_PROJECT_ID", global = true)]
    pub project_id: Option<String>,

    /// The access key (AK) that signs requests.
    #[arg(long, env = "HUAWEICLOUD_SDK_AK", global = true)]
    pub access_key: Option<String>,

    /// The secret key (SK) that signs requests. Prefer the environment
    /// variable: other users of this machine can read command lines.
    #[arg(long, env = "HUAWEICLOUD_SDK_SK", hide_env_values = true, global = true)]
    pub secret_key: Option<String>,

    /// A token from `easel token create`, sent instead of a signature.
    #[arg(long, env = "EASEL_TOKEN", hide_env_values = true, global = true)]
    pub token: Option<String>,

    /// The output format.
    #[arg(long, short = 'o', value_enum, default_value_t = OutputFormat::Table, global = true)]
    pub output: OutputFormat,

    /// How long to wait for each response, such as 10s or 2m.
    #[arg(long, default_value = "30s", value_parser = humantime::parse_duration, global = true)]
    pub timeout: Duration,
}

/// `easel images ...`.
#[derive(Debug, Args)]
pub struct ImagesArgs {
    #[command(flatten)]
    pub options: ClientOptions,

    #[command(subcommand)]
    pub command: ImagesCommand,
}

#[derive(Debug, Subcommand)]
pub enum ImagesCommand {
    /// Register an image of the registry (RegisterImage).
    Register(RegisterArgs),
    /// List images, one page or, with --all, every page (ListImage).
    List {
        #[command(flatten)]
        params: ImageListParams,
        /// Follow the pages until every matching image is printed.
        #[arg(long)]
        all: bool,
    },
    /// Show one image (ShowImage).
    Show {
        /// The image id.
        id: String,
    },
    /// Delete an image (DeleteImage).
    Delete {
        /// The image id.
        id: String,
        /// Also delete the manifest from the registry, when the service has one configured.
        #[arg(long)]
        force: bool,
    },
    /// Re-read an image's manifest from the registry (SyncImage).
    Sync {
        /// The image id.
        id: String,
    },
}

/// The fields of a register request; absent ones get the service's defaults.
#[derive(Debug, Args)]
pub struct RegisterArgs {
    /// The image reference, `[host[:port]/]namespace/name:tag[@sha256:DIGEST]`.
    #[arg(long)]
    pub swr_path: String,
    /// X86_64 or AARCH64 [server default: X86_64].
    #[arg(long)]
    pub arch: Option<String>,
    /// At most 512 characters.
    #[arg(long)]
    pub description: Option<String>,
    /// CUSTOMIZE or IMAGE_SAVE [server default: CUSTOMIZE].
    #[arg(long)]
    pub origin: Option<String>,
    /// CPU, GPU or ASCEND; repeat the flag or separate with commas [server default: CPU,GPU].
    #[arg(long, value_delimiter = ',')]
    pub resource_category: Vec<String>,
    /// COMMON, INFERENCE, TRAIN, DEV or UNKNOWN [server default: UNKNOWN].
    #[arg(long)]
    pub service_type: Option<String>,
    /// NOTEBOOK or SSH; repeat the flag or separate with commas [server default: NOTEBOOK,SSH].
    #[arg(long, value_delimiter = ',')]
    pub services: Vec<String>,
    /// PRIVATE or PUBLIC [server default: PRIVATE].
    #[arg(long)]
    pub visibility: Option<String>,
    /// "0" or 32 characters of [0-9a-z] [server default: "0"].
    #[arg(long)]
    pub workspace_id: Option<String>,
    /// The flavor the image is meant for.
    #[arg(long)]
    pub flavor_type: Option<String>,
    /// A tag as KEY=VALUE; repeat for more, at most 20.
    #[arg(long = "tag", value_name = "KEY=VALUE", value_parser = parse_tag)]
    pub tags: Vec<(String, String)>,
    /// The registry instance id.
    #[arg(long)]
    pub swr_instance_id: Option<String>,
    /// A description in Markdown, at most 3000 characters.
    #[arg(long)]
    pub read_me: Option<String>,
}

/// `easel groups ...`.
#[derive(Debug, Args)]
pub struct GroupsArgs {
    #[command(flatten)]
    pub options: ClientOptions,

    #[command(subcommand)]
    pub command: GroupsCommand,
}

#[derive(Debug, Subcommand)]
pub enum GroupsCommand {
    /// List image groups, one page or, with --all, every page (ListImageGroup).
    List {
        #[command(flatten)]
        params: GroupListParams,
        /// Follow the pages until every matching group is printed.
        #[arg(long)]
        all: bool,
    },
    /// Set a group's read-me or tags (UpdateImageGroup).
    Update {
        /// The group id.
        id: String,
        /// The new read-me, at most 30000 characters.
        #[arg(long, conflicts_with = "read_me_file")]
        read_me: Option<String>,
        /// A file holding the new read-me.
        #[arg(long)]
        read_me_file: Option<PathBuf>,
        /// A tag as KEY=VALUE, replacing all of the group's tags; repeat for more, at most 20.
        #[arg(long = "tag", value_name = "KEY=VALUE", value_parser = parse_tag)]
        tags: Vec<(String, String)>,
        /// Remove every tag of the group.
        #[arg(long, conflicts_with = "tags")]
        clear_tags: bool,
    },
    /// Delete a group and every image in it (DeleteImageGroup).
    Delete {
        /// The group id.
        id: String,
        /// Also delete the manifests from the registry, when the service has one configured.
        #[arg(long)]
        force: bool,
    },
}

fn parse_tag(value: &str) -> Result<(String, String), String> {
    match value.split_once('=') {
        Some((key, value)) if !key.is_empty() => Ok((key.to_owned(), value.to_owned())),
        _ => Err(format!("'{value}' is not a tag; expected KEY=VALUE with a non-empty key")),
    }
}
