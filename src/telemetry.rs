//! Prometheus metrics: the series easel records, the recorder that keeps
//! them and the task that refreshes the catalogue size gauges. `/metrics`
//! renders [`prometheus`] in the Prometheus text format.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use metrics::{counter, describe_counter, describe_gauge, describe_histogram, gauge, histogram, Unit};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use tracing::warn;

use crate::storage::{CatalogueSize, Store};

/// Responses sent, by method, matched route template and status code.
pub const HTTP_REQUESTS: &str = "easel_http_requests_total";
/// Time from receiving a request to its response, by method and route.
pub const HTTP_DURATION: &str = "easel_http_request_duration_seconds";
/// Duration of each storage call, by operation and outcome.
pub const STORE_DURATION: &str = "easel_store_call_duration_seconds";
/// Duration of each registry call, by operation and outcome.
pub const REGISTRY_DURATION: &str = "easel_registry_call_duration_seconds";
/// Non-deleted images, by type.
pub const CATALOGUE_IMAGES: &str = "easel_catalogue_images";
/// Groups with at least one image, by type.
pub const CATALOGUE_GROUPS: &str = "easel_catalogue_groups";

/// The route label of requests that matched no route, so unknown paths
/// cannot create one series each.
pub const UNMATCHED_ROUTE: &str = "unmatched";

/// Histogram bucket bounds in seconds, from 1 ms to 10 s.
const LATENCY_BUCKETS: &[f64] = &[0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

static PROMETHEUS: OnceLock<PrometheusHandle> = OnceLock::new();

/// Returns the handle that renders every series, installing the process-wide
/// recorder on first use.
pub fn prometheus() -> &'static PrometheusHandle {
    PROMETHEUS.get_or_init(|| {
        let recorder = PrometheusBuilder::new()
            .set_buckets(LATENCY_BUCKETS)
            .expect("the bucket list is not empty")
            .build_recorder();
        let handle = recorder.handle();
        if metrics::set_global_recorder(recorder).is_err() {
            // Only happens when a library user installed a recorder first; the series then go to that recorder.
            warn!("a metrics recorder was already installed; /metrics shows no easel series");
        }
        describe();
        handle
    })
}

fn describe() {
    describe_counter!(HTTP_REQUESTS, Unit::Count, "Responses sent, by method, route template and status code.");
    describe_histogram!(HTTP_DURATION, Unit::Seconds, "Time from receiving a request to its response.");
    describe_histogram!(STORE_DURATION, Unit::Seconds, "Duration of each database call, by operation and outcome.");
    describe_histogram!(REGISTRY_DURATION, Unit::Seconds, "Duration of each registry call, by operation and outcome.");
    describe_gauge!(CATALOGUE_IMAGES, Unit::Count, "Non-deleted images, by type; refreshed periodically.");
    describe_gauge!(CATALOGUE_GROUPS, Unit::Count, "Groups with at least one image, by type; refreshed periodically.");
}

fn outcome(ok: bool) -> &'static str {
    if ok {
        "ok"
    } else {
        "error"
    }
}

/// Records one request and its response. `route` is the matched route template,
/// such as `/v1/{project_id}/images/{id}`, never the raw path.
pub fn record_request(method: &str, route: &str, status: u16, duration: Duration) {
    let labels = [("method", method.to_owned()), ("route", route.to_owned())];
    counter!(HTTP_REQUESTS, &[labels[0].clone(), labels[1].clone(), ("status", status.to_string())]).increment(1);
    histogram!(HTTP_DURATION, &labels).record(duration.as_secs_f64());
}

/// Records one storage call.
pub fn record_store_call(operation: &'static str, ok: bool, duration: Duration) {
    histogram!(STORE_DURATION, "operation" => operation, "outcome" => outcome(ok)).record(duration.as_secs_f64());
}

/// Records one registry call (a manifest read or delete); see `registry::metered`.
pub fn record_registry_call(operation: &'static str, ok: bool, duration: Duration) {
    histogram!(REGISTRY_DURATION, "operation" => operation, "outcome" => outcome(ok)).record(duration.as_secs_f64());
}

fn set_catalogue_size(size: CatalogueSize) {
    // Gauges are f64; catalogue sizes stay far below 2^53, where f64 is exact.
    gauge!(CATALOGUE_IMAGES, "type" => "DEDICATED").set(size.dedicated_images as f64);
    gauge!(CATALOGUE_IMAGES, "type" => "BUILD_IN").set(size.built_in_images as f64);
    gauge!(CATALOGUE_GROUPS, "type" => "DEDICATED").set(size.dedicated_groups as f64);
    gauge!(CATALOGUE_GROUPS, "type" => "BUILD_IN").set(size.built_in_groups as f64);
}

/// How often the recorder's histogram buffers are drained. Every latency is
/// kept as a raw sample until then. Drained once a minute with the catalogue
/// count, at up to 40,000 requests/s, they raised easel's RSS by about 15 MiB
/// per benchmark scenario, because the allocator kept each peak.
const HISTOGRAM_UPKEEP_INTERVAL: Duration = Duration::from_secs(1);

/// Counts the catalogue every `interval` and sets the size gauges, so that
/// `/metrics` only reads the last count. Also drains the recorder's
/// histogram buffers every second, which otherwise grow until the next scrape.
pub fn spawn_refresher(store: Arc<dyn Store>, interval: Duration) -> tokio::task::JoinHandle<()> {
    let handle = prometheus();
    tokio::spawn(async move {
        // A zero interval would make tokio panic; one second is the shortest useful one.
        let mut counts = tokio::time::interval(interval.max(Duration::from_secs(1)));
        counts.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut upkeep = tokio::time::interval(HISTOGRAM_UPKEEP_INTERVAL);
        upkeep.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);

        loop {
            tokio::select! {
                _ = counts.tick() => match store.count_catalogue().await {
                    Ok(size) => set_catalogue_size(size),
                    Err(err) => warn!(error.message = %err, "failed to count the catalogue for the size gauges"),
                },
                _ = upkeep.tick() => handle.run_upkeep(),
            }
        }
    })
}
