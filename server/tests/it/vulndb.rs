//! `berth vulndb import` and `berth vulndb status`: the real binary against a data directory, with and without a
//! server running on it, two imports at once, and the errors an operator sees.

use std::path::{Path, PathBuf};

use crate::images::http;
use crate::support::{BinaryServer, berth_cli};

fn data(rel: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/vulndata")
        .join(rel)
        .display()
        .to_string()
}

/// Runs the CLI and returns (success, stdout, stderr).
fn run(data_dir: &Path, args: &[&str]) -> (bool, String, String) {
    let out = berth_cli(data_dir, args);
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn import_and_status_work_while_the_server_runs() {
    let root = tempfile::tempdir().unwrap();
    let data_dir: PathBuf = root.path().join("data");
    std::fs::create_dir(&data_dir).unwrap();

    let (ok, out, err) = run(&data_dir, &["vulndb", "status"]);
    assert!(ok, "{err}");
    assert!(out.contains("no vulnerability database yet"), "{out}");

    let server = BinaryServer::start(&data_dir);
    let tracker = data("debian/tracker-bookworm.json");
    let (ok, out, err) = run(&data_dir, &["vulndb", "import", &tracker]);
    assert!(ok, "{out}{err}");
    assert!(out.contains("(debian-tracker): 32 record(s)"), "{out}");
    assert!(
        out.trim_end()
            .lines()
            .last()
            .unwrap()
            .starts_with("generation 1 in force: 32 record(s)"),
        "{out}"
    );

    // Two imports at once (two processes) take turns; neither loses the other's records.
    let (secdb, osv) = (data("alpine/secdb-v3.18-main.json"), data("osv"));
    let outputs = std::thread::scope(|s| {
        let a = s.spawn(|| run(&data_dir, &["vulndb", "import", &secdb]));
        let b = s.spawn(|| run(&data_dir, &["vulndb", "import", "--format", "osv", &osv]));
        [a.join().unwrap(), b.join().unwrap()]
    });
    for (ok, out, err) in &outputs {
        assert!(ok, "{out}{err}");
    }
    let (ok, out, err) = run(&data_dir, &["vulndb", "status"]);
    assert!(ok, "{err}");
    assert!(out.starts_with("generation 3 built "), "{out}");
    for source in [
        "source debian-tracker: 32 record(s)",
        "source secdb:v3.18/main: 11 record(s)",
        "source osv:npm: 4 record(s)",
    ] {
        assert!(out.contains(source), "{source} missing from:\n{out}");
    }
    let files = std::fs::read_dir(data_dir.join("vulndb"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".sqlite"))
        .count();
    assert_eq!(files, 2, "only the last two generations are kept");

    // Errors are precise and change nothing.
    let missing = root.path().join("nowhere.zip").display().to_string();
    let (ok, _, err) = run(&data_dir, &["vulndb", "import", &missing]);
    assert!(!ok);
    assert!(err.contains("file not found: "), "{err}");
    let (ok, _, err) = run(
        &data_dir,
        &["vulndb", "import", "--format", "debian-tracker", &secdb],
    );
    assert!(!ok);
    assert!(
        err.contains("no debian-tracker record could be read")
            || err.contains("not Debian security tracker JSON"),
        "{err}"
    );
    let (_, out, _) = run(&data_dir, &["vulndb", "status"]);
    assert!(out.starts_with("generation 3 built "), "{out}");

    // The server kept serving throughout.
    let ping = http(&server.host(), "GET", "/api/v2.0/ping", &[], b"");
    assert_eq!(ping.status, 200, "{ping:?}");
}
