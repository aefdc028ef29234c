//! `GET /v1/{project_id}/images/group`: the reference's example response,
//! every filter, the order and paging at the edges.

use serde_json::{json, Value};

use crate::helpers::{
    data, field_of_each, keys, next_millisecond, paging, query, spawn_app, PRESET_GROUP, PRESET_NAMESPACE,
};

/// The three groups of the reference's example response, as
/// `(namespace, name)`, each registered here with one image.
const REFERENCE_GROUPS: [(&str, &str); 3] = [
    ("cnnorth7-infer-model-dev", "123"),
    ("op_svc_modelarts_container2", "pytorch_1_8"),
    ("mock-service1", "mock-service-python"),
];

fn names_and_namespaces(listing: &Value) -> Vec<(String, String)> {
    let mut pairs: Vec<(String, String)> = data(listing)
        .iter()
        .map(|group| (group["namespace"].as_str().unwrap().to_owned(), group["name"].as_str().unwrap().to_owned()))
        .collect();
    pairs.sort();
    pairs
}

#[tokio::test]
async fn reference_example_keeps_documented_shape() {
    let app = spawn_app().await;
    let mut images = Vec::new();
    for (namespace, name) in REFERENCE_GROUPS {
        images.push(app.register(&app.project, &format!("{namespace}/{name}:v1.0.0")).await);
    }

    let listing = app.list_groups(&app.project, "type=DEDICATED").await;

    assert_eq!(keys(&listing), ["current", "data", "pages", "size", "total"]);
    assert_eq!(paging(&listing), (1, 1, 3, 3));
    let mut expected: Vec<(String, String)> =
        REFERENCE_GROUPS.iter().map(|(namespace, name)| (namespace.to_string(), name.to_string())).collect();
    expected.sort();
    assert_eq!(names_and_namespaces(&listing), expected);
    for group in data(&listing) {
        assert_eq!(keys(group), ["create_at", "id", "name", "namespace", "update_at", "version_count"], "{group}");
        assert_eq!(group["version_count"], 1, "{group}");
        assert!(uuid::Uuid::parse_str(group["id"].as_str().unwrap()).is_ok(), "{group}");
        let image = images.iter().find(|image| image["name"] == group["name"]).expect("every group has its image");
        assert_eq!(group["create_at"], image["create_at"], "{group}");
        assert_eq!(group["update_at"], image["update_at"], "{group}");
        assert!(group["create_at"].is_i64(), "create_at is not an integer in {group}");
    }
}

#[tokio::test]
async fn empty_listing_has_zero_pages_and_current_one() {
    let app = spawn_app().await;

    let listing = app.list_groups(&app.project, "type=DEDICATED").await;

    assert_eq!(paging(&listing), (1, 0, 0, 0));
    assert!(data(&listing).is_empty());
}

#[tokio::test]
async fn group_gathers_versions_of_one_repository() {
    let app = spawn_app().await;
    let mut images = Vec::new();
    for tag in ["v1.0.0", "v2.0.0", "v3.0.0"] {
        images.push(app.register(&app.project, &format!("gather/zebra:{tag}")).await);
        next_millisecond().await;
    }

    let group = app.dedicated_group(&app.project, "zebra").await;

    assert_eq!(group["namespace"], "gather");
    assert_eq!(group["version_count"], 3);
    assert_eq!(group["create_at"], images[0]["create_at"]);
    assert_eq!(group["update_at"], images[2]["update_at"]);
}

#[tokio::test]
async fn same_name_in_two_namespaces_makes_two_groups() {
    let app = spawn_app().await;
    app.register(&app.project, "alpha-lab/zebra:v1.0.0").await;
    app.register(&app.project, "beta-lab/zebra:v1.0.0").await;

    let listing = app.list_groups(&app.project, &query(&[("type", "DEDICATED"), ("name", "zebra")])).await;

    assert_eq!(listing["total"], 2);
    let namespaces = names_and_namespaces(&listing);
    assert_eq!(namespaces, [("alpha-lab".into(), "zebra".into()), ("beta-lab".into(), "zebra".into())]);
}

#[tokio::test]
async fn fuzzy_name_is_case_insensitive_substring() {
    let app = spawn_app().await;
    app.register(&app.project, "fuzzy/pytorch-train:v1.0.0").await;
    app.register(&app.project, "fuzzy/tensorflow:v1.0.0").await;

    for needle in ["torch", "TORCH", "PyTorch-Train", "pytorch-train"] {
        let listing = app.list_groups(&app.project, &query(&[("type", "DEDICATED"), ("name", needle)])).await;
        assert_eq!(field_of_each(&listing, "name"), ["pytorch-train"], "name={needle}");
    }
    let none = app.list_groups(&app.project, &query(&[("type", "DEDICATED"), ("name", "caffe")])).await;
    assert_eq!(paging(&none), (1, 0, 0, 0));
}

#[tokio::test]
async fn underscore_in_name_matches_only_underscore() {
    let app = spawn_app().await;
    app.register(&app.project, "literal/pytorch_1_8:v1.0.0").await;
    app.register(&app.project, "literal/pytorch-1-8:v1.0.0").await;
    app.register(&app.project, "literal/pytorchx1y8:v1.0.0").await;

    let listing = app.list_groups(&app.project, &query(&[("type", "DEDICATED"), ("name", "_1_")])).await;

    assert_eq!(field_of_each(&listing, "name"), ["pytorch_1_8"]);
}

#[tokio::test]
async fn dot_in_name_matches_only_dot() {
    let app = spawn_app().await;
    app.register(&app.project, "literal/cuda11.2:v1.0.0").await;
    app.register(&app.project, "literal/cuda1142:v1.0.0").await;

    let listing = app.list_groups(&app.project, &query(&[("type", "DEDICATED"), ("name", "1.2")])).await;

    assert_eq!(field_of_each(&listing, "name"), ["cuda11.2"]);
}

#[tokio::test]
async fn percent_in_name_is_rejected() {
    let app = spawn_app().await;
    app.register(&app.project, "literal/pytorch_1_8:v1.0.0").await;

    for needle in ["%", "py%", "%torch%"] {
        let reply = app.get(&app.project, "/images/group", &query(&[("name", needle)])).await;
        reply.assert_error(400, "ModelArts.0101", &["name", needle]);
    }
}

#[tokio::test]
async fn exact_name_match_ignores_letter_case() {
    let app = spawn_app().await;
    app.register(&app.project, "exact/pytorch:v1.0.0").await;
    app.register(&app.project, "exact/pytorch-train:v1.0.0").await;

    for (name, fuzzy) in [("pytorch", "false"), ("PyTorch", "FALSE"), ("PYTORCH", "False")] {
        let listing = app
            .list_groups(&app.project, &query(&[("type", "DEDICATED"), ("name", name), ("name_fuzzy_match", fuzzy)]))
            .await;
        assert_eq!(field_of_each(&listing, "name"), ["pytorch"], "name={name} name_fuzzy_match={fuzzy}");
    }
    let partial = app
        .list_groups(&app.project, &query(&[("type", "DEDICATED"), ("name", "pytor"), ("name_fuzzy_match", "false")]))
        .await;
    assert_eq!(partial["total"], 0);
}

#[tokio::test]
async fn fuzzy_match_true_in_any_case_is_substring() {
    let app = spawn_app().await;
    app.register(&app.project, "exact/pytorch:v1.0.0").await;
    app.register(&app.project, "exact/pytorch-train:v1.0.0").await;

    for fuzzy in ["true", "TRUE", "True"] {
        let listing = app
            .list_groups(&app.project, &query(&[("type", "DEDICATED"), ("name", "pytorch"), ("name_fuzzy_match", fuzzy)]))
            .await;
        assert_eq!(listing["total"], 2, "name_fuzzy_match={fuzzy}");
    }
}

#[tokio::test]
async fn empty_name_is_no_filter() {
    let app = spawn_app().await;
    app.register(&app.project, "anyname/first:v1.0.0").await;
    app.register(&app.project, "anyname/second:v1.0.0").await;

    let listing = app.list_groups(&app.project, &query(&[("type", "DEDICATED"), ("name", "")])).await;

    assert_eq!(listing["total"], 2);
}

#[tokio::test]
async fn name_filter_matches_nested_repository_names() {
    let app = spawn_app().await;
    app.register(&app.project, "team/ml/pytorch:v1.0.0").await;
    app.register(&app.project, "team/pytorch:v1.0.0").await;

    let listing = app.list_groups(&app.project, &query(&[("type", "DEDICATED"), ("name", "ml/py")])).await;

    assert_eq!(field_of_each(&listing, "name"), ["ml/pytorch"]);
    assert_eq!(field_of_each(&listing, "namespace"), ["team"]);
}

#[tokio::test]
async fn namespace_filter_is_exact() {
    let app = spawn_app().await;
    app.register(&app.project, "lab/model:v1.0.0").await;
    app.register(&app.project, "lab-two/model:v1.0.0").await;
    app.register(&app.project, "lab/other:v1.0.0").await;

    let listing = app.list_groups(&app.project, &query(&[("type", "DEDICATED"), ("namespace", "lab")])).await;

    assert_eq!(listing["total"], 2);
    assert_eq!(field_of_each(&listing, "namespace"), ["lab", "lab"]);
    let partial = app.list_groups(&app.project, &query(&[("type", "DEDICATED"), ("namespace", "la")])).await;
    assert_eq!(partial["total"], 0);
}

#[tokio::test]
async fn type_filter_restricts_to_one_kind() {
    let app = spawn_app().await;
    app.register(&app.project, "kinds/mine:v1.0.0").await;

    let dedicated = app.list_groups(&app.project, "type=DEDICATED").await;
    let built_in = app.list_groups(&app.project, "type=BUILD_IN").await;
    let both = app.list_groups(&app.project, "").await;
    let lower_case = app.list_groups(&app.project, "type=dedicated").await;

    assert_eq!(field_of_each(&dedicated, "name"), ["mine"]);
    assert!(!field_of_each(&built_in, "name").contains(&"mine".to_owned()));
    assert!(field_of_each(&built_in, "name").contains(&PRESET_GROUP.to_owned()));
    assert!(field_of_each(&built_in, "namespace").iter().all(|ns| ns == PRESET_NAMESPACE));
    let built_in_total = built_in["total"].as_u64().unwrap();
    assert!(built_in_total > 0);
    assert_eq!(both["total"].as_u64().unwrap(), built_in_total + 1);
    assert_eq!(lower_case["total"], 1);
}

#[tokio::test]
async fn workspace_filter_separates_workspaces() {
    let app = spawn_app().await;
    let workspace = "0123456789abcdefghijklmnopqrstuv";
    app.register(&app.project, "spaces/default-ws:v1.0.0").await;
    app.register_with(&app.project, json!({ "swr_path": "spaces/other-ws:v1.0.0", "workspace_id": workspace })).await;

    let default = app.list_groups(&app.project, "type=DEDICATED").await;
    let explicit_default = app.list_groups(&app.project, "type=DEDICATED&workspace_id=0").await;
    let other = app.list_groups(&app.project, &query(&[("type", "DEDICATED"), ("workspace_id", workspace)])).await;
    let built_in_elsewhere = app.list_groups(&app.project, &query(&[("type", "BUILD_IN"), ("workspace_id", workspace)])).await;

    assert_eq!(field_of_each(&default, "name"), ["default-ws"]);
    assert_eq!(field_of_each(&explicit_default, "name"), ["default-ws"]);
    assert_eq!(field_of_each(&other, "name"), ["other-ws"]);
    assert!(field_of_each(&built_in_elsewhere, "name").contains(&PRESET_GROUP.to_owned()));
}

#[tokio::test]
async fn swr_instance_id_filter_matches_groups() {
    let app = spawn_app().await;
    app.register_with(&app.project, json!({ "swr_path": "instances/on-a:v1.0.0", "swr_instance_id": "instance-a" })).await;
    app.register_with(&app.project, json!({ "swr_path": "instances/on-b:v1.0.0", "swr_instance_id": "instance-b" })).await;
    app.register(&app.project, "instances/on-none:v1.0.0").await;

    let on_a = app.list_groups(&app.project, &query(&[("type", "DEDICATED"), ("swr_instance_id", "instance-a")])).await;
    let on_c = app.list_groups(&app.project, &query(&[("type", "DEDICATED"), ("swr_instance_id", "instance-c")])).await;

    assert_eq!(field_of_each(&on_a, "name"), ["on-a"], "{on_a}");
    assert_eq!(data(&on_a)[0]["swr_instance_id"], "instance-a");
    assert_eq!(on_c["total"], 0);
}

#[tokio::test]
async fn groups_are_ordered_by_latest_change_first() {
    let app = spawn_app().await;
    app.register(&app.project, "order/zeta:v1.0.0").await;
    next_millisecond().await;
    app.register(&app.project, "order/alpha:v1.0.0").await;
    next_millisecond().await;
    app.register(&app.project, "order/mid:v1.0.0").await;
    next_millisecond().await;
    app.register(&app.project, "order/zeta:v2.0.0").await;

    let listing = app.list_groups(&app.project, "type=DEDICATED").await;

    assert_eq!(field_of_each(&listing, "name"), ["zeta", "mid", "alpha"]);
}

#[tokio::test]
async fn order_breaks_ties_by_namespace_then_name() {
    let app = spawn_app().await;
    for swr_path in ["tie-b/beta:v1.0.0", "tie-a/beta:v1.0.0", "tie-b/alpha:v1.0.0", "tie-a/alpha:v1.0.0", "tie-c/gamma:v1.0.0"] {
        app.register(&app.project, swr_path).await;
    }

    let listing = app.list_groups(&app.project, "type=DEDICATED").await;

    // Whatever the times, the order must be update_at descending, then
    // namespace and name ascending.
    let groups = data(&listing);
    for pair in groups.windows(2) {
        let key = |group: &Value| {
            (
                std::cmp::Reverse(group["update_at"].as_i64().unwrap()),
                group["namespace"].as_str().unwrap().to_owned(),
                group["name"].as_str().unwrap().to_owned(),
            )
        };
        assert!(key(&pair[0]) < key(&pair[1]), "{} before {}", pair[0], pair[1]);
    }
}

/// Registers `count` groups in one project and returns the full listing's names in order.
async fn register_groups(app: &crate::helpers::TestApp, count: usize) -> Vec<String> {
    for i in 0..count {
        app.register(&app.project, &format!("paging/group-{i:02}:v1.0.0")).await;
    }
    let listing = app.list_groups(&app.project, "type=DEDICATED").await;
    assert_eq!(listing["total"], count as u64);
    field_of_each(&listing, "name")
}

#[tokio::test]
async fn limit_one_walks_every_group_once() {
    let app = spawn_app().await;
    let all = register_groups(&app, 5).await;

    let mut walked = Vec::new();
    for offset in 0..5 {
        let listing = app.list_groups(&app.project, &format!("type=DEDICATED&limit=1&offset={offset}")).await;
        assert_eq!(paging(&listing), (offset + 1, 5, 1, 5), "offset={offset}");
        walked.extend(field_of_each(&listing, "name"));
    }

    assert_eq!(walked, all);
}

#[tokio::test]
async fn offset_past_end_gives_empty_page_with_true_total() {
    let app = spawn_app().await;
    register_groups(&app, 5).await;

    let at_end = app.list_groups(&app.project, "type=DEDICATED&limit=2&offset=5").await;
    let far = app.list_groups(&app.project, "type=DEDICATED&limit=2&offset=1000").await;

    assert_eq!(paging(&at_end), (3, 3, 0, 5));
    assert!(data(&at_end).is_empty());
    assert_eq!(paging(&far), (501, 3, 0, 5));
    assert!(data(&far).is_empty());
}

#[tokio::test]
async fn exact_multiple_of_limit_has_no_extra_page() {
    let app = spawn_app().await;
    let all = register_groups(&app, 6).await;

    let first = app.list_groups(&app.project, "type=DEDICATED&limit=3&offset=0").await;
    let second = app.list_groups(&app.project, "type=DEDICATED&limit=3&offset=3").await;
    let after = app.list_groups(&app.project, "type=DEDICATED&limit=3&offset=6").await;
    let whole = app.list_groups(&app.project, "type=DEDICATED&limit=6").await;

    assert_eq!(paging(&first), (1, 2, 3, 6));
    assert_eq!(paging(&second), (2, 2, 3, 6));
    assert_eq!(paging(&after), (3, 2, 0, 6));
    assert_eq!(paging(&whole), (1, 1, 6, 6));
    let mut pages = field_of_each(&first, "name");
    pages.extend(field_of_each(&second, "name"));
    assert_eq!(pages, all);
}

#[tokio::test]
async fn partial_last_page_and_unaligned_offset() {
    let app = spawn_app().await;
    let all = register_groups(&app, 5).await;

    let last = app.list_groups(&app.project, "type=DEDICATED&limit=4&offset=4").await;
    let unaligned = app.list_groups(&app.project, "type=DEDICATED&limit=3&offset=2").await;
    let widest = app.list_groups(&app.project, "type=DEDICATED&limit=1000").await;

    assert_eq!(paging(&last), (2, 2, 1, 5));
    assert_eq!(field_of_each(&last, "name"), all[4..]);
    assert_eq!(paging(&unaligned), (1, 2, 3, 5));
    assert_eq!(field_of_each(&unaligned, "name"), all[2..5]);
    assert_eq!(paging(&widest), (1, 1, 5, 5));
}

#[tokio::test]
async fn default_limit_is_two_hundred() {
    let app = spawn_app().await;
    register_groups(&app, 3).await;

    let listing = app.list_groups(&app.project, "type=DEDICATED&offset=200").await;

    // With the default limit of 200, offset 200 is the start of page 2.
    assert_eq!(paging(&listing), (2, 1, 0, 3));
}
