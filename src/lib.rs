//! easel: a self-hosted image catalogue that serves the ModelArts v1 image
//! management API in front of an OCI registry.
//!
//! - [`catalogue`]: images, groups and their rules, free of HTTP;
//! - [`storage`]: one store interface and its backends;
//! - [`registry`]: the OCI registry client and its notification events;
//! - [`auth`]: AK/SK signatures and tokens;
//! - [`http`]: routes, extractors and the error body;
//! - [`telemetry`]: the Prometheus metrics;
//! - [`client`]: the command-line client of the API;
//! - [`app`]: wiring and the commands of the binary.

pub mod app;
pub mod auth;
pub mod catalogue;
pub mod client;
pub mod clock;
pub mod config;
pub mod error;
pub mod http;
pub mod registry;
pub mod storage;
pub mod telemetry;
