//! Rows as the backends read them, and their conversion to catalogue records.
//! Both backends store the same columns with the same text encodings: enums
//! in their wire form, lists of enums comma-separated, tags as JSON.

use anyhow::Context;
use uuid::Uuid;

use crate::catalogue::fields::{Arch, DevService, ImageStatus, ImageType, Origin, ResourceCategory, ServiceType, Visibility};
use crate::catalogue::model::{Group, Image, Tag};
use crate::error::{Error, Result};

/// The image columns, in the order every image query selects them.
pub const IMAGE_COLUMNS: &str = "id, project_id, workspace_id, group_id, type, swr_path, namespace, name, tag, digest, \
     arch, description, origin, resource_categories, service_type, dev_services, visibility, status, status_message, \
     flavor_type, swr_instance_id, show_name, show_tag, tags, read_me, size, create_at, update_at";

/// The group columns, in the order every group query selects them.
pub const GROUP_COLUMNS: &str = "id, scope, workspace_id, type, namespace, name, description, read_me, icon_name, \
     swr_instance_id, swr_instance_name, tags, version_count, create_at, update_at";

/// An image row. `Deserialize` reads it from a JSON array of its columns in
/// this order, the form in which SQLite packs a listing's page.
#[derive(sqlx::FromRow, serde::Deserialize)]
pub struct ImageRow {
    pub id: String,
    pub project_id: String,
    pub workspace_id: String,
    pub group_id: String,
    #[sqlx(rename = "type")]
    pub image_type: String,
    pub swr_path: String,
    pub namespace: String,
    pub name: String,
    pub tag: String,
    pub digest: Option<String>,
    pub arch: String,
    pub description: String,
    pub origin: String,
    pub resource_categories: String,
    pub service_type: String,
    pub dev_services: String,
    pub visibility: String,
    pub status: String,
    pub status_message: String,
    pub flavor_type: Option<String>,
    pub swr_instance_id: Option<String>,
    pub show_name: Option<String>,
    pub show_tag: Option<String>,
    pub tags: String,
    pub read_me: Option<String>,
    pub size: i64,
    pub create_at: i64,
    pub update_at: i64,
}

/// A group row, read from a JSON array of its columns like [`ImageRow`].
#[derive(sqlx::FromRow, serde::Deserialize)]
pub struct GroupRow {
    pub id: String,
    pub scope: String,
    pub workspace_id: String,
    #[sqlx(rename = "type")]
    pub image_type: String,
    pub namespace: String,
    pub name: String,
    pub description: String,
    pub read_me: String,
    pub icon_name: String,
    pub swr_instance_id: String,
    pub swr_instance_name: String,
    pub tags: String,
    pub version_count: i64,
    pub create_at: i64,
    pub update_at: i64,
}

/// Turns a value the database returned but the catalogue cannot read into an internal error.
fn corrupt(column: &str, err: impl std::fmt::Display) -> Error {
    Error::Internal(anyhow::anyhow!("stored column {column} holds an unreadable value: {err}"))
}

fn parse_uuid(column: &str, value: &str) -> Result<Uuid> {
    Uuid::parse_str(value).map_err(|err| corrupt(column, err))
}

fn parse_list<T>(column: &str, value: &str, parse: impl Fn(&str, &str) -> Result<T>) -> Result<Vec<T>> {
    value
        .split(',')
        .filter(|part| !part.is_empty())
        .map(|part| parse(column, part).map_err(|err| corrupt(column, err)))
        .collect()
}

fn parse_one<T>(column: &str, value: &str, parse: impl Fn(&str, &str) -> Result<T>) -> Result<T> {
    parse(column, value).map_err(|err| corrupt(column, err))
}

fn parse_tags(column: &str, value: &str) -> Result<Vec<Tag>> {
    serde_json::from_str(value).map_err(|err| corrupt(column, err))
}

/// Joins enum values in their wire form, comma-separated.
pub fn join_wire<T: std::fmt::Display>(values: &[T]) -> String {
    values.iter().map(ToString::to_string).collect::<Vec<_>>().join(",")
}

/// Returns the part of a stored `swr_path` before any `@digest`: the key of
/// the one-image-per-tag rule, so a pinned digest does not make a second
/// image of the same tag.
pub fn tag_reference(swr_path: &str) -> &str {
    swr_path.split_once('@').map_or(swr_path, |(reference, _)| reference)
}

/// Encodes tags as the JSON the tags columns hold.
pub fn tags_json(tags: &[Tag]) -> Result<String> {
    serde_json::to_string(tags)
        .context("Failed to encode tags as JSON")
        .map_err(Error::Internal)
}

impl TryFrom<ImageRow> for Image {
    type Error = Error;

    fn try_from(row: ImageRow) -> Result<Self> {
        Ok(Image {
            id: parse_uuid("images.id", &row.id)?,
            project_id: Some(row.project_id).filter(|p| !p.is_empty()),
            workspace_id: row.workspace_id,
            group_id: parse_uuid("images.group_id", &row.group_id)?,
            image_type: parse_one("images.type", &row.image_type, ImageType::parse)?,
            swr_path: row.swr_path,
            namespace: row.namespace,
            name: row.name,
            tag: row.tag,
            digest: row.digest,
            arch: parse_one("images.arch", &row.arch, Arch::parse)?,
            description: row.description,
            origin: parse_one("images.origin", &row.origin, Origin::parse)?,
            resource_categories: parse_list("images.resource_categories", &row.resource_categories, ResourceCategory::parse)?,
            service_type: parse_one("images.service_type", &row.service_type, ServiceType::parse)?,
            dev_services: parse_list("images.dev_services", &row.dev_services, DevService::parse)?,
            visibility: parse_one("images.visibility", &row.visibility, Visibility::parse)?,
            status: parse_one("images.status", &row.status, ImageStatus::parse)?,
            status_message: row.status_message,
            flavor_type: row.flavor_type,
            swr_instance_id: row.swr_instance_id,
            show_name: row.show_name,
            show_tag: row.show_tag,
            tags: parse_tags("images.tags", &row.tags)?,
            read_me: row.read_me,
            size: row.size,
            create_at: row.create_at,
            update_at: row.update_at,
        })
    }
}

impl TryFrom<GroupRow> for Group {
    type Error = Error;

    fn try_from(row: GroupRow) -> Result<Self> {
        Ok(Group {
            id: parse_uuid("image_groups.id", &row.id)?,
            project_id: Some(row.scope).filter(|s| !s.is_empty()),
            workspace_id: row.workspace_id,
            image_type: parse_one("image_groups.type", &row.image_type, ImageType::parse)?,
            namespace: row.namespace,
            name: row.name,
            description: row.description,
            read_me: row.read_me,
            icon_name: row.icon_name,
            swr_instance_id: row.swr_instance_id,
            swr_instance_name: row.swr_instance_name,
            tags: parse_tags("image_groups.tags", &row.tags)?,
            version_count: row.version_count,
            create_at: row.create_at,
            update_at: row.update_at,
        })
    }
}
