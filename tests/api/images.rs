//! `POST /v1/{project_id}/images` (register), `GET .../images/{id}` (show),
//! `DELETE .../images/{id}` and `POST .../images/{id}/sync`.

use serde_json::{json, Value};
use tokio::task::JoinSet;

use crate::helpers::{id_of, keys, spawn_app, TestApp, DEFAULT_REGISTRY_HOST};

/// Every field an `ImageResponse` of a registered image carries.
const IMAGE_FIELDS: [&str; 20] = [
    "arch",
    "create_at",
    "description",
    "dev_services",
    "id",
    "name",
    "namespace",
    "origin",
    "resource_categories",
    "service_type",
    "size",
    "status",
    "status_message",
    "swr_path",
    "tag",
    "tags",
    "type",
    "update_at",
    "visibility",
    "workspace_id",
];

#[tokio::test]
async fn register_applies_documented_defaults() {
    let app = spawn_app().await;

    let image = app.register(&app.project, "defaults/pytorch:2.1.0-cuda").await;

    let fields = keys(&image);
    for field in IMAGE_FIELDS {
        assert!(fields.contains(&field.to_owned()), "{field} missing from {image}");
    }
    assert!(uuid::Uuid::parse_str(&id_of(&image)).is_ok(), "{image}");
    assert_eq!(image["type"], "DEDICATED");
    assert_eq!(image["status"], "ACTIVE");
    assert_eq!(image["arch"], "X86_64");
    assert_eq!(image["origin"], "CUSTOMIZE");
    assert_eq!(image["resource_categories"], json!(["CPU", "GPU"]));
    assert_eq!(image["service_type"], "UNKNOWN");
    assert_eq!(image["dev_services"], json!(["NOTEBOOK", "SSH"]));
    assert_eq!(image["visibility"], "PRIVATE");
    assert_eq!(image["workspace_id"], "0");
    assert_eq!(image["namespace"], "defaults");
    assert_eq!(image["name"], "pytorch");
    assert_eq!(image["tag"], "2.1.0-cuda");
    assert_eq!(image["description"], "");
    assert_eq!(image["tags"], json!([]));
    assert_eq!(image["size"], 0);
    assert_eq!(image["create_at"], image["update_at"]);
    assert!(image["create_at"].as_i64().unwrap() > 1_600_000_000_000, "times are epoch milliseconds: {image}");
    assert!(image["swr_path"].as_str().unwrap().ends_with("defaults/pytorch:2.1.0-cuda"), "{image}");
}

#[tokio::test]
async fn register_keeps_every_given_field() {
    let app = spawn_app().await;
    let workspace = "abcdefghijklmnopqrstuvwxyz012345";
    let body = json!({
        "swr_path": "given/fields:v1.0.0",
        "arch": "aarch64",
        "description": "A model for reading receipts.",
        "origin": "image_save",
        "resource_category": ["ascend", "Cpu"],
        "service_type": "inference",
        "services": ["ssh"],
        "visibility": "public",
        "workspace_id": workspace,
        "flavor_type": "modelarts.vm.cpu.2u",
        "tags": [{ "key": "team", "value": "ocr" }],
        "swr_instance_id": "instance-1",
        "read_me": "Use with care.",
        "not_in_the_contract": true,
    });

    let image = app.register_with(&app.project, body).await;

    assert_eq!(image["arch"], "AARCH64");
    assert_eq!(image["description"], "A model for reading receipts.");
    assert_eq!(image["origin"], "IMAGE_SAVE");
    assert_eq!(image["resource_categories"], json!(["ASCEND", "CPU"]));
    assert_eq!(image["service_type"], "INFERENCE");
    assert_eq!(image["dev_services"], json!(["SSH"]));
    assert_eq!(image["visibility"], "PUBLIC");
    assert_eq!(image["workspace_id"], workspace);
    assert_eq!(image["flavor_type"], "modelarts.vm.cpu.2u");
    assert_eq!(image["tags"], json!([{ "key": "team", "value": "ocr" }]));
    assert_eq!(image["swr_instance_id"], "instance-1");
}

#[tokio::test]
async fn register_splits_nested_repository_after_namespace() {
    let app = spawn_app().await;

    let image = app.register(&app.project, "team/ml/pytorch:2.1").await;

    assert_eq!(image["namespace"], "team");
    assert_eq!(image["name"], "ml/pytorch");
    assert_eq!(image["tag"], "2.1");
}

#[tokio::test]
async fn register_reads_host_and_port_before_namespace() {
    let app = spawn_app().await;

    let with_port = app.register(&app.project, "registry.example.com:5000/ns/img:v1.0.0").await;
    let localhost = app.register(&app.project, "localhost/team/img:v2.0.0").await;

    assert_eq!(with_port["namespace"], "ns");
    assert_eq!(with_port["name"], "img");
    assert_eq!(with_port["tag"], "v1.0.0");
    assert!(with_port["swr_path"].as_str().unwrap().starts_with("registry.example.com:5000/"), "{with_port}");
    assert_eq!(localhost["namespace"], "team");
    assert!(localhost["swr_path"].as_str().unwrap().starts_with("localhost/"), "{localhost}");
}

#[tokio::test]
async fn register_accepts_digest_after_tag() {
    let app = spawn_app().await;
    let digest = format!("sha256:{}", "0123456789abcdef".repeat(4));

    let image = app.register(&app.project, &format!("pinned/img:v1@{digest}")).await;

    assert_eq!(image["tag"], "v1");
    assert_eq!(image["name"], "img");
    assert_eq!(image["swr_path"], format!("localhost:5000/pinned/img:v1@{digest}"));
}

#[tokio::test]
async fn same_tag_with_digest_is_conflict() {
    let app = spawn_app().await;
    let digest = format!("sha256:{}", "0123456789abcdef".repeat(4));
    app.register(&app.project, "dig/model:v1.0.0").await;

    let reply = app.post(&app.project, "/images", &json!({ "swr_path": format!("dig/model:v1.0.0@{digest}") })).await;

    reply.assert_error(400, "ModelArts.6737", &["Conflict tag v1.0.0 for image model, tag cannot be duplicated."]);
    assert_eq!(app.dedicated_image_count(&app.project).await, 1);
}

#[tokio::test]
async fn registering_same_reference_twice_is_conflict() {
    let app = spawn_app().await;
    app.register(&app.project, "twice/model:v1.0.0").await;

    let reply = app.post(&app.project, "/images", &json!({ "swr_path": "twice/model:v1.0.0" })).await;

    reply.assert_error(400, "ModelArts.6737", &["Conflict tag v1.0.0 for image model, tag cannot be duplicated."]);
    assert_eq!(app.dedicated_image_count(&app.project).await, 1);
}

#[tokio::test]
async fn reference_with_implied_host_equals_explicit_default_host() {
    let app = spawn_app().await;
    app.register(&app.project, "implied/model:v1.0.0").await;

    let body = json!({ "swr_path": format!("{DEFAULT_REGISTRY_HOST}/implied/model:v1.0.0") });
    let reply = app.post(&app.project, "/images", &body).await;

    reply.assert_error(400, "ModelArts.6737", &["v1", "model"]);
    assert_eq!(app.dedicated_image_count(&app.project).await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_registrations_of_one_reference_leave_one_image() {
    let app = spawn_app().await;
    const ATTEMPTS: usize = 16;

    let mut tasks = JoinSet::new();
    for _ in 0..ATTEMPTS {
        let app: TestApp = app.clone();
        tasks.spawn(async move {
            let reply = app.post(&app.project, "/images", &json!({ "swr_path": "race/model:v1.0.0" })).await;
            (reply.status, reply.body)
        });
    }
    let mut replies = Vec::new();
    while let Some(result) = tasks.join_next().await {
        replies.push(result.expect("the task finished"));
    }

    let successes = replies.iter().filter(|(status, _)| *status == 200).count();
    assert_eq!(successes, 1, "{replies:?}");
    for (status, body) in replies.iter().filter(|(status, _)| *status != 200) {
        assert_eq!(*status, 400, "{body}");
        assert_eq!(body["error_code"], "ModelArts.6737", "{body}");
    }
    assert_eq!(app.dedicated_image_count(&app.project).await, 1);
    assert_eq!(app.dedicated_group(&app.project, "model").await["version_count"], 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_registrations_of_one_group_count_every_version() {
    let app = spawn_app().await;
    const VERSIONS: usize = 16;

    let mut tasks = JoinSet::new();
    for i in 0..VERSIONS {
        let app: TestApp = app.clone();
        tasks.spawn(async move { app.register(&app.project, &format!("crowd/model:v{i}.0.0")).await });
    }
    let mut created_at = Vec::new();
    while let Some(result) = tasks.join_next().await {
        created_at.push(result.expect("the task finished")["create_at"].as_i64().unwrap());
    }

    let group = app.dedicated_group(&app.project, "model").await;
    assert_eq!(group["version_count"], VERSIONS as u64);
    assert_eq!(group["create_at"].as_i64(), created_at.iter().min().copied());
    assert_eq!(app.dedicated_image_count(&app.project).await, VERSIONS as u64);
    assert_eq!(app.dedicated_group_count(&app.project).await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_deletes_of_one_image_succeed_once() {
    let app = spawn_app().await;
    let image = app.register(&app.project, "contested/model:v1.0.0").await;
    app.register(&app.project, "contested/model:v2.0.0").await;
    const ATTEMPTS: usize = 8;

    let mut tasks = JoinSet::new();
    for _ in 0..ATTEMPTS {
        let app: TestApp = app.clone();
        let path = format!("/images/{}", id_of(&image));
        tasks.spawn(async move { app.delete(&app.project, &path).await.status });
    }
    let mut statuses = Vec::new();
    while let Some(result) = tasks.join_next().await {
        statuses.push(result.expect("the task finished"));
    }

    statuses.sort();
    let mut expected = vec![404; ATTEMPTS - 1];
    expected.insert(0, 200);
    assert_eq!(statuses, expected);
    assert_eq!(app.dedicated_group(&app.project, "model").await["version_count"], 1);
    assert_eq!(app.dedicated_image_count(&app.project).await, 1);
}

#[tokio::test]
async fn same_reference_in_two_projects_is_two_images() {
    let app = spawn_app().await;

    let mine = app.register(&app.project, "shared/model:v1.0.0").await;
    let theirs = app.register(&app.other_project, "shared/model:v1.0.0").await;

    assert_ne!(mine["id"], theirs["id"]);
    assert_eq!(app.dedicated_group(&app.project, "model").await["version_count"], 1);
    assert_eq!(app.dedicated_group(&app.other_project, "model").await["version_count"], 1);
}

#[tokio::test]
async fn reference_can_be_registered_again_after_delete() {
    let app = spawn_app().await;
    let first = app.register(&app.project, "again/model:v1.0.0").await;
    app.delete(&app.project, &format!("/images/{}", id_of(&first))).await.ok();

    let second = app.register(&app.project, "again/model:v1.0.0").await;

    assert_ne!(first["id"], second["id"]);
    assert_eq!(app.dedicated_image_count(&app.project).await, 1);
}

#[tokio::test]
async fn show_returns_registered_image() {
    let app = spawn_app().await;
    let image = app.register(&app.project, "shown/model:v1.0.0").await;

    let shown = app.get(&app.project, &format!("/images/{}", id_of(&image)), "").await.ok();

    assert_eq!(shown, image);
}

#[tokio::test]
async fn show_of_unknown_id_is_not_found() {
    let app = spawn_app().await;
    let unknown = uuid::Uuid::new_v4().to_string();

    for id in [unknown.as_str(), "not-a-uuid", "12345"] {
        let reply = app.get(&app.project, &format!("/images/{id}"), "").await;
        reply.assert_error(404, "ModelArts.6797", &[id]);
    }
    for undecodable in ["%ff", "%C3%28"] {
        let reply = app.get(&app.project, &format!("/images/{undecodable}"), "").await;
        reply.assert_error(404, "ModelArts.6797", &[]);
    }
}

#[tokio::test]
async fn delete_marks_image_deleted_and_hides_it() {
    let app = spawn_app().await;
    let image = app.register(&app.project, "deleted/model:v1.0.0").await;
    let path = format!("/images/{}", id_of(&image));

    let deleted = app.delete(&app.project, &path).await.ok();

    assert_eq!(deleted["id"], image["id"]);
    assert_eq!(deleted["status"], "DELETED");
    assert_eq!(deleted["swr_path"], image["swr_path"]);
    app.get(&app.project, &path, "").await.assert_error(404, "ModelArts.6797", &[&id_of(&image)]);
    assert_eq!(app.dedicated_image_count(&app.project).await, 0);
    assert_eq!(app.dedicated_group_count(&app.project).await, 0);
    app.delete(&app.project, &path).await.assert_error(404, "ModelArts.6797", &[&id_of(&image)]);
}

#[tokio::test]
async fn delete_accepts_force_flag_and_rejects_wrong_type() {
    let app = spawn_app().await;
    let image = app.register(&app.project, "forced/model:v1.0.0").await;
    let path = TestApp::path(&app.project, &format!("/images/{}", id_of(&image)));

    for body in [r#"{"is_force": "yes"}"#, r#"{"is_force": 1}"#] {
        let reply = app.call_bytes(&app.project, "DELETE", &path, "", body.as_bytes().to_vec()).await;
        reply.assert_error(400, "ModelArts.0101", &["is_force"]);
    }
    assert_eq!(app.dedicated_image_count(&app.project).await, 1);

    let deleted = app.call_bytes(&app.project, "DELETE", &path, "", br#"{"is_force": true}"#.to_vec()).await.ok();
    assert_eq!(deleted["status"], "DELETED");
}

#[tokio::test]
async fn delete_with_force_false_deletes() {
    let app = spawn_app().await;
    let image = app.register(&app.project, "unforced/model:v1.0.0").await;
    let path = TestApp::path(&app.project, &format!("/images/{}", id_of(&image)));

    let deleted = app.call_bytes(&app.project, "DELETE", &path, "", br#"{"is_force": false}"#.to_vec()).await.ok();

    assert_eq!(deleted["status"], "DELETED");
    assert_eq!(app.dedicated_image_count(&app.project).await, 0);
}

#[tokio::test]
async fn sync_without_registry_returns_image_as_it_stands() {
    let app = spawn_app().await;
    let image = app.register(&app.project, "synced/model:v1.0.0").await;

    let synced: Value = app.post(&app.project, &format!("/images/{}/sync", id_of(&image)), &json!({})).await.ok();
    let empty_body = app
        .call_bytes(&app.project, "POST", &TestApp::path(&app.project, &format!("/images/{}/sync", id_of(&image))), "", Vec::new())
        .await
        .ok();

    assert_eq!(synced["id"], image["id"]);
    assert_eq!(synced["status"], "ACTIVE");
    assert_eq!(synced["swr_path"], image["swr_path"]);
    assert_eq!(empty_body["status"], "ACTIVE");
}

#[tokio::test]
async fn sync_of_unknown_or_deleted_image_is_not_found() {
    let app = spawn_app().await;
    let image = app.register(&app.project, "synced/model:v1.0.0").await;
    app.delete(&app.project, &format!("/images/{}", id_of(&image))).await.ok();
    let unknown = uuid::Uuid::new_v4().to_string();

    for id in [id_of(&image), unknown] {
        let reply = app.post(&app.project, &format!("/images/{id}/sync"), &json!({})).await;
        reply.assert_error(404, "ModelArts.6797", &[&id]);
    }
}

#[tokio::test]
async fn same_reference_in_another_workspace_is_conflict() {
    let app = spawn_app().await;
    app.register(&app.project, "spaces/model:v1.0.0").await;

    let body = json!({ "swr_path": "spaces/model:v1.0.0", "workspace_id": "0123456789abcdefghijklmnopqrstuv" });
    let reply = app.post(&app.project, "/images", &body).await;

    reply.assert_error(400, "ModelArts.6737", &["v1.0.0", "model"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_duplicates_fail_alone() {
    let app = spawn_app().await;
    const DISTINCT: usize = 12;
    const DUPLICATES: usize = 4;

    let mut tasks = JoinSet::new();
    for i in 0..DISTINCT + DUPLICATES {
        let app: TestApp = app.clone();
        let reference = if i < DISTINCT { format!("mixed/model:v{i}.0.0") } else { "mixed/model:same".to_owned() };
        tasks.spawn(async move {
            let reply = app.post(&app.project, "/images", &json!({ "swr_path": reference })).await;
            (reply.status, reply.body)
        });
    }
    let mut replies = Vec::new();
    while let Some(result) = tasks.join_next().await {
        replies.push(result.expect("the task finished"));
    }

    let successes = replies.iter().filter(|(status, _)| *status == 200).count();
    assert_eq!(successes, DISTINCT + 1, "{replies:?}");
    assert_eq!(app.dedicated_image_count(&app.project).await, (DISTINCT + 1) as u64);
    assert_eq!(app.dedicated_group(&app.project, "model").await["version_count"], (DISTINCT + 1) as u64);
}

#[tokio::test]
async fn listings_show_a_registration_at_once() {
    let app = spawn_app().await;
    let groups_before = app.get(&app.project, "/images/group", "").await.body["total"].as_u64().unwrap();
    let images_before = app.get(&app.project, "/images", "").await.body["total"].as_u64().unwrap();

    app.register(&app.project, "fresh/model:v1.0.0").await;

    let groups_after = app.get(&app.project, "/images/group", "").await.body["total"].as_u64().unwrap();
    let images_after = app.get(&app.project, "/images", "").await.body["total"].as_u64().unwrap();
    assert_eq!(groups_after, groups_before + 1);
    assert_eq!(images_after, images_before + 1);
}
