//! The endpoint the registry posts its notifications to. It sits outside
//! `/v1/{project_id}` and takes the configured shared secret instead of an
//! AK/SK signature or token, because the registry can send only a static header.

use axum::body::{to_bytes, Body};
use axum::extract::State;
use axum::http::header::AUTHORIZATION;
use axum::http::{HeaderMap, StatusCode};
use subtle::ConstantTimeEq;
use tracing::info;

use crate::catalogue::events::EventOutcome;
use crate::error::{Error, Result};
use crate::http::error::ErrorBody;
use crate::http::AppState;
use crate::registry::events::Envelope;

/// Registry notifications: `POST /registry/events`, the distribution
/// registry's `notifications` endpoint.
#[utoipa::path(
    post,
    path = "/registry/events",
    operation_id = "ReceiveRegistryEvents",
    tag = "service",
    summary = "Receive the registry's notifications",
    description = "The distribution registry's notification endpoint: manifest pushes and deletes in mapped namespaces update the catalogue. Served only when easel runs with --registry-events-secret.",
    request_body(content = Object, description = "The registry's notification envelope, `{\"events\": [...]}`; fields easel does not read are ignored.", content_type = "application/json"),
    responses(
        (status = 200, description = "The events were applied or ignored."),
        (status = 400, description = "ModelArts.6400: the body is not a notification envelope.", body = ErrorBody),
        (status = 401, description = "ModelArts.0203: the Authorization header does not carry the configured secret.", body = ErrorBody),
        (status = 404, description = "ModelArts.6797: easel runs without --registry-events-secret.", body = ErrorBody),
        (status = 413, description = "ModelArts.0101: the body is larger than the configured limit.", body = ErrorBody),
        (status = 503, description = "ModelArts.6699: the database is unreachable.", body = ErrorBody),
        (status = 500, description = "ModelArts.0010: an internal error; the service log has the cause.", body = ErrorBody),
    ),
    security(("registry_events" = []))
)]
pub async fn receive(State(state): State<AppState>, headers: HeaderMap, body: Body) -> Result<StatusCode> {
    let Some(secret) = state.registry_events_secret.as_deref() else {
        return Err(Error::NotFound(
            "No API operation at POST /registry/events: start easel with --registry-events-secret to receive registry events."
                .into(),
        ));
    };
    check_secret(&headers, secret)?;

    let bytes =
        to_bytes(body, state.body_limit_bytes).await.map_err(|_| Error::BodyTooLarge(state.body_limit_bytes))?;
    let envelope: Envelope = serde_json::from_slice(&bytes)
        .map_err(|err| Error::InvalidBody(format!("The body is not a registry event envelope: {err}.")))?;

    let mut applied = 0;
    for notification in &envelope.events {
        let Some(event) = notification.manifest_event() else { continue };
        let outcome = state.catalogue.apply_registry_event(&event).await?;
        if outcome != EventOutcome::Unchanged {
            applied += 1;
        }
    }
    info!(registry.events = envelope.events.len(), registry.events_applied = applied, "registry events received");

    Ok(StatusCode::OK)
}

fn check_secret(headers: &HeaderMap, secret: &str) -> Result<()> {
    let sent = headers.get(AUTHORIZATION).map(|value| value.as_bytes()).unwrap_or_default();
    let expected = format!("Bearer {secret}");
    // Compared in constant time, so the answer's timing does not reveal how
    // much of the secret matched.
    if bool::from(sent.ct_eq(expected.as_bytes())) {
        Ok(())
    } else {
        Err(Error::EventSecretRejected)
    }
}
