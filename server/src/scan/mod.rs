//! Vulnerability scanning, built in (issue 15; design in `docs/scanning.md`).
//!
//! Four parts and one seam:
//! - [`inventory`] reads image layers as streams and lists what is installed (OS identity, dpkg, apk, rpm, and
//!   language packages), once per layer digest;
//! - [`vulndb`] is the local vulnerability database, its own SQLite file, imported offline from OSV, Alpine secdb
//!   and the Debian security tracker, swapped in by generations;
//! - [`version`] orders versions as each ecosystem does, and [`matcher`] turns an inventory and the database's
//!   answers into findings (pure, synchronous);
//! - [`model`] is the vocabulary they share.

pub mod adapter;
pub mod export;
pub mod inventory;
pub mod layers;
pub mod matcher;
pub mod model;
pub mod report;
pub mod run;
pub mod sbom;
pub mod sbom_job;
pub mod scan_all;
pub mod security_hub;
pub mod service;
pub mod version;
pub mod vulndb;
