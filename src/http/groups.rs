//! Handlers of the image group operations: list, update, delete.

use axum::extract::State;
use axum::Json;

use crate::catalogue::model::{GroupChanges, Listing};
use crate::catalogue::requests::{DeleteInput, UpdateGroupInput};
use crate::error::Result;
use crate::http::extract::{Caller, JsonBody, OptionalJsonBody, Params, ResourceId};
use crate::http::wire::GroupBody;
use crate::http::AppState;

/// ListImageGroup: `GET /v1/{project_id}/images/group`.
pub async fn list(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Params(params): Params,
) -> Result<Json<Listing<GroupBody>>> {
    let listing = state.catalogue.list_groups(&caller, &params).await?;

    Ok(Json(listing.map(GroupBody::from)))
}

/// UpdateImageGroup: `PUT /v1/{project_id}/images/group/{id}`.
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
