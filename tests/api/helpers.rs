//! The test harness: `spawn_app()` starts easel on a fresh database (SQLite,
//! or PostgreSQL with `EASEL_TEST_BACKEND=postgres`) and a free loopback
//! port, with two projects that each hold an access key, and sends signed
//! requests to it the way the official SDKs sign them.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use easel::auth::signature::{sign_request, ClientRequest};
use easel::catalogue::fields::ProjectId;
use easel::config::{RegistryConfig, ServeConfig, StoreConfig};
use easel::http::AppState;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use reqwest::header::HeaderMap;
use serde_json::{json, Value};
use tempfile::TempDir;
use time::OffsetDateTime;

/// The body limit of the default configuration, 1 MiB.
pub const DEFAULT_BODY_LIMIT_BYTES: usize = 1024 * 1024;

/// The default registry host of the test configuration.
pub const DEFAULT_REGISTRY_HOST: &str = "localhost:5000";

/// A built-in group of the bundled presets with two versions.
pub const PRESET_GROUP: &str = "mindspore1.7.0-ubuntu18.04-default";

/// The namespace of every bundled preset.
pub const PRESET_NAMESPACE: &str = "atelier";

/// How long the harness waits for any one response, so that a hung server
/// fails a test instead of stalling the run.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Characters left bare in query values, as the signature's canonical form leaves them.
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');

/// A project with one access key.
#[derive(Debug, Clone)]
pub struct Project {
    pub id: String,
    pub access: String,
    pub secret: String,
}

/// A running easel with two projects.
#[derive(Clone)]
pub struct TestApp {
    pub address: SocketAddr,
    pub project: Project,
    pub other_project: Project,
    pub state: AppState,
    client: reqwest::Client,
    /// The directory of the database and the master key, removed with the last clone.
    pub data_dir: Arc<TempDir>,
}

/// What the server returned.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    pub text: String,
    /// The body parsed as JSON, or `Value::Null` when it is not JSON.
    pub body: Value,
}

impl Reply {
    /// Asserts an error reply: its status, its `error_code`, and that
    /// `error_msg` mentions every fragment (a field name or the bad value).
    pub fn assert_error(&self, status: u16, code: &str, fragments: &[&str]) {
        assert_eq!(self.status, status, "unexpected status; body: {}", self.text);
        assert_eq!(self.body["error_code"], code, "unexpected error code; body: {}", self.text);
        let message = self.body["error_msg"].as_str().unwrap_or_else(|| panic!("error_msg is not a string: {}", self.text));
        for fragment in fragments {
            assert!(message.contains(fragment), "error_msg {message:?} does not mention {fragment:?}");
        }
    }

    /// Asserts a 200 reply and returns its JSON body.
    pub fn ok(self) -> Value {
        assert_eq!(self.status, 200, "expected 200; body: {}", self.text);
        self.body
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|value| value.to_str().ok())
    }
}

/// The settings a test may change; everything else is the default configuration.
pub struct Settings {
    pub body_limit_bytes: usize,
    pub default_registry_host: String,
    /// The data directory of an earlier app, to start again on its database.
    pub data_dir: Option<Arc<TempDir>>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            body_limit_bytes: DEFAULT_BODY_LIMIT_BYTES,
            default_registry_host: DEFAULT_REGISTRY_HOST.into(),
            data_dir: None,
        }
    }
}

/// Starts easel with the default configuration.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(Settings::default()).await
}

/// Starts easel with a body limit of `body_limit_bytes`.
pub async fn spawn_app_with_body_limit(body_limit_bytes: usize) -> TestApp {
    spawn_app_with(Settings { body_limit_bytes, ..Settings::default() }).await
}

/// Starts easel with `settings` and two new projects.
pub async fn spawn_app_with(settings: Settings) -> TestApp {
    let data_dir = match settings.data_dir {
        Some(dir) => dir,
        None => Arc::new(tempfile::tempdir().expect("a temporary directory can be created")),
    };
    let config = ServeConfig {
        listen: "127.0.0.1:0".parse().expect("a valid loopback address"),
        store: StoreConfig {
            database_url: database_url(data_dir.path()).await,
            master_key_file: data_dir.path().join("master.key"),
        },
        presets: None,
        default_registry_host: Some(settings.default_registry_host),
        registry: RegistryConfig::default(),
        body_limit_bytes: settings.body_limit_bytes,
        // The service's default, so every listing test also checks that writes expire cached listings.
        listing_cache_entries: 1024,
        log_format: "human".into(),
        catalogue_metrics_interval: Duration::from_secs(60),
    };
    let app = easel::app::App::build(&config).await.expect("the app builds on its database");

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a loopback port is free");
    let address = listener.local_addr().expect("the listener has an address");
    let router = app.router();
    tokio::spawn(async move { axum::serve(listener, router).await });

    let project = create_project(&app.state).await;
    let other_project = create_project(&app.state).await;
    let client = reqwest::Client::builder()
        .timeout(REQUEST_TIMEOUT)
        .build()
        .expect("the HTTP client builds");
    TestApp { address, project, other_project, state: app.state, client, data_dir }
}

/// Returns the database of the app whose data directory is `data_dir`: a
/// SQLite file in it, or with `EASEL_TEST_BACKEND=postgres` a PostgreSQL
/// database whose URL the directory records, so a restarted app finds it.
async fn database_url(data_dir: &Path) -> String {
    match std::env::var("EASEL_TEST_BACKEND").as_deref() {
        Ok("postgres") => {
            let recorded = data_dir.join("postgres-url");
            if let Ok(url) = std::fs::read_to_string(&recorded) {
                return url;
            }
            let url = crate::pg::shared_cluster().create_database().await;
            std::fs::write(&recorded, &url).expect("the data directory is writable");
            url
        }
        Ok("sqlite") | Err(_) => format!("sqlite://{}/easel.db", data_dir.display()),
        Ok(other) => panic!("EASEL_TEST_BACKEND is {other:?}; expected sqlite or postgres"),
    }
}

async fn create_project(state: &AppState) -> Project {
    let id = ProjectId::generate();
    let key = state.authenticator.issue_access_key(&id).await.expect("an access key can be issued");
    Project { id: id.to_string(), access: key.access, secret: key.secret }
}

/// Encodes query pairs as `k=v&...`, percent-encoding every value.
pub fn query(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(key, value)| format!("{key}={}", utf8_percent_encode(value, QUERY_VALUE)))
        .collect::<Vec<_>>()
        .join("&")
}

/// Returns the keys of a JSON object, sorted.
pub fn keys(value: &Value) -> Vec<String> {
    let mut keys: Vec<String> = value
        .as_object()
        .unwrap_or_else(|| panic!("not a JSON object: {value}"))
        .keys()
        .cloned()
        .collect();
    keys.sort();
    keys
}

/// Returns the `data` array of a listing.
pub fn data(listing: &Value) -> &Vec<Value> {
    listing["data"].as_array().unwrap_or_else(|| panic!("listing has no data array: {listing}"))
}

/// Returns the given string field of every item of a listing.
pub fn field_of_each(listing: &Value, field: &str) -> Vec<String> {
    data(listing)
        .iter()
        .map(|item| item[field].as_str().unwrap_or_else(|| panic!("{field} is not a string in {item}")).to_owned())
        .collect()
}

/// Returns `(current, pages, size, total)` of a listing.
pub fn paging(listing: &Value) -> (u64, u64, u64, u64) {
    let number = |field: &str| listing[field].as_u64().unwrap_or_else(|| panic!("{field} is not a count in {listing}"));
    (number("current"), number("pages"), number("size"), number("total"))
}

impl TestApp {
    /// Returns `/v1/{project}{suffix}`.
    pub fn path(project: &Project, suffix: &str) -> String {
        format!("/v1/{}{suffix}", project.id)
    }

    /// Returns the `Host` header value the client sends.
    pub fn host(&self) -> String {
        self.address.to_string()
    }

    /// Signs a request with `project`'s key at time `at`, signing `host` and
    /// `content-type` besides `x-sdk-date`. Returns every header to send.
    pub fn signed_headers(
        &self,
        project: &Project,
        method: &str,
        path: &str,
        query: &str,
        body: &[u8],
        at: OffsetDateTime,
    ) -> Vec<(String, String)> {
        let host = self.host();
        let headers = [("host", host.as_str()), ("content-type", "application/json")];
        let request = ClientRequest {
            method,
            path,
            query: (!query.is_empty()).then_some(query),
            headers: &headers,
            body,
        };
        let (sdk_date, authorization) = sign_request(&project.access, &project.secret, &request, at);
        vec![
            ("content-type".into(), "application/json".into()),
            ("x-sdk-date".into(), sdk_date),
            ("authorization".into(), authorization),
        ]
    }

    /// Sends a request exactly as given, with these headers besides `Host`.
    /// Every response must carry an `X-Request-Id`, and no request a client
    /// can send may end in a 5xx.
    pub async fn send_raw(&self, method: &str, path: &str, query: &str, body: Vec<u8>, headers: &[(String, String)]) -> Reply {
        let url = if query.is_empty() {
            format!("http://{}{path}", self.address)
        } else {
            format!("http://{}{path}?{query}", self.address)
        };
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("a valid HTTP method");
        let mut request = self.client.request(method.clone(), &url).body(body);
        for (name, value) in headers {
            request = request.header(name.as_str(), value.as_str());
        }
        let response = request.send().await.unwrap_or_else(|err| panic!("{method} {url} failed: {err}"));

        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await.expect("the response body is readable");
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);

        assert!(status < 500, "{method} {url} returned {status}: {text}");
        let request_id = headers.get("x-request-id").map(|v| v.to_str().unwrap_or_default().to_owned());
        assert!(
            request_id.as_deref().is_some_and(|id| !id.is_empty()),
            "{method} {url} returned no X-Request-Id"
        );
        Reply { status, headers, text, body }
    }

    /// Sends a request signed now by `project`. The `suffix` follows `/v1/{project_id}`.
    pub async fn call(&self, project: &Project, method: &str, suffix: &str, query: &str, body: Option<&Value>) -> Reply {
        let path = Self::path(project, suffix);
        let body = body.map(|b| serde_json::to_vec(b).expect("JSON serializes")).unwrap_or_default();
        self.call_bytes(project, method, &path, query, body).await
    }

    /// Sends raw body bytes to a full path, signed now by `project`.
    pub async fn call_bytes(&self, project: &Project, method: &str, path: &str, query: &str, body: Vec<u8>) -> Reply {
        let headers = self.signed_headers(project, method, path, query, &body, OffsetDateTime::now_utc());
        self.send_raw(method, path, query, body, &headers).await
    }

    pub async fn get(&self, project: &Project, suffix: &str, query: &str) -> Reply {
        self.call(project, "GET", suffix, query, None).await
    }

    pub async fn post(&self, project: &Project, suffix: &str, body: &Value) -> Reply {
        self.call(project, "POST", suffix, "", Some(body)).await
    }

    pub async fn put(&self, project: &Project, suffix: &str, body: &Value) -> Reply {
        self.call(project, "PUT", suffix, "", Some(body)).await
    }

    pub async fn delete(&self, project: &Project, suffix: &str) -> Reply {
        self.call(project, "DELETE", suffix, "", None).await
    }

    /// Registers `swr_path` for `project` with every other field left to its
    /// default, and returns the image.
    pub async fn register(&self, project: &Project, swr_path: &str) -> Value {
        self.register_with(project, json!({ "swr_path": swr_path })).await
    }

    /// Registers an image from a full request body and returns it.
    pub async fn register_with(&self, project: &Project, body: Value) -> Value {
        let reply = self.post(project, "/images", &body).await;
        assert_eq!(reply.status, 200, "registering {body} failed: {}", reply.text);
        reply.body
    }

    /// Lists groups and returns the listing, asserting 200.
    pub async fn list_groups(&self, project: &Project, query: &str) -> Value {
        self.get(project, "/images/group", query).await.ok()
    }

    /// Lists images and returns the listing, asserting 200.
    pub async fn list_images(&self, project: &Project, query: &str) -> Value {
        self.get(project, "/images", query).await.ok()
    }

    /// Returns the one dedicated group of `project` named exactly `name`.
    pub async fn dedicated_group(&self, project: &Project, name: &str) -> Value {
        let listing = self
            .list_groups(project, &query(&[("type", "DEDICATED"), ("name", name), ("name_fuzzy_match", "false")]))
            .await;
        assert_eq!(listing["total"], 1, "expected one dedicated group named {name}: {listing}");
        data(&listing)[0].clone()
    }

    /// Counts the dedicated images listed for `project` in its default workspace.
    pub async fn dedicated_image_count(&self, project: &Project) -> u64 {
        let listing = self.list_images(project, "type=DEDICATED").await;
        listing["total"].as_u64().expect("total is a count")
    }

    /// Counts the dedicated groups listed for `project` in its default workspace.
    pub async fn dedicated_group_count(&self, project: &Project) -> u64 {
        let listing = self.list_groups(project, "type=DEDICATED").await;
        listing["total"].as_u64().expect("total is a count")
    }

    /// Returns the built-in group of the bundled presets named [`PRESET_GROUP`].
    pub async fn preset_group(&self, project: &Project) -> Value {
        let listing = self
            .list_groups(project, &query(&[("type", "BUILD_IN"), ("name", PRESET_GROUP), ("name_fuzzy_match", "false")]))
            .await;
        assert_eq!(listing["total"], 1, "expected one built-in group named {PRESET_GROUP}: {listing}");
        data(&listing)[0].clone()
    }

    /// Returns the built-in images of [`PRESET_GROUP`].
    pub async fn preset_images(&self, project: &Project) -> Vec<Value> {
        let listing = self
            .list_images(project, &query(&[("type", "BUILD_IN"), ("name", PRESET_GROUP), ("name_fuzzy_match", "false")]))
            .await;
        data(&listing).clone()
    }

    /// Issues a token for `project` valid for `ttl`.
    pub async fn issue_token(&self, project: &Project, ttl: Duration) -> String {
        let id = ProjectId::parse(&project.id).expect("the project id is valid");
        self.state.authenticator.issue_token(&id, ttl).await.expect("a token can be issued").token
    }
}

/// Waits long enough that the next change gets a later millisecond time
/// than the last one, so tests of the order do not depend on timing.
pub async fn next_millisecond() {
    tokio::time::sleep(Duration::from_millis(5)).await;
}

/// Returns the `id` field of an image or group as a string.
pub fn id_of(value: &Value) -> String {
    value["id"].as_str().unwrap_or_else(|| panic!("no id in {value}")).to_owned()
}
