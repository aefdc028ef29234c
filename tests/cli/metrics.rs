//! `GET /metrics` after some API calls: request counts and latencies by
//! route template, store call latencies and the catalogue size gauges.

use crate::helpers::{json, send, Options, Service, PROJECT};

/// Returns the value of the first sample of `metric` whose labels include every one of `labels`.
fn sample(metrics: &str, metric: &str, labels: &[&str]) -> Option<f64> {
    metrics
        .lines()
        .filter(|line| line.starts_with(&format!("{metric}{{")))
        .find(|line| labels.iter().all(|label| line.contains(label)))
        .and_then(|line| line.rsplit(' ').next())
        .and_then(|value| value.parse().ok())
}

fn scrape(service: &Service) -> String {
    let (status, body) = service.get("/metrics");
    assert_eq!(status, 200, "{body}");
    body
}

#[test]
fn metrics_count_requests_by_route_template() {
    let service = Service::start();
    for tag in ["1.0", "1.1"] {
        json(&service.easel(&["images", "register", "--swr-path", &format!("team/metered:{tag}"), "-o", "json"]));
    }
    json(&service.easel(&["images", "list", "-o", "json"]));
    let missing = service.easel(&["images", "show", "00000000-0000-0000-0000-000000000000"]);
    assert_eq!(missing.status.code(), Some(1));
    let extension_method = format!("BREW /coffee HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n", service.address());
    assert_eq!(send(service.address(), &extension_method).0, 404);

    let metrics = scrape(&service);

    let images = r#"route="/v1/{project_id}/images""#;
    assert_eq!(sample(&metrics, "easel_http_requests_total", &[r#"method="POST""#, images, r#"status="200""#]), Some(2.0));
    assert_eq!(sample(&metrics, "easel_http_requests_total", &[r#"method="GET""#, images, r#"status="200""#]), Some(1.0));
    let show = r#"route="/v1/{project_id}/images/{id}""#;
    assert_eq!(sample(&metrics, "easel_http_requests_total", &[r#"method="GET""#, show, r#"status="404""#]), Some(1.0));
    let unmatched = [r#"method="OTHER""#, r#"route="unmatched""#, r#"status="404""#];
    assert_eq!(sample(&metrics, "easel_http_requests_total", &unmatched), Some(1.0));
    assert!(!metrics.contains("BREW"), "an extension method became a label:\n{metrics}");
    assert!(!metrics.contains("/coffee"), "a raw path became a label:\n{metrics}");
    assert!(!metrics.contains(PROJECT), "a raw path reached the labels:\n{metrics}");
}

#[test]
fn metrics_have_latency_histograms() {
    let service = Service::start();
    json(&service.easel(&["images", "register", "--swr-path", "team/metered:2.0", "-o", "json"]));

    let metrics = scrape(&service);

    let images = r#"route="/v1/{project_id}/images""#;
    assert_eq!(sample(&metrics, "easel_http_request_duration_seconds_bucket", &[images, r#"le="+Inf""#]), Some(1.0));
    assert_eq!(sample(&metrics, "easel_http_request_duration_seconds_count", &[images]), Some(1.0));
    let insert = [r#"operation="insert_image""#, r#"outcome="ok""#];
    assert_eq!(sample(&metrics, "easel_store_call_duration_seconds_count", &insert), Some(1.0));
    assert!(sample(&metrics, "easel_store_call_duration_seconds_bucket", &[r#"operation="find_access_key""#]).is_some());
    assert!(metrics.contains("# TYPE easel_http_request_duration_seconds histogram"), "{metrics}");
}

#[test]
fn metrics_report_catalogue_sizes() {
    let service = Service::start_with(Options { extra_args: &["--catalogue-metrics-interval", "1s"], ..Options::default() });
    for name in ["one", "two"] {
        json(&service.easel(&["images", "register", "--swr-path", &format!("team/{name}:1.0.0-base"), "-o", "json"]));
    }

    // The gauges are recounted every second; wait for a count that includes both images.
    let dedicated = [r#"type="DEDICATED""#];
    let mut metrics = scrape(&service);
    for _ in 0..120 {
        if sample(&metrics, "easel_catalogue_images", &dedicated) == Some(2.0) {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(250));
        metrics = scrape(&service);
    }

    assert_eq!(sample(&metrics, "easel_catalogue_images", &dedicated), Some(2.0), "{metrics}");
    assert_eq!(sample(&metrics, "easel_catalogue_groups", &dedicated), Some(2.0), "{metrics}");
    let built_in = sample(&metrics, "easel_catalogue_images", &[r#"type="BUILD_IN""#]).expect("a built-in image count");
    assert!(built_in > 0.0, "the bundled presets are counted: {built_in}");
    assert!(sample(&metrics, "easel_catalogue_groups", &[r#"type="BUILD_IN""#]).is_some());
}
