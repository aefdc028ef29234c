//! The HTTP layer: the route table, shared state and the layers every
//! request passes through (request id, request log).

pub mod auth;
pub mod error;
pub mod extract;
pub mod groups;
pub mod images;
pub mod observe;
pub mod openapi;
pub mod params;
pub mod registry_events;
pub mod service;
pub mod wire;

use std::future::Future;
use std::sync::Arc;

use anyhow::Context;
use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, MatchedPath, Request};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderName, HeaderValue, Method, Response, Uri};
use axum::response::IntoResponse;
use axum::{middleware, Extension, Router};
use tower::ServiceBuilder;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, RequestId, SetRequestIdLayer};
use serde::Serialize;
use tower_http::trace::TraceLayer;
use tracing::Span;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Authenticator;
use crate::catalogue::cache::ListingCache;
use crate::catalogue::fields::ProjectId;
use crate::catalogue::model::Listing;
use crate::catalogue::Catalogue;
use crate::error::Error;
use crate::http::openapi::{ApiDoc, ApiDocument};
use crate::telemetry;

/// State shared by every handler.
#[derive(Clone)]
pub struct AppState {
    pub catalogue: Catalogue,
    pub authenticator: Arc<Authenticator>,
    /// Requests with a larger body get `413`.
    pub body_limit_bytes: usize,
    /// The secret the registry's notifications must carry; `None` turns `POST /registry/events` off.
    pub registry_events_secret: Option<Arc<str>>,
    pub listings: Arc<ListingResponses>,
}

/// Encoded listing responses, by caller and query string, kept until the
/// next write of this or any other process sharing the database. A hit costs neither a database read nor encoding
/// the page again, which profiling showed to be most of a listing's time.
pub struct ListingResponses {
    groups: ListingCache<Bytes>,
    images: ListingCache<Bytes>,
    /// Locks taken by key hash while a missing listing is read, so that after
    /// a write one request reads each listing and the others wait for it.
    loading: [tokio::sync::Mutex<()>; LOAD_LOCKS],
}

/// The number of locks that serialize reads of missing listings with equal keys.
const LOAD_LOCKS: usize = 16;

impl ListingResponses {
    /// Keeps up to `max_entries` group listings and as many image listings; 0 keeps none.
    pub fn new(max_entries: usize) -> Self {
        ListingResponses {
            groups: ListingCache::new(max_entries),
            images: ListingCache::new(max_entries),
            loading: std::array::from_fn(|_| tokio::sync::Mutex::new(())),
        }
    }

    fn load_lock(&self, key: &str) -> &tokio::sync::Mutex<()> {
        let mut hasher = std::hash::DefaultHasher::new();
        std::hash::Hash::hash(key, &mut hasher);
        let index = std::hash::Hasher::finish(&hasher) as usize % LOAD_LOCKS;
        &self.loading[index]
    }
}

/// Returns the cached response of a listing when no write finished since it
/// was encoded; otherwise runs `load`, encodes its listing and keeps it.
/// The key is the caller and the raw query string: equal strings parse to
/// equal queries, and only successful listings are kept.
pub async fn cached_listing<T: Serialize>(
    responses: &ListingResponses,
    cache: &ListingCache<Bytes>,
    catalogue: &Catalogue,
    caller: &ProjectId,
    query: Option<&str>,
    load: impl Future<Output = Result<Listing<T>, Error>>,
) -> Result<Response<Body>, Error> {
    if !cache.is_enabled() {
        return Ok(json_response(encode_listing(&load.await?)?));
    }

    let key = format!("{caller}?{}", query.unwrap_or_default());
    if let Some(body) = cache.get(&key, catalogue.listing_generation().await?) {
        return Ok(json_response(body));
    }

    let _loading = responses.load_lock(&key).lock().await;
    let generation = catalogue.listing_generation().await?;
    if let Some(body) = cache.get(&key, generation) {
        return Ok(json_response(body));
    }
    let body = encode_listing(&load.await?)?;
    cache.insert(key, generation, &body);
    Ok(json_response(body))
}

fn encode_listing<T: Serialize>(listing: &Listing<T>) -> Result<Bytes, Error> {
    let body = serde_json::to_vec(listing).context("Failed to encode a listing").map_err(Error::Internal)?;
    Ok(Bytes::from(body))
}

fn json_response(body: Bytes) -> Response<Body> {
    ([(CONTENT_TYPE, HeaderValue::from_static("application/json"))], body).into_response()
}

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Builds the routes and, from the same registrations, the OpenAPI document
/// that describes them. Register each route with `.routes(routes!(handler))`
/// and a `#[utoipa::path]` on the handler, because a route added with axum's
/// own route method would be served but missing from the document.
pub fn routes(state: AppState) -> (Router<AppState>, utoipa::openapi::OpenApi) {
    let api = OpenApiRouter::new()
        .routes(routes!(images::list, images::register))
        .routes(routes!(groups::list))
        .routes(routes!(groups::update, groups::delete))
        .routes(routes!(images::show, images::delete))
        .routes(routes!(images::sync))
        .route_layer(middleware::from_fn_with_state(state, auth::authenticate));

    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(api)
        .routes(routes!(service::health))
        .routes(routes!(service::metrics))
        .routes(routes!(service::openapi_json))
        .routes(routes!(service::docs))
        .routes(routes!(registry_events::receive))
        .split_for_parts()
}

/// Builds the router that serves the whole API.
pub fn router(state: AppState) -> Router {
    let (routes, document) = routes(state.clone());
    // Installs the metrics recorder before the first request is recorded.
    telemetry::prometheus();

    let routes = routes
        .fallback(route_not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(state)
        .layer(Extension(ApiDocument::render(&document)));
    with_request_layers(routes)
}

/// Wraps a router in the layers every response passes through: the body
/// limit, the request log and metrics, and the request id. The benchmark's
/// ceiling server uses it too, so it measures the same stack.
pub fn with_request_layers(router: Router) -> Router {
    router
        .layer(DefaultBodyLimit::disable())
        // Layers added to a router wrap each route after routing, so they see
        // the matched route template.
        .layer(middleware::from_fn(observe::observe))
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
                // The span gives events inside a request its ids; observe logs the request itself.
                .layer(TraceLayer::new_for_http().make_span_with(request_span).on_request(()).on_response(()).on_failure(()))
                .layer(PropagateRequestIdLayer::new(REQUEST_ID)),
        )
}

fn request_span(request: &Request) -> Span {
    let request_id = request
        .extensions()
        .get::<RequestId>()
        .and_then(|id| id.header_value().to_str().ok())
        .unwrap_or_default();
    let route = request.extensions().get::<MatchedPath>().map_or(telemetry::UNMATCHED_ROUTE, MatchedPath::as_str);
    tracing::info_span!(
        "request",
        request.id = %request_id,
        http.method = %request.method(),
        http.route = %route,
        project.id = tracing::field::Empty,
    )
}

async fn route_not_found(method: Method, uri: Uri) -> Error {
    Error::NotFound(format!("No API operation at {method} {}.", uri.path()))
}

async fn method_not_allowed(method: Method, uri: Uri) -> Error {
    Error::MethodNotAllowed(format!("Method {method} is not allowed on {}.", uri.path()))
}

#[cfg(test)]
mod tests {
    /// The document can only list routes registered through `routes!`, and
    /// axum cannot enumerate a router's routes, so this guards the source.
    #[test]
    fn router_registers_routes_only_with_documentation() {
        let source = include_str!("mod.rs");
        let code = source.split("#[cfg(test)]").next().expect("the file has code before its tests");

        for undocumented in [".route(", ".route_service(", ".nest(", ".nest_service("] {
            assert!(!code.contains(undocumented), "src/http/mod.rs registers a route with {undocumented}");
        }
    }
}
