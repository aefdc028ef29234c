//! The built-in presets: one group per published name, loaded again at
//! every start without duplicates.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::helpers::{
    data, field_of_each, id_of, query, spawn_app, spawn_app_with, Settings, TestApp, PRESET_GROUP, PRESET_NAMESPACE,
};

/// The bundled presets file, which the service loads when no other is configured.
const BUNDLED_PRESETS: &str = include_str!("../../presets/presets.json");

/// Counts the entries of the bundled presets per published name.
fn bundled_versions() -> BTreeMap<String, u64> {
    let presets: Vec<Value> = serde_json::from_str(BUNDLED_PRESETS).expect("the bundled presets are JSON");
    let mut versions = BTreeMap::new();
    for preset in presets {
        let name = preset["name"].as_str().expect("every preset has a name").to_ascii_lowercase();
        *versions.entry(name).or_insert(0) += 1;
    }
    versions
}

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

#[tokio::test]
async fn bundled_names_become_counted_groups() {
    let app = spawn_app().await;
    let expected = bundled_versions();

    let listing = app.list_groups(&app.project, "type=BUILD_IN&limit=1000").await;

    let listed: BTreeMap<String, u64> = data(&listing)
        .iter()
        .map(|group| (group["name"].as_str().unwrap().to_owned(), group["version_count"].as_u64().unwrap()))
        .collect();
    assert_eq!(listed, expected);
    assert_eq!(listing["total"].as_u64(), Some(expected.len() as u64));
    assert!(field_of_each(&listing, "namespace").iter().all(|namespace| namespace == PRESET_NAMESPACE));
}

#[tokio::test]
async fn built_in_image_carries_display_forms() {
    let app = spawn_app().await;

    let images = app.preset_images(&app.project).await;

    let mut tags: Vec<&str> = images.iter().map(|image| image["tag"].as_str().unwrap()).collect();
    tags.sort();
    for image in &images {
        assert_eq!(image["type"], "BUILD_IN");
        assert_eq!(image["status"], "ACTIVE");
        assert_eq!(image["visibility"], "PUBLIC");
        assert_eq!(image["workspace_id"], "0");
        assert_eq!(image["show_name"], PRESET_GROUP);
        assert_eq!(image["show_tag"], image["tag"]);
        let swr_path = image["swr_path"].as_str().unwrap();
        assert!(swr_path.ends_with(&format!("{PRESET_NAMESPACE}/mindspore_1_7_0:{}", image["tag"].as_str().unwrap())), "{swr_path}");
    }
    assert_eq!(tags.len(), 2);
    assert_ne!(tags[0], tags[1]);
    let exact = app.list_images(&app.project, &query(&[("show_name", PRESET_GROUP), ("show_tag", tags[0])])).await;
    assert_eq!(exact["total"], 1);
}
