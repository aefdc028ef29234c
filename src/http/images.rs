//! Handlers of the image operations: register, list, show, delete, sync.

use axum::extract::{RawQuery, State};
use axum::response::Response;
use axum::Json;

use crate::catalogue::model::Listing;
use crate::catalogue::requests::{DeleteInput, NewImage, RegisterImageInput};
use crate::error::Result;
use crate::http::error::ErrorBody;
use crate::http::extract::{Caller, JsonBody, OptionalJsonBody, Params, ResourceId};
use crate::http::params::ImageListParams;
use crate::http::wire::ImageBody;
use crate::http::{cached_listing, AppState};

/// RegisterImage: `POST /v1/{project_id}/images`.
#[utoipa::path(
    post,
    path = "/v1/{project_id}/images",
    operation_id = "RegisterImage",
    tag = "images",
    summary = "Register an image",
    description = "Registers one tagged image of the registry for the caller's project. The same `swr_path` twice in one project is rejected with ModelArts.6737.",
    params(("project_id" = String, Path, description = "The project: 32 lower-case hexadecimal characters.")),
    request_body = RegisterImageInput,
    responses(
        (status = 200, description = "The registered image, `type` DEDICATED and `status` ACTIVE.", body = ImageBody),
        (status = 400, description = "ModelArts.0101: a field is malformed or out of range. ModelArts.6400: the body is not a JSON object. ModelArts.0210: the project id is malformed. ModelArts.6737: the project already has this `swr_path`. ModelArts.2810: the registry has no such manifest.", body = ErrorBody),
        (status = 401, description = "ModelArts.0201: no credentials. ModelArts.0202: the token has expired. ModelArts.0203: the token is unknown. ModelArts.0206: the signature was rejected.", body = ErrorBody),
        (status = 403, description = "ModelArts.0210: the credential belongs to another project.", body = ErrorBody),
        (status = 413, description = "ModelArts.0101: the body is larger than the configured limit.", body = ErrorBody),
        (status = 503, description = "ModelArts.6699: the registry or database is unreachable; nothing was changed.", body = ErrorBody),
        (status = 500, description = "ModelArts.0010: an internal error; the service log has the cause.", body = ErrorBody),
    ),
    security(("ak_sk" = []), ("token" = []))
)]
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
#[utoipa::path(
    get,
    path = "/v1/{project_id}/images",
    operation_id = "ListImage",
    tag = "images",
    summary = "List images",
    description = "Lists the project's dedicated images and the built-in images of one workspace, one page at a time.",
    params(("project_id" = String, Path, description = "The project: 32 lower-case hexadecimal characters."), ImageListParams),
    responses(
        (status = 200, description = "One page of images.", body = Listing<ImageBody>),
        (status = 400, description = "ModelArts.0101: a query parameter is malformed, out of range or given twice. ModelArts.6303: `sort_key` names a field that cannot be sorted. ModelArts.0210: the project id is malformed.", body = ErrorBody),
        (status = 401, description = "ModelArts.0201, 0202, 0203 or 0206: the credential is missing or was rejected.", body = ErrorBody),
        (status = 403, description = "ModelArts.0210: the credential belongs to another project.", body = ErrorBody),
        (status = 503, description = "ModelArts.6699: the database is unreachable.", body = ErrorBody),
        (status = 500, description = "ModelArts.0010: an internal error; the service log has the cause.", body = ErrorBody),
    ),
    security(("ak_sk" = []), ("token" = []))
)]
pub async fn list(
    State(state): State<AppState>,
    Caller(caller): Caller,
    RawQuery(query): RawQuery,
    Params(params): Params,
) -> Result<Response> {
    let load = async {
        let listing = state.catalogue.list_images(&caller, &params).await?;
        Ok(listing.map(ImageBody::from))
    };

    cached_listing(&state.listings, &state.listings.images, &state.catalogue, &caller, query.as_deref(), load).await
}

/// ShowImage: `GET /v1/{project_id}/images/{id}`.
#[utoipa::path(
    get,
    path = "/v1/{project_id}/images/{id}",
    operation_id = "ShowImage",
    tag = "images",
    summary = "Show an image",
    description = "Returns one image: the project's own, a built-in one, or another project's PUBLIC image.",
    params(
        ("project_id" = String, Path, description = "The project: 32 lower-case hexadecimal characters."),
        ("id" = uuid::Uuid, Path, description = "The image id."),
    ),
    responses(
        (status = 200, description = "The image.", body = ImageBody),
        (status = 400, description = "ModelArts.0210: the project id is malformed.", body = ErrorBody),
        (status = 401, description = "ModelArts.0201, 0202, 0203 or 0206: the credential is missing or was rejected.", body = ErrorBody),
        (status = 403, description = "ModelArts.0210: the credential belongs to another project.", body = ErrorBody),
        (status = 404, description = "ModelArts.6797: no image with this id is visible to the caller.", body = ErrorBody),
        (status = 503, description = "ModelArts.6699: the database is unreachable.", body = ErrorBody),
        (status = 500, description = "ModelArts.0010: an internal error; the service log has the cause.", body = ErrorBody),
    ),
    security(("ak_sk" = []), ("token" = []))
)]
pub async fn show(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ResourceId(id): ResourceId,
) -> Result<Json<ImageBody>> {
    let image = state.catalogue.show_image(&caller, &id).await?;

    Ok(Json(image.into()))
}

/// DeleteImage: `DELETE /v1/{project_id}/images/{id}`.
#[utoipa::path(
    delete,
    path = "/v1/{project_id}/images/{id}",
    operation_id = "DeleteImage",
    tag = "images",
    summary = "Delete an image",
    description = "Marks the image deleted; afterwards it is gone from show, lists and groups. The body is optional.",
    params(
        ("project_id" = String, Path, description = "The project: 32 lower-case hexadecimal characters."),
        ("id" = uuid::Uuid, Path, description = "The image id."),
    ),
    request_body(content = Option<DeleteInput>, description = "Optional; an empty body means `is_force: false`."),
    responses(
        (status = 200, description = "The image as deleted, `status` DELETED.", body = ImageBody),
        (status = 400, description = "ModelArts.0101 or 6400: the body is malformed. ModelArts.0210: the project id is malformed.", body = ErrorBody),
        (status = 401, description = "ModelArts.0201, 0202, 0203 or 0206: the credential is missing or was rejected.", body = ErrorBody),
        (status = 403, description = "ModelArts.0210: the credential belongs to another project. ModelArts.0108: the image is built-in or another project's public image.", body = ErrorBody),
        (status = 404, description = "ModelArts.6797: no image with this id is visible to the caller.", body = ErrorBody),
        (status = 413, description = "ModelArts.0101: the body is larger than the configured limit.", body = ErrorBody),
        (status = 503, description = "ModelArts.6699: the registry or database is unreachable; nothing was changed.", body = ErrorBody),
        (status = 500, description = "ModelArts.0010: an internal error; the service log has the cause.", body = ErrorBody),
    ),
    security(("ak_sk" = []), ("token" = []))
)]
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
#[utoipa::path(
    post,
    path = "/v1/{project_id}/images/{id}/sync",
    operation_id = "SyncImage",
    tag = "images",
    summary = "Synchronize an image with the registry",
    description = "Re-reads the manifest: found gives ACTIVE with fresh `size` and `arch`; missing gives ERROR with a `status_message` that says so.",
    params(
        ("project_id" = String, Path, description = "The project: 32 lower-case hexadecimal characters."),
        ("id" = uuid::Uuid, Path, description = "The image id."),
    ),
    responses(
        (status = 200, description = "The image after the check.", body = ImageBody),
        (status = 400, description = "ModelArts.0210: the project id is malformed.", body = ErrorBody),
        (status = 401, description = "ModelArts.0201, 0202, 0203 or 0206: the credential is missing or was rejected.", body = ErrorBody),
        (status = 403, description = "ModelArts.0210: the credential belongs to another project. ModelArts.0108: the image is built-in or another project's public image.", body = ErrorBody),
        (status = 404, description = "ModelArts.6797: no image with this id is visible to the caller.", body = ErrorBody),
        (status = 503, description = "ModelArts.6699: the registry or database is unreachable; nothing was changed.", body = ErrorBody),
        (status = 500, description = "ModelArts.0010: an internal error; the service log has the cause.", body = ErrorBody),
    ),
    security(("ak_sk" = []), ("token" = []))
)]
pub async fn sync(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ResourceId(id): ResourceId,
) -> Result<Json<ImageBody>> {
    let image = state.catalogue.sync_image(&caller, &id).await?;

    Ok(Json(image.into()))
}
