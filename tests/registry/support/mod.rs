//! What the registry tests start: easel, a registry, images and a slow proxy.

pub mod app;
pub mod distribution;
pub mod layout;
pub mod proxy;

use app::{AppBuilder, TestApp};
use distribution::DistributionRegistry;

/// Starts a registry and an easel in front of it, without registry events.
pub async fn registry_and_app() -> (DistributionRegistry, TestApp) {
    let registry = DistributionRegistry::start(None).await;
    let app = AppBuilder::new().await.registry(&registry.url()).start().await;
    (registry, app)
}
