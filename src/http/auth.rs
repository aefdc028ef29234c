//! The authentication middleware of every `/v1/{project_id}/...` route: it
//! reads the body within the size limit (the signature covers it), verifies
//! the credential and checks that it belongs to the project in the path.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;

use crate::auth::RequestParts;
use crate::catalogue::fields::ProjectId;
use crate::error::Error;
use crate::http::extract::Caller;
use crate::http::AppState;

/// Authenticates the request and hands the caller's project to the handler.
pub async fn authenticate(State(state): State<AppState>, request: Request, next: Next) -> Result<Response, Error> {
    let (parts, body) = request.into_parts();
    let body = read_limited(body, state.body_limit_bytes).await?;

    let caller = state
        .authenticator
        .authenticate(&RequestParts {
            method: parts.method.as_str(),
            path: parts.uri.path(),
            query: parts.uri.query(),
            headers: &parts.headers,
            body: &body,
        })
        .await?;

    let path_project = parts.uri.path().split('/').nth(2).unwrap_or_default();
    let project = ProjectId::parse(path_project)?;
    if caller != project {
        return Err(Error::ProjectMismatch(format!(
            "The credential belongs to project {caller}, not to project {project} in the path."
        )));
    }
    if let Some(header_project) = parts.headers.get("x-project-id") {
        if header_project.as_bytes() != project.as_str().as_bytes() {
            return Err(Error::ProjectMismatch(format!(
                "X-Project-Id '{}' differs from project {project} in the path.",
                String::from_utf8_lossy(header_project.as_bytes())
            )));
        }
    }
    tracing::Span::current().record("project.id", project.as_str());

    let mut request = Request::from_parts(parts, Body::from(body));
    request.extensions_mut().insert(Caller(project.clone()));
    let mut response = next.run(request).await;
    // The request log reads the project from the response.
    response.extensions_mut().insert(Caller(project));
    Ok(response)
}

async fn read_limited(body: Body, limit: usize) -> Result<bytes::Bytes, Error> {
    use http_body_util::BodyExt;

    let limited = http_body_util::Limited::new(body, limit);
    match limited.collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(err) if err.is::<http_body_util::LengthLimitError>() => Err(Error::BodyTooLarge(limit)),
        Err(err) => Err(Error::InvalidBody(format!("Failed to read the body: {err}."))),
    }
}
