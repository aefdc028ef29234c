//! The command-line client of the API: `easel images ...` and
//! `easel groups ...`. It signs requests with [`crate::auth::signature`], the
//! code the server verifies with, and prints tables or the API's JSON.
//!
//! Exit codes:
//! - 0: success;
//! - 1: the API returned an error, whose code and message are printed, or a
//!   response that is not the API's;
//! - 2: a usage error, such as a bad flag or missing credentials;
//! - 3: the service could not be reached (connection refused, timeout, TLS failure).

pub mod api;
pub mod args;
pub mod output;

use std::process::ExitCode;

use reqwest::Method;
use serde::Serialize;
use serde_json::{json, Map, Value};

use crate::client::api::{encode, ApiClient};
use crate::client::args::{GroupsArgs, GroupsCommand, ImagesArgs, ImagesCommand, OutputFormat, RegisterArgs};
use crate::client::output::{listing_table, object_table, GROUP_COLUMNS, IMAGE_COLUMNS};

/// The exit code of an error response from the API.
pub const EXIT_API_ERROR: u8 = 1;
/// The exit code of a usage error; clap uses it for bad flags too.
pub const EXIT_USAGE: u8 = 2;
/// The exit code when the service cannot be reached.
pub const EXIT_UNREACHABLE: u8 = 3;

/// The largest page the API serves; `--all` requests it unless `--limit` is given.
const MAX_PAGE_LIMIT: u32 = 1000;

/// The failure of a client command.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The API returned its error body.
    #[error("{code}: {message} (HTTP {status}, request id {request_id})")]
    Api { status: u16, code: String, message: String, request_id: String },

    /// The response is not the API's: no error body, or a body that is not JSON.
    #[error("unexpected response (HTTP {status}): {message}")]
    UnexpectedResponse { status: u16, message: String },

    /// The flags or the environment are incomplete or invalid.
    #[error("{0}")]
    Usage(String),

    /// The request did not reach the service or its response did not arrive.
    #[error("{0}")]
    Unreachable(String),

    /// Reading a local file failed.
    #[error("{0}")]
    Local(String),
}

impl ClientError {
    /// Returns the exit code documented in the module doc.
    pub fn exit_code(&self) -> u8 {
        match self {
            ClientError::Api { .. } | ClientError::UnexpectedResponse { .. } | ClientError::Local(_) => EXIT_API_ERROR,
            ClientError::Usage(_) => EXIT_USAGE,
            ClientError::Unreachable(_) => EXIT_UNREACHABLE,
        }
    }
}

/// Runs `easel images ...` and returns the process exit code.
pub async fn run_images(args: ImagesArgs) -> ExitCode {
    finish(images(args).await)
}

/// Runs `easel groups ...` and returns the process exit code.
pub async fn run_groups(args: GroupsArgs) -> ExitCode {
    finish(groups(args).await)
}

fn finish(result: Result<(), ClientError>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("easel: {err}");
            ExitCode::from(err.exit_code())
        }
    }
}

async fn images(args: ImagesArgs) -> Result<(), ClientError> {
    let client = ApiClient::new(&args.options)?;
    let output = args.options.output;
    match args.command {
        ImagesCommand::Register(register) => {
            let image = client.call(Method::POST, "/images", &[], Some(&register_body(register))).await?;
            print_object(output, &image)?;
        }
        ImagesCommand::List { params, all } => {
            let listing = list(&client, "/images", &params, params.limit, params.offset, all).await?;
            print_listing(output, &listing, IMAGE_COLUMNS, "images")?;
        }
        ImagesCommand::Show { id } => {
            let image = client.call(Method::GET, &format!("/images/{}", encode(&id)), &[], None).await?;
            print_object(output, &image)?;
        }
        ImagesCommand::Delete { id, force } => {
            let body = force.then(|| json!({"is_force": true}));
            let image = client.call(Method::DELETE, &format!("/images/{}", encode(&id)), &[], body.as_ref()).await?;
            print_object(output, &image)?;
        }
        ImagesCommand::Sync { id } => {
            let image = client.call(Method::POST, &format!("/images/{}/sync", encode(&id)), &[], None).await?;
            print_object(output, &image)?;
        }
    }
    Ok(())
}

async fn groups(args: GroupsArgs) -> Result<(), ClientError> {
    let client = ApiClient::new(&args.options)?;
    let output = args.options.output;
    match args.command {
        GroupsCommand::List { params, all } => {
            let listing = list(&client, "/images/group", &params, params.limit, params.offset, all).await?;
            print_listing(output, &listing, GROUP_COLUMNS, "groups")?;
        }
        GroupsCommand::Update { id, read_me, read_me_file, tags, clear_tags } => {
            let read_me = match read_me_file {
                Some(path) => Some(std::fs::read_to_string(&path).map_err(|err| {
                    ClientError::Local(format!("failed to read the read-me file {}: {err}", path.display()))
                })?),
                None => read_me,
            };
            let mut body = Map::new();
            if let Some(read_me) = read_me {
                body.insert("read_me".into(), Value::String(read_me));
            }
            if clear_tags || !tags.is_empty() {
                body.insert("tags".into(), tags_json(tags));
            }
            if body.is_empty() {
                return Err(ClientError::Usage("nothing to update: pass --read-me, --read-me-file, --tag or --clear-tags".into()));
            }
            let group = client.call(Method::PUT, &format!("/images/group/{}", encode(&id)), &[], Some(&Value::Object(body))).await?;
            print_object(output, &group)?;
        }
        GroupsCommand::Delete { id, force } => {
            let body = force.then(|| json!({"is_force": true}));
            let group = client.call(Method::DELETE, &format!("/images/group/{}", encode(&id)), &[], body.as_ref()).await?;
            print_object(output, &group)?;
        }
    }
    Ok(())
}

fn tags_json(tags: Vec<(String, String)>) -> Value {
    Value::Array(tags.into_iter().map(|(key, value)| json!({"key": key, "value": value})).collect())
}

fn register_body(args: RegisterArgs) -> Value {
    let mut body = Map::new();
    body.insert("swr_path".into(), Value::String(args.swr_path));
    let optional = [
        ("arch", args.arch),
        ("description", args.description),
        ("origin", args.origin),
        ("service_type", args.service_type),
        ("visibility", args.visibility),
        ("workspace_id", args.workspace_id),
        ("flavor_type", args.flavor_type),
        ("swr_instance_id", args.swr_instance_id),
        ("read_me", args.read_me),
    ];
    for (field, value) in optional {
        if let Some(value) = value {
            body.insert(field.into(), Value::String(value));
        }
    }
    if !args.resource_category.is_empty() {
        body.insert("resource_category".into(), json!(args.resource_category));
    }
    if !args.services.is_empty() {
        body.insert("services".into(), json!(args.services));
    }
    if !args.tags.is_empty() {
        body.insert("tags".into(), tags_json(args.tags));
    }
    Value::Object(body)
}

/// Turns listing parameters into query pairs, leaving out absent ones.
fn query_pairs(params: &impl Serialize) -> Vec<(String, String)> {
    let Ok(Value::Object(fields)) = serde_json::to_value(params) else {
        return Vec::new();
    };
    fields
        .into_iter()
        .filter_map(|(key, value)| match value {
            Value::Null => None,
            Value::String(text) => Some((key, text)),
            other => Some((key, other.to_string())),
        })
        .collect()
}

/// Fetches one page, or with `all` every page from `offset` on, and returns
/// the listing envelope. Every page of a walk is merged into one envelope
/// whose `data` has every item, `size` counts them, and `current` and
/// `pages` describe that single merged page.
async fn list(
    client: &ApiClient,
    resource: &str,
    params: &impl Serialize,
    limit: Option<u32>,
    offset: Option<u64>,
    all: bool,
) -> Result<Value, ClientError> {
    let mut query = query_pairs(params);
    if !all {
        return client.call(Method::GET, resource, &query, None).await;
    }

    let limit = limit.unwrap_or(MAX_PAGE_LIMIT);
    let mut offset = offset.unwrap_or(0);
    query.retain(|(key, _)| key != "limit" && key != "offset");
    let mut items: Vec<Value> = Vec::new();
    loop {
        let mut page_query = query.clone();
        page_query.push(("limit".into(), limit.to_string()));
        page_query.push(("offset".into(), offset.to_string()));
        let page = client.call(Method::GET, resource, &page_query, None).await?;

        let total = page.get("total").and_then(Value::as_u64).unwrap_or(0);
        let data = match page.get("data") {
            Some(Value::Array(data)) => data.clone(),
            _ => Vec::new(),
        };
        let received = data.len() as u64;
        items.extend(data);
        offset += u64::from(limit);
        // An empty page ends the walk even if `total` grew meanwhile.
        if received == 0 || offset >= total {
            return Ok(json!({"current": 1, "data": items, "pages": 1, "size": items.len(), "total": total}));
        }
    }
}

/// Writes to stdout. A closed pipe, as with `easel images list | head`, ends
/// the output quietly instead of failing.
fn emit(text: &str) -> Result<(), ClientError> {
    use std::io::Write;

    match std::io::stdout().lock().write_all(text.as_bytes()) {
        Err(err) if err.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(ClientError::Local(format!("failed to write the output: {err}")))
        }
        _ => Ok(()),
    }
}

fn pretty_json(value: &Value) -> String {
    let mut text = serde_json::to_string_pretty(value).expect("a JSON value serializes");
    text.push('\n');
    text
}

fn print_object(output: OutputFormat, object: &Value) -> Result<(), ClientError> {
    match output {
        OutputFormat::Json => emit(&pretty_json(object)),
        OutputFormat::Table => emit(&object_table(object)),
    }
}

fn print_listing(output: OutputFormat, listing: &Value, columns: &[(&str, &str)], noun: &str) -> Result<(), ClientError> {
    if output == OutputFormat::Json {
        return emit(&pretty_json(listing));
    }
    let items = listing.get("data").and_then(Value::as_array).map_or(&[][..], Vec::as_slice);
    let number = |field: &str| listing.get(field).and_then(Value::as_u64).unwrap_or(0);
    let footer = format!(
        "{} of {} {noun} (page {} of {})\n",
        items.len(),
        number("total"),
        number("current"),
        number("pages")
    );
    emit(&(listing_table(items, columns) + &footer))
}
