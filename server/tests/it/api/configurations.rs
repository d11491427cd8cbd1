//! `GET`/`PUT /configurations`: the round trip, write-only secrets sealed at rest, all-or-nothing validation,
//! Harbor's auth-mode rule and the CLI's `--force`, the live `token_expiration`, and `/systeminfo`.

use std::path::Path;
use std::process::Command;

use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};

use super::{As, api, error_code};
use crate::support::{
    ADMIN_PASSWORD, ADMIN_USER, TestServer, berth_binary, browser, client, database_bytes,
};

const PASSWORD: &str = "Password1";

async fn configurations(server: &TestServer, http: &Client) -> Value {
    let response = http
        .get(api(server, "/configurations"))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

async fn put(server: &TestServer, http: &Client, body: Value) -> reqwest::Response {
    http.put(api(server, "/configurations"))
        .admin()
        .json(&body)
        .send()
        .await
        .unwrap()
}

/// The message of a Harbor error body.
async fn message(response: reqwest::Response) -> String {
    let body: Value = response.json().await.unwrap();
    body["errors"][0]["message"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// Every byte of the database files under `data_dir` (the WAL included).
fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

#[tokio::test]
async fn defaults_then_a_round_trip_that_never_returns_secrets() {
    let server = TestServer::start().await;
    let http = client();
    let before = configurations(&server, &http).await;
    assert_eq!(
        before["auth_mode"],
        json!({"value": "db_auth", "editable": true})
    );
    assert_eq!(before["primary_auth_mode"]["value"], false);
    assert_eq!(before["ldap_uid"]["value"], "cn");
    assert_eq!(before["ldap_scope"]["value"], 2);
    assert_eq!(before["ldap_timeout"]["value"], 5);
    assert_eq!(before["ldap_verify_cert"]["value"], true);
    assert_eq!(
        before["ldap_group_membership_attribute"]["value"],
        "memberof"
    );
    assert_eq!(before["oidc_extra_redirect_parms"]["value"], "{}");
    assert_eq!(before["token_expiration"]["value"], 30);
    assert_eq!(before["robot_token_duration"]["value"], 30);
    assert_eq!(before["robot_name_prefix"]["value"], "robot$");
    assert_eq!(before["self_registration"]["value"], false);
    assert_eq!(before["project_creation_restriction"]["value"], "everyone");
    assert!(before.get("ldap_search_password").is_none());
    assert!(before.get("oidc_client_secret").is_none());

    let ldap_secret = "ldap-Bind-Secret-4711";
    let oidc_secret = "oidc-Client-Secret-0815";
    let response = put(
        &server,
        &http,
        json!({
            "auth_mode": "ldap_auth",
            "ldap_url": "ldaps://ldap.example.com:636",
            "ldap_search_dn": "cn=svc,dc=example,dc=com",
            "ldap_search_password": ldap_secret,
            "ldap_base_dn": "ou=people,dc=example,dc=com",
            "ldap_filter": "objectClass=person",
            "ldap_uid": "uid",
            "ldap_scope": 1,
            "ldap_timeout": 10,
            "ldap_verify_cert": false,
            "ldap_group_base_dn": "ou=groups,dc=example,dc=com",
            "ldap_group_admin_dn": "cn=admins,ou=groups,dc=example,dc=com",
            "ldap_group_membership_attribute": "member",
            "ldap_group_search_scope": 0,
            "ldap_nested_groups": true,
            "ldap_group_cache_seconds": 120,
            "oidc_name": "Keycloak",
            "oidc_endpoint": "https://sso.example.com/realms/main",
            "oidc_client_id": "berth",
            "oidc_client_secret": oidc_secret,
            "oidc_scope": "openid,profile,email",
            "oidc_extra_redirect_parms": "{\"prompt\":\"login\"}",
            "robot_token_duration": 90,
            "self_registration": true,
            "project_creation_restriction": "adminonly"
        }),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);

    let after = configurations(&server, &http).await;
    assert_eq!(after["auth_mode"]["value"], "ldap_auth");
    assert_eq!(after["ldap_url"]["value"], "ldaps://ldap.example.com:636");
    assert_eq!(after["ldap_filter"]["value"], "(objectClass=person)");
    assert_eq!(after["ldap_uid"]["value"], "uid");
    assert_eq!(after["ldap_scope"]["value"], 1);
    assert_eq!(after["ldap_timeout"]["value"], 10);
    assert_eq!(after["ldap_verify_cert"]["value"], false);
    assert_eq!(after["ldap_group_membership_attribute"]["value"], "member");
    assert_eq!(after["ldap_group_search_scope"]["value"], 0);
    assert_eq!(after["ldap_nested_groups"]["value"], true);
    assert_eq!(after["ldap_group_cache_seconds"]["value"], 120);
    assert_eq!(after["oidc_name"]["value"], "Keycloak");
    assert_eq!(after["oidc_scope"]["value"], "openid,profile,email");
    assert_eq!(after["robot_token_duration"]["value"], 90);
    assert_eq!(after["project_creation_restriction"]["value"], "adminonly");
    let text = after.to_string();
    assert!(after.get("ldap_search_password").is_none());
    assert!(after.get("oidc_client_secret").is_none());
    assert!(!text.contains(ldap_secret) && !text.contains(oidc_secret));

    // The live configuration holds the secrets; the database only their sealed bytes.
    let live = server.state.system_config.current();
    assert_eq!(
        live.ldap
            .search_password
            .get()
            .unwrap()
            .map(|s| s.expose().to_owned()),
        Some(ldap_secret.to_owned())
    );
    assert_eq!(
        live.oidc
            .client_secret
            .get()
            .unwrap()
            .map(|s| s.expose().to_owned()),
        Some(oidc_secret.to_owned())
    );
    let db = database_bytes(&server.state.config);
    assert!(
        contains(&db, "ldaps://ldap.example.com:636"),
        "sanity: the DB files are read"
    );
    assert!(
        !contains(&db, ldap_secret),
        "the LDAP password is in the database in clear"
    );
    assert!(
        !contains(&db, oidc_secret),
        "the OIDC secret is in the database in clear"
    );

    // The audit log names the keys, never the secrets' values.
    let logs: Value = http
        .get(api(&server, "/audit-logs"))
        .query(&[("q", "resource_type=configuration")])
        .admin()
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let entry = &logs[0];
    assert_eq!(entry["operation"], "update");
    assert_eq!(entry["username"], ADMIN_USER);
    let resource = entry["resource"].as_str().unwrap();
    assert!(resource.contains("ldap_search_password") && resource.contains("auth_mode"));
    assert!(!logs.to_string().contains(ldap_secret));

    // A restart reads the same configuration back, the secrets opened again.
    let data_dir = server.state.config.data_dir.clone();
    let reopened = berth::service::configurations::LiveConfig::load(
        &server.state.db,
        &server.state.secrets,
        &server.state.config,
    )
    .await
    .unwrap();
    assert_eq!(*reopened.current(), *live);
    assert!(data_dir.exists());

    // An empty secret removes it.
    assert_eq!(
        put(&server, &http, json!({"ldap_search_password": ""}))
            .await
            .status(),
        StatusCode::OK
    );
    assert_eq!(
        server
            .state
            .system_config
            .current()
            .ldap
            .search_password
            .get()
            .unwrap(),
        None
    );
    server.stop().await;
}

#[tokio::test]
async fn bad_values_are_refused_and_change_nothing() {
    let server = TestServer::start().await;
    let http = client();
    let before = configurations(&server, &http).await;
    for (body, expected) in [
        (
            json!({"ldap_uid": "uid", "no_such_key": 1}),
            "unknown configuration key \"no_such_key\"",
        ),
        (
            json!({"ldap_uid": "uid", "auth_mode": "uaa_auth"}),
            "invalid auth_mode \"uaa_auth\"",
        ),
        (
            json!({"ldap_uid": "uid", "ldap_scope": 3}),
            "ldap_scope must be 0 (base), 1 (one level) or 2 (subtree), not 3",
        ),
        (
            json!({"ldap_uid": "uid", "ldap_group_search_scope": -1}),
            "ldap_group_search_scope must be 0",
        ),
        (
            json!({"ldap_uid": "uid", "ldap_url": "ldap://exa mple.com"}),
            "ldap_url \"ldap://exa mple.com\" is not a valid URL",
        ),
        (
            json!({"ldap_uid": "uid", "ldap_url": "https://ldap.example.com"}),
            "must start with ldap:// or ldaps://",
        ),
        (
            json!({"ldap_uid": "uid", "oidc_endpoint": "sso.example.com"}),
            "oidc_endpoint \"sso.example.com\" is not a valid URL",
        ),
        (
            json!({"ldap_uid": "uid", "token_expiration": -1}),
            "the token_expiration value must be positive",
        ),
        (
            json!({"ldap_uid": "uid", "robot_token_duration": 0}),
            "the robot_token_duration value must be positive",
        ),
        (
            json!({"ldap_uid": "uid", "ldap_timeout": -5}),
            "ldap_timeout must be between 1 and 3600",
        ),
        (
            json!({"ldap_uid": "uid", "ldap_verify_cert": "false"}),
            "ldap_verify_cert must be a boolean",
        ),
        (
            json!({"ldap_uid": "uid", "token_expiration": "30"}),
            "token_expiration must be an integer",
        ),
        (
            json!({"ldap_uid": "uid", "ldap_search_password": 42}),
            "ldap_search_password must be a string",
        ),
        (
            json!({"ldap_uid": "uid", "project_creation_restriction": "nobody"}),
            "must be everyone or adminonly",
        ),
    ] {
        let response = put(&server, &http, body.clone()).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{body}");
        let message = message(response).await;
        assert!(message.contains(expected), "{body}: {message}");
    }
    let not_json = http
        .put(api(&server, "/configurations"))
        .admin()
        .header("content-type", "application/json")
        .body("[1, 2]")
        .send()
        .await
        .unwrap();
    assert_eq!(not_json.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        configurations(&server, &http).await,
        before,
        "nothing changed"
    );
    assert!(
        server
            .state
            .db
            .configuration_rows()
            .await
            .unwrap()
            .is_empty(),
        "nothing stored"
    );
    server.stop().await;
}

#[tokio::test]
async fn the_auth_mode_changes_only_while_admin_is_the_only_user() {
    let server = TestServer::start().await;
    let http = client();
    assert_eq!(
        put(&server, &http, json!({"auth_mode": "ldap_auth"}))
            .await
            .status(),
        StatusCode::OK
    );
    assert_eq!(
        put(&server, &http, json!({"auth_mode": "db_auth"}))
            .await
            .status(),
        StatusCode::OK
    );

    server.create_user("alice", PASSWORD, false).await;
    let config = configurations(&server, &http).await;
    assert_eq!(
        config["auth_mode"],
        json!({"value": "db_auth", "editable": false})
    );
    assert_eq!(config["ldap_uid"]["editable"], true);

    let refused = put(
        &server,
        &http,
        json!({"auth_mode": "oidc_auth", "oidc_name": "Okta"}),
    )
    .await;
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        message(refused).await,
        "the auth mode cannot be modified as new users have been inserted into database"
    );
    let config = configurations(&server, &http).await;
    assert_eq!(config["auth_mode"]["value"], "db_auth");
    assert_eq!(
        config["oidc_name"]["value"], "",
        "the whole change was refused"
    );

    // Naming the current mode is no change, and the other keys still change.
    let same = put(
        &server,
        &http,
        json!({"auth_mode": "db_auth", "oidc_name": "Okta"}),
    )
    .await;
    assert_eq!(same.status(), StatusCode::OK);
    assert_eq!(
        configurations(&server, &http).await["oidc_name"]["value"],
        "Okta"
    );
    server.stop().await;
}

/// Runs `berth config set-auth-mode` against `data_dir`.
fn set_auth_mode(data_dir: &Path, mode: &str, force: bool) -> std::process::Output {
    let mut command = Command::new(berth_binary());
    command
        .args(["config", "set-auth-mode", mode])
        .env("BERTH_DATA_DIR", data_dir)
        .env("BERTH_DATABASE_URL", crate::support::database_url(data_dir))
        .env_remove("BERTH_CONFIG")
        .current_dir(data_dir.parent().unwrap());
    if force {
        command.arg("--force");
    }
    command.output().unwrap()
}

#[tokio::test]
async fn the_cli_forces_the_auth_mode_and_admin_still_signs_in() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("data");
    let configure = |data_dir: &Path| {
        let data_dir = data_dir.to_owned();
        move |config: &mut berth::config::Config| config.data_dir = data_dir
    };
    let server = TestServer::start_with(configure(&data_dir)).await;
    server.create_user("alice", PASSWORD, false).await;
    server.stop().await;

    let refused = set_auth_mode(&data_dir, "ldap_auth", false);
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("--force"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    let bad = set_auth_mode(&data_dir, "kerberos", true);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("invalid auth_mode"));
    let forced = set_auth_mode(&data_dir, "ldap_auth", true);
    assert!(
        forced.status.success(),
        "{}",
        String::from_utf8_lossy(&forced.stderr)
    );

    let server = TestServer::start_with(configure(&data_dir)).await;
    let http = client();
    let info: Value = http
        .get(api(&server, "/systeminfo"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(info["auth_mode"], "ldap_auth");
    assert!(info.get("oidc_provider_name").is_none());
    // The local admin signs in with its password in the console and with Basic credentials.
    let console = browser();
    let login = console
        .post(server.url("/c/login"))
        .form(&[("principal", ADMIN_USER), ("password", ADMIN_PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), StatusCode::OK);
    let current: Value = console
        .get(api(&server, "/users/current"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(current["username"], ADMIN_USER);
    let basic = http
        .get(api(&server, "/users/current"))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(basic.status(), StatusCode::OK);
    let token = http
        .get(server.url("/service/token"))
        .query(&[("service", "berth-registry")])
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(token.status(), StatusCode::OK);
    server.stop().await;
}

async fn token_expires_in(server: &TestServer, http: &Client) -> u64 {
    let response = http
        .get(server.url("/service/token"))
        .query(&[
            ("service", "berth-registry"),
            ("scope", "registry:catalog:*"),
        ])
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    body["expires_in"].as_u64().unwrap()
}

#[tokio::test]
async fn token_expiration_applies_to_the_next_token() {
    let server = TestServer::start_with(|c| c.token_expiration = 20).await;
    let http = client();
    assert_eq!(
        configurations(&server, &http).await["token_expiration"]["value"],
        20
    );
    assert_eq!(token_expires_in(&server, &http).await, 20 * 60);
    assert_eq!(
        put(&server, &http, json!({"token_expiration": 5}))
            .await
            .status(),
        StatusCode::OK
    );
    assert_eq!(token_expires_in(&server, &http).await, 5 * 60);
    server.stop().await;
}

#[tokio::test]
async fn systeminfo_names_the_oidc_provider_in_oidc_mode() {
    let server = TestServer::start().await;
    let http = client();
    let response = put(
        &server,
        &http,
        json!({"auth_mode": "oidc_auth", "oidc_name": "Keycloak", "primary_auth_mode": true,
               "self_registration": true}),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    let info: Value = http
        .get(api(&server, "/systeminfo"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(info["auth_mode"], "oidc_auth");
    assert_eq!(info["oidc_provider_name"], "Keycloak");
    assert_eq!(info["primary_auth_mode"], true);
    assert_eq!(info["self_registration"], true);
    server.stop().await;
}

#[tokio::test]
async fn only_system_admins_may_read_or_change_it() {
    let server = TestServer::start().await;
    let http = client();
    server.create_user("bob", PASSWORD, false).await;
    let anonymous = http
        .get(api(&server, "/configurations"))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    assert!(anonymous.headers().contains_key("www-authenticate"));
    let anonymous = http
        .put(api(&server, "/configurations"))
        .json(&json!({"token_expiration": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    let user = http
        .get(api(&server, "/configurations"))
        .user("bob", PASSWORD)
        .send()
        .await
        .unwrap();
    assert_eq!(user.status(), StatusCode::FORBIDDEN);
    let user = http
        .put(api(&server, "/configurations"))
        .user("bob", PASSWORD)
        .json(&json!({"token_expiration": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(user.status(), StatusCode::FORBIDDEN);
    assert_eq!(error_code(user).await, "FORBIDDEN");
    assert_eq!(
        configurations(&server, &http).await["token_expiration"]["value"],
        30
    );
    server.stop().await;
}

/// Asserts Harbor's read-only refusal: 403, code `DENIED`, Harbor's message.
async fn denied(response: reqwest::Response, what: &str) {
    assert_eq!(response.status(), StatusCode::FORBIDDEN, "{what}");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["errors"][0]["code"], "DENIED", "{what}: {body}");
    assert_eq!(
        body["errors"][0]["message"],
        "The system is in read only mode. Any modification is prohibited.",
        "{what}"
    );
}

#[tokio::test]
async fn read_only_refuses_every_change_but_itself_and_signing_in() {
    let server = TestServer::start().await;
    let http = client();
    let (manifest, digest) =
        crate::registry::push_image(&server, &http, "library/app", "v1", "ro").await;
    super::create_project(&server, &http, json!({"project_name": "team"})).await;

    let response = put(&server, &http, json!({"read_only": true})).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        configurations(&server, &http).await["read_only"],
        json!({"value": true, "editable": true})
    );
    let info = super::get_json(&http, api(&server, "/systeminfo")).await;
    assert_eq!(info["read_only"], true);

    // The registry: no upload, no manifest, no delete; pulls go on.
    let v2 = |path: &str| server.url(&format!("/v2/library/app/{path}"));
    denied(
        http.post(v2("blobs/uploads/"))
            .admin()
            .send()
            .await
            .unwrap(),
        "start an upload",
    )
    .await;
    denied(
        http.put(v2("manifests/v2"))
            .admin()
            .header("content-type", "application/vnd.oci.image.manifest.v1+json")
            .body(manifest.clone())
            .send()
            .await
            .unwrap(),
        "push a manifest",
    )
    .await;
    denied(
        http.delete(v2(&format!("manifests/{digest}")))
            .admin()
            .send()
            .await
            .unwrap(),
        "delete a manifest",
    )
    .await;
    let pulled = http.get(v2("manifests/v1")).admin().send().await.unwrap();
    assert_eq!(pulled.status(), StatusCode::OK);

    // The REST API: every change, whoever asks (anonymous too).
    let artifact = format!("/projects/library/repositories/app/artifacts/{digest}");
    let user = json!({"username": "dev", "password": PASSWORD, "email": "dev@example.com", "realname": "Dev"});
    for (method, path, body, as_admin) in [
        (
            Method::POST,
            "/projects",
            Some(json!({"project_name": "other"})),
            true,
        ),
        (
            Method::POST,
            "/projects",
            Some(json!({"project_name": "other"})),
            false,
        ),
        (
            Method::PUT,
            "/projects/team",
            Some(json!({"metadata": {"public": "true"}})),
            true,
        ),
        (Method::DELETE, "/projects/team", None, true),
        (Method::DELETE, artifact.as_str(), None, true),
        (Method::POST, "/users", Some(user), true),
    ] {
        let mut request = http.request(method.clone(), api(&server, path));
        if as_admin {
            request = request.admin();
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        denied(request.send().await.unwrap(), &format!("{method} {path}")).await;
    }
    assert_eq!(
        http.get(api(&server, "/projects/team"))
            .admin()
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );

    // Signing in to the console still works.
    let browser = browser();
    let login = browser
        .post(server.url("/c/login"))
        .form(&[("principal", ADMIN_USER), ("password", ADMIN_PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), StatusCode::OK);

    // The setting itself can be changed; then changes go through again.
    let response = put(&server, &http, json!({"read_only": false})).await;
    assert_eq!(response.status(), StatusCode::OK);
    let created = http
        .post(api(&server, "/projects"))
        .admin()
        .json(&json!({"project_name": "other"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    let upload = http
        .post(v2("blobs/uploads/"))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(upload.status(), StatusCode::ACCEPTED);
    server.stop().await;
}

/// Every key a fresh Harbor's `GET /configurations` answers, as the flat values a client sends back with `PUT`
/// (Harbor's defaults, from its swagger's `ConfigurationsResponse` and its config metadata).
fn harbor_full_configuration() -> Value {
    let pairs = [
        ("auth_mode", json!("db_auth")),
        ("primary_auth_mode", json!(false)),
        ("ldap_base_dn", json!("")),
        ("ldap_filter", json!("")),
        ("ldap_group_base_dn", json!("")),
        ("ldap_group_admin_dn", json!("")),
        ("ldap_group_attribute_name", json!("")),
        ("ldap_group_search_filter", json!("")),
        ("ldap_group_search_scope", json!(2)),
        ("ldap_group_attach_parallel", json!(false)),
        ("ldap_scope", json!(2)),
        ("ldap_search_dn", json!("")),
        ("ldap_timeout", json!(5)),
        ("ldap_uid", json!("cn")),
        ("ldap_url", json!("")),
        ("ldap_verify_cert", json!(true)),
        ("ldap_group_membership_attribute", json!("memberof")),
        ("project_creation_restriction", json!("everyone")),
        ("read_only", json!(false)),
        ("self_registration", json!(false)),
        ("token_expiration", json!(30)),
        ("uaa_client_id", json!("")),
        ("uaa_client_secret", json!("")),
        ("uaa_endpoint", json!("")),
        ("uaa_verify_cert", json!(false)),
        ("http_authproxy_endpoint", json!("")),
        ("http_authproxy_tokenreview_endpoint", json!("")),
        ("http_authproxy_admin_groups", json!("")),
        ("http_authproxy_admin_usernames", json!("")),
        ("http_authproxy_verify_cert", json!(true)),
        ("http_authproxy_skip_search", json!(false)),
        ("http_authproxy_server_certificate", json!("")),
        ("oidc_name", json!("")),
        ("oidc_endpoint", json!("")),
        ("oidc_client_id", json!("")),
        ("oidc_groups_claim", json!("")),
        ("oidc_admin_group", json!("")),
        ("oidc_group_filter", json!("")),
        ("oidc_scope", json!("")),
        ("oidc_user_claim", json!("")),
        ("oidc_verify_cert", json!(true)),
        ("oidc_auto_onboard", json!(false)),
        ("oidc_extra_redirect_parms", json!("{}")),
        ("oidc_logout", json!(false)),
        ("robot_token_duration", json!(30)),
        ("robot_name_prefix", json!("robot$")),
        ("notification_enable", json!(true)),
        ("quota_per_project_enable", json!(true)),
        ("storage_per_project", json!(-1)),
        ("audit_log_forward_endpoint", json!("")),
        ("skip_audit_log_database", json!(false)),
        ("scanner_skip_update_pulltime", json!(false)),
        ("scan_all_policy", json!({"type": "none"})),
        ("session_timeout", json!(60)),
        ("banner_message", json!("")),
        ("disabled_audit_log_event_types", json!("")),
    ];
    Value::Object(pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
}

#[tokio::test]
async fn a_full_harbor_configuration_is_accepted_and_harbors_other_keys_ignored() {
    let server = TestServer::start().await;
    let http = client();
    // The test's body covers every key of Harbor's swagger.
    let swagger_path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../docs/reference/harbor-api-v2.0-swagger.yaml");
    let swagger: serde_yaml::Value =
        serde_yaml::from_str(&std::fs::read_to_string(swagger_path).unwrap()).unwrap();
    let body = harbor_full_configuration();
    for definition in ["ConfigurationsResponse", "Configurations"] {
        for (key, _) in swagger["definitions"][definition]["properties"]
            .as_mapping()
            .unwrap()
        {
            let key = key.as_str().unwrap();
            let secret = matches!(key, "ldap_search_password" | "oidc_client_secret");
            assert!(secret || body.get(key).is_some(), "{key} missing");
        }
    }
    let before = configurations(&server, &http).await;
    let response = put(&server, &http, body.clone()).await;
    assert_eq!(
        response.status(),
        StatusCode::OK,
        "{}",
        message(response).await
    );
    let after = configurations(&server, &http).await;
    assert_eq!(after, before, "Harbor's defaults are Berth's");
    assert!(after.get("uaa_endpoint").is_none(), "ignored, not stored");

    // A key neither Harbor nor Berth has is refused, and then nothing changes.
    let mut unknown = body.clone();
    unknown["self_registration"] = json!(true);
    unknown["colour"] = json!("blue");
    let response = put(&server, &http, unknown).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(message(response).await.contains("\"colour\""));
    // A Harbor key with a value of the wrong type is refused too.
    let response = put(&server, &http, json!({"session_timeout": "an hour"})).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(
        message(response)
            .await
            .contains("session_timeout must be an integer")
    );
    assert_eq!(configurations(&server, &http).await, before);
    server.stop().await;
}
