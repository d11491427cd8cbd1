//! The `berth serve` process itself, as the operating system sees it.

use crate::support::BinaryServer;

/// mimalloc asks for transparent huge pages on its arenas; the server turns them off for itself so a mostly
/// idle heap does not stay resident in 2 MiB pages (`main.rs`).
#[test]
fn the_server_runs_with_transparent_huge_pages_off() {
    let dir = tempfile::tempdir().unwrap();
    let server = BinaryServer::start(&dir.path().join("data"));
    let status = std::fs::read_to_string(format!("/proc/{}/status", server.pid())).unwrap();
    let thp = status
        .lines()
        .find_map(|line| line.strip_prefix("THP_enabled:"))
        .map(str::trim);
    // Kernels before 5.0 have no such line; every kernel this runs on in CI has it.
    assert_eq!(thp, Some("0"), "{status}");
}
