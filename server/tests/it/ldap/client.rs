//! `berth::auth::ldap::LdapClient` against a real slapd: sign-in, groups (memberOf, member, nested), admin group,
//! refusals, filter injection, errors, the connection pool and the group cache.

use std::time::{Duration, Instant};

use berth::auth::ldap::{LdapClient, LdapError, LdapSettings};
use berth::secret::Secret;

use super::slapd::{self, ADMINS_GROUP, GROUPS, Slapd, group_dn, password, user_dn};

fn client(settings: LdapSettings) -> LdapClient {
    LdapClient::new(settings).unwrap_or_else(|e| panic!("client: {e}"))
}

fn names(groups: &[berth::auth::ldap::LdapGroup]) -> Vec<&str> {
    groups.iter().map(|g| g.name.as_str()).collect()
}

/// `member` mode: groups are searched for the user's DN.
fn member_mode(mut settings: LdapSettings) -> LdapSettings {
    settings.group_membership_attribute = "member".to_owned();
    settings
}

#[tokio::test]
async fn the_right_password_signs_in_with_attributes_and_groups() {
    let slapd = Slapd::start();
    let ldap = client(slapd.settings());
    ldap.ping().await.unwrap();

    let alice = ldap
        .authenticate("alice", &password("alice"))
        .await
        .unwrap();
    assert_eq!(alice.dn, user_dn("alice"));
    assert_eq!(alice.username, "alice");
    assert_eq!(alice.email.as_deref(), Some("alice@example.org"));
    assert_eq!(alice.display_name.as_deref(), Some("Alice Anders"));
    assert_eq!(names(&alice.groups), ["developers"]);
    assert_eq!(alice.groups[0].dn, group_dn("developers"));
    assert!(!alice.is_admin);

    // No displayName: the cn stands in. The username's case follows the directory.
    let bob = ldap.authenticate("BOB", &password("bob")).await.unwrap();
    assert_eq!(bob.username, "bob");
    assert_eq!(bob.display_name.as_deref(), Some("Bob Builder"));

    // The same groups in member mode.
    let ldap = client(member_mode(slapd.settings()));
    let alice = ldap
        .authenticate("alice", &password("alice"))
        .await
        .unwrap();
    assert_eq!(names(&alice.groups), ["developers"]);
    assert_eq!(alice.groups[0].dn, group_dn("developers"));
}

#[tokio::test]
async fn nested_groups_count_only_when_enabled_and_cycles_end() {
    let slapd = Slapd::start();
    for settings in [slapd.settings(), member_mode(slapd.settings())] {
        let mode = settings.group_membership_attribute.clone();
        let flat = client(settings.clone());
        let carol = flat
            .authenticate("carol", &password("carol"))
            .await
            .unwrap();
        assert_eq!(names(&carol.groups), ["team-b"], "{mode}, nesting off");

        let nested = client(LdapSettings {
            nested_groups: true,
            ..settings
        });
        let carol = nested
            .authenticate("carol", &password("carol"))
            .await
            .unwrap();
        // team-b ∈ team-a ∈ team-c ∈ team-b: every group once, and the cycle ends.
        assert_eq!(
            names(&carol.groups),
            ["team-a", "team-b", "team-c"],
            "{mode}, nesting on"
        );
        // Users without groups of groups are unchanged.
        let alice = nested
            .authenticate("alice", &password("alice"))
            .await
            .unwrap();
        assert_eq!(names(&alice.groups), ["developers"], "{mode}");
    }
}

#[tokio::test]
async fn the_admin_group_makes_admins() {
    let slapd = Slapd::start();
    for settings in [slapd.settings(), member_mode(slapd.settings())] {
        let ldap = client(LdapSettings {
            // Spelled differently from the directory: DNs compare case- and space-insensitively.
            group_admin_dn: "CN=Admins, OU=Groups, dc=Example,dc=org".to_owned(),
            ..settings
        });
        let dave = ldap.authenticate("dave", &password("dave")).await.unwrap();
        assert!(dave.is_admin, "{:?}", dave.groups);
        assert_eq!(dave.groups[0].dn.to_lowercase(), ADMINS_GROUP);
        let alice = ldap
            .authenticate("alice", &password("alice"))
            .await
            .unwrap();
        assert!(!alice.is_admin);
        assert!(ldap.group_cache().get(&dave.dn).unwrap().is_admin);
    }
    // Through a nested group: team-a is the admin group, carol is in team-b ⊂ team-a.
    let ldap = client(LdapSettings {
        group_admin_dn: group_dn("team-a"),
        nested_groups: true,
        ..slapd.settings()
    });
    assert!(
        ldap.authenticate("carol", &password("carol"))
            .await
            .unwrap()
            .is_admin
    );
}

#[tokio::test]
async fn wrong_passwords_and_unknown_users_are_refused() {
    let slapd = Slapd::start();
    let ldap = client(slapd.settings());

    let wrong = ldap.authenticate("alice", "not-her-password").await;
    assert_eq!(
        wrong,
        Err(LdapError::InvalidCredentials {
            username: "alice".to_owned()
        })
    );
    // Another user's password does not work either.
    assert!(matches!(
        ldap.authenticate("alice", &password("bob")).await,
        Err(LdapError::InvalidCredentials { .. })
    ));

    let unknown = ldap.authenticate("mallory", "whatever").await;
    assert!(
        matches!(&unknown, Err(LdapError::UnknownUser { username, .. }) if username == "mallory"),
        "{unknown:?}"
    );

    // An empty password never reaches the server (an unauthenticated bind could "succeed").
    let before = ldap.stats();
    assert_eq!(
        ldap.authenticate("alice", "").await,
        Err(LdapError::InvalidCredentials {
            username: "alice".to_owned()
        })
    );
    assert_eq!(
        ldap.stats(),
        before,
        "no connection or search for an empty password"
    );

    // Two entries with uid=twin: refused, naming both.
    match ldap.authenticate("twin", &password("twin")).await {
        Err(e @ LdapError::Ambiguous { .. }) => {
            let message = e.to_string();
            assert!(message.contains("uid=twin,ou=people"), "{message}");
            assert!(message.contains("uid=twin,ou=contractors"), "{message}");
        }
        other => panic!("expected Ambiguous, got {other:?}"),
    }

    // Messages never carry the password.
    let message = wrong.unwrap_err().to_string();
    assert!(!message.contains("not-her-password"), "{message}");
}

#[tokio::test]
async fn filter_injection_matches_nothing() {
    let slapd = Slapd::start();
    let ldap = client(slapd.settings());
    for attempt in [
        "*)(uid=*",
        "*",
        "alice)(|(uid=*",
        "al*",
        "alice\\",
        "(uid=alice)",
    ] {
        // With alice's password, so a widened filter that picked alice would sign in.
        let result = ldap.authenticate(attempt, &password("alice")).await;
        assert!(
            matches!(result, Err(LdapError::UnknownUser { .. })),
            "{attempt:?}: {result:?}"
        );
        assert!(
            ldap.search_users(attempt).await.unwrap().is_empty(),
            "{attempt:?} as a search term"
        );
        assert!(
            ldap.search_groups(attempt).await.unwrap().is_empty(),
            "{attempt:?} as a group search term"
        );
    }
}

#[tokio::test]
async fn users_and_groups_can_be_searched_and_looked_up() {
    let slapd = Slapd::start();
    let ldap = client(slapd.settings());

    let found = ldap.search_users("li").await.unwrap();
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].username, "alice");
    assert_eq!(found[0].email.as_deref(), Some("alice@example.org"));
    let all: Vec<String> = ldap
        .search_users("")
        .await
        .unwrap()
        .into_iter()
        .map(|u| u.username)
        .collect();
    assert_eq!(
        all,
        ["alice", "bob", "carol", "dave", "many", "twin", "twin"]
    );

    let teams = ldap.search_groups("team").await.unwrap();
    assert_eq!(names(&teams), ["team-a", "team-b", "team-c"]);
    assert_eq!(teams[0].dn, group_dn("team-a"));
    assert_eq!(ldap.search_groups("g0").await.unwrap().len(), 9);
    assert_eq!(ldap.search_groups("").await.unwrap().len(), 65);

    let group = ldap.find_group(&group_dn("developers")).await.unwrap();
    assert_eq!(group.map(|g| g.name).as_deref(), Some("developers"));
    assert_eq!(
        ldap.find_group(&format!("cn=nope,{GROUPS}")).await.unwrap(),
        None
    );
    // A user is not a group (the group filter applies).
    assert_eq!(ldap.find_group(&user_dn("alice")).await.unwrap(), None);

    let dave = ldap.find_user("dave").await.unwrap();
    assert_eq!(dave.dn, user_dn("dave"));
    assert_eq!(names(&dave.groups), ["admins"]);
    assert!(matches!(
        ldap.find_user("nobody").await,
        Err(LdapError::UnknownUser { .. })
    ));
}

#[tokio::test]
async fn a_wrong_service_password_fails_the_ping() {
    let slapd = Slapd::start();
    let ldap = client(LdapSettings {
        search_password: Secret::new("wrong-admin-password").into(),
        ..slapd.settings()
    });
    let error = ldap.ping().await.unwrap_err();
    assert!(
        matches!(&error, LdapError::ServiceBindFailed { dn, .. } if dn == slapd::ADMIN_DN),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(message.contains("invalidCredentials"), "{message}");
    assert!(!message.contains("wrong-admin-password"), "{message}");
    // Sign-in fails the same way, not as the user's fault.
    assert!(matches!(
        ldap.authenticate("alice", &password("alice")).await,
        Err(LdapError::ServiceBindFailed { .. })
    ));

    // A base DN that does not exist: the ping says so.
    let ldap = client(LdapSettings {
        base_dn: "dc=nowhere,dc=org".to_owned(),
        ..slapd.settings()
    });
    let message = ldap.ping().await.unwrap_err().to_string();
    assert!(
        message.contains("dc=nowhere,dc=org") && message.contains("does not exist"),
        "{message}"
    );
}

#[tokio::test]
async fn an_unreachable_or_silent_server_fails_fast() {
    // Nothing listens: refused at once.
    let port = crate::support::free_port();
    let ldap = client(LdapSettings {
        url: format!("ldap://127.0.0.1:{port}"),
        base_dn: slapd::SUFFIX.to_owned(),
        timeout: 1,
        ..LdapSettings::default()
    });
    let started = Instant::now();
    let error = ldap.ping().await.unwrap_err();
    assert!(matches!(&error, LdapError::Unreachable { .. }), "{error:?}");
    assert!(error.to_string().contains(&port.to_string()), "{error}");
    assert!(matches!(
        ldap.authenticate("alice", "pw").await,
        Err(LdapError::Unreachable { .. })
    ));
    assert!(started.elapsed() < Duration::from_secs(1));

    // Something accepts connections but never answers: the operation timeout (1 s) ends the wait.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = silent.local_addr().unwrap().port();
    let keep = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = silent.accept().await {
            held.push(socket);
        }
    });
    let ldap = client(LdapSettings {
        url: format!("ldap://127.0.0.1:{port}"),
        search_dn: slapd::ADMIN_DN.to_owned(),
        search_password: Secret::new("x").into(),
        base_dn: slapd::SUFFIX.to_owned(),
        timeout: 1,
        ..LdapSettings::default()
    });
    let started = Instant::now();
    let error = ldap.ping().await.unwrap_err();
    let elapsed = started.elapsed();
    assert!(
        matches!(&error, LdapError::Timeout { seconds: 1, .. }),
        "{error:?}"
    );
    assert!(
        elapsed >= Duration::from_millis(900) && elapsed < Duration::from_secs(3),
        "{elapsed:?}"
    );
    keep.abort();
}

#[tokio::test]
async fn sixty_groups_come_back_and_are_then_served_from_the_cache() {
    let mut slapd = Slapd::start();
    let ldap = client(slapd.settings());
    let started = Instant::now();
    let many = ldap.authenticate("many", &password("many")).await.unwrap();
    let elapsed = started.elapsed();
    assert_eq!(many.groups.len(), 60);
    let expected: Vec<String> = (1..=60).map(|n| format!("g{n:02}")).collect();
    assert_eq!(names(&many.groups), expected);
    assert!(elapsed < Duration::from_secs(1), "{elapsed:?}");
    // memberOf mode: the user search plus the bind; no search per group.
    assert_eq!(ldap.stats().searches, 1, "{:?}", ldap.stats());

    // In member mode it is one group search.
    let member = client(member_mode(slapd.settings()));
    let many_again = member
        .authenticate("many", &password("many"))
        .await
        .unwrap();
    assert_eq!(names(&many_again.groups), expected);
    assert_eq!(member.stats().searches, 2, "{:?}", member.stats());

    // Within the TTL the groups come from the cache: no search, even with slapd gone.
    let before = ldap.stats();
    let cached = ldap.groups(&many.dn).await.unwrap();
    assert_eq!(cached.groups, many.groups);
    assert_eq!(ldap.stats(), before);
    let (dn, by_name) = ldap.group_cache().get_by_username("MANY").unwrap();
    assert_eq!(dn, many.dn);
    assert_eq!(by_name.groups.len(), 60);

    slapd.stop();
    let cached = ldap.groups(&many.dn).await.unwrap();
    assert_eq!(cached.groups.len(), 60);
    // ...while anything that needs the server fails: slapd really is gone.
    assert!(matches!(
        ldap.find_user("many").await,
        Err(LdapError::Unreachable { .. })
    ));
    // Without a cache, the same lookup needs the server.
    let uncached = client(LdapSettings {
        group_cache_seconds: 0,
        ..slapd.settings()
    });
    assert!(matches!(
        uncached.groups(&many.dn).await,
        Err(LdapError::Unreachable { .. })
    ));
}

#[tokio::test]
async fn the_pool_reuses_connections_and_replaces_broken_ones() {
    let mut slapd = Slapd::start();
    let ldap = client(slapd.settings());
    for _ in 0..5 {
        ldap.find_user("alice").await.unwrap();
    }
    // One service connection for all five searches.
    assert_eq!(ldap.stats().connections, 1, "{:?}", ldap.stats());
    // Each sign-in binds on its own extra connection.
    ldap.authenticate("alice", &password("alice"))
        .await
        .unwrap();
    assert_eq!(ldap.stats().connections, 2, "{:?}", ldap.stats());

    // Restart slapd: the pooled connection is dead; the next search replaces it and works.
    slapd.stop();
    slapd.start_again();
    let alice = ldap.find_user("alice").await.unwrap();
    assert_eq!(alice.dn, user_dn("alice"));
    let groups = ldap.groups(&alice.dn).await.unwrap();
    assert_eq!(names(&groups.groups), ["developers"]);
}

#[tokio::test]
async fn tls_certificates_are_verified_unless_told_not_to() {
    let slapd = Slapd::start_with_tls();
    let ldaps = LdapSettings {
        url: slapd.ldaps_url(),
        ..slapd.settings()
    };
    let starttls = LdapSettings {
        starttls: true,
        ..slapd.settings()
    };
    for settings in [ldaps, starttls] {
        let how = if settings.starttls {
            "StartTLS"
        } else {
            "ldaps"
        };
        // Verification is on by default, and no CA trusts the self-signed certificate.
        assert!(settings.verify_cert);
        let error = client(settings.clone())
            .authenticate("alice", &password("alice"))
            .await
            .unwrap_err();
        assert!(matches!(&error, LdapError::Tls { .. }), "{how}: {error:?}");
        let message = error.to_string();
        assert!(message.contains("certificate"), "{how}: {message}");

        let trusting = client(LdapSettings {
            verify_cert: false,
            ..settings
        });
        trusting.ping().await.unwrap();
        let alice = trusting
            .authenticate("alice", &password("alice"))
            .await
            .unwrap();
        assert_eq!(names(&alice.groups), ["developers"], "{how}");
    }
    // StartTLS on an ldaps:// URL makes no sense.
    let both = LdapClient::new(LdapSettings {
        url: slapd.ldaps_url(),
        starttls: true,
        ..slapd.settings()
    });
    assert!(matches!(both, Err(LdapError::InvalidSettings(_))));
}
