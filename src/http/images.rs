//! Handlers of the image operations: register, list, show, delete, sync.

use axum::extract::State;
use axum::Json;

use crate::catalogue::model::Listing;
use crate::catalogue::requests::{DeleteInput, NewImage, RegisterImageInput};
use crate::error::Result;
use crate::http::extract::{Caller, JsonBody, OptionalJsonBody, Params, ResourceId};
use crate::http::wire::ImageBody;
use crate::http::AppState;

/// RegisterImage: `POST /v1/{project_id}/images`.
pub async fn register(
    State(state): State<AppState>,
    Caller(caller): Caller,
    JsonBody(input): JsonBody<RegisterImageInput>,
) -> Result<Json<ImageBody>> {
    let request = NewImage::parse(input, state.catalogue.default_registry_host())?;

    let image = state.catalogue.register_image(&caller, request).await?;

    Ok(Json(image.into()))
}

/// ListImage: `GET /v1/{project_id}/images`.
pub async fn list(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Params(params): Params,
) -> Result<Json<Listing<ImageBody>>> {
    let listing = state.catalogue.list_images(&caller, &params).await?;

    Ok(Json(listing.map(ImageBody::from)))
}

/// ShowImage: `GET /v1/{project_id}/images/{id}`.
pub async fn show(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ResourceId(id): ResourceId,
) -> Result<Json<ImageBody>> {
    let image = state.catalogue.show_image(&caller, &id).await?;

    Ok(Json(image.into()))
}

/// DeleteImage: `DELETE /v1/{project_id}/images/{id}`.
pub async fn delete(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ResourceId(id): ResourceId,
    OptionalJsonBody(input): OptionalJsonBody<DeleteInput>,
) -> Result<Json<ImageBody>> {
    let force = input.is_force.unwrap_or(false);

    let image = state.catalogue.delete_image(&caller, &id, force).await?;

    Ok(Json(image.into()))
}

/// SyncImage: `POST /v1/{project_id}/images/{image_id}/sync`.
pub async fn sync(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ResourceId(id): ResourceId,
) -> Result<Json<ImageBody>> {
    let image = state.catalogue.sync_image(&caller, &id).await?;

    Ok(Json(image.into()))
}
