//! Sync re-reads the manifest: `POST /v1/{project_id}/images/{image_id}/sync`.

use crate::support::layout::{incompressible, skopeo_delete, unique_payload, Layout};
use crate::support::registry_and_app;

#[tokio::test]
async fn sync_of_present_image_is_active() {
    let (registry, app) = registry_and_app().await;
    let layout = Layout::image("v1", "amd64", &unique_payload());
    layout.push(&registry.host, "team/notebook").await;
    let id = app.register("team/notebook:v1", None).await.body["id"].as_str().unwrap().to_owned();

    let reply = app.sync(&id).await;

    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body["status"], "ACTIVE");
    assert_eq!(reply.body["status_message"], "");
    assert_eq!(reply.body["size"], layout.platform("amd64").size);
}

#[tokio::test]
async fn sync_reports_tag_that_moved() {
    let (registry, app) = registry_and_app().await;
    let first = Layout::image("v1", "amd64", &unique_payload());
    first.push(&registry.host, "team/notebook").await;
    let id = app.register("team/notebook:v1", None).await.body["id"].as_str().unwrap().to_owned();
    let second = Layout::image("v1", "arm64", &incompressible(2000));
    second.push(&registry.host, "team/notebook").await;

    let reply = app.sync(&id).await;

    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body["status"], "ACTIVE");
    assert_eq!(reply.body["arch"], "AARCH64");
    assert_eq!(reply.body["size"], second.platform("arm64").size);
    let message = reply.body["status_message"].as_str().unwrap();
    assert!(message.contains(&second.digest), "{message}");
    assert!(message.contains(&first.digest), "{message}");
}

#[tokio::test]
async fn sync_of_deleted_manifest_is_error() {
    let (registry, app) = registry_and_app().await;
    Layout::image("v1", "amd64", &unique_payload()).push(&registry.host, "team/notebook").await;
    let id = app.register("team/notebook:v1", None).await.body["id"].as_str().unwrap().to_owned();
    skopeo_delete(&registry.host, "team/notebook", "v1").await;

    let reply = app.sync(&id).await;

    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body["status"], "ERROR");
    let message = reply.body["status_message"].as_str().unwrap();
    assert!(message.contains("no manifest"), "{message}");
    assert_eq!(app.get(&format!("/images/{id}")).await.body["status"], "ERROR");
}
