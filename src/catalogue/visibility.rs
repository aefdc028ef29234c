//! Who may read and who may change an image or a group.
//!
//! Built-in images are readable by every project and changeable by none.
//! A dedicated image is changeable by its own project only; another project
//! may read it by id when it is public, and otherwise never learns it exists.

use crate::catalogue::fields::{ImageType, ProjectId, Visibility};
use crate::catalogue::model::{Group, Image};
use crate::error::{Error, Result};

fn owned_by(owner: Option<&str>, caller: &ProjectId) -> bool {
    owner == Some(caller.as_str())
}

/// Returns the image when the caller may read it, else `NotFound`.
pub fn readable(image: Image, caller: &ProjectId) -> Result<Image> {
    let visible = image.image_type == ImageType::BuildIn
        || owned_by(image.project_id.as_deref(), caller)
        || image.visibility == Visibility::Public;
    if visible {
        Ok(image)
    } else {
        Err(image_not_found(&image.id.to_string()))
    }
}

/// Returns the image when the caller may change it: `ReadOnly` when the
/// caller may only read it, `NotFound` when it may not even read it.
pub fn writable(image: Image, caller: &ProjectId) -> Result<Image> {
    if image.image_type == ImageType::Dedicated && owned_by(image.project_id.as_deref(), caller) {
        return Ok(image);
    }
    let image = readable(image, caller)?;
    Err(Error::ReadOnly(format!(
        "Image {} is {} and cannot be changed by project {caller}.",
        image.id,
        if image.image_type == ImageType::BuildIn { "built-in" } else { "owned by another project" },
    )))
}

/// Returns the group when the caller may change it.
pub fn writable_group(group: Group, caller: &ProjectId) -> Result<Group> {
    if owned_by(group.project_id.as_deref(), caller) {
        Ok(group)
    } else if group.image_type == ImageType::BuildIn {
        Err(Error::ReadOnly(format!("Image group {} is built-in and cannot be changed.", group.id)))
    } else {
        Err(group_not_found(&group.id.to_string()))
    }
}

/// Builds the error for an image id that matches nothing the caller may see.
pub fn image_not_found(id: &str) -> Error {
    Error::NotFound(format!(
        "Image '{}' does not exist or is not visible to this project.",
        crate::catalogue::fields::truncate_for_message(id)
    ))
}

/// Builds the error for a group id that matches nothing the caller may see.
pub fn group_not_found(id: &str) -> Error {
    Error::NotFound(format!(
        "Image group '{}' does not exist or is not visible to this project.",
        crate::catalogue::fields::truncate_for_message(id)
    ))
}
