//! `ldap_auth` end to end: a Berth configured through `PUT /configurations` against the test slapd, signed in
//! to through `/c/login`, `/service/token`, Basic on the REST API and `/v2`, and with skopeo; LDAP groups as
//! project members; the admin group; the LDAP REST endpoints.

use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

use super::slapd::{ADMINS_GROUP, GROUPS, Slapd, group_dn, ldap_configuration, password};
use crate::api::{As, api, create_project, error_code, get_json};
use crate::clients::{ClientEnv, skopeo_copy_cmd};
use crate::images::{Image, Layout, require_tool, run_fails, run_ok};
use crate::support::{ADMIN_PASSWORD, ADMIN_USER, TestServer, browser, client};

/// A Berth in `ldap_auth` against `slapd`, with `dave`'s `admins` group as the admin group.
async fn ldap_berth(slapd: &Slapd) -> TestServer {
    let server = TestServer::start().await;
    let mut body = ldap_configuration(&slapd.settings());
    body["auth_mode"] = json!("ldap_auth");
    body["ldap_group_admin_dn"] = json!(ADMINS_GROUP);
    let response = client()
        .put(api(&server, "/configurations"))
        .admin()
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK, "configuring ldap_auth");
    server
}

/// Stores `slapd`'s settings through `PUT /configurations` (the auth mode stays as it is).
async fn store_settings(server: &TestServer, slapd: &Slapd) {
    let response = client()
        .put(api(server, "/configurations"))
        .admin()
        .json(&ldap_configuration(&slapd.settings()))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}

async fn console_login(server: &TestServer, http: &Client, user: &str, pw: &str) -> StatusCode {
    http.post(server.url("/c/login"))
        .form(&[("principal", user), ("password", pw)])
        .send()
        .await
        .unwrap()
        .status()
}

/// The actions a token from `/service/token` grants `user` on `scope`, or the token service's status.
async fn granted(
    server: &TestServer,
    user: &str,
    pw: &str,
    scope: &str,
) -> Result<Vec<String>, StatusCode> {
    let response = client()
        .get(server.url(&format!("/service/token?service=berth&scope={scope}")))
        .user(user, pw)
        .send()
        .await
        .unwrap();
    if response.status() != StatusCode::OK {
        return Err(response.status());
    }
    let body: Value = response.json().await.unwrap();
    let token = body["token"].as_str().unwrap();
    let payload = token.split('.').nth(1).unwrap();
    use base64::Engine as _;
    let claims: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap();
    let mut actions: Vec<String> = claims["access"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|a| a["actions"].as_array().unwrap().clone())
        .map(|a| a.as_str().unwrap().to_owned())
        .collect();
    actions.sort();
    Ok(actions)
}

/// `POST /projects/team/members` as the admin.
async fn add_team_member(server: &TestServer, body: Value) -> reqwest::Response {
    client()
        .post(api(server, "/projects/team/members"))
        .admin()
        .json(&body)
        .send()
        .await
        .unwrap()
}

async fn current_user(server: &TestServer, user: &str, pw: &str) -> Value {
    let response = client()
        .get(api(server, "/users/current"))
        .user(user, pw)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK, "{user}");
    response.json().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ldap_users_sign_in_everywhere_and_are_created_on_first_sign_in() {
    let slapd = Slapd::start();
    let server = ldap_berth(&slapd).await;

    // The console: alice's first sign-in creates her, with the directory's email and display name.
    let http = browser();
    assert_eq!(
        console_login(&server, &http, "alice", &password("alice")).await,
        StatusCode::OK
    );
    let me: Value = http
        .get(api(&server, "/users/current"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["username"], "alice");
    assert_eq!(me["email"], "alice@example.org");
    assert_eq!(me["sysadmin_flag"], false);
    assert_eq!(me["admin_role_in_auth"], false);

    // Wrong passwords, an empty one, unknown users and a filter injection are all refused alike.
    for (user, pw) in [
        ("alice", "wrong"),
        ("alice", ""),
        ("nobody", "nobody-pw"),
        ("*)(uid=*", "x"),
        ("*", "alice-pw"),
        ("alice)(|(uid=*", "alice-pw"),
    ] {
        assert_eq!(
            console_login(&server, &browser(), user, pw).await,
            StatusCode::UNAUTHORIZED,
            "{user:?}"
        );
        assert_eq!(
            granted(&server, user, pw, "repository:library/x:pull").await,
            Err(StatusCode::UNAUTHORIZED),
            "{user:?}"
        );
    }

    // The local admin still signs in with its password; bob's Basic credentials work on the REST API.
    assert_eq!(
        console_login(&server, &browser(), ADMIN_USER, ADMIN_PASSWORD).await,
        StatusCode::OK
    );
    assert_eq!(
        current_user(&server, "bob", &password("bob")).await["username"],
        "bob"
    );
    let users: Value = get_json(&client(), api(&server, "/users?page_size=50")).await;
    let mut names: Vec<&str> = users
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["username"].as_str().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["admin", "alice", "bob"]);

    // Local users cannot be created, and LDAP users have no Berth password to change.
    let response = client()
        .post(api(&server, "/users"))
        .admin()
        .json(&json!({"username": "local", "password": "Password1", "email": "l@example.com", "realname": "L"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let bob_id = current_user(&server, "bob", &password("bob")).await["user_id"].clone();
    let response = client()
        .put(api(&server, &format!("/users/{bob_id}/password")))
        .user("bob", &password("bob"))
        .json(&json!({"old_password": password("bob"), "new_password": "Password2"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ldap_groups_grant_project_roles_and_the_admin_group_makes_admins() {
    require_tool("skopeo");
    let slapd = Slapd::start();
    let server = ldap_berth(&slapd).await;
    let http = client();
    create_project(&server, &http, json!({"project_name": "team"})).await;

    // An LDAP group that does not exist in the directory cannot be added; `developers` can.
    let response = http
        .post(api(&server, "/usergroups"))
        .admin()
        .json(
            &json!({"group_name": "ghosts", "group_type": 1, "ldap_group_dn": group_dn("ghosts")}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let response = add_team_member(
        &server,
        json!({"role_id": 2, "member_group": {"group_name": "developers", "group_type": 1, "ldap_group_dn": group_dn("developers")}}),
    )
    .await;
    assert_eq!(
        response.status(),
        StatusCode::CREATED,
        "{:?}",
        response.text().await
    );

    // bob is in `developers`: push and pull. carol is not: nothing. dave is in `admins`: a system admin.
    assert_eq!(
        granted(
            &server,
            "bob",
            &password("bob"),
            "repository:team/app:pull,push"
        )
        .await,
        Ok(vec!["pull".to_owned(), "push".to_owned()])
    );
    assert_eq!(
        granted(
            &server,
            "carol",
            &password("carol"),
            "repository:team/app:pull,push"
        )
        .await,
        Ok(vec![])
    );
    assert_eq!(
        granted(
            &server,
            "dave",
            &password("dave"),
            "repository:team/app:delete"
        )
        .await,
        Ok(vec!["delete".to_owned()])
    );
    let dave = current_user(&server, "dave", &password("dave")).await;
    assert_eq!(dave["admin_role_in_auth"], true);
    assert_eq!(dave["sysadmin_flag"], false);
    let response = http
        .get(api(&server, "/configurations"))
        .user("dave", &password("dave"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK, "dave is a system admin");
    // In a console session too.
    let console = browser();
    assert_eq!(
        console_login(&server, &console, "dave", &password("dave")).await,
        StatusCode::OK
    );
    let response = console
        .get(api(&server, "/configurations"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        StatusCode::OK,
        "dave's session is a system admin's"
    );
    let response = http
        .get(api(&server, "/configurations"))
        .user("bob", &password("bob"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);

    // skopeo, with LDAP credentials: bob logs in and pushes, carol cannot pull, dave can.
    let env = ClientEnv::new();
    let host = server.host();
    run_ok(&mut env.skopeo_login(&host, "bob", &password("bob")));
    let mut layout = Layout::create(&env.path("layout"));
    layout.add_image("1", &Image::build(6, "amd64", &[40_000]));
    let dest = format!("docker://{host}/team/app:1");
    run_ok(&mut skopeo_copy_cmd(
        &env,
        &layout.reference("1"),
        &dest,
        Some(&format!("bob:{}", password("bob"))),
        false,
    ));
    let pulled = env.path("pulled");
    let carol = format!("carol:{}", password("carol"));
    run_fails(&mut skopeo_copy_cmd(
        &env,
        &dest,
        &format!("oci:{}:1", pulled.display()),
        Some(&carol),
        false,
    ));
    let dave = format!("dave:{}", password("dave"));
    run_ok(&mut skopeo_copy_cmd(
        &env,
        &dest,
        &format!("oci:{}:1", pulled.display()),
        Some(&dave),
        false,
    ));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ldap_user_is_made_a_member_by_name_before_their_first_sign_in() {
    let slapd = Slapd::start();
    let server = ldap_berth(&slapd).await;
    let http = client();
    create_project(&server, &http, json!({"project_name": "team"})).await;
    let add = |body: Value| add_team_member(&server, body);

    // alice has never signed in: adding her by name creates her from the directory.
    let response = add(json!({"role_id": 3, "member_user": {"username": "alice"}})).await;
    assert_eq!(
        response.status(),
        StatusCode::CREATED,
        "{:?}",
        response.text().await
    );
    let users = get_json(&http, api(&server, "/users?q=username%3Dalice")).await;
    assert_eq!(users[0]["username"], "alice");
    assert_eq!(users[0]["email"], "alice@example.org");
    let members = get_json(&http, api(&server, "/projects/team/members")).await;
    let alice = members
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["entity_name"] == "alice")
        .unwrap();
    assert_eq!(alice["role_id"], 3);
    assert_eq!(
        granted(
            &server,
            "alice",
            &password("alice"),
            "repository:team/app:pull,push"
        )
        .await,
        Ok(vec!["pull".to_owned()]),
        "her first sign-in finds the membership"
    );

    // Nobody by that name in the directory: 404, and no user is created. Two entries: 400.
    let response = add(json!({"role_id": 3, "member_user": {"username": "nobody"}})).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert_eq!(error_code(response).await, "NOT_FOUND");
    assert_eq!(
        get_json(&http, api(&server, "/users?q=username%3Dnobody")).await,
        json!([])
    );
    let response = add(json!({"role_id": 3, "member_user": {"username": "twin"}})).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_60_group_user_gets_tokens_without_asking_ldap_again() {
    let mut slapd = Slapd::start();
    let server = ldap_berth(&slapd).await;
    let http = client();
    create_project(&server, &http, json!({"project_name": "sixty"})).await;
    let response = http
        .post(api(&server, "/projects/sixty/members"))
        .admin()
        .json(&json!({"role_id": 3, "member_group": {"group_name": "g42", "group_type": 1, "ldap_group_dn": group_dn("g42")}}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);

    // The first token request signs `many` in (one bind, the group lookups) and records the 60 groups.
    assert_eq!(
        granted(
            &server,
            "many",
            &password("many"),
            "repository:sixty/app:pull,push"
        )
        .await,
        Ok(vec!["pull".to_owned()])
    );
    let groups: Value = get_json(
        &http,
        api(&server, "/usergroups?page_size=100&group_type=1"),
    )
    .await;
    let ldap_groups = groups
        .as_array()
        .unwrap()
        .iter()
        .filter(|g| g["ldap_group_dn"].as_str().unwrap_or("").ends_with(GROUPS))
        .count();
    assert_eq!(ldap_groups, 60, "{groups}");

    // Twenty more token requests and a REST call make no LDAP connection or search at all.
    let config = server.state.system_config.current();
    let ldap = server
        .state
        .passwords
        .directory()
        .ldap(&config.ldap)
        .unwrap();
    let before = ldap.stats();
    for _ in 0..20 {
        assert_eq!(
            granted(
                &server,
                "many",
                &password("many"),
                "repository:sixty/app:pull"
            )
            .await,
            Ok(vec!["pull".to_owned()])
        );
    }
    assert_eq!(
        current_user(&server, "many", &password("many")).await["username"],
        "many"
    );
    assert_eq!(ldap.stats(), before);

    // Even with slapd gone, the remembered sign-in serves; a wrong password is still refused, and a user
    // not seen before gets a clear 503 rather than a 401.
    slapd.stop();
    assert_eq!(
        granted(
            &server,
            "many",
            &password("many"),
            "repository:sixty/app:pull"
        )
        .await,
        Ok(vec!["pull".to_owned()])
    );
    assert_eq!(
        granted(&server, "many", "wrong", "repository:sixty/app:pull").await,
        Err(StatusCode::SERVICE_UNAVAILABLE)
    );
    let response = http
        .get(server.url("/service/token?service=berth"))
        .user("alice", &password("alice"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(error_code(response).await, "UNAVAILABLE");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ldap_ping_search_and_import() {
    let slapd = Slapd::start();
    let server = TestServer::start().await;
    let http = client();
    let ping = |body: Value| {
        let http = http.clone();
        let url = api(&server, "/ldap/ping");
        async move {
            let response = http.post(url).admin().json(&body).send().await.unwrap();
            let status = response.status();
            (
                status,
                response.json::<Value>().await.unwrap_or(Value::Null),
            )
        }
    };

    // Nothing stored yet: the settings are incomplete, said so with 200 and success false.
    let (status, result) = ping(json!({})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(result["success"], false);

    // The body's settings are tried without being stored.
    let mut conf = json!({
        "ldap_url": slapd.url(),
        "ldap_search_dn": super::slapd::ADMIN_DN,
        "ldap_search_password": super::slapd::ADMIN_PASSWORD,
        "ldap_base_dn": super::slapd::SUFFIX,
        "ldap_uid": "uid",
        "ldap_scope": 2,
    });
    let (status, result) = ping(conf.clone()).await;
    assert_eq!(
        (status, result["success"].clone()),
        (StatusCode::OK, json!(true)),
        "{result}"
    );
    conf["ldap_search_password"] = json!("wrong");
    let (_, result) = ping(conf.clone()).await;
    assert_eq!(result["success"], false);
    assert!(
        result["message"]
            .as_str()
            .unwrap()
            .contains("wrong DN or password"),
        "{result}"
    );
    conf["ldap_url"] = json!("ldap://127.0.0.1:1");
    let (_, result) = ping(conf.clone()).await;
    assert_eq!(result["success"], false);
    assert!(
        result["message"].as_str().unwrap().contains("unreachable"),
        "{result}"
    );
    conf["ldap_url"] = json!("http://example.com");
    let (status, _) = ping(conf).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // Stored settings (the mode stays db_auth): ping with an empty body, search and import.
    store_settings(&server, &slapd).await;
    let response = http
        .post(api(&server, "/ldap/ping"))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.json::<Value>().await.unwrap()["success"], true);

    let users: Value = get_json(&http, api(&server, "/ldap/users/search?username=ali")).await;
    assert_eq!(
        users,
        json!([{"username": "alice", "realname": "Alice Anders", "email": "alice@example.org"}])
    );
    let injected: Value = http
        .get(api(&server, "/ldap/users/search?username=*)(uid=*"))
        .admin()
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(injected, json!([]));

    let response = http
        .post(api(&server, "/ldap/users/import"))
        .admin()
        .json(&json!({"ldap_uid_list": ["carol", "nobody"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let failed: Value = response.json().await.unwrap();
    assert_eq!(failed.as_array().unwrap().len(), 1, "{failed}");
    assert_eq!(failed[0]["uid"], "nobody");
    let response = http
        .get(api(&server, "/users/search?username=carol"))
        .admin()
        .send()
        .await
        .unwrap();
    let found: Value = response.json().await.unwrap();
    assert_eq!(found[0]["username"], "carol", "carol was imported: {found}");

    let groups: Value = get_json(&http, api(&server, "/ldap/groups/search?groupname=g0")).await;
    let names: Vec<&str> = groups
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["group_name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "g01", "g02", "g03", "g04", "g05", "g06", "g07", "g08", "g09"
        ]
    );
    assert_eq!(groups[0]["group_type"], 1);
    assert_eq!(groups[0]["ldap_group_dn"], group_dn("g01"));
    let by_dn: Value = get_json(
        &http,
        api(
            &server,
            &format!("/ldap/groups/search?groupdn={}", group_dn("developers")),
        ),
    )
    .await;
    assert_eq!(
        by_dn,
        json!([{"group_name": "developers", "group_type": 1, "ldap_group_dn": group_dn("developers")}])
    );

    // Only system admins.
    let response = http
        .get(api(&server, "/ldap/users/search?username=a"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_throttle_counts_case_and_space_variants_of_a_uid_as_one_name() {
    let slapd = Slapd::start();
    let server = ldap_berth(&slapd).await;
    let lock_after = server.state.config.signin_throttle.lock_after as usize;
    let variants = ["alice", " alice", "ALICE", "Alice ", "aLiCe", " ALICE "];
    for n in 0..lock_after {
        let status = console_login(&server, &client(), variants[n % variants.len()], "guess").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    // However she is spelt, alice is locked from this address now, her right password included.
    for name in ["alice", "Alice", " alice "] {
        assert_eq!(
            console_login(&server, &client(), name, &password("alice")).await,
            StatusCode::UNAUTHORIZED,
            "{name:?}"
        );
    }
    assert_eq!(
        console_login(&server, &client(), "bob", &password("bob")).await,
        StatusCode::OK
    );
    server.stop().await;
}

/// A TCP server that takes connections and keeps what they send, answering nothing.
struct Listener {
    url: String,
    received: std::sync::Arc<std::sync::Mutex<Vec<u8>>>,
}

impl Listener {
    fn start() -> Listener {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("ldap://{}", listener.local_addr().unwrap());
        let received = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let sink = received.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { return };
                let sink = sink.clone();
                std::thread::spawn(move || {
                    use std::io::Read as _;
                    stream
                        .set_read_timeout(Some(std::time::Duration::from_secs(5)))
                        .ok();
                    let mut buffer = [0u8; 4096];
                    while let Ok(n @ 1..) = stream.read(&mut buffer) {
                        sink.lock().unwrap().extend_from_slice(&buffer[..n]);
                    }
                });
            }
        });
        Listener { url, received }
    }

    fn got(&self, needle: &str) -> bool {
        let received = self.received.lock().unwrap();
        received
            .windows(needle.len())
            .any(|w| w == needle.as_bytes())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ldap_test_elsewhere_must_send_its_own_password() {
    let slapd = Slapd::start();
    let server = TestServer::start().await;
    let http = client();
    store_settings(&server, &slapd).await;
    let stored_password = super::slapd::ADMIN_PASSWORD;
    let ping = |body: Value| {
        let http = http.clone();
        let url = api(&server, "/ldap/ping");
        async move { http.post(url).admin().json(&body).send().await.unwrap() }
    };

    // Another server, the same stored bind DN: the stored password is not sent there.
    let elsewhere = Listener::start();
    let response = ping(json!({"ldap_url": elsewhere.url})).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body: Value = response.json().await.unwrap();
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("ldap_search_password"),
        "{body}"
    );
    // Another bind DN against the stored server, or a weaker certificate check (stored: verified), the same.
    assert!(slapd.settings().verify_cert);
    for body in [
        json!({"ldap_search_dn": "uid=alice,ou=people,dc=example,dc=org"}),
        json!({"ldap_verify_cert": false}),
    ] {
        let response = ping(body.clone()).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{body}");
    }
    // With a password of its own, the test goes ahead (and finds no LDAP server there).
    let response =
        ping(json!({"ldap_url": elsewhere.url, "ldap_search_password": "typed-again"})).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.json::<Value>().await.unwrap()["success"], false);
    assert!(
        elsewhere.got("typed-again"),
        "the typed password went where asked"
    );
    assert!(
        !elsewhere.got(stored_password),
        "the stored password never left"
    );

    // The stored settings, as they are, still test with the stored password.
    let response = ping(json!({})).await;
    assert_eq!(response.json::<Value>().await.unwrap()["success"], true);
    server.stop().await;
}
