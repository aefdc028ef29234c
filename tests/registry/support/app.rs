//! easel served on a free loopback port with a fresh SQLite database,
//! configured from the same flags an operator would pass.

use std::time::Duration;

use clap::Parser;
use easel::app::App;
use easel::catalogue::fields::ProjectId;
use easel::config::{Cli, Command};
use serde_json::Value;
use tempfile::TempDir;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// The secret the tests' registries send with their notifications.
pub const EVENTS_SECRET: &str = "test-events-secret-0f6c";

/// An easel whose port is bound but which is not serving yet, so that a
/// registry can be configured to send its notifications there first.
pub struct AppBuilder {
    listener: TcpListener,
    dir: TempDir,
    args: Vec<String>,
}

impl AppBuilder {
    pub async fn new() -> AppBuilder {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let dir = tempfile::tempdir().unwrap();
        let args = vec![
            "easel".to_owned(),
            "serve".to_owned(),
            "--database".to_owned(),
            format!("sqlite://{}", dir.path().join("easel.db").display()),
            "--master-key-file".to_owned(),
            dir.path().join("master.key").display().to_string(),
        ];
        AppBuilder { listener, dir, args }
    }

    /// Returns the URL easel will receive registry events on.
    pub fn events_url(&self) -> String {
        format!("http://{}/registry/events", self.listener.local_addr().unwrap())
    }

    /// Adds a flag such as `--registry-timeout 1s`.
    pub fn flag(mut self, name: &str, value: &str) -> Self {
        self.args.push(name.to_owned());
        self.args.push(value.to_owned());
        self
    }

    pub fn registry(self, url: &str) -> Self {
        self.flag("--registry", url)
    }

    /// Turns on registry events, mapping `namespace` to `project`.
    pub fn events_for(self, namespace: &str, project: &ProjectId) -> Self {
        self.flag("--registry-events-secret", EVENTS_SECRET)
            .flag("--registry-namespace", &format!("{namespace}={project}"))
    }

    /// Starts serving, with a token for a fresh project.
    pub async fn start(self) -> TestApp {
        let project = ProjectId::generate();
        self.start_for(project).await
    }

    /// Starts serving, with a token for `project`.
    pub async fn start_for(self, project: ProjectId) -> TestApp {
        let Command::Serve(config) = Cli::try_parse_from(&self.args).expect("valid flags").command else {
            panic!("expected the serve command");
        };
        let app = App::build(&config).await.expect("app builds");
        let token =
            app.state.authenticator.issue_token(&project, Duration::from_secs(3600)).await.expect("token issued").token;
        let address = format!("http://{}", self.listener.local_addr().unwrap());
        let router = app.router();
        let server = tokio::spawn(async move {
            axum::serve(self.listener, router).await.unwrap();
        });
        TestApp {
            address,
            project,
            token,
            client: reqwest::Client::builder().timeout(Duration::from_secs(60)).build().unwrap(),
            _dir: self.dir,
            server,
        }
    }
}

pub struct TestApp {
    /// `http://127.0.0.1:PORT`.
    pub address: String,
    pub project: ProjectId,
    token: String,
    client: reqwest::Client,
    _dir: TempDir,
    server: JoinHandle<()>,
}

/// A response: its status and its JSON body (`Null` when empty).
pub struct Reply {
    pub status: u16,
    pub body: Value,
}

impl Reply {
    /// Returns the `error_code` of an error body.
    pub fn error_code(&self) -> &str {
        self.body["error_code"].as_str().unwrap_or_default()
    }

    pub fn error_msg(&self) -> &str {
        self.body["error_msg"].as_str().unwrap_or_default()
    }
}

impl TestApp {
    /// Calls `method` on `/v1/{project}{path}` with the project's token.
    pub async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Reply {
        let url = format!("{}/v1/{}{path}", self.address, self.project);
        let mut request = self.client.request(method, url).header("X-Auth-Token", &self.token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        read(request.send().await.expect("easel answers")).await
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.call(reqwest::Method::GET, path, None).await
    }

    pub async fn register(&self, swr_path: &str, arch: Option<&str>) -> Reply {
        let mut body = serde_json::json!({"swr_path": swr_path});
        if let Some(arch) = arch {
            body["arch"] = arch.into();
        }
        self.call(reqwest::Method::POST, "/images", Some(body)).await
    }

    pub async fn sync(&self, id: &str) -> Reply {
        self.call(reqwest::Method::POST, &format!("/images/{id}/sync"), None).await
    }

    /// Lists the project's dedicated images.
    pub async fn dedicated_images(&self) -> Vec<Value> {
        let reply = self.get("/images?type=DEDICATED").await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        reply.body["data"].as_array().unwrap().clone()
    }

    /// Posts a registry event envelope with the `Authorization` header given.
    pub async fn post_events(&self, authorization: Option<&str>, envelope: &Value) -> Reply {
        let mut request = self
            .client
            .post(format!("{}/registry/events", self.address))
            .header("Content-Type", "application/vnd.docker.distribution.events.v1+json")
            .body(serde_json::to_vec(envelope).unwrap());
        if let Some(authorization) = authorization {
            request = request.header("Authorization", authorization);
        }
        read(request.send().await.expect("easel answers")).await
    }

    /// Polls the dedicated images until `found` picks one, for at most 20 seconds.
    pub async fn wait_for_image(&self, what: &str, found: impl Fn(&Value) -> bool) -> Value {
        for _ in 0..400 {
            if let Some(image) = self.dedicated_images().await.into_iter().find(|image| found(image)) {
                return image;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("no image matching '{what}' appeared within 20 seconds: {:?}", self.dedicated_images().await);
    }
}

async fn read(response: reqwest::Response) -> Reply {
    let status = response.status().as_u16();
    let bytes = response.bytes().await.expect("body");
    let body = if bytes.is_empty() { Value::Null } else { serde_json::from_slice(&bytes).unwrap_or(Value::Null) };
    Reply { status, body }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.server.abort();
    }
}
