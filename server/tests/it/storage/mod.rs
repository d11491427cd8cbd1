//! Blob storage backends. `s3` runs Berth on a real S3 server (SeaweedFS, started by
//! `scripts/s3-test-server.sh up`, which `scripts/test.sh` runs); without `BERTH_TEST_S3_ENDPOINT` its tests
//! print a SKIPPED line and return. The storage settings' start-up checks need no server.

mod s3;

use berth::config::{Config, S3Config, StorageKind};
use berth::secret::Secret;

#[tokio::test]
async fn a_storage_setting_that_cannot_work_stops_the_start_with_its_name() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config {
        data_dir: dir.path().join("data"),
        ..Config::default()
    };
    config.storage.kind = StorageKind::S3;
    config.storage.s3 = S3Config {
        endpoint: Some("http://127.0.0.1:9".to_owned()),
        bucket: Some("berth".to_owned()),
        access_key: Some("AK".to_owned()),
        secret_key: Some(Secret::new("topsecret")),
        ..S3Config::default()
    };
    let error = format!(
        "{:#}",
        berth::serve::prepare(config.clone()).await.err().unwrap()
    );
    assert!(
        error.contains("storage.s3.endpoint (BERTH_STORAGE__S3__ENDPOINT)")
            && error.contains("allow_http"),
        "{error}"
    );
    assert!(!error.contains("topsecret"), "{error}");
    assert!(
        !dir.path().join("data").exists(),
        "nothing is created before the settings are checked"
    );
    config.storage.s3.allow_http = true;
    config.storage.s3.bucket = None;
    let error = format!("{:#}", berth::serve::prepare(config).await.err().unwrap());
    assert!(
        error.contains("storage.s3.bucket (BERTH_STORAGE__S3__BUCKET): required"),
        "{error}"
    );
}
