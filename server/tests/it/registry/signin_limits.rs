//! Sign-in limits on every surface: the throttle counts by name and address and locks a name only from the
//! address that guessed, concurrency beyond the admission limits is a 429 with `Retry-After` in each
//! surface's own error shape, and names without a password cost a hash like names with one.
//!
//! Clients from other addresses are real: they connect from 127.0.0.2 and up, which Linux routes over loopback.

use std::net::IpAddr;

use reqwest::{Client, Response, StatusCode};
use serde_json::{Value, json};

use super::{error_code, header};
use crate::api::{api, robots::create_robot, robots::project_robot};
use crate::support::{ADMIN_PASSWORD, ADMIN_USER, TestServer, client};

const PASSWORD: &str = "Passw0rd-ok";

/// A client that connects from `127.0.0.<last>`.
fn from(last: u8) -> Client {
    reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .local_address(IpAddr::from([127, 0, 0, last]))
        .build()
        .unwrap()
}

async fn token(server: &TestServer, http: &Client, user: &str, password: &str) -> Response {
    http.get(server.url("/service/token?service=berth-registry"))
        .basic_auth(user, Some(password))
        .send()
        .await
        .unwrap()
}

async fn v2(server: &TestServer, http: &Client, user: &str, password: &str) -> Response {
    http.get(server.url("/v2/"))
        .basic_auth(user, Some(password))
        .send()
        .await
        .unwrap()
}

async fn rest(server: &TestServer, http: &Client, user: &str, password: &str) -> Response {
    http.get(api(server, "/users/current"))
        .basic_auth(user, Some(password))
        .send()
        .await
        .unwrap()
}

async fn console(server: &TestServer, http: &Client, user: &str, password: &str) -> Response {
    http.post(server.url("/c/login"))
        .form(&[("principal", user), ("password", password)])
        .send()
        .await
        .unwrap()
}

/// The statuses of signing in as `user` on the token service, `/v2`, the REST API and the console.
async fn everywhere(
    server: &TestServer,
    http: &Client,
    user: &str,
    password: &str,
) -> [StatusCode; 4] {
    [
        token(server, http, user, password).await.status(),
        v2(server, http, user, password).await.status(),
        rest(server, http, user, password).await.status(),
        console(server, http, user, password).await.status(),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_wrong_passwords_hash_at_most_lock_after_times() {
    let server = TestServer::start_with(|config| config.signin_throttle.delay_ms = 20).await;
    server.create_user("victim", PASSWORD, false).await;
    let http = client();
    let before = server.state.passwords.hashes_checked();
    let attempts = (0..80).map(|n| {
        let http = http.clone();
        let url = server.url("/service/token?service=berth-registry");
        async move {
            http.get(url)
                .basic_auth("victim", Some(format!("guess-{n}")))
                .send()
                .await
                .unwrap()
        }
    });
    let responses = futures_util::future::join_all(attempts).await;
    for response in &responses {
        match response.status() {
            StatusCode::UNAUTHORIZED => {}
            StatusCode::TOO_MANY_REQUESTS => assert_eq!(header(response, "retry-after"), "1"),
            other => panic!("unexpected {other}"),
        }
    }
    let hashed = server.state.passwords.hashes_checked() - before;
    let lock_after = u64::from(server.state.config.signin_throttle.lock_after);
    assert!(
        (1..=lock_after).contains(&hashed),
        "80 parallel guesses ran argon2 {hashed} times; the lock is at {lock_after}"
    );
    server.stop().await;
}

#[tokio::test]
async fn beyond_the_admission_limits_every_surface_answers_429_in_its_own_shape() {
    let server = TestServer::start_with(|config| config.signin_throttle.pending_checks = 6).await;
    server.create_user("alice", PASSWORD, false).await;
    server.create_user("bob", PASSWORD, false).await;
    server.create_user("carol", PASSWORD, false).await;
    let http = client();
    let admission = server.state.passwords.admission();
    let per_name = server.state.config.signin_throttle.pending_per_name;
    let alices: Vec<_> = (0..per_name)
        .map(|_| admission.admit("alice", None).unwrap())
        .collect();

    let response = token(&server, &http, "alice", PASSWORD).await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(header(&response, "retry-after"), "1");
    assert_eq!(error_code(response).await, "TOO_MANY_REQUESTS");
    let response = v2(&server, &http, "alice", PASSWORD).await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(header(&response, "retry-after"), "1");
    assert_eq!(
        error_code(response).await,
        "TOOMANYREQUESTS",
        "the OCI spec's code on /v2"
    );
    for response in [
        rest(&server, &http, "alice", PASSWORD).await,
        console(&server, &http, "alice", PASSWORD).await,
    ] {
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(header(&response, "retry-after"), "1");
        assert!(response.headers().get("set-cookie").is_none());
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["errors"][0]["code"], "TOO_MANY_REQUESTS", "{body}");
    }
    // Bob is not held up by alice's limit, until the server-wide one is reached too.
    assert_eq!(
        token(&server, &http, "bob", PASSWORD).await.status(),
        StatusCode::OK
    );
    let others: Vec<_> = (0..2)
        .map(|n| admission.admit(&format!("other{n}"), None).unwrap())
        .collect();
    let response = token(&server, &http, "carol", PASSWORD).await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    // A password checked a moment ago is remembered, and needs no place.
    assert_eq!(
        token(&server, &http, "bob", PASSWORD).await.status(),
        StatusCode::OK
    );

    // Places given back, everyone signs in; being turned away counted as no failure.
    drop((alices, others));
    assert_eq!(
        everywhere(&server, &client(), "alice", PASSWORD).await,
        [StatusCode::OK; 4]
    );
    server.stop().await;
}

#[tokio::test]
async fn the_token_service_and_v2_count_failures_by_address_too() {
    let server = TestServer::start_with(|config| {
        config.signin_throttle.delay_ms = 1;
        config.signin_throttle.lock_after = 2;
    })
    .await;
    server.create_user("alice", PASSWORD, false).await;
    let http = client();
    // Ten names, one failure each: no name is locked, but the address is (2 × 5 failures).
    for n in 0..10 {
        let user = format!("user{n}");
        let status = if n % 2 == 0 {
            token(&server, &http, &user, "guess").await.status()
        } else {
            v2(&server, &http, &user, "guess").await.status()
        };
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{user}");
    }
    assert_eq!(
        token(&server, &http, "alice", PASSWORD).await.status(),
        StatusCode::UNAUTHORIZED,
        "the token service refuses a locked address"
    );
    assert_eq!(
        v2(&server, &http, "alice", PASSWORD).await.status(),
        StatusCode::UNAUTHORIZED,
        "/v2 refuses a locked address"
    );
    assert_eq!(
        everywhere(&server, &from(2), "alice", PASSWORD).await,
        [StatusCode::OK; 4]
    );
    server.stop().await;
}

#[tokio::test]
async fn a_guesser_locks_out_their_own_address_never_the_account() {
    let server = TestServer::start_with(|config| config.signin_throttle.delay_ms = 1).await;
    let lock_after = server.state.config.signin_throttle.lock_after;
    let guesser = from(3);
    for _ in 0..lock_after {
        let response = token(&server, &guesser, ADMIN_USER, "guess").await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }
    assert_eq!(
        everywhere(&server, &guesser, ADMIN_USER, ADMIN_PASSWORD).await,
        [StatusCode::UNAUTHORIZED; 4],
        "locked from the guessing address"
    );
    assert_eq!(
        everywhere(&server, &client(), ADMIN_USER, ADMIN_PASSWORD).await,
        [StatusCode::OK; 4],
        "admin signs in from anywhere else"
    );

    // A robot is slowed down, never locked, even from the address that guessed.
    let http = client();
    let response = http
        .post(api(&server, "/projects"))
        .basic_auth(ADMIN_USER, Some(ADMIN_PASSWORD))
        .json(&json!({"project_name": "team"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let (_, robot, secret) = create_robot(
        &http,
        &api(&server, "/robots"),
        &project_robot("team", "ci", &[("repository", "pull")]),
    )
    .await;
    let ci = from(4);
    for _ in 0..lock_after * 2 {
        let response = token(&server, &ci, &robot, "stale-secret").await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }
    assert_eq!(
        token(&server, &ci, &robot, &secret).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        v2(&server, &ci, &robot, &secret).await.status(),
        StatusCode::OK
    );
    server.stop().await;
}

#[tokio::test]
async fn names_without_a_password_cost_a_hash_like_names_with_one() {
    let server = TestServer::start().await;
    server.create_user("alice", PASSWORD, false).await;
    server
        .state
        .db
        .onboard_external_user("ldap-user", None, "")
        .await
        .unwrap();
    let http = client();
    for (user, why) in [
        ("alice", "a wrong password"),
        ("nobody", "an unknown user"),
        ("ldap-user", "a user without a local password"),
        ("robot$nobody", "an unknown robot"),
    ] {
        let before = server.state.passwords.hashes_checked();
        let response = token(&server, &http, user, "guess").await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{why}");
        assert_eq!(
            server.state.passwords.hashes_checked() - before,
            1,
            "{why} is checked against a hash"
        );
    }
    server.stop().await;
}
