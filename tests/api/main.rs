//! Integration tests of easel over HTTP. Each test starts its own service on
//! a fresh SQLite database and a free loopback port, so tests run in parallel.
//! The modules follow the API: images, image groups, authentication, errors.

mod auth;
mod errors;
mod group_changes;
mod group_listing;
mod health;
mod helpers;
mod image_listing;
mod images;
mod presets;
mod visibility;
