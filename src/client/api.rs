//! The HTTP side of the client: builds each request, signs it with the
//! signing code the server verifies with, sends it and turns the response into
//! JSON or a [`ClientError`].

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use reqwest::header::{HeaderMap, HeaderValue, CONTENT_TYPE};
use reqwest::{Method, Url};
use serde::Deserialize;
use serde_json::Value;
use time::OffsetDateTime;

use crate::auth::signature::{sign_request, ClientRequest};
use crate::client::args::ClientOptions;
use crate::client::ClientError;

/// Characters sent bare in path segments and query components; the rest is
/// percent-encoded, so the URL on the wire is the one that was signed.
const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');

enum Credential {
    AccessKey { access: String, secret: String },
    Token(String),
}

/// A connection to one project of an easel service.
pub struct ApiClient {
    http: reqwest::Client,
    endpoint: Url,
    /// The endpoint's path without its trailing `/`, such as `/easel` behind a proxy; usually empty.
    path_prefix: String,
    project_id: String,
    credential: Credential,
}

#[derive(Deserialize)]
struct ErrorBody {
    error_code: String,
    error_msg: String,
}

/// Percent-encodes one path segment or query component.
pub fn encode(component: &str) -> String {
    utf8_percent_encode(component, UNRESERVED).to_string()
}

impl ApiClient {
    /// Checks the options and prepares a client; missing credentials are a usage error.
    pub fn new(options: &ClientOptions) -> Result<Self, ClientError> {
        let mut endpoint = Url::parse(&options.endpoint)
            .map_err(|err| ClientError::Usage(format!("--endpoint '{}' is not a URL: {err}", options.endpoint)))?;
        if !matches!(endpoint.scheme(), "http" | "https") {
            return Err(ClientError::Usage(format!("--endpoint '{}' must start with http:// or https://", options.endpoint)));
        }
        let path_prefix = endpoint.path().trim_end_matches('/').to_owned();
        endpoint.set_query(None);

        let project_id = options.project_id.clone().ok_or_else(|| {
            ClientError::Usage("no project id: pass --project-id or set HUAWEICLOUD_SDK_PROJECT_ID".into())
        })?;
        let credential = match (&options.token, &options.access_key, &options.secret_key) {
            (Some(token), _, _) => Credential::Token(token.clone()),
            (None, Some(access), Some(secret)) => Credential::AccessKey { access: access.clone(), secret: secret.clone() },
            _ => {
                return Err(ClientError::Usage(
                    "no credentials: pass --access-key and --secret-key (or set HUAWEICLOUD_SDK_AK and \
                     HUAWEICLOUD_SDK_SK), or pass --token (or set EASEL_TOKEN)"
                        .into(),
                ))
            }
        };
        let http = reqwest::Client::builder()
            .timeout(options.timeout)
            .user_agent(concat!("easel-cli/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|err| ClientError::Unreachable(format!("failed to set up the HTTP client: {err}")))?;
        Ok(ApiClient { http, endpoint, path_prefix, project_id, credential })
    }

    /// Sends one request to `/v1/{project_id}{resource}` and returns the JSON
    /// of a successful response. `resource` must already be percent-encoded.
    pub async fn call(
        &self,
        method: Method,
        resource: &str,
        query: &[(String, String)],
        body: Option<&Value>,
    ) -> Result<Value, ClientError> {
        let path = format!("{}/v1/{}{resource}", self.path_prefix, encode(&self.project_id));
        let query_string: String = query
            .iter()
            .map(|(key, value)| format!("{}={}", encode(key), encode(value)))
            .collect::<Vec<_>>()
            .join("&");
        let mut url = self.endpoint.clone();
        url.set_path(&path);
        url.set_query(Some(&query_string).filter(|q| !q.is_empty()).map(String::as_str));

        let body_bytes = match body {
            Some(value) => serde_json::to_vec(value).expect("a JSON value serializes"),
            None => Vec::new(),
        };
        let headers = self.headers(&method, &url, &body_bytes, body.is_some())?;

        let response = self
            .http
            .request(method.clone(), url.clone())
            .headers(headers)
            .body(body_bytes)
            .send()
            .await
            .map_err(|err| ClientError::Unreachable(format!("failed to reach {}: {}", self.endpoint, error_chain(&err))))?;
        let status = response.status();
        let request_id = response
            .headers()
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let bytes = response
            .bytes()
            .await
            .map_err(|err| ClientError::Unreachable(format!("failed to read the response to {method} {url}: {}", error_chain(&err))))?;

        if status.is_success() {
            return serde_json::from_slice(&bytes).map_err(|err| ClientError::UnexpectedResponse {
                status: status.as_u16(),
                message: format!("the body is not JSON ({err})"),
            });
        }
        match serde_json::from_slice::<ErrorBody>(&bytes) {
            Ok(error) => Err(ClientError::Api {
                status: status.as_u16(),
                code: error.error_code,
                message: error.error_msg,
                request_id,
            }),
            Err(_) => Err(ClientError::UnexpectedResponse {
                status: status.as_u16(),
                message: format!("{method} {url} returned no error body: {}", String::from_utf8_lossy(&bytes[..bytes.len().min(200)])),
            }),
        }
    }

    fn headers(&self, method: &Method, url: &Url, body: &[u8], has_body: bool) -> Result<HeaderMap, ClientError> {
        let mut headers = HeaderMap::new();
        let mut signed: Vec<(&str, String)> = Vec::new();
        if has_body {
            headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
            signed.push(("content-type", "application/json".to_owned()));
        }
        signed.push(("x-project-id", self.project_id.clone()));
        headers.insert("x-project-id", header_value("project id", &self.project_id)?);

        match &self.credential {
            Credential::Token(token) => {
                headers.insert("x-auth-token", header_value("token", token)?);
            }
            Credential::AccessKey { access, secret } => {
                // reqwest sends Host as the URL's host, with the port unless it is the scheme's default.
                let host = match url.port() {
                    Some(port) => format!("{}:{port}", url.host_str().unwrap_or_default()),
                    None => url.host_str().unwrap_or_default().to_owned(),
                };
                signed.push(("host", host));
                let signed_refs: Vec<(&str, &str)> = signed.iter().map(|(name, value)| (*name, value.as_str())).collect();
                let (sdk_date, authorization) = sign_request(
                    access,
                    secret,
                    &ClientRequest { method: method.as_str(), path: url.path(), query: url.query(), headers: &signed_refs, body },
                    OffsetDateTime::now_utc(),
                );
                headers.insert("x-sdk-date", header_value("X-Sdk-Date", &sdk_date)?);
                headers.insert("authorization", header_value("access key", &authorization)?);
            }
        }
        Ok(headers)
    }
}

fn header_value(what: &str, value: &str) -> Result<HeaderValue, ClientError> {
    HeaderValue::from_str(value).map_err(|_| ClientError::Usage(format!("the {what} contains characters that cannot be sent in a header")))
}

/// Joins an error and its sources, so "connection refused" is not hidden behind "error sending request".
fn error_chain(err: &dyn std::error::Error) -> String {
    let mut message = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    message
}
