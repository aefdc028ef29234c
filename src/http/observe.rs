//! The request log and the request metrics: one event and one set of series
//! per request, labelled by the matched route template so that ids in paths
//! never multiply the series.

use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;
use tower_http::request_id::RequestId;

use crate::http::extract::Caller;
use crate::telemetry;

/// Times the request, then logs it and records it in the metrics. Headers
/// and bodies are never logged, so credentials and signatures stay out of
/// the log.
pub async fn observe(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = method_label(request.method());
    let path = request.uri().path().to_owned();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or(telemetry::UNMATCHED_ROUTE, MatchedPath::as_str)
        .to_owned();
    let request_id = request
        .extensions()
        .get::<RequestId>()
        .and_then(|id| id.header_value().to_str().ok())
        .unwrap_or_default()
        .to_owned();

    // Off by default; lets an operator (and the shutdown test) see that a request is in progress.
    tracing::debug!(request.id = %request_id, http.method = %method, http.route = %route, "request started");
    let response = next.run(request).await;

    let duration = started.elapsed();
    let status = response.status().as_u16();
    let project = response.extensions().get::<Caller>().map(|caller| caller.0.to_string()).unwrap_or_default();
    telemetry::record_request(method, &route, status, duration);
    tracing::info!(
        request.id = %request_id,
        project.id = %project,
        http.method = %method,
        http.route = %route,
        http.path = %path,
        http.status_code = status,
        duration_ms = duration.as_secs_f64() * 1000.0,
        "request finished"
    );
    response
}

/// Returns the method's name, or `OTHER` for extension methods, because
/// clients may send any token as a method and each would add series.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        Method::PATCH => "PATCH",
        Method::TRACE => "TRACE",
        Method::CONNECT => "CONNECT",
        _ => "OTHER",
    }
}
