//! Berth's integration tests: one test binary whose modules mirror the routes.
//!
//! `support` starts servers (in-process, or the real `berth` binary) on ephemeral loopback ports.
//! Client tests drive real registry clients (skopeo, podman, the Docker CLI with a private dockerd).

#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a failing test panics"
)]

mod support;

mod api;
mod authz;
mod clients;
mod cluster;
mod compat;
mod console;
mod crash;
mod gc;
mod images;
mod jobs;
mod ldap;
mod metrics;
mod migrate;
mod oidc;
mod parsers;
mod process;
mod proxy;
mod registry;
mod replication;
mod retention;
mod scan;
mod shutdown;
mod storage;
mod vulndb;
mod webhooks;
