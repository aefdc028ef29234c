//! A [`Store`] decorator that times every call of the store it wraps and
//! records the duration in the `easel_store_call_duration_seconds` histogram,
//! labelled with the operation and its outcome.

use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

use async_trait::async_trait;
use uuid::Uuid;

use crate::catalogue::model::{Group, GroupChanges, GroupQuery, Image, ImageQuery, Page};
use crate::error::Result;
use crate::storage::{CatalogueSize, DeletedGroup, PresetLoad, SharedWrites, Store, StoredAccessKey, StoredToken};
use crate::telemetry;

/// Wraps a store and records the latency of each of its calls.
pub struct MeteredStore {
    inner: Arc<dyn Store>,
}

impl MeteredStore {
    pub fn new(inner: Arc<dyn Store>) -> Self {
        MeteredStore { inner }
    }
}

async fn timed<T>(operation: &'static str, call: impl Future<Output = Result<T>>) -> Result<T> {
    let started = Instant::now();
    let result = call.await;
    telemetry::record_store_call(operation, result.is_ok(), started.elapsed());
    result
}

#[async_trait]
impl Store for MeteredStore {
    async fn insert_access_key(&self, key: &StoredAccessKey) -> Result<()> {
        timed("insert_access_key", self.inner.insert_access_key(key)).await
    }

    async fn find_access_key(&self, access_key: &str) -> Result<Option<StoredAccessKey>> {
        timed("find_access_key", self.inner.find_access_key(access_key)).await
    }

    async fn oldest_access_key(&self) -> Result<Option<StoredAccessKey>> {
        timed("oldest_access_key", self.inner.oldest_access_key()).await
    }

    async fn insert_token(&self, token: &StoredToken) -> Result<()> {
        timed("insert_token", self.inner.insert_token(token)).await
    }

    async fn find_token(&self, token_hash: &str) -> Result<Option<StoredToken>> {
        timed("find_token", self.inner.find_token(token_hash)).await
    }

    async fn insert_image(&self, image: &Image) -> Result<Image> {
        timed("insert_image", self.inner.insert_image(image)).await
    }

    async fn find_image(&self, id: Uuid) -> Result<Option<Image>> {
        timed("find_image", self.inner.find_image(id)).await
    }

    async fn list_images(&self, query: &ImageQuery) -> Result<Page<Image>> {
        timed("list_images", self.inner.list_images(query)).await
    }

    async fn update_image_state(&self, image: &Image, now: i64) -> Result<Option<Image>> {
        timed("update_image_state", self.inner.update_image_state(image, now)).await
    }

    async fn delete_image(&self, id: Uuid, now: i64) -> Result<Option<Image>> {
        timed("delete_image", self.inner.delete_image(id, now)).await
    }

    async fn find_group(&self, id: Uuid) -> Result<Option<Group>> {
        timed("find_group", self.inner.find_group(id)).await
    }

    async fn list_groups(&self, query: &GroupQuery) -> Result<Page<Group>> {
        timed("list_groups", self.inner.list_groups(query)).await
    }

    async fn update_group(&self, id: Uuid, changes: &GroupChanges, now: i64) -> Result<Option<Group>> {
        timed("update_group", self.inner.update_group(id, changes, now)).await
    }

    async fn delete_group(&self, id: Uuid, now: i64) -> Result<Option<DeletedGroup>> {
        timed("delete_group", self.inner.delete_group(id, now)).await
    }

    async fn sync_presets(&self, presets: &[Image], now: i64) -> Result<PresetLoad> {
        timed("sync_presets", self.inner.sync_presets(presets, now)).await
    }

    async fn count_catalogue(&self) -> Result<CatalogueSize> {
        timed("count_catalogue", self.inner.count_catalogue()).await
    }

    async fn shared_writes(&self) -> Result<Option<SharedWrites>> {
        timed("shared_writes", self.inner.shared_writes()).await
    }

    async fn announce_write(&self) -> Result<()> {
        timed("announce_write", self.inner.announce_write()).await
    }
}
