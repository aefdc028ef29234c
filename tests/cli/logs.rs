//! The request log: one event per request with its id, project, route,
//! status and duration, in JSON or human format, and never a credential.

use serde_json::Value;
use time::OffsetDateTime;

use easel::auth::signature::{sign_request, ClientRequest};

use crate::helpers::{send, Options, Service, PROJECT};

/// Sends `GET /v1/{PROJECT}/images` with a token and the given request id.
fn get_with_token(service: &Service, token: &str, request_id: &str) -> u16 {
    let request = format!(
        "GET /v1/{PROJECT}/images HTTP/1.1\r\nHost: {}\r\nX-Auth-Token: {token}\r\nX-Request-Id: {request_id}\r\nConnection: close\r\n\r\n",
        service.address()
    );
    send(service.address(), &request).0
}

/// Sends a signed `GET /v1/{PROJECT}/images?limit=1` and returns the status and the signature sent.
fn get_signed(service: &Service, request_id: &str) -> (u16, String) {
    let path = format!("/v1/{PROJECT}/images");
    let host = service.address().to_owned();
    let headers = [("host", host.as_str())];
    let request = ClientRequest { method: "GET", path: &path, query: Some("limit=1"), headers: &headers, body: b"" };
    let (sdk_date, authorization) = sign_request(&service.access, &service.secret, &request, OffsetDateTime::now_utc());
    let signature = authorization.rsplit("Signature=").next().expect("the header has a signature").to_owned();
    let raw = format!(
        "GET {path}?limit=1 HTTP/1.1\r\nHost: {host}\r\nX-Sdk-Date: {sdk_date}\r\nAuthorization: {authorization}\r\nX-Request-Id: {request_id}\r\nConnection: close\r\n\r\n"
    );
    (send(service.address(), &raw).0, signature)
}

/// Returns the request events of one request id.
fn request_events(service: &Service, request_id: &str) -> Vec<Value> {
    service.log.wait_for(&format!(r#""request.id":"{request_id}""#));
    service
        .log
        .lines()
        .iter()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|event| event["message"] == "request finished" && event["request.id"] == request_id)
        .collect()
}

#[test]
fn json_log_has_one_line_per_request() {
    let service = Service::start();
    let token = service.token();

    assert_eq!(get_with_token(&service, &token, "log-json-1"), 200);
    assert_eq!(get_with_token(&service, "easel_unknown", "log-json-2"), 401);

    let events = request_events(&service, "log-json-1");
    assert_eq!(events.len(), 1, "{events:?}");
    let event = &events[0];
    assert_eq!(event["project.id"], PROJECT);
    assert_eq!(event["http.method"], "GET");
    assert_eq!(event["http.route"], "/v1/{project_id}/images");
    assert_eq!(event["http.path"], format!("/v1/{PROJECT}/images"));
    assert_eq!(event["http.status_code"], 200);
    assert!(event["duration_ms"].as_f64().is_some_and(|ms| ms >= 0.0), "{event}");
    let rejected = request_events(&service, "log-json-2");
    assert_eq!(rejected.len(), 1, "{rejected:?}");
    assert_eq!(rejected[0]["http.status_code"], 401);
    assert_eq!(rejected[0]["project.id"], "");
}

#[test]
fn human_log_has_one_line_per_request() {
    let service = Service::start_with(Options { log_format: "human", ..Options::default() });
    let token = service.token();

    assert_eq!(get_with_token(&service, &token, "log-human-1"), 200);

    service.log.wait_for("request.id=log-human-1 ");
    let lines: Vec<String> = service
        .log
        .lines()
        .into_iter()
        .filter(|line| line.contains("request finished") && line.contains("request.id=log-human-1 "))
        .collect();
    assert_eq!(lines.len(), 1, "{lines:?}");
    for field in [
        &format!("project.id={PROJECT}"),
        "http.route=/v1/{project_id}/images",
        "http.status_code=200",
        "duration_ms=",
    ] {
        assert!(lines[0].contains(field), "the line lacks {field}: {}", lines[0]);
    }
}

#[test]
fn log_never_contains_credentials() {
    // Debug level is the most an operator would turn on while investigating.
    let service = Service::start_with(Options { log_filter: "debug", ..Options::default() });
    let token = service.token();

    assert_eq!(get_with_token(&service, &token, "log-secret-1"), 200);
    let (status, signature) = get_signed(&service, "log-secret-2");
    assert_eq!(status, 200);
    request_events(&service, "log-secret-1");
    request_events(&service, "log-secret-2");

    let log = service.log.lines().join("\n");
    assert!(!log.contains(&token), "the token was logged");
    assert!(!log.contains(&signature), "the signature was logged");
    assert!(!log.contains(&service.secret), "the secret key was logged");
    assert!(!log.to_ascii_lowercase().contains("sdk-hmac-sha256"), "an Authorization header was logged");
}
