//! Group summaries kept right through image changes, and
//! `PUT`/`DELETE /v1/{project_id}/images/group/{id}`.

use serde_json::json;

use crate::helpers::{data, id_of, keys, next_millisecond, query, spawn_app};

#[tokio::test]
async fn version_count_follows_registers_and_deletes() {
    let app = spawn_app().await;
    let v1 = app.register(&app.project, "counts/model:v1.0.0").await;
    let v2 = app.register(&app.project, "counts/model:v2.0.0").await;
    let v3 = app.register(&app.project, "counts/model:v3.0.0").await;
    let first_id = id_of(&app.dedicated_group(&app.project, "model").await);
    assert_eq!(app.dedicated_group(&app.project, "model").await["version_count"], 3);

    app.delete(&app.project, &format!("/images/{}", id_of(&v2))).await.ok();
    assert_eq!(app.dedicated_group(&app.project, "model").await["version_count"], 2);

    app.delete(&app.project, &format!("/images/{}", id_of(&v1))).await.ok();
    app.delete(&app.project, &format!("/images/{}", id_of(&v3))).await.ok();
    let gone = app.list_groups(&app.project, &query(&[("type", "DEDICATED"), ("name", "model")])).await;
    assert_eq!(gone["total"], 0, "{gone}");

    app.register(&app.project, "counts/model:v4.0.0").await;
    let back = app.dedicated_group(&app.project, "model").await;
    assert_eq!(back["version_count"], 1);
    assert_eq!(id_of(&back), first_id, "the group keeps its id");
}

#[tokio::test]
async fn group_id_is_stable_as_versions_are_added() {
    let app = spawn_app().await;
    app.register(&app.project, "stable/model:v1.0.0").await;
    let before = app.dedicated_group(&app.project, "model").await;

    app.register(&app.project, "stable/model:v2.0.0").await;
    let after = app.dedicated_group(&app.project, "model").await;

    assert_eq!(id_of(&before), id_of(&after));
}

#[tokio::test]
async fn group_times_follow_remaining_images_after_delete() {
    let app = spawn_app().await;
    let v1 = app.register(&app.project, "times/model:v1.0.0").await;
    next_millisecond().await;
    let v2 = app.register(&app.project, "times/model:v2.0.0").await;
    next_millisecond().await;

    let deleted = app.delete(&app.project, &format!("/images/{}", id_of(&v1))).await.ok();
    let group = app.dedicated_group(&app.project, "model").await;

    assert_eq!(group["create_at"], v2["create_at"], "create_at is the earliest remaining image's");
    assert!(group["update_at"].as_i64() >= deleted["update_at"].as_i64(), "the delete is the latest change: {group}");
    assert!(group["update_at"].as_i64() > v2["update_at"].as_i64(), "{group}");
}

#[tokio::test]
async fn deleting_image_leaves_other_groups_alone() {
    let app = spawn_app().await;
    let doomed = app.register(&app.project, "apart/doomed:v1.0.0").await;
    app.register(&app.project, "apart/kept:v1.0.0").await;
    app.register(&app.project, "apart/kept:v2.0.0").await;
    let kept_before = app.dedicated_group(&app.project, "kept").await;

    app.delete(&app.project, &format!("/images/{}", id_of(&doomed))).await.ok();

    assert_eq!(app.dedicated_group(&app.project, "kept").await, kept_before);
}

#[tokio::test]
async fn rejected_duplicate_leaves_count_unchanged() {
    let app = spawn_app().await;
    app.register(&app.project, "dupes/model:v1.0.0").await;
    let before = app.dedicated_group(&app.project, "model").await;

    let reply = app.post(&app.project, "/images", &json!({ "swr_path": "dupes/model:v1.0.0" })).await;

    reply.assert_error(400, "ModelArts.6737", &["v1", "model"]);
    assert_eq!(app.dedicated_group(&app.project, "model").await, before);
}

#[tokio::test]
async fn group_update_sets_read_me_and_tags() {
    let app = spawn_app().await;
    app.register(&app.project, "update/model:v1.0.0").await;
    let group = app.dedicated_group(&app.project, "model").await;
    next_millisecond().await;

    let body = json!({ "read_me": "# Model\nTrained on CIFAR.", "tags": [{ "key": "team", "value": "vision" }] });
    let updated = app.put(&app.project, &format!("/images/group/{}", id_of(&group)), &body).await.ok();

    assert_eq!(updated["id"], group["id"]);
    assert_eq!(updated["name"], "model");
    assert_eq!(updated["namespace"], "update");
    assert_eq!(updated["version_count"], 1);
    assert_eq!(updated["read_me"], "# Model\nTrained on CIFAR.");
    assert!(updated["update_at"].as_i64() > group["update_at"].as_i64(), "{updated}");
    let listed = app.dedicated_group(&app.project, "model").await;
    assert_eq!(listed["read_me"], "# Model\nTrained on CIFAR.");
    assert_eq!(listed["update_at"], updated["update_at"]);
}

#[tokio::test]
async fn group_update_with_empty_object_keeps_fields() {
    let app = spawn_app().await;
    app.register(&app.project, "update/model:v1.0.0").await;
    let group = app.dedicated_group(&app.project, "model").await;

    let updated = app.put(&app.project, &format!("/images/group/{}", id_of(&group)), &json!({})).await.ok();

    assert_eq!(updated["version_count"], 1);
    assert_eq!(updated["create_at"], group["create_at"]);
    assert!(updated.get("read_me").is_none() || updated["read_me"] == "", "{updated}");
}

#[tokio::test]
async fn group_update_rejects_bad_fields_and_changes_nothing() {
    let app = spawn_app().await;
    app.register(&app.project, "update/model:v1.0.0").await;
    let group = app.dedicated_group(&app.project, "model").await;
    let path = format!("/images/group/{}", id_of(&group));
    let too_many_tags: Vec<_> = (0..21).map(|i| json!({ "key": format!("k{i}"), "value": "v" })).collect();

    let cases = [
        (json!({ "read_me": "r".repeat(30_001) }), vec!["read_me", "30000"]),
        (json!({ "read_me": 7 }), vec!["read_me"]),
        (json!({ "tags": too_many_tags }), vec!["tags", "20"]),
        (json!({ "tags": [{ "value": "no key" }] }), vec!["tags[0].key"]),
        (json!({ "tags": [{ "key": "k".repeat(129), "value": "v" }] }), vec!["tags[0].key", "128"]),
        (json!({ "tags": [{ "key": "k", "value": "v".repeat(256) }] }), vec!["tags[0].value", "255"]),
        (json!({ "tags": "team" }), vec!["tags"]),
    ];
    for (body, fragments) in cases {
        let reply = app.put(&app.project, &path, &body).await;
        reply.assert_error(400, "ModelArts.0101", &fragments);
    }

    assert_eq!(app.dedicated_group(&app.project, "model").await, group);
}

#[tokio::test]
async fn group_update_accepts_limits_exactly() {
    let app = spawn_app().await;
    app.register(&app.project, "update/model:v1.0.0").await;
    let group = app.dedicated_group(&app.project, "model").await;
    let tags: Vec<_> = (0..20).map(|i| json!({ "key": format!("{i}{}", "k".repeat(126)), "value": "v".repeat(255) })).collect();

    let body = json!({ "read_me": "r".repeat(30_000), "tags": tags });
    let updated = app.put(&app.project, &format!("/images/group/{}", id_of(&group)), &body).await.ok();

    assert_eq!(updated["read_me"].as_str().map(str::len), Some(30_000));
}

#[tokio::test]
async fn group_update_of_unknown_group_is_not_found() {
    let app = spawn_app().await;
    let unknown = uuid::Uuid::new_v4().to_string();

    for id in [unknown.as_str(), "not-a-uuid"] {
        let reply = app.put(&app.project, &format!("/images/group/{id}"), &json!({ "read_me": "x" })).await;
        reply.assert_error(404, "ModelArts.6797", &[id]);
    }
}

#[tokio::test]
async fn group_delete_removes_every_version() {
    let app = spawn_app().await;
    let v1 = app.register(&app.project, "gone/model:v1.0.0").await;
    let v2 = app.register(&app.project, "gone/model:v2.0.0").await;
    app.register(&app.project, "gone/other:v1.0.0").await;
    let group = app.dedicated_group(&app.project, "model").await;

    let deleted = app.delete(&app.project, &format!("/images/group/{}", id_of(&group))).await.ok();

    assert_eq!(deleted["id"], group["id"]);
    assert_eq!(deleted["name"], "model");
    assert_eq!(deleted["namespace"], "gone");
    assert!(keys(&deleted).contains(&"version_count".to_owned()), "{deleted}");
    for image in [&v1, &v2] {
        let reply = app.get(&app.project, &format!("/images/{}", id_of(image)), "").await;
        reply.assert_error(404, "ModelArts.6797", &[&id_of(image)]);
    }
    let images = app.list_images(&app.project, "type=DEDICATED").await;
    assert_eq!(crate::helpers::field_of_each(&images, "name"), ["other"]);
    let groups = app.list_groups(&app.project, "type=DEDICATED").await;
    assert_eq!(crate::helpers::field_of_each(&groups, "name"), ["other"]);
    let again = app.delete(&app.project, &format!("/images/group/{}", id_of(&group))).await;
    again.assert_error(404, "ModelArts.6797", &[&id_of(&group)]);
}

#[tokio::test]
async fn group_delete_accepts_force_flag() {
    let app = spawn_app().await;
    app.register(&app.project, "forced/model:v1.0.0").await;
    let group = app.dedicated_group(&app.project, "model").await;
    let path = crate::helpers::TestApp::path(&app.project, &format!("/images/group/{}", id_of(&group)));

    let wrong_type = app.call_bytes(&app.project, "DELETE", &path, "", br#"{"is_force": "yes"}"#.to_vec()).await;
    wrong_type.assert_error(400, "ModelArts.0101", &["is_force"]);
    assert_eq!(app.dedicated_group(&app.project, "model").await, group);

    let deleted = app.call_bytes(&app.project, "DELETE", &path, "", br#"{"is_force": true}"#.to_vec()).await.ok();
    assert_eq!(deleted["id"], group["id"]);
    assert_eq!(app.dedicated_group_count(&app.project).await, 0);
}

#[tokio::test]
async fn group_delete_clears_read_me() {
    let app = spawn_app().await;
    app.register(&app.project, "docs/model:v1.0.0").await;
    let group = app.dedicated_group(&app.project, "model").await;
    let path = format!("/images/group/{}", id_of(&group));
    app.put(&app.project, &path, &json!({ "read_me": "# model" })).await.ok();
    app.delete(&app.project, &path).await.ok();

    app.register(&app.project, "docs/model:v2.0.0").await;
    let again = app.dedicated_group(&app.project, "model").await;

    assert_eq!(again["id"], group["id"]);
    assert!(again.get("read_me").is_none(), "{again}");
}

#[tokio::test]
async fn registering_after_group_delete_starts_count_afresh() {
    let app = spawn_app().await;
    app.register(&app.project, "again/model:v1.0.0").await;
    app.register(&app.project, "again/model:v2.0.0").await;
    let group = app.dedicated_group(&app.project, "model").await;
    app.delete(&app.project, &format!("/images/group/{}", id_of(&group))).await.ok();

    let image = app.register(&app.project, "again/model:v1.0.0").await;
    let listing = app.list_groups(&app.project, "type=DEDICATED").await;

    assert_eq!(data(&listing).len(), 1);
    assert_eq!(data(&listing)[0]["version_count"], 1);
    assert_eq!(data(&listing)[0]["create_at"], image["create_at"]);
}

#[tokio::test]
async fn group_description_is_newest_image_description() {
    let app = spawn_app().await;
    app.register_with(&app.project, json!({ "swr_path": "described/model:v1.0.0", "description": "first" })).await;
    next_millisecond().await;
    let newest = app
        .register_with(&app.project, json!({ "swr_path": "described/model:v2.0.0", "description": "second" }))
        .await;

    let group = app.dedicated_group(&app.project, "model").await;
    assert_eq!(group["description"], "second");

    app.delete(&app.project, &format!("/images/{}", id_of(&newest))).await.ok();
    let after = app.dedicated_group(&app.project, "model").await;
    assert_eq!(after["description"], "first");
}

#[tokio::test]
async fn group_delete_reports_deleted_versions() {
    let app = spawn_app().await;
    for tag in ["v1.0.0", "v2.0.0", "v3.0.0"] {
        app.register(&app.project, &format!("reported/model:{tag}")).await;
    }
    let group = app.dedicated_group(&app.project, "model").await;
    next_millisecond().await;

    let deleted = app.delete(&app.project, &format!("/images/group/{}", id_of(&group))).await.ok();

    assert_eq!(deleted["version_count"], 3);
    assert_eq!(deleted["create_at"], group["create_at"]);
    assert!(deleted["update_at"].as_i64() > group["update_at"].as_i64(), "update_at is the delete time: {deleted}");
}
