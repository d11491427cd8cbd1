//! A private OpenLDAP `slapd` for the LDAP tests: configured from a temporary directory, listening on a free
//! loopback port, loaded with a small directory, and stopped (by the PID in its pidfile) on drop.
//!
//! The directory (`dc=example,dc=org`), loaded with `ldapadd` so the `memberof` overlay fills `memberOf`:
//! - `ou=people`: `alice` (displayName, mail), `bob` (no displayName), `carol` (in `team-b`), `dave` (in
//!   `admins`), `many` (in 60 groups `g01`..`g60`), and `twin`, who has a namesake in `ou=contractors`.
//! - `ou=groups` (`groupOfNames` with `member`): `developers` (alice, bob), `admins` (dave), `g01`..`g60`, and
//!   the nested cycle `team-a` ∋ `team-b` ∋ `team-c` ∋ `team-a` with carol directly in `team-b` only.
//! - Each user's password is `<uid>-pw`; the root DN `cn=admin,dc=example,dc=org` has `adminpass`.

#![allow(dead_code, reason = "not every test uses every fixture method")]

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use berth::auth::ldap::{LdapScope, LdapSettings};
use berth::secret::Secret;
use tempfile::TempDir;

use crate::images::{run, run_ok, stdout};
use crate::support::free_port;

pub const SUFFIX: &str = "dc=example,dc=org";
pub const ADMIN_DN: &str = "cn=admin,dc=example,dc=org";
pub const ADMIN_PASSWORD: &str = "adminpass";
pub const PEOPLE: &str = "ou=people,dc=example,dc=org";
pub const GROUPS: &str = "ou=groups,dc=example,dc=org";
pub const ADMINS_GROUP: &str = "cn=admins,ou=groups,dc=example,dc=org";
/// The users' uids (`twin` has two entries).
pub const USERS: [&str; 6] = ["alice", "bob", "carol", "dave", "many", "twin"];

const SLAPD: &str = "/usr/sbin/slapd";
const SLAPPASSWD: &str = "/usr/sbin/slappasswd";
const LDAPADD: &str = "/usr/bin/ldapadd";

/// The password of test user `uid`.
pub fn password(uid: &str) -> String {
    format!("{uid}-pw")
}

pub fn user_dn(uid: &str) -> String {
    format!("uid={uid},{PEOPLE}")
}

pub fn group_dn(cn: &str) -> String {
    format!("cn={cn},{GROUPS}")
}

/// A running slapd.
pub struct Slapd {
    pub port: u16,
    /// The `ldaps://` port, when started with TLS.
    pub tls_port: Option<u16>,
    dir: TempDir,
    pid: Option<u32>,
}

impl Slapd {
    /// Configures, starts and loads a slapd; returns once the data is in.
    pub fn start() -> Slapd {
        Slapd::start_with(false)
    }

    /// Like [`Slapd::start`], plus TLS: a self-signed certificate for `127.0.0.1` (no CA trusts it), an
    /// `ldaps://` listener on [`Slapd::tls_port`], and StartTLS on the plain port.
    pub fn start_with_tls() -> Slapd {
        Slapd::start_with(true)
    }

    fn start_with(tls: bool) -> Slapd {
        for tool in [SLAPD, SLAPPASSWD, LDAPADD] {
            assert!(
                Path::new(tool).is_file(),
                "{tool} is missing: `apt-get install slapd ldap-utils` (scripts/test.sh does); the LDAP tests need it"
            );
        }
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
        std::fs::create_dir(dir.path().join("data")).unwrap_or_else(|e| panic!("data dir: {e}"));
        let [root_hash] = hashes([ADMIN_PASSWORD]);
        let mut config = config(dir.path(), &root_hash);
        if tls {
            run_ok(Command::new("openssl").current_dir(dir.path()).args([
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:prime256v1",
                "-nodes",
                "-subj",
                "/CN=127.0.0.1",
                "-addext",
                "subjectAltName=IP:127.0.0.1",
                "-days",
                "2",
                "-keyout",
                "key.pem",
                "-out",
                "cert.pem",
            ]));
            // TLS settings are global: they go before the `database` line.
            let global = format!(
                "TLSCertificateFile {0}/cert.pem\nTLSCertificateKeyFile {0}/key.pem\n",
                dir.path().display()
            );
            config = config.replacen("database mdb", &format!("{global}database mdb"), 1);
        }
        std::fs::write(dir.path().join("slapd.conf"), config)
            .unwrap_or_else(|e| panic!("slapd.conf: {e}"));
        let passwords = USERS.map(password);
        let user_hashes = hashes(passwords.each_ref().map(String::as_str));
        std::fs::write(dir.path().join("data.ldif"), directory(&user_hashes))
            .unwrap_or_else(|e| panic!("data.ldif: {e}"));
        let mut slapd = Slapd {
            port: free_port(),
            tls_port: tls.then(free_port),
            dir,
            pid: None,
        };
        slapd.start_again();
        run_ok(Command::new(LDAPADD).args([
            "-x",
            "-H",
            &slapd.url(),
            "-D",
            ADMIN_DN,
            "-w",
            ADMIN_PASSWORD,
            "-f",
            &slapd.path("data.ldif").display().to_string(),
        ]));
        slapd
    }

    /// (Re)starts slapd on the same port and data; returns once it accepts connections.
    pub fn start_again(&mut self) {
        assert!(self.pid.is_none(), "slapd is already running");
        let pidfile = self.path("slapd.pid");
        let _ = std::fs::remove_file(&pidfile);
        // slapd forks into the background once it listens; the parent's exit status says whether it could start.
        let mut listeners = format!("{}/", self.url());
        if let Some(tls_port) = self.tls_port {
            listeners.push_str(&format!(" ldaps://127.0.0.1:{tls_port}/"));
        }
        run_ok(Command::new(SLAPD).args([
            "-f",
            &self.path("slapd.conf").display().to_string(),
            "-h",
            &listeners,
        ]));
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let pid = std::fs::read_to_string(&pidfile)
                .ok()
                .and_then(|s| s.trim().parse::<u32>().ok());
            if let Some(pid) = pid
                && std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok()
            {
                self.pid = Some(pid);
                return;
            }
            assert!(
                Instant::now() < deadline,
                "slapd did not come up on port {}",
                self.port
            );
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Stops slapd (its data stays); the port stops answering. SIGKILL, because slapd takes about 1.5 s to shut
    /// down on SIGTERM; its mdb database is crash-safe, so `start_again` finds every entry.
    pub fn stop(&mut self) {
        let Some(pid) = self.pid.take() else {
            return;
        };
        // slapd daemonizes, so it is not our child and its pid is free for reuse once it is gone: signal it
        // only while that pid is still a slapd, never whatever process has the number now.
        if !is_slapd(pid) {
            return;
        }
        let _ = run(Command::new("kill").args(["-KILL", &pid.to_string()]));
        let deadline = Instant::now() + Duration::from_secs(5);
        while running(pid) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(2));
        }
    }

    /// `ldap://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("ldap://127.0.0.1:{}", self.port)
    }

    /// `ldaps://127.0.0.1:TLS_PORT`.
    pub fn ldaps_url(&self) -> String {
        let port = self
            .tls_port
            .unwrap_or_else(|| panic!("slapd was started without TLS"));
        format!("ldaps://127.0.0.1:{port}")
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Settings for this server: the root DN as service account; `inetOrgPerson` users searched in the whole
    /// suffix (so `twin` is ambiguous); `groupOfNames` groups under `ou=groups`, read from `memberOf`.
    pub fn settings(&self) -> LdapSettings {
        LdapSettings {
            url: self.url(),
            search_dn: ADMIN_DN.to_owned(),
            search_password: Secret::new(ADMIN_PASSWORD).into(),
            base_dn: SUFFIX.to_owned(),
            uid: "uid".to_owned(),
            filter: "(objectClass=inetOrgPerson)".to_owned(),
            scope: LdapScope::Subtree,
            timeout: 2,
            group_base_dn: GROUPS.to_owned(),
            group_search_filter: "(objectClass=groupOfNames)".to_owned(),
            ..LdapSettings::default()
        }
    }
}

impl Drop for Slapd {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Whether process `pid` is alive (a zombie waiting to be reaped is not).
/// Whether process `pid` is a slapd (`/proc/PID/comm`).
fn is_slapd(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/comm")).is_ok_and(|comm| comm.trim() == "slapd")
}

fn running(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|stat| {
            // `pid (comm) S ...`: the state follows the last `)`.
            let state = stat.rsplit_once(')')?.1.trim_start().chars().next()?;
            Some(state != 'Z' && state != 'X')
        })
        .unwrap_or(false)
}

/// `{SSHA}` hashes of `passwords`, from `slappasswd` (run at once: each run is a process start).
fn hashes<const N: usize>(passwords: [&str; N]) -> [String; N] {
    let children = passwords.map(|password| {
        Command::new(SLAPPASSWD)
            .args(["-s", password])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("slappasswd: {e}"))
    });
    children.map(|child| {
        let output = child
            .wait_with_output()
            .unwrap_or_else(|e| panic!("slappasswd: {e}"));
        assert!(output.status.success(), "slappasswd: {output:?}");
        stdout(&output)
    })
}

/// MACHINE.md's recipe: mdb, the memberof overlay (with refint), passwords readable only for binding; plus
/// `dbnosync` (throwaway data: no fsync per write makes loading the directory about ten times faster).
fn config(dir: &Path, root_hash: &str) -> String {
    let dir = dir.display();
    format!(
        "include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
include /etc/ldap/schema/nis.schema
pidfile {dir}/slapd.pid
modulepath /usr/lib/ldap
moduleload back_mdb
moduleload memberof
database mdb
maxsize 104857600
dbnosync
suffix \"{SUFFIX}\"
rootdn \"{ADMIN_DN}\"
rootpw {root_hash}
directory {dir}/data
index objectClass eq
index uid,cn,mail eq,sub
index member,memberUid eq
overlay memberof
memberof-group-oc groupOfNames
memberof-member-ad member
memberof-refint TRUE
access to attrs=userPassword by self write by anonymous auth by * none
access to * by * read
"
    )
}

/// The LDIF described in the module comment; `hashes` are the password hashes of [`USERS`], in order.
fn directory(hashes: &[String; 6]) -> String {
    let mut ldif = format!(
        "dn: {SUFFIX}\nobjectClass: dcObject\nobjectClass: organization\no: Example\ndc: example\n\n\
         dn: {PEOPLE}\nobjectClass: organizationalUnit\nou: people\n\n\
         dn: ou=contractors,{SUFFIX}\nobjectClass: organizationalUnit\nou: contractors\n\n\
         dn: {GROUPS}\nobjectClass: organizationalUnit\nou: groups\n\n"
    );
    let person = |ldif: &mut String, dn: &str, uid: &str, cn: &str, display: Option<&str>| {
        let index = USERS
            .iter()
            .position(|u| *u == uid)
            .unwrap_or_else(|| panic!("no password hash for {uid}"));
        let _ = write!(
            ldif,
            "dn: {dn}\nobjectClass: inetOrgPerson\nuid: {uid}\ncn: {cn}\nsn: {uid}\nmail: {uid}@example.org\nuserPassword: {}\n",
            hashes[index]
        );
        if let Some(display) = display {
            let _ = writeln!(ldif, "displayName: {display}");
        }
        ldif.push('\n');
    };
    person(
        &mut ldif,
        &user_dn("alice"),
        "alice",
        "Alice A",
        Some("Alice Anders"),
    );
    person(&mut ldif, &user_dn("bob"), "bob", "Bob Builder", None);
    person(
        &mut ldif,
        &user_dn("carol"),
        "carol",
        "Carol C",
        Some("Carol Chen"),
    );
    person(
        &mut ldif,
        &user_dn("dave"),
        "dave",
        "Dave D",
        Some("Dave Davis"),
    );
    person(
        &mut ldif,
        &user_dn("many"),
        "many",
        "Many Groups",
        Some("Many Groups"),
    );
    person(&mut ldif, &user_dn("twin"), "twin", "Twin One", None);
    person(
        &mut ldif,
        &format!("uid=twin,ou=contractors,{SUFFIX}"),
        "twin",
        "Twin Two",
        None,
    );

    let group = |ldif: &mut String, cn: &str, members: &[String]| {
        let _ = writeln!(
            ldif,
            "dn: {}\nobjectClass: groupOfNames\ncn: {cn}",
            group_dn(cn)
        );
        for member in members {
            let _ = writeln!(ldif, "member: {member}");
        }
        ldif.push('\n');
    };
    group(&mut ldif, "developers", &[user_dn("alice"), user_dn("bob")]);
    group(&mut ldif, "admins", &[user_dn("dave")]);
    for n in 1..=60 {
        group(&mut ldif, &format!("g{n:02}"), &[user_dn("many")]);
    }
    // The nested cycle: carol ∈ team-b ∈ team-a ∈ team-c ∈ team-b.
    group(&mut ldif, "team-b", &[user_dn("carol")]);
    group(&mut ldif, "team-a", &[group_dn("team-b")]);
    group(&mut ldif, "team-c", &[group_dn("team-a")]);
    let _ = write!(
        ldif,
        "dn: {}\nchangetype: modify\nadd: member\nmember: {}\n\n",
        group_dn("team-b"),
        group_dn("team-c")
    );
    ldif
}

/// `settings` as the body of `PUT /configurations` (the LDAP keys only; the auth mode is left alone).
pub fn ldap_configuration(settings: &LdapSettings) -> serde_json::Value {
    serde_json::json!({
        "ldap_url": settings.url,
        "ldap_search_dn": settings.search_dn,
        "ldap_search_password": ADMIN_PASSWORD,
        "ldap_base_dn": settings.base_dn,
        "ldap_filter": settings.filter,
        "ldap_uid": settings.uid,
        "ldap_scope": settings.scope.harbor_number(),
        "ldap_timeout": settings.timeout,
        "ldap_group_base_dn": settings.group_base_dn,
        "ldap_group_search_filter": settings.group_search_filter,
        "ldap_group_attribute_name": settings.group_attribute_name,
        "ldap_group_admin_dn": settings.group_admin_dn,
        "ldap_group_membership_attribute": settings.group_membership_attribute,
        "ldap_group_search_scope": settings.group_search_scope.harbor_number(),
        "ldap_nested_groups": settings.nested_groups,
    })
}
