//! The JSON shapes of the API's responses, field for field as the official
//! SDKs read them. Absent optional values are left out, as the reference's
//! examples show them.

use serde::Serialize;
use uuid::Uuid;

use crate::catalogue::fields::{
    Arch, DevService, ImageStatus, ImageType, Origin, ResourceCategory, ServiceType, Visibility,
};
use crate::catalogue::model::{Group, Image, Tag};

/// `ImageResponse`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = ImageResponse)]
pub struct ImageBody {
    /// The processor architecture, from the manifest when a registry is configured.
    pub arch: Arch,
    /// UTC milliseconds since the epoch.
    pub create_at: i64,
    pub description: String,
    /// The ways to reach a development environment started from the image.
    pub dev_services: Vec<DevService>,
    pub id: Uuid,
    /// The repository name after the namespace, such as `ml/pytorch`, or a preset's published name.
    pub name: String,
    /// The first path segment of the repository.
    pub namespace: String,
    pub origin: Origin,
    /// The kinds of compute the image runs on.
    pub resource_categories: Vec<ResourceCategory>,
    pub service_type: ServiceType,
    /// Compressed bytes, config plus layers; 0 when unknown.
    pub size: i64,
    pub status: ImageStatus,
    /// The reason for the status, such as a manifest missing from the registry; empty when there is none.
    pub status_message: String,
    /// The same categories as `resource_categories`; the SDK models read both.
    pub support_res_categories: Vec<ResourceCategory>,
    /// The full reference, `host[:port]/namespace/name:tag`, with `@sha256:DIGEST` when one was pinned.
    pub swr_path: String,
    pub tag: String,
    /// BUILD_IN for the presets, DEDICATED for images a project registered.
    #[serde(rename = "type")]
    pub image_type: ImageType,
    /// UTC milliseconds since the epoch.
    pub update_at: i64,
    /// PUBLIC lets other projects read the image by id.
    pub visibility: Visibility,
    /// `"0"` for the default workspace, or 32 characters of `[0-9a-z]`.
    pub workspace_id: String,
    /// Absent when the image was registered without one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flavor_type: Option<String>,
    /// Absent when the image was registered without one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub swr_instance_id: Option<String>,
    /// The display name of a built-in image.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub show_name: Option<String>,
    /// The display tag of a built-in image.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub show_tag: Option<String>,
    /// At most 20 `{key, value}` labels.
    pub tags: Vec<Tag>,
}

impl From<Image> for ImageBody {
    fn from(image: Image) -> Self {
        ImageBody {
            arch: image.arch,
            create_at: image.create_at,
            description: image.description,
            dev_services: image.dev_services,
            id: image.id,
            name: image.name,
            namespace: image.namespace,
            origin: image.origin,
            support_res_categories: image.resource_categories.clone(),
            resource_categories: image.resource_categories,
            service_type: image.service_type,
            size: image.size,
            status: image.status,
            status_message: image.status_message,
            swr_path: image.swr_path,
            tag: image.tag,
            image_type: image.image_type,
            update_at: image.update_at,
            visibility: image.visibility,
            workspace_id: image.workspace_id,
            flavor_type: image.flavor_type,
            swr_instance_id: image.swr_instance_id,
            show_name: image.show_name,
            show_tag: image.show_tag,
            tags: image.tags,
        }
    }
}

fn is_empty(value: &str) -> bool {
    value.is_empty()
}

/// `ImageGroup`. Empty descriptive strings are left out, so a group with
/// none has the shape of the reference's example.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = ImageGroup)]
pub struct GroupBody {
    /// Stable from the group's first image on.
    pub id: Uuid,
    /// The name its images share.
    pub name: String,
    /// The namespace its images share.
    pub namespace: String,
    /// The earliest image's creation time, UTC milliseconds since the epoch.
    pub create_at: i64,
    /// The latest change to an image of the group or to the group, UTC milliseconds since the epoch.
    pub update_at: i64,
    /// The group's images visible to the caller.
    pub version_count: i64,
    /// The newest image's description.
    #[serde(skip_serializing_if = "is_empty")]
    #[schema(required = false)]
    pub description: String,
    #[serde(skip_serializing_if = "is_empty")]
    /// Set by UpdateImageGroup; absent when empty.
    #[schema(required = false)]
    pub read_me: String,
    #[serde(skip_serializing_if = "is_empty")]
    /// Absent when empty.
    #[schema(required = false)]
    pub icon_name: String,
    #[serde(skip_serializing_if = "is_empty")]
    /// The registry instance of the last registered image that named one; absent when none did.
    #[schema(required = false)]
    pub swr_instance_id: String,
    #[serde(skip_serializing_if = "is_empty")]
    /// Absent when empty.
    #[schema(required = false)]
    pub swr_instance_name: String,
}

impl From<Group> for GroupBody {
    fn from(group: Group) -> Self {
        GroupBody {
            id: group.id,
            name: group.name,
            namespace: group.namespace,
            create_at: group.create_at,
            update_at: group.update_at,
            version_count: group.version_count,
            description: group.description,
            read_me: group.read_me,
            icon_name: group.icon_name,
            swr_instance_id: group.swr_instance_id,
            swr_instance_name: group.swr_instance_name,
        }
    }
}
