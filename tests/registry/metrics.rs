//! Registry call latencies in `/metrics`: each manifest fetch and delete is
//! timed, with `outcome="error"` when the registry cannot be reached.
//! Registry tests share one process and so one recorder, so each test checks
//! that a count grew, not its value.

use serde_json::json;

use crate::support::app::TestApp;
use crate::support::layout::{unique_payload, Layout};
use crate::support::registry_and_app;

/// Returns the value of the registry histogram's `_count` sample for one operation and outcome.
async fn registry_calls(app: &TestApp, operation: &str, outcome: &str) -> f64 {
    let metrics = reqwest::get(format!("{}/metrics", app.address))
        .await
        .expect("easel answers /metrics")
        .text()
        .await
        .expect("the metrics are text");
    let labels = [format!(r#"operation="{operation}""#), format!(r#"outcome="{outcome}""#)];
    metrics
        .lines()
        .filter(|line| line.starts_with("easel_registry_call_duration_seconds_count{"))
        .find(|line| labels.iter().all(|label| line.contains(label.as_str())))
        .and_then(|line| line.rsplit(' ').next())
        .and_then(|value| value.parse().ok())
        .unwrap_or(0.0)
}

#[tokio::test]
async fn registry_calls_are_timed() {
    let (registry, app) = registry_and_app().await;
    Layout::image("v1", "amd64", &unique_payload()).push(&registry.host, "team/metered-image").await;
    let fetches_before = registry_calls(&app, "fetch_manifest", "ok").await;
    let deletes_before = registry_calls(&app, "delete_manifest", "ok").await;

    let registered = app.register("team/metered-image:v1", None).await;
    let id = registered.body["id"].as_str().expect("an image id").to_owned();
    let deleted = app.call(reqwest::Method::DELETE, &format!("/images/{id}"), Some(json!({"is_force": true}))).await;

    assert_eq!(registered.status, 200, "{}", registered.body);
    assert_eq!(deleted.status, 200, "{}", deleted.body);
    assert!(registry_calls(&app, "fetch_manifest", "ok").await > fetches_before);
    assert!(registry_calls(&app, "delete_manifest", "ok").await > deletes_before);
}

#[tokio::test]
async fn unreachable_registry_calls_count_as_errors() {
    let (mut registry, app) = registry_and_app().await;
    registry.stop();
    let errors_before = registry_calls(&app, "fetch_manifest", "error").await;

    let register = app.register("team/metered-image:v2", None).await;

    assert_eq!(register.status, 503, "{}", register.body);
    assert!(registry_calls(&app, "fetch_manifest", "error").await > errors_before);
}
