//! Listings kept in memory until the next write. easel on SQLite is the only
//! writer of its database, so every change passes through the catalogue, and
//! a listing read after the last change is still current.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;
use uuid::Uuid;

use crate::catalogue::model::{Group, GroupChanges, GroupQuery, Image, ImageQuery, Page};
use crate::error::Result;
use crate::storage::{CatalogueSize, DeletedGroup, PresetLoad, Store, StoredAccessKey, StoredToken};

/// Recent listings of one kind (records or their encoded responses), by
/// query, each tagged with the write generation current before it was read.
pub struct ListingCache<T> {
    max_entries: usize,
    entries: Mutex<HashMap<String, (u64, T)>>,
}

/// The number of writes that have finished. A listing read after generation
/// `g` began is valid while the counter still reads `g`.
#[derive(Default)]
pub struct WriteGeneration(AtomicU64);

impl WriteGeneration {
    /// Returns the current generation; read it before reading a listing.
    pub fn current(&self) -> u64 {
        self.0.load(Ordering::Acquire)
    }

    /// Marks every cached listing stale; call it after each write, whether or not it succeeded.
    pub fn advance(&self) {
        self.0.fetch_add(1, Ordering::AcqRel);
    }
}

impl<T: Clone> ListingCache<T> {
    /// Creates a cache of at most `max_entries` listings; 0 turns it off.
    pub fn new(max_entries: usize) -> Self {
        ListingCache { max_entries, entries: Mutex::new(HashMap::new()) }
    }

    /// Returns the cached listing for `key` if no write finished since it was read.
    pub fn get(&self, key: &str, generation: u64) -> Option<T> {
        if self.max_entries == 0 {
            return None;
        }
        let entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        entries.get(key).filter(|(read_at, _)| *read_at == generation).map(|(_, listing)| listing.clone())
    }

    /// Keeps a listing read while `generation` was current.
    pub fn insert(&self, key: String, generation: u64, listing: &T) {
        if self.max_entries == 0 {
            return;
        }
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        if entries.len() >= self.max_entries {
            // Stale entries are never read again, so starting over loses only fresh ones.
            entries.clear();
        }
        entries.insert(key, (generation, listing.clone()));
    }
}

/// A store that advances a write generation after every change it makes,
/// whether or not the change succeeded, so every write path of the
/// catalogue (requests, registry events, inventory) expires cached listings.
pub struct TrackedStore {
    inner: Arc<dyn Store>,
    writes: Arc<WriteGeneration>,
}

impl TrackedStore {
    /// Wraps `inner`, advancing `writes` after each of its writes.
    pub fn new(inner: Arc<dyn Store>, writes: Arc<WriteGeneration>) -> Self {
        TrackedStore { inner, writes }
    }

    fn advanced<T>(&self, result: Result<T>) -> Result<T> {
        self.writes.advance();
        result
    }
}

#[async_trait]
impl Store for TrackedStore {
    async fn insert_access_key(&self, key: &StoredAccessKey) -> Result<()> {
        self.inner.insert_access_key(key).await
    }

    async fn find_access_key(&self, access_key: &str) -> Result<Option<StoredAccessKey>> {
        self.inner.find_access_key(access_key).await
    }

    async fn oldest_access_key(&self) -> Result<Option<StoredAccessKey>> {
        self.inner.oldest_access_key().await
    }

    async fn insert_token(&self, token: &StoredToken) -> Result<()> {
        self.inner.insert_token(token).await
    }

    async fn find_token(&self, token_hash: &str) -> Result<Option<StoredToken>> {
        self.inner.find_token(token_hash).await
    }

    async fn insert_image(&self, image: &Image) -> Result<Image> {
        self.advanced(self.inner.insert_image(image).await)
    }

    async fn find_image(&self, id: Uuid) -> Result<Option<Image>> {
        self.inner.find_image(id).await
    }

    async fn list_images(&self, query: &ImageQuery) -> Result<Page<Image>> {
        self.inner.list_images(query).await
    }

    async fn update_image_state(&self, image: &Image, now: i64) -> Result<Option<Image>> {
        self.advanced(self.inner.update_image_state(image, now).await)
    }

    async fn delete_image(&self, id: Uuid, now: i64) -> Result<Option<Image>> {
        self.advanced(self.inner.delete_image(id, now).await)
    }

    async fn find_group(&self, id: Uuid) -> Result<Option<Group>> {
        self.inner.find_group(id).await
    }

    async fn list_groups(&self, query: &GroupQuery) -> Result<Page<Group>> {
        self.inner.list_groups(query).await
    }

    async fn update_group(&self, id: Uuid, changes: &GroupChanges, now: i64) -> Result<Option<Group>> {
        self.advanced(self.inner.update_group(id, changes, now).await)
    }

    async fn delete_group(&self, id: Uuid, now: i64) -> Result<Option<DeletedGroup>> {
        self.advanced(self.inner.delete_group(id, now).await)
    }

    async fn sync_presets(&self, presets: &[Image], now: i64) -> Result<PresetLoad> {
        self.advanced(self.inner.sync_presets(presets, now).await)
    }

    async fn count_catalogue(&self) -> Result<CatalogueSize> {
        self.inner.count_catalogue().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue::model::{Listing, Page, PageRequest};

    fn listing(total: u64) -> Listing<u8> {
        Listing::new(Page { items: vec![1, 2], total }, PageRequest { limit: 10, offset: 0 })
    }

    #[test]
    fn cached_listing_expires_with_next_write() {
        let cache = ListingCache::new(8);
        let writes = WriteGeneration::default();
        let before = writes.current();
        cache.insert("q".into(), before, &listing(2));
        assert_eq!(cache.get("q", writes.current()).map(|l| l.total), Some(2));

        writes.advance();
        assert!(cache.get("q", writes.current()).is_none());
    }

    #[test]
    fn cache_of_zero_entries_keeps_nothing() {
        let cache = ListingCache::new(0);
        cache.insert("q".into(), 0, &listing(2));
        assert!(cache.get("q", 0).is_none());
    }

    #[test]
    fn full_cache_starts_over() {
        let cache = ListingCache::new(2);
        cache.insert("a".into(), 0, &listing(1));
        cache.insert("b".into(), 0, &listing(2));
        cache.insert("c".into(), 0, &listing(3));
        assert!(cache.get("a", 0).is_none());
        assert_eq!(cache.get("c", 0).map(|l| l.total), Some(3));
    }
}
