//! Executables: Go build information, read from the stream without buffering the binary.
//!
//! Only regular files with an execute bit, no larger than [`Limits::max_binary`], whose first bytes are the ELF
//! magic are looked at. The Go linker writes a `.go.buildinfo` block that starts with the magic
//! `\xff Go buildinf:` at a 16-byte-aligned file offset (Go's `debug/buildinfo` searches the same way); since Go
//! 1.18 (flag bit 2) the toolchain version and the module information follow it inline as two
//! varint-length-prefixed strings, so reading the block needs only the bytes after the magic, never the whole
//! file. Older binaries (pointers into the data segment) are noted and skipped.
//!
//! cargo-auditable's `.dep-v0` section lies inside a loaded segment, and only the section table at the end of
//! the file says where, so a binary without Go build information is kept in memory while it streams when it is
//! at most [`Limits::max_auditable_binary`], then handed to [`super::auditable`].

use std::io::Read;

use crate::scan::model::{Package, PackageKind};

use super::{Limits, Origin};

const ELF_MAGIC: [u8; 4] = [0x7f, b'E', b'L', b'F'];
const GO_MAGIC: &[u8; 14] = b"\xff Go buildinf:";
const GO_ALIGN: usize = 16;
/// The fixed header of the block: magic, pointer size, flags, then two pointers (unused since Go 1.18).
const GO_HEADER: usize = 32;
const GO_INLINE_STRINGS: u8 = 0x2;
const CHUNK: usize = 64 * 1024;

/// What an executable told.
#[derive(Debug, Default)]
pub(super) struct Found {
    pub packages: Vec<Package>,
    pub truncated: bool,
    pub notes: Vec<String>,
}

/// Reads an executable entry of `size` bytes from `reader` (positioned at its start).
pub(super) fn analyze<R: Read>(
    reader: &mut R,
    size: u64,
    origin: &Origin<'_>,
    limits: &Limits,
    max_packages: usize,
) -> std::io::Result<Found> {
    let mut found = Found::default();
    let mut chunk = vec![0u8; CHUNK];
    let mut reader = reader.take(size);
    let mut first = true;
    let mut kept = (size <= limits.max_auditable_binary)
        .then(|| Vec::with_capacity(usize::try_from(size).unwrap_or(0)));
    loop {
        let n = fill(&mut reader, &mut chunk)?;
        if n == 0 {
            break;
        }
        if let Some(kept) = kept.as_mut() {
            kept.extend_from_slice(&chunk[..n]);
        }
        if first {
            first = false;
            if !chunk[..n].starts_with(&ELF_MAGIC) {
                return Ok(found);
            }
        }
        let mut at = 0;
        while at + GO_MAGIC.len() <= n {
            if chunk[at..].starts_with(GO_MAGIC) {
                let mut block = chunk[at..n].to_vec();
                let want = usize::try_from(limits.max_buildinfo)
                    .unwrap_or(usize::MAX)
                    .saturating_add(GO_HEADER + 2 * 10);
                if block.len() < want {
                    let more = (want - block.len()) as u64;
                    (&mut reader).take(more).read_to_end(&mut block)?;
                }
                match go_buildinfo(&block) {
                    Ok(info) => {
                        let (packages, truncated) = info.packages(origin, max_packages);
                        found.packages = packages;
                        found.truncated = truncated;
                    }
                    Err(note) => found.notes.push(note.to_owned()),
                }
                return Ok(found);
            }
            at += GO_ALIGN;
        }
        if n < chunk.len() {
            break;
        }
    }
    if let Some(binary) = kept {
        match super::auditable::read(&binary, origin, limits, max_packages) {
            Ok(Some((packages, truncated))) => {
                found.packages = packages;
                found.truncated = truncated;
            }
            Ok(None) => {}
            Err(note) => found.notes.push(note),
        }
    }
    Ok(found)
}

/// Reads until `buf` is full or the stream ends, so chunk starts stay 16-byte aligned in the file.
fn fill<R: Read>(reader: &mut R, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// The build information of a Go binary (Go ≥ 1.18).
#[derive(Debug, PartialEq, Eq)]
pub(super) struct GoBuildInfo {
    /// `go1.21.3` (possibly followed by experiment tags, dropped).
    pub go_version: String,
    /// The `mod` line: the main module's path and version (`(devel)` for a local build).
    pub main: Option<(String, String)>,
    /// The `dep` lines, each replaced by its `=>` line when there is one.
    pub deps: Vec<(String, String)>,
}

/// Parses the block that starts with the magic. The error says why it was not read.
pub(super) fn go_buildinfo(block: &[u8]) -> Result<GoBuildInfo, &'static str> {
    if block.len() < GO_HEADER || !block.starts_with(GO_MAGIC) {
        return Err("Go build information cut short");
    }
    let flags = block[15];
    if flags & GO_INLINE_STRINGS == 0 {
        return Err("Go build information from before Go 1.18: not read");
    }
    let mut rest = &block[GO_HEADER..];
    let version = read_string(&mut rest).ok_or("Go version string cut or too long")?;
    let modinfo = read_string(&mut rest).ok_or("Go module information cut or too long")?;
    let go_version = String::from_utf8_lossy(version)
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_owned();
    if go_version.is_empty() {
        return Err("Go build information names no Go version");
    }
    // The module information is framed by two 16-byte sentinels when present.
    let modinfo = if modinfo.len() >= 33 && modinfo[modinfo.len() - 17] == b'\n' {
        &modinfo[16..modinfo.len() - 16]
    } else {
        modinfo
    };
    let modinfo = String::from_utf8_lossy(modinfo);
    let mut info = GoBuildInfo {
        go_version,
        main: None,
        deps: Vec::new(),
    };
    for line in modinfo.lines() {
        let fields: Vec<&str> = line.split('\t').collect();
        match fields.as_slice() {
            ["mod", path, version, ..] => info.main = Some(((*path).into(), (*version).into())),
            ["dep", path, version, ..] => info.deps.push(((*path).into(), (*version).into())),
            ["=>", path, version, ..] => {
                if let Some(last) = info.deps.last_mut() {
                    *last = ((*path).into(), (*version).into());
                }
            }
            _ => {}
        }
    }
    Ok(info)
}

/// A uvarint length, then that many bytes.
fn read_string<'b>(rest: &mut &'b [u8]) -> Option<&'b [u8]> {
    let mut len: u64 = 0;
    let mut shift = 0;
    let mut used = 0;
    loop {
        let byte = *rest.get(used)?;
        used += 1;
        len |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            break;
        }
        shift += 7;
        if shift > 63 {
            return None;
        }
    }
    let len = usize::try_from(len).ok()?;
    let end = used.checked_add(len)?;
    let text = rest.get(used..end)?;
    *rest = &rest[end..];
    Some(text)
}

impl GoBuildInfo {
    /// The main module, its dependencies, and the toolchain as `stdlib` (version `v1.21.3` for `go1.21.3`, in
    /// the modules' own `v` spelling).
    fn packages(&self, origin: &Origin<'_>, max: usize) -> (Vec<Package>, bool) {
        let stdlib = format!(
            "v{}",
            self.go_version
                .strip_prefix("go")
                .unwrap_or(&self.go_version)
        );
        let pairs = std::iter::once(("stdlib", stdlib.as_str()))
            .chain(self.main.iter().map(|(p, v)| (p.as_str(), v.as_str())))
            .chain(self.deps.iter().map(|(p, v)| (p.as_str(), v.as_str())));
        origin.packages(PackageKind::Go, pairs, max)
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    fn uvarint(mut n: usize, out: &mut Vec<u8>) {
        while n >= 0x80 {
            out.push((n as u8) | 0x80);
            n >>= 7;
        }
        out.push(n as u8);
    }

    /// A `.go.buildinfo` block as the Go ≥ 1.18 linker writes it (cmd/link `buildinfo`, debug/buildinfo):
    /// magic, pointer size 8, flags 2 (inline strings), 16 bytes of unused pointers, then the version and the
    /// sentinel-framed module information as varint-prefixed strings.
    pub(in crate::scan::inventory) fn go_block(version: &str, modinfo: &str) -> Vec<u8> {
        let mut block = GO_MAGIC.to_vec();
        block.extend([8, GO_INLINE_STRINGS]);
        block.extend([0u8; 16]);
        uvarint(version.len(), &mut block);
        block.extend(version.as_bytes());
        let start = b"0w\xaf\x0c\x92t\x08\x02A\xe1\xc1\x07\xe6\xd6\x18\xe6";
        let end = b"\xf92C1\x86\x18 r\x00\x82B\x10A\x16\xd8\xf2";
        let mut framed = start.to_vec();
        framed.extend(modinfo.as_bytes());
        framed.extend(end);
        uvarint(framed.len(), &mut block);
        block.extend(framed);
        block
    }

    /// A module-information text as `go version -m` shows it (the shape of runtime/debug.BuildInfo.String).
    pub(in crate::scan::inventory) const MODINFO: &str = "path\tgithub.com/example/app\n\
        mod\tgithub.com/example/app\t(devel)\t\n\
        dep\tgithub.com/gogo/protobuf\tv1.3.1\th1:DqDEcV5aeaTmdFBePNpYsp3FlcVH/2ISVVM9Qf8PSls=\n\
        dep\tgithub.com/ipfs/go-bitfield\tv1.0.0\th1:y/XHm2GEmD9wKngheWNNCNL0pzrWXZwCdQGv1ikXknQ=\n\
        dep\tgolang.org/x/image\tv0.4.0\n\
        =>\tgolang.org/x/image\tv0.5.0\th1:x\n\
        build\t-compiler=gc\nbuild\tGOOS=linux\n";

    #[test]
    fn reads_the_toolchain_the_main_module_and_replaced_dependencies() {
        let info = go_buildinfo(&go_block("go1.20.1 X:boringcrypto", MODINFO));
        let info = info.as_ref().map_err(|e| *e);
        assert_eq!(info.map(|i| i.go_version.as_str()), Ok("go1.20.1"));
        assert_eq!(
            info.ok().and_then(|i| i.main.clone()),
            Some(("github.com/example/app".into(), "(devel)".into()))
        );
        let deps = info.map(|i| i.deps.clone()).unwrap_or_default();
        assert_eq!(
            deps,
            [
                ("github.com/gogo/protobuf".into(), "v1.3.1".into()),
                ("github.com/ipfs/go-bitfield".into(), "v1.0.0".into()),
                ("golang.org/x/image".into(), "v0.5.0".into()),
            ]
        );
    }

    #[test]
    fn refuses_old_cut_and_oversized_blocks() {
        let mut old = go_block("go1.17", MODINFO);
        old[15] = 0;
        assert!(go_buildinfo(&old).is_err());
        let block = go_block("go1.20", MODINFO);
        assert!(go_buildinfo(&block[..block.len() - 5]).is_err());
        let mut huge = GO_MAGIC.to_vec();
        huge.extend([8, 2]);
        huge.extend([0u8; 16]);
        huge.extend([0xff; 12]);
        assert!(go_buildinfo(&huge).is_err());
    }

    #[test]
    fn finds_the_block_in_a_streamed_executable_at_an_aligned_offset() {
        let mut binary = ELF_MAGIC.to_vec();
        binary.resize(CHUNK * 2 + 48, 0);
        binary.extend(go_block("go1.21.3", MODINFO));
        binary.resize(binary.len() + 1000, 0);
        let origin = Origin {
            path: "usr/local/bin/app",
            layer: "sha256:l1",
        };
        let found = analyze(
            &mut binary.as_slice(),
            binary.len() as u64,
            &origin,
            &Limits::default(),
            100,
        );
        let packages = found.map(|f| f.packages).unwrap_or_default();
        let names: Vec<(&str, &str)> = packages
            .iter()
            .map(|p| (p.name.as_str(), p.version.as_str()))
            .collect();
        assert_eq!(
            names,
            [
                ("stdlib", "v1.21.3"),
                ("github.com/example/app", "(devel)"),
                ("github.com/gogo/protobuf", "v1.3.1"),
                ("github.com/ipfs/go-bitfield", "v1.0.0"),
                ("golang.org/x/image", "v0.5.0"),
            ]
        );
        // Not an ELF file: nothing is looked for.
        let mut script = binary.clone();
        script[0] = b'#';
        let found = analyze(
            &mut script.as_slice(),
            script.len() as u64,
            &origin,
            &Limits::default(),
            100,
        );
        assert!(found.map(|f| f.packages.is_empty()).unwrap_or(false));
    }
}
