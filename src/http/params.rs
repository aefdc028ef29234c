//! The query parameters of the two listings, declared once for three
//! readers: the OpenAPI document (`IntoParams`), the command-line client's
//! flags (`clap::Args`) and the query the client sends (`Serialize`).
//! The server parses queries itself, from the raw string, in
//! [`crate::catalogue::requests`], so that it can reject repeated parameters.

use serde::Serialize;

use crate::catalogue::fields::{ImageType, ServiceType, SortDir};

/// The query of `GET /v1/{project_id}/images`.
#[derive(Debug, Clone, Default, Serialize, clap::Args, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[command(next_help_heading = "Filters and paging")]
pub struct ImageListParams {
    /// Items per page, 1 to 1000 [server default: 200].
    #[arg(long)]
    #[param(minimum = 1, maximum = 1000, default = 200)]
    pub limit: Option<u32>,

    /// Items to skip before the page starts [server default: 0].
    #[arg(long)]
    #[param(minimum = 0, default = 0)]
    pub offset: Option<u64>,

    /// Name filter: up to 512 letters, digits, '.', '_', '-' and '/', matched case-insensitively.
    #[arg(long)]
    #[param(max_length = 512, pattern = "^[A-Za-z0-9._/-]*$")]
    pub name: Option<String>,

    /// Whether `name` matches as a substring (true) or exactly (false) [server default: true].
    #[arg(long)]
    #[param(default = true)]
    pub name_fuzzy_match: Option<bool>,

    /// Exact namespace.
    #[arg(long)]
    #[param(max_length = 64)]
    pub namespace: Option<String>,

    /// Only images of this service type.
    #[arg(long)]
    #[param(value_type = Option<ServiceType>)]
    pub service_type: Option<String>,

    /// Only built-in or only dedicated images; both when absent.
    #[arg(long = "type", value_name = "TYPE")]
    #[serde(rename = "type")]
    #[param(rename = "type", value_type = Option<ImageType>)]
    pub image_type: Option<String>,

    /// The workspace: "0" or 32 characters of [0-9a-z] [server default: "0"].
    #[arg(long)]
    #[param(pattern = "^(0|[0-9a-z]{32})$")]
    pub workspace_id: Option<String>,

    /// Comma-separated sort fields among create_at, update_at, name, namespace and tag
    /// (createTime and updateTime are aliases) [server default: update_at, then id].
    #[arg(long)]
    #[param(example = "name,tag")]
    pub sort_key: Option<String>,

    /// Sort direction [server default: DESC].
    #[arg(long)]
    #[param(value_type = Option<SortDir>)]
    pub sort_dir: Option<String>,

    /// Exact display name of built-in images.
    #[arg(long)]
    #[param(max_length = 512)]
    pub show_name: Option<String>,

    /// Exact display tag of built-in images.
    #[arg(long)]
    #[param(max_length = 512)]
    pub show_tag: Option<String>,
}

/// The query of `GET /v1/{project_id}/images/group`.
#[derive(Debug, Clone, Default, Serialize, clap::Args, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[command(next_help_heading = "Filters and paging")]
pub struct GroupListParams {
    /// Groups per page, 1 to 1000 [server default: 200].
    #[arg(long)]
    #[param(minimum = 1, maximum = 1000, default = 200)]
    pub limit: Option<u32>,

    /// Groups to skip before the page starts [server default: 0].
    #[arg(long)]
    #[param(minimum = 0, default = 0)]
    pub offset: Option<u64>,

    /// Name filter: up to 512 letters, digits, '.', '_', '-' and '/', matched case-insensitively.
    #[arg(long)]
    #[param(max_length = 512, pattern = "^[A-Za-z0-9._/-]*$")]
    pub name: Option<String>,

    /// Whether `name` matches as a substring (true) or exactly (false) [server default: true].
    #[arg(long)]
    #[param(default = true)]
    pub name_fuzzy_match: Option<bool>,

    /// Exact namespace.
    #[arg(long)]
    #[param(max_length = 64)]
    pub namespace: Option<String>,

    /// Only built-in or only dedicated groups; both when absent.
    #[arg(long = "type", value_name = "TYPE")]
    #[serde(rename = "type")]
    #[param(rename = "type", value_type = Option<ImageType>)]
    pub image_type: Option<String>,

    /// The workspace: "0" or 32 characters of [0-9a-z] [server default: "0"].
    #[arg(long)]
    #[param(pattern = "^(0|[0-9a-z]{32})$")]
    pub workspace_id: Option<String>,

    /// Exact registry instance id.
    #[arg(long)]
    #[param(max_length = 64)]
    pub swr_instance_id: Option<String>,
}
