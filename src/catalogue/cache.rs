//! Listings kept in memory until the next write. Every change passes through
//! a catalogue's store, which counts it here and, when other processes share
//! the database, announces it to them. A listing read after the last change
//! anyone announced is still current.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;
use uuid::Uuid;

use crate::catalogue::coalesce::SharedCall;
use crate::catalogue::model::{Group, GroupChanges, GroupQuery, Image, ImageQuery, Page};
use crate::error::Result;
use crate::storage::{CatalogueSize, DeletedGroup, PresetLoad, SharedWrites, Store, StoredAccessKey, StoredToken};

/// Recent listings of one kind (records or their encoded responses), by
/// query, each tagged with the generation current before it was read.
pub struct ListingCache<T> {
    max_entries: usize,
    entries: Mutex<HashMap<String, (ListingGeneration, T)>>,
}

/// The writes a listing read now would reflect: this process's own and,
/// on a shared database, everyone's. A listing read after the generation
/// was taken is valid while the generation taken later is equal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListingGeneration {
    pub local: u64,
    pub shared: Option<SharedWrites>,
}

/// The number of writes this process has finished.
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

    /// Tells whether the cache keeps anything. When it does not, callers skip
    /// reading the generation.
    pub fn is_enabled(&self) -> bool {
        self.max_entries > 0
    }

    /// Returns the cached listing for `key` if no write finished since it was read.
    pub fn get(&self, key: &str, generation: ListingGeneration) -> Option<T> {
        if self.max_entries == 0 {
            return None;
        }
        let entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        entries.get(key).filter(|(read_at, _)| *read_at == generation).map(|(_, listing)| listing.clone())
    }

    /// Keeps a listing read while `generation` was current.
    pub fn insert(&self, key: String, generation: ListingGeneration, listing: &T) {
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

/// A store that advances a write generation and announces a write after every
/// change it makes, whether or not the change succeeded. Every write path of
/// the catalogue (requests, registry events, inventory) then expires cached
/// listings, in this process and in every other that shares the database.
pub struct TrackedStore {
    inner: Arc<dyn Store>,
    writes: Arc<WriteGeneration>,
    /// Reads of the shared write count, one for all the listings that queued
    /// while the previous read ran.
    count_reads: SharedCall<Option<SharedWrites>>,
    /// Announcements, one for all the writes that finished while the previous
    /// announcement ran.
    announcements: SharedCall<()>,
    /// Set once the store has returned that no other process writes to it, so
    /// that its calls skip the queues above.
    unshared: AtomicBool,
}

impl TrackedStore {
    /// Wraps `inner`, advancing `writes` after each of its writes.
    pub fn new(inner: Arc<dyn Store>, writes: Arc<WriteGeneration>) -> Self {
        TrackedStore {
            inner,
            writes,
            count_reads: SharedCall::default(),
            announcements: SharedCall::default(),
            unshared: AtomicBool::new(false),
        }
    }

    async fn advanced<T>(&self, result: Result<T>) -> Result<T> {
        self.writes.advance();

        // The announcement follows the commit, so another process that reads
        // the count before it may still serve a listing read before the
        // write, but only until this request gets its response.
        if let Err(err) = self.announce_write().await {
            // The write is kept. Other processes may serve listings cached
            // before it until the next write that is announced.
            tracing::warn!(error = %err, "failed to announce a write to other easel processes");
        }
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
        self.advanced(self.inner.insert_image(image).await).await
    }

    async fn find_image(&self, id: Uuid) -> Result<Option<Image>> {
        self.inner.find_image(id).await
    }

    async fn list_images(&self, query: &ImageQuery) -> Result<Page<Image>> {
        self.inner.list_images(query).await
    }

    async fn update_image_state(&self, image: &Image, now: i64) -> Result<Option<Image>> {
        self.advanced(self.inner.update_image_state(image, now).await).await
    }

    async fn delete_image(&self, id: Uuid, now: i64) -> Result<Option<Image>> {
        self.advanced(self.inner.delete_image(id, now).await).await
    }

    async fn find_group(&self, id: Uuid) -> Result<Option<Group>> {
        self.inner.find_group(id).await
    }

    async fn list_groups(&self, query: &GroupQuery) -> Result<Page<Group>> {
        self.inner.list_groups(query).await
    }

    async fn update_group(&self, id: Uuid, changes: &GroupChanges, now: i64) -> Result<Option<Group>> {
        self.advanced(self.inner.update_group(id, changes, now).await).await
    }

    async fn delete_group(&self, id: Uuid, now: i64) -> Result<Option<DeletedGroup>> {
        self.advanced(self.inner.delete_group(id, now).await).await
    }

    async fn sync_presets(&self, presets: &[Image], now: i64) -> Result<PresetLoad> {
        self.advanced(self.inner.sync_presets(presets, now).await).await
    }

    async fn count_catalogue(&self) -> Result<CatalogueSize> {
        self.inner.count_catalogue().await
    }

    async fn shared_writes(&self) -> Result<Option<SharedWrites>> {
        if self.unshared.load(Ordering::Relaxed) {
            return Ok(None);
        }

        let writes = self.count_reads.run(|| self.inner.shared_writes()).await?;
        if writes.is_none() {
            self.unshared.store(true, Ordering::Relaxed);
        }
        Ok(writes)
    }

    async fn announce_write(&self) -> Result<()> {
        if self.unshared.load(Ordering::Relaxed) {
            return Ok(());
        }
        self.announcements.run(|| self.inner.announce_write()).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue::model::{Listing, Page, PageRequest};

    fn listing(total: u64) -> Listing<u8> {
        Listing::new(Page { items: vec![1, 2], total }, PageRequest { limit: 10, offset: 0 })
    }

    fn local(writes: u64) -> ListingGeneration {
        ListingGeneration { local: writes, shared: None }
    }

    fn shared(epoch: i64, count: i64) -> ListingGeneration {
        ListingGeneration { local: 0, shared: Some(SharedWrites { epoch, count }) }
    }

    #[test]
    fn cached_listing_expires_with_next_write() {
        let cache = ListingCache::new(8);
        let writes = WriteGeneration::default();
        let before = local(writes.current());
        cache.insert("q".into(), before, &listing(2));
        assert_eq!(cache.get("q", local(writes.current())).map(|l| l.total), Some(2));

        writes.advance();
        assert!(cache.get("q", local(writes.current())).is_none());
    }

    #[test]
    fn cached_listing_expires_with_another_process_write() {
        let cache = ListingCache::new(8);
        cache.insert("q".into(), shared(7, 41), &listing(2));
        assert_eq!(cache.get("q", shared(7, 41)).map(|l| l.total), Some(2));

        assert!(cache.get("q", shared(7, 42)).is_none());
    }

    #[test]
    fn cached_listing_expires_when_database_restarts() {
        let cache = ListingCache::new(8);
        cache.insert("q".into(), shared(7, 41), &listing(2));

        assert!(cache.get("q", shared(8, 41)).is_none());
    }

    #[test]
    fn cache_of_zero_entries_keeps_nothing() {
        let cache = ListingCache::new(0);
        cache.insert("q".into(), local(0), &listing(2));
        assert!(cache.get("q", local(0)).is_none());
    }

    #[test]
    fn full_cache_starts_over() {
        let cache = ListingCache::new(2);
        cache.insert("a".into(), local(0), &listing(1));
        cache.insert("b".into(), local(0), &listing(2));
        cache.insert("c".into(), local(0), &listing(3));
        assert!(cache.get("a", local(0)).is_none());
        assert_eq!(cache.get("c", local(0)).map(|l| l.total), Some(3));
    }
}
