//! Garbage collection against real servers: dry run against the real run, the grace window, the race between
//! a sweep and a push (driven step by step through the database layer), pushes and pulls while collections
//! run in a loop, a collection killed with SIGKILL and run again, and `delete_untagged`. The `/system/gc`
//! endpoints' shapes and permissions are in `api/gc.rs`.

mod crashes;
mod races;
mod sweeps;

use std::collections::BTreeSet;
use std::path::Path;

use reqwest::{Client, StatusCode};
use serde_json::Value;

use crate::support::{ADMIN_PASSWORD, ADMIN_USER};

/// Starts a collection now (`POST /system/gc/schedule`, `Manual`) at `base`; returns its id.
pub async fn gc_now(http: &Client, base: &str, parameters: Value) -> i64 {
    crate::jobs::system_job_now(http, base, "/system/gc", parameters).await
}

/// `GET /system/gc/{id}` as admin.
pub async fn gc_run(http: &Client, base: &str, id: i64) -> Value {
    crate::jobs::system_job_run(http, base, "/system/gc", id).await
}

/// `GET /system/gc/{id}/log` as admin.
pub async fn gc_log(http: &Client, base: &str, id: i64) -> String {
    let response = http
        .get(format!("{base}/api/v2.0/system/gc/{id}/log"))
        .basic_auth(ADMIN_USER, Some(ADMIN_PASSWORD))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    response.text().await.unwrap()
}

/// Waits (polling, up to two minutes) until collection `id` has one of `statuses`; returns it.
pub async fn gc_wait(http: &Client, base: &str, id: i64, statuses: &[&str]) -> Value {
    crate::jobs::wait_for_system_job(http, base, "/system/gc", id, statuses).await
}

/// Runs a collection with `parameters` to success; returns its log.
pub async fn collect(http: &Client, base: &str, parameters: Value) -> String {
    let id = gc_now(http, base, parameters).await;
    let run = gc_wait(http, base, id, &["Success", "Error", "Stopped"]).await;
    let log = gc_log(http, base, id).await;
    assert_eq!(run["job_status"], "Success", "{log}");
    log
}

/// The `(what, digest, size)` the log says a run deleted (or would delete), sorted: `what` is `blob`,
/// `orphan file` or `artifact`.
pub fn deletions(log: &str) -> BTreeSet<(String, String)> {
    let mut found = BTreeSet::new();
    for line in log.lines() {
        let Some((_, rest)) = line
            .split_once("] would delete ")
            .or_else(|| line.split_once("] deleted "))
        else {
            continue;
        };
        for what in ["blob ", "orphan file ", "artifact "] {
            if let Some(item) = rest.strip_prefix(what) {
                found.insert((what.trim().to_owned(), item.to_owned()));
            }
        }
    }
    found
}

/// The digests whose bytes are in the blob store of data directory `data`: files named by their digest, and
/// (on S3) uploads' objects, by the blob row that names each (`unrecorded <key>` for one no row names).
pub async fn stored_files(data: &Path) -> BTreeSet<String> {
    let mut files = BTreeSet::new();
    let Some(store) = crate::support::s3_store_of(data) else {
        let root = data.join("storage/blobs");
        let Ok(algorithms) = std::fs::read_dir(&root) else {
            return files;
        };
        for algorithm in algorithms.flatten() {
            let name = algorithm.file_name().to_string_lossy().into_owned();
            for prefix in std::fs::read_dir(algorithm.path()).unwrap().flatten() {
                for file in std::fs::read_dir(prefix.path()).unwrap().flatten() {
                    files.insert(format!("{name}:{}", file.file_name().to_string_lossy()));
                }
            }
        }
        return files;
    };
    let objects: Vec<(String, u64)> = futures_util::TryStreamExt::try_collect(store.list_objects())
        .await
        .unwrap();
    let db = berth::db::Db::open(&crate::support::database_url(data))
        .await
        .unwrap();
    for (key, _) in objects {
        match key.split('/').collect::<Vec<_>>().as_slice() {
            ["blobs", algorithm, _, hex] => {
                files.insert(format!("{algorithm}:{hex}"));
            }
            ["uploads", _, "data"] => {
                let digest: Option<String> =
                    sqlx::query_scalar("SELECT digest FROM blobs WHERE object_key = $1")
                        .bind(&key)
                        .fetch_optional(&db.raw_write_pool())
                        .await
                        .unwrap();
                files.insert(digest.unwrap_or_else(|| format!("unrecorded {key}")));
            }
            _ => {}
        }
    }
    db.close().await;
    files
}

/// Writes `bytes` into the blob store of data directory `data` at their digest's key, with no row, as a crash
/// between the file's move and its row's commit leaves it; returns its digest.
pub async fn plant_orphan(data: &Path, bytes: &[u8]) -> String {
    let digest = crate::support::sha256(bytes);
    let store = match crate::support::s3_store_of(data) {
        Some(store) => store,
        None => berth::storage::BlobStore::local(&data.join("storage")).unwrap(),
    };
    let staged = data.join(format!("orphan-{}", &digest[7..19]));
    std::fs::write(&staged, bytes).unwrap();
    store
        .import(&staged, &digest.parse().unwrap())
        .await
        .unwrap();
    digest
}

/// Asserts the store is consistent: every live row has its file, no row is left deleting, and no file is
/// without a row.
pub async fn assert_store_consistent(db: &berth::db::Db, data: &Path) {
    let rows = db.blob_states().await.unwrap();
    let files = stored_files(data).await;
    let deleting: Vec<_> = rows.iter().filter(|(_, s)| s != "live").collect();
    assert!(deleting.is_empty(), "rows left deleting: {deleting:?}");
    let recorded: BTreeSet<String> = rows.into_iter().map(|(d, _)| d).collect();
    let missing: Vec<_> = recorded.difference(&files).collect();
    assert!(missing.is_empty(), "rows without their file: {missing:?}");
    let orphans: Vec<_> = files.difference(&recorded).collect();
    assert!(orphans.is_empty(), "files without a row: {orphans:?}");
}
