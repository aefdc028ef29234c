//! A registry that is down or slow: `503 ModelArts.6699`, nothing recorded,
//! reads still served.

use std::time::Duration;

use serde_json::json;

use crate::support::app::AppBuilder;
use crate::support::distribution::DistributionRegistry;
use crate::support::layout::{unique_payload, Layout};
use crate::support::proxy::SlowProxy;
use crate::support::registry_and_app;

#[tokio::test]
async fn stopped_registry_records_nothing() {
    let (mut registry, app) = registry_and_app().await;
    Layout::image("v1", "amd64", &unique_payload()).push(&registry.host, "team/notebook").await;
    Layout::image("v2", "amd64", &unique_payload()).push(&registry.host, "team/notebook").await;
    let id = app.register("team/notebook:v1", None).await.body["id"].as_str().unwrap().to_owned();
    registry.stop();

    let register = app.register("team/notebook:v2", None).await;
    let sync = app.sync(&id).await;
    let delete = app.call(reqwest::Method::DELETE, &format!("/images/{id}"), Some(json!({"is_force": true}))).await;

    assert_eq!(register.status, 503, "{}", register.body);
    assert_eq!(register.error_code(), "ModelArts.6699");
    assert_eq!(sync.status, 503, "{}", sync.body);
    assert_eq!(sync.error_code(), "ModelArts.6699");
    assert_eq!(delete.status, 503, "{}", delete.body);
    assert_eq!(delete.error_code(), "ModelArts.6699");
    let images = app.dedicated_images().await;
    assert_eq!(images.len(), 1, "{images:?}");
    let shown_image = app.get(&format!("/images/{id}")).await;
    assert_eq!(shown_image.status, 200);
    assert_eq!(shown_image.body["status"], "ACTIVE");
    assert_eq!(app.get("/images/group").await.status, 200);
}

#[tokio::test]
async fn slow_registry_gives_503() {
    let registry = DistributionRegistry::start(None).await;
    Layout::image("v1", "amd64", &unique_payload()).push(&registry.host, "team/notebook").await;
    // Each chunk the registry sends is held back far longer than easel waits.
    let proxy = SlowProxy::start(registry.host.clone(), Duration::from_secs(30)).await;
    let app = AppBuilder::new()
        .await
        .registry(&format!("http://{}", proxy.host))
        .flag("--registry-timeout", "1s")
        .start()
        .await;

    let reply = app.register("team/notebook:v1", None).await;

    assert_eq!(reply.status, 503, "{}", reply.body);
    assert_eq!(reply.error_code(), "ModelArts.6699");
    assert!(reply.error_msg().contains("1s"), "{}", reply.error_msg());
    assert!(app.dedicated_images().await.is_empty());
}
