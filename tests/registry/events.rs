//! Registry notifications: `POST /registry/events`, sent by the registry
//! itself after a push or a delete with skopeo.

use easel::catalogue::fields::ProjectId;
use serde_json::{json, Value};

use crate::support::app::{AppBuilder, TestApp, EVENTS_SECRET};
use crate::support::distribution::{DistributionRegistry, Notifications};
use crate::support::layout::{incompressible, skopeo_delete, unique_payload, Layout};

const MANIFEST_TYPE: &str = "application/vnd.oci.image.manifest.v1+json";

/// Starts easel with namespace `team` mapped to a fresh project, and a
/// registry that notifies it.
async fn notifying_registry() -> (DistributionRegistry, TestApp) {
    let builder = AppBuilder::new().await;
    let notifications = Notifications { url: builder.events_url(), secret: EVENTS_SECRET.to_owned() };
    let registry = DistributionRegistry::start(Some(&notifications)).await;
    let project = ProjectId::generate();
    let app = builder.registry(&registry.url()).events_for("team", &project).start_for(project).await;
    (registry, app)
}

/// Builds a push event as the registry sends it, dated `timestamp` (RFC 3339).
fn push_event(repository: &str, tag: &str, digest: &str, timestamp: &str) -> Value {
    json!({"events": [{
        "id": uuid::Uuid::new_v4().to_string(),
        "timestamp": timestamp,
        "action": "push",
        "target": {"mediaType": MANIFEST_TYPE, "size": 400, "digest": digest, "repository": repository, "tag": tag},
    }]})
}

fn now() -> String {
    time::OffsetDateTime::now_utc().format(&time::format_description::well_known::Rfc3339).unwrap()
}

fn bearer() -> String {
    format!("Bearer {EVENTS_SECRET}")
}

fn ends_with(suffix: &'static str) -> impl Fn(&Value) -> bool {
    move |image| image["swr_path"].as_str().unwrap_or_default().ends_with(suffix)
}

#[tokio::test]
async fn pushed_image_appears_without_register() {
    let (registry, app) = notifying_registry().await;
    let layout = Layout::image("v1", "arm64", &unique_payload());

    layout.push(&registry.host, "team/notebook").await;

    let image = app.wait_for_image("team/notebook:v1", ends_with("/team/notebook:v1")).await;
    assert_eq!(image["status"], "ACTIVE");
    assert_eq!(image["type"], "DEDICATED");
    assert_eq!(image["arch"], "AARCH64");
    assert_eq!(image["size"], layout.platform("arm64").size);
    let groups = app.get("/images/group?name=notebook&name_fuzzy_match=false").await;
    assert_eq!(groups.body["total"], 1, "{}", groups.body);
    assert_eq!(groups.body["data"][0]["namespace"], "team");
    assert_eq!(groups.body["data"][0]["version_count"], 1);
}

#[tokio::test]
async fn pushed_index_registers_amd64_image() {
    let (registry, app) = notifying_registry().await;
    let layout = Layout::index("multi", &[("arm64", &unique_payload()), ("amd64", &incompressible(1500))]);

    layout.push(&registry.host, "team/multi").await;

    let image = app.wait_for_image("team/multi:multi", ends_with("/team/multi:multi")).await;
    assert_eq!(image["arch"], "X86_64");
    assert_eq!(image["size"], layout.platform("amd64").size);
}

#[tokio::test]
async fn repeated_and_late_events_change_nothing() {
    let (registry, app) = notifying_registry().await;
    let first = Layout::image("v1", "amd64", &unique_payload());
    let second = Layout::image("v1", "amd64", &incompressible(2000));
    first.push(&registry.host, "team/notebook").await;
    app.wait_for_image("first push", ends_with("/team/notebook:v1")).await;
    second.push(&registry.host, "team/notebook").await;
    let expected_size = second.platform("amd64").size;
    let refreshed = app.wait_for_image("second push", |image| image["size"] == expected_size).await;

    let repeated = app.post_events(Some(&bearer()), &push_event("team/notebook", "v1", &second.digest, &now())).await;
    let late = app
        .post_events(Some(&bearer()), &push_event("team/notebook", "v1", &first.digest, "2020-01-01T00:00:00Z"))
        .await;

    assert_eq!(repeated.status, 200, "{}", repeated.body);
    assert_eq!(late.status, 200, "{}", late.body);
    let images = app.dedicated_images().await;
    assert_eq!(images.len(), 1, "{images:?}");
    assert_eq!(images[0]["size"], expected_size);
    assert_eq!(images[0]["update_at"], refreshed["update_at"]);
    let message = refreshed["status_message"].as_str().unwrap();
    assert!(message.contains(&second.digest), "{message}");
}

#[tokio::test]
async fn manifest_delete_marks_image_error() {
    let (registry, app) = notifying_registry().await;
    Layout::image("v1", "amd64", &unique_payload()).push(&registry.host, "team/notebook").await;
    app.wait_for_image("push", ends_with("/team/notebook:v1")).await;

    skopeo_delete(&registry.host, "team/notebook", "v1").await;

    let image = app.wait_for_image("ERROR after delete", |image| image["status"] == "ERROR").await;
    let message = image["status_message"].as_str().unwrap();
    assert!(message.contains("deleted from the registry"), "{message}");
}

#[tokio::test]
async fn unmapped_namespace_is_ignored() {
    let (registry, app) = notifying_registry().await;
    let other = Layout::image("v1", "amd64", &unique_payload());
    other.push(&registry.host, "other/notebook").await;
    // The registry delivers events to one endpoint in order, so once the
    // mapped push shows, the unmapped one has been handled.
    Layout::image("v1", "amd64", &unique_payload()).push(&registry.host, "team/notebook").await;
    app.wait_for_image("mapped push", ends_with("/team/notebook:v1")).await;

    let direct = app.post_events(Some(&bearer()), &push_event("other/notebook", "v1", &other.digest, &now())).await;

    assert_eq!(direct.status, 200, "{}", direct.body);
    let images = app.dedicated_images().await;
    assert_eq!(images.len(), 1, "{images:?}");
    assert_eq!(images[0]["namespace"], "team");
}

#[tokio::test]
async fn events_without_secret_are_401() {
    let (_registry, app) = notifying_registry().await;
    let envelope = push_event(
        "team/notebook",
        "v1",
        "sha256:0000000000000000000000000000000000000000000000000000000000000000",
        &now(),
    );

    let wrong = app.post_events(Some("Bearer not-the-secret"), &envelope).await;
    let missing = app.post_events(None, &envelope).await;

    assert_eq!(wrong.status, 401);
    assert_eq!(wrong.error_code(), "ModelArts.0203");
    assert_eq!(missing.status, 401);
    assert!(app.dedicated_images().await.is_empty());
}

#[tokio::test]
async fn event_with_registry_down_is_503() {
    let (mut registry, app) = notifying_registry().await;
    let first = Layout::image("v1", "amd64", &unique_payload());
    first.push(&registry.host, "team/notebook").await;
    let before = app.wait_for_image("push", ends_with("/team/notebook:v1")).await;
    let second = Layout::image("v1", "amd64", &unique_payload());
    registry.stop();

    let reply = app.post_events(Some(&bearer()), &push_event("team/notebook", "v1", &second.digest, &now())).await;

    assert_eq!(reply.status, 503, "{}", reply.body);
    assert_eq!(reply.error_code(), "ModelArts.6699");
    let images = app.dedicated_images().await;
    assert_eq!(images, vec![before]);
}

#[tokio::test]
async fn events_endpoint_is_off_without_secret() {
    let (_registry, app) = crate::support::registry_and_app().await;
    let envelope = push_event(
        "team/notebook",
        "v1",
        "sha256:0000000000000000000000000000000000000000000000000000000000000000",
        &now(),
    );

    let reply = app.post_events(Some(&bearer()), &envelope).await;

    assert_eq!(reply.status, 404, "{}", reply.body);
}
