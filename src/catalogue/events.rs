//! Registry events applied to the catalogue: a tagged push in a mapped
//! namespace registers or refreshes that image for the mapped project, and a
//! manifest delete marks the images at that digest `ERROR`.
//!
//! Each event is checked against the registry's current state and the
//! stored digest before anything is written, so a repeated or out-of-order
//! event changes nothing the second time.

use tracing::{debug, info, warn};

use crate::catalogue::fields::{ImageStatus, ProjectId, WorkspaceId};
use crate::catalogue::inventory::refreshed;
use crate::catalogue::model::Image;
use crate::catalogue::reference::Reference;
use crate::catalogue::requests::{NewImage, RegisterImageInput};
use crate::catalogue::{Catalogue, RegistryLink};
use crate::clock::now_ms;
use crate::error::{Error, Result};
use crate::registry::events::ManifestEvent;

/// What applying one event did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventOutcome {
    Registered,
    Refreshed,
    MarkedError,
    /// The event asks for nothing the catalogue does not already show, or
    /// concerns a namespace mapped to no project.
    Unchanged,
}

impl Catalogue {
    /// Applies one manifest event from the registry. Fails only when the
    /// registry or the store cannot be reached, so that the registry sends
    /// the event again.
    pub async fn apply_registry_event(&self, event: &ManifestEvent) -> Result<EventOutcome> {
        let Some(link) = &self.registry else { return Ok(EventOutcome::Unchanged) };
        let namespace = event.repository().split('/').next().unwrap_or_default();
        let Some(project) = link.namespaces.get(namespace) else {
            debug!(registry.repository = event.repository(), "event for an unmapped namespace ignored");
            return Ok(EventOutcome::Unchanged);
        };

        match event {
            ManifestEvent::Pushed { repository, tag, .. } => self.apply_push(link, project, repository, tag).await,
            ManifestEvent::Deleted { repository, digest } => self.apply_delete(project, repository, digest).await,
        }
    }

    async fn apply_push(&self, link: &RegistryLink, project: &ProjectId, repository: &str, tag: &str) -> Result<EventOutcome> {
        let swr_path = format!("{}/{repository}:{tag}", link.registry.host());
        let input = RegisterImageInput { swr_path: Some(swr_path.clone()), ..RegisterImageInput::default() };
        let request = match NewImage::parse(input, link.registry.host()) {
            Ok(request) => request,
            Err(err) => {
                warn!(registry.reference = %swr_path, error.message = %err, "pushed reference cannot be catalogued; event ignored");
                return Ok(EventOutcome::Unchanged);
            }
        };
        let existing = self.find_by_reference(project, &request.reference).await?;

        // The tag is read again rather than trusting the event's digest, so
        // an older event arriving late resolves to what the tag is now.
        let wanted_arch = existing.as_ref().map(|image| image.arch);
        let state = match self.resolve(link, &request.reference, wanted_arch).await? {
            Ok(state) => state,
            Err(missing) => {
                info!(registry.reference = %swr_path, reason = ?missing, "pushed tag no longer resolves; event ignored");
                return Ok(EventOutcome::Unchanged);
            }
        };

        match existing {
            Some(image) => {
                let unchanged = image.status == ImageStatus::Active
                    && image.digest == state.digest
                    && u64::try_from(image.size).ok() == Some(state.size);
                if unchanged {
                    return Ok(EventOutcome::Unchanged);
                }
                let image = refreshed(image, &request.reference, state);
                self.store.update_image_state(&image, now_ms()).await?;
                info!(image.id = %image.id, project.id = %project, image.digest = ?image.digest, "image refreshed from a registry push");
                Ok(EventOutcome::Refreshed)
            }
            None if state.size > link.max_image_size_bytes => {
                warn!(registry.reference = %swr_path, image.size_bytes = state.size, "pushed image is larger than the maximum; not registered");
                Ok(EventOutcome::Unchanged)
            }
            None => match self.insert_registered(project, request, state).await {
                Ok(_) => Ok(EventOutcome::Registered),
                // A concurrent delivery of the same push registered it first.
                Err(Error::DuplicateTag { .. }) => Ok(EventOutcome::Unchanged),
                Err(err) => Err(err),
            },
        }
    }

    async fn apply_delete(&self, project: &ProjectId, repository: &str, digest: &str) -> Result<EventOutcome> {
        let Some((namespace, name)) = repository.split_once('/') else { return Ok(EventOutcome::Unchanged) };
        // NOTE: only workspace "0", where pushed images are registered, is
        // searched; an image registered by hand into another workspace is
        // not marked and shows the delete on its next sync.
        let images = self.repository_images(project, WorkspaceId::default_workspace(), namespace, name).await?;

        let mut outcome = EventOutcome::Unchanged;
        for image in images {
            if image.digest.as_deref() != Some(digest) || image.status == ImageStatus::Error {
                continue;
            }
            let message = format!("The manifest {digest} of {} was deleted from the registry.", image.swr_path);
            let image = Image { status: ImageStatus::Error, status_message: message, ..image };
            self.store.update_image_state(&image, now_ms()).await?;
            info!(image.id = %image.id, project.id = %project, registry.digest = digest, "image marked ERROR after a manifest delete");
            outcome = EventOutcome::MarkedError;
        }
        Ok(outcome)
    }

    async fn find_by_reference(&self, project: &ProjectId, reference: &Reference) -> Result<Option<Image>> {
        let swr_path = reference.to_string();
        let images = self
            .repository_images(project, WorkspaceId::default_workspace(), &reference.namespace, &reference.name)
            .await?;
        Ok(images.into_iter().find(|image| image.swr_path == swr_path))
    }
}
