//! Types from the OCI specs, parsed and validated at the edge so handlers never see invalid input.
//!
//! Rule: pure values and parsers only; no I/O, no database, no HTTP.

pub mod digest;
pub mod manifest;
pub mod name;

pub use digest::{Algorithm, Digest, DigestHasher};
pub use manifest::{ManifestKind, ParsedManifest};
pub use name::{Reference, RepositoryName, Tag};
