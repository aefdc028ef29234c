//! One storage suite, run against both backends through the `Store` trait:
//! every case below becomes `sqlite::<case>` and `postgres::<case>`. The
//! PostgreSQL cases share one throwaway cluster and get a database each.

#[path = "../support/postgres.rs"]
mod pg;

mod cases;

use std::any::Any;
use std::sync::Arc;

use easel::storage::postgres::PostgresStore;
use easel::storage::sqlite::SqliteStore;
use easel::storage::Store;

/// A store on a fresh database, and whatever keeps that database alive.
pub struct Backend {
    pub store: Arc<dyn Store>,
    /// The PostgreSQL URL, for cases that inspect the database directly.
    pub postgres_url: Option<String>,
    _keep: Box<dyn Any + Send>,
}

async fn sqlite() -> Backend {
    let dir = tempfile::tempdir().expect("failed to create a temporary directory");
    let url = format!("sqlite://{}", dir.path().join("easel.db").display());
    let store = SqliteStore::open(&url).await.expect("failed to open SQLite");
    Backend { store: Arc::new(store), postgres_url: None, _keep: Box::new(dir) }
}

async fn postgres() -> Backend {
    let url = pg::shared_cluster().create_database().await;
    let store = PostgresStore::open(&url).await.expect("failed to open PostgreSQL");
    Backend { store: Arc::new(store), postgres_url: Some(url), _keep: Box::new(()) }
}

/// Declares each case once per backend.
macro_rules! for_each_backend {
    ($($case:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    crate::cases::$case(crate::sqlite().await).await;
                }
            )*
        }

        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    crate::cases::$case(crate::postgres().await).await;
                }
            )*
        }
    };
}

for_each_backend!(
    access_keys_and_tokens_round_trip,
    register_creates_group_and_counts_versions,
    delete_image_recomputes_group,
    deleted_group_reappears_on_register,
    duplicate_reference_is_rejected,
    deleted_reference_can_be_registered_again,
    concurrent_registers_leave_one_image,
    concurrent_register_and_delete_keep_counts,
    kept_totals_follow_every_write,
    listing_is_isolated_by_project_and_workspace,
    listing_filters_by_type_namespace_and_service,
    fuzzy_name_treats_wildcards_literally,
    exact_name_matches_whole_name,
    images_default_order_is_newest_first_then_id,
    images_default_order_follows_sort_dir,
    images_sort_by_name_in_byte_order,
    paging_keeps_total_and_order,
    groups_order_by_update_then_namespace_and_name,
    group_update_changes_read_me_and_tags,
    group_keeps_latest_named_swr_instance,
    catalogue_size_counts_live_images_and_groups,
    image_state_update_touches_group,
    presets_sync_is_idempotent,
    presets_sync_applies_changes_and_removals,
);

/// Cases that only make sense on PostgreSQL.
mod postgres_only {
    use easel::catalogue::presets::{parse_presets, BUNDLED_PRESETS};
    use easel::storage::postgres::PostgresStore;
    use easel::storage::{PresetLoad, Store};
    use sqlx::{Connection, Executor, PgConnection, Row};

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_starts_load_presets_once() {
        let url = crate::pg::shared_cluster().create_database().await;
        let presets = parse_presets(BUNDLED_PRESETS, "bundled", "registry.test:5000", 1).unwrap();

        // Four replicas start at once on an empty database: each migrates, then loads the presets.
        let starts: Vec<_> = (0..4)
            .map(|_| {
                let url = url.clone();
                let presets = presets.clone();
                tokio::spawn(async move {
                    let store = PostgresStore::open(&url).await.expect("failed to open PostgreSQL");
                    store.sync_presets(&presets, 1).await.expect("failed to load the presets")
                })
            })
            .collect();
        let mut loads = Vec::new();
        for start in starts {
            loads.push(start.await.unwrap());
        }

        let full = PresetLoad { inserted: presets.len() as u64, updated: 0, removed: 0 };
        assert_eq!(loads.iter().filter(|load| **load == full).count(), 1, "one start inserts the presets: {loads:?}");
        assert_eq!(loads.iter().filter(|load| **load == PresetLoad::default()).count(), 3, "{loads:?}");

        let mut conn = PgConnection::connect(&url).await.unwrap();
        let migrations: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM _sqlx_migrations").fetch_one(&mut conn).await.unwrap();
        let expected = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/postgres")).unwrap().count();
        assert_eq!(migrations, expected as i64, "each migration is recorded once");
    }

    #[tokio::test]
    async fn fuzzy_name_search_uses_trigram_index() {
        let backend = crate::postgres().await;
        let url = backend.postgres_url.clone().unwrap();
        let mut conn = PgConnection::connect(&url).await.unwrap();

        // A catalogue large enough that an index pays off: 20,000 groups,
        // and 20,000 images of varied names in one of them.
        let seed = r"
            INSERT INTO image_groups (id, scope, workspace_id, type, namespace, name, version_count, create_at, update_at)
                SELECT 'g' || n, 'p', '0', 'DEDICATED', 'team', 'name' || md5(n::text), 1, 0, 0
                FROM generate_series(1, 20000) AS n;
            INSERT INTO images (id, project_id, workspace_id, group_id, type, swr_path, namespace, name, tag, arch,
                    description, origin, resource_categories, service_type, dev_services, visibility, status,
                    status_message, tags, size, create_at, update_at, tag_reference)
                SELECT 'i' || n, 'p', '0', 'g1', 'DEDICATED', 'h/team/x:' || n, 'team', 'name' || md5(n::text), 't',
                    'X86_64', '', 'CUSTOMIZE', '', 'UNKNOWN', '', 'PRIVATE', 'ACTIVE', '', '[]', 0, n, n, 'h/team/x:' || n
                FROM generate_series(1, 20000) AS n;
        ";
        conn.execute(seed).await.unwrap();
        // VACUUM moves the rows from the GIN indexes' pending lists into the
        // indexes proper, as autovacuum would, so the planner prices them fairly.
        conn.execute("VACUUM ANALYZE images").await.unwrap();
        conn.execute("VACUUM ANALYZE image_groups").await.unwrap();

        // The filters below are those of the listing queries for one scope.
        for (table, filter, index) in [
            ("images", "NOT deleted AND project_id = 'p'", "images_name_trgm"),
            ("image_groups", "version_count > 0 AND scope = 'p'", "image_groups_name_trgm"),
        ] {
            let sql = format!(
                "EXPLAIN SELECT id FROM {table} WHERE {filter} AND workspace_id = '0' AND name LIKE '%' || $1 || '%'"
            );
            let plan: Vec<String> = sqlx::query(&sql)
                .bind("py\\_torch")
                .fetch_all(&mut conn)
                .await
                .unwrap()
                .into_iter()
                .map(|row| row.get::<String, _>(0))
                .collect();
            let plan = plan.join("\n");
            assert!(plan.contains(index), "{table}: plan does not use {index}:\n{plan}");
        }
    }
}
