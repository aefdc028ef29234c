//! Storage: one interface for the catalogue's records, one module per backend.
//! Every change to an image updates its group row in the same transaction, so
//! group listings read prepared rows and never aggregate images.

pub mod rows;
pub mod sqlite;

use async_trait::async_trait;
use uuid::Uuid;

use crate::catalogue::model::{Group, GroupChanges, GroupQuery, Image, ImageQuery, Page};
use crate::error::Result;

/// An access key as stored: the secret key encrypted under the master key.
#[derive(Debug, Clone)]
pub struct StoredAccessKey {
    pub access_key: String,
    pub project_id: String,
    pub secret_ciphertext: Vec<u8>,
    pub create_at: i64,
}

/// A token as stored: only its hash.
#[derive(Debug, Clone)]
pub struct StoredToken {
    pub token_hash: String,
    pub project_id: String,
    pub expires_at: i64,
    pub create_at: i64,
}

/// What loading the presets changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PresetLoad {
    pub inserted: u64,
    pub updated: u64,
    pub removed: u64,
}

/// The result of a group delete: the group as it was and the images it lost.
#[derive(Debug, Clone)]
pub struct DeletedGroup {
    pub group: Group,
    pub images: Vec<Image>,
}

/// The catalogue's storage. Implementations keep group rows consistent with
/// their images inside each write transaction.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Records a new access key.
    async fn insert_access_key(&self, key: &StoredAccessKey) -> Result<()>;

    /// Finds an access key by its id.
    async fn find_access_key(&self, access_key: &str) -> Result<Option<StoredAccessKey>>;

    /// Counts the access keys of every project.
    async fn count_access_keys(&self) -> Result<u64>;

    /// Records a new token.
    async fn insert_token(&self, token: &StoredToken) -> Result<()>;

    /// Finds a token by its hash.
    async fn find_token(&self, token_hash: &str) -> Result<Option<StoredToken>>;

    /// Inserts a dedicated image and attaches it to its group, creating the
    /// group when it is the first image. Returns the image with its group id.
    /// A project that already has the reference gets `Error::DuplicateTag`.
    async fn insert_image(&self, image: &Image) -> Result<Image>;

    /// Finds a non-deleted image by id, whoever owns it.
    async fn find_image(&self, id: Uuid) -> Result<Option<Image>>;

    /// Lists the images visible to a project in a workspace: its own and the built-in ones.
    async fn list_images(&self, query: &ImageQuery) -> Result<Page<Image>>;

    /// Replaces the registry-derived fields of an image (status, message,
    /// size, arch, digest) and touches its group. Returns the updated image.
    async fn update_image_state(&self, image: &Image, now: i64) -> Result<Option<Image>>;

    /// Marks a non-deleted image deleted and detaches it from its group.
    /// Returns the image as deleted, or `None` when it was already gone.
    async fn delete_image(&self, id: Uuid, now: i64) -> Result<Option<Image>>;

    /// Finds a group that has at least one image, by id.
    async fn find_group(&self, id: Uuid) -> Result<Option<Group>>;

    /// Lists the groups visible to a project in a workspace.
    async fn list_groups(&self, query: &GroupQuery) -> Result<Page<Group>>;

    /// Applies changes to a group. Returns the updated group.
    async fn update_group(&self, id: Uuid, changes: &GroupChanges, now: i64) -> Result<Option<Group>>;

    /// Marks every image of a group deleted. Returns the group as it was
    /// before and the deleted images, or `None` when it has no images.
    async fn delete_group(&self, id: Uuid, now: i64) -> Result<Option<DeletedGroup>>;

    /// Makes the built-in images exactly `presets`: inserts new ones, updates
    /// changed ones in place and deletes those no longer listed. Loading the
    /// same presets twice changes nothing.
    async fn sync_presets(&self, presets: &[Image], now: i64) -> Result<PresetLoad>;
}
