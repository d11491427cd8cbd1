//! A collection killed with SIGKILL in the middle of its sweep: no live row is left without its file, and the
//! run, taken back after its lease, finishes the interrupted deletions first and leaves a consistent store.

use std::time::{Duration, Instant};

use serde_json::json;

use super::{assert_store_consistent, gc_log, gc_now, gc_run, gc_wait, stored_files};
use crate::support::{BinaryServer, TestServer, client, database_url, sha256};

const SEEDED: usize = 3000;

#[tokio::test]
async fn a_collection_killed_mid_sweep_is_finished_by_the_next_run() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    // Blobs recorded and stored as a proxy fetch leaves them: no repository links them, nothing references them.
    let seeder = TestServer::start_with(|c| {
        c.data_dir = data.clone();
        c.jobs.workers = 0;
    })
    .await;
    for i in 0..SEEDED {
        let bytes = format!("unreferenced blob {i}").into_bytes();
        let digest = sha256(&bytes);
        let staged = dir.path().join("staged");
        std::fs::write(&staged, &bytes).unwrap();
        let record = seeder
            .state
            .db
            .begin_record_blob(&digest, bytes.len() as i64)
            .await
            .unwrap();
        seeder
            .state
            .blobs
            .import(&staged, &digest.parse().unwrap())
            .await
            .unwrap();
        record.commit().await.unwrap();
    }
    seeder.stop().await;
    assert_eq!(stored_files(&data).await.len(), SEEDED);

    let env = [
        ("BERTH_GC__BLOB_GRACE_SECS", "0"),
        ("BERTH_GC__BATCH", "10"),
        ("BERTH_JOBS__LEASE_SECS", "2"),
        ("BERTH_JOBS__POLL_MS", "100"),
        ("BERTH_JOBS__RETRY_DELAY_SECS", "1"),
    ];
    let http = client();
    let mut server = BinaryServer::start_with_env(&data, &env);
    let base = server.url("");
    let id = gc_now(&http, &base, json!({})).await;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let log = gc_log(&http, &base, id).await;
        if log.matches("] deleted blob ").count() >= 20 {
            break;
        }
        assert!(Instant::now() < deadline, "the sweep never started: {log}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    server.signal_and_wait("KILL");

    // Mid-sweep: some files are gone, and every row still live has its file.
    let db = berth::db::Db::open(&database_url(&data)).await.unwrap();
    let files = stored_files(&data).await;
    let rows = db.blob_states().await.unwrap();
    assert!(files.len() < SEEDED, "the kill came after some deletions");
    assert!(!rows.is_empty(), "the kill came before the end");
    for (digest, state) in &rows {
        assert!(
            state != "live" || files.contains(digest),
            "live row {digest} without its file"
        );
    }
    db.close().await;

    // Restarted: the run is taken back after its lease and finishes.
    let server = BinaryServer::start_with_env(&data, &env);
    let base = server.url("");
    let run = gc_wait(&http, &base, id, &["Success", "Error"]).await;
    assert_eq!(
        run["job_status"],
        "Success",
        "{}",
        gc_log(&http, &base, id).await
    );
    assert_eq!(gc_run(&http, &base, id).await["id"], id);
    let db = berth::db::Db::open(&database_url(&data)).await.unwrap();
    assert_store_consistent(&db, &data).await;
    assert!(stored_files(&data).await.is_empty());
    let reconcile = server.cli(&["quota", "reconcile"]);
    assert!(reconcile.status.success(), "{reconcile:?}");
    db.close().await;
}
