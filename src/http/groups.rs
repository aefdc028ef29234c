//! Handlers of the image group operations: list, update, delete.

use axum::extract::{RawQuery, State};
use axum::response::Response;
use axum::Json;

use crate::catalogue::model::{GroupChanges, Listing};
use crate::catalogue::requests::{DeleteInput, UpdateGroupInput};
use crate::error::Result;
use crate::http::error::ErrorBody;
use crate::http::extract::{Caller, JsonBody, OptionalJsonBody, Params, ResourceId};
use crate::http::params::GroupListParams;
use crate::http::wire::GroupBody;
use crate::http::{cached_listing, AppState};

/// ListImageGroup: `GET /v1/{project_id}/images/group`.
#[utoipa::path(
    get,
    path = "/v1/{project_id}/images/group",
    operation_id = "ListImageGroup",
    tag = "groups",
    summary = "List image groups",
    description = "Lists the groups visible to the project in one workspace, ordered by `update_at` descending, then `namespace` and `name`. A group is every visible image sharing a scope, a namespace and a name.",
    params(("project_id" = String, Path, description = "The project: 32 lower-case hexadecimal characters."), GroupListParams),
    responses(
        (status = 200, description = "One page of groups.", body = Listing<GroupBody>),
        (status = 400, description = "ModelArts.0101: a query parameter is malformed, out of range or given twice. ModelArts.0210: the project id is malformed.", body = ErrorBody),
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
        let listing = state.catalogue.list_groups(&caller, &params).await?;
        Ok(listing.map(GroupBody::from))
    };

    cached_listing(&state.listings, &state.listings.groups, &state.catalogue, &caller, query.as_deref(), load).await
}

/// UpdateImageGroup: `PUT /v1/{project_id}/images/group/{id}`.
#[utoipa::path(
    put,
    path = "/v1/{project_id}/images/group/{id}",
    operation_id = "UpdateImageGroup",
    tag = "groups",
    summary = "Update an image group",
    description = "Sets the group's `read_me` and replaces its tags; absent fields are left as they are.",
    params(
        ("project_id" = String, Path, description = "The project: 32 lower-case hexadecimal characters."),
        ("id" = uuid::Uuid, Path, description = "The group id."),
    ),
    request_body = UpdateGroupInput,
    responses(
        (status = 200, description = "The updated group.", body = GroupBody),
        (status = 400, description = "ModelArts.0101: a field is malformed or out of range. ModelArts.6400: the body is not a JSON object. ModelArts.0210: the project id is malformed.", body = ErrorBody),
        (status = 401, description = "ModelArts.0201, 0202, 0203 or 0206: the credential is missing or was rejected.", body = ErrorBody),
        (status = 403, description = "ModelArts.0210: the credential belongs to another project. ModelArts.0108: the group is built-in.", body = ErrorBody),
        (status = 404, description = "ModelArts.6797: no group with this id is visible to the caller.", body = ErrorBody),
        (status = 413, description = "ModelArts.0101: the body is larger than the configured limit.", body = ErrorBody),
        (status = 503, description = "ModelArts.6699: the database is unreachable; nothing was changed.", body = ErrorBody),
        (status = 500, description = "ModelArts.0010: an internal error; the service log has the cause.", body = ErrorBody),
    ),
    security(("ak_sk" = []), ("token" = []))
)]
pub async fn update(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ResourceId(id): ResourceId,
    JsonBody(input): JsonBody<UpdateGroupInput>,
) -> Result<Json<GroupBody>> {
    let changes = GroupChanges::parse(input)?;

    let group = state.catalogue.update_group(&caller, &id, changes).await?;

    Ok(Json(group.into()))
}

/// DeleteImageGroup: `DELETE /v1/{project_id}/images/group/{id}`.
#[utoipa::path(
    delete,
    path = "/v1/{project_id}/images/group/{id}",
    operation_id = "DeleteImageGroup",
    tag = "groups",
    summary = "Delete an image group",
    description = "Deletes every image of the group as the image delete does. The body is optional.",
    params(
        ("project_id" = String, Path, description = "The project: 32 lower-case hexadecimal characters."),
        ("id" = uuid::Uuid, Path, description = "The group id."),
    ),
    request_body(content = Option<DeleteInput>, description = "Optional; an empty body means `is_force: false`."),
    responses(
        (status = 200, description = "The group as it was before the delete.", body = GroupBody),
        (status = 400, description = "ModelArts.0101 or 6400: the body is malformed. ModelArts.0210: the project id is malformed.", body = ErrorBody),
        (status = 401, description = "ModelArts.0201, 0202, 0203 or 0206: the credential is missing or was rejected.", body = ErrorBody),
        (status = 403, description = "ModelArts.0210: the credential belongs to another project. ModelArts.0108: the group is built-in.", body = ErrorBody),
        (status = 404, description = "ModelArts.6797: no group with this id is visible to the caller.", body = ErrorBody),
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
) -> Result<Json<GroupBody>> {
    let force = input.is_force.unwrap_or(false);

    let group = state.catalogue.delete_group(&caller, &id, force).await?;

    Ok(Json(group.into()))
}
