//! Seeding: writes a synthetic catalogue straight into a fresh database.
//!
//! The schema comes from easel's own migrations. The dedicated images and
//! their group rows are bulk-inserted with multi-row statements in large
//! transactions, with every index in place. Then the store, opened as easel
//! opens it, loads the bundled presets as the built-in groups. On PostgreSQL
//! the rows arrive through COPY instead.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Instant;

use anyhow::{bail, Context};
use easel::catalogue::fields::{Arch, DevService, ImageStatus, ImageType, Origin, ResourceCategory, ServiceType, Visibility};
use easel::catalogue::presets::{parse_presets, BUNDLED_PRESETS};
use easel::storage::postgres::PostgresStore;
use easel::storage::sqlite::SqliteStore;
use easel::storage::{Store, RECOUNT_LISTING_TOTALS};
use serde::{Deserialize, Serialize};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use sqlx::{Connection, Executor, PgConnection, QueryBuilder, Sqlite, SqliteConnection};
use uuid::Uuid;

/// The registry host of every seeded reference; it is easel's default, so
/// the server started on the database finds the presets unchanged.
pub const REGISTRY_HOST: &str = "localhost:5000";

/// Images per multi-row INSERT: 29 columns each stays under SQLite's limit
/// of 32,766 bound parameters per statement.
const IMAGES_PER_STATEMENT: usize = 1000;

/// Images per transaction.
const IMAGES_PER_TRANSACTION: usize = 100_000;

const FRAMEWORKS: [&str; 10] =
    ["pytorch", "tensorflow", "mindspore", "paddle", "jax", "onnxruntime", "triton", "vllm", "deepspeed", "xgboost"];
const MODELS: [&str; 10] = ["resnet", "bert", "llama", "whisper", "yolo", "unet", "t5", "vit", "gpt2", "stable-diffusion"];
const ACCELERATORS: [&str; 5] = ["cuda11.8", "cuda12.1", "cann7.0", "cpu", "rocm5.7"];
const NAMESPACES: [&str; 20] = [
    "ml-platform", "vision", "nlp", "speech", "recsys", "search", "ads", "robotics", "medical", "finance",
    "autonomy", "research", "mlops", "genai", "ocr", "video", "audio", "graph", "edge", "security",
];

/// The substring a fuzzy-name scenario searches for: it occurs in exactly
/// the groups whose framework is `pytorch` and model is `whisper`, 1 in 100.
pub const FUZZY_NEEDLE: &str = "pytorch-whisper";

/// The size and shape of a seeded catalogue.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct SeedSize {
    /// Dedicated images over every project.
    pub images: u64,
    /// Dedicated groups over every project; each contains `images / groups` images.
    pub groups: u64,
    pub projects: u64,
    /// Groups of the measured project (the first one).
    pub measured_groups: u64,
}

impl SeedSize {
    /// The default: a million images in 100,000 groups over 100 projects, the
    /// measured project holding 100,000 images in 10,000 groups.
    pub const FULL: SeedSize = SeedSize { images: 1_000_000, groups: 100_000, projects: 100, measured_groups: 10_000 };

    /// A tiny catalogue for the smoke run.
    pub const SMOKE: SeedSize = SeedSize { images: 2_000, groups: 200, projects: 4, measured_groups: 100 };

    fn validate(&self) -> anyhow::Result<()> {
        if self.projects == 0 || self.groups == 0 || self.images < self.groups {
            bail!("invalid catalogue size {self:?}: expected at least one project, one group and one image per group");
        }
        if self.measured_groups > self.groups || (self.projects == 1 && self.measured_groups != self.groups) {
            bail!("invalid catalogue size {self:?}: the measured project's groups must fit within the groups");
        }
        if self.projects > 1 && self.groups - self.measured_groups < self.projects - 1 {
            bail!("invalid catalogue size {self:?}: every other project needs at least one group");
        }
        Ok(())
    }

    fn images_per_group(&self) -> u64 {
        self.images / self.groups
    }

    /// Returns the number of groups of project `index`.
    fn groups_of(&self, index: u64) -> u64 {
        if index == 0 {
            return self.measured_groups;
        }
        let others = self.projects - 1;
        let rest = self.groups - self.measured_groups;
        rest / others + u64::from(index <= rest % others)
    }
}

/// The facts about a seeded catalogue that the runner needs.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SeedManifest {
    pub size: SeedSize,
    /// The project every scenario calls as.
    pub project_id: String,
    /// The name of one of the measured project's groups.
    pub exact_name: String,
    /// A namespace of the measured project.
    pub namespace: String,
    pub fuzzy_needle: String,
    /// The id of one of the measured project's images.
    pub image_id: String,
    /// Every seeded repository as `namespace/name`, project-qualified so
    /// they are distinct: the peer registry's catalogue is built from it.
    pub repositories_file: PathBuf,
    pub seconds: f64,
}

/// Returns project number `index`'s id: 32 lower-case hexadecimal characters.
pub fn project_id(index: u64) -> String {
    format!("{:032x}", 0xbe9c_0000_0000_0000_0000_0000_0000_0000_u128 + u128::from(index))
}

/// One dedicated group and what its images share.
struct SeedGroup {
    id: String,
    project_id: String,
    namespace: &'static str,
    name: String,
    framework: usize,
    model: usize,
    accelerator: usize,
    /// The first image's creation time; the others follow an hour apart each.
    first_at: i64,
}

/// A cheap deterministic hash, so a seed is reproducible without a random source.
fn mix(mut x: u64) -> u64 {
    x ^= x >> 33;
    x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
    x ^= x >> 33;
    x = x.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    x ^ (x >> 33)
}

const HOUR_MS: i64 = 3_600_000;
/// 2024-01-01T00:00:00Z; seeded times spread over the 300 days after it.
const EPOCH_MS: i64 = 1_704_067_200_000;

fn seed_group(project: u64, index: u64) -> SeedGroup {
    let i = index as usize;
    let framework = i % FRAMEWORKS.len();
    let model = (i / FRAMEWORKS.len()) % MODELS.len();
    let accelerator = (i / 100) % ACCELERATORS.len();
    let namespace = NAMESPACES[(i / 500) % NAMESPACES.len()];
    let spread = mix(project << 32 | index) % (300 * 24);
    SeedGroup {
        id: Uuid::new_v4().to_string(),
        project_id: project_id(project),
        namespace,
        name: format!("{}-{}-{}-{index:05}", FRAMEWORKS[framework], MODELS[model], ACCELERATORS[accelerator]),
        framework,
        model,
        accelerator,
        first_at: EPOCH_MS + spread as i64 * HOUR_MS,
    }
}

fn tag_of(version: u64) -> String {
    format!("{}.{}.{}-20240{}", 1 + version / 4, version % 4, version % 3, 101 + version % 9)
}

fn description_of(group: &SeedGroup, tag: &str) -> String {
    format!(
        "{} {} image for {}, release {tag}",
        FRAMEWORKS[group.framework], MODELS[group.model], ACCELERATORS[group.accelerator]
    )
}

/// Seeds a new catalogue of `size` into the SQLite database file `path`,
/// which must not exist yet, and writes the repository list next to it.
/// Fills the listing totals that easel keeps on every write, since the seed
/// writes groups and images past the store.
async fn recount_listing_totals<C>(conn: &mut C) -> anyhow::Result<()>
where
    for<'c> &'c mut C: sqlx::Executor<'c>,
{
    for statement in RECOUNT_LISTING_TOTALS {
        sqlx::Executor::execute(&mut *conn, statement).await.context("Failed to count the seeded listing totals")?;
    }
    Ok(())
}

pub async fn seed_sqlite(path: &Path, size: SeedSize) -> anyhow::Result<SeedManifest> {
    size.validate()?;
    if path.exists() {
        bail!("the database {} already exists; seeding needs a fresh file", path.display());
    }
    let started = Instant::now();
    let url = format!("sqlite://{}", path.display());

    // The bulk load writes straight into the file: no journal and no syncs,
    // because a failed seed is simply started again. The schema is easel's
    // own migrations, embedded from the service's source tree.
    let options = SqliteConnectOptions::from_str(&url)?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Off)
        .synchronous(SqliteSynchronous::Off)
        .pragma("cache_size", "-262144");
    let mut conn = SqliteConnection::connect_with(&options).await.context("Failed to create the database for seeding")?;
    sqlx::migrate!("../migrations/sqlite")
        .run(&mut conn)
        .await
        .context("Failed to apply easel's SQLite migrations")?;

    let repositories_file = path.with_extension("repositories");
    let mut repositories = String::new();
    let mut groups = Vec::new();
    let mut images = 0usize;
    let mut tx = conn.begin().await?;
    let mut manifest_image = None;
    for project in 0..size.projects {
        for index in 0..size.groups_of(project) {
            let group = seed_group(project, index);
            repositories.push_str(&format!("p{project:03}-{}/{}\n", group.namespace, group.name));
            groups.push(group);
            images += size.images_per_group() as usize;
            if images >= IMAGES_PER_TRANSACTION {
                let first = insert_groups(&mut tx, &groups, size.images_per_group()).await?;
                manifest_image.get_or_insert(first);
                tx.commit().await?;
                tx = conn.begin().await?;
                groups.clear();
                images = 0;
            }
        }
    }
    if !groups.is_empty() {
        let first = insert_groups(&mut tx, &groups, size.images_per_group()).await?;
        manifest_image.get_or_insert(first);
    }
    tx.commit().await?;
    recount_listing_totals(&mut conn).await?;
    conn.close().await?;

    // The store as easel opens it (write-ahead log, migrations already
    // applied) loads the bundled presets as the built-in groups.
    let store = SqliteStore::open(&url).await?;
    let presets = parse_presets(BUNDLED_PRESETS, "the bundled presets", REGISTRY_HOST, EPOCH_MS)?;
    store.sync_presets(&presets, EPOCH_MS).await?;
    drop(store);

    std::fs::write(&repositories_file, repositories)
        .with_context(|| format!("Failed to write {}", repositories_file.display()))?;

    let sample = seed_group(0, size.measured_groups / 2);
    Ok(SeedManifest {
        size,
        project_id: project_id(0),
        exact_name: sample.name,
        namespace: sample.namespace.to_owned(),
        fuzzy_needle: FUZZY_NEEDLE.to_owned(),
        image_id: manifest_image.unwrap_or_default(),
        repositories_file,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// Inserts groups with their images. Returns the id of the first image.
async fn insert_groups(conn: &mut SqliteConnection, groups: &[SeedGroup], per_group: u64) -> anyhow::Result<String> {
    for chunk in groups.chunks(IMAGES_PER_STATEMENT) {
        let mut insert = QueryBuilder::<Sqlite>::new(
            "INSERT INTO image_groups (id, scope, workspace_id, type, namespace, name, description, version_count, \
             create_at, update_at) ",
        );
        insert.push_values(chunk, |mut row, group| {
            let newest_tag = tag_of(per_group - 1);
            row.push_bind(&group.id)
                .push_bind(&group.project_id)
                .push_bind("0")
                .push_bind(ImageType::Dedicated.as_str())
                .push_bind(group.namespace)
                .push_bind(&group.name)
                .push_bind(description_of(group, &newest_tag))
                .push_bind(per_group as i64)
                .push_bind(group.first_at)
                .push_bind(group.first_at + (per_group as i64 - 1) * HOUR_MS);
        });
        insert.build().execute(&mut *conn).await.context("Failed to insert seeded groups")?;
    }

    let images: Vec<(&SeedGroup, u64)> =
        groups.iter().flat_map(|group| (0..per_group).map(move |version| (group, version))).collect();
    let mut first_id = None;
    for chunk in images.chunks(IMAGES_PER_STATEMENT) {
        let mut insert = QueryBuilder::<Sqlite>::new(
            "INSERT INTO images (id, project_id, workspace_id, group_id, type, swr_path, namespace, name, tag, digest, \
             arch, description, origin, resource_categories, service_type, dev_services, visibility, status, \
             status_message, flavor_type, swr_instance_id, show_name, show_tag, tags, read_me, size, create_at, update_at, \
             tag_reference) ",
        );
        insert.push_values(chunk, |mut row, &(group, version)| {
            let id = Uuid::new_v4().to_string();
            first_id.get_or_insert_with(|| id.clone());
            push_image(&mut row, id, group, version);
        });
        insert.build().execute(&mut *conn).await.context("Failed to insert seeded images")?;
    }
    Ok(first_id.unwrap_or_default())
}

/// The values of one seeded image that derive from its group and version.
struct SeedImage {
    tag: String,
    reference: String,
    at: i64,
    arch: Arch,
    categories: String,
    service_type: ServiceType,
    dev_services: String,
    tags: String,
    size: i64,
}

impl SeedImage {
    fn new(group: &SeedGroup, version: u64) -> SeedImage {
        let tag = tag_of(version);
        // Seeded references pin no digest, so the tag reference is the whole reference.
        let reference = format!("{REGISTRY_HOST}/{}/{}:{tag}", group.namespace, group.name);
        let at = group.first_at + version as i64 * HOUR_MS;
        let (arch, categories) = match ACCELERATORS[group.accelerator] {
            accelerator if accelerator.starts_with("cann") => (Arch::Aarch64, [ResourceCategory::Cpu, ResourceCategory::Ascend]),
            _ => (Arch::X86_64, [ResourceCategory::Cpu, ResourceCategory::Gpu]),
        };
        SeedImage {
            tag,
            reference,
            at,
            arch,
            categories: format!("{},{}", categories[0], categories[1]),
            service_type: [ServiceType::Train, ServiceType::Inference, ServiceType::Dev][group.model % 3],
            dev_services: format!("{},{}", DevService::Notebook, DevService::Ssh),
            tags: format!(r#"[{{"key":"team","value":"{}"}}]"#, group.namespace),
            size: 2_000_000_000 + (mix(at as u64) % 6_000_000_000) as i64,
        }
    }
}

fn push_image(row: &mut sqlx::query_builder::Separated<'_, '_, Sqlite, &str>, id: String, group: &SeedGroup, version: u64) {
    let image = SeedImage::new(group, version);
    row.push_bind(id)
        .push_bind(group.project_id.clone())
        .push_bind("0")
        .push_bind(group.id.clone())
        .push_bind(ImageType::Dedicated.as_str())
        .push_bind(image.reference.clone())
        .push_bind(group.namespace)
        .push_bind(group.name.clone())
        .push_bind(image.tag.clone())
        .push_bind(None::<String>)
        .push_bind(image.arch.as_str())
        .push_bind(description_of(group, &image.tag))
        .push_bind(Origin::Customize.as_str())
        .push_bind(image.categories)
        .push_bind(image.service_type.as_str())
        .push_bind(image.dev_services)
        .push_bind(Visibility::Private.as_str())
        .push_bind(ImageStatus::Active.as_str())
        .push_bind("")
        .push_bind(None::<String>)
        .push_bind(None::<String>)
        .push_bind(None::<String>)
        .push_bind(None::<String>)
        .push_bind(image.tags)
        .push_bind(None::<String>)
        .push_bind(image.size)
        .push_bind(image.at)
        .push_bind(image.at)
        .push_bind(image.reference);
}

/// Bytes of COPY data sent per message.
const COPY_CHUNK_BYTES: usize = 1 << 20;

/// Seeds a new catalogue of `size` into the empty PostgreSQL database at
/// `url` and writes the repository list to `repositories_file`.
pub async fn seed_postgres(url: &str, repositories_file: &Path, size: SeedSize) -> anyhow::Result<SeedManifest> {
    size.validate()?;
    let started = Instant::now();
    let mut conn = PgConnection::connect(url).await.context("Failed to connect to PostgreSQL for seeding")?;
    sqlx::migrate!("../migrations/postgres")
        .run(&mut conn)
        .await
        .context("Failed to apply easel's PostgreSQL migrations")?;
    let existing: i64 = sqlx::query_scalar("SELECT count(*) FROM images").fetch_one(&mut conn).await?;
    if existing > 0 {
        bail!("invalid seed target: the database contains {existing} images; create an empty database and seed again");
    }
    // A failed seed is simply started again, so the load itself need not wait for each sync.
    conn.execute("SET synchronous_commit = off").await?;
    conn.execute("SET maintenance_work_mem = '256MB'").await?;

    let mut repositories = String::new();
    let mut group_rows = String::new();
    let mut image_rows = String::new();
    let mut manifest_image = None;
    let per_group = size.images_per_group();
    let mut tx = conn.begin().await?;
    for project in 0..size.projects {
        for index in 0..size.groups_of(project) {
            let group = seed_group(project, index);
            repositories.push_str(&format!("p{project:03}-{}/{}\n", group.namespace, group.name));
            push_group_row(&mut group_rows, &group, per_group);
            for version in 0..per_group {
                let id = Uuid::new_v4().to_string();
                manifest_image.get_or_insert_with(|| id.clone());
                push_image_row(&mut image_rows, &id, &group, version);
            }
            // Groups go first, so every image's group exists when its row arrives.
            if image_rows.len() >= COPY_CHUNK_BYTES * 16 {
                copy_rows(&mut tx, GROUP_COPY, &mut group_rows).await?;
                copy_rows(&mut tx, IMAGE_COPY, &mut image_rows).await?;
            }
        }
    }
    copy_rows(&mut tx, GROUP_COPY, &mut group_rows).await?;
    copy_rows(&mut tx, IMAGE_COPY, &mut image_rows).await?;
    tx.commit().await?;
    recount_listing_totals(&mut conn).await?;
    // Fresh statistics and visibility maps, as a database that autovacuum has
    // visited: without them the planner guesses row counts and index-only scans read the table.
    conn.execute("VACUUM ANALYZE").await.context("Failed to vacuum the seeded database")?;
    conn.close().await?;

    let store = PostgresStore::open(url).await?;
    let presets = parse_presets(BUNDLED_PRESETS, "the bundled presets", REGISTRY_HOST, EPOCH_MS)?;
    store.sync_presets(&presets, EPOCH_MS).await?;
    drop(store);

    std::fs::write(repositories_file, repositories)
        .with_context(|| format!("Failed to write {}", repositories_file.display()))?;

    let sample = seed_group(0, size.measured_groups / 2);
    Ok(SeedManifest {
        size,
        project_id: project_id(0),
        exact_name: sample.name,
        namespace: sample.namespace.to_owned(),
        fuzzy_needle: FUZZY_NEEDLE.to_owned(),
        image_id: manifest_image.unwrap_or_default(),
        repositories_file: repositories_file.to_owned(),
        seconds: started.elapsed().as_secs_f64(),
    })
}

const GROUP_COPY: &str = "COPY image_groups (id, scope, workspace_id, type, namespace, name, description, version_count, \
     create_at, update_at) FROM STDIN";

const IMAGE_COPY: &str = "COPY images (id, project_id, workspace_id, group_id, type, swr_path, namespace, name, tag, \
     digest, arch, description, origin, resource_categories, service_type, dev_services, visibility, status, \
     status_message, flavor_type, swr_instance_id, show_name, show_tag, tags, read_me, size, create_at, update_at, \
     tag_reference) FROM STDIN";

/// Sends `rows` (COPY text format) with `statement` and empties it.
async fn copy_rows(conn: &mut PgConnection, statement: &str, rows: &mut String) -> anyhow::Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let mut copy = conn.copy_in_raw(statement).await?;
    for chunk in rows.as_bytes().chunks(COPY_CHUNK_BYTES) {
        copy.send(chunk).await?;
    }
    copy.finish().await.context("Failed to copy seeded rows into PostgreSQL")?;
    rows.clear();
    Ok(())
}

/// Appends one row of COPY text. No seeded value contains a tab, a newline
/// or a backslash, so none needs escaping. `None` becomes COPY's null.
fn push_copy_row(out: &mut String, fields: &[Option<&str>]) {
    for (i, field) in fields.iter().enumerate() {
        if i > 0 {
            out.push('\t');
        }
        out.push_str(field.unwrap_or("\\N"));
    }
    out.push('\n');
}

fn push_group_row(out: &mut String, group: &SeedGroup, per_group: u64) {
    let newest_tag = tag_of(per_group - 1);
    let description = description_of(group, &newest_tag);
    let count = per_group.to_string();
    let create_at = group.first_at.to_string();
    let update_at = (group.first_at + (per_group as i64 - 1) * HOUR_MS).to_string();
    push_copy_row(
        out,
        &[
            Some(&group.id),
            Some(&group.project_id),
            Some("0"),
            Some(ImageType::Dedicated.as_str()),
            Some(group.namespace),
            Some(&group.name),
            Some(&description),
            Some(&count),
            Some(&create_at),
            Some(&update_at),
        ],
    );
}

fn push_image_row(out: &mut String, id: &str, group: &SeedGroup, version: u64) {
    let image = SeedImage::new(group, version);
    let size = image.size.to_string();
    let at = image.at.to_string();
    push_copy_row(
        out,
        &[
            Some(id),
            Some(&group.project_id),
            Some("0"),
            Some(&group.id),
            Some(ImageType::Dedicated.as_str()),
            Some(&image.reference),
            Some(group.namespace),
            Some(&group.name),
            Some(&image.tag),
            None,
            Some(image.arch.as_str()),
            Some(&description_of(group, &image.tag)),
            Some(Origin::Customize.as_str()),
            Some(&image.categories),
            Some(image.service_type.as_str()),
            Some(&image.dev_services),
            Some(Visibility::Private.as_str()),
            Some(ImageStatus::Active.as_str()),
            Some(""),
            None,
            None,
            None,
            None,
            Some(&image.tags),
            None,
            Some(&size),
            Some(&at),
            Some(&at),
            Some(&image.reference),
        ],
    );
}
