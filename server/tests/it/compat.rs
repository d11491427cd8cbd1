//! Harbor API compatibility: `harborapi`, an independent Harbor API v2.0 client library for Python, used
//! unmodified against the real `berth` binary (see `server/tests/compat/harbor_client.py`), plus the query
//! booleans a swagger-generated client sends (`public=True`), a system robot, a CVE allowlist, icons and a
//! whole configuration PUT back.
//! `scripts/test.sh` installs `harborapi`; without it this test fails, it never skips.

use std::path::Path;
use std::process::Command;

use crate::clients::{ClientEnv, admin_creds, skopeo_copy};
use crate::images::{Image, Layout, describe, require_tool, run};
use crate::support::{ADMIN_PASSWORD, ADMIN_USER, BinaryServer};

fn script() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/compat/harbor_client.py")
}

#[test]
fn harborapi_client_lists_creates_and_reads_everything() {
    require_tool("python3");
    let probe = run(Command::new("python3").args(["-c", "import harborapi"]));
    assert!(
        probe.status.success(),
        "the Python package `harborapi` is not importable by python3 ({}); run scripts/test.sh, which \
         installs it (python3 -m pip install harborapi==0.26.2)",
        String::from_utf8_lossy(&probe.stderr).trim()
    );

    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let server = BinaryServer::start(&data);
    let created = server.cli(&["project", "create", "images"]);
    assert!(created.status.success(), "project create: {created:?}");

    let image = Image::build(40, "amd64", &[60_000, 5_000]);
    let mut src = Layout::create(&tmp.path().join("src"));
    src.add_image("v1", &image);
    let env = ClientEnv::new();
    let creds = admin_creds();
    skopeo_copy(
        &env,
        &src.reference("v1"),
        &format!("docker://{}/images/app:v1", server.host()),
        Some(&creds),
        false,
    );

    let mut cmd = Command::new("python3");
    cmd.arg(script())
        .arg(server.url(""))
        .args([ADMIN_USER, ADMIN_PASSWORD, "images/app:v1"])
        .env("NO_PROXY", "*")
        .env("no_proxy", "*");
    let out = run(&mut cmd);
    assert!(
        out.status.success(),
        "harborapi against Berth failed ({}): {}\n--- stdout:\n{}\n--- stderr:\n{}",
        out.status,
        describe(&cmd),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
