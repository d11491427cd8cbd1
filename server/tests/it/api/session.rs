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

/// Creates user `name` (password `Passw0rdX`); returns its id.
async fn user(server: &TestServer, name: &str) -> i64 {
    server.create_user(name, "Passw0rdX", false).await;
    server.state.db.find_user(name).await.unwrap().unwrap().id
}

/// The status of `GET /users/current` in `http`'s session.
async fn me(server: &TestServer, http: &Client) -> StatusCode {
    http.get(api(server, "/users/current"))
        .send()
        .await
        .unwrap()
        .status()
}

#[tokio::test]
async fn log_out_ends_the_session_by_post_only() {
    let server = TestServer::start().await;
    let http = browser();
    sign_in(&server, &http, ADMIN_USER, ADMIN_PASSWORD).await;
    // A GET (an image tag on any page could send one) does nothing.
    let response = http.get(server.url("/c/log_out")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(me(&server, &http).await, StatusCode::OK);

    // POST ends it, and logging out twice is harmless.
    for _ in 0..2 {
        let response = http.post(server.url("/c/log_out")).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
    }
    assert_eq!(me(&server, &http).await, StatusCode::UNAUTHORIZED);
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

#[tokio::test]
async fn cross_site_sign_in_and_sign_out_are_refused() {
    let server = TestServer::start().await;
    let http = browser();
    let form = [("principal", ADMIN_USER), ("password", ADMIN_PASSWORD)];
    let post = |path: &str, name: &'static str, value: String| {
        http.post(server.url(path))
            .header(name, value)
            .form(&form)
            .send()
    };
    for (name, value) in [
        ("origin", "http://evil.example".to_owned()),
        ("origin", "null".to_owned()),
        ("sec-fetch-site", "cross-site".to_owned()),
        ("sec-fetch-site", "same-site".to_owned()),
    ] {
        let response = post("/c/login", name, value.clone()).await.unwrap();
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{name}: {value}");
        assert!(response.headers().get("set-cookie").is_none());
        assert!(response.headers().get(CSRF).is_none());
    }
    assert_eq!(me(&server, &http).await, StatusCode::UNAUTHORIZED);

    // The console's own page (same origin) signs in, and a form of another content type is refused.
    let response = post("/c/login", "origin", format!("http://{}", server.host()))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let response = http
        .post(server.url("/c/login"))
        .header("content-type", "text/plain")
        .body(format!("principal={ADMIN_USER}&password={ADMIN_PASSWORD}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);

    let evil = "http://evil.example".to_owned();
    let response = post("/c/log_out", "origin", evil).await.unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(me(&server, &http).await, StatusCode::OK, "still signed in");
    let same = "same-origin".to_owned();
    let response = post("/c/log_out", "sec-fetch-site", same).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(me(&server, &http).await, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_password_change_ends_the_users_other_sessions() {
    let server = TestServer::start().await;
    let id = user(&server, "alice").await;
    let (laptop, phone) = (browser(), browser());
    let csrf = sign_in(&server, &laptop, "alice", "Passw0rdX").await;
    sign_in(&server, &phone, "alice", "Passw0rdX").await;

    // Alice changes it from her laptop: the laptop stays signed in, the phone is signed out.
    let response = laptop
        .put(api(&server, &format!("/users/{id}/password")))
        .header(CSRF, &csrf)
        .json(&json!({"old_password": "Passw0rdX", "new_password": "Passw0rdY"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(me(&server, &laptop).await, StatusCode::OK);
    assert_eq!(me(&server, &phone).await, StatusCode::UNAUTHORIZED);
    sign_in(&server, &phone, "alice", "Passw0rdY").await;

    // An administrator sets a new one: every session of hers ends.
    let response = browser()
        .put(api(&server, &format!("/users/{id}/password")))
        .admin()
        .json(&json!({"new_password": "Passw0rdZ"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(me(&server, &laptop).await, StatusCode::UNAUTHORIZED);
    assert_eq!(me(&server, &phone).await, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn removing_a_user_ends_their_sessions() {
    let server = TestServer::start().await;
    let id = user(&server, "alice").await;
    let http = browser();
    sign_in(&server, &http, "alice", "Passw0rdX").await;
    assert_eq!(me(&server, &http).await, StatusCode::OK);
    let response = browser()
        .delete(api(&server, &format!("/users/{id}")))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(me(&server, &http).await, StatusCode::UNAUTHORIZED);
}

/// Signs the admin in with `http`; returns the session cookie.
async fn admin_cookie(server: &TestServer, http: &Client) -> String {
    let response = login(server, http, ADMIN_USER, ADMIN_PASSWORD).await;
    assert_eq!(response.status(), StatusCode::OK);
    response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_owned()
}

/// Moves the start of the session behind `cookie` (`sid=...`) back by `by`.
async fn age_session(server: &TestServer, cookie: &str, by: Duration) {
    use tower_sessions::SessionStore as _;
    let id: tower_sessions::session::Id = cookie
        .trim_start_matches("sid=")
        .split(';')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let mut record = server.state.sessions.load(&id).await.unwrap().unwrap();
    let started = record.data["signed_in_at"].as_i64().unwrap();
    record.data.insert(
        "signed_in_at".to_owned(),
        json!(started - by.as_secs() as i64),
    );
    server.state.sessions.save(&record).await.unwrap();
}

#[tokio::test]
async fn a_session_ends_at_its_lifetime_however_active() {
    let server = TestServer::start().await;
    assert_eq!(
        server.state.config.session_lifetime(),
        Duration::from_secs(12 * 3600),
        "Berth's default"
    );
    let http = browser();
    let cookie = admin_cookie(&server, &http).await;
    age_session(&server, &cookie, Duration::from_secs(11 * 3600)).await;
    assert_eq!(me(&server, &http).await, StatusCode::OK, "11 hours in");
    age_session(&server, &cookie, Duration::from_secs(3600)).await;
    assert_eq!(
        me(&server, &http).await,
        StatusCode::UNAUTHORIZED,
        "12 hours in"
    );

    let server = TestServer::start_with(|config| config.session_lifetime_minutes = 60).await;
    let http = browser();
    let cookie = admin_cookie(&server, &http).await;
    age_session(&server, &cookie, Duration::from_secs(61 * 60)).await;
    assert_eq!(
        me(&server, &http).await,
        StatusCode::UNAUTHORIZED,
        "configured: an hour"
    );
}
