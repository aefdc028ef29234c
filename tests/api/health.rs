//! `GET /health` and the `X-Request-Id` every response carries.

use time::OffsetDateTime;

use crate::helpers::{spawn_app, TestApp};

#[tokio::test]
async fn health_answers_ok() {
    let app = spawn_app().await;

    let reply = app.send_raw("GET", "/health", "", Vec::new(), &[]).await;

    assert_eq!(reply.status, 200, "{}", reply.text);
}

#[tokio::test]
async fn responses_carry_fresh_request_ids() {
    let app = spawn_app().await;
    let path = TestApp::path(&app.project, "/images");

    let success = app.get(&app.project, "/images", "").await;
    let another = app.get(&app.project, "/images", "").await;
    let failure = app.send_raw("GET", &path, "", Vec::new(), &[]).await;
    let health = app.send_raw("GET", "/health", "", Vec::new(), &[]).await;

    let ids: Vec<&str> = [&success, &another, &failure, &health]
        .iter()
        .map(|reply| reply.header("x-request-id").expect("every response has X-Request-Id"))
        .collect();
    for id in &ids {
        assert!(uuid::Uuid::parse_str(id).is_ok(), "X-Request-Id {id:?} is not a UUID");
    }
    let mut distinct = ids.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), ids.len(), "request ids repeat: {ids:?}");
}

#[tokio::test]
async fn request_id_sent_by_client_is_echoed() {
    let app = spawn_app().await;
    let path = TestApp::path(&app.project, "/images");
    let mut headers = app.signed_headers(&app.project, "GET", &path, "", b"", OffsetDateTime::now_utc());
    headers.push(("x-request-id".into(), "client-chosen-id-42".into()));
    let unauthenticated = [("x-request-id".to_owned(), "client-chosen-id-43".to_owned())];

    let success = app.send_raw("GET", &path, "", Vec::new(), &headers).await;
    let failure = app.send_raw("GET", &path, "", Vec::new(), &unauthenticated).await;

    assert_eq!(success.status, 200, "{}", success.text);
    assert_eq!(success.header("x-request-id"), Some("client-chosen-id-42"));
    assert_eq!(failure.status, 401, "{}", failure.text);
    assert_eq!(failure.header("x-request-id"), Some("client-chosen-id-43"));
}
