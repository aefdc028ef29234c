//! A [`Registry`] decorator that times every call of the registry it wraps
//! and records the duration in the `easel_registry_call_duration_seconds`
//! histogram, labelled with the operation and its outcome.

use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

use async_trait::async_trait;

use crate::error::Result;
use crate::registry::{Manifest, Registry};
use crate::telemetry;

/// Wraps a registry and records the latency of each of its calls.
pub struct MeteredRegistry {
    inner: Arc<dyn Registry>,
}

impl MeteredRegistry {
    pub fn new(inner: Arc<dyn Registry>) -> Self {
        MeteredRegistry { inner }
    }
}

async fn timed<T>(operation: &'static str, call: impl Future<Output = Result<T>>) -> Result<T> {
    let started = Instant::now();
    let result = call.await;
    telemetry::record_registry_call(operation, result.is_ok(), started.elapsed());
    result
}

#[async_trait]
impl Registry for MeteredRegistry {
    fn host(&self) -> &str {
        self.inner.host()
    }

    async fn fetch_manifest(&self, repository: &str, reference: &str) -> Result<Option<Manifest>> {
        timed("fetch_manifest", self.inner.fetch_manifest(repository, reference)).await
    }

    async fn delete_manifest(&self, repository: &str, digest: &str) -> Result<bool> {
        timed("delete_manifest", self.inner.delete_manifest(repository, digest)).await
    }
}
