//! `GET /v1/{project_id}/images`: every filter, the sort keys and paging at the edges.

use serde_json::json;

use crate::helpers::{
    data, field_of_each, next_millisecond, paging, query, spawn_app, TestApp, PRESET_GROUP, PRESET_NAMESPACE,
};

async fn built_in_total(app: &TestApp) -> u64 {
    app.list_images(&app.project, "type=BUILD_IN").await["total"].as_u64().expect("total is a count")
}

#[tokio::test]
async fn listing_without_type_includes_built_in_and_dedicated() {
    let app = spawn_app().await;
    app.register(&app.project, "mixed/mine:v1.0.0").await;
    let built_in = built_in_total(&app).await;

    let everything = app.list_images(&app.project, "").await;
    let dedicated = app.list_images(&app.project, "type=DEDICATED").await;
    let only_built_in = app.list_images(&app.project, "type=build_in").await;

    assert!(built_in > 0);
    assert_eq!(everything["total"].as_u64().unwrap(), built_in + 1);
    assert_eq!(field_of_each(&dedicated, "name"), ["mine"]);
    assert!(field_of_each(&dedicated, "type").iter().all(|kind| kind == "DEDICATED"));
    assert!(field_of_each(&only_built_in, "type").iter().all(|kind| kind == "BUILD_IN"));
    assert!(field_of_each(&only_built_in, "namespace").iter().all(|ns| ns == PRESET_NAMESPACE));
}

#[tokio::test]
async fn image_name_filter_is_literal_substring() {
    let app = spawn_app().await;
    app.register(&app.project, "names/pytorch_1_8:v1.0.0").await;
    app.register(&app.project, "names/pytorchx1y8:v1.0.0").await;
    app.register(&app.project, "names/pytorch_1_8:v2.0.0").await;

    let underscore = app.list_images(&app.project, &query(&[("type", "DEDICATED"), ("name", "H_1_")])).await;
    let fuzzy = app.list_images(&app.project, &query(&[("type", "DEDICATED"), ("name", "TORCH")])).await;
    let exact = app
        .list_images(&app.project, &query(&[("type", "DEDICATED"), ("name", "PyTorch_1_8"), ("name_fuzzy_match", "false")]))
        .await;
    let exact_partial = app
        .list_images(&app.project, &query(&[("type", "DEDICATED"), ("name", "pytorch"), ("name_fuzzy_match", "false")]))
        .await;

    assert_eq!(underscore["total"], 2);
    assert!(field_of_each(&underscore, "name").iter().all(|name| name == "pytorch_1_8"));
    assert_eq!(fuzzy["total"], 3);
    assert_eq!(exact["total"], 2);
    assert_eq!(exact_partial["total"], 0);
}

#[tokio::test]
async fn image_name_filter_rejects_percent() {
    let app = spawn_app().await;

    let reply = app.get(&app.project, "/images", &query(&[("name", "py%")])).await;

    reply.assert_error(400, "ModelArts.0101", &["name", "py%"]);
}

#[tokio::test]
async fn image_name_filter_finds_built_in_by_published_name() {
    let app = spawn_app().await;

    let images = app.preset_images(&app.project).await;

    assert_eq!(images.len(), 2);
    for image in &images {
        assert_eq!(image["type"], "BUILD_IN");
        assert_eq!(image["namespace"], PRESET_NAMESPACE);
        assert_eq!(image["name"], PRESET_GROUP);
    }
}

#[tokio::test]
async fn image_namespace_filter_is_exact() {
    let app = spawn_app().await;
    app.register(&app.project, "lab/model:v1.0.0").await;
    app.register(&app.project, "lab/model:v2.0.0").await;
    app.register(&app.project, "lab-two/model:v1.0.0").await;

    let listing = app.list_images(&app.project, &query(&[("namespace", "lab")])).await;
    let built_in = app.list_images(&app.project, &query(&[("namespace", PRESET_NAMESPACE)])).await;

    assert_eq!(listing["total"], 2);
    assert_eq!(field_of_each(&listing, "namespace"), ["lab", "lab"]);
    assert_eq!(built_in["total"].as_u64(), Some(built_in_total(&app).await));
}

#[tokio::test]
async fn image_service_type_filter_matches_one_kind() {
    let app = spawn_app().await;
    app.register_with(&app.project, json!({ "swr_path": "kinds/serve:v1.0.0", "service_type": "INFERENCE" })).await;
    app.register_with(&app.project, json!({ "swr_path": "kinds/learn:v1.0.0", "service_type": "TRAIN" })).await;
    app.register(&app.project, "kinds/plain:v1.0.0").await;

    let inference = app.list_images(&app.project, "type=DEDICATED&service_type=inference").await;
    let unknown = app.list_images(&app.project, "type=DEDICATED&service_type=UNKNOWN").await;
    let common = app.list_images(&app.project, "type=DEDICATED&service_type=COMMON").await;

    assert_eq!(field_of_each(&inference, "name"), ["serve"]);
    assert_eq!(field_of_each(&unknown, "name"), ["plain"]);
    assert_eq!(common["total"], 0);
}

#[tokio::test]
async fn image_workspace_filter_separates_workspaces() {
    let app = spawn_app().await;
    let workspace = "0123456789abcdefghijklmnopqrstuv";
    app.register(&app.project, "spaces/default-ws:v1.0.0").await;
    app.register_with(&app.project, json!({ "swr_path": "spaces/other-ws:v1.0.0", "workspace_id": workspace })).await;

    let default = app.list_images(&app.project, "type=DEDICATED").await;
    let other = app.list_images(&app.project, &query(&[("type", "DEDICATED"), ("workspace_id", workspace)])).await;
    let built_in_elsewhere = app.list_images(&app.project, &query(&[("type", "BUILD_IN"), ("workspace_id", workspace)])).await;

    assert_eq!(field_of_each(&default, "name"), ["default-ws"]);
    assert_eq!(field_of_each(&other, "name"), ["other-ws"]);
    assert_eq!(built_in_elsewhere["total"].as_u64(), Some(built_in_total(&app).await));
}

#[tokio::test]
async fn image_show_name_and_show_tag_filter_presets() {
    let app = spawn_app().await;
    let presets = app.preset_images(&app.project).await;
    let show_name = presets[0]["show_name"].as_str().expect("presets carry show_name").to_owned();
    let show_tag = presets[0]["show_tag"].as_str().expect("presets carry show_tag").to_owned();

    let by_name = app.list_images(&app.project, &query(&[("show_name", &show_name)])).await;
    let by_tag = app.list_images(&app.project, &query(&[("show_name", &show_name), ("show_tag", &show_tag)])).await;

    assert_eq!(by_name["total"], 2);
    assert_eq!(by_tag["total"], 1);
    assert_eq!(data(&by_tag)[0]["id"], presets[0]["id"]);
}

#[tokio::test]
async fn images_default_to_latest_change_first() {
    let app = spawn_app().await;
    for swr_path in ["order/alpha:v1.0.0", "order/zeta:v1.0.0", "order/mid:v1.0.0"] {
        app.register(&app.project, swr_path).await;
        next_millisecond().await;
    }

    let listing = app.list_images(&app.project, "type=DEDICATED").await;

    assert_eq!(field_of_each(&listing, "name"), ["mid", "zeta", "alpha"]);
}

#[tokio::test]
async fn images_sort_by_each_sortable_field() {
    let app = spawn_app().await;
    for swr_path in ["ns-b/bravo:tag-2", "ns-a/charlie:tag-3", "ns-c/alpha:tag-1", "ns-a/alpha:tag-4"] {
        app.register(&app.project, swr_path).await;
    }
    let listed = |query: &'static str| {
        let app = app.clone();
        async move { app.list_images(&app.project, &format!("type=DEDICATED&{query}")).await }
    };

    let by_name = listed("sort_key=name&sort_dir=ASC").await;
    let by_name_desc = listed("sort_key=name&sort_dir=desc").await;
    let by_tag = listed("sort_key=tag&sort_dir=asc").await;
    let by_namespace_then_name = listed("sort_key=namespace,name&sort_dir=ASC").await;

    assert_eq!(field_of_each(&by_name, "name")[..2], ["alpha", "alpha"]);
    assert_eq!(field_of_each(&by_name, "name")[2..], ["bravo", "charlie"]);
    assert_eq!(field_of_each(&by_name_desc, "name")[..2], ["charlie", "bravo"]);
    assert_eq!(field_of_each(&by_tag, "tag"), ["tag-1", "tag-2", "tag-3", "tag-4"]);
    assert_eq!(field_of_each(&by_namespace_then_name, "namespace"), ["ns-a", "ns-a", "ns-b", "ns-c"]);
    assert_eq!(field_of_each(&by_namespace_then_name, "name"), ["alpha", "charlie", "bravo", "alpha"]);
}

#[tokio::test]
async fn images_sort_by_time_with_aliases() {
    let app = spawn_app().await;
    for swr_path in ["times/first:v1.0.0", "times/second:v1.0.0", "times/third:v1.0.0"] {
        app.register(&app.project, swr_path).await;
        next_millisecond().await;
    }

    for sort_key in ["create_at", "createTime", "update_at", "updateTime"] {
        let ascending = app.list_images(&app.project, &format!("type=DEDICATED&sort_key={sort_key}&sort_dir=ASC")).await;
        let descending = app.list_images(&app.project, &format!("type=DEDICATED&sort_key={sort_key}")).await;
        assert_eq!(field_of_each(&ascending, "name"), ["first", "second", "third"], "sort_key={sort_key} ASC");
        assert_eq!(field_of_each(&descending, "name"), ["third", "second", "first"], "sort_key={sort_key} default DESC");
    }
}

#[tokio::test]
async fn sort_dir_alone_applies_to_update_at() {
    let app = spawn_app().await;
    for swr_path in ["times/first:v1.0.0", "times/second:v1.0.0", "times/third:v1.0.0"] {
        app.register(&app.project, swr_path).await;
        next_millisecond().await;
    }

    let ascending = app.list_images(&app.project, "type=DEDICATED&sort_dir=ASC").await;
    let default = app.list_images(&app.project, "type=DEDICATED").await;

    assert_eq!(field_of_each(&ascending, "name"), ["first", "second", "third"]);
    assert_eq!(field_of_each(&default, "name"), ["third", "second", "first"]);
}

#[tokio::test]
async fn image_paging_at_the_edges() {
    let app = spawn_app().await;
    for i in 0..4 {
        app.register(&app.project, &format!("paging/image:v{i}.0.0")).await;
    }
    let all = field_of_each(&app.list_images(&app.project, "type=DEDICATED").await, "tag");

    let mut walked = Vec::new();
    for offset in 0..4 {
        let page = app.list_images(&app.project, &format!("type=DEDICATED&limit=1&offset={offset}")).await;
        assert_eq!(paging(&page), (offset + 1, 4, 1, 4), "offset={offset}");
        walked.extend(field_of_each(&page, "tag"));
    }
    let exact = app.list_images(&app.project, "type=DEDICATED&limit=2&offset=2").await;
    let past_end = app.list_images(&app.project, "type=DEDICATED&limit=2&offset=4").await;
    let far = app.list_images(&app.project, "type=DEDICATED&limit=3&offset=99").await;

    assert_eq!(walked, all);
    assert_eq!(paging(&exact), (2, 2, 2, 4));
    assert_eq!(paging(&past_end), (3, 2, 0, 4));
    assert!(data(&past_end).is_empty());
    assert_eq!(paging(&far), (34, 2, 0, 4));
}
