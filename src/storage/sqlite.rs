//! The embedded SQLite backend. Writes go through a pool of one connection,
//! so SQLite's single writer never waits on itself. Reads use a separate pool
//! and see committed data through WAL.

use std::collections::HashMap;
use std::str::FromStr;
use std::time::Duration;

use anyhow::Context;
use async_trait::async_trait;
use serde::de::DeserializeOwned;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Acquire, QueryBuilder, Sqlite, SqliteConnection};
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

use crate::catalogue::model::{Group, GroupChanges, GroupQuery, Image, ImageQuery, NameFilter, Page, PageRequest};
use crate::error::{Error, Result};
use crate::storage::rows::{join_wire, tag_reference, tags_json, GroupRow, ImageRow, GROUP_COLUMNS, IMAGE_COLUMNS};
use crate::storage::{
    is_unique_violation, push_kept_totals, ADJUST_TOTALS, scope_of, scopes, stored_access_key, totals_shard, CatalogueSize, DeletedGroup, PresetLoad, SharedWrites, Store, StoredAccessKey, StoredToken, BUILT_IN_SCOPE,
};

const READ_CONNECTIONS: u32 = 4;
/// The page cache of each reading connection: 16 MiB (negative values count KiB).
/// The listing indexes and hot group rows stay in memory instead of being
/// copied from the operating system's cache on every listing.
const READ_CACHE_SIZE: &str = "-16384";
/// The heap SQLite aims to stay under in this process, in bytes: 48 MiB.
/// Past it SQLite frees page cache before it allocates more. Each reader's
/// thread keeps its own malloc arena at its peak, so without the limit four
/// readers serving varied uncached listings took easel's RSS to 220 MiB.
/// With it the RSS stayed at about 120 MiB (`bench/rss-probe.sh`).
const SOFT_HEAP_LIMIT: &str = "50331648";

/// The maximum number of registrations committed together in one transaction.
const MAX_INSERTS_PER_COMMIT: usize = 256;

/// The catalogue in one SQLite database file.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    reader: SqlitePool,
    writer: SqlitePool,
    /// Registrations waiting for [`commit_inserts`].
    inserts: mpsc::Sender<PendingInsert>,
}

/// A registration waiting for its commit, and where its result goes.
#[derive(Debug)]
struct PendingInsert {
    image: Image,
    reply: oneshot::Sender<Result<Image>>,
}

/// Commits registrations in groups: every registration that arrives while a
/// commit is syncing joins the next transaction, so one fsync acknowledges
/// many of them. No registration is acknowledged before its commit returns.
async fn commit_inserts(writer: SqlitePool, mut inserts: mpsc::Receiver<PendingInsert>) {
    let mut batch = Vec::with_capacity(MAX_INSERTS_PER_COMMIT);
    while inserts.recv_many(&mut batch, MAX_INSERTS_PER_COMMIT).await > 0 {
        let results = insert_batch(&writer, &batch).await;
        for (pending, result) in batch.drain(..).zip(results) {
            // The caller may have gone away (its client disconnected); the image stays registered.
            let _ = pending.reply.send(result);
        }
    }
}

/// Inserts a batch of images in one transaction. Returns one result per image, in order.
async fn insert_batch(writer: &SqlitePool, batch: &[PendingInsert]) -> Vec<Result<Image>> {
    match insert_all(writer, batch).await {
        Ok(images) => images.into_iter().map(Ok).collect(),
        // One image failed (a duplicate tag, say) and the transaction rolled
        // back, so insert each again in its own savepoint to fail only that one.
        Err(_) if batch.len() > 1 => insert_each(writer, batch).await,
        Err(err) => vec![Err(err)],
    }
}

/// Inserts every image of a batch or none: the common case, with two
/// statements per image and no savepoints.
async fn insert_all(writer: &SqlitePool, batch: &[PendingInsert]) -> Result<Vec<Image>> {
    let mut tx = writer.begin().await?;
    let mut images = Vec::with_capacity(batch.len());
    for pending in batch {
        images.push(insert_attached(&mut tx, &pending.image).await?);
    }
    tx.commit().await?;
    Ok(images)
}

/// Inserts each image of a batch in its own savepoint, all in one transaction.
async fn insert_each(writer: &SqlitePool, batch: &[PendingInsert]) -> Vec<Result<Image>> {
    let mut results = Vec::with_capacity(batch.len());
    let committed = async {
        let mut tx = writer.begin().await?;
        for pending in batch {
            let mut savepoint = tx.begin().await?;
            match insert_attached(&mut savepoint, &pending.image).await {
                Ok(image) => {
                    savepoint.commit().await?;
                    results.push(Ok(image));
                }
                Err(err) => {
                    savepoint.rollback().await?;
                    results.push(Err(err));
                }
            }
        }
        tx.commit().await
    }
    .await;

    match committed {
        Ok(()) => results,
        Err(err) => {
            tracing::error!(error.cause = %err, batch.images = batch.len(), "committing registrations failed");
            // SQLite rolls the whole transaction back, so none of these images was stored.
            let unavailable = || Error::Unavailable("Committing to the database failed; nothing was changed. Retry later.".into());
            batch.iter().map(|_| Err(unavailable())).collect()
        }
    }
}

impl SqliteStore {
    /// Opens (creating when missing) the database at `url` (`sqlite://PATH`)
    /// and applies the migrations.
    pub async fn open(url: &str) -> anyhow::Result<Self> {
        let options = SqliteConnectOptions::from_str(url)
            .with_context(|| format!("Failed to parse the database URL {url}"))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // FULL syncs the WAL on every commit, so an acknowledged write survives a power loss.
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));

        let path = options.get_filename().to_path_buf();
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("Failed to create the database directory {}", parent.display()))?;
        }
        create_owner_only(&path)?;

        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options.clone())
            .await
            .with_context(|| format!("Failed to open the SQLite database {}", path.display()))?;
        sqlx::migrate!("./migrations/sqlite")
            .run(&writer)
            .await
            .context("Failed to apply the SQLite migrations")?;

        // A local file cannot drop a connection, so a ping before each use
        // (one more round trip to the connection's worker thread) buys nothing.
        let reader = SqlitePoolOptions::new()
            .max_connections(READ_CONNECTIONS)
            .acquire_timeout(Duration::from_secs(30))
            .test_before_acquire(false)
            .connect_with(options.read_only(true).pragma("cache_size", READ_CACHE_SIZE).pragma("soft_heap_limit", SOFT_HEAP_LIMIT))
            .await
            .with_context(|| format!("Failed to open the SQLite database {} for reading", path.display()))?;

        let (inserts, pending) = mpsc::channel(4 * MAX_INSERTS_PER_COMMIT);
        tokio::spawn(commit_inserts(writer.clone(), pending));

        Ok(SqliteStore { reader, writer, inserts })
    }
}

/// Creates an empty database file readable only by its owner, unless it
/// exists. SQLite gives the WAL and shared-memory files the same mode.
fn create_owner_only(path: &std::path::Path) -> anyhow::Result<()> {
    if path.as_os_str() == ":memory:" {
        return Ok(());
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(err) => Err(err).with_context(|| format!("Failed to create the database file {}", path.display())),
    }
}

/// Attaches a new image to its group, creating the group on its first image.
/// The group takes the new image's description and, when it names one, its
/// SWR instance. Returns the group id and its image count, 1 when the image
/// is the group's first.
async fn attach_to_group(conn: &mut SqliteConnection, image: &Image) -> Result<(Uuid, i64)> {
    let (id, version_count): (String, i64) = sqlx::query_as(
        "INSERT INTO image_groups (id, scope, workspace_id, type, namespace, name, description, swr_instance_id, \
           version_count, create_at, update_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?9, 1, ?8, ?8) \
         ON CONFLICT (scope, workspace_id, namespace, name) DO UPDATE SET \
           version_count = image_groups.version_count + 1, \
           description = excluded.description, \
           swr_instance_id = CASE WHEN excluded.swr_instance_id <> '' THEN excluded.swr_instance_id \
                                  ELSE image_groups.swr_instance_id END, \
           create_at = CASE WHEN image_groups.version_count = 0 THEN excluded.create_at \
                            ELSE MIN(image_groups.create_at, excluded.create_at) END, \
           update_at = MAX(image_groups.update_at, excluded.update_at) \
         RETURNING id, version_count",
    )
    .bind(Uuid::new_v4().to_string())
    .bind(scope_of(image))
    .bind(&image.workspace_id)
    .bind(image.image_type.as_str())
    .bind(&image.namespace)
    .bind(&image.name)
    .bind(&image.description)
    .bind(image.create_at)
    .bind(image.swr_instance_id.as_deref().unwrap_or_default())
    .fetch_one(&mut *conn)
    .await?;
    let id = Uuid::parse_str(&id).map_err(|err| Error::Internal(anyhow::anyhow!("stored group id {id} is not a UUID: {err}")))?;
    Ok((id, version_count))
}

/// Adds to the listing totals of a group's scope: `groups` for a group that
/// gained its first image (1) or lost its last (-1), `images` for the images
/// it gained or lost.
async fn adjust_totals(conn: &mut SqliteConnection, scope: &str, workspace_id: &str, group_id: Uuid, groups: i64, images: i64) -> Result<()> {
    sqlx::query(ADJUST_TOTALS)
        .bind(scope)
        .bind(workspace_id)
        .bind(totals_shard(group_id))
        .bind(groups)
        .bind(images)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Recomputes a group's summary after one of its images left or changed:
/// the count drops by `removed`, and the earliest time and newest description
/// come from the images that remain. The scope's listing totals drop with it.
async fn refresh_group(conn: &mut SqliteConnection, group_id: Uuid, removed: i64, now: i64) -> Result<()> {
    let (scope, workspace_id, version_count): (String, String, i64) = sqlx::query_as(
        "UPDATE image_groups SET \
           version_count = version_count - ?2, \
           update_at = MAX(update_at, ?3), \
           create_at = COALESCE((SELECT MIN(create_at) FROM images WHERE group_id = ?1 AND deleted = 0), create_at), \
           description = COALESCE((SELECT description FROM images WHERE group_id = ?1 AND deleted = 0 \
                                   ORDER BY create_at DESC, id DESC LIMIT 1), description) \
         WHERE id = ?1 RETURNING scope, workspace_id, version_count",
    )
    .bind(group_id.to_string())
    .bind(removed)
    .bind(now)
    .fetch_one(&mut *conn)
    .await?;

    if removed > 0 {
        let emptied = if version_count == 0 { -1 } else { 0 };
        adjust_totals(conn, &scope, &workspace_id, group_id, emptied, -removed).await?;
    }
    Ok(())
}

async fn insert_image_row(conn: &mut SqliteConnection, image: &Image) -> std::result::Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO images (id, project_id, workspace_id, group_id, type, swr_path, namespace, name, tag, digest, \
           arch, description, origin, resource_categories, service_type, dev_services, visibility, status, \
           status_message, flavor_type, swr_instance_id, show_name, show_tag, tags, read_me, size, create_at, update_at, \
           tag_reference) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, \
           ?23, ?24, ?25, ?26, ?27, ?28, ?29)",
    )
    .bind(image.id.to_string())
    .bind(scope_of(image))
    .bind(&image.workspace_id)
    .bind(image.group_id.to_string())
    .bind(image.image_type.as_str())
    .bind(&image.swr_path)
    .bind(&image.namespace)
    .bind(&image.name)
    .bind(&image.tag)
    .bind(&image.digest)
    .bind(image.arch.as_str())
    .bind(&image.description)
    .bind(image.origin.as_str())
    .bind(join_wire(&image.resource_categories))
    .bind(image.service_type.as_str())
    .bind(join_wire(&image.dev_services))
    .bind(image.visibility.as_str())
    .bind(image.status.as_str())
    .bind(&image.status_message)
    .bind(&image.flavor_type)
    .bind(&image.swr_instance_id)
    .bind(&image.show_name)
    .bind(&image.show_tag)
    .bind(serde_json::to_string(&image.tags).unwrap_or_else(|_| "[]".to_owned()))
    .bind(&image.read_me)
    .bind(image.size)
    .bind(image.create_at)
    .bind(image.update_at)
    .bind(tag_reference(&image.swr_path))
    .execute(&mut *conn)
    .await
    .map(|_| ())
}

/// Inserts an image and attaches it to its group, inside the caller's transaction.
async fn insert_attached(conn: &mut SqliteConnection, image: &Image) -> Result<Image> {
    let (group_id, version_count) = attach_to_group(conn, image).await?;
    let image = Image { group_id, ..image.clone() };

    match insert_image_row(conn, &image).await {
        Ok(()) => {}
        Err(err) if is_unique_violation(&err) => {
            return Err(Error::DuplicateTag { name: image.name.clone(), tag: image.tag.clone() });
        }
        Err(err) => return Err(err.into()),
    }

    let new_group = if version_count == 1 { 1 } else { 0 };
    adjust_totals(conn, scope_of(&image), &image.workspace_id, group_id, new_group, 1).await?;
    Ok(image)
}

/// Marks one image deleted and detaches it from its group.
async fn delete_attached(conn: &mut SqliteConnection, id: Uuid, now: i64) -> Result<Option<Image>> {
    let row: Option<ImageRow> = sqlx::query_as(&format!(
        "UPDATE images SET deleted = 1, status = 'DELETED', update_at = ?2 WHERE id = ?1 AND deleted = 0 \
         RETURNING {IMAGE_COLUMNS}"
    ))
    .bind(id.to_string())
    .bind(now)
    .fetch_optional(&mut *conn)
    .await?;

    let Some(row) = row else { return Ok(None) };
    let image = Image::try_from(row)?;
    refresh_group(conn, image.group_id, 1, now).await?;
    Ok(Some(image))
}

fn push_name_filter(builder: &mut QueryBuilder<'_, Sqlite>, filter: &Option<NameFilter>) {
    match filter {
        // instr() compares characters literally, so '_' and '%' need no escaping.
        Some(NameFilter::Contains(needle)) => {
            builder.push(" AND instr(name, ").push_bind(needle.clone()).push(") > 0");
        }
        Some(NameFilter::Exact(name)) => {
            builder.push(" AND name = ").push_bind(name.clone());
        }
        None => {}
    }
}

fn push_optional_eq(builder: &mut QueryBuilder<'_, Sqlite>, column: &str, value: Option<&str>) {
    if let Some(value) = value {
        builder.push(format!(" AND {column} = ")).push_bind(value.to_owned());
    }
}

fn push_group_arm(builder: &mut QueryBuilder<'_, Sqlite>, select: &str, scope: &(String, String), query: &GroupQuery) {
    builder
        .push(select)
        .push(" FROM image_groups WHERE version_count > 0 AND scope = ")
        .push_bind(scope.0.clone())
        .push(" AND workspace_id = ")
        .push_bind(scope.1.clone());
    push_name_filter(builder, &query.name);
    push_optional_eq(builder, "namespace", query.namespace.as_deref());
    push_optional_eq(builder, "swr_instance_id", query.swr_instance_id.as_deref());
}

fn push_image_arm(builder: &mut QueryBuilder<'_, Sqlite>, select: &str, scope: &(String, String), query: &ImageQuery) {
    builder
        .push(select)
        .push(" FROM images WHERE deleted = 0 AND project_id = ")
        .push_bind(scope.0.clone())
        .push(" AND workspace_id = ")
        .push_bind(scope.1.clone());
    push_name_filter(builder, &query.name);
    push_optional_eq(builder, "namespace", query.namespace.as_deref());
    push_optional_eq(builder, "service_type", query.service_type.map(|s| s.as_str()));
    push_optional_eq(builder, "show_name", query.show_name.as_deref());
    push_optional_eq(builder, "show_tag", query.show_tag.as_deref());
}

/// Appends one SELECT per filter arm to a query.
type ArmBuilder<Q> = for<'a> fn(&mut QueryBuilder<'a, Sqlite>, &str, &(String, String), &Q);

/// Joins one arm per scope with UNION ALL. Each arm is served by its own
/// index range, so SQLite merges two ordered streams instead of sorting.
fn push_arms<Q>(builder: &mut QueryBuilder<'_, Sqlite>, select: &str, scopes: &[(String, String)], query: &Q, push_arm: ArmBuilder<Q>) {
    for (i, scope) in scopes.iter().enumerate() {
        if i > 0 {
            builder.push(" UNION ALL ");
        }
        push_arm(builder, select, scope, query);
    }
}

fn push_page(builder: &mut QueryBuilder<'_, Sqlite>, page: PageRequest) {
    builder
        .push(" LIMIT ")
        .push_bind(i64::from(page.limit))
        .push(" OFFSET ")
        .push_bind(i64::try_from(page.offset).unwrap_or(i64::MAX));
}

#[async_trait]
impl Store for SqliteStore {
    async fn insert_access_key(&self, key: &StoredAccessKey) -> Result<()> {
        sqlx::query("INSERT INTO access_keys (access_key, project_id, secret_ciphertext, create_at) VALUES (?1, ?2, ?3, ?4)")
            .bind(&key.access_key)
            .bind(&key.project_id)
            .bind(&key.secret_ciphertext)
            .bind(key.create_at)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    async fn find_access_key(&self, access_key: &str) -> Result<Option<StoredAccessKey>> {
        let row: Option<(String, String, Vec<u8>, i64)> = sqlx::query_as(
            "SELECT access_key, project_id, secret_ciphertext, create_at FROM access_keys WHERE access_key = ?1",
        )
        .bind(access_key)
        .fetch_optional(&self.reader)
        .await?;
        Ok(row.map(stored_access_key))
    }

    async fn oldest_access_key(&self) -> Result<Option<StoredAccessKey>> {
        let row: Option<(String, String, Vec<u8>, i64)> = sqlx::query_as(
            "SELECT access_key, project_id, secret_ciphertext, create_at FROM access_keys \
             ORDER BY create_at, access_key LIMIT 1",
        )
        .fetch_optional(&self.reader)
        .await?;
        Ok(row.map(stored_access_key))
    }

    async fn insert_token(&self, token: &StoredToken) -> Result<()> {
        sqlx::query("INSERT INTO tokens (token_hash, project_id, expires_at, create_at) VALUES (?1, ?2, ?3, ?4)")
            .bind(&token.token_hash)
            .bind(&token.project_id)
            .bind(token.expires_at)
            .bind(token.create_at)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    async fn find_token(&self, token_hash: &str) -> Result<Option<StoredToken>> {
        let row: Option<(String, String, i64, i64)> =
            sqlx::query_as("SELECT token_hash, project_id, expires_at, create_at FROM tokens WHERE token_hash = ?1")
                .bind(token_hash)
                .fetch_optional(&self.reader)
                .await?;
        Ok(row.map(|(token_hash, project_id, expires_at, create_at)| StoredToken {
            token_hash,
            project_id,
            expires_at,
            create_at,
        }))
    }

    async fn insert_image(&self, image: &Image) -> Result<Image> {
        let (reply, inserted) = oneshot::channel();
        let pending = PendingInsert { image: image.clone(), reply };
        if self.inserts.send(pending).await.is_err() {
            return Err(Error::Unavailable("The database writer has stopped; nothing was changed.".into()));
        }
        inserted
            .await
            .unwrap_or_else(|_| Err(Error::Internal(anyhow::anyhow!("the database writer dropped a registration"))))
    }

    async fn find_image(&self, id: Uuid) -> Result<Option<Image>> {
        let row: Option<ImageRow> = sqlx::query_as(&format!("SELECT {IMAGE_COLUMNS} FROM images WHERE id = ?1 AND deleted = 0"))
            .bind(id.to_string())
            .fetch_optional(&self.reader)
            .await?;
        row.map(Image::try_from).transpose()
    }

    async fn list_images(&self, query: &ImageQuery) -> Result<Page<Image>> {
        let scopes = scopes(query.project_id.as_str(), query.workspace_id.as_str(), query.image_type);
        let direction = query.sort_dir.as_str();
        let mut keys: Vec<&str> = query.sort_keys.iter().map(|key| key.column()).collect();
        if keys.is_empty() {
            keys.push("update_at");
        }
        let order = |prefix: &str| {
            let mut order: String = keys.iter().map(|key| format!("{prefix}{key} {direction}, ")).collect();
            order.push_str(&format!("{prefix}id ASC"));
            order
        };

        let listing = PackedListing {
            table: "images",
            columns: IMAGE_COLUMNS,
            key_columns: format!("id, {}", keys.join(", ")),
            page_order: order(""),
            row_order: order("listed."),
            kept_total: query.lists_whole_scopes().then_some("image_count"),
        };
        let (total, rows) = listing.fetch::<ImageQuery, ImageRow>(&self.reader, &scopes, query, push_image_arm, query.page).await?;

        let items = rows.into_iter().map(Image::try_from).collect::<Result<_>>()?;
        Ok(Page { items, total })
    }

    async fn update_image_state(&self, image: &Image, now: i64) -> Result<Option<Image>> {
        let mut tx = self.writer.begin().await?;
        let row: Option<ImageRow> = sqlx::query_as(&format!(
            "UPDATE images SET status = ?2, status_message = ?3, size = ?4, arch = ?5, digest = ?6, update_at = ?7 \
             WHERE id = ?1 AND deleted = 0 RETURNING {IMAGE_COLUMNS}"
        ))
        .bind(image.id.to_string())
        .bind(image.status.as_str())
        .bind(&image.status_message)
        .bind(image.size)
        .bind(image.arch.as_str())
        .bind(&image.digest)
        .bind(now)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let updated = Image::try_from(row)?;
        refresh_group(&mut tx, updated.group_id, 0, now).await?;
        tx.commit().await?;
        Ok(Some(updated))
    }

    async fn delete_image(&self, id: Uuid, now: i64) -> Result<Option<Image>> {
        let mut tx = self.writer.begin().await?;
        let deleted = delete_attached(&mut tx, id, now).await?;
        tx.commit().await?;
        Ok(deleted)
    }

    async fn find_group(&self, id: Uuid) -> Result<Option<Group>> {
        let row: Option<GroupRow> =
            sqlx::query_as(&format!("SELECT {GROUP_COLUMNS} FROM image_groups WHERE id = ?1 AND version_count > 0"))
                .bind(id.to_string())
                .fetch_optional(&self.reader)
                .await?;
        row.map(Group::try_from).transpose()
    }

    async fn list_groups(&self, query: &GroupQuery) -> Result<Page<Group>> {
        let scopes = scopes(query.project_id.as_str(), query.workspace_id.as_str(), query.image_type);

        let listing = PackedListing {
            table: "image_groups",
            columns: GROUP_COLUMNS,
            key_columns: "id, update_at, namespace, name".to_owned(),
            page_order: "update_at DESC, namespace ASC, name ASC, id ASC".to_owned(),
            row_order: "listed.update_at DESC, listed.namespace ASC, listed.name ASC, listed.id ASC".to_owned(),
            kept_total: query.lists_whole_scopes().then_some("group_count"),
        };
        let (total, rows) = listing.fetch::<GroupQuery, GroupRow>(&self.reader, &scopes, query, push_group_arm, query.page).await?;

        let items = rows.into_iter().map(Group::try_from).collect::<Result<_>>()?;
        Ok(Page { items, total })
    }

    async fn update_group(&self, id: Uuid, changes: &GroupChanges, now: i64) -> Result<Option<Group>> {
        let tags = changes.tags.as_deref().map(tags_json).transpose()?;
        let row: Option<GroupRow> = sqlx::query_as(&format!(
            "UPDATE image_groups SET read_me = COALESCE(?2, read_me), tags = COALESCE(?3, tags), \
               update_at = MAX(update_at, ?4) \
             WHERE id = ?1 AND version_count > 0 RETURNING {GROUP_COLUMNS}"
        ))
        .bind(id.to_string())
        .bind(&changes.read_me)
        .bind(tags)
        .bind(now)
        .fetch_optional(&self.writer)
        .await?;
        row.map(Group::try_from).transpose()
    }

    async fn delete_group(&self, id: Uuid, now: i64) -> Result<Option<DeletedGroup>> {
        let mut tx = self.writer.begin().await?;
        let row: Option<GroupRow> =
            sqlx::query_as(&format!("SELECT {GROUP_COLUMNS} FROM image_groups WHERE id = ?1 AND version_count > 0"))
                .bind(id.to_string())
                .fetch_optional(&mut *tx)
                .await?;
        let Some(row) = row else { return Ok(None) };
        let (scope, workspace_id) = (row.scope.clone(), row.workspace_id.clone());
        let group = Group::try_from(row)?;

        let rows: Vec<ImageRow> = sqlx::query_as(&format!(
            "UPDATE images SET deleted = 1, status = 'DELETED', update_at = ?2 WHERE group_id = ?1 AND deleted = 0 \
             RETURNING {IMAGE_COLUMNS}"
        ))
        .bind(id.to_string())
        .bind(now)
        .fetch_all(&mut *tx)
        .await?;
        sqlx::query("UPDATE image_groups SET version_count = 0, read_me = '', tags = '[]', update_at = MAX(update_at, ?2) \
             WHERE id = ?1")
            .bind(id.to_string())
            .bind(now)
            .execute(&mut *tx)
            .await?;
        adjust_totals(&mut tx, &scope, &workspace_id, id, -1, -(rows.len() as i64)).await?;
        tx.commit().await?;

        let images = rows.into_iter().map(Image::try_from).collect::<Result<_>>()?;
        Ok(Some(DeletedGroup { group, images }))
    }

    async fn sync_presets(&self, presets: &[Image], now: i64) -> Result<PresetLoad> {
        let mut tx = self.writer.begin().await?;
        let rows: Vec<ImageRow> =
            sqlx::query_as(&format!("SELECT {IMAGE_COLUMNS} FROM images WHERE project_id = ?1 AND deleted = 0"))
                .bind(BUILT_IN_SCOPE)
                .fetch_all(&mut *tx)
                .await?;
        let mut existing: HashMap<Uuid, Image> = rows
            .into_iter()
            .map(|row| Image::try_from(row).map(|image| (image.id, image)))
            .collect::<Result<_>>()?;

        let mut load = PresetLoad::default();
        for preset in presets {
            match existing.remove(&preset.id) {
                Some(current) => {
                    let wanted = Image {
                        group_id: current.group_id,
                        create_at: current.create_at,
                        update_at: current.update_at,
                        ..preset.clone()
                    };
                    if wanted != current {
                        replace_preset(&mut tx, &wanted, now).await?;
                        load.updated += 1;
                    }
                }
                None => {
                    // A preset removed earlier and listed again keeps its id: drop the old row first.
                    sqlx::query("DELETE FROM images WHERE id = ?1 AND deleted = 1")
                        .bind(preset.id.to_string())
                        .execute(&mut *tx)
                        .await?;
                    insert_attached(&mut tx, preset).await?;
                    load.inserted += 1;
                }
            }
        }
        for stale in existing.into_keys() {
            delete_attached(&mut tx, stale, now).await?;
            load.removed += 1;
        }

        tx.commit().await?;
        Ok(load)
    }

    async fn count_catalogue(&self) -> Result<CatalogueSize> {
        let mut tx = self.reader.begin().await?;
        let images: Vec<(bool, i64)> = sqlx::query_as(
            "SELECT project_id = ?1, COUNT(*) FROM images WHERE deleted = 0 GROUP BY project_id = ?1",
        )
        .bind(BUILT_IN_SCOPE)
        .fetch_all(&mut *tx)
        .await?;
        let groups: Vec<(bool, i64)> = sqlx::query_as(
            "SELECT scope = ?1, COUNT(*) FROM image_groups WHERE version_count > 0 GROUP BY scope = ?1",
        )
        .bind(BUILT_IN_SCOPE)
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;

        Ok(CatalogueSize::from_counts(&images, &groups))
    }

    async fn shared_writes(&self) -> Result<Option<SharedWrites>> {
        // The database file is written by this process alone.
        Ok(None)
    }

    async fn announce_write(&self) -> Result<()> {
        Ok(())
    }
}

/// A listing read in one statement, so one round trip to SQLite's worker
/// thread returns the total and the page from one snapshot. The page is found
/// on the listing indexes by its key columns alone. Its rows are then read by
/// id and packed by SQLite into one JSON array of row arrays, because passing
/// each column of each row through sqlx cost more than the query itself.
struct PackedListing {
    table: &'static str,
    /// The columns of a row, in the order its row type reads them.
    columns: &'static str,
    /// `id` and the columns the page order reads.
    key_columns: String,
    /// The listing order over the key columns.
    page_order: String,
    /// The same order over the table's rows, aliased `listed`.
    row_order: String,
    /// The column of `listing_totals` that contains the total when the query
    /// lists whole scopes. Without it the matching entries are counted.
    kept_total: Option<&'static str>,
}

impl PackedListing {
    async fn fetch<Q, R: DeserializeOwned>(
        &self,
        pool: &SqlitePool,
        scopes: &[(String, String)],
        query: &Q,
        push_arm: ArmBuilder<Q>,
        page: PageRequest,
    ) -> Result<(u64, Vec<R>)> {
        let columns: Vec<String> = self.columns.split(", ").map(|column| format!("listed.{column}")).collect();

        let mut statement = QueryBuilder::new("SELECT (SELECT COALESCE(SUM(n), 0) FROM (");
        match self.kept_total {
            Some(column) => push_kept_totals(&mut statement, column, scopes),
            None => push_arms(&mut statement, "SELECT COUNT(*) AS n", scopes, query, push_arm),
        }
        statement.push(format!(")), (SELECT json_group_array(json_array({}) ORDER BY {}) FROM (", columns.join(", "), self.row_order));
        push_arms(&mut statement, &format!("SELECT {}", self.key_columns), scopes, query, push_arm);
        statement.push(format!(" ORDER BY {}", self.page_order));
        push_page(&mut statement, page);
        statement.push(format!(") AS page JOIN {} AS listed ON listed.id = page.id)", self.table));

        let (total, packed): (i64, String) = statement.build_query_as().fetch_one(pool).await?;
        let rows = serde_json::from_str(&packed)
            .with_context(|| format!("Failed to read the packed {} page", self.table))
            .map_err(Error::Internal)?;
        Ok((u64::try_from(total).unwrap_or(0), rows))
    }
}

/// Rewrites a preset's descriptive fields in place; its group stays the same
/// because the group key is part of the preset's id.
async fn replace_preset(conn: &mut SqliteConnection, preset: &Image, now: i64) -> Result<()> {
    sqlx::query(
        "UPDATE images SET swr_path = ?2, tag = ?3, arch = ?4, description = ?5, resource_categories = ?6, \
           service_type = ?7, dev_services = ?8, show_name = ?9, show_tag = ?10, update_at = ?11, tag_reference = ?12 \
         WHERE id = ?1",
    )
    .bind(preset.id.to_string())
    .bind(&preset.swr_path)
    .bind(&preset.tag)
    .bind(preset.arch.as_str())
    .bind(&preset.description)
    .bind(join_wire(&preset.resource_categories))
    .bind(preset.service_type.as_str())
    .bind(join_wire(&preset.dev_services))
    .bind(&preset.show_name)
    .bind(&preset.show_tag)
    .bind(now)
    .bind(tag_reference(&preset.swr_path))
    .execute(&mut *conn)
    .await?;
    refresh_group(conn, preset.group_id, 0, now).await
}
