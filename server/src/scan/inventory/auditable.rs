//! cargo-auditable: the `.dep-v0` ELF section of a Rust binary built with `cargo auditable`, a zlib stream of
//! JSON `{"packages": [{"name", "version", "source", …}]}` (rust-secure-code/cargo-auditable, format v0). The
//! section is found with `object`; its size, the inflated size and the package count are capped.

use std::io::Read as _;

use object::{Object as _, ObjectSection as _};
use serde::Deserialize;

use crate::scan::model::{Package, PackageKind};

use super::{Limits, Origin};

const SECTION: &str = ".dep-v0";

#[derive(Deserialize)]
struct VersionInfo {
    packages: Vec<AuditedPackage>,
}

#[derive(Deserialize)]
struct AuditedPackage {
    name: String,
    version: String,
}

/// The packages recorded in `binary`'s `.dep-v0` section; `Ok(None)` when it has none (not a cargo-auditable
/// binary), `Err` with a note when the section is there but unreadable.
pub(super) fn read(
    binary: &[u8],
    origin: &Origin<'_>,
    limits: &Limits,
    max: usize,
) -> Result<Option<(Vec<Package>, bool)>, String> {
    let Ok(file) = object::File::parse(binary) else {
        return Ok(None);
    };
    let Some(section) = file.section_by_name(SECTION) else {
        return Ok(None);
    };
    let data = section
        .data()
        .map_err(|e| format!("cargo-auditable section unreadable: {e}"))?;
    let cap = limits.max_metadata_file.saturating_mul(8);
    let mut json = Vec::new();
    flate2::read::ZlibDecoder::new(data)
        .take(cap + 1)
        .read_to_end(&mut json)
        .map_err(|e| format!("cargo-auditable section does not inflate: {e}"))?;
    if json.len() as u64 > cap {
        return Err(format!("cargo-auditable data over {cap} bytes: not read"));
    }
    let info: VersionInfo = serde_json::from_slice(&json)
        .map_err(|e| format!("cargo-auditable data is not valid: {e}"))?;
    let pairs = info
        .packages
        .iter()
        .map(|p| (p.name.as_str(), p.version.as_str()));
    Ok(Some(origin.packages(PackageKind::Cargo, pairs, max)))
}

#[cfg(test)]
pub(super) mod tests {
    use std::io::Write as _;

    use super::*;

    /// A minimal 64-bit little-endian ELF executable with a `.dep-v0` section holding `json` compressed with
    /// zlib, as cargo-auditable writes it.
    pub(in crate::scan::inventory) fn auditable_elf(json: &str) -> Vec<u8> {
        let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
        let _ = encoder.write_all(json.as_bytes());
        let dep = encoder.finish().unwrap_or_default();
        let names = b"\0.dep-v0\0.shstrtab\0";
        let dep_at = 64u64;
        let names_at = dep_at + dep.len() as u64;
        let headers_at = (names_at + names.len() as u64).div_ceil(8) * 8;
        let mut elf = Vec::new();
        elf.extend([0x7f, b'E', b'L', b'F', 2, 1, 1, 0]);
        elf.extend([0u8; 8]);
        elf.extend(2u16.to_le_bytes()); // e_type: executable
        elf.extend(0x3eu16.to_le_bytes()); // e_machine: x86-64
        elf.extend(1u32.to_le_bytes());
        elf.extend(0u64.to_le_bytes()); // e_entry
        elf.extend(0u64.to_le_bytes()); // e_phoff
        elf.extend(headers_at.to_le_bytes()); // e_shoff
        elf.extend(0u32.to_le_bytes());
        elf.extend(64u16.to_le_bytes()); // e_ehsize
        elf.extend(56u16.to_le_bytes());
        elf.extend(0u16.to_le_bytes()); // e_phnum
        elf.extend(64u16.to_le_bytes()); // e_shentsize
        elf.extend(3u16.to_le_bytes()); // e_shnum
        elf.extend(2u16.to_le_bytes()); // e_shstrndx
        elf.extend(&dep);
        elf.extend(names);
        elf.resize(headers_at as usize, 0);
        let section = |name: u32, kind: u32, flags: u64, offset: u64, size: u64| {
            let mut h = Vec::new();
            h.extend(name.to_le_bytes());
            h.extend(kind.to_le_bytes());
            h.extend(flags.to_le_bytes());
            h.extend(0u64.to_le_bytes());
            h.extend(offset.to_le_bytes());
            h.extend(size.to_le_bytes());
            h.extend([0u8; 8]);
            h.extend(1u64.to_le_bytes());
            h.extend(0u64.to_le_bytes());
            h
        };
        elf.extend([0u8; 64]);
        elf.extend(section(1, 1, 2, dep_at, dep.len() as u64));
        elf.extend(section(9, 3, 0, names_at, names.len() as u64));
        elf
    }

    pub(in crate::scan::inventory) const AUDIT_JSON: &str = r#"{"packages":[{"name":"app","version":"0.1.0","source":"local","root":true,"dependencies":[1]},{"name":"smallvec","version":"1.6.0","source":"crates.io"}],"format":1}"#;

    const ORIGIN: Origin<'static> = Origin {
        path: "usr/local/bin/app",
        layer: "sha256:l1",
    };

    #[test]
    fn reads_the_packages_of_the_dep_v0_section() {
        let binary = auditable_elf(AUDIT_JSON);
        let found = read(&binary, &ORIGIN, &Limits::default(), 100);
        let names: Vec<(String, String)> = found
            .ok()
            .flatten()
            .map(|(p, _)| p.into_iter().map(|p| (p.name, p.version)).collect())
            .unwrap_or_default();
        assert_eq!(
            names,
            [
                ("app".to_owned(), "0.1.0".to_owned()),
                ("smallvec".to_owned(), "1.6.0".to_owned())
            ]
        );
    }

    #[test]
    fn a_binary_without_the_section_or_with_a_bad_one() {
        assert_eq!(
            read(b"\x7fELF junk", &ORIGIN, &Limits::default(), 100),
            Ok(None)
        );
        let bad = auditable_elf("not json");
        assert!(read(&bad, &ORIGIN, &Limits::default(), 100).is_err());
        let limits = Limits {
            max_metadata_file: 10,
            ..Limits::default()
        };
        let big = auditable_elf(AUDIT_JSON);
        assert!(read(&big, &ORIGIN, &limits, 100).is_err());
    }
}
