//! The contract's client-error rows that need no registry: malformed query
//! and body fields, bodies that are not JSON objects, unsortable fields and
//! oversized bodies. Each rejection names the field and changes nothing.

use serde_json::{json, Value};

use crate::helpers::{query, spawn_app, spawn_app_with_body_limit, TestApp, DEFAULT_BODY_LIMIT_BYTES};

/// Query pairs to send and the fragments the error message must contain.
type QueryCase<'a> = (Vec<(&'a str, &'a str)>, Vec<&'a str>);

/// Query parameters shared by both listings that must be rejected, with the
/// fragments the message must contain.
fn bad_listing_queries() -> Vec<(String, Vec<String>)> {
    let long_name = "a".repeat(513);
    let cases: Vec<QueryCase> = vec![
        (vec![("limit", "0")], vec!["limit", "0"]),
        (vec![("limit", "1001")], vec!["limit", "1001"]),
        (vec![("limit", "ten")], vec!["limit", "ten"]),
        (vec![("limit", "-1")], vec!["limit", "-1"]),
        (vec![("limit", "")], vec!["limit"]),
        (vec![("offset", "-1")], vec!["offset", "-1"]),
        (vec![("offset", "1.5")], vec!["offset", "1.5"]),
        (vec![("offset", "99999999999999999999999")], vec!["offset"]),
        // One past the largest offset: the message gives the range, since the value is not negative.
        (vec![("offset", "9223372036854775808")], vec!["offset", "9223372036854775808", "from 0 to 9223372036854775807"]),
        (vec![("name_fuzzy_match", "yes")], vec!["name_fuzzy_match", "yes"]),
        (vec![("name_fuzzy_match", "1")], vec!["name_fuzzy_match", "1"]),
        (vec![("name", "py%")], vec!["name", "py%"]),
        (vec![("name", "two words")], vec!["name", "two words"]),
        (vec![("name", "semi;colon")], vec!["name"]),
        (vec![("name", "quote'")], vec!["name"]),
        (vec![("name", long_name.as_str())], vec!["name", "512"]),
        (vec![("type", "SHARED")], vec!["type", "SHARED"]),
        (vec![("workspace_id", "1")], vec!["workspace_id", "1"]),
        (vec![("workspace_id", "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345")], vec!["workspace_id"]),
        (vec![("namespace", "a/b")], vec!["namespace", "a/b"]),
        (vec![("namespace", "%")], vec!["namespace"]),
        (vec![("limit", "1"), ("limit", "2")], vec!["limit"]),
    ];
    cases
        .into_iter()
        .map(|(pairs, fragments)| (query(&pairs), fragments.into_iter().map(str::to_owned).collect()))
        .collect()
}

async fn assert_query_rejected(app: &TestApp, suffix: &str, query: &str, fragments: &[String]) {
    let reply = app.get(&app.project, suffix, query).await;
    let fragments: Vec<&str> = fragments.iter().map(String::as_str).collect();
    assert_eq!(reply.status, 400, "GET {suffix}?{query}: {}", reply.text);
    reply.assert_error(400, "ModelArts.0101", &fragments);
}

#[tokio::test]
async fn group_listing_rejects_malformed_query() {
    let app = spawn_app().await;

    for (query, fragments) in bad_listing_queries() {
        assert_query_rejected(&app, "/images/group", &query, &fragments).await;
    }
    let long_instance = "i".repeat(65);
    assert_query_rejected(&app, "/images/group", &query(&[("swr_instance_id", "a b")]), &["swr_instance_id".into()]).await;
    assert_query_rejected(&app, "/images/group", &query(&[("swr_instance_id", &long_instance)]), &["swr_instance_id".into()]).await;
}

#[tokio::test]
async fn image_listing_rejects_malformed_query() {
    let app = spawn_app().await;

    for (query, fragments) in bad_listing_queries() {
        assert_query_rejected(&app, "/images", &query, &fragments).await;
    }
    let extra = [
        (query(&[("service_type", "GAME")]), vec!["service_type".to_owned(), "GAME".to_owned()]),
        (query(&[("sort_dir", "UP")]), vec!["sort_dir".to_owned(), "UP".to_owned()]),
        (query(&[("show_name", &"s".repeat(513))]), vec!["show_name".to_owned()]),
    ];
    for (query, fragments) in extra {
        assert_query_rejected(&app, "/images", &query, &fragments).await;
    }
}

#[tokio::test]
async fn listing_accepts_edge_values() {
    let app = spawn_app().await;
    let longest_name = "a".repeat(512);

    for query in [
        query(&[("limit", "1")]),
        query(&[("limit", "1000")]),
        query(&[("offset", "0")]),
        query(&[("offset", "9223372036854775807")]),
        query(&[("limit", "1000"), ("offset", "9223372036854775807")]),
        query(&[("name", &longest_name)]),
        query(&[("name", "a.b_c-d/e")]),
        query(&[("name_fuzzy_match", "FALSE")]),
        query(&[("type", "Build_In")]),
    ] {
        assert_eq!(app.get(&app.project, "/images/group", &query).await.status, 200, "groups ?{query}");
        assert_eq!(app.get(&app.project, "/images", &query).await.status, 200, "images ?{query}");
    }
}

#[tokio::test]
async fn unsortable_sort_key_is_rejected() {
    let app = spawn_app().await;

    for sort_key in ["size", "name,size", "id", "status"] {
        let reply = app.get(&app.project, "/images", &query(&[("sort_key", sort_key)])).await;
        reply.assert_error(400, "ModelArts.6303", &["sort_key"]);
    }
    let reply = app.get(&app.project, "/images", &query(&[("sort_key", "size")])).await;
    reply.assert_error(400, "ModelArts.6303", &["size"]);
}

/// Register bodies that must be rejected with `ModelArts.0101`, each with
/// the fragments the message must contain.
fn bad_register_bodies() -> Vec<(Value, Vec<&'static str>)> {
    let too_many_tags: Vec<Value> = (0..21).map(|i| json!({ "key": format!("k{i}"), "value": "v" })).collect();
    vec![
        (json!({}), vec!["swr_path", "missing"]),
        (json!({ "swr_path": null }), vec!["swr_path"]),
        (json!({ "swr_path": 5 }), vec!["swr_path"]),
        (json!({ "swr_path": "ns/img:t" }), vec!["swr_path", "ns/img:t"]),
        (json!({ "swr_path": format!("ns/{}:t", "i".repeat(2045)) }), vec!["swr_path", "2048"]),
        (json!({ "swr_path": "localhost:5000/team/img" }), vec!["swr_path", "tag"]),
        (json!({ "swr_path": "namespace/image-without-tag" }), vec!["swr_path", "tag"]),
        (json!({ "swr_path": "imagewithoutnamespace:v1.0.0" }), vec!["swr_path", "namespace"]),
        (json!({ "swr_path": "Upper/image:v1-latest" }), vec!["swr_path", "Upper"]),
        (json!({ "swr_path": "namespace/Image:v1-latest" }), vec!["swr_path", "Image"]),
        (json!({ "swr_path": "namespace/ima..ge:v1-latest" }), vec!["swr_path", "ima..ge"]),
        (json!({ "swr_path": "namespace/-image:v1-latest" }), vec!["swr_path", "-image"]),
        (json!({ "swr_path": "namespace/image:.v1-latest" }), vec!["swr_path", "tag"]),
        (json!({ "swr_path": "namespace/image:v1 latest" }), vec!["swr_path", "tag"]),
        (json!({ "swr_path": format!("namespace/image:{}", "t".repeat(129)) }), vec!["swr_path", "tag"]),
        (json!({ "swr_path": format!("{}/image:v1.0.0", "n".repeat(65)) }), vec!["swr_path", "namespace"]),
        (json!({ "swr_path": format!("ns/{}:v1.0.0", "i".repeat(513)) }), vec!["swr_path", "name"]),
        (json!({ "swr_path": "namespace/image:v1@sha256:abc" }), vec!["swr_path", "digest"]),
        (json!({ "swr_path": "bad_host:99999/ns/image:v1.0.0" }), vec!["swr_path"]),
        (json!({ "swr_path": "ok-ns/ok-image:v1.0.0", "arch": "SPARC" }), vec!["arch", "SPARC"]),
        (json!({ "swr_path": "ok-ns/ok-image:v1.0.0", "arch": 64 }), vec!["arch"]),
        (json!({ "swr_path": "ok-ns/ok-image:v1.0.0", "description": "d".repeat(513) }), vec!["description", "512"]),
        (json!({ "swr_path": "ok-ns/ok-image:v1.0.0", "origin": "STOLEN" }), vec!["origin", "STOLEN"]),
        (json!({ "swr_path": "ok-ns/ok-image:v1.0.0", "resource_category": ["TPU"] }), vec!["resource_category", "TPU"]),
        (json!({ "swr_path": "ok-ns/ok-image:v1.0.0", "resource_category": "CPU" }), vec!["resource_category"]),
        (json!({ "swr_path": "ok-ns/ok-image:v1.0.0", "service_type": "GAME" }), vec!["service_type", "GAME"]),
        (json!({ "swr_path": "ok-ns/ok-image:v1.0.0", "services": ["FTP"] }), vec!["services", "'FTP' is not one of NOTEBOOK, SSH"]),
        (json!({ "swr_path": "ok-ns/ok-image:v1.0.0", "services": ["AI_FLOW"] }), vec!["services", "AI_FLOW"]),
        (json!({ "swr_path": "ok-ns/ok-image:v1.0.0", "visibility": "SECRET" }), vec!["visibility", "SECRET"]),
        (json!({ "swr_path": "ok-ns/ok-image:v1.0.0", "workspace_id": "1" }), vec!["workspace_id", "1"]),
        (json!({ "swr_path": "ok-ns/ok-image:v1.0.0", "workspace_id": 0 }), vec!["workspace_id"]),
        (json!({ "swr_path": "ok-ns/ok-image:v1.0.0", "tags": too_many_tags }), vec!["tags", "20"]),
        (json!({ "swr_path": "ok-ns/ok-image:v1.0.0", "tags": [{ "value": "v" }] }), vec!["tags[0].key"]),
        (json!({ "swr_path": "ok-ns/ok-image:v1.0.0", "tags": [{ "key": "k".repeat(129) }] }), vec!["tags[0].key", "128"]),
        (json!({ "swr_path": "ok-ns/ok-image:v1.0.0", "tags": [{ "key": "k", "value": "v".repeat(256) }] }), vec!["tags[0].value", "255"]),
        (json!({ "swr_path": "ok-ns/ok-image:v1.0.0", "read_me": "r".repeat(3001) }), vec!["read_me", "3000"]),
    ]
}

#[tokio::test]
async fn register_rejects_malformed_fields_and_changes_nothing() {
    let app = spawn_app().await;
    let images_before = app.dedicated_image_count(&app.project).await;

    for (body, fragments) in bad_register_bodies() {
        let reply = app.post(&app.project, "/images", &body).await;
        assert_eq!(reply.status, 400, "register {body}: {}", reply.text);
        reply.assert_error(400, "ModelArts.0101", &fragments);
    }

    assert_eq!(app.dedicated_image_count(&app.project).await, images_before);
    assert_eq!(app.dedicated_group_count(&app.project).await, 0);
}

#[tokio::test]
async fn register_accepts_field_limits_exactly() {
    let app = spawn_app().await;
    let tags: Vec<Value> = (0..20).map(|i| json!({ "key": format!("k{i}"), "value": "v".repeat(255) })).collect();
    let sixteen = "abcd/efghijk:v01";
    assert_eq!(sixteen.len(), 16);

    app.register(&app.project, sixteen).await;
    app.register(&app.project, &format!("ns/{}:t", "i".repeat(512))).await;
    app.register(&app.project, &format!("{}/image:{}", "n".repeat(64), "t".repeat(128))).await;
    app.register_with(
        &app.project,
        json!({ "swr_path": "limits/all:v1.0.0", "description": "d".repeat(512), "read_me": "r".repeat(3000), "tags": tags }),
    )
    .await;

    assert_eq!(app.dedicated_image_count(&app.project).await, 4);
}

#[tokio::test]
async fn register_rejects_non_object_body() {
    let app = spawn_app().await;
    let path = TestApp::path(&app.project, "/images");

    for body in ["not json", "{", "{\"swr_path\": \"ns/img:v1-latest\"", "[1, 2]", "\"ns/img:v1\"", "42", "null", "", "   ", "{} {}"] {
        let reply = app.call_bytes(&app.project, "POST", &path, "", body.as_bytes().to_vec()).await;
        assert_eq!(reply.status, 400, "body {body:?}: {}", reply.text);
        reply.assert_error(400, "ModelArts.6400", &[]);
    }

    assert_eq!(app.dedicated_image_count(&app.project).await, 0);
}

#[tokio::test]
async fn group_update_rejects_non_object_body() {
    let app = spawn_app().await;
    app.register(&app.project, "update/model:v1.0.0").await;
    let group = app.dedicated_group(&app.project, "model").await;
    let path = TestApp::path(&app.project, &format!("/images/group/{}", group["id"].as_str().unwrap()));

    for body in ["not json", "[]", "", "\"read_me\""] {
        let reply = app.call_bytes(&app.project, "PUT", &path, "", body.as_bytes().to_vec()).await;
        assert_eq!(reply.status, 400, "body {body:?}: {}", reply.text);
        reply.assert_error(400, "ModelArts.6400", &[]);
    }

    assert_eq!(app.dedicated_group(&app.project, "model").await, group);
}

#[tokio::test]
async fn delete_rejects_non_object_body() {
    let app = spawn_app().await;
    let image = app.register(&app.project, "kept/model:v1.0.0").await;
    let path = TestApp::path(&app.project, &format!("/images/{}", image["id"].as_str().unwrap()));

    for body in ["not json", "[true]", "true"] {
        let reply = app.call_bytes(&app.project, "DELETE", &path, "", body.as_bytes().to_vec()).await;
        reply.assert_error(400, "ModelArts.6400", &[]);
    }

    assert_eq!(app.dedicated_image_count(&app.project).await, 1);
}

#[tokio::test]
async fn body_over_default_limit_is_rejected() {
    let app = spawn_app().await;
    let path = TestApp::path(&app.project, "/images");
    let padding = "d".repeat(DEFAULT_BODY_LIMIT_BYTES);
    let body = serde_json::to_vec(&json!({ "swr_path": "large/model:v1.0.0", "description": padding })).unwrap();

    let reply = app.call_bytes(&app.project, "POST", &path, "", body).await;

    reply.assert_error(413, "ModelArts.0101", &[&DEFAULT_BODY_LIMIT_BYTES.to_string()]);
    assert_eq!(app.dedicated_image_count(&app.project).await, 0);
}

#[tokio::test]
async fn body_limit_is_configurable_and_inclusive() {
    let limit = 256;
    let app = spawn_app_with_body_limit(limit).await;
    let path = TestApp::path(&app.project, "/images");
    let fits = |len: usize| {
        let skeleton = json!({ "swr_path": "sized/model:v1.0.0", "description": "" }).to_string();
        let body = json!({ "swr_path": "sized/model:v1.0.0", "description": "d".repeat(len - skeleton.len()) }).to_string();
        assert_eq!(body.len(), len);
        body.into_bytes()
    };

    let over = app.call_bytes(&app.project, "POST", &path, "", fits(limit + 1)).await;
    over.assert_error(413, "ModelArts.0101", &["256"]);
    assert_eq!(app.dedicated_image_count(&app.project).await, 0);

    let at_limit = app.call_bytes(&app.project, "POST", &path, "", fits(limit)).await;
    assert_eq!(at_limit.status, 200, "{}", at_limit.text);
}

#[tokio::test]
async fn unknown_route_is_not_found() {
    let app = spawn_app().await;

    let reply = app.get(&app.project, "/models", "").await;

    assert_eq!(reply.status, 404, "{}", reply.text);
    assert_eq!(reply.body["error_code"], "ModelArts.6797", "{}", reply.text);
}

#[tokio::test]
async fn wrong_method_on_known_path_is_rejected() {
    let app = spawn_app().await;

    let reply = app.put(&app.project, "/images", &json!({})).await;

    reply.assert_error(405, "ModelArts.0101", &["PUT"]);
}

#[tokio::test]
async fn query_that_is_not_utf8_is_rejected() {
    let app = spawn_app().await;

    for suffix in ["/images", "/images/group"] {
        let reply = app.get(&app.project, suffix, "name=%FF%FE").await;
        reply.assert_error(400, "ModelArts.0101", &["UTF-8"]);
    }
}

#[tokio::test]
async fn empty_filter_values_are_no_filter() {
    let app = spawn_app().await;
    app.register(&app.project, "empties/model:v1.0.0").await;
    let all_images = app.list_images(&app.project, "").await["total"].clone();
    let all_groups = app.list_groups(&app.project, "").await["total"].clone();

    for field in ["name", "namespace", "type", "service_type", "swr_instance_id", "show_name", "show_tag", "sort_key"] {
        let images = app.list_images(&app.project, &format!("{field}=")).await;
        assert_eq!(images["total"], all_images, "images with empty {field}");
    }
    for field in ["name", "namespace", "type", "swr_instance_id"] {
        let groups = app.list_groups(&app.project, &format!("{field}=")).await;
        assert_eq!(groups["total"], all_groups, "groups with empty {field}");
    }
}

#[tokio::test]
async fn body_with_invalid_utf8_or_duplicate_keys_is_rejected() {
    let app = spawn_app().await;
    let path = TestApp::path(&app.project, "/images");
    let mut not_utf8 = br#"{"swr_path": "bytes/model:v1.0.0", "description": ""#.to_vec();
    not_utf8.extend([0xff, 0xfe]);
    not_utf8.extend(br#""}"#);
    let duplicate = br#"{"swr_path": "dupkeys/model:v1.0.0", "swr_path": "dupkeys/model:v2.0.0"}"#.to_vec();

    let invalid = app.call_bytes(&app.project, "POST", &path, "", not_utf8).await;
    let repeated = app.call_bytes(&app.project, "POST", &path, "", duplicate).await;

    invalid.assert_error(400, "ModelArts.6400", &[]);
    assert_eq!(repeated.status, 400, "{}", repeated.text);
    assert!(repeated.text.contains("swr_path"), "{}", repeated.text);
    assert_eq!(app.dedicated_image_count(&app.project).await, 0);
}

#[tokio::test]
async fn unusual_inputs_get_client_errors() {
    let app = spawn_app().await;
    let images = TestApp::path(&app.project, "/images");
    let long_id = "f".repeat(4096);
    let nested = format!("{{\"tags\": {}{}}}", "[".repeat(300), "]".repeat(300));
    let huge_number = br#"{"swr_path": "numbers/model:v1.0.0", "tags": 1e400}"#.to_vec();

    let show = app.get(&app.project, &format!("/images/{long_id}"), "").await;
    let deep = app.call_bytes(&app.project, "POST", &images, "", nested.into_bytes()).await;
    let number = app.call_bytes(&app.project, "POST", &images, "", huge_number).await;
    let many_params: Vec<String> = (0..200).map(|i| format!("p{i}={i}")).collect();
    let params = app.get(&app.project, "/images", &many_params.join("&")).await;

    show.assert_error(404, "ModelArts.6797", &[]);
    assert_eq!(deep.status, 400, "{}", deep.text);
    assert_eq!(number.status, 400, "{}", number.text);
    assert_eq!(params.status, 200, "unknown query parameters are ignored: {}", params.text);
    assert_eq!(app.dedicated_image_count(&app.project).await, 0);
}
