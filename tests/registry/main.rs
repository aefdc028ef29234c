//! easel in front of a real distribution registry: Debian's
//! `docker-registry` started per test on a free loopback port, with images
//! built here as OCI layouts and pushed with skopeo. Run
//! `scripts/install-deps` first to install both.

mod support;

mod delete;
mod events;
mod metrics;
mod outage;
mod register;
mod sync;
