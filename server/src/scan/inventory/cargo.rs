//! Rust: `Cargo.lock` files (every format, v1 to v4: each lists `[[package]]` tables with `name` and
//! `version`). cargo-auditable binaries are read in [`super::elf`].

use serde::Deserialize;

use crate::scan::model::{Package, PackageKind};

use super::Origin;

#[derive(Deserialize)]
struct Lock {
    #[serde(default)]
    package: Vec<LockedPackage>,
}

#[derive(Deserialize)]
struct LockedPackage {
    name: String,
    version: String,
}

/// The packages a `Cargo.lock` pins, at most `max` (none when it is not a lock file).
pub(super) fn parse_lock(text: &str, origin: &Origin<'_>, max: usize) -> (Vec<Package>, bool) {
    let Ok(lock) = toml::from_str::<Lock>(text) else {
        return (Vec::new(), false);
    };
    let pairs = lock
        .package
        .iter()
        .map(|p| (p.name.as_str(), p.version.as_str()));
    origin.packages(PackageKind::Cargo, pairs, max)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ORIGIN: Origin<'static> = Origin {
        path: "src/Cargo.lock",
        layer: "sha256:l1",
    };

    fn lock(folder: &str) -> String {
        crate::scan::inventory::test_data(&format!("{folder}/Cargo.lock"))
    }

    #[test]
    fn reads_the_v4_lock_files_of_the_data_folder() {
        let text = lock("cargo-osv-scanner-deprecated-vuln");
        let (packages, truncated) = parse_lock(&text, &ORIGIN, 1000);
        assert!(!truncated);
        let count = text.matches("[[package]]").count();
        assert!(count > 0);
        assert_eq!(packages.len(), count);
        for package in &packages {
            let entry = format!(
                "name = \"{}\"\nversion = \"{}\"",
                package.name, package.version
            );
            assert!(text.contains(&entry), "{entry}");
        }
        let (packages, _) = parse_lock(&lock("cargo-osv-scanner-deprecated-novuln"), &ORIGIN, 1000);
        assert!(!packages.is_empty());
        assert!(packages.iter().all(|p| p.kind == PackageKind::Cargo));
    }

    #[test]
    fn reads_a_v1_lock_and_refuses_garbage() {
        let v1 = "[[package]]\nname = \"a\"\nversion = \"0.1.0\"\ndependencies = [\n \"b 1.0.0 (registry+https://github.com/rust-lang/crates.io-index)\",\n]\n\n[[package]]\nname = \"b\"\nversion = \"1.0.0\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\n\n[metadata]\n\"checksum b 1.0.0 (registry+https://github.com/rust-lang/crates.io-index)\" = \"00\"\n";
        let (packages, _) = parse_lock(v1, &ORIGIN, 10);
        assert_eq!(packages.len(), 2);
        let (packages, truncated) = parse_lock(v1, &ORIGIN, 1);
        assert_eq!((packages.len(), truncated), (1, true));
        assert!(parse_lock("[[package]\n", &ORIGIN, 10).0.is_empty());
    }
}
