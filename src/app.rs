//! Wiring: opens the store, loads the presets, builds the router and runs
//! the server and the credential commands.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context};
use tokio::net::TcpListener;
use tracing::info;
use tracing_subscriber::EnvFilter;

use crate::auth::credentials::MasterKey;
use crate::auth::{Authenticator, IssuedAccessKey, IssuedToken};
use crate::catalogue::fields::ProjectId;
use crate::catalogue::presets::{parse_presets, BUNDLED_PRESETS};
use crate::catalogue::{Catalogue, RegistryLink};
use crate::clock::now_ms;
use crate::config::{RegistryConfig, ServeConfig, StoreConfig};
use crate::http::{router, AppState, ListingResponses};
use crate::registry::client::{Credentials, OciRegistry};
use crate::registry::metered::MeteredRegistry;
use crate::storage::metered::MeteredStore;
use crate::storage::postgres::PostgresStore;
use crate::storage::sqlite::SqliteStore;
use crate::storage::Store;
use crate::telemetry;

/// How long the token printed on first start stays valid.
const FIRST_TOKEN_TTL: Duration = Duration::from_secs(24 * 60 * 60);

/// Starts the log: one line per event on standard error, human-readable or
/// JSON (`format` is `human` or `json`), filtered by `RUST_LOG` (default `info`).
pub fn init_tracing(format: &str) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr);
    if format == "json" {
        builder.json().flatten_event(true).with_span_list(false).init();
    } else {
        builder.init();
    }
}

/// Opens the store named by the database URL and applies its migrations.
pub async fn open_store(config: &StoreConfig) -> anyhow::Result<Arc<dyn Store>> {
    let url = &config.database_url;
    if url.starts_with("sqlite:") {
        Ok(Arc::new(SqliteStore::open(url).await?))
    } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
        Ok(Arc::new(PostgresStore::open(url).await?))
    } else {
        bail!(
            "Unsupported database URL '{}': expected sqlite://PATH or postgres://USER@HOST/DATABASE",
            redact(url)
        )
    }
}

/// Loads the master key and checks it against the stored access keys, so a
/// wrong `--master-key-file` stops the process instead of failing every
/// signed request later.
async fn open_authenticator(config: &StoreConfig, store: Arc<dyn Store>) -> anyhow::Result<Authenticator> {
    let path = &config.master_key_file;
    let oldest = store.oldest_access_key().await?;
    if oldest.is_some() && !path.exists() {
        bail!(
            "The database holds access keys but the master key file {} does not exist; \
             set --master-key-file (EASEL_MASTER_KEY_FILE) to the file that encrypted them",
            path.display()
        );
    }

    let master_key = MasterKey::load_or_create(path)?;
    if let Some(key) = oldest {
        master_key.decrypt(&key.secret_ciphertext).with_context(|| {
            format!(
                "The master key file {} does not decrypt the stored access keys; \
                 set --master-key-file (EASEL_MASTER_KEY_FILE) to the file that encrypted them",
                path.display()
            )
        })?;
    }
    Ok(Authenticator::new(store, master_key))
}

/// Everything a running service holds.
pub struct App {
    pub state: AppState,
    store: Arc<dyn Store>,
}

impl App {
    /// Opens the store, loads the presets and builds the shared state.
    pub async fn build(config: &ServeConfig) -> anyhow::Result<Self> {
        // Installed first, so the store calls of the start-up are counted too.
        telemetry::prometheus();
        let store: Arc<dyn Store> = Arc::new(MeteredStore::new(open_store(&config.store).await?));
        let authenticator = open_authenticator(&config.store, store.clone()).await?;
        let default_registry_host = config.implied_registry_host();
        load_presets(store.as_ref(), config.presets.as_deref(), &default_registry_host).await?;

        let mut catalogue = Catalogue::new(store.clone(), default_registry_host);
        if let Some(link) = registry_link(&config.registry)? {
            catalogue = catalogue.with_registry(link);
        }
        Ok(App {
            store,
            state: AppState {
                catalogue,
                authenticator: Arc::new(authenticator),
                body_limit_bytes: config.body_limit_bytes,
                registry_events_secret: config.registry.events_secret.clone().map(Arc::from),
                listings: Arc::new(ListingResponses::new(config.listing_cache_entries)),
            },
        })
    }

    /// Returns the router serving this app.
    pub fn router(&self) -> axum::Router {
        router(self.state.clone())
    }
}

/// Builds the client of the configured registry, when one is configured.
fn registry_link(config: &RegistryConfig) -> anyhow::Result<Option<RegistryLink>> {
    let Some(endpoint) = config.url.clone() else {
        if config.events_secret.is_some() || !config.namespaces.is_empty() {
            bail!("--registry-events-secret and --registry-namespace need --registry");
        }
        return Ok(None);
    };
    let credentials = match (&config.username, &config.password, &config.token) {
        (Some(username), Some(password), _) => {
            Credentials::Basic { username: username.clone(), password: password.clone() }
        }
        (_, _, Some(token)) => Credentials::Bearer(token.clone()),
        _ => Credentials::Anonymous,
    };
    let mut namespaces = HashMap::new();
    for mapping in &config.namespaces {
        if let Some(previous) = namespaces.insert(mapping.namespace.clone(), mapping.project.clone()) {
            bail!("--registry-namespace maps '{}' twice (to {previous} and {})", mapping.namespace, mapping.project);
        }
    }
    info!(
        registry.url = %endpoint,
        registry.timeout_ms = config.timeout.as_millis() as u64,
        registry.namespaces = namespaces.len(),
        "registry configured"
    );

    let registry =
        OciRegistry::new(endpoint, credentials, config.timeout).context("Failed to create the registry client")?;
    Ok(Some(RegistryLink {
        registry: Arc::new(MeteredRegistry::new(Arc::new(registry))),
        max_image_size_bytes: config.max_image_size_bytes,
        namespaces,
    }))
}

async fn load_presets(store: &dyn Store, file: Option<&Path>, default_host: &str) -> anyhow::Result<()> {
    let (json, source) = match file {
        Some(path) => (
            std::fs::read_to_string(path).with_context(|| format!("Failed to read the presets file {}", path.display()))?,
            path.display().to_string(),
        ),
        None => (BUNDLED_PRESETS.to_owned(), "the bundled presets".to_owned()),
    };
    let presets = parse_presets(&json, &source, default_host, now_ms())?;
    let load = store
        .sync_presets(&presets, now_ms())
        .await
        .map_err(anyhow::Error::new)
        .with_context(|| format!("Failed to load {source}"))?;
    info!(
        presets.source = %source,
        presets.count = presets.len(),
        presets.inserted = load.inserted,
        presets.updated = load.updated,
        presets.removed = load.removed,
        "presets loaded"
    );
    Ok(())
}

/// Runs the service until SIGINT or SIGTERM, finishing requests in flight.
pub async fn serve(config: ServeConfig) -> anyhow::Result<()> {
    let app = App::build(&config).await?;
    let listener = TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("Failed to listen on {}", config.listen))?;
    let address = listener.local_addr()?;

    if !app.state.authenticator.has_access_keys().await? {
        print_first_credentials(&app.state.authenticator, address).await?;
    }

    let refresher = telemetry::spawn_refresher(app.store.clone(), config.catalogue_metrics_interval);

    info!(listen.address = %address, database.url = %redact(&config.store.database_url), "easel started");
    axum::serve(listener, app.router())
        .with_graceful_shutdown(shutdown_signal())
        .await
        .context("The server failed")?;
    refresher.abort();
    info!("easel stopped");
    Ok(())
}

/// Creates the first access key of a new installation and prints it once,
/// with a token and a command that calls the API.
async fn print_first_credentials(authenticator: &Authenticator, address: std::net::SocketAddr) -> anyhow::Result<()> {
    let project = ProjectId::generate();
    let key = authenticator.issue_access_key(&project).await?;
    let token = authenticator.issue_token(&project, FIRST_TOKEN_TTL).await?;
    println!("No access key existed, so easel created one for a new project. It is shown only now:");
    println!("  project id: {}", key.project_id);
    println!("  access key: {}", key.access);
    println!("  secret key: {}", key.secret);
    println!("Try the API with a token valid for 24 hours:");
    println!("  curl -H 'X-Auth-Token: {}' http://{address}/v1/{}/images/group", token.token, key.project_id);
    Ok(())
}

/// Hides the password of a database URL for logs.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => format!("{}://***@{}", &url[..scheme_end], &url[at + 1..]),
        _ => url.to_owned(),
    }
}

async fn shutdown_signal() {
    let interrupt = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();

    tokio::select! {
        () = interrupt => {},
        () = terminate => {},
    }
    info!("shutdown signal received; finishing requests in flight");
}

/// Creates an access key for a project (`easel access-key create`).
pub async fn create_access_key(project_id: &str, config: &StoreConfig) -> anyhow::Result<IssuedAccessKey> {
    let project = ProjectId::parse(project_id).map_err(anyhow::Error::new)?;
    let store = open_store(config).await?;
    let authenticator = open_authenticator(config, store).await?;
    Ok(authenticator.issue_access_key(&project).await?)
}

/// Creates a token for a project (`easel token create`).
pub async fn create_token(project_id: &str, ttl: Duration, config: &StoreConfig) -> anyhow::Result<IssuedToken> {
    let project = ProjectId::parse(project_id).map_err(anyhow::Error::new)?;
    let store = open_store(config).await?;
    let authenticator = open_authenticator(config, store).await?;
    Ok(authenticator.issue_token(&project, ttl).await?)
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn redact_hides_database_password() {
        assert_eq!(redact("postgres://user:pw@db:5432/easel"), "postgres://***@db:5432/easel");
        assert_eq!(redact("sqlite://./easel-data/easel.db"), "sqlite://./easel-data/easel.db");
    }
}
