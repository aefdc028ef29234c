//! The contract's error body, `{"error_code": ..., "error_msg": ...}`, for
//! every [`Error`]. Server-side failures are logged here, once, with their
//! cause chain; the client sees only an opaque message.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;

use crate::error::Error;

/// The body of every error response.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = Error)]
pub struct ErrorBody {
    /// `ModelArts.NNNN`, from the public ModelArts error-code table.
    #[schema(example = "ModelArts.0101")]
    pub error_code: &'static str,
    /// A sentence naming the bad field and value.
    pub error_msg: String,
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        match &self {
            Error::Internal(cause) => tracing::error!(error.cause = format!("{cause:#}"), "request failed"),
            Error::Unavailable(message) => tracing::warn!(error.message = %message, "dependency unavailable"),
            _ => {}
        }

        let status = StatusCode::from_u16(self.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = ErrorBody { error_code: self.code(), error_msg: self.to_string() };
        (status, Json(body)).into_response()
    }
}
