//! OS identity: `os-release` (freedesktop format), and the older one-line files used when it is missing
//! (`etc/alpine-release`, `etc/debian_version`, `etc/redhat-release`).

use crate::scan::model::OsIdentity;

use super::paths::Interest;

/// Parses an OS identity file of the given kind; `None` when it names no OS.
pub(super) fn parse(kind: Interest, text: &str) -> Option<OsIdentity> {
    match kind {
        Interest::OsRelease => os_release(text),
        Interest::AlpineRelease => alpine_release(text),
        Interest::DebianVersion => debian_version(text),
        Interest::RedhatRelease => redhat_release(text),
        _ => None,
    }
}

/// `KEY=value` lines, values optionally quoted (freedesktop `os-release(5)`); `ID` is required.
fn os_release(text: &str) -> Option<OsIdentity> {
    let mut os = OsIdentity::default();
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('#') {
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        let value = unquote(value.trim());
        match key.trim() {
            "ID" => os.id = value.to_ascii_lowercase(),
            "VERSION_ID" => os.version_id = value,
            "VERSION_CODENAME" if !value.is_empty() => os.codename = Some(value),
            "PRETTY_NAME" if !value.is_empty() => os.pretty_name = Some(value),
            _ => {}
        }
    }
    (!os.id.is_empty()).then_some(os)
}

/// Strips one level of matching quotes and undoes `\"`, `\\`, `` \` `` and `\$` escapes.
fn unquote(value: &str) -> String {
    let inner = ['"', '\'']
        .iter()
        .find_map(|q| value.strip_prefix(*q).and_then(|v| v.strip_suffix(*q)))
        .unwrap_or(value);
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(next) = chars.next() {
                out.push(next);
            }
        } else {
            out.push(c);
        }
    }
    out
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or_default().trim()
}

fn alpine_release(text: &str) -> Option<OsIdentity> {
    let version = first_line(text);
    (!version.is_empty()).then(|| OsIdentity {
        id: "alpine".to_owned(),
        version_id: version.to_owned(),
        codename: None,
        pretty_name: None,
    })
}

/// `12.11` (a release: os-release's `VERSION_ID` for Debian is the major, `12`) or `bookworm/sid` (testing).
fn debian_version(text: &str) -> Option<OsIdentity> {
    let line = first_line(text);
    if line.is_empty() {
        return None;
    }
    let (version_id, codename) = if line.starts_with(|c: char| c.is_ascii_digit()) {
        let major = line.split('.').next().unwrap_or(line);
        (major.to_owned(), None)
    } else {
        let codename = line.split('/').next().unwrap_or(line);
        (String::new(), Some(codename.to_owned()))
    };
    Some(OsIdentity {
        id: "debian".to_owned(),
        version_id,
        codename,
        pretty_name: Some(format!("Debian GNU/Linux {line}")),
    })
}

/// `Red Hat Enterprise Linux release 8.4 (Ootpa)`, `CentOS Linux release 7.9.2009 (Core)`,
/// `Rocky Linux release 9.2 (Blue Onyx)`, `AlmaLinux release 9.3 (…)`, `Fedora release 39 (Thirty Nine)`.
fn redhat_release(text: &str) -> Option<OsIdentity> {
    let line = first_line(text);
    let (name, rest) = line.split_once(" release ")?;
    let version = rest.split_whitespace().next()?.to_owned();
    let lower = name.to_ascii_lowercase();
    let id = [
        ("red hat", "rhel"),
        ("centos", "centos"),
        ("rocky", "rocky"),
        ("alma", "almalinux"),
        ("fedora", "fedora"),
        ("oracle", "ol"),
        ("amazon", "amzn"),
    ]
    .iter()
    .find(|(needle, _)| lower.contains(needle))
    .map(|(_, id)| (*id).to_owned())?;
    let codename = rest
        .split_once('(')
        .and_then(|(_, c)| c.split_once(')'))
        .map(|(c, _)| c.to_owned());
    Some(OsIdentity {
        id,
        version_id: version,
        codename,
        pretty_name: Some(line.to_owned()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::scan::inventory::test_data as data;

    #[test]
    fn reads_debian_os_release() {
        let os = parse(
            Interest::OsRelease,
            &data("debian12-derived-12.0/etc/os-release"),
        );
        assert_eq!(
            os,
            Some(OsIdentity {
                id: "debian".into(),
                version_id: "12".into(),
                codename: Some("bookworm".into()),
                pretty_name: Some("Debian GNU/Linux 12 (bookworm)".into()),
            })
        );
    }

    #[test]
    fn reads_alpine_os_release_and_alpine_release() {
        let os = parse(
            Interest::OsRelease,
            &data("alpine3.18-minirootfs-3.18.9/etc/os-release"),
        );
        assert_eq!(
            os.as_ref().map(|o| (o.id.as_str(), o.version_id.as_str())),
            Some(("alpine", "3.18.9"))
        );
        assert_eq!(
            os.and_then(|o| o.pretty_name).as_deref(),
            Some("Alpine Linux v3.18")
        );
        let os = parse(
            Interest::AlpineRelease,
            &data("alpine3.18-minirootfs-3.18.9/etc/alpine-release"),
        );
        assert_eq!(os.map(|o| o.version_id).as_deref(), Some("3.18.9"));
    }

    #[test]
    fn reads_debian_version_as_the_major_release() {
        let os = parse(
            Interest::DebianVersion,
            &data("debian12-host/etc/debian_version"),
        );
        assert_eq!(
            os.as_ref().map(|o| (o.id.as_str(), o.version_id.as_str())),
            Some(("debian", "12"))
        );
        let sid = parse(Interest::DebianVersion, "trixie/sid\n");
        assert_eq!(sid.and_then(|o| o.codename).as_deref(), Some("trixie"));
    }

    #[test]
    fn reads_redhat_release_lines() {
        let os = parse(
            Interest::RedhatRelease,
            "Rocky Linux release 9.2 (Blue Onyx)\n",
        );
        assert_eq!(
            os.as_ref()
                .map(|o| (o.id.as_str(), o.version_id.as_str(), o.codename.as_deref())),
            Some(("rocky", "9.2", Some("Blue Onyx")))
        );
        assert_eq!(
            parse(
                Interest::RedhatRelease,
                "Red Hat Enterprise Linux release 8.4 (Ootpa)"
            )
            .map(|o| o.id),
            Some("rhel".into())
        );
        assert_eq!(parse(Interest::RedhatRelease, "garbage"), None);
    }

    #[test]
    fn os_release_without_id_names_no_os_and_quotes_are_undone() {
        assert_eq!(parse(Interest::OsRelease, "NAME=x\n"), None);
        let os = parse(
            Interest::OsRelease,
            "ID='ubuntu'\nVERSION_ID=\"22.04\"\nPRETTY_NAME=\"a \\\"b\\\"\"",
        );
        assert_eq!(
            os.map(|o| (o.id, o.version_id, o.pretty_name)),
            Some(("ubuntu".into(), "22.04".into(), Some("a \"b\"".into())))
        );
    }
}
