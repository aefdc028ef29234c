//! Extractors that turn a request into parsed input, answering malformed
//! input with the contract's error body instead of axum's plain-text one.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use axum::http::request::Parts;
use percent_encoding::percent_decode_str;
use serde::de::DeserializeOwned;

use crate::catalogue::fields::{truncate_for_message, ProjectId};
use crate::catalogue::requests::QueryParams;
use crate::error::Error;

/// The authenticated project, placed in the request by the authentication middleware.
#[derive(Debug, Clone)]
pub struct Caller(pub ProjectId);

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Caller>()
            .cloned()
            .ok_or_else(|| Error::Internal(anyhow::anyhow!("route reached without the authentication middleware")))
    }
}

/// The `{id}` or `{image_id}` segment after the project id. An id that does
/// not decode is reported like an unknown id, in the contract's error body.
#[derive(Debug, Clone)]
pub struct ResourceId(pub String);

impl<S: Send + Sync> FromRequestParts<S> for ResourceId {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Path::<(String, String)>::from_request_parts(parts, state).await {
            Ok(Path((_, id))) => Ok(ResourceId(id)),
            Err(_) => {
                let raw = parts.uri.path().rsplit('/').find(|segment| !segment.is_empty() && *segment != "sync");
                Err(Error::NotFound(format!(
                    "No image or image group has the id '{}'.",
                    truncate_for_message(raw.unwrap_or_default())
                )))
            }
        }
    }
}

/// Query parameters, each given at most once. Values are percent-decoded
/// without turning `+` into a space, as the signature's canonical query does.
#[derive(Debug, Clone, Default)]
pub struct Params(pub QueryParams);

impl<S: Send + Sync> FromRequestParts<S> for Params {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parse_query(parts.uri.query().unwrap_or("")).map(Params)
    }
}

fn decode(component: &str) -> Result<String, Error> {
    percent_decode_str(component).decode_utf8().map(|s| s.into_owned()).map_err(|_| {
        Error::field(
            &truncate_for_message(component),
            "query parameter is not valid UTF-8 after percent-decoding",
        )
    })
}

/// Parses a raw query string into parameters; a parameter given twice is rejected.
pub fn parse_query(query: &str) -> Result<QueryParams, Error> {
    let mut params = QueryParams::new();
    for pair in query.split('&').filter(|pair| !pair.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let key = decode(key)?;
        let value = decode(value)?;
        if params.contains_key(&key) {
            return Err(Error::field(&truncate_for_message(&key), "query parameter is given more than once"));
        }
        params.insert(key, value);
    }
    Ok(params)
}

/// A JSON request body. Syntax errors and non-object bodies are
/// `ModelArts.6400`; a field of the wrong type is `ModelArts.0101` naming the field.
pub struct JsonBody<T>(pub T);

/// Like [`JsonBody`], but an empty body gives `T::default()`.
pub struct OptionalJsonBody<T>(pub T);

fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Error> {
    // serde would also read a struct from a JSON array; the API takes objects only.
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err(Error::InvalidBody("The body is not a JSON object.".into()));
    }
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value: T = serde_path_to_error::deserialize(&mut deserializer).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        match inner.classify() {
            serde_json::error::Category::Data if path != "." => Error::field(&path, inner),
            serde_json::error::Category::Data => Error::InvalidBody(format!("The body is not the expected JSON object: {inner}.")),
            _ => Error::InvalidBody(format!("The body is not valid JSON: {inner}.")),
        }
    })?;
    deserializer
        .end()
        .map_err(|err| Error::InvalidBody(format!("The body has data after the JSON object: {err}.")))?;
    Ok(value)
}

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for JsonBody<T> {
    type Rejection = Error;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = read_body(request, state).await?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Err(Error::InvalidBody("The body is empty; expected a JSON object.".into()));
        }
        parse_json(&bytes).map(JsonBody)
    }
}

impl<T: DeserializeOwned + Default, S: Send + Sync> FromRequest<S> for OptionalJsonBody<T> {
    type Rejection = Error;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = read_body(request, state).await?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(OptionalJsonBody(T::default()));
        }
        parse_json(&bytes).map(OptionalJsonBody)
    }
}

async fn read_body<S: Send + Sync>(request: Request, state: &S) -> Result<Bytes, Error> {
    // The authentication middleware has already read the body within the size limit.
    Bytes::from_request(request, state)
        .await
        .map_err(|err| Error::InvalidBody(format!("Failed to read the body: {err}.")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue::requests::RegisterImageInput;

    #[test]
    fn query_rejects_repeated_parameters() {
        assert!(parse_query("limit=1&limit=2").is_err());
        let params = parse_query("name=a%5Fb&flag&x=1+2").unwrap();
        assert_eq!(params["name"], "a_b");
        assert_eq!(params["flag"], "");
        assert_eq!(params["x"], "1+2");
    }

    #[test]
    fn json_errors_distinguish_syntax_from_field_types() {
        let syntax = parse_json::<RegisterImageInput>(b"{").err().unwrap();
        assert_eq!(syntax.code(), "ModelArts.6400");

        let not_object = parse_json::<RegisterImageInput>(b"[1]").err().unwrap();
        assert_eq!(not_object.code(), "ModelArts.6400");

        let wrong_type = parse_json::<RegisterImageInput>(br#"{"swr_path": 5}"#).err().unwrap();
        assert_eq!(wrong_type.code(), "ModelArts.0101");
        assert!(wrong_type.to_string().starts_with("swr_path"), "{wrong_type}");

        let nested = parse_json::<RegisterImageInput>(br#"{"tags": [{"key": 1}]}"#).err().unwrap();
        assert!(nested.to_string().starts_with("tags[0].key"), "{nested}");
    }
}
