//! Authentication: AK/SK signatures, tokens, and which project a credential reaches.

use std::time::Duration;

use easel::auth::signature::{canonical_request, format_sdk_date, sha256_hex, signature, string_to_sign, CanonicalInput};
use serde_json::json;
use time::OffsetDateTime;

use crate::helpers::{spawn_app, Project, TestApp};

fn header(name: &str, value: &str) -> (String, String) {
    (name.to_owned(), value.to_owned())
}

fn token_headers(token: &str) -> Vec<(String, String)> {
    vec![header("x-auth-token", token), header("content-type", "application/json")]
}

/// Replaces the value of header `name` in a list of headers.
fn replace(headers: &mut [(String, String)], name: &str, value: &str) {
    let entry = headers.iter_mut().find(|(n, _)| n == name).unwrap_or_else(|| panic!("no {name} header"));
    entry.1 = value.to_owned();
}

fn authorization(headers: &[(String, String)]) -> String {
    headers.iter().find(|(n, _)| n == "authorization").expect("signed headers include authorization").1.clone()
}

#[tokio::test]
async fn signed_request_is_accepted_on_every_operation() {
    let app = spawn_app().await;
    let image = app.register(&app.project, "signed/model:v1.0.0").await;
    let id = image["id"].as_str().unwrap();
    let group = app.dedicated_group(&app.project, "model").await;
    let group_id = group["id"].as_str().unwrap();

    app.list_images(&app.project, "").await;
    app.list_groups(&app.project, "").await;
    app.get(&app.project, &format!("/images/{id}"), "").await.ok();
    app.post(&app.project, &format!("/images/{id}/sync"), &json!({})).await.ok();
    app.put(&app.project, &format!("/images/group/{group_id}"), &json!({ "read_me": "r" })).await.ok();
    app.delete(&app.project, &format!("/images/{id}"), ).await.ok();
}

#[tokio::test]
async fn token_authenticates_its_project() {
    let app = spawn_app().await;
    let token = app.issue_token(&app.project, Duration::from_secs(3600)).await;
    let path = TestApp::path(&app.project, "/images");

    let registered = app
        .send_raw("POST", &path, "", br#"{"swr_path": "tokens/model:v1.0.0"}"#.to_vec(), &token_headers(&token))
        .await
        .ok();
    let listing = app.send_raw("GET", &path, "type=DEDICATED", Vec::new(), &token_headers(&token)).await.ok();

    assert_eq!(registered["name"], "model");
    assert_eq!(listing["total"], 1);
}

#[tokio::test]
async fn request_without_credentials_is_unauthorized() {
    let app = spawn_app().await;
    let path = TestApp::path(&app.project, "/images");

    let list = app.send_raw("GET", &path, "", Vec::new(), &[]).await;
    let register = app
        .send_raw("POST", &path, "", br#"{"swr_path": "anon/model:v1.0.0"}"#.to_vec(), &[header("content-type", "application/json")])
        .await;

    list.assert_error(401, "ModelArts.0201", &["Authorization", "X-Auth-Token"]);
    register.assert_error(401, "ModelArts.0201", &[]);
    assert_eq!(app.dedicated_image_count(&app.project).await, 0);
}

#[tokio::test]
async fn expired_token_is_rejected() {
    let app = spawn_app().await;
    // A token with no lifetime has expired by the time it is presented.
    let token = app.issue_token(&app.project, Duration::ZERO).await;

    let reply = app.send_raw("GET", &TestApp::path(&app.project, "/images"), "", Vec::new(), &token_headers(&token)).await;

    reply.assert_error(401, "ModelArts.0202", &["expired"]);
}

#[tokio::test]
async fn unknown_or_malformed_token_is_rejected() {
    let app = spawn_app().await;
    let valid = app.issue_token(&app.project, Duration::from_secs(3600)).await;
    let altered = format!("{}x", valid);

    for token in [altered.as_str(), "easel_unknown", "not-a-token", ""] {
        let reply = app.send_raw("GET", &TestApp::path(&app.project, "/images"), "", Vec::new(), &token_headers(token)).await;
        reply.assert_error(401, "ModelArts.0203", &[]);
    }
}

#[tokio::test]
async fn token_of_other_project_is_forbidden() {
    let app = spawn_app().await;
    let token = app.issue_token(&app.other_project, Duration::from_secs(3600)).await;

    let reply = app.send_raw("GET", &TestApp::path(&app.project, "/images"), "", Vec::new(), &token_headers(&token)).await;

    reply.assert_error(403, "ModelArts.0210", &[&app.project.id, &app.other_project.id]);
}

/// Sends `GET /v1/{project}/images?limit=5` with headers signed for it and
/// then changed by `tamper`, and returns the reply.
async fn send_tampered(app: &TestApp, tamper: impl FnOnce(&mut Vec<(String, String)>)) -> crate::helpers::Reply {
    let path = TestApp::path(&app.project, "/images");
    let mut headers = app.signed_headers(&app.project, "GET", &path, "limit=5", b"", OffsetDateTime::now_utc());
    tamper(&mut headers);
    app.send_raw("GET", &path, "limit=5", Vec::new(), &headers).await
}

#[tokio::test]
async fn signature_with_wrong_secret_is_rejected() {
    let app = spawn_app().await;
    let impostor = Project { secret: "not-the-secret".into(), ..app.project.clone() };
    let path = TestApp::path(&app.project, "/images");

    let headers = app.signed_headers(&impostor, "GET", &path, "", b"", OffsetDateTime::now_utc());
    let reply = app.send_raw("GET", &path, "", Vec::new(), &headers).await;

    reply.assert_error(401, "ModelArts.0206", &["signature"]);
}

#[tokio::test]
async fn unknown_access_key_is_rejected() {
    let app = spawn_app().await;
    let stranger = Project { access: "UNKNOWNACCESSKEY0001".into(), ..app.project.clone() };
    let path = TestApp::path(&app.project, "/images");

    let headers = app.signed_headers(&stranger, "GET", &path, "", b"", OffsetDateTime::now_utc());
    let reply = app.send_raw("GET", &path, "", Vec::new(), &headers).await;

    reply.assert_error(401, "ModelArts.0206", &["UNKNOWNACCESSKEY0001"]);
}

#[tokio::test]
async fn tampered_query_is_rejected() {
    let app = spawn_app().await;
    let path = TestApp::path(&app.project, "/images");
    let headers = app.signed_headers(&app.project, "GET", &path, "limit=5", b"", OffsetDateTime::now_utc());

    let changed = app.send_raw("GET", &path, "limit=6", Vec::new(), &headers).await;
    let added = app.send_raw("GET", &path, "limit=5&offset=1", Vec::new(), &headers).await;
    let dropped = app.send_raw("GET", &path, "", Vec::new(), &headers).await;

    changed.assert_error(401, "ModelArts.0206", &[]);
    added.assert_error(401, "ModelArts.0206", &[]);
    dropped.assert_error(401, "ModelArts.0206", &[]);
}

#[tokio::test]
async fn query_order_on_the_wire_does_not_matter() {
    let app = spawn_app().await;
    let path = TestApp::path(&app.project, "/images");
    let headers = app.signed_headers(&app.project, "GET", &path, "limit=5&offset=0", b"", OffsetDateTime::now_utc());

    let reply = app.send_raw("GET", &path, "offset=0&limit=5", Vec::new(), &headers).await;

    assert_eq!(reply.status, 200, "{}", reply.text);
}

#[tokio::test]
async fn tampered_body_is_rejected_and_changes_nothing() {
    let app = spawn_app().await;
    let path = TestApp::path(&app.project, "/images");
    let signed_body = br#"{"swr_path": "tamper/model:v1.0.0"}"#;
    let headers = app.signed_headers(&app.project, "POST", &path, "", signed_body, OffsetDateTime::now_utc());

    let reply = app.send_raw("POST", &path, "", br#"{"swr_path": "tamper/model:v2.0.0"}"#.to_vec(), &headers).await;

    reply.assert_error(401, "ModelArts.0206", &["signature"]);
    assert_eq!(app.dedicated_image_count(&app.project).await, 0);
}

#[tokio::test]
async fn tampered_path_or_method_is_rejected() {
    let app = spawn_app().await;
    let images = TestApp::path(&app.project, "/images");
    let groups = TestApp::path(&app.project, "/images/group");
    let headers = app.signed_headers(&app.project, "GET", &images, "", b"", OffsetDateTime::now_utc());

    let other_path = app.send_raw("GET", &groups, "", Vec::new(), &headers).await;
    let other_method = app.send_raw("POST", &images, "", Vec::new(), &headers).await;

    other_path.assert_error(401, "ModelArts.0206", &[]);
    other_method.assert_error(401, "ModelArts.0206", &[]);
    assert_eq!(app.dedicated_image_count(&app.project).await, 0);
}

#[tokio::test]
async fn tampered_signed_header_is_rejected() {
    let app = spawn_app().await;

    let reply = send_tampered(&app, |headers| replace(headers, "content-type", "text/plain")).await;

    reply.assert_error(401, "ModelArts.0206", &[]);
}

#[tokio::test]
async fn date_far_from_server_clock_is_rejected() {
    let app = spawn_app().await;
    let path = TestApp::path(&app.project, "/images");

    for offset in [time::Duration::minutes(-20), time::Duration::minutes(20)] {
        let at = OffsetDateTime::now_utc() + offset;
        let headers = app.signed_headers(&app.project, "GET", &path, "", b"", at);
        let reply = app.send_raw("GET", &path, "", Vec::new(), &headers).await;
        reply.assert_error(401, "ModelArts.0206", &["X-Sdk-Date", "15 minutes"]);
    }
}

#[tokio::test]
async fn date_within_fifteen_minutes_is_accepted() {
    let app = spawn_app().await;
    let path = TestApp::path(&app.project, "/images");

    for offset in [time::Duration::minutes(-10), time::Duration::minutes(10)] {
        let at = OffsetDateTime::now_utc() + offset;
        let headers = app.signed_headers(&app.project, "GET", &path, "", b"", at);
        let reply = app.send_raw("GET", &path, "", Vec::new(), &headers).await;
        assert_eq!(reply.status, 200, "offset {offset}: {}", reply.text);
    }
}

#[tokio::test]
async fn malformed_authorization_is_rejected() {
    let app = spawn_app().await;
    let path = TestApp::path(&app.project, "/images");
    let signed = app.signed_headers(&app.project, "GET", &path, "", b"", OffsetDateTime::now_utc());
    let valid = authorization(&signed);
    let without_signature = valid.split(", Signature=").next().unwrap().to_owned();
    let not_hex = format!("{without_signature}, Signature=zzzz");

    for value in ["Basic dXNlcjpwYXNz", "SDK-HMAC-SHA256", "SDK-HMAC-SHA256 garbage", without_signature.as_str(), not_hex.as_str()] {
        let mut headers = signed.clone();
        replace(&mut headers, "authorization", value);
        let reply = app.send_raw("GET", &path, "", Vec::new(), &headers).await;
        reply.assert_error(401, "ModelArts.0206", &[]);
    }
}

#[tokio::test]
async fn missing_or_malformed_sdk_date_is_rejected() {
    let app = spawn_app().await;

    let missing = send_tampered(&app, |headers| headers.retain(|(name, _)| name != "x-sdk-date")).await;
    let malformed = send_tampered(&app, |headers| replace(headers, "x-sdk-date", "2026-12-04T19:30:00Z")).await;

    missing.assert_error(401, "ModelArts.0206", &["X-Sdk-Date"]);
    malformed.assert_error(401, "ModelArts.0206", &["X-Sdk-Date", "2026-12-04T19:30:00Z"]);
}

#[tokio::test]
async fn signed_request_for_other_project_is_forbidden() {
    let app = spawn_app().await;
    app.register(&app.other_project, "theirs/model:v1.0.0").await;
    let path = TestApp::path(&app.other_project, "/images");

    // The project's own key, signing a request for the other project's path.
    let headers = app.signed_headers(&app.project, "GET", &path, "", b"", OffsetDateTime::now_utc());
    let list = app.send_raw("GET", &path, "", Vec::new(), &headers).await;
    let body = br#"{"swr_path": "intruder/model:v1.0.0"}"#;
    let headers = app.signed_headers(&app.project, "POST", &path, "", body, OffsetDateTime::now_utc());
    let register = app.send_raw("POST", &path, "", body.to_vec(), &headers).await;

    list.assert_error(403, "ModelArts.0210", &[&app.other_project.id]);
    register.assert_error(403, "ModelArts.0210", &[&app.other_project.id]);
    assert_eq!(app.dedicated_image_count(&app.other_project).await, 1);
}

#[tokio::test]
async fn project_id_header_must_match_path() {
    let app = spawn_app().await;
    let path = TestApp::path(&app.project, "/images");
    let signed = app.signed_headers(&app.project, "GET", &path, "", b"", OffsetDateTime::now_utc());

    let mut matching = signed.clone();
    matching.push(header("x-project-id", &app.project.id));
    let mut differing = signed.clone();
    differing.push(header("x-project-id", &app.other_project.id));

    let accepted = app.send_raw("GET", &path, "", Vec::new(), &matching).await;
    let rejected = app.send_raw("GET", &path, "", Vec::new(), &differing).await;

    assert_eq!(accepted.status, 200, "{}", accepted.text);
    rejected.assert_error(403, "ModelArts.0210", &["X-Project-Id", &app.other_project.id]);
}

#[tokio::test]
async fn malformed_project_in_path_is_bad_request() {
    let app = spawn_app().await;
    let token = app.issue_token(&app.project, Duration::from_secs(3600)).await;
    let upper = app.project.id.to_uppercase();

    for project in ["not-a-project", "0123456789abcdef", upper.as_str(), "0123456789abcdef0123456789abcdeg"] {
        let path = format!("/v1/{project}/images");
        let signed = app.signed_headers(&app.project, "GET", &path, "", b"", OffsetDateTime::now_utc());
        let by_signature = app.send_raw("GET", &path, "", Vec::new(), &signed).await;
        let by_token = app.send_raw("GET", &path, "", Vec::new(), &token_headers(&token)).await;
        by_signature.assert_error(400, "ModelArts.0210", &[project]);
        by_token.assert_error(400, "ModelArts.0210", &[project]);
    }
}

/// Builds an `Authorization` value by hand, choosing which headers are
/// signed (in order, with names as `SignedHeaders` lists them) and the payload hash.
fn sign_by_hand(project: &Project, request: &HandSigned<'_>) -> String {
    let headers: Vec<(String, String)> =
        request.signed.iter().map(|(name, value)| (name.to_ascii_lowercase(), value.to_string())).collect();
    let signed_headers_raw = request.signed.iter().map(|(name, _)| *name).collect::<Vec<_>>().join(";");
    let canonical = canonical_request(&CanonicalInput {
        method: request.method,
        path: request.path,
        query: (!request.query.is_empty()).then_some(request.query),
        headers: &headers,
        signed_headers_raw: &signed_headers_raw,
        payload_hash: request.payload_hash,
    });
    let signature = signature(&project.secret, &string_to_sign(request.sdk_date, &canonical));
    format!("SDK-HMAC-SHA256 Access={}, SignedHeaders={signed_headers_raw}, Signature={signature}", project.access)
}

struct HandSigned<'a> {
    method: &'a str,
    path: &'a str,
    query: &'a str,
    signed: &'a [(&'a str, &'a str)],
    payload_hash: &'a str,
    sdk_date: &'a str,
}

#[tokio::test]
async fn unsigned_payload_header_exempts_body() {
    let app = spawn_app().await;
    let path = TestApp::path(&app.project, "/images");
    let sdk_date = format_sdk_date(OffsetDateTime::now_utc());
    let host = app.host();
    let signed = [("content-type", "application/json"), ("host", host.as_str()), ("x-sdk-date", sdk_date.as_str())];
    let authorization = sign_by_hand(
        &app.project,
        &HandSigned { method: "POST", path: &path, query: "", signed: &signed, payload_hash: "UNSIGNED-PAYLOAD", sdk_date: &sdk_date },
    );
    let body = br#"{"swr_path": "unsigned/model:v1.0.0"}"#.to_vec();
    let mut headers = vec![
        header("content-type", "application/json"),
        header("x-sdk-date", &sdk_date),
        header("authorization", &authorization),
    ];

    let without_declaration = app.send_raw("POST", &path, "", body.clone(), &headers).await;
    headers.push(header("x-sdk-content-sha256", "UNSIGNED-PAYLOAD"));
    let declared = app.send_raw("POST", &path, "", body, &headers).await;

    without_declaration.assert_error(401, "ModelArts.0206", &["signature"]);
    assert_eq!(declared.status, 200, "{}", declared.text);
    assert_eq!(app.dedicated_image_count(&app.project).await, 1);
}

#[tokio::test]
async fn sdk_date_must_be_signed() {
    let app = spawn_app().await;
    let path = TestApp::path(&app.project, "/images");
    let sdk_date = format_sdk_date(OffsetDateTime::now_utc());
    let host = app.host();
    let signed = [("content-type", "application/json"), ("host", host.as_str())];
    let empty_hash = sha256_hex(b"");
    let authorization = sign_by_hand(
        &app.project,
        &HandSigned { method: "GET", path: &path, query: "", signed: &signed, payload_hash: &empty_hash, sdk_date: &sdk_date },
    );
    let headers = [
        header("content-type", "application/json"),
        header("x-sdk-date", &sdk_date),
        header("authorization", &authorization),
    ];

    let reply = app.send_raw("GET", &path, "", Vec::new(), &headers).await;

    reply.assert_error(401, "ModelArts.0206", &["x-sdk-date"]);
}

#[tokio::test]
async fn signed_header_missing_from_request_is_rejected() {
    let app = spawn_app().await;
    let path = TestApp::path(&app.project, "/images");
    let sdk_date = format_sdk_date(OffsetDateTime::now_utc());
    let host = app.host();
    let signed = [("host", host.as_str()), ("x-sdk-date", sdk_date.as_str()), ("x-trace", "abc")];
    let empty_hash = sha256_hex(b"");
    let authorization = sign_by_hand(
        &app.project,
        &HandSigned { method: "GET", path: &path, query: "", signed: &signed, payload_hash: &empty_hash, sdk_date: &sdk_date },
    );
    let mut headers = vec![header("x-sdk-date", &sdk_date), header("authorization", &authorization)];

    let missing = app.send_raw("GET", &path, "", Vec::new(), &headers).await;
    headers.push(header("x-trace", "abc"));
    let present = app.send_raw("GET", &path, "", Vec::new(), &headers).await;

    missing.assert_error(401, "ModelArts.0206", &["x-trace"]);
    assert_eq!(present.status, 200, "{}", present.text);
}

#[tokio::test]
async fn query_parameter_without_value_counts_as_empty() {
    let app = spawn_app().await;
    app.register(&app.project, "flags/model:v1.0.0").await;
    let path = TestApp::path(&app.project, "/images");

    // Signed as `name=&type=DEDICATED`, sent as `name&type=DEDICATED`.
    let headers = app.signed_headers(&app.project, "GET", &path, "name=&type=DEDICATED", b"", OffsetDateTime::now_utc());
    let reply = app.send_raw("GET", &path, "name&type=DEDICATED", Vec::new(), &headers).await;

    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.body["total"], 1, "an empty name is no filter");
}

#[tokio::test]
async fn missing_credentials_come_before_project_check() {
    let app = spawn_app().await;

    let reply = app.send_raw("GET", "/v1/not-a-project/images", "", Vec::new(), &[]).await;

    reply.assert_error(401, "ModelArts.0201", &[]);
}

#[tokio::test]
async fn token_with_differing_project_header_is_forbidden() {
    let app = spawn_app().await;
    let token = app.issue_token(&app.project, Duration::from_secs(3600)).await;
    let mut headers = token_headers(&token);
    headers.push(header("x-project-id", &app.other_project.id));

    let reply = app.send_raw("GET", &TestApp::path(&app.project, "/images"), "", Vec::new(), &headers).await;

    reply.assert_error(403, "ModelArts.0210", &["X-Project-Id"]);
}

#[tokio::test]
async fn signed_header_names_may_use_any_letter_case() {
    let app = spawn_app().await;
    let path = TestApp::path(&app.project, "/images");
    let sdk_date = format_sdk_date(OffsetDateTime::now_utc());
    let host = app.host();
    let signed = [("Content-Type", "application/json"), ("Host", host.as_str()), ("X-Sdk-Date", sdk_date.as_str())];
    let empty_hash = sha256_hex(b"");
    let authorization = sign_by_hand(
        &app.project,
        &HandSigned { method: "GET", path: &path, query: "", signed: &signed, payload_hash: &empty_hash, sdk_date: &sdk_date },
    );
    let headers = [
        header("content-type", "application/json"),
        header("x-sdk-date", &sdk_date),
        header("authorization", &authorization),
    ];

    let reply = app.send_raw("GET", &path, "", Vec::new(), &headers).await;

    assert_eq!(reply.status, 200, "{}", reply.text);
}
