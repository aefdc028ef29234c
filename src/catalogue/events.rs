//! Registry events applied to the catalogue: a tagged push in a mapped
//! namespace registers or refreshes that image for the mapped project, and a
//! manifest delete marks the images at that digest `ERROR`.
//!
//! Each event is checked against the stored digest, the tag's current
//! digest and the image's last change before anything is written, so a
//! repeated or out-of-order event changes nothing the second time.

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

/// The result of applying one event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventOutcome {
    Registered,
    Refreshed,
    MarkedError,
    /// The event changes nothing the catalogue shows, or concerns a
    /// namespace mapped to no project.
    Unchanged,
}

/// The fields of a push event.
struct Push<'a> {
    repository: &'a str,
    tag: &'a str,
    digest: &'a str,
    timestamp_ms: Option<i64>,
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
            ManifestEvent::Pushed { repository, tag, digest, timestamp_ms } => {
                let push = Push { repository, tag, digest, timestamp_ms: *timestamp_ms };
                self.apply_push(link, project, push).await
            }
            ManifestEvent::Deleted { repository, digest } => self.apply_delete(project, repository, digest).await,
        }
    }

    async fn apply_push(&self, link: &RegistryLink, project: &ProjectId, push: Push<'_>) -> Result<EventOutcome> {
        let swr_path = format!("{}/{}:{}", link.registry.host(), push.repository, push.tag);
        let input = RegisterImageInput { swr_path: Some(swr_path.clone()), ..RegisterImageInput::default() };
        let request = match NewImage::parse(input, link.registry.host()) {
            Ok(request) => request,
            Err(err) => {
                warn!(registry.reference = %swr_path, error.message = %err, "pushed reference cannot be catalogued; event ignored");
                return Ok(EventOutcome::Unchanged);
            }
        };
        let existing = self.find_by_reference(project, &request.reference).await?;
        if let Some(image) = &existing {
            if image.status == ImageStatus::Active && image.digest.as_deref() == Some(push.digest) {
                return Ok(EventOutcome::Unchanged);
            }
            // An image registered with `@digest` names fixed content, which a new push of its tag does not change.
            if image.swr_path.contains('@') {
                return Ok(EventOutcome::Unchanged);
            }
        }

        // The manifest is read by the event's digest: distribution 2.8 sends
        // the event before it links the tag, so the tag may not resolve yet.
        let pinned = Reference { digest: Some(push.digest.to_owned()), ..request.reference.clone() };
        let state = match self.resolve(link, &pinned, existing.as_ref().map(|image| image.arch)).await? {
            Ok(state) => state,
            Err(missing) => {
                info!(registry.reference = %swr_path, reason = ?missing, "pushed manifest is gone or unusable; event ignored");
                return Ok(EventOutcome::Unchanged);
            }
        };

        match existing {
            Some(image) => {
                if !self.is_current(link, &request.reference, &image, &push).await? {
                    info!(image.id = %image.id, registry.digest = push.digest, "push event older than the image; event ignored");
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

    /// Decides whether a push of another digest than the image's is newer
    /// than what the image shows: the tag already points at it, or the event
    /// was sent after the image last changed.
    // NOTE: the time comparison assumes that the registry's clock and
    // easel's agree to within the time between two pushes of one tag. A
    // push that loses the comparison shows at the next sync.
    async fn is_current(
        &self,
        link: &RegistryLink,
        reference: &Reference,
        image: &Image,
        push: &Push<'_>,
    ) -> Result<bool> {
        let tagged = link.registry.fetch_manifest(&reference.repository(), &reference.tag).await?;
        if tagged.is_some_and(|manifest| manifest.digest() == push.digest) {
            return Ok(true);
        }
        Ok(push.timestamp_ms.is_some_and(|sent| sent > image.update_at))
    }

    async fn apply_delete(&self, project: &ProjectId, repository: &str, digest: &str) -> Result<EventOutcome> {
        let Some((namespace, name)) = repository.split_once('/') else { return Ok(EventOutcome::Unchanged) };
        // NOTE: only workspace "0", where pushed images are registered, is
        // searched. An image registered by hand into another workspace is
        // not marked, and shows the delete at its next sync.
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

    /// Finds the project's image of a tag, whether or not its `swr_path` pins a digest.
    async fn find_by_reference(&self, project: &ProjectId, reference: &Reference) -> Result<Option<Image>> {
        let tag_reference = reference.to_string();
        let images = self
            .repository_images(project, WorkspaceId::default_workspace(), &reference.namespace, &reference.name)
            .await?;
        Ok(images.into_iter().find(|image| image.swr_path.split('@').next() == Some(tag_reference.as_str())))
    }
}
