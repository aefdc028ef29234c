//! The built-in presets: loaded at every start without duplicates.

use crate::helpers::{field_of_each, id_of, spawn_app, spawn_app_with, Settings, TestApp, PRESET_GROUP};

async fn built_in_images(app: &TestApp) -> Vec<String> {
    let listing = app.list_images(&app.project, "type=BUILD_IN&limit=1000").await;
    let mut ids = field_of_each(&listing, "id");
    ids.sort();
    ids
}

#[tokio::test]
async fn restart_does_not_duplicate_presets() {
    let first = spawn_app().await;
    let before = built_in_images(&first).await;
    let group_before = first.preset_group(&first.project).await;

    let settings = Settings { data_dir: Some(first.data_dir.clone()), ..Settings::default() };
    let second = spawn_app_with(settings).await;

    assert!(!before.is_empty());
    assert_eq!(built_in_images(&second).await, before);
    let group_after = second.preset_group(&second.project).await;
    assert_eq!(id_of(&group_after), id_of(&group_before));
    assert_eq!(group_after["version_count"], 2);
}

#[tokio::test]
async fn restart_keeps_registered_images() {
    let first = spawn_app().await;
    let image = first.register(&first.project, "survivor/model:v1.0.0").await;

    let settings = Settings { data_dir: Some(first.data_dir.clone()), ..Settings::default() };
    let second = spawn_app_with(settings).await;

    let shown = second.get(&first.project, &format!("/images/{}", id_of(&image)), "").await.ok();
    assert_eq!(shown, image);
}

#[tokio::test]
async fn new_default_host_updates_presets_in_place() {
    let first = spawn_app().await;
    let before = built_in_images(&first).await;

    let settings = Settings {
        data_dir: Some(first.data_dir.clone()),
        default_registry_host: "registry.example.com".into(),
        ..Settings::default()
    };
    let second = spawn_app_with(settings).await;

    assert_eq!(built_in_images(&second).await, before);
    for image in second.preset_images(&second.project).await {
        let swr_path = image["swr_path"].as_str().unwrap();
        assert!(swr_path.starts_with("registry.example.com/"), "{swr_path}");
    }
    assert_eq!(second.preset_group(&second.project).await["name"], PRESET_GROUP);
}
