//! Integration tests of easel over HTTP. Each test starts its own service on
//! a fresh SQLite database and a free loopback port, so tests run in parallel.
//! With `EASEL_TEST_BACKEND=postgres` each test gets a fresh PostgreSQL
//! database instead, on a throwaway cluster that the tests start.
//! The modules follow the API: images, image groups, authentication, errors,
//! and the OpenAPI document.

mod auth;
mod errors;
mod group_changes;
mod group_listing;
mod health;
mod helpers;
mod image_listing;
mod images;
mod openapi;
#[path = "../support/postgres.rs"]
mod pg;
mod presets;
mod visibility;
