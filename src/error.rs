//! The one error type of easel and its place in the contract's table of
//! `ModelArts.NNNN` codes. The HTTP layer turns it into the error body.

/// Every failure a request can end in, one variant per row of the contract's
/// error table.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A query or body field is malformed or out of range.
    #[error("{0}")]
    InvalidField(String),

    /// The body is not JSON, or not the expected object.
    #[error("{0}")]
    InvalidBody(String),

    /// The project id in the path is not 32 lower-case hexadecimal characters.
    #[error("Invalid project ID: '{0}' must be 32 lower-case hexadecimal characters.")]
    InvalidProjectId(String),

    /// The project already has an image with this reference.
    #[error("Conflict tag {tag} for image {name}, tag cannot be duplicated.")]
    DuplicateTag { name: String, tag: String },

    /// The registry has no manifest for the reference.
    #[error("{0}")]
    ImageNotInRegistry(String),

    /// `sort_key` names a field that cannot be sorted.
    #[error("sort_key '{0}' cannot be sorted; expected a comma-separated list of create_at, update_at, name, namespace and tag.")]
    UnsortableField(String),

    /// The request carries neither `Authorization` nor `X-Auth-Token`.
    #[error("Missing credentials: send an AK/SK signature in Authorization or a token in X-Auth-Token.")]
    MissingCredentials,

    /// The token was valid once and has expired.
    #[error("The token has expired; create a new one with `easel token create`.")]
    TokenExpired,

    /// The token is unknown or malformed.
    #[error("The token is invalid: it is unknown or malformed.")]
    TokenInvalid,

    /// The AK/SK signature was rejected; the message says which part failed.
    #[error("{0}")]
    SignatureRejected(String),

    /// A registry event came without the configured shared secret.
    #[error("The registry event secret is missing or wrong: send 'Authorization: Bearer SECRET' with the secret set by --registry-events-secret.")]
    EventSecretRejected,

    /// The credential belongs to another project than the one in the path.
    #[error("{0}")]
    ProjectMismatch(String),

    /// The caller may read this image or group but not change it.
    #[error("{0}")]
    ReadOnly(String),

    /// Nothing with this id is visible to the caller.
    #[error("{0}")]
    NotFound(String),

    /// The path exists but not with this method.
    #[error("{0}")]
    MethodNotAllowed(String),

    /// The body is larger than the configured limit.
    #[error("The request body is larger than the limit of {0} bytes.")]
    BodyTooLarge(usize),

    /// A dependency (database or registry) is unreachable; nothing was changed.
    #[error("{0}")]
    Unavailable(String),

    /// Anything else. The cause goes to the log, never to the client.
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

/// Short for results whose error is [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// Returns the HTTP status code the contract assigns to this error.
    pub fn status(&self) -> u16 {
        match self {
            Error::InvalidField(_)
            | Error::InvalidBody(_)
            | Error::InvalidProjectId(_)
            | Error::DuplicateTag { .. }
            | Error::ImageNotInRegistry(_)
            | Error::UnsortableField(_) => 400,
            Error::MissingCredentials
            | Error::TokenExpired
            | Error::TokenInvalid
            | Error::SignatureRejected(_)
            | Error::EventSecretRejected => 401,
            Error::ProjectMismatch(_) | Error::ReadOnly(_) => 403,
            Error::NotFound(_) => 404,
            Error::MethodNotAllowed(_) => 405,
            Error::BodyTooLarge(_) => 413,
            Error::Unavailable(_) => 503,
            Error::Internal(_) => 500,
        }
    }

    /// Returns the `ModelArts.NNNN` error code the contract assigns to this error.
    pub fn code(&self) -> &'static str {
        match self {
            Error::InvalidField(_) | Error::BodyTooLarge(_) | Error::MethodNotAllowed(_) => "ModelArts.0101",
            Error::InvalidBody(_) => "ModelArts.6400",
            Error::InvalidProjectId(_) | Error::ProjectMismatch(_) => "ModelArts.0210",
            Error::DuplicateTag { .. } => "ModelArts.6737",
            Error::ImageNotInRegistry(_) => "ModelArts.2810",
            Error::UnsortableField(_) => "ModelArts.6303",
            Error::MissingCredentials => "ModelArts.0201",
            Error::TokenExpired => "ModelArts.0202",
            Error::TokenInvalid | Error::EventSecretRejected => "ModelArts.0203",
            Error::SignatureRejected(_) => "ModelArts.0206",
            Error::ReadOnly(_) => "ModelArts.0108",
            Error::NotFound(_) => "ModelArts.6797",
            Error::Unavailable(_) => "ModelArts.6699",
            Error::Internal(_) => "ModelArts.0010",
        }
    }

    /// Builds an [`Error::InvalidField`] whose message starts with the field name.
    pub fn field(field: &str, problem: impl std::fmt::Display) -> Self {
        Error::InvalidField(format!("{field}: {problem}"))
    }
}
