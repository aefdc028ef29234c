//! Forced deletes remove manifests from the registry:
//! `DELETE /v1/{project_id}/images/{id}` and `DELETE .../images/group/{id}`.

use serde_json::json;

use crate::support::layout::{unique_payload, Layout};
use crate::support::registry_and_app;

#[tokio::test]
async fn force_delete_removes_manifest() {
    let (registry, app) = registry_and_app().await;
    let layout = Layout::image("v1", "amd64", &unique_payload());
    layout.push(&registry.host, "team/notebook").await;
    let id = app.register("team/notebook:v1", None).await.body["id"].as_str().unwrap().to_owned();

    let reply = app.call(reqwest::Method::DELETE, &format!("/images/{id}"), Some(json!({"is_force": true}))).await;

    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body["status"], "DELETED");
    assert_eq!(registry.manifest_status("team/notebook", &layout.digest).await, 404);
    assert_eq!(app.get(&format!("/images/{id}")).await.status, 404);
}

#[tokio::test]
async fn delete_without_force_keeps_manifest() {
    let (registry, app) = registry_and_app().await;
    let layout = Layout::image("v1", "amd64", &unique_payload());
    layout.push(&registry.host, "team/notebook").await;
    let id = app.register("team/notebook:v1", None).await.body["id"].as_str().unwrap().to_owned();

    let reply = app.call(reqwest::Method::DELETE, &format!("/images/{id}"), None).await;

    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(registry.manifest_status("team/notebook", &layout.digest).await, 200);
}

#[tokio::test]
async fn group_force_delete_removes_every_manifest() {
    let (registry, app) = registry_and_app().await;
    let first = Layout::image("v1", "amd64", &unique_payload());
    let second = Layout::index("v2", &[("amd64", &unique_payload()), ("arm64", &unique_payload())]);
    first.push(&registry.host, "team/notebook").await;
    second.push(&registry.host, "team/notebook").await;
    assert_eq!(app.register("team/notebook:v1", None).await.status, 200);
    assert_eq!(app.register("team/notebook:v2", None).await.status, 200);
    let groups = app.get("/images/group?name=notebook&name_fuzzy_match=false").await;
    let group_id = groups.body["data"][0]["id"].as_str().expect("group listed").to_owned();

    let reply =
        app.call(reqwest::Method::DELETE, &format!("/images/group/{group_id}"), Some(json!({"is_force": true}))).await;

    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(registry.manifest_status("team/notebook", &first.digest).await, 404);
    assert_eq!(registry.manifest_status("team/notebook", &second.digest).await, 404);
    assert!(app.dedicated_images().await.is_empty());
}

#[tokio::test]
async fn force_delete_keeps_public_manifest() {
    let (registry, app) = registry_and_app().await;
    let layout = Layout::image("v1", "amd64", &unique_payload());
    layout.push(&registry.host, "team/notebook").await;
    let body = json!({"swr_path": "team/notebook:v1", "visibility": "PUBLIC"});
    let id = app.call(reqwest::Method::POST, "/images", Some(body)).await.body["id"].as_str().unwrap().to_owned();

    let reply = app.call(reqwest::Method::DELETE, &format!("/images/{id}"), Some(json!({"is_force": true}))).await;

    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body["status"], "DELETED");
    assert_eq!(registry.manifest_status("team/notebook", &layout.digest).await, 200);
}
