//! The catalogue's records and the questions asked of them: images, groups,
//! listing queries and pages.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::catalogue::fields::{
    Arch, DevService, ImageStatus, ImageType, Origin, ProjectId, ResourceCategory, ServiceType, SortDir, SortKey,
    Visibility, WorkspaceId,
};

/// A `{key, value}` label on an image or group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Tag {
    pub key: String,
    pub value: String,
}

/// One tagged version of a repository, as the catalogue records it.
#[derive(Debug, Clone, PartialEq)]
pub struct Image {
    pub id: Uuid,
    /// The owning project; `None` for built-in images, which belong to no project.
    pub project_id: Option<String>,
    pub workspace_id: String,
    pub group_id: Uuid,
    pub image_type: ImageType,
    /// The full reference, always with its registry host.
    pub swr_path: String,
    pub namespace: String,
    /// The repository name, or a preset's published name.
    pub name: String,
    pub tag: String,
    /// The manifest digest, when known.
    pub digest: Option<String>,
    pub arch: Arch,
    pub description: String,
    pub origin: Origin,
    pub resource_categories: Vec<ResourceCategory>,
    pub service_type: ServiceType,
    pub dev_services: Vec<DevService>,
    pub visibility: Visibility,
    pub status: ImageStatus,
    pub status_message: String,
    pub flavor_type: Option<String>,
    pub swr_instance_id: Option<String>,
    pub show_name: Option<String>,
    pub show_tag: Option<String>,
    pub tags: Vec<Tag>,
    pub read_me: Option<String>,
    /// Compressed size in bytes, config plus layers; 0 when unknown.
    pub size: i64,
    /// UTC milliseconds since the epoch.
    pub create_at: i64,
    /// UTC milliseconds since the epoch.
    pub update_at: i64,
}

/// Every visible image that shares a scope, a namespace and a name.
#[derive(Debug, Clone, PartialEq)]
pub struct Group {
    pub id: Uuid,
    /// The owning project; `None` for built-in groups.
    pub project_id: Option<String>,
    pub workspace_id: String,
    pub image_type: ImageType,
    pub namespace: String,
    pub name: String,
    /// The description of the newest image.
    pub description: String,
    pub read_me: String,
    pub icon_name: String,
    pub swr_instance_id: String,
    pub swr_instance_name: String,
    pub tags: Vec<Tag>,
    /// The number of non-deleted images in the group.
    pub version_count: i64,
    /// The earliest image's creation time, UTC milliseconds.
    pub create_at: i64,
    /// The latest change to an image in the group or to the group itself, UTC milliseconds.
    pub update_at: i64,
}

/// How a name filter matches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NameFilter {
    /// Case-insensitive substring; every character is literal. Holds the lower-cased needle.
    Contains(String),
    /// Case-insensitive equality. Holds the lower-cased name.
    Exact(String),
}

/// A window into an ordered listing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    /// 1 to 1000.
    pub limit: u32,
    pub offset: u64,
}

/// One page of a listing and the number of all matching rows.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: u64,
}

/// The listing envelope of the API: `current`, `data`, `pages`, `size`, `total`.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Listing<T> {
    /// The page number, `offset / limit + 1`.
    pub current: u64,
    /// The items of this page.
    pub data: Vec<T>,
    /// The number of pages, `ceil(total / limit)`.
    pub pages: u64,
    /// The number of items in `data`.
    pub size: u64,
    /// The number of all matching items.
    pub total: u64,
}

impl<T> Listing<T> {
    /// Wraps a page: `pages` is `ceil(total / limit)`, `current` is `offset / limit + 1`.
    pub fn new(page: Page<T>, request: PageRequest) -> Self {
        let limit = u64::from(request.limit);
        Listing {
            current: request.offset / limit + 1,
            size: page.items.len() as u64,
            pages: page.total.div_ceil(limit),
            total: page.total,
            data: page.items,
        }
    }

    /// Converts each item, keeping the paging fields.
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Listing<U> {
        Listing {
            current: self.current,
            data: self.data.into_iter().map(f).collect(),
            pages: self.pages,
            size: self.size,
            total: self.total,
        }
    }
}

/// Which groups to list, for whom.
#[derive(Debug, Clone)]
pub struct GroupQuery {
    pub project_id: ProjectId,
    pub workspace_id: WorkspaceId,
    pub name: Option<NameFilter>,
    pub namespace: Option<String>,
    pub image_type: Option<ImageType>,
    pub swr_instance_id: Option<String>,
    pub page: PageRequest,
}

/// Which images to list, for whom, in what order.
#[derive(Debug, Clone)]
pub struct ImageQuery {
    pub project_id: ProjectId,
    pub workspace_id: WorkspaceId,
    pub name: Option<NameFilter>,
    pub namespace: Option<String>,
    pub service_type: Option<ServiceType>,
    pub image_type: Option<ImageType>,
    pub show_name: Option<String>,
    pub show_tag: Option<String>,
    /// Empty means the default key, `update_at`, in `sort_dir`.
    pub sort_keys: Vec<SortKey>,
    pub sort_dir: SortDir,
    pub page: PageRequest,
}

impl GroupQuery {
    /// Tells whether the query lists every group of its scopes, so that its
    /// total is the number of groups the store keeps for each scope.
    pub fn lists_whole_scopes(&self) -> bool {
        self.name.is_none() && self.namespace.is_none() && self.swr_instance_id.is_none()
    }
}

impl ImageQuery {
    /// Tells whether the query lists every image of its scopes, so that its
    /// total is the number of images the store keeps for each scope.
    pub fn lists_whole_scopes(&self) -> bool {
        self.name.is_none()
            && self.namespace.is_none()
            && self.service_type.is_none()
            && self.show_name.is_none()
            && self.show_tag.is_none()
    }
}

/// The changes a group update applies.
#[derive(Debug, Clone)]
pub struct GroupChanges {
    pub read_me: Option<String>,
    pub tags: Option<Vec<Tag>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listing(total: u64, items: usize, limit: u32, offset: u64) -> Listing<u8> {
        Listing::new(Page { items: vec![0; items], total }, PageRequest { limit, offset })
    }

    #[test]
    fn listing_counts_pages_and_current_page() {
        let page = listing(10, 3, 3, 3);
        assert_eq!((page.current, page.pages, page.size, page.total), (2, 4, 3, 10));

        let exact = listing(9, 3, 3, 6);
        assert_eq!((exact.current, exact.pages), (3, 3));

        let past_end = listing(9, 0, 3, 30);
        assert_eq!((past_end.current, past_end.pages, past_end.size, past_end.total), (11, 3, 0, 9));

        let empty = listing(0, 0, 200, 0);
        assert_eq!((empty.current, empty.pages), (1, 0));
    }
}
