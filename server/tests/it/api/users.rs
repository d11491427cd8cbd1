//! `/users`, `/users/current` and `/users/{user_id}`.

use std::collections::BTreeSet;

use reqwest::StatusCode;
use serde_json::{Value, json};

use super::{As, api, error_code};
use crate::support::{ADMIN_USER, TestServer, client};

const PASSWORD: &str = "Passw0rdX";

/// Harbor's `UserResp` fields, as Berth fills them (no `oidc_user_meta`).
const USER_FIELDS: [&str; 9] = [
    "admin_role_in_auth",
    "comment",
    "creation_time",
    "email",
    "realname",
    "sysadmin_flag",
    "update_time",
    "user_id",
    "username",
];

fn new_user(name: &str) -> Value {
    json!({
        "username": name,
        "password": PASSWORD,
        "email": format!("{name}@example.com"),
        "realname": format!("{name} Example"),
        "comment": "from the tests",
    })
}

/// The body as text, after checking that no password or hash leaks into it.
async fn text_without_secrets(response: reqwest::Response) -> String {
    let text = response.text().await.unwrap();
    for secret in ["$argon2", "password", PASSWORD] {
        assert!(!text.contains(secret), "{secret:?} in response: {text}");
    }
    text
}

fn keys(user: &Value) -> BTreeSet<&str> {
    user.as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect()
}

async fn user_id(server: &TestServer, name: &str) -> i64 {
    server.state.db.find_user(name).await.unwrap().unwrap().id
}

#[tokio::test]
async fn admin_creates_a_user_who_can_then_sign_in() {
    let server = TestServer::start().await;
    let http = client();
    let response = http
        .post(api(&server, "/users"))
        .admin()
        .json(&new_user("alice"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let id = user_id(&server, "alice").await;
    assert_eq!(
        response.headers()["location"],
        format!("/api/v2.0/users/{id}").as_str()
    );

    let response = http
        .get(api(&server, &format!("/users/{id}")))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let user: Value = serde_json::from_str(&text_without_secrets(response).await).unwrap();
    assert_eq!(keys(&user), BTreeSet::from(USER_FIELDS));
    assert_eq!(user["user_id"], id);
    assert_eq!(user["username"], "alice");
    assert_eq!(user["email"], "alice@example.com");
    assert_eq!(user["realname"], "alice Example");
    assert_eq!(user["sysadmin_flag"], false);
    assert_eq!(user["admin_role_in_auth"], false);
    for time in ["creation_time", "update_time"] {
        let value = user[time].as_str().unwrap();
        assert!(
            chrono::DateTime::parse_from_rfc3339(value).is_ok(),
            "{time} {value:?} is not RFC 3339"
        );
    }

    let response = http
        .get(api(&server, "/users/current"))
        .user("alice", PASSWORD)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let current: Value = serde_json::from_str(&text_without_secrets(response).await).unwrap();
    assert_eq!(current, user);
}

#[tokio::test]
async fn only_sysadmins_create_users() {
    let server = TestServer::start().await;
    let http = client();
    server.create_user("plain", PASSWORD, false).await;
    server.create_user("root2", PASSWORD, true).await;

    let anonymous = http
        .post(api(&server, "/users"))
        .json(&new_user("bob"))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    assert!(anonymous.headers().contains_key("www-authenticate"));
    assert_eq!(error_code(anonymous).await, "UNAUTHORIZED");

    let plain = http
        .post(api(&server, "/users"))
        .user("plain", PASSWORD)
        .json(&new_user("bob"))
        .send()
        .await
        .unwrap();
    assert_eq!(plain.status(), StatusCode::FORBIDDEN);
    assert_eq!(error_code(plain).await, "FORBIDDEN");
    assert!(server.state.db.find_user("bob").await.unwrap().is_none());

    let other_admin = http
        .post(api(&server, "/users"))
        .user("root2", PASSWORD)
        .json(&new_user("bob"))
        .send()
        .await
        .unwrap();
    assert_eq!(other_admin.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn invalid_or_duplicate_users_are_refused() {
    let server = TestServer::start().await;
    let http = client();
    let with = |field: &str, value: Value| {
        let mut body = new_user("carol");
        body[field] = value;
        body
    };
    let invalid = [
        with("username", json!("has space")),
        with("username", json!("")),
        with("password", json!("short1A")),
        with("password", json!("nouppercase1")),
        with("password", json!("NoDigitsAtAll")),
        with("email", json!("")),
        with("email", json!("not-an-email")),
        with("realname", json!("")),
        with("realname", json!("bad#name")),
        with("comment", json!("c".repeat(31))),
        json!({"username": "carol"}),
    ];
    for body in invalid {
        let response = http
            .post(api(&server, "/users"))
            .admin()
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(error_code(response).await, "BAD_REQUEST", "{body}");
    }
    let malformed = http
        .post(api(&server, "/users"))
        .admin()
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(malformed.status(), StatusCode::BAD_REQUEST);
    assert_eq!(error_code(malformed).await, "BAD_REQUEST");
    assert!(server.state.db.find_user("carol").await.unwrap().is_none());

    let created = http
        .post(api(&server, "/users"))
        .admin()
        .json(&new_user("carol"))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    let same_name = http
        .post(api(&server, "/users"))
        .admin()
        .json(&with("email", json!("other@example.com")))
        .send()
        .await
        .unwrap();
    assert_eq!(same_name.status(), StatusCode::CONFLICT);
    assert_eq!(error_code(same_name).await, "CONFLICT");
    let mut same_email = new_user("dave");
    same_email["email"] = json!("carol@example.com");
    let same_email = http
        .post(api(&server, "/users"))
        .admin()
        .json(&same_email)
        .send()
        .await
        .unwrap();
    assert_eq!(same_email.status(), StatusCode::CONFLICT);
}

#[tokio::test]
async fn sysadmins_list_users_in_pages() {
    let server = TestServer::start().await;
    let http = client();
    for name in ["user1", "user2", "user3"] {
        server.create_user(name, PASSWORD, false).await;
    }

    let response = http
        .get(api(&server, "/users?page=1&page_size=2"))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["x-total-count"], "4");
    let link = response.headers()["link"].to_str().unwrap().to_owned();
    assert_eq!(link, "</api/v2.0/users?page=2&page_size=2>; rel=\"next\"");
    let first: Vec<Value> = serde_json::from_str(&text_without_secrets(response).await).unwrap();
    let names: Vec<&str> = first
        .iter()
        .map(|u| u["username"].as_str().unwrap())
        .collect();
    assert_eq!(names, [ADMIN_USER, "user1"]);
    assert_eq!(keys(&first[0]), BTreeSet::from(USER_FIELDS));
    assert_eq!(first[0]["sysadmin_flag"], true);

    let response = http
        .get(api(&server, "/users?page=2&page_size=2"))
        .admin()
        .send()
        .await
        .unwrap();
    assert!(
        response.headers()["link"]
            .to_str()
            .unwrap()
            .contains("rel=\"prev\"")
    );
    let second: Vec<Value> = response.json().await.unwrap();
    assert_eq!(second.len(), 2);
    assert_eq!(second[1]["username"], "user3");

    let names = |q: &'static str| {
        let http = http.clone();
        let url = api(&server, "/users");
        async move {
            let users: Vec<Value> = http
                .get(url)
                .query(&[("q", q)])
                .admin()
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            users
                .iter()
                .map(|u| u["username"].as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(names("username=~user").await, ["user1", "user2", "user3"]);
    assert_eq!(names("username=user2").await, ["user2"]);
    assert_eq!(names("username=user").await, Vec::<String>::new());

    let bad_page = http
        .get(api(&server, "/users?page_size=1000"))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(bad_page.status(), StatusCode::BAD_REQUEST);
    let plain = http
        .get(api(&server, "/users"))
        .user("user1", PASSWORD)
        .send()
        .await
        .unwrap();
    assert_eq!(plain.status(), StatusCode::FORBIDDEN);
    let anonymous = http.get(api(&server, "/users")).send().await.unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn users_read_only_their_own_profile() {
    let server = TestServer::start().await;
    let http = client();
    server.create_user("erin", PASSWORD, false).await;
    let erin = user_id(&server, "erin").await;
    let admin = user_id(&server, ADMIN_USER).await;
    let status = |path: String, who: Option<(&'static str, &'static str)>| {
        let request = http.get(api(&server, &path));
        let request = match who {
            Some((name, password)) => request.user(name, password),
            None => request,
        };
        async move { request.send().await.unwrap().status() }
    };
    let as_erin = Some(("erin", PASSWORD));
    let as_admin = Some((ADMIN_USER, crate::support::ADMIN_PASSWORD));

    assert_eq!(
        status(format!("/users/{erin}"), as_erin).await,
        StatusCode::OK
    );
    assert_eq!(
        status(format!("/users/{admin}"), as_erin).await,
        StatusCode::FORBIDDEN
    );
    // An unknown id looks the same as someone else's to a non-admin.
    assert_eq!(
        status("/users/99999".to_owned(), as_erin).await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        status("/users/99999".to_owned(), as_admin).await,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        status(format!("/users/{erin}"), as_admin).await,
        StatusCode::OK
    );
    assert_eq!(
        status("/users/abc".to_owned(), as_admin).await,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        status(format!("/users/{erin}"), None).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        status("/users/current".to_owned(), None).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        status("/users/current".to_owned(), Some(("erin", "WrongPass1"))).await,
        StatusCode::UNAUTHORIZED
    );

    let current: Value = http
        .get(api(&server, "/users/current"))
        .admin()
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(current["user_id"], admin);
    assert_eq!(current["username"], ADMIN_USER);
    assert_eq!(current["sysadmin_flag"], true);
}

#[tokio::test]
async fn users_can_be_found_by_name() {
    let server = crate::support::TestServer::start().await;
    let http = crate::support::client();
    server.create_user("alice", "AlicePass1", false).await;
    server.create_user("alina", "AlinaPass1", false).await;
    server.create_user("bob", "BobPass12", false).await;
    let response = http
        .get(super::api(&server, "/users/search?username=ali"))
        .basic_auth("bob", Some("BobPass12"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), reqwest::StatusCode::OK);
    assert_eq!(response.headers()["x-total-count"], "2");
    let hits: serde_json::Value = response.json().await.unwrap();
    let names: Vec<&str> = hits
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["username"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["alice", "alina"]);
    assert!(hits[0]["user_id"].is_i64());
    assert!(hits[0].get("email").is_none(), "only ids and names");
    let response = http
        .get(super::api(&server, "/users/search?username=ali"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), reqwest::StatusCode::UNAUTHORIZED);
    let response = http
        .get(super::api(&server, "/users/search"))
        .basic_auth("bob", Some("BobPass12"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), reqwest::StatusCode::BAD_REQUEST);
    server.stop().await;
}
