//! The ceiling: easel's HTTP stack (axum, the same body limit, request-log,
//! metrics and request-id layers, the same runtime and log output) serving a
//! prebuilt body with no authentication and no database work. It measures
//! what the stack alone costs for a body of that size.

use std::net::SocketAddr;
use std::path::Path;

use anyhow::Context;
use axum::http::header::CONTENT_TYPE;
use axum::routing::get;
use axum::Router;
use bytes::Bytes;

/// Serves the contents of `body_file` as JSON on the group listing's route until interrupted.
pub async fn serve(listen: SocketAddr, body_file: &Path) -> anyhow::Result<()> {
    let body = Bytes::from(
        std::fs::read(body_file).with_context(|| format!("Failed to read the ceiling body {}", body_file.display()))?,
    );
    let routes = Router::new().route(
        "/v1/{project_id}/images/group",
        get(move || {
            let body = body.clone();
            async move { ([(CONTENT_TYPE, "application/json")], body) }
        }),
    );
    // easel installs its metrics recorder before serving; without it, recording would cost nothing here.
    easel::telemetry::prometheus();
    let app = easel::http::with_request_layers(routes);

    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("Failed to listen on {listen}"))?;
    tracing::info!(listen.address = %listener.local_addr()?, "ceiling started");
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .context("The ceiling server failed")
}
