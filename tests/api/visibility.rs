//! Who sees and who changes what: project isolation, public images read by
//! id, and built-in images that no project may change.

use serde_json::json;

use crate::helpers::{data, field_of_each, id_of, query, spawn_app, PRESET_GROUP, PRESET_NAMESPACE};

#[tokio::test]
async fn private_image_of_other_project_is_not_found() {
    let app = spawn_app().await;
    let image = app.register(&app.project, "private/model:v1.0.0").await;
    let id = id_of(&image);

    let show = app.get(&app.other_project, &format!("/images/{id}"), "").await;
    let delete = app.delete(&app.other_project, &format!("/images/{id}")).await;
    let sync = app.post(&app.other_project, &format!("/images/{id}/sync"), &json!({})).await;

    show.assert_error(404, "ModelArts.6797", &[&id]);
    delete.assert_error(404, "ModelArts.6797", &[&id]);
    sync.assert_error(404, "ModelArts.6797", &[&id]);
    assert_eq!(app.get(&app.project, &format!("/images/{id}"), "").await.ok(), image);
}

#[tokio::test]
async fn other_projects_images_and_groups_are_not_listed() {
    let app = spawn_app().await;
    app.register(&app.project, "isolated/model:v1.0.0").await;
    app.register_with(&app.project, json!({ "swr_path": "isolated/public:v1.0.0", "visibility": "PUBLIC" })).await;

    let images = app.list_images(&app.other_project, "").await;
    let groups = app.list_groups(&app.other_project, "").await;
    let by_name = app.list_groups(&app.other_project, &query(&[("name", "public")])).await;

    assert!(!field_of_each(&images, "namespace").contains(&"isolated".to_owned()), "{images}");
    assert!(!field_of_each(&groups, "namespace").contains(&"isolated".to_owned()), "{groups}");
    assert_eq!(app.dedicated_image_count(&app.other_project).await, 0);
    assert_eq!(app.dedicated_group_count(&app.other_project).await, 0);
    assert_eq!(by_name["total"], 0);
}

#[tokio::test]
async fn group_of_other_project_cannot_be_changed() {
    let app = spawn_app().await;
    app.register(&app.project, "isolated/model:v1.0.0").await;
    let group = app.dedicated_group(&app.project, "model").await;
    let path = format!("/images/group/{}", id_of(&group));

    let update = app.put(&app.other_project, &path, &json!({ "read_me": "mine now" })).await;
    let delete = app.delete(&app.other_project, &path).await;

    update.assert_error(404, "ModelArts.6797", &[&id_of(&group)]);
    delete.assert_error(404, "ModelArts.6797", &[&id_of(&group)]);
    assert_eq!(app.dedicated_group(&app.project, "model").await, group);
}

#[tokio::test]
async fn public_image_is_readable_by_id_from_other_project() {
    let app = spawn_app().await;
    let image = app.register_with(&app.project, json!({ "swr_path": "open/model:v1.0.0", "visibility": "PUBLIC" })).await;
    let id = id_of(&image);

    let shown = app.get(&app.other_project, &format!("/images/{id}"), "").await.ok();

    assert_eq!(shown, image);
}

#[tokio::test]
async fn public_image_of_other_project_cannot_be_changed() {
    let app = spawn_app().await;
    let image = app.register_with(&app.project, json!({ "swr_path": "open/model:v1.0.0", "visibility": "PUBLIC" })).await;
    let id = id_of(&image);
    let group = app.dedicated_group(&app.project, "model").await;

    let delete = app.delete(&app.other_project, &format!("/images/{id}")).await;
    let sync = app.post(&app.other_project, &format!("/images/{id}/sync"), &json!({})).await;
    let group_update = app.put(&app.other_project, &format!("/images/group/{}", id_of(&group)), &json!({ "read_me": "x" })).await;

    delete.assert_error(403, "ModelArts.0108", &[&id]);
    sync.assert_error(403, "ModelArts.0108", &[&id]);
    group_update.assert_error(404, "ModelArts.6797", &[]);
    assert_eq!(app.get(&app.project, &format!("/images/{id}"), "").await.ok(), image);
    assert_eq!(app.dedicated_group(&app.project, "model").await, group);
}

#[tokio::test]
async fn built_in_group_is_visible_to_every_project() {
    let app = spawn_app().await;

    let mine = app.preset_group(&app.project).await;
    let theirs = app.preset_group(&app.other_project).await;
    let images = app.preset_images(&app.project).await;

    assert_eq!(mine, theirs);
    assert_eq!(mine["namespace"], PRESET_NAMESPACE);
    assert_eq!(mine["version_count"], 2);
    assert_eq!(images.len(), 2);
    for image in &images {
        assert_eq!(image["type"], "BUILD_IN");
        let shown = app.get(&app.other_project, &format!("/images/{}", id_of(image)), "").await.ok();
        assert_eq!(&shown, image);
    }
}

#[tokio::test]
async fn built_in_image_cannot_be_deleted_or_synced() {
    let app = spawn_app().await;
    let images = app.preset_images(&app.project).await;
    let id = id_of(&images[0]);

    let delete = app.delete(&app.project, &format!("/images/{id}")).await;
    let forced = app
        .call_bytes(
            &app.project,
            "DELETE",
            &crate::helpers::TestApp::path(&app.project, &format!("/images/{id}")),
            "",
            br#"{"is_force": true}"#.to_vec(),
        )
        .await;
    let sync = app.post(&app.project, &format!("/images/{id}/sync"), &json!({})).await;

    delete.assert_error(403, "ModelArts.0108", &[&id]);
    forced.assert_error(403, "ModelArts.0108", &[&id]);
    sync.assert_error(403, "ModelArts.0108", &[&id]);
    assert_eq!(app.get(&app.project, &format!("/images/{id}"), "").await.ok(), images[0]);
    assert_eq!(app.preset_group(&app.project).await["version_count"], 2);
}

#[tokio::test]
async fn built_in_group_cannot_be_updated_or_deleted() {
    let app = spawn_app().await;
    let group = app.preset_group(&app.project).await;
    let path = format!("/images/group/{}", id_of(&group));

    let update = app.put(&app.project, &path, &json!({ "read_me": "hijacked" })).await;
    let delete = app.delete(&app.project, &path).await;

    update.assert_error(403, "ModelArts.0108", &[&id_of(&group)]);
    delete.assert_error(403, "ModelArts.0108", &[&id_of(&group)]);
    assert_eq!(app.preset_group(&app.project).await, group);
    assert_eq!(app.preset_images(&app.project).await.len(), 2);
}

#[tokio::test]
async fn dedicated_group_with_built_in_name_stays_separate() {
    let app = spawn_app().await;
    app.register(&app.project, &format!("{PRESET_NAMESPACE}/{PRESET_GROUP}:copy")).await;

    let built_in = app.preset_group(&app.project).await;
    let dedicated = app.dedicated_group(&app.project, PRESET_GROUP).await;
    let both = app
        .list_groups(&app.project, &query(&[("name", PRESET_GROUP), ("name_fuzzy_match", "false")]))
        .await;

    assert_eq!(built_in["version_count"], 2);
    assert_eq!(dedicated["version_count"], 1);
    assert_ne!(built_in["id"], dedicated["id"]);
    assert_eq!(data(&both).len(), 2);
    assert!(app.preset_group(&app.other_project).await["version_count"] == 2);
}

#[tokio::test]
async fn deleted_public_image_is_gone_for_everyone() {
    let app = spawn_app().await;
    let image = app.register_with(&app.project, json!({ "swr_path": "open/model:v1.0.0", "visibility": "PUBLIC" })).await;
    let id = id_of(&image);

    app.delete(&app.project, &format!("/images/{id}")).await.ok();
    let reply = app.get(&app.other_project, &format!("/images/{id}"), "").await;

    reply.assert_error(404, "ModelArts.6797", &[&id]);
}
