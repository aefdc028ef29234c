//! Several easel processes on one PostgreSQL database, driven over HTTP as
//! clients would: replicas changing the same groups at once keep every
//! count right, a listing one replica cached is not served after another
//! replica's write, and a replica that loses its database returns 503 and
//! recovers by itself once the database is back.

#[path = "../support/postgres.rs"]
mod pg;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{json, Value};
use sqlx::{Connection, PgConnection};

const PROJECT: &str = "0123456789abcdef0123456789abcdef";

/// One `easel serve` process, killed when dropped.
struct Service {
    child: Child,
    base: String,
    log: PathBuf,
}

impl Service {
    /// Starts the built binary on a free port and waits until `/health` returns 200.
    async fn start(database_url: &str, dir: &Path, name: &str) -> Service {
        let port = pg::free_port();
        let log = dir.join(format!("{name}.log"));
        let log_file = std::fs::File::create(&log).expect("failed to create the service log");
        let child = Command::new(env!("CARGO_BIN_EXE_easel"))
            .arg("serve")
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .args(["--database", database_url])
            .arg("--master-key-file")
            .arg(dir.join("master.key"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log_file)
            .spawn()
            .expect("failed to start easel");
        let mut service = Service { child, base: format!("http://127.0.0.1:{port}"), log };
        service.wait_until_healthy().await;
        service
    }

    async fn wait_until_healthy(&mut self) {
        let client = reqwest::Client::new();
        for _ in 0..300 {
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!("easel exited with {status} during start:\n{}", self.log_text());
            }
            if let Ok(response) = client.get(format!("{}/health", self.base)).send().await {
                if response.status() == StatusCode::OK {
                    return;
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("easel did not become healthy within 30 s:\n{}", self.log_text());
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Creates a token for `PROJECT` with the binary's own command.
fn create_token(database_url: &str, dir: &Path) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_easel"))
        .args(["token", "create", "--project-id", PROJECT, "--database", database_url])
        .arg("--master-key-file")
        .arg(dir.join("master.key"))
        .output()
        .expect("failed to run easel token create");
    assert!(output.status.success(), "easel token create failed: {}", String::from_utf8_lossy(&output.stderr));
    let issued: Value = serde_json::from_slice(&output.stdout).expect("token create prints JSON");
    issued["token"].as_str().expect("the output has a token").to_owned()
}

/// An API client for one service, with a token for `PROJECT`.
#[derive(Clone)]
struct Api {
    client: reqwest::Client,
    base: String,
    token: String,
}

impl Api {
    fn new(service: &Service, token: &str) -> Api {
        let client = reqwest::Client::builder().timeout(Duration::from_secs(20)).build().unwrap();
        Api { client, base: service.base.clone(), token: token.to_owned() }
    }

    async fn send(&self, request: reqwest::RequestBuilder) -> (StatusCode, Value) {
        let response = request.header("X-Auth-Token", &self.token).send().await.expect("request failed to send");
        let status = response.status();
        let body = response.json().await.unwrap_or(Value::Null);
        (status, body)
    }

    async fn register(&self, swr_path: &str) -> (StatusCode, Value) {
        let url = format!("{}/v1/{PROJECT}/images", self.base);
        self.send(self.client.post(url).json(&json!({ "swr_path": swr_path }))).await
    }

    async fn delete_image(&self, id: &str) -> (StatusCode, Value) {
        self.send(self.client.delete(format!("{}/v1/{PROJECT}/images/{id}", self.base))).await
    }

    async fn delete_group(&self, id: &str) -> (StatusCode, Value) {
        self.send(self.client.delete(format!("{}/v1/{PROJECT}/images/group/{id}", self.base))).await
    }

    async fn list_groups(&self) -> (StatusCode, Value) {
        let url = format!("{}/v1/{PROJECT}/images/group?type=DEDICATED&limit=1000", self.base);
        self.send(self.client.get(url)).await
    }
}

/// Finds the id of the caller's group called `name`.
async fn group_id(api: &Api, name: &str) -> Option<String> {
    let (status, body) = api.list_groups().await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["data"].as_array()?.iter().find(|g| g["name"] == name)?["id"].as_str().map(str::to_owned)
}

/// Sends one client's share of the concurrent requests: registers references
/// in four shared groups, deletes images it registered, and every 25th request
/// deletes a whole group. Returns how many registrations succeeded.
async fn hammer(api: Api, worker: usize, requests: usize) -> usize {
    let mut registered: Vec<String> = Vec::new();
    let mut successes = 0;
    for i in 0..requests {
        let group = (worker + i) % 4;
        // Tags repeat across workers and replicas, so some registrations collide.
        let swr_path = format!("registry.test:5000/team/model{group}:v{}", i % 10);
        let (status, body) = if i % 25 == 24 {
            match group_id(&api, &format!("model{group}")).await {
                Some(id) => api.delete_group(&id).await,
                None => api.register(&swr_path).await,
            }
        } else if i % 3 == 2 && !registered.is_empty() {
            api.delete_image(&registered.remove(0)).await
        } else {
            api.register(&swr_path).await
        };
        match (status, body["error_code"].as_str()) {
            (StatusCode::OK, _) => {
                if body["status"] == "ACTIVE" {
                    successes += 1;
                    registered.push(body["id"].as_str().expect("an image has an id").to_owned());
                }
            }
            // Another client registered the same reference, or deleted the image or group first.
            (StatusCode::BAD_REQUEST, Some("ModelArts.6737")) | (StatusCode::NOT_FOUND, _) => {}
            other => panic!("unexpected answer {other:?}: {body}"),
        }
    }
    successes
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_replicas_keep_group_counts() {
    let dir = tempfile::tempdir().unwrap();
    let url = pg::shared_cluster().create_database().await;
    // Both replicas start at once on an empty database: migrations and presets must not collide.
    let (first, second) = tokio::join!(Service::start(&url, dir.path(), "first"), Service::start(&url, dir.path(), "second"));
    let token = create_token(&url, dir.path());
    let apis = [Api::new(&first, &token), Api::new(&second, &token)];

    // 200 requests per replica, from four clients each.
    let mut workers = Vec::new();
    for (replica, api) in apis.iter().enumerate() {
        for client in 0..4 {
            workers.push(tokio::spawn(hammer(api.clone(), replica * 4 + client, 50)));
        }
    }
    let mut registrations = 0;
    for worker in workers {
        registrations += worker.await.unwrap();
    }
    assert!(registrations > 0, "no registration succeeded");

    let mut db = PgConnection::connect(&url).await.unwrap();
    let drift: Vec<(String, i64, i64)> = sqlx::query_as(
        "SELECT g.name, g.version_count, \
           (SELECT COUNT(*) FROM images i WHERE i.group_id = g.id AND NOT i.deleted) AS live \
         FROM image_groups g ORDER BY g.name",
    )
    .fetch_all(&mut db)
    .await
    .unwrap();
    assert!(!drift.is_empty());
    for (name, version_count, live) in &drift {
        assert_eq!(version_count, live, "group {name}: version_count {version_count}, images {live}");
    }

    // Each replica lists the same groups with the same counts.
    let (status, from_first) = apis[0].list_groups().await;
    assert_eq!(status, StatusCode::OK);
    let (_, from_second) = apis[1].list_groups().await;
    assert_eq!(from_first["data"], from_second["data"]);
    let listed = from_first["data"].as_array().map_or(0, Vec::len);
    assert_eq!(from_first["total"], listed, "the kept total must equal the groups listed");
    let duplicates: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM (SELECT swr_path FROM images WHERE NOT deleted GROUP BY project_id, swr_path HAVING COUNT(*) > 1) AS d",
    )
    .fetch_one(&mut db)
    .await
    .unwrap();
    assert_eq!(duplicates, 0, "a reference is registered twice");
}

/// Returns the version counts of the caller's dedicated groups, by name.
async fn version_counts(api: &Api) -> Vec<(String, i64)> {
    let (status, body) = api.list_groups().await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let groups = body["data"].as_array().expect("a listing has data");
    groups.iter().map(|g| (g["name"].as_str().unwrap().to_owned(), g["version_count"].as_i64().unwrap())).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cached_listing_shows_other_replica_writes() {
    let dir = tempfile::tempdir().unwrap();
    let url = pg::shared_cluster().create_database().await;
    let reader = Service::start(&url, dir.path(), "reader").await;
    let writer = Service::start(&url, dir.path(), "writer").await;
    let token = create_token(&url, dir.path());
    let (reader, writer) = (Api::new(&reader, &token), Api::new(&writer, &token));
    assert_eq!(writer.register("registry.test:5000/team/model:v1").await.0, StatusCode::OK);

    // Read twice, so the reader serves the second read from its cache.
    assert_eq!(version_counts(&reader).await, [("model".to_owned(), 1)]);
    assert_eq!(version_counts(&reader).await, [("model".to_owned(), 1)]);

    let (status, registered) = writer.register("registry.test:5000/team/model:v2").await;
    assert_eq!(status, StatusCode::OK, "{registered}");
    assert_eq!(version_counts(&reader).await, [("model".to_owned(), 2)]);

    let (status, body) = writer.delete_image(registered["id"].as_str().unwrap()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(version_counts(&reader).await, [("model".to_owned(), 1)]);

    let id = group_id(&writer, "model").await.expect("the writer lists the group");
    assert_eq!(writer.delete_group(&id).await.0, StatusCode::OK);
    assert_eq!(version_counts(&reader).await, []);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replica_recovers_after_database_restart() {
    // A cluster of its own, since this test stops it.
    let cluster = pg::PgCluster::start();
    let dir = tempfile::tempdir().unwrap();
    let url = cluster.create_database().await;
    let service = Service::start(&url, dir.path(), "service").await;
    let api = Api::new(&service, &create_token(&url, dir.path()));
    assert_eq!(api.list_groups().await.0, StatusCode::OK);

    cluster.stop_server();
    let (status, body) = api.list_groups().await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["error_code"], "ModelArts.6699");
    let (status, body) = api.register("registry.test:5000/team/model:v1").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");

    cluster.start_server();
    // The pool replaces its dead connections on its own; wait, bounded, for the first success.
    let mut recovered = false;
    for _ in 0..40 {
        if api.list_groups().await.0 == StatusCode::OK {
            recovered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert!(recovered, "the service did not recover within 40 attempts:\n{}", service.log_text());
    let (status, body) = api.register("registry.test:5000/team/model:v1").await;
    assert_eq!(status, StatusCode::OK, "{body}");
}
