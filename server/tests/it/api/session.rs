//! `/c/login` and `/c/log_out`, cookie-authenticated REST calls with Harbor's CSRF header, and sign-in throttling.

use std::time::{Duration, Instant};

use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

use super::{As, api, error_code};
use crate::support::{ADMIN_PASSWORD, ADMIN_USER, TestServer, browser};

const CSRF: &str = "x-harbor-csrf-token";

async fn login(
    server: &TestServer,
    http: &Client,
    user: &str,
    password: &str,
) -> reqwest::Response {
    http.post(server.url("/c/login"))
        .form(&[("principal", user), ("password", password)])
        .send()
        .await
        .unwrap()
}

/// Signs in and returns the CSRF token.
async fn sign_in(server: &TestServer, http: &Client, user: &str, password: &str) -> String {
    let response = login(server, http, user, password).await;
    assert_eq!(response.status(), StatusCode::OK);
    response.headers()[CSRF].to_str().unwrap().to_owned()
}

#[tokio::test]
async fn login_sets_an_httponly_cookie_and_returns_the_csrf_token() {
    let server = TestServer::start().await;
    let http = browser();
    let response = login(&server, &http, ADMIN_USER, ADMIN_PASSWORD).await;
    assert_eq!(response.status(), StatusCode::OK);
    let csrf = response.headers()[CSRF].to_str().unwrap().to_owned();
    assert!(csrf.len() >= 32, "{csrf}");
    let cookie = response.headers()["set-cookie"].to_str().unwrap();
    assert!(cookie.starts_with("sid="), "{cookie}");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Lax"), "{cookie}");
    assert!(
        !cookie.contains("Secure"),
        "no Secure flag over plain http: {cookie}"
    );

    let me = http
        .get(api(&server, "/users/current"))
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), StatusCode::OK);
    assert_eq!(
        me.headers()[CSRF].to_str().unwrap(),
        csrf,
        "cookie-authenticated responses repeat the CSRF token"
    );
    let me: Value = me.json().await.unwrap();
    assert_eq!(me["username"], ADMIN_USER);

    let anonymous = browser()
        .get(api(&server, "/projects"))
        .send()
        .await
        .unwrap();
    assert!(anonymous.headers().get(CSRF).is_none());
}

#[tokio::test]
async fn the_cookie_is_secure_when_berth_is_reached_over_https() {
    let server = TestServer::start_with(|config| {
        config.external_url = Some("https://registry.example.com".to_owned());
    })
    .await;
    let response = login(&server, &browser(), ADMIN_USER, ADMIN_PASSWORD).await;
    assert_eq!(response.status(), StatusCode::OK);
    let cookie = response.headers()["set-cookie"].to_str().unwrap();
    assert!(cookie.contains("Secure"), "{cookie}");
}

#[tokio::test]
async fn a_cookie_mutation_needs_the_csrf_header() {
    let server = TestServer::start().await;
    let http = browser();
    let csrf = sign_in(&server, &http, ADMIN_USER, ADMIN_PASSWORD).await;
    let project = json!({"project_name": "web", "metadata": {"public": "false"}});

    let without = http
        .post(api(&server, "/projects"))
        .json(&project)
        .send()
        .await
        .unwrap();
    assert_eq!(without.status(), StatusCode::FORBIDDEN);
    let body: Value = without.json().await.unwrap();
    let message = body["errors"][0]["message"].as_str().unwrap_or_default();
    assert!(message.contains("x-harbor-csrf-token"), "{message}");

    let wrong = http
        .post(api(&server, "/projects"))
        .header(CSRF, "not-the-token")
        .json(&project)
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::FORBIDDEN);

    let with = http
        .post(api(&server, "/projects"))
        .header(CSRF, &csrf)
        .json(&project)
        .send()
        .await
        .unwrap();
    assert_eq!(with.status(), StatusCode::CREATED);
    let head = http
        .head(api(&server, "/projects?project_name=web"))
        .send()
        .await
        .unwrap();
    assert_eq!(head.status(), StatusCode::OK);
}

#[tokio::test]
async fn basic_credentials_need_no_csrf_header() {
    let server = TestServer::start().await;
    let response = browser()
        .post(api(&server, "/projects"))
        .admin()
        .json(&json!({"project_name": "automation"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn log_out_ends_the_session() {
    let server = TestServer::start().await;
    let http = browser();
    sign_in(&server, &http, ADMIN_USER, ADMIN_PASSWORD).await;
    let response = http.get(server.url("/c/log_out")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let me = http
        .get(api(&server, "/users/current"))
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), StatusCode::UNAUTHORIZED);

    // POST works too, and logging out twice is harmless.
    sign_in(&server, &http, ADMIN_USER, ADMIN_PASSWORD).await;
    for _ in 0..2 {
        let response = http.post(server.url("/c/log_out")).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
    }
    let me = http
        .get(api(&server, "/users/current"))
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_failed_login_says_nothing_about_which_part_was_wrong() {
    let server = TestServer::start().await;
    let http = browser();
    let wrong_password = login(&server, &http, ADMIN_USER, "nope").await;
    assert_eq!(wrong_password.status(), StatusCode::UNAUTHORIZED);
    assert!(wrong_password.headers().get("set-cookie").is_none());
    assert!(wrong_password.headers().get(CSRF).is_none());
    let wrong_password: Value = wrong_password.json().await.unwrap();
    let no_such_user: Value = login(&server, &http, "nobody", "nope")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(wrong_password, no_such_user);
    assert_eq!(
        wrong_password["errors"][0]["message"],
        "invalid username or password"
    );

    let no_session = http
        .get(api(&server, "/users/current"))
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(no_session).await, "UNAUTHORIZED");
}

#[tokio::test]
async fn repeated_failures_slow_down_then_lock_even_the_right_password() {
    let server = TestServer::start_with(|config| {
        config.signin_throttle.delay_ms = 20;
        config.signin_throttle.lock_secs = 60;
    })
    .await;
    server.create_user("mallory", "Passw0rdX", false).await;
    let http = browser();
    let lock_after = server.state.config.signin_throttle.lock_after;
    for attempt in 1..=lock_after {
        let started = Instant::now();
        let response = login(&server, &http, "mallory", "guess").await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{attempt}");
        if attempt > server.state.config.signin_throttle.delay_after {
            assert!(
                started.elapsed() >= Duration::from_millis(20),
                "attempt {attempt} was not delayed"
            );
        }
    }

    // Locked: the right password is refused too, on every sign-in path, with the same message.
    let response = login(&server, &http, "mallory", "Passw0rdX").await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["errors"][0]["message"], "invalid username or password");
    let basic = http
        .get(api(&server, "/users/current"))
        .user("mallory", "Passw0rdX")
        .send()
        .await
        .unwrap();
    assert_eq!(basic.status(), StatusCode::UNAUTHORIZED);

    // Other accounts, even from the same address, are not affected by mallory's lock.
    server.create_user("trent", "Passw0rdX", false).await;
    sign_in(&server, &http, "trent", "Passw0rdX").await;
}

#[tokio::test]
async fn a_success_resets_the_failure_count() {
    let server = TestServer::start_with(|config| {
        config.signin_throttle.delay_ms = 1;
        config.signin_throttle.lock_after = 3;
    })
    .await;
    let http = browser();
    for _ in 0..2 {
        let response = login(&server, &http, ADMIN_USER, "guess").await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }
    sign_in(&server, &http, ADMIN_USER, ADMIN_PASSWORD).await;
    for _ in 0..2 {
        let response = login(&server, &http, ADMIN_USER, "guess").await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }
    sign_in(&server, &http, ADMIN_USER, ADMIN_PASSWORD).await;
}

#[tokio::test]
async fn a_malformed_login_form_is_a_bad_request() {
    let server = TestServer::start().await;
    let response = browser()
        .post(server.url("/c/login"))
        .form(&[("principal", ADMIN_USER)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
}
