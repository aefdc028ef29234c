//! Register checks the reference against the registry: `POST /v1/{project_id}/images`.

use crate::support::app::AppBuilder;
use crate::support::distribution::DistributionRegistry;
use crate::support::layout::{incompressible, unique_payload, Layout};
use crate::support::registry_and_app;

#[tokio::test]
async fn register_reads_size_and_arch() {
    let (registry, app) = registry_and_app().await;
    let layout = Layout::image("v1", "arm64", &unique_payload());
    layout.push(&registry.host, "team/notebook").await;

    let reply = app.register(&format!("{}/team/notebook:v1", registry.host), None).await;

    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body["status"], "ACTIVE");
    assert_eq!(reply.body["arch"], "AARCH64");
    assert_eq!(reply.body["size"], layout.platform("arm64").size);
    let id = reply.body["id"].as_str().unwrap();
    let shown_image = app.get(&format!("/images/{id}")).await;
    assert_eq!(shown_image.body["size"], layout.platform("arm64").size);
}

#[tokio::test]
async fn register_without_host_uses_registry() {
    let (registry, app) = registry_and_app().await;
    Layout::image("v1", "amd64", &unique_payload()).push(&registry.host, "team/notebook").await;

    let reply = app.register("team/notebook:v1", None).await;

    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body["arch"], "X86_64");
    assert_eq!(reply.body["swr_path"], format!("{}/team/notebook:v1", registry.host));
}

#[tokio::test]
async fn register_of_missing_manifest_is_2810() {
    let (registry, app) = registry_and_app().await;
    Layout::image("v1", "amd64", &unique_payload()).push(&registry.host, "team/notebook").await;

    let missing_tag = app.register("team/notebook:v9", None).await;
    let missing_repository = app.register("team/absent-image:v1", None).await;

    assert_eq!(missing_tag.status, 400);
    assert_eq!(missing_tag.error_code(), "ModelArts.2810");
    assert!(missing_tag.error_msg().contains("team/notebook:v9"), "{}", missing_tag.error_msg());
    assert_eq!(missing_repository.error_code(), "ModelArts.2810");
    assert!(app.dedicated_images().await.is_empty());
}

#[tokio::test]
async fn register_rejects_another_registry_host() {
    let (_registry, app) = registry_and_app().await;

    let reply = app.register("registry.example.com/team/notebook:v1", None).await;

    assert_eq!(reply.status, 400);
    assert_eq!(reply.error_code(), "ModelArts.0101");
    assert!(reply.error_msg().starts_with("swr_path"), "{}", reply.error_msg());
    assert!(reply.error_msg().contains("registry.example.com"), "{}", reply.error_msg());
}

#[tokio::test]
async fn register_of_index_picks_requested_arch() {
    let (registry, app) = registry_and_app().await;
    let layout = Layout::index("multi", &[("amd64", &unique_payload()), ("arm64", &incompressible(3000))]);
    layout.push(&registry.host, "team/multi").await;

    let arm = app.register("team/multi:multi", Some("AARCH64")).await;

    assert_eq!(arm.status, 200, "{}", arm.body);
    assert_eq!(arm.body["arch"], "AARCH64");
    assert_eq!(arm.body["size"], layout.platform("arm64").size);
}

#[tokio::test]
async fn register_rejects_index_lacking_arch() {
    let (registry, app) = registry_and_app().await;
    let layout = Layout::index("amd-only", &[("amd64", &unique_payload())]);
    layout.push(&registry.host, "team/multi").await;

    let reply = app.register("team/multi:amd-only", Some("AARCH64")).await;

    assert_eq!(reply.status, 400);
    assert_eq!(reply.error_code(), "ModelArts.0101");
    assert!(reply.error_msg().contains("arm64"), "{}", reply.error_msg());
    assert!(app.dedicated_images().await.is_empty());
}

#[tokio::test]
async fn register_rejects_too_large_image() {
    let registry = DistributionRegistry::start(None).await;
    let app = AppBuilder::new().await.registry(&registry.url()).flag("--max-image-size-bytes", "4000").start().await;
    let small = Layout::image("small", "amd64", &unique_payload());
    let large = Layout::image("large", "amd64", &incompressible(8000));
    small.push(&registry.host, "team/notebook").await;
    large.push(&registry.host, "team/notebook").await;

    let accepted = app.register("team/notebook:small", None).await;
    let rejected = app.register("team/notebook:large", None).await;

    assert_eq!(accepted.status, 200, "{}", accepted.body);
    assert_eq!(rejected.status, 400);
    assert_eq!(rejected.error_code(), "ModelArts.0101");
    assert!(rejected.error_msg().contains(&large.platform("amd64").size.to_string()), "{}", rejected.error_msg());
    assert!(rejected.error_msg().contains("4000"), "{}", rejected.error_msg());
}

#[tokio::test]
async fn register_of_pinned_digest_reads_it() {
    let (registry, app) = registry_and_app().await;
    let first = Layout::image("v1", "amd64", &unique_payload());
    let second = Layout::image("v1", "arm64", &incompressible(2000));
    first.push(&registry.host, "team/notebook").await;
    second.push(&registry.host, "team/notebook").await;
    let pinned = format!("team/notebook:v1@{}", first.digest);

    let reply = app.register(&pinned, None).await;
    let synced = app.sync(reply.body["id"].as_str().unwrap_or_default()).await;

    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body["swr_path"], format!("{}/{pinned}", registry.host));
    assert_eq!(reply.body["arch"], "X86_64");
    assert_eq!(reply.body["size"], first.platform("amd64").size);
    assert_eq!(synced.body["status"], "ACTIVE");
    assert_eq!(synced.body["size"], first.platform("amd64").size);
    assert_eq!(synced.body["status_message"], "");
}
