//! rpm: `rpmdb.sqlite` (RHEL 9, Fedora, recent SUSE), read with Berth's own SQLite driver from the temporary copy
//! the layer pass made, opened read-only and immutable. Table `Packages(hnum, blob)`; each blob is an rpm header
//! (rpm `lib/header.c`: big-endian index count and data length, 16-byte index entries `tag, type, offset, count`,
//! then the data store), parsed here with every offset checked. The `rpmdb` crate is not used: it links a second
//! libsqlite3 (design §2). BDB `Packages` (RHEL ≤ 8, Amazon Linux 2) and NDB (SUSE) are not read yet.
//!
//! The SQL here reads an image's file, not Berth's database, so it lives with the parser rather than in `db/`.

use std::path::Path;

use futures_util::TryStreamExt as _;
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions as _, Connection as _};

use crate::scan::model::{Package, PackageKind};

use super::Origin;

const TAG_NAME: u32 = 1000;
const TAG_VERSION: u32 = 1001;
const TAG_RELEASE: u32 = 1002;
const TAG_EPOCH: u32 = 1003;
const TAG_LICENSE: u32 = 1014;
const TAG_ARCH: u32 = 1022;
const TAG_SOURCERPM: u32 = 1044;

const TYPE_INT32: u32 = 4;
const TYPE_STRING: u32 = 6;
const TYPE_I18NSTRING: u32 = 9;

/// rpm's own bounds on a header (`HEADER_TAGS_MAX`, `HEADER_DATA_MAX`).
const MAX_TAGS: u32 = 0xffff;
const MAX_DATA: u32 = 256 * 1024 * 1024;

/// The packages of the rpm database copied to `file`, at most `max` (and whether more were listed). The error
/// says why the database could not be read.
pub(super) async fn read_rpmdb(
    file: &Path,
    origin: &Origin<'_>,
    max: usize,
) -> Result<(Vec<Package>, bool), String> {
    let mut conn = SqliteConnectOptions::new()
        .filename(file)
        .read_only(true)
        .immutable(true)
        .connect()
        .await
        .map_err(|e| format!("not an SQLite database: {e}"))?;
    let mut packages = Vec::new();
    let mut truncated = false;
    let mut bad = 0u64;
    {
        let mut rows = sqlx::query_scalar::<_, Vec<u8>>("SELECT blob FROM Packages ORDER BY hnum")
            .fetch(&mut conn);
        while let Some(blob) = rows
            .try_next()
            .await
            .map_err(|e| format!("the Packages table is unreadable: {e}"))?
        {
            match parse_header(&blob) {
                Some(header) if header.name == "gpg-pubkey" => {}
                Some(header) => {
                    if packages.len() >= max {
                        truncated = true;
                        break;
                    }
                    packages.push(header.into_package(origin));
                }
                None => bad += 1,
            }
        }
    }
    let _ = conn.close().await;
    if bad > 0 && packages.is_empty() {
        return Err(format!("{bad} package headers unreadable"));
    }
    Ok((packages, truncated))
}

/// The fields of one rpm header that the inventory keeps.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct Header {
    pub name: String,
    pub version: String,
    pub release: String,
    pub epoch: Option<u32>,
    pub arch: Option<String>,
    pub license: Option<String>,
    pub source_rpm: Option<String>,
}

impl Header {
    fn into_package(self, origin: &Origin<'_>) -> Package {
        let evr = |epoch: Option<u32>, version: &str, release: &str| {
            let vr = if release.is_empty() {
                version.to_owned()
            } else {
                format!("{version}-{release}")
            };
            match epoch {
                Some(epoch) if epoch > 0 => format!("{epoch}:{vr}"),
                _ => vr,
            }
        };
        let version = evr(self.epoch, &self.version, &self.release);
        let mut package = origin.package(PackageKind::Rpm, &self.name, &version);
        if let Some((source, source_version)) =
            self.source_rpm.as_deref().and_then(split_source_rpm)
        {
            if source != self.name {
                package.source_name = Some(source.to_owned());
            }
            let source_version = evr(self.epoch, source_version.0, source_version.1);
            if source_version != version {
                package.source_version = Some(source_version);
            }
        }
        package.arch = self.arch;
        package.license = self.license;
        package
    }
}

/// `openssl-3.0.7-24.el9.src.rpm` → (`openssl`, (`3.0.7`, `24.el9`)).
fn split_source_rpm(file: &str) -> Option<(&str, (&str, &str))> {
    let stem = file
        .strip_suffix(".src.rpm")
        .or_else(|| file.strip_suffix(".nosrc.rpm"))?;
    let (rest, release) = stem.rsplit_once('-')?;
    let (name, version) = rest.rsplit_once('-')?;
    (!name.is_empty() && !version.is_empty() && !release.is_empty())
        .then_some((name, (version, release)))
}

fn be32(bytes: &[u8], at: usize) -> Option<u32> {
    let b = bytes.get(at..at.checked_add(4)?)?;
    Some(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
}

/// Parses a header blob; `None` when it is malformed or lacks a name or version.
pub(super) fn parse_header(blob: &[u8]) -> Option<Header> {
    let tags = be32(blob, 0)?;
    let data_len = be32(blob, 4)?;
    if tags == 0 || tags > MAX_TAGS || data_len > MAX_DATA {
        return None;
    }
    let index_at = 8usize;
    let data_at = index_at.checked_add(usize::try_from(tags).ok()?.checked_mul(16)?)?;
    let data = blob.get(data_at..data_at.checked_add(usize::try_from(data_len).ok()?)?)?;
    let mut header = Header::default();
    for i in 0..usize::try_from(tags).ok()? {
        let at = index_at + i * 16;
        let (tag, kind, offset, count) = (
            be32(blob, at)?,
            be32(blob, at + 4)?,
            be32(blob, at + 8)?,
            be32(blob, at + 12)?,
        );
        let offset = usize::try_from(offset).ok()?;
        let string = || -> Option<String> {
            if kind != TYPE_STRING && kind != TYPE_I18NSTRING {
                return None;
            }
            let rest = data.get(offset..)?;
            let end = rest.iter().position(|b| *b == 0)?;
            Some(String::from_utf8_lossy(&rest[..end]).into_owned())
        };
        match tag {
            TAG_NAME => header.name = string()?,
            TAG_VERSION => header.version = string()?,
            TAG_RELEASE => header.release = string()?,
            TAG_EPOCH if kind == TYPE_INT32 && count >= 1 => {
                header.epoch = Some(be32(data, offset)?)
            }
            TAG_ARCH => header.arch = string(),
            TAG_LICENSE => header.license = string(),
            TAG_SOURCERPM => header.source_rpm = string(),
            _ => {}
        }
    }
    (!header.name.is_empty() && !header.version.is_empty()).then_some(header)
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// An rpm header blob (the shape rpm stores in `Packages.blob`) with string tags and an optional epoch.
    pub(in crate::scan::inventory) fn header_blob(
        strings: &[(u32, &str)],
        epoch: Option<u32>,
    ) -> Vec<u8> {
        let mut index = Vec::new();
        let mut data = Vec::new();
        let mut entry = |tag: u32, kind: u32, offset: usize| {
            index.extend(tag.to_be_bytes());
            index.extend(kind.to_be_bytes());
            index.extend((offset as u32).to_be_bytes());
            index.extend(1u32.to_be_bytes());
        };
        if let Some(epoch) = epoch {
            entry(TAG_EPOCH, TYPE_INT32, 0);
            data.extend(epoch.to_be_bytes());
        }
        for (tag, text) in strings {
            entry(*tag, TYPE_STRING, data.len());
            data.extend(text.as_bytes());
            data.push(0);
        }
        let mut blob = ((index.len() / 16) as u32).to_be_bytes().to_vec();
        blob.extend((data.len() as u32).to_be_bytes());
        blob.extend(index);
        blob.extend(data);
        blob
    }

    pub(in crate::scan::inventory) fn openssl_libs() -> Vec<u8> {
        header_blob(
            &[
                (TAG_NAME, "openssl-libs"),
                (TAG_VERSION, "3.0.7"),
                (TAG_RELEASE, "24.el9"),
                (TAG_ARCH, "x86_64"),
                (TAG_LICENSE, "ASL 2.0"),
                (TAG_SOURCERPM, "openssl-3.0.7-24.el9.src.rpm"),
            ],
            Some(1),
        )
    }

    #[test]
    fn parses_a_header_blob() {
        let header = parse_header(&openssl_libs());
        assert_eq!(
            header,
            Some(Header {
                name: "openssl-libs".into(),
                version: "3.0.7".into(),
                release: "24.el9".into(),
                epoch: Some(1),
                arch: Some("x86_64".into()),
                license: Some("ASL 2.0".into()),
                source_rpm: Some("openssl-3.0.7-24.el9.src.rpm".into()),
            })
        );
        let origin = Origin {
            path: "var/lib/rpm/rpmdb.sqlite",
            layer: "sha256:l",
        };
        let package = header.map(|h| h.into_package(&origin));
        assert_eq!(
            package.as_ref().map(|p| p.version.as_str()),
            Some("1:3.0.7-24.el9")
        );
        assert_eq!(
            package.as_ref().and_then(|p| p.source_name.as_deref()),
            Some("openssl")
        );
        assert_eq!(package.and_then(|p| p.source_version), None);
    }

    #[test]
    fn refuses_malformed_headers() {
        let good = openssl_libs();
        assert_eq!(parse_header(&good[..good.len() - 3]), None);
        let mut huge = good.clone();
        huge[..4].copy_from_slice(&u32::MAX.to_be_bytes());
        assert_eq!(parse_header(&huge), None);
        let mut bad_offset = good.clone();
        bad_offset[8 + 16 + 8..8 + 16 + 12].copy_from_slice(&u32::MAX.to_be_bytes());
        assert_eq!(parse_header(&bad_offset), None);
        assert_eq!(parse_header(&[]), None);
        assert_eq!(split_source_rpm("x.rpm"), None);
    }
}
