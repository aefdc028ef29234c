//! The catalogue's use of the registry: resolving a reference to the
//! manifest it names for one arch, and deleting manifests.

use tracing::info;

use crate::catalogue::fields::{Arch, ImageStatus, ImageType, ProjectId, SortDir, WorkspaceId};
use crate::catalogue::model::{Group, Image, ImageQuery, NameFilter, PageRequest};
use crate::catalogue::reference::Reference;
use crate::catalogue::{Catalogue, RegistryLink};
use crate::error::{Error, Result};
use crate::registry::{oci_architecture, Manifest};

const FIELD: &str = "swr_path";
const PAGE_LIMIT: u32 = 1000;

/// The registry's description of a reference: the fields an image takes from it.
#[derive(Debug, Clone)]
pub(crate) struct RegistryState {
    /// Compressed bytes, config plus layers.
    pub size: u64,
    pub arch: Arch,
    /// The digest the reference resolves to: the index's digest for a multi-arch image.
    pub digest: Option<String>,
}

/// The reason a reference has no usable image in the registry.
#[derive(Debug, Clone)]
pub(crate) enum Missing {
    /// No manifest for the reference.
    Manifest(String),
    /// A manifest exists but is not usable: an arch easel cannot describe, or
    /// an index without the requested arch.
    Unusable(String),
}

impl Missing {
    fn message(&self) -> &str {
        match self {
            Missing::Manifest(message) | Missing::Unusable(message) => message,
        }
    }
}

impl Catalogue {
    /// Checks a reference to register: it must name the configured registry,
    /// exist there for `arch` and fit under the size limit.
    pub(crate) async fn check_in_registry(
        &self,
        link: &RegistryLink,
        reference: &Reference,
        arch: Arch,
    ) -> Result<RegistryState> {
        check_host(link, reference)?;

        let state = match self.resolve(link, reference, Some(arch)).await? {
            Ok(state) => state,
            Err(Missing::Manifest(message)) => return Err(Error::ImageNotInRegistry(message)),
            Err(Missing::Unusable(message)) => return Err(Error::field(FIELD, message)),
        };
        if state.size > link.max_image_size_bytes {
            return Err(Error::field(
                FIELD,
                format!(
                    "'{reference}' is {} bytes (config plus layers), larger than the maximum of {} bytes set by --max-image-size-bytes",
                    state.size, link.max_image_size_bytes
                ),
            ));
        }
        Ok(state)
    }

    /// Reads an image's manifest again and returns the image as the registry
    /// now describes it: `ACTIVE` with fresh fields, or `ERROR` saying why.
    pub(crate) async fn read_back(&self, link: &RegistryLink, image: Image) -> Result<Image> {
        let reference = Reference::parse(&image.swr_path, &self.default_registry_host)?;
        if check_host(link, &reference).is_err() {
            let message = format!(
                "{} is not in the registry at {}, so it cannot be synced.",
                image.swr_path,
                link.registry.host()
            );
            return Ok(Image { status: ImageStatus::Error, status_message: message, ..image });
        }

        match self.resolve(link, &reference, Some(image.arch)).await? {
            Ok(state) => Ok(refreshed(image, &reference, state)),
            Err(missing) => {
                Ok(Image { status: ImageStatus::Error, status_message: missing.message().to_owned(), ..image })
            }
        }
    }

    /// Resolves a reference to the manifest for `arch`. Without `arch`, an
    /// index gives its X86_64 manifest when it has one, else its AARCH64 one.
    pub(crate) async fn resolve(
        &self,
        link: &RegistryLink,
        reference: &Reference,
        arch: Option<Arch>,
    ) -> Result<std::result::Result<RegistryState, Missing>> {
        let repository = reference.repository();
        let target = reference.digest.as_deref().unwrap_or(&reference.tag);
        let Some(manifest) = link.registry.fetch_manifest(&repository, target).await? else {
            return Ok(Err(Missing::Manifest(format!(
                "The registry has no manifest for {reference}; push the image first."
            ))));
        };

        let index = match manifest {
            Manifest::Image(image) => {
                let Some(image_arch) = image.arch() else {
                    return Ok(Err(unsupported_arch(reference, &image.architecture)));
                };
                return Ok(Ok(RegistryState {
                    size: positive(image.size),
                    arch: image_arch,
                    digest: Some(image.digest),
                }));
            }
            Manifest::Index(index) => index,
        };

        let chosen = arch.or_else(|| {
            [Arch::X86_64, Arch::Aarch64].into_iter().find(|candidate| index.manifest_for(*candidate).is_some())
        });
        let Some((chosen, child)) = chosen.and_then(|a| index.manifest_for(a).map(|d| (a, d.to_owned()))) else {
            return Ok(Err(Missing::Unusable(format!(
                "the image index of '{reference}' has no linux/{} manifest; it has {}",
                arch.map_or("amd64 or arm64", oci_architecture),
                describe_architectures(&index.architectures()),
            ))));
        };

        match link.registry.fetch_manifest(&repository, &child).await? {
            Some(Manifest::Image(image)) => {
                Ok(Ok(RegistryState { size: positive(image.size), arch: chosen, digest: Some(index.digest) }))
            }
            Some(Manifest::Index(_)) => Ok(Err(Missing::Unusable(format!(
                "the image index of '{reference}' points at another index for {}; easel reads one level of index only",
                oci_architecture(chosen)
            )))),
            None => Ok(Err(Missing::Manifest(format!(
                "The registry at {} has the index of {reference} but not its {} manifest {child}.",
                link.registry.host(),
                oci_architecture(chosen)
            )))),
        }
    }

    /// Deletes an image's manifest from the registry, by digest. An image
    /// whose manifest is already gone, or that names another registry, has
    /// nothing to delete.
    pub(crate) async fn delete_manifest(&self, link: &RegistryLink, image: &Image) -> Result<()> {
        let reference = Reference::parse(&image.swr_path, &self.default_registry_host)?;
        if check_host(link, &reference).is_err() {
            return Ok(());
        }
        let repository = reference.repository();
        let digest = match &image.digest {
            Some(digest) => digest.clone(),
            None => match link.registry.fetch_manifest(&repository, &reference.tag).await? {
                Some(manifest) => manifest.digest().to_owned(),
                None => return Ok(()),
            },
        };

        let deleted = link.registry.delete_manifest(&repository, &digest).await?;
        info!(image.id = %image.id, registry.repository = %repository, registry.digest = %digest, registry.deleted = deleted, "manifest deleted from the registry");
        Ok(())
    }

    /// Lists every non-deleted image of one of the caller's groups.
    pub(crate) async fn group_images(&self, caller: &ProjectId, group: &Group) -> Result<Vec<Image>> {
        let workspace = WorkspaceId::parse("workspace_id", &group.workspace_id)?;
        self.repository_images(caller, workspace, &group.namespace, &group.name).await
    }

    /// Lists a project's non-deleted dedicated images of one repository in one workspace.
    pub(crate) async fn repository_images(
        &self,
        project: &ProjectId,
        workspace: WorkspaceId,
        namespace: &str,
        name: &str,
    ) -> Result<Vec<Image>> {
        let mut query = ImageQuery {
            project_id: project.clone(),
            workspace_id: workspace,
            name: Some(NameFilter::Exact(name.to_ascii_lowercase())),
            namespace: Some(namespace.to_owned()),
            service_type: None,
            image_type: Some(ImageType::Dedicated),
            show_name: None,
            show_tag: None,
            sort_keys: Vec::new(),
            sort_dir: SortDir::Desc,
            page: PageRequest { limit: PAGE_LIMIT, offset: 0 },
        };
        let mut images = Vec::new();
        loop {
            let page = self.store.list_images(&query).await?;
            let count = page.items.len();
            images.extend(page.items.into_iter().filter(|image| image.name == name));
            if count < PAGE_LIMIT as usize {
                return Ok(images);
            }
            query.page.offset += u64::from(PAGE_LIMIT);
        }
    }
}

fn check_host(link: &RegistryLink, reference: &Reference) -> Result<()> {
    let registry_host = link.registry.host();
    if reference.host == registry_host {
        return Ok(());
    }
    Err(Error::field(
        FIELD,
        format!(
            "'{reference}' names the registry '{}', but easel catalogues the registry at '{registry_host}'; \
             omit the host or use {registry_host}",
            reference.host
        ),
    ))
}

/// Returns the image with the registry's fields, `ACTIVE`, noting a tag that
/// now points at other content than when it was last read.
pub(crate) fn refreshed(image: Image, reference: &Reference, state: RegistryState) -> Image {
    let status_message = match (&image.digest, &state.digest) {
        (Some(old), Some(new)) if old != new && reference.digest.is_none() => {
            format!("The tag {} now points at {new}; it pointed at {old} when last read.", reference.tag)
        }
        _ => String::new(),
    };
    Image {
        status: ImageStatus::Active,
        status_message,
        size: i64::try_from(state.size).unwrap_or(i64::MAX),
        arch: state.arch,
        digest: state.digest,
        ..image
    }
}

fn unsupported_arch(reference: &Reference, architecture: &str) -> Missing {
    Missing::Unusable(format!(
        "'{reference}' is built for '{architecture}'; easel supports amd64 (X86_64) and arm64 (AARCH64)"
    ))
}

fn describe_architectures(architectures: &[&str]) -> String {
    if architectures.is_empty() {
        "no platform entries".to_owned()
    } else {
        architectures.join(", ")
    }
}

/// Descriptor sizes are never negative in a valid manifest; a negative sum counts as unknown.
fn positive(size: i64) -> u64 {
    u64::try_from(size).unwrap_or(0)
}
