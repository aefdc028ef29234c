//! The HTTP layer: the route table, shared state and the layers every
//! request passes through (request id, request log).

pub mod auth;
pub mod error;
pub mod extract;
pub mod groups;
pub mod images;
pub mod registry_events;
pub mod wire;

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{HeaderName, Method, Response, Uri};
use axum::routing::{get, post, put};
use axum::{middleware, Router};
use tower::ServiceBuilder;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, RequestId, SetRequestIdLayer};
use tower_http::trace::TraceLayer;
use tracing::Span;

use crate::auth::Authenticator;
use crate::catalogue::Catalogue;
use crate::error::Error;

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    pub catalogue: Catalogue,
    pub authenticator: Arc<Authenticator>,
    /// Requests with a larger body get `413`.
    pub body_limit_bytes: usize,
    /// The secret the registry's notifications must carry; `None` turns `POST /registry/events` off.
    pub registry_events_secret: Option<Arc<str>>,
}

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Builds the router that serves the whole API.
pub fn router(state: AppState) -> Router {
    let api = Router::new()
        .route("/v1/{project_id}/images", get(images::list).post(images::register))
        .route("/v1/{project_id}/images/group", get(groups::list))
        .route("/v1/{project_id}/images/group/{id}", put(groups::update).delete(groups::delete))
        .route("/v1/{project_id}/images/{id}", get(images::show).delete(images::delete))
        .route("/v1/{project_id}/images/{id}/sync", post(images::sync))
        .route_layer(middleware::from_fn_with_state(state.clone(), auth::authenticate));

    Router::new()
        .merge(api)
        .route("/health", get(health))
        .route("/registry/events", post(registry_events::receive))
        .fallback(route_not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(state)
        .layer(DefaultBodyLimit::disable())
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
                .layer(TraceLayer::new_for_http().make_span_with(request_span).on_response(log_response))
                .layer(PropagateRequestIdLayer::new(REQUEST_ID)),
        )
}

fn request_span(request: &Request) -> Span {
    let request_id = request
        .extensions()
        .get::<RequestId>()
        .and_then(|id| id.header_value().to_str().ok())
        .unwrap_or_default();
    tracing::info_span!(
        "request",
        request.id = %request_id,
        http.method = %request.method(),
        http.path = %request.uri().path(),
        project.id = tracing::field::Empty,
    )
}

fn log_response<B>(response: &Response<B>, latency: Duration, _span: &Span) {
    tracing::info!(
        http.status_code = response.status().as_u16(),
        duration_ms = latency.as_secs_f64() * 1000.0,
        "request finished"
    );
}

/// Health check: `GET /health`, without credentials.
async fn health() -> &'static str {
    "ok"
}

async fn route_not_found(method: Method, uri: Uri) -> Error {
    Error::NotFound(format!("No API operation at {method} {}.", uri.path()))
}

async fn method_not_allowed(method: Method, uri: Uri) -> Error {
    Error::MethodNotAllowed(format!("Method {method} is not allowed on {}.", uri.path()))
}
