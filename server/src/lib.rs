//! Berth: a multitenant container registry with a browser admin console, in one binary.
//!
//! Layout: [`config`] (settings), [`app`] (state and router), [`console`] (the embedded admin console),
//! [`registry`] (OCI `/v2`), [`api`] (Harbor REST API v2.0), [`auth`]
//! (credentials, policy, tokens), [`storage`] (blob store and upload staging), [`db`] (every SQL query),
//! [`service`] (domain rules), [`jobs`] (background work), [`retention`] (tag retention), [`scan`] (vulnerability scanning), [`events`] (audit log), [`stats`] (pull counting), [`oci`] (spec types).

pub mod api;
pub mod app;
pub mod auth;
pub mod config;
pub mod console;
pub mod crypto;
pub mod db;
pub mod events;
pub mod gc;
pub mod immutable;
pub mod jobs;
pub mod metrics;
pub mod migrate;
pub mod oci;
pub mod patterns;
pub mod proxy;
pub mod read_only;
pub mod registry;
pub mod replication;
pub mod retention;
pub mod scan;
pub mod secret;
pub mod serve;
pub mod service;
pub mod stats;
pub mod storage;
pub mod webhooks;
