//! The PostgreSQL backend, for several replicas sharing one database. It
//! behaves exactly as the SQLite backend: same rows, order, paging, counts
//! and errors. Writes run at READ COMMITTED and lock the group row before
//! touching its images, so concurrent changes to one group queue on that
//! row instead of deadlocking. Each listing is one statement, so its page and
//! its total are read from one snapshot and agree.

use std::collections::HashMap;
use std::str::FromStr;
use std::time::Duration;

use anyhow::Context;
use async_trait::async_trait;
use sqlx::postgres::{PgConnectOptions, PgConnection, PgPool, PgPoolOptions};
use serde::de::DeserializeOwned;
use sqlx::{Postgres, QueryBuilder};
use uuid::Uuid;

use crate::catalogue::model::{Group, GroupChanges, GroupQuery, Image, ImageQuery, NameFilter, Page, PageRequest};
use crate::error::{Error, Result};
use crate::storage::rows::{join_wire, tag_reference, tags_json, GroupRow, ImageRow, GROUP_COLUMNS, IMAGE_COLUMNS};
use crate::storage::{
    add_to_totals, is_unique_violation, push_kept_totals, ADJUST_TOTALS, scope_of, scopes, stored_access_key, totals_shard, CatalogueSize, DeletedGroup, PresetLoad, SharedWrites, Store, StoredAccessKey, StoredToken, BUILT_IN_SCOPE,
};

/// The maximum number of connections one replica opens.
const MAX_CONNECTIONS: u32 = 10;

/// How long a request waits for a connection before it gets `503`. Short,
/// because while the database is down every connection attempt fails and a
/// client should hear so quickly rather than hang.
/// NOTE: this bounds waiting for a connection, not a query already sent. A
/// partition that drops packets holds such a query until TCP gives up.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(3);

/// How long a starting process waits for the database before it gives up.
/// Replicas often start together with their database, so this is generous.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(30);

/// The catalogue in a PostgreSQL database.
#[derive(Debug, Clone)]
pub struct PostgresStore {
    pool: PgPool,
}

impl PostgresStore {
    /// Connects to the database at `url` (`postgres://...`) and applies the
    /// migrations.
    pub async fn open(url: &str) -> anyhow::Result<Self> {
        let options = PgConnectOptions::from_str(url).context("Failed to parse the PostgreSQL database URL")?;

        // sqlx 0.8's migrator holds a PostgreSQL advisory lock while it checks
        // and applies migrations, so replicas starting at once apply each one
        // once. It runs on a connection of its own, closed afterwards,
        // so the session lock cannot outlive a failed run inside the pool.
        let migration_pool = PgPoolOptions::new()
            .max_connections(1)
            .acquire_timeout(STARTUP_TIMEOUT)
            .connect_with(options.clone())
            .await
            .with_context(|| format!("Failed to connect to PostgreSQL at {}", describe(&options)))?;
        let migrated = sqlx::migrate!("./migrations/postgres").run(&migration_pool).await;
        migration_pool.close().await;
        migrated.context("Failed to apply the PostgreSQL migrations")?;

        // Idle connections are tested before use (sqlx's default), so a pool
        // that outlived a database restart replaces its dead connections
        // instead of handing them out.
        let pool = PgPoolOptions::new()
            .max_connections(MAX_CONNECTIONS)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect_with(options)
            .await
            .context("Failed to open the PostgreSQL connection pool")?;
        Ok(PostgresStore { pool })
    }
}

/// Names the server and database of connection options, without credentials.
fn describe(options: &PgConnectOptions) -> String {
    format!(
        "{}:{}/{}",
        options.get_host(),
        options.get_port(),
        options.get_database().unwrap_or("(default database)")
    )
}

fn parse_group_id(id: &str) -> Result<Uuid> {
    Uuid::parse_str(id).map_err(|err| Error::Internal(anyhow::anyhow!("stored group id {id} is not a UUID: {err}")))
}

/// Locks a group row until the transaction ends. Every write locks the group
/// before its images, so two writers of one group queue here.
async fn lock_group(conn: &mut PgConnection, group_id: Uuid) -> Result<()> {
    sqlx::query("SELECT id FROM image_groups WHERE id = $1 FOR UPDATE")
        .bind(group_id.to_string())
        .fetch_optional(&mut *conn)
        .await?;
    Ok(())
}

/// Finds the group of a non-deleted image and locks it. Returns `None` when
/// the image is missing or deleted. An image never changes group, so the
/// unlocked read of its group id stays true.
async fn lock_group_of(conn: &mut PgConnection, image_id: Uuid) -> Result<Option<Uuid>> {
    let group_id: Option<String> = sqlx::query_scalar("SELECT group_id FROM images WHERE id = $1 AND NOT deleted")
        .bind(image_id.to_string())
        .fetch_optional(&mut *conn)
        .await?;
    let Some(group_id) = group_id else { return Ok(None) };
    let group_id = parse_group_id(&group_id)?;
    lock_group(conn, group_id).await?;
    Ok(Some(group_id))
}

/// Attaches a new image to its group, creating the group on its first image.
/// The group takes the new image's description and, when it names one, its
/// SWR instance. Returns the group id and its image count, 1 when the image
/// is the group's first. The upsert locks the group row.
async fn attach_to_group(conn: &mut PgConnection, image: &Image) -> Result<(Uuid, i64)> {
    let (id, version_count): (String, i64) = sqlx::query_as(
        "INSERT INTO image_groups (id, scope, workspace_id, type, namespace, name, description, swr_instance_id, \
           version_count, create_at, update_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $9, 1, $8, $8) \
         ON CONFLICT (scope, workspace_id, namespace, name) DO UPDATE SET \
           version_count = image_groups.version_count + 1, \
           description = excluded.description, \
           swr_instance_id = CASE WHEN excluded.swr_instance_id <> '' THEN excluded.swr_instance_id \
                                  ELSE image_groups.swr_instance_id END, \
           create_at = CASE WHEN image_groups.version_count = 0 THEN excluded.create_at \
                            ELSE LEAST(image_groups.create_at, excluded.create_at) END, \
           update_at = GREATEST(image_groups.update_at, excluded.update_at) \
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
    Ok((parse_group_id(&id)?, version_count))
}

/// Adds to the listing totals of a group's scope: `groups` for a group that
/// gained its first image (1) or lost its last (-1), `images` for the images
/// it gained or lost. The caller holds the group's lock, so the totals row is
/// always locked after a group row. Only preset loads, which queue on their
/// own lock, change several groups in one transaction.
async fn adjust_totals(conn: &mut PgConnection, scope: &str, workspace_id: &str, group_id: Uuid, groups: i64, images: i64) -> Result<()> {
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
/// come from the images that remain. The caller has locked the group, so
/// this statement's snapshot includes every committed change to the group.
/// The scope's listing totals drop with the count.
async fn refresh_group(conn: &mut PgConnection, group_id: Uuid, removed: i64, now: i64) -> Result<()> {
    let (scope, workspace_id, version_count): (String, String, i64) = sqlx::query_as(
        "UPDATE image_groups SET \
           version_count = version_count - $2, \
           update_at = GREATEST(update_at, $3), \
           create_at = COALESCE((SELECT MIN(create_at) FROM images WHERE group_id = $1 AND NOT deleted), create_at), \
           description = COALESCE((SELECT description FROM images WHERE group_id = $1 AND NOT deleted \
                                   ORDER BY create_at DESC, id DESC LIMIT 1), description) \
         WHERE id = $1 RETURNING scope, workspace_id, version_count",
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

/// Inserts an image row and adds it, and its group when `new_group` is 1, to
/// the scope's listing totals, in one statement to save a round trip.
async fn insert_image_row(conn: &mut PgConnection, image: &Image, new_group: i64) -> std::result::Result<(), sqlx::Error> {
    sqlx::query(concat!(
        "WITH inserted AS (INSERT INTO images (id, project_id, workspace_id, group_id, type, swr_path, namespace, name, tag, digest, \
           arch, description, origin, resource_categories, service_type, dev_services, visibility, status, \
           status_message, flavor_type, swr_instance_id, show_name, show_tag, tags, read_me, size, create_at, update_at, \
           tag_reference) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, \
           $23, $24, $25, $26, $27, $28, $29) RETURNING project_id, workspace_id) \
         INSERT INTO listing_totals (scope, workspace_id, shard, group_count, image_count) \
         SELECT project_id, workspace_id, $30, $31, 1 FROM inserted ",
        add_to_totals!()
    ))
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
    .bind(totals_shard(image.group_id))
    .bind(new_group)
    .execute(&mut *conn)
    .await
    .map(|_| ())
}

/// Inserts an image and attaches it to its group, inside the caller's transaction.
async fn insert_attached(conn: &mut PgConnection, image: &Image) -> Result<Image> {
    let (group_id, version_count) = attach_to_group(conn, image).await?;
    let image = Image { group_id, ..image.clone() };

    let new_group = if version_count == 1 { 1 } else { 0 };
    match insert_image_row(conn, &image, new_group).await {
        Ok(()) => Ok(image),
        Err(err) if is_unique_violation(&err) => Err(Error::DuplicateTag { name: image.name.clone(), tag: image.tag.clone() }),
        Err(err) => Err(err.into()),
    }
}

/// Marks one image deleted and detaches it from its group.
async fn delete_attached(conn: &mut PgConnection, id: Uuid, now: i64) -> Result<Option<Image>> {
    if lock_group_of(conn, id).await?.is_none() {
        return Ok(None);
    }

    // Another writer may have deleted the image while this one waited for the lock.
    let row: Option<ImageRow> = sqlx::query_as(&format!(
        "UPDATE images SET deleted = TRUE, status = 'DELETED', update_at = $2 WHERE id = $1 AND NOT deleted \
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

/// Escapes `\`, `%` and `_` so that LIKE matches every character of `needle` literally.
fn escape_like(needle: &str) -> String {
    let mut escaped = String::with_capacity(needle.len());
    for c in needle.chars() {
        if matches!(c, '\\' | '%' | '_') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

fn push_name_filter(builder: &mut QueryBuilder<'_, Postgres>, filter: &Option<NameFilter>) {
    match filter {
        // LIKE, unlike strpos(), is served by the trigram indexes on name.
        // Backslash is LIKE's default escape character.
        Some(NameFilter::Contains(needle)) => {
            builder
                .push(" AND name LIKE '%' || ")
                .push_bind(escape_like(needle))
                .push(" || '%'");
        }
        Some(NameFilter::Exact(name)) => {
            builder.push(" AND name = ").push_bind(name.clone());
        }
        None => {}
    }
}

fn push_optional_eq(builder: &mut QueryBuilder<'_, Postgres>, column: &str, value: Option<&str>) {
    if let Some(value) = value {
        builder.push(format!(" AND {column} = ")).push_bind(value.to_owned());
    }
}

fn push_group_arm(builder: &mut QueryBuilder<'_, Postgres>, select: &str, scope: &(String, String), query: &GroupQuery) {
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

fn push_image_arm(builder: &mut QueryBuilder<'_, Postgres>, select: &str, scope: &(String, String), query: &ImageQuery) {
    builder
        .push(select)
        .push(" FROM images WHERE NOT deleted AND project_id = ")
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
type ArmBuilder<Q> = for<'a> fn(&mut QueryBuilder<'a, Postgres>, &str, &(String, String), &Q);

/// Joins one arm per scope with UNION ALL, so each arm is served by its own index range.
fn push_arms<Q>(builder: &mut QueryBuilder<'_, Postgres>, select: &str, scopes: &[(String, String)], query: &Q, push_arm: ArmBuilder<Q>) {
    for (i, scope) in scopes.iter().enumerate() {
        if i > 0 {
            builder.push(" UNION ALL ");
        }
        push_arm(builder, select, scope, query);
    }
}

/// Builds the page query: each arm ordered and cut to `offset + limit` rows,
/// then the arms merged, ordered and cut to the page. PostgreSQL does not
/// push an outer LIMIT into the arms of a UNION ALL, so without the inner
/// limits it would sort every row of the project for each page.
fn push_page_arms<Q>(
    builder: &mut QueryBuilder<'_, Postgres>,
    select: &str,
    scopes: &[(String, String)],
    query: &Q,
    push_arm: ArmBuilder<Q>,
    order_by: &str,
    page: PageRequest,
) {
    let window = i64::from(page.limit).saturating_add(i64::try_from(page.offset).unwrap_or(i64::MAX));
    builder.push("SELECT * FROM (");
    for (i, scope) in scopes.iter().enumerate() {
        if i > 0 {
            builder.push(" UNION ALL ");
        }
        builder.push("(");
        push_arm(builder, select, scope, query);
        builder.push(format!(" ORDER BY {order_by} LIMIT ")).push_bind(window).push(")");
    }
    builder.push(format!(") AS arms ORDER BY {order_by}"));
    push_page(builder, page);
}

fn push_page(builder: &mut QueryBuilder<'_, Postgres>, page: PageRequest) {
    builder
        .push(" LIMIT ")
        .push_bind(i64::from(page.limit))
        .push(" OFFSET ")
        .push_bind(i64::try_from(page.offset).unwrap_or(i64::MAX));
}

/// Reads a listing's total and page in one statement, so one round trip
/// returns both from one snapshot and no transaction is needed. PostgreSQL
/// packs the page into one JSON array of row arrays, the form the row types
/// read, as the SQLite backend does.
///
/// The statement is not prepared on the server: a prepared statement may be
/// given a generic plan after five runs, and the generic plan, which cannot
/// see the page window, started parallel workers for every page. Unprepared,
/// each statement is planned for its own values.
async fn fetch_listing<Q, R: DeserializeOwned>(pool: &PgPool, listing: PageListing<'_, Q>) -> Result<(u64, Vec<R>)> {
    let PageListing { table, columns, order_by, scopes, query, push_arm, page, kept_total } = listing;
    let packed_columns: Vec<String> = columns.split(", ").map(|column| format!("page.{column}")).collect();

    // SUM over BIGINT is NUMERIC in PostgreSQL, hence the cast back.
    let mut statement = QueryBuilder::new("SELECT (SELECT CAST(COALESCE(SUM(n), 0) AS BIGINT) FROM (");
    match kept_total {
        Some(column) => push_kept_totals(&mut statement, column, scopes),
        None => push_arms(&mut statement, "SELECT COUNT(*) AS n", scopes, query, push_arm),
    }
    statement.push(format!(
        ") AS counts), (SELECT CAST(COALESCE(json_agg(json_build_array({}) ORDER BY {order_by}), '[]') AS TEXT) FROM (",
        packed_columns.join(", ")
    ));
    push_page_arms(&mut statement, &format!("SELECT {columns}"), scopes, query, push_arm, order_by, page);
    statement.push(") AS page)");

    let (total, packed): (i64, String) = statement.build_query_as().persistent(false).fetch_one(pool).await?;
    let rows = serde_json::from_str(&packed)
        .with_context(|| format!("Failed to read the packed {table} page"))
        .map_err(Error::Internal)?;
    Ok((u64::try_from(total).unwrap_or(0), rows))
}

/// A listing for [`fetch_listing`]: the table's columns in row order, the
/// listing order, and the arms and page of one query.
struct PageListing<'q, Q> {
    table: &'static str,
    columns: &'static str,
    order_by: &'q str,
    scopes: &'q [(String, String)],
    query: &'q Q,
    push_arm: ArmBuilder<Q>,
    page: PageRequest,
    /// The column of `listing_totals` that contains the total when the query
    /// lists whole scopes. Without it the matching entries are counted.
    kept_total: Option<&'static str>,
}

/// Rewrites a preset's descriptive fields in place; its group stays the same
/// because the group key is part of the preset's id.
async fn replace_preset(conn: &mut PgConnection, preset: &Image, now: i64) -> Result<()> {
    lock_group(conn, preset.group_id).await?;
    sqlx::query(
        "UPDATE images SET swr_path = $2, tag = $3, arch = $4, description = $5, resource_categories = $6, \
           service_type = $7, dev_services = $8, show_name = $9, show_tag = $10, update_at = $11, tag_reference = $12 \
         WHERE id = $1",
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

#[async_trait]
impl Store for PostgresStore {
    async fn insert_access_key(&self, key: &StoredAccessKey) -> Result<()> {
        sqlx::query("INSERT INTO access_keys (access_key, project_id, secret_ciphertext, create_at) VALUES ($1, $2, $3, $4)")
            .bind(&key.access_key)
            .bind(&key.project_id)
            .bind(&key.secret_ciphertext)
            .bind(key.create_at)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn find_access_key(&self, access_key: &str) -> Result<Option<StoredAccessKey>> {
        let row: Option<(String, String, Vec<u8>, i64)> = sqlx::query_as(
            "SELECT access_key, project_id, secret_ciphertext, create_at FROM access_keys WHERE access_key = $1",
        )
        .bind(access_key)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(stored_access_key))
    }

    async fn oldest_access_key(&self) -> Result<Option<StoredAccessKey>> {
        let row: Option<(String, String, Vec<u8>, i64)> = sqlx::query_as(
            "SELECT access_key, project_id, secret_ciphertext, create_at FROM access_keys \
             ORDER BY create_at, access_key LIMIT 1",
        )
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(stored_access_key))
    }

    async fn insert_token(&self, token: &StoredToken) -> Result<()> {
        sqlx::query("INSERT INTO tokens (token_hash, project_id, expires_at, create_at) VALUES ($1, $2, $3, $4)")
            .bind(&token.token_hash)
            .bind(&token.project_id)
            .bind(token.expires_at)
            .bind(token.create_at)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn find_token(&self, token_hash: &str) -> Result<Option<StoredToken>> {
        let row: Option<(String, String, i64, i64)> =
            sqlx::query_as("SELECT token_hash, project_id, expires_at, create_at FROM tokens WHERE token_hash = $1")
                .bind(token_hash)
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.map(|(token_hash, project_id, expires_at, create_at)| StoredToken {
            token_hash,
            project_id,
            expires_at,
            create_at,
        }))
    }

    async fn insert_image(&self, image: &Image) -> Result<Image> {
        let mut tx = self.pool.begin().await?;
        let inserted = insert_attached(&mut tx, image).await?;
        tx.commit().await?;
        Ok(inserted)
    }

    async fn find_image(&self, id: Uuid) -> Result<Option<Image>> {
        let row: Option<ImageRow> = sqlx::query_as(&format!("SELECT {IMAGE_COLUMNS} FROM images WHERE id = $1 AND NOT deleted"))
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await?;
        row.map(Image::try_from).transpose()
    }

    async fn list_images(&self, query: &ImageQuery) -> Result<Page<Image>> {
        let scopes = scopes(query.project_id.as_str(), query.workspace_id.as_str(), query.image_type);
        let direction = query.sort_dir.as_str();
        let mut order_by = String::new();
        for key in &query.sort_keys {
            order_by.push_str(&format!("{} {direction}, ", key.column()));
        }
        if query.sort_keys.is_empty() {
            order_by.push_str(&format!("update_at {direction}, "));
        }
        order_by.push_str("id ASC");

        let listing = PageListing {
            table: "images",
            columns: IMAGE_COLUMNS,
            order_by: &order_by,
            scopes: &scopes,
            query,
            push_arm: push_image_arm,
            page: query.page,
            kept_total: query.lists_whole_scopes().then_some("image_count"),
        };
        let (total, rows) = fetch_listing::<ImageQuery, ImageRow>(&self.pool, listing).await?;

        let items = rows.into_iter().map(Image::try_from).collect::<Result<_>>()?;
        Ok(Page { items, total })
    }

    async fn update_image_state(&self, image: &Image, now: i64) -> Result<Option<Image>> {
        let mut tx = self.pool.begin().await?;
        if lock_group_of(&mut tx, image.id).await?.is_none() {
            return Ok(None);
        }

        let row: Option<ImageRow> = sqlx::query_as(&format!(
            "UPDATE images SET status = $2, status_message = $3, size = $4, arch = $5, digest = $6, update_at = $7 \
             WHERE id = $1 AND NOT deleted RETURNING {IMAGE_COLUMNS}"
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
        let mut tx = self.pool.begin().await?;
        let deleted = delete_attached(&mut tx, id, now).await?;
        tx.commit().await?;
        Ok(deleted)
    }

    async fn find_group(&self, id: Uuid) -> Result<Option<Group>> {
        let row: Option<GroupRow> =
            sqlx::query_as(&format!("SELECT {GROUP_COLUMNS} FROM image_groups WHERE id = $1 AND version_count > 0"))
                .bind(id.to_string())
                .fetch_optional(&self.pool)
                .await?;
        row.map(Group::try_from).transpose()
    }

    async fn list_groups(&self, query: &GroupQuery) -> Result<Page<Group>> {
        let scopes = scopes(query.project_id.as_str(), query.workspace_id.as_str(), query.image_type);

        let listing = PageListing {
            table: "image_groups",
            columns: GROUP_COLUMNS,
            order_by: "update_at DESC, namespace ASC, name ASC, id ASC",
            scopes: &scopes,
            query,
            push_arm: push_group_arm,
            page: query.page,
            kept_total: query.lists_whole_scopes().then_some("group_count"),
        };
        let (total, rows) = fetch_listing::<GroupQuery, GroupRow>(&self.pool, listing).await?;

        let items = rows.into_iter().map(Group::try_from).collect::<Result<_>>()?;
        Ok(Page { items, total })
    }

    async fn update_group(&self, id: Uuid, changes: &GroupChanges, now: i64) -> Result<Option<Group>> {
        let tags = changes.tags.as_deref().map(tags_json).transpose()?;
        let row: Option<GroupRow> = sqlx::query_as(&format!(
            "UPDATE image_groups SET read_me = COALESCE($2, read_me), tags = COALESCE($3, tags), \
               update_at = GREATEST(update_at, $4) \
             WHERE id = $1 AND version_count > 0 RETURNING {GROUP_COLUMNS}"
        ))
        .bind(id.to_string())
        .bind(&changes.read_me)
        .bind(tags)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        row.map(Group::try_from).transpose()
    }

    async fn delete_group(&self, id: Uuid, now: i64) -> Result<Option<DeletedGroup>> {
        let mut tx = self.pool.begin().await?;
        // Locked first: registrations into this group wait until the delete
        // commits, so no image joins between the read and the update below.
        let row: Option<GroupRow> = sqlx::query_as(&format!(
            "SELECT {GROUP_COLUMNS} FROM image_groups WHERE id = $1 AND version_count > 0 FOR UPDATE"
        ))
        .bind(id.to_string())
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let (scope, workspace_id) = (row.scope.clone(), row.workspace_id.clone());
        let group = Group::try_from(row)?;

        let rows: Vec<ImageRow> = sqlx::query_as(&format!(
            "UPDATE images SET deleted = TRUE, status = 'DELETED', update_at = $2 WHERE group_id = $1 AND NOT deleted \
             RETURNING {IMAGE_COLUMNS}"
        ))
        .bind(id.to_string())
        .bind(now)
        .fetch_all(&mut *tx)
        .await?;
        sqlx::query("UPDATE image_groups SET version_count = 0, read_me = '', tags = '[]', update_at = GREATEST(update_at, $2) \
             WHERE id = $1")
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
        let mut tx = self.pool.begin().await?;
        // Replicas starting at once queue here; each later one then reads the
        // presets the earlier one committed and finds nothing to change.
        sqlx::query("SELECT id FROM preset_loads WHERE id = 1 FOR UPDATE")
            .fetch_one(&mut *tx)
            .await?;

        let rows: Vec<ImageRow> =
            sqlx::query_as(&format!("SELECT {IMAGE_COLUMNS} FROM images WHERE project_id = $1 AND NOT deleted"))
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
                    sqlx::query("DELETE FROM images WHERE id = $1 AND deleted")
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
        let mut tx = self.pool.begin().await?;
        let images: Vec<(bool, i64)> =
            sqlx::query_as("SELECT project_id = $1, COUNT(*) FROM images WHERE NOT deleted GROUP BY 1")
                .bind(BUILT_IN_SCOPE)
                .fetch_all(&mut *tx)
                .await?;
        let groups: Vec<(bool, i64)> =
            sqlx::query_as("SELECT scope = $1, COUNT(*) FROM image_groups WHERE version_count > 0 GROUP BY 1")
                .bind(BUILT_IN_SCOPE)
                .fetch_all(&mut *tx)
                .await?;
        tx.commit().await?;

        Ok(CatalogueSize::from_counts(&images, &groups))
    }

    async fn shared_writes(&self) -> Result<Option<SharedWrites>> {
        // A sequence is read and advanced outside transactions and takes no
        // row lock, so writers do not queue on the count in the database.
        let (epoch, count): (i64, i64) = sqlx::query_as(
            "SELECT CAST(EXTRACT(EPOCH FROM pg_postmaster_start_time()) * 1000000 AS BIGINT), last_value \
             FROM catalogue_writes",
        )
        .fetch_one(&self.pool)
        .await?;
        Ok(Some(SharedWrites { epoch, count }))
    }

    async fn announce_write(&self) -> Result<()> {
        sqlx::query("SELECT nextval('catalogue_writes')").execute(&self.pool).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::escape_like;

    #[test]
    fn escape_like_makes_wildcards_literal() {
        assert_eq!(escape_like("py_torch"), "py\\_torch");
        assert_eq!(escape_like("50%"), "50\\%");
        assert_eq!(escape_like("a\\b"), "a\\\\b");
        assert_eq!(escape_like("plain.name-1/x"), "plain.name-1/x");
    }
}
