//! Content-addressed storage: verified blobs by digest in an [`object_store`] backend, and the staging
//! area where blob uploads accumulate until their digest is verified.
//!
//! Rule: a blob appears in the store only after its digest was checked, and only by an atomic step
//! (a rename on the local filesystem, a completed multipart upload elsewhere).

mod blob_store;
mod s3;
mod uploads;

pub use blob_store::{BlobBody, BlobStore, CONCURRENT_IMPORTS, PARTS_IN_FLIGHT, StoredBlob};
pub use uploads::{AppendError, AppendLimits, FinishError, QuotaRoom, UploadLimits, UploadStaging};
