//! The catalogue: images, groups and the rules between them. It knows
//! nothing of HTTP; callers hand it parsed requests and get records back.

pub mod cache;
mod coalesce;
pub mod events;
pub mod fields;
mod inventory;
pub mod model;
pub mod presets;
pub mod reference;
pub mod requests;
pub mod visibility;

use std::collections::HashMap;
use std::sync::Arc;

use tracing::info;
use uuid::Uuid;

use crate::catalogue::cache::{ListingGeneration, TrackedStore, WriteGeneration};
use crate::catalogue::fields::{ImageStatus, ImageType, ProjectId, Visibility};
use crate::catalogue::inventory::RegistryState;
use crate::catalogue::model::{Group, GroupChanges, GroupQuery, Image, ImageQuery, Listing};
use crate::catalogue::requests::{NewImage, QueryParams};
use crate::catalogue::visibility::{group_not_found, image_not_found, readable, writable, writable_group};
use crate::clock::now_ms;
use crate::error::Result;
use crate::registry::Registry;
use crate::storage::Store;

/// The catalogue's operations over a store and, when configured, a registry.
#[derive(Clone)]
pub struct Catalogue {
    store: Arc<dyn Store>,
    default_registry_host: String,
    registry: Option<RegistryLink>,
    /// Advanced after every write, so cached listings can tell they are stale.
    writes: Arc<WriteGeneration>,
}

/// The registry the catalogue checks references against, and its rules.
#[derive(Clone)]
pub struct RegistryLink {
    pub registry: Arc<dyn Registry>,
    /// Images larger than this, config plus layers in bytes, are rejected at register.
    pub max_image_size_bytes: u64,
    /// Which project a push to each registry namespace registers images for.
    pub namespaces: HashMap<String, ProjectId>,
}

fn parse_id(id: &str) -> Option<Uuid> {
    Uuid::parse_str(id).ok()
}

impl Catalogue {
    /// Creates a catalogue; references without a host get `default_registry_host`.
    pub fn new(store: Arc<dyn Store>, default_registry_host: String) -> Self {
        let writes = Arc::new(WriteGeneration::default());
        let store = Arc::new(TrackedStore::new(store, writes.clone()));
        Catalogue { store, default_registry_host, registry: None, writes }
    }

    /// Returns the generation of the writes so far: this catalogue's own and
    /// those other processes sharing the store announced. A listing read after
    /// it was returned stays current until it changes.
    pub async fn listing_generation(&self) -> Result<ListingGeneration> {
        let local = self.writes.current();
        let shared = self.store.shared_writes().await?;
        Ok(ListingGeneration { local, shared })
    }

    /// Puts a registry behind the catalogue: references must name it, and
    /// register, sync and forced deletes consult it. References without a
    /// host then get the registry's host.
    pub fn with_registry(self, link: RegistryLink) -> Self {
        let default_registry_host = link.registry.host().to_owned();
        Catalogue { default_registry_host, registry: Some(link), ..self }
    }

    /// Returns the registry host implied by references that name none.
    pub fn default_registry_host(&self) -> &str {
        &self.default_registry_host
    }

    /// Registers a dedicated image for the caller's project.
    /// With a registry, the manifest must be there and gives size, arch and digest.
    pub async fn register_image(&self, caller: &ProjectId, request: NewImage) -> Result<Image> {
        let state = match &self.registry {
            Some(link) => self.check_in_registry(link, &request.reference, request.arch).await?,
            None => RegistryState { size: 0, arch: request.arch, digest: request.reference.digest.clone() },
        };
        self.insert_registered(caller, request, state).await
    }

    async fn insert_registered(&self, caller: &ProjectId, request: NewImage, state: RegistryState) -> Result<Image> {
        let now = now_ms();
        let reference = request.reference;
        let image = Image {
            id: Uuid::new_v4(),
            project_id: Some(caller.to_string()),
            workspace_id: request.workspace_id.as_str().to_owned(),
            group_id: Uuid::nil(),
            image_type: ImageType::Dedicated,
            swr_path: reference.to_string(),
            namespace: reference.namespace,
            name: reference.name,
            tag: reference.tag,
            digest: state.digest,
            arch: state.arch,
            description: request.description,
            origin: request.origin,
            resource_categories: request.resource_categories,
            service_type: request.service_type,
            dev_services: request.dev_services,
            visibility: request.visibility,
            status: ImageStatus::Active,
            status_message: String::new(),
            flavor_type: request.flavor_type,
            swr_instance_id: request.swr_instance_id,
            show_name: None,
            show_tag: None,
            tags: request.tags,
            read_me: request.read_me,
            size: i64::try_from(state.size).unwrap_or(i64::MAX),
            create_at: now,
            update_at: now,
        };

        let image = self.store.insert_image(&image).await?;
        info!(image.id = %image.id, project.id = %caller, image.swr_path = %image.swr_path, "image registered");
        Ok(image)
    }

    /// Lists the caller's images in one workspace together with the built-in ones.
    pub async fn list_images(&self, caller: &ProjectId, params: &QueryParams) -> Result<Listing<Image>> {
        let query = ImageQuery::parse(caller.clone(), params)?;
        let page = self.store.list_images(&query).await?;
        Ok(Listing::new(page, query.page))
    }

    /// Shows one image the caller may read.
    pub async fn show_image(&self, caller: &ProjectId, id: &str) -> Result<Image> {
        let image = self.find_image(id).await?;
        readable(image, caller)
    }

    /// Deletes one of the caller's images. Returns it with status `DELETED`.
    /// `force` on a private image deletes its manifest from the registry
    /// first; with no registry configured there is nothing more to delete.
    pub async fn delete_image(&self, caller: &ProjectId, id: &str, force: bool) -> Result<Image> {
        let image = writable(self.find_image(id).await?, caller)?;

        if let (true, Some(link)) = (force, &self.registry) {
            if image.visibility == Visibility::Private {
                self.delete_manifest(link, &image).await?;
            }
        }

        let deleted = self.store.delete_image(image.id, now_ms()).await?.ok_or_else(|| image_not_found(id))?;
        info!(image.id = %deleted.id, project.id = %caller, delete.force = force, "image deleted");
        Ok(deleted)
    }

    /// Re-reads an image from the registry: `ACTIVE` with fresh size, arch
    /// and digest when the manifest is there, `ERROR` when it is not. With no
    /// registry configured the image is returned as it stands.
    pub async fn sync_image(&self, caller: &ProjectId, id: &str) -> Result<Image> {
        let image = writable(self.find_image(id).await?, caller)?;
        let Some(link) = &self.registry else { return Ok(image) };

        let synced = self.read_back(link, image).await?;
        let updated = self.store.update_image_state(&synced, now_ms()).await?.ok_or_else(|| image_not_found(id))?;
        info!(
            image.id = %updated.id,
            project.id = %caller,
            image.status = %updated.status,
            image.digest = ?updated.digest,
            "image synced"
        );
        Ok(updated)
    }

    /// Lists the groups of the caller's images in one workspace together with the built-in groups.
    pub async fn list_groups(&self, caller: &ProjectId, params: &QueryParams) -> Result<Listing<Group>> {
        let query = GroupQuery::parse(caller.clone(), params)?;
        let page = self.store.list_groups(&query).await?;
        Ok(Listing::new(page, query.page))
    }

    /// Updates the read-me and tags of one of the caller's groups.
    pub async fn update_group(&self, caller: &ProjectId, id: &str, changes: GroupChanges) -> Result<Group> {
        let group = writable_group(self.find_group(id).await?, caller)?;

        let updated = self
            .store
            .update_group(group.id, &changes, now_ms())
            .await?
            .ok_or_else(|| group_not_found(id))?;
        info!(group.id = %updated.id, project.id = %caller, "image group updated");
        Ok(updated)
    }

    /// Deletes every image of one of the caller's groups. Returns the group
    /// as it stood before, with the delete time as `update_at`.
    pub async fn delete_group(&self, caller: &ProjectId, id: &str, force: bool) -> Result<Group> {
        let group = writable_group(self.find_group(id).await?, caller)?;

        if let (true, Some(link)) = (force, &self.registry) {
            for image in self.group_images(caller, &group).await? {
                if image.visibility == Visibility::Private {
                    self.delete_manifest(link, &image).await?;
                }
            }
        }

        let now = now_ms();
        let deleted = self.store.delete_group(group.id, now).await?.ok_or_else(|| group_not_found(id))?;
        info!(
            group.id = %deleted.group.id,
            project.id = %caller,
            group.deleted_images = deleted.images.len(),
            delete.force = force,
            "image group deleted"
        );
        Ok(Group { update_at: now, ..deleted.group })
    }

    async fn find_image(&self, id: &str) -> Result<Image> {
        let uuid = parse_id(id).ok_or_else(|| image_not_found(id))?;
        self.store.find_image(uuid).await?.ok_or_else(|| image_not_found(id))
    }

    async fn find_group(&self, id: &str) -> Result<Group> {
        let uuid = parse_id(id).ok_or_else(|| group_not_found(id))?;
        self.store.find_group(uuid).await?.ok_or_else(|| group_not_found(id))
    }
}
