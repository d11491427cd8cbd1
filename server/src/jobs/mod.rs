//! Background jobs. For now one periodic task: purging idle uploads.

pub mod upload_purge;
