//! The endpoints about the service itself, served without credentials:
//! health, metrics, the OpenAPI document and its docs page.

use axum::http::header;
use axum::response::{Html, IntoResponse};
use axum::Extension;
use bytes::Bytes;

use crate::http::openapi::ApiDocument;
use crate::telemetry;

/// Health check: `GET /health`.
#[utoipa::path(
    get,
    path = "/health",
    operation_id = "Health",
    tag = "service",
    summary = "Check that the service is up",
    responses((status = 200, description = "The service is up.", body = String, content_type = "text/plain", example = "ok"))
)]
pub async fn health() -> &'static str {
    "ok"
}

/// Metrics in the Prometheus text format: `GET /metrics`.
#[utoipa::path(
    get,
    path = "/metrics",
    operation_id = "Metrics",
    tag = "service",
    summary = "Read the metrics",
    description = "Requests by route and status, latency histograms, database and registry call latencies, and catalogue sizes.",
    responses((status = 200, description = "Every series in the Prometheus text exposition format 0.0.4.", body = String, content_type = "text/plain; version=0.0.4"))
)]
pub async fn metrics() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], telemetry::prometheus().render())
}

/// This document: `GET /openapi.json`.
#[utoipa::path(
    get,
    path = "/openapi.json",
    operation_id = "OpenApiDocument",
    tag = "service",
    summary = "Read the OpenAPI document",
    responses((status = 200, description = "The OpenAPI 3.1 document of the API.", body = Object, content_type = "application/json"))
)]
pub async fn openapi_json(Extension(document): Extension<ApiDocument>) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], document.json)
}

/// A readable page of this document: `GET /docs`.
#[utoipa::path(
    get,
    path = "/docs",
    operation_id = "Docs",
    tag = "service",
    summary = "Read the API documentation",
    responses((status = 200, description = "An HTML page rendering this document with Redoc.", body = String, content_type = "text/html"))
)]
pub async fn docs(Extension(document): Extension<ApiDocument>) -> Html<Bytes> {
    Html(document.html)
}
