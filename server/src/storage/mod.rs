//! Content-addressed storage: verified blobs by digest in an [`object_store`] backend, and the staging
//! area where blob uploads accumulate until their digest is verified.
//!
//! Rule: a blob appears in the store only after its digest was checked, and only by an atomic step
//! (a rename on the local filesystem, a completed multipart upload elsewhere).

mod blob_store;
mod capacity;
mod resumable_sha256;
mod s3;
mod s3_upload;
mod uploads;

pub use blob_store::{
    BlobBody, BlobStore, CONCURRENT_IMPORTS, ObjectKeys, PARTS_IN_FLIGHT, PreparedImport,
    StoredBlob,
};
pub use capacity::{Capacity, capacity};
pub use resumable_sha256::{ResumableSha256, StateError};
pub use s3_upload::{
    AppendGuard, Appended, Completed, S3UploadError, S3Uploads, UPLOAD_LEASE, UploadState,
    UploadedPart, object_key,
};
pub use uploads::{
    AppendError, AppendLimits, FinishError, QuotaRoom, UploadLimits, UploadStaging, hash_file,
};
