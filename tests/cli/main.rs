//! Tests of the `easel` binary as a process: each test starts `easel serve`
//! on a fresh database and a free loopback port, then runs the client
//! commands against it, scrapes `/metrics`, reads the request log or stops
//! the service with SIGTERM.

mod client;
mod credentials;
mod helpers;
mod logs;
mod metrics;
mod shutdown;
