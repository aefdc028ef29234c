//! Storage: one interface for the catalogue's records, one module per backend.
//! Every change to an image updates its group row in the same transaction, so
//! group listings read prepared rows and never aggregate images.

pub mod metered;
pub mod postgres;
pub mod rows;
pub mod sqlite;

use async_trait::async_trait;
use sqlx::{Database, QueryBuilder};
use uuid::Uuid;

use crate::catalogue::fields::ImageType;
use crate::catalogue::model::{Group, GroupChanges, GroupQuery, Image, ImageQuery, Page};
use crate::error::{Error, Result};

/// The scope and workspace under which built-in images and groups are stored.
const BUILT_IN_SCOPE: &str = "";
const BUILT_IN_WORKSPACE: &str = "0";

/// An access key as stored: the secret key encrypted under the master key.
#[derive(Debug, Clone)]
pub struct StoredAccessKey {
    pub access_key: String,
    pub project_id: String,
    pub secret_ciphertext: Vec<u8>,
    pub create_at: i64,
}

/// Builds a stored access key from its columns, in the order both backends select them.
pub(crate) fn stored_access_key(
    (access_key, project_id, secret_ciphertext, create_at): (String, String, Vec<u8>, i64),
) -> StoredAccessKey {
    StoredAccessKey { access_key, project_id, secret_ciphertext, create_at }
}

/// A token as stored: only its hash.
#[derive(Debug, Clone)]
pub struct StoredToken {
    pub token_hash: String,
    pub project_id: String,
    pub expires_at: i64,
    pub create_at: i64,
}

/// What loading the presets changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PresetLoad {
    pub inserted: u64,
    pub updated: u64,
    pub removed: u64,
}

/// How many images and groups the catalogue holds, deleted ones excluded.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CatalogueSize {
    pub dedicated_images: u64,
    pub built_in_images: u64,
    /// Groups with at least one image.
    pub dedicated_groups: u64,
    /// Built-in groups with at least one image.
    pub built_in_groups: u64,
}

impl CatalogueSize {
    /// Builds the sizes from `(is built-in, count)` rows of images and of groups.
    pub fn from_counts(images: &[(bool, i64)], groups: &[(bool, i64)]) -> Self {
        let count_of = |rows: &[(bool, i64)], built_in: bool| -> u64 {
            rows.iter()
                .filter(|(is_built_in, _)| *is_built_in == built_in)
                .map(|(_, count)| u64::try_from(*count).unwrap_or(0))
                .sum()
        };
        CatalogueSize {
            dedicated_images: count_of(images, false),
            built_in_images: count_of(images, true),
            dedicated_groups: count_of(groups, false),
            built_in_groups: count_of(groups, true),
        }
    }
}

/// The result of a group delete: the group as it was and the images it lost.
#[derive(Debug, Clone)]
pub struct DeletedGroup {
    pub group: Group,
    pub images: Vec<Image>,
}

/// The count of writes that the processes sharing a store have announced,
/// with the database server's start time. It changes after each announced
/// write and whenever the database server restarts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SharedWrites {
    /// When the database server started, so a counter that restarts lower
    /// after a crash is never mistaken for an earlier value.
    pub epoch: i64,
    /// The number of writes announced since the counter was created.
    pub count: i64,
}

/// The catalogue's storage. Implementations keep group rows consistent with
/// their images inside each write transaction.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Records a new access key.
    async fn insert_access_key(&self, key: &StoredAccessKey) -> Result<()>;

    /// Finds an access key by its id.
    async fn find_access_key(&self, access_key: &str) -> Result<Option<StoredAccessKey>>;

    /// Finds the oldest access key of any project, or `None` when there is none.
    async fn oldest_access_key(&self) -> Result<Option<StoredAccessKey>>;

    /// Records a new token.
    async fn insert_token(&self, token: &StoredToken) -> Result<()>;

    /// Finds a token by its hash.
    async fn find_token(&self, token_hash: &str) -> Result<Option<StoredToken>>;

    /// Inserts a dedicated image and attaches it to its group, creating the
    /// group when it is the first image. Returns the image with its group id.
    /// A project that already has the reference gets `Error::DuplicateTag`.
    async fn insert_image(&self, image: &Image) -> Result<Image>;

    /// Finds a non-deleted image by id, whoever owns it.
    async fn find_image(&self, id: Uuid) -> Result<Option<Image>>;

    /// Lists the images visible to a project in a workspace: its own and the built-in ones.
    async fn list_images(&self, query: &ImageQuery) -> Result<Page<Image>>;

    /// Replaces the registry-derived fields of an image (status, message,
    /// size, arch, digest) and touches its group. Returns the updated image.
    async fn update_image_state(&self, image: &Image, now: i64) -> Result<Option<Image>>;

    /// Marks a non-deleted image deleted and detaches it from its group.
    /// Returns the image as deleted, or `None` when it was already gone.
    async fn delete_image(&self, id: Uuid, now: i64) -> Result<Option<Image>>;

    /// Finds a group that has at least one image, by id.
    async fn find_group(&self, id: Uuid) -> Result<Option<Group>>;

    /// Lists the groups visible to a project in a workspace.
    async fn list_groups(&self, query: &GroupQuery) -> Result<Page<Group>>;

    /// Applies changes to a group. Returns the updated group.
    async fn update_group(&self, id: Uuid, changes: &GroupChanges, now: i64) -> Result<Option<Group>>;

    /// Marks every image of a group deleted and clears the group's read-me
    /// and tags, so they do not return with a later image of the same name.
    /// Returns the group as it was before and the deleted images, or `None`
    /// when it has no images.
    async fn delete_group(&self, id: Uuid, now: i64) -> Result<Option<DeletedGroup>>;

    /// Makes the built-in images exactly `presets`: inserts new ones, updates
    /// changed ones in place and deletes those no longer listed. Loading the
    /// same presets twice changes nothing.
    async fn sync_presets(&self, presets: &[Image], now: i64) -> Result<PresetLoad>;

    /// Counts the non-deleted images and the non-empty groups of every
    /// project. Called periodically for the metrics, never per request.
    async fn count_catalogue(&self) -> Result<CatalogueSize>;

    /// Returns the count of writes that the processes sharing this store have
    /// announced, or `None` when this process is the store's only writer.
    async fn shared_writes(&self) -> Result<Option<SharedWrites>>;

    /// Announces that this process finished a write, so that other processes
    /// stop serving listings they read before it.
    async fn announce_write(&self) -> Result<()>;
}

/// Returns the row of `listing_totals` that contains a group's counts: the last
/// two hexadecimal digits of its id, as `substr(id, 35, 2)` reads them in SQL.
/// Each scope's totals are spread over 256 rows, so on PostgreSQL writers of
/// different groups rarely wait for each other's row lock until they commit.
fn totals_shard(group_id: Uuid) -> String {
    let id = group_id.hyphenated().to_string();
    id[id.len() - 2..].to_owned()
}

/// Expands to the clause that makes an insert into `listing_totals` add its
/// counts to the row already there, for statements built with `concat!`.
macro_rules! add_to_totals {
    () => {
        "ON CONFLICT (scope, workspace_id, shard) DO UPDATE SET \
         group_count = listing_totals.group_count + excluded.group_count, \
         image_count = listing_totals.image_count + excluded.image_count"
    };
}
pub(crate) use add_to_totals;

/// Adds `$4` groups and `$5` images to the `listing_totals` row of scope
/// `$1`, workspace `$2` and shard `$3`. SQLite binds `$N` parameters by
/// number as PostgreSQL does, so both backends run this statement.
const ADJUST_TOTALS: &str = concat!(
    "INSERT INTO listing_totals (scope, workspace_id, shard, group_count, image_count) VALUES ($1, $2, $3, $4, $5) ",
    add_to_totals!()
);

/// Statements that recount `listing_totals` from the groups and images, for
/// loaders that write those rows directly, such as the benchmark's seeder.
/// Written in SQL that SQLite and PostgreSQL both read.
pub const RECOUNT_LISTING_TOTALS: [&str; 2] = [
    "DELETE FROM listing_totals",
    "INSERT INTO listing_totals (scope, workspace_id, shard, group_count, image_count) \
     SELECT scope, workspace_id, shard, SUM(group_count), SUM(image_count) FROM ( \
       SELECT scope, workspace_id, substr(id, 35, 2) AS shard, COUNT(*) AS group_count, 0 AS image_count \
       FROM image_groups WHERE version_count > 0 GROUP BY scope, workspace_id, substr(id, 35, 2) \
       UNION ALL \
       SELECT project_id, workspace_id, substr(group_id, 35, 2), 0, COUNT(*) \
       FROM images WHERE NOT deleted GROUP BY project_id, workspace_id, substr(group_id, 35, 2) \
     ) AS counts GROUP BY scope, workspace_id, shard",
];

/// Appends one SELECT per scope that sums the scope's kept total in `column`
/// of `listing_totals`, the same statement on both backends.
fn push_kept_totals<'args, DB>(builder: &mut QueryBuilder<'args, DB>, column: &str, scopes: &[(String, String)])
where
    DB: Database,
    String: sqlx::Encode<'args, DB> + sqlx::Type<DB>,
{
    for (i, (scope, workspace_id)) in scopes.iter().enumerate() {
        if i > 0 {
            builder.push(" UNION ALL ");
        }
        builder
            .push(format!("SELECT SUM({column}) AS n FROM listing_totals WHERE scope = "))
            .push_bind(scope.clone())
            .push(" AND workspace_id = ")
            .push_bind(workspace_id.clone());
    }
}

/// Returns the scope an image is stored under: its project, or the built-in scope.
fn scope_of(image: &Image) -> &str {
    image.project_id.as_deref().unwrap_or(BUILT_IN_SCOPE)
}

/// Returns the scopes a listing reads: the caller's own (in one workspace) and the built-in one.
fn scopes(project: &str, workspace: &str, only: Option<ImageType>) -> Vec<(String, String)> {
    let mut scopes = Vec::with_capacity(2);
    if only != Some(ImageType::BuildIn) {
        scopes.push((project.to_owned(), workspace.to_owned()));
    }
    if only != Some(ImageType::Dedicated) {
        scopes.push((BUILT_IN_SCOPE.to_owned(), BUILT_IN_WORKSPACE.to_owned()));
    }
    scopes
}

/// Maps every database error of both backends to the contract's errors, so
/// that a lost database reads the same whichever backend is behind it.
impl From<sqlx::Error> for Error {
    fn from(err: sqlx::Error) -> Self {
        if is_connection_error(&err) {
            // Not "nothing was changed": a connection lost during a commit
            // leaves the outcome unknown, and most of these errors come from reads.
            Error::Unavailable("The database is unreachable. Retry later.".into())
        } else {
            Error::Internal(anyhow::Error::new(err).context("database query failed"))
        }
    }
}

/// Tells whether an error means the database could not be reached or
/// dropped the connection, rather than that a statement failed.
fn is_connection_error(err: &sqlx::Error) -> bool {
    match err {
        sqlx::Error::Io(_) | sqlx::Error::Tls(_) | sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed => true,
        sqlx::Error::Database(db) => db.code().is_some_and(|code| is_connection_sqlstate(&code)),
        _ => false,
    }
}

/// PostgreSQL's SQLSTATE codes for a lost or refused connection: class 08
/// (connection exception), 57P01 (admin shutdown), 57P02 (crash shutdown)
/// and 57P03 (cannot connect now, as while the server starts or stops).
fn is_connection_sqlstate(code: &str) -> bool {
    code.starts_with("08") || matches!(code, "57P01" | "57P02" | "57P03")
}

/// Tells whether an error is a unique-constraint violation.
fn is_unique_violation(err: &sqlx::Error) -> bool {
    err.as_database_error().is_some_and(|db| db.is_unique_violation())
}

#[cfg(test)]
mod tests {
    use super::{is_connection_error, is_connection_sqlstate};
    use crate::error::Error;

    #[test]
    fn lost_connections_become_unavailable() {
        let refused = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "connection refused");
        for err in [sqlx::Error::Io(refused), sqlx::Error::PoolTimedOut, sqlx::Error::PoolClosed] {
            assert!(is_connection_error(&err), "{err:?} should mean a lost connection");
            assert_eq!(Error::from(err).code(), "ModelArts.6699");
        }
        let other = Error::from(sqlx::Error::RowNotFound);
        assert_eq!(other.code(), "ModelArts.0010");
    }

    #[test]
    fn connection_sqlstates_are_recognised() {
        for code in ["08000", "08006", "08001", "57P01", "57P02", "57P03"] {
            assert!(is_connection_sqlstate(code), "{code} should mean a lost connection");
        }
        for code in ["23505", "40001", "42P01", "57014"] {
            assert!(!is_connection_sqlstate(code), "{code} should not mean a lost connection");
        }
    }
}
