//! Tar entry paths: normalisation (relative to the image root, `..` refused), whiteouts, and which analyzer, if
//! any, reads the file at a path.

/// What a layer entry's name says once normalised.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum EntryName {
    /// A file or directory at this path.
    Path(String),
    /// `<dir>/.wh.<name>`: deletes `<dir>/<name>` from the lower layers.
    Whiteout(String),
    /// `<dir>/.wh..wh..opq`: `<dir>` hides the lower layers' content.
    Opaque(String),
    /// The image root itself, or an aufs bookkeeping entry (`.wh..wh.plnk`): nothing to record.
    Ignored,
}

/// Why an entry's name was refused.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum BadName {
    NotUtf8,
    TooLong,
    ParentDir,
}

const WHITEOUT_PREFIX: &str = ".wh.";
const OPAQUE: &str = ".wh..wh..opq";

/// Normalises a tar entry name: `./`, leading `/`, empty and `.` components are dropped, `..` is refused.
pub(super) fn normalise(raw: &[u8], max_len: usize) -> Result<String, BadName> {
    if raw.len() > max_len {
        return Err(BadName::TooLong);
    }
    let text = std::str::from_utf8(raw).map_err(|_| BadName::NotUtf8)?;
    let mut out = String::with_capacity(text.len());
    for part in text.split('/') {
        match part {
            "" | "." => {}
            ".." => return Err(BadName::ParentDir),
            part => {
                if !out.is_empty() {
                    out.push('/');
                }
                out.push_str(part);
            }
        }
    }
    Ok(out)
}

/// Reads a normalised path as a whiteout, an opaque marker or a plain path.
pub(super) fn entry_name(path: String) -> EntryName {
    if path.is_empty() {
        return EntryName::Ignored;
    }
    let (dir, name) = match path.rsplit_once('/') {
        Some((dir, name)) => (dir, name),
        None => ("", path.as_str()),
    };
    if name == OPAQUE {
        return EntryName::Opaque(dir.to_owned());
    }
    if let Some(deleted) = name.strip_prefix(WHITEOUT_PREFIX) {
        if deleted.starts_with(WHITEOUT_PREFIX)
            || deleted.is_empty()
            || deleted == "."
            || deleted == ".."
        {
            return EntryName::Ignored;
        }
        return EntryName::Whiteout(join(dir, deleted));
    }
    EntryName::Path(path)
}

fn join(dir: &str, name: &str) -> String {
    if dir.is_empty() {
        name.to_owned()
    } else {
        format!("{dir}/{name}")
    }
}

/// The analyzer that reads the file at a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Interest {
    OsRelease,
    AlpineRelease,
    DebianVersion,
    RedhatRelease,
    DpkgStatus,
    DpkgStatusD,
    Apk,
    Rpmdb,
    /// `*.dist-info/METADATA`, `*.egg-info/PKG-INFO` or an `*.egg-info` file.
    Python,
    /// `node_modules/<name>/package.json` or `node_modules/@scope/<name>/package.json`.
    Npm,
    CargoLock,
}

/// OS identity files, most authoritative first: the first one present in the merged image names the OS.
pub(super) const OS_FILES: [&str; 5] = [
    "etc/os-release",
    "usr/lib/os-release",
    "etc/alpine-release",
    "etc/debian_version",
    "etc/redhat-release",
];

/// Which analyzer reads `path`, if any (executables are recognised by their content, not here).
pub(super) fn interest(path: &str) -> Option<Interest> {
    match path {
        "etc/os-release" | "usr/lib/os-release" => return Some(Interest::OsRelease),
        "etc/alpine-release" => return Some(Interest::AlpineRelease),
        "etc/debian_version" => return Some(Interest::DebianVersion),
        "etc/redhat-release" => return Some(Interest::RedhatRelease),
        "var/lib/dpkg/status" => return Some(Interest::DpkgStatus),
        "lib/apk/db/installed" => return Some(Interest::Apk),
        "var/lib/rpm/rpmdb.sqlite" | "usr/lib/sysimage/rpm/rpmdb.sqlite" => {
            return Some(Interest::Rpmdb);
        }
        _ => {}
    }
    if let Some(name) = path.strip_prefix("var/lib/dpkg/status.d/") {
        return (!name.contains('/') && !name.ends_with(".md5sums") && !name.starts_with('.'))
            .then_some(Interest::DpkgStatusD);
    }
    let parts: Vec<&str> = path.split('/').collect();
    let file = parts.last().copied().unwrap_or_default();
    if file == "Cargo.lock" {
        // Sources unpacked by cargo are not installed software.
        return (!path.contains(".cargo/registry/") && !path.contains(".cargo/git/"))
            .then_some(Interest::CargoLock);
    }
    if file == "package.json" && is_npm_package(&parts) {
        return Some(Interest::Npm);
    }
    if is_python_metadata(&parts) {
        return Some(Interest::Python);
    }
    None
}

/// `…/node_modules/<name>/package.json` or `…/node_modules/@scope/<name>/package.json`, for the last
/// `node_modules` of the path (nested `node_modules` hold packages of their own).
fn is_npm_package(parts: &[&str]) -> bool {
    let Some(at) = parts.iter().rposition(|p| *p == "node_modules") else {
        return false;
    };
    let valid = |name: &str| !name.starts_with('.') && !name.starts_with('@');
    match &parts[at + 1..] {
        [name, "package.json"] => valid(name),
        [scope, name, "package.json"] => scope.len() > 1 && scope.starts_with('@') && valid(name),
        _ => false,
    }
}

/// `…/site-packages/<dist>.dist-info/METADATA`, `…/site-packages/<dist>.egg-info/PKG-INFO` or
/// `…/site-packages/<dist>.egg-info` (a file), and the same under `dist-packages`.
fn is_python_metadata(parts: &[&str]) -> bool {
    let Some(at) = parts
        .iter()
        .rposition(|p| *p == "site-packages" || *p == "dist-packages")
    else {
        return false;
    };
    match &parts[at + 1..] {
        [dir, "METADATA"] => dir.ends_with(".dist-info"),
        [dir, "PKG-INFO"] => dir.ends_with(".egg-info"),
        [file] => file.ends_with(".egg-info"),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_and_refuses_parent_components() {
        assert_eq!(
            normalise(b"./etc/os-release", 100),
            Ok("etc/os-release".into())
        );
        assert_eq!(
            normalise(b"/etc//./os-release", 100),
            Ok("etc/os-release".into())
        );
        assert_eq!(normalise(b"./", 100), Ok(String::new()));
        assert_eq!(normalise(b"etc/../../x", 100), Err(BadName::ParentDir));
        assert_eq!(normalise(b"\xff/x", 100), Err(BadName::NotUtf8));
        assert_eq!(normalise(b"abcdef", 5), Err(BadName::TooLong));
    }

    #[test]
    fn reads_whiteouts_and_opaque_markers() {
        assert_eq!(
            entry_name("var/lib/dpkg/.wh.status".into()),
            EntryName::Whiteout("var/lib/dpkg/status".into())
        );
        assert_eq!(
            entry_name(".wh.etc".into()),
            EntryName::Whiteout("etc".into())
        );
        assert_eq!(
            entry_name("usr/lib/node_modules/.wh..wh..opq".into()),
            EntryName::Opaque("usr/lib/node_modules".into())
        );
        assert_eq!(entry_name(".wh..wh.plnk".into()), EntryName::Ignored);
        assert_eq!(
            entry_name("etc/hosts".into()),
            EntryName::Path("etc/hosts".into())
        );
    }

    #[test]
    fn picks_the_files_each_analyzer_reads() {
        use Interest::*;
        let cases = [
            ("etc/os-release", Some(OsRelease)),
            ("var/lib/dpkg/status", Some(DpkgStatus)),
            ("var/lib/dpkg/status.d/base", Some(DpkgStatusD)),
            ("var/lib/dpkg/status.d/base.md5sums", None),
            ("lib/apk/db/installed", Some(Apk)),
            ("usr/lib/sysimage/rpm/rpmdb.sqlite", Some(Rpmdb)),
            ("app/node_modules/express/package.json", Some(Npm)),
            ("app/node_modules/@babel/core/package.json", Some(Npm)),
            ("app/node_modules/a/node_modules/b/package.json", Some(Npm)),
            ("app/node_modules/express/lib/package.json", None),
            ("app/package.json", None),
            (
                "usr/lib/python3.11/site-packages/requests-2.31.0.dist-info/METADATA",
                Some(Python),
            ),
            (
                "usr/lib/python3/dist-packages/six-1.16.0.egg-info",
                Some(Python),
            ),
            (
                "usr/lib/python3/dist-packages/x.egg-info/PKG-INFO",
                Some(Python),
            ),
            ("usr/lib/python3/dist-packages/x.dist-info/RECORD", None),
            ("src/app/Cargo.lock", Some(CargoLock)),
            ("root/.cargo/registry/src/x/serde-1.0.0/Cargo.lock", None),
            ("etc/passwd", None),
        ];
        for (path, want) in cases {
            assert_eq!(interest(path), want, "{path}");
        }
    }
}
