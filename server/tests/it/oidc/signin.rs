//! `oidc_auth` end to end: a Berth configured through `PUT /configurations` against the real provider, signed
//! in to through `/c/oidc/login` and `/c/oidc/callback` (the provider's login page played by
//! [`OidcProvider::sign_in`]), onboarding, groups, the CLI secret with skopeo, and `/system/oidc/ping`.

use reqwest::{Client, StatusCode, Url};
use serde_json::{Value, json};

use super::provider::{CLIENT_SECRET, OidcProvider};
use crate::api::{As, api, create_project, get_json};
use crate::clients::{ClientEnv, skopeo_copy_cmd};
use crate::images::{Image, Layout, require_tool, run_fails, run_ok};
use crate::support::{ADMIN_PASSWORD, ADMIN_USER, TestServer, browser, client};

/// A Berth in `oidc_auth` against a fresh provider (admin group `berth-admins`, groups claim `groups`).
async fn oidc_berth(auto_onboard: bool) -> (TestServer, OidcProvider) {
    let server = TestServer::start().await;
    let callback = server.url("/c/oidc/callback");
    let provider = OidcProvider::start(&[&callback]);
    let response = client()
        .put(api(&server, "/configurations"))
        .admin()
        .json(&json!({
            "auth_mode": "oidc_auth",
            "oidc_name": "TestID",
            "oidc_endpoint": provider.issuer(),
            "oidc_client_id": provider.client_id(),
            "oidc_client_secret": CLIENT_SECRET,
            "oidc_scope": "openid,profile,email,groups",
            "oidc_groups_claim": "groups",
            "oidc_admin_group": "berth-admins",
            "oidc_auto_onboard": auto_onboard,
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK, "configuring oidc_auth");
    (server, provider)
}

fn location(response: &reqwest::Response) -> String {
    response.headers()["location"].to_str().unwrap().to_owned()
}

/// Starts a sign-in in `http`'s session: the provider's authorization URL Berth redirects to.
async fn start(server: &TestServer, http: &Client) -> Url {
    let response = http.get(server.url("/c/oidc/login")).send().await.unwrap();
    assert!(response.status().is_redirection(), "{}", response.status());
    Url::parse(&location(&response)).unwrap()
}

/// Hands the provider's answer to Berth's callback; returns where Berth sends the browser.
async fn callback(server: &TestServer, http: &Client, code: &str, state: &str) -> String {
    let query = serde_urlencoded::to_string([("code", code), ("state", state)]).unwrap();
    let response = http
        .get(server.url(&format!("/c/oidc/callback?{query}")))
        .send()
        .await
        .unwrap();
    assert!(response.status().is_redirection(), "{}", response.status());
    location(&response)
}

/// Signs `login` in through the provider in a new browser; returns it and where Berth sent it.
async fn sign_in(server: &TestServer, provider: &OidcProvider, login: &str) -> (Client, String) {
    let http = browser();
    let url = start(server, &http).await;
    let (code, state) = provider.sign_in(&url, login).await;
    let landed = callback(server, &http, &code, &state).await;
    (http, landed)
}

async fn me(server: &TestServer, http: &Client) -> Value {
    let response = http
        .get(api(server, "/users/current"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oidc_user_signs_in_with_their_groups_and_uses_the_cli_secret() {
    require_tool("skopeo");
    let (server, provider) = oidc_berth(true).await;

    // The redirect carries PKCE, state and nonce, and the client id.
    let http = browser();
    let url = start(&server, &http).await;
    let query: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    for key in [
        "state",
        "nonce",
        "code_challenge",
        "client_id",
        "redirect_uri",
    ] {
        assert!(query.iter().any(|(k, _)| k == key), "{key} in {url}");
    }
    assert!(query.contains(&("code_challenge_method".to_owned(), "S256".to_owned())));

    // alice lands in the console as herself, created with her groups; she is an admin by `berth-admins`.
    let (code, state) = provider.sign_in(&url, "alice").await;
    assert_eq!(
        callback(&server, &http, &code, &state).await,
        "/harbor/projects"
    );
    let alice = me(&server, &http).await;
    assert_eq!(alice["username"], "alice");
    assert_eq!(alice["admin_role_in_auth"], true);
    let secret = alice["oidc_user_meta"]["secret"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(secret.len() >= 32, "{alice}");
    let groups: Value = get_json(&client(), api(&server, "/usergroups?page_size=50")).await;
    let mut names: Vec<(&str, i64)> = groups
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            (
                g["group_name"].as_str().unwrap(),
                g["group_type"].as_i64().unwrap(),
            )
        })
        .collect();
    names.sort();
    assert_eq!(names, [("berth-admins", 3), ("developers", 3)]);

    // bob (group `qa`) is no admin; `qa` as a project member gives him pull; he signs in again as the same user.
    let (bob_browser, landed) = sign_in(&server, &provider, "bob").await;
    assert_eq!(landed, "/harbor/projects");
    let bob = me(&server, &bob_browser).await;
    assert_eq!(bob["admin_role_in_auth"], false);
    let bob_secret = bob["oidc_user_meta"]["secret"].as_str().unwrap().to_owned();
    let (again, _) = sign_in(&server, &provider, "bob").await;
    assert_eq!(me(&server, &again).await["user_id"], bob["user_id"]);

    let http = client();
    create_project(&server, &http, json!({"project_name": "team"})).await;
    let response = http
        .post(api(&server, "/projects/team/members"))
        .admin()
        .json(&json!({"role_id": 3, "member_group": {"group_name": "qa", "group_type": 3}}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);

    // The CLI secret works for skopeo: alice (admin) pushes, bob (guest via `qa`) pulls but cannot push.
    let env = ClientEnv::new();
    let host = server.host();
    run_ok(&mut env.skopeo_login(&host, "alice", &secret));
    let mut layout = Layout::create(&env.path("layout"));
    layout.add_image("1", &Image::build(8, "amd64", &[30_000]));
    let dest = format!("docker://{host}/team/app:1");
    let alice_creds = format!("alice:{secret}");
    run_ok(&mut skopeo_copy_cmd(
        &env,
        &layout.reference("1"),
        &dest,
        Some(&alice_creds),
        false,
    ));
    let bob_creds = format!("bob:{bob_secret}");
    let pulled = env.path("pulled");
    run_ok(&mut skopeo_copy_cmd(
        &env,
        &dest,
        &format!("oci:{}:1", pulled.display()),
        Some(&bob_creds),
        false,
    ));
    run_fails(&mut skopeo_copy_cmd(
        &env,
        &layout.reference("1"),
        &format!("docker://{host}/team/bob:1"),
        Some(&bob_creds),
        false,
    ));

    // A regenerated secret replaces the old one at once; weak secrets are refused; others may not set it.
    let bob_id = bob["user_id"].as_i64().unwrap();
    let set = |who: &Client, secret: &str| {
        who.put(api(&server, &format!("/users/{bob_id}/cli_secret")))
            .json(&json!({"secret": secret}))
    };
    let csrf = {
        let response = bob_browser
            .get(api(&server, "/users/current"))
            .send()
            .await
            .unwrap();
        response.headers()["x-harbor-csrf-token"]
            .to_str()
            .unwrap()
            .to_owned()
    };
    let response = set(&bob_browser, "weak")
        .header("x-harbor-csrf-token", &csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let response = set(&bob_browser, "NewSecret123")
        .header("x-harbor-csrf-token", &csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let token = |user: &str, pw: &str| {
        client()
            .get(server.url("/service/token?service=berth&scope=repository:team/app:pull"))
            .basic_auth(user.to_owned(), Some(pw.to_owned()))
            .send()
    };
    assert_eq!(
        token("bob", &bob_secret).await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        token("bob", "NewSecret123").await.unwrap().status(),
        StatusCode::OK
    );
    let alice_sets_bobs = client()
        .put(api(&server, &format!("/users/{bob_id}/cli_secret")))
        .basic_auth("alice", Some(&secret))
        .json(&json!({"secret": "Another123x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        alice_sets_bobs.status(),
        StatusCode::OK,
        "alice is a system admin"
    );
    let outsider = client()
        .put(api(&server, "/users/1/cli_secret"))
        .basic_auth("bob", Some("Another123x"))
        .json(&json!({"secret": "Another123x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(outsider.status(), StatusCode::FORBIDDEN);

    // Others see bob's OIDC link but never his secret.
    let seen: Value = get_json(&client(), api(&server, &format!("/users/{bob_id}"))).await;
    assert!(
        seen["oidc_user_meta"]["subiss"]
            .as_str()
            .unwrap()
            .contains("127.0.0.1")
    );
    assert!(seen["oidc_user_meta"].get("secret").is_none(), "{seen}");

    // Removed, bob's secret stops working.
    let response = client()
        .delete(api(&server, &format!("/users/{bob_id}")))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        token("bob", "Another123x").await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    // bob's identity can come back: a new user, with a new secret.
    let (back, landed) = sign_in(&server, &provider, "bob").await;
    assert_eq!(landed, "/harbor/projects");
    let new_bob = me(&server, &back).await;
    assert_eq!(new_bob["username"], "bob");
    assert_ne!(new_bob["user_id"], bob["user_id"]);

    // The console's password form is for the local admin only.
    let form = |user: &str, pw: &str| {
        browser()
            .post(server.url("/c/login"))
            .form(&[("principal", user.to_owned()), ("password", pw.to_owned())])
            .send()
    };
    assert_eq!(
        form("alice", &secret).await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        form(ADMIN_USER, ADMIN_PASSWORD).await.unwrap().status(),
        StatusCode::OK
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tampered_state_a_replay_and_a_foreign_callback_are_refused() {
    let (server, provider) = oidc_berth(true).await;

    // A tampered state: refused, nobody signed in.
    let http = browser();
    let url = start(&server, &http).await;
    let (code, state) = provider.sign_in(&url, "alice").await;
    let landed = callback(&server, &http, &code, &format!("{state}x")).await;
    assert!(
        landed.starts_with("/account/sign-in?oidc_error="),
        "{landed}"
    );
    let response = http
        .get(api(&server, "/users/current"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    // The pending sign-in was spent: the right state now is refused too (no replay).
    let landed = callback(&server, &http, &code, &state).await;
    assert!(landed.contains("no+sign-in+in+progress"), "{landed}");

    // A callback in a browser that never started a sign-in is refused.
    let stranger = browser();
    let url = start(&server, &http).await;
    let (code, state) = provider.sign_in(&url, "bob").await;
    let landed = callback(&server, &stranger, &code, &state).await;
    assert!(
        landed.starts_with("/account/sign-in?oidc_error="),
        "{landed}"
    );
    // The provider refusing (e.g. the user denies consent) is reported too.
    let http = browser();
    start(&server, &http).await;
    let response = http
        .get(server.url("/c/oidc/callback?error=access_denied&state=x"))
        .send()
        .await
        .unwrap();
    assert!(location(&response).contains("refused"));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_auto_onboarding_a_new_user_chooses_a_username() {
    let (server, provider) = oidc_berth(false).await;

    // `nameless` gives no username: onboarding, with no suggestion.
    let (http, landed) = sign_in(&server, &provider, "nameless").await;
    assert_eq!(landed, "/oidc-onboard?username=");
    let onboard = |http: &Client, name: &str| {
        http.post(server.url("/c/oidc/onboard"))
            .json(&json!({"username": name}))
            .send()
    };
    assert_eq!(
        onboard(&http, "has space").await.unwrap().status(),
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        onboard(&http, ADMIN_USER).await.unwrap().status(),
        StatusCode::CONFLICT
    );
    assert_eq!(
        onboard(&http, "chosen").await.unwrap().status(),
        StatusCode::OK
    );
    assert_eq!(me(&server, &http).await["username"], "chosen");
    // Next time the same identity signs straight in, whatever it is called.
    let (again, landed) = sign_in(&server, &provider, "nameless").await;
    assert_eq!(landed, "/harbor/projects");
    assert_eq!(me(&server, &again).await["username"], "chosen");

    // alice gets her name as the suggestion, and nothing is created before she confirms.
    let (_, landed) = sign_in(&server, &provider, "alice").await;
    assert_eq!(landed, "/oidc-onboard?username=alice");
    let users: Value = get_json(&client(), api(&server, "/users/search?username=alice")).await;
    assert_eq!(users, json!([]));

    // Onboarding needs a pending sign-in.
    assert_eq!(
        onboard(&browser(), "intruder").await.unwrap().status(),
        StatusCode::BAD_REQUEST
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oidc_ping_and_sign_in_outside_oidc_mode() {
    let server = TestServer::start().await;
    let provider = OidcProvider::start(&[&server.url("/c/oidc/callback")]);
    let ping = |url: String| {
        client()
            .post(api(&server, "/system/oidc/ping"))
            .admin()
            .json(&json!({"url": url, "verify_cert": true}))
            .send()
    };
    assert_eq!(
        ping(provider.issuer().to_owned()).await.unwrap().status(),
        StatusCode::OK
    );
    let refused = ping("http://127.0.0.1:1".to_owned()).await.unwrap();
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    let body: Value = refused.json().await.unwrap();
    assert!(!body["errors"][0]["message"].as_str().unwrap().is_empty());
    let anonymous = client()
        .post(api(&server, "/system/oidc/ping"))
        .json(&json!({"url": provider.issuer()}))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);

    // In db_auth there is no provider sign-in, and no CLI secret.
    let response = browser()
        .get(server.url("/c/oidc/login"))
        .send()
        .await
        .unwrap();
    assert!(location(&response).starts_with("/account/sign-in?oidc_error="));
    let response = client()
        .put(api(&server, "/users/1/cli_secret"))
        .admin()
        .json(&json!({"secret": "Harbor12345"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::PRECONDITION_FAILED);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sign_in_lands_on_the_console_page_asked_for_if_it_is_on_this_site() {
    let (server, provider) = oidc_berth(true).await;
    for (asked, landing) in [
        ("/harbor/users", "/harbor/users"),
        (
            "/harbor/projects/1/repositories?page=2",
            "/harbor/projects/1/repositories?page=2",
        ),
        ("//evil.example/x", "/harbor/projects"),
        ("https://evil.example/", "/harbor/projects"),
        // Browsers drop the tab (and follow `\`, or a line break, like `/`), which makes these `//evil.example`.
        ("/\t/evil.example/x", "/harbor/projects"),
        ("/\\/evil.example/x", "/harbor/projects"),
        ("/\n/evil.example/x", "/harbor/projects"),
        ("/ /evil.example/x", "/harbor/projects"),
    ] {
        let http = browser();
        let query = serde_urlencoded::to_string([("redirect_url", asked)]).unwrap();
        let response = http
            .get(server.url(&format!("/c/oidc/login?{query}")))
            .send()
            .await
            .unwrap();
        let url = Url::parse(&location(&response)).unwrap();
        let (code, state) = provider.sign_in(&url, "alice").await;
        assert_eq!(
            callback(&server, &http, &code, &state).await,
            landing,
            "{asked}"
        );
    }
    server.stop().await;
}

#[tokio::test]
async fn the_callbacks_code_and_state_stay_out_of_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = crate::support::BinaryServer::start(&data);
    let response = client()
        .get(server.url("/c/oidc/callback?code=CODE-0f1e2d&state=STATE-9a8b7c"))
        .send()
        .await
        .unwrap();
    assert!(response.status().is_redirection());
    let log = std::fs::read_to_string(data.with_extension("log")).unwrap();
    assert!(
        log.contains("OIDC callback refused"),
        "the request logged a line: {log}"
    );
    assert!(!log.contains("CODE-0f1e2d"), "{log}");
    assert!(!log.contains("STATE-9a8b7c"), "{log}");
}
