//! `/users`, `/users/current` and `/users/{user_id}`.

use std::collections::BTreeSet;

use reqwest::StatusCode;
use serde_json::{Value, json};

use super::{As, api, configure, error_code};
use crate::support::{ADMIN_USER, TestServer, browser, client};

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

async fn status_of(request: reqwest::RequestBuilder) -> StatusCode {
    request.send().await.unwrap().status()
}

#[tokio::test]
async fn profiles_are_changed_by_their_owner_or_a_sysadmin() {
    let server = TestServer::start().await;
    let http = client();
    server.create_user("fay", PASSWORD, false).await;
    server.create_user("gus", PASSWORD, false).await;
    let fay = user_id(&server, "fay").await;
    let gus = user_id(&server, "gus").await;
    let profile = json!({"email": "fay@example.com", "realname": "Fay F", "comment": "hello"});

    let own = http
        .put(api(&server, &format!("/users/{fay}")))
        .user("fay", PASSWORD)
        .json(&profile)
        .send()
        .await
        .unwrap();
    assert_eq!(own.status(), StatusCode::OK);
    let user: Value = http
        .get(api(&server, &format!("/users/{fay}")))
        .user("fay", PASSWORD)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        (&user["email"], &user["realname"], &user["comment"]),
        (&json!("fay@example.com"), &json!("Fay F"), &json!("hello"))
    );

    // Someone else's profile: 403 for a plain user, whether or not it exists; sysadmins may.
    for target in [gus, 99999] {
        assert_eq!(
            status_of(
                http.put(api(&server, &format!("/users/{target}")))
                    .user("fay", PASSWORD)
                    .json(&json!({"email": "x@example.com", "realname": "X"}))
            )
            .await,
            StatusCode::FORBIDDEN
        );
    }
    assert_eq!(
        status_of(
            http.put(api(&server, &format!("/users/{gus}")))
                .admin()
                .json(&json!({"email": "gus@example.com", "realname": "Gus G"}))
        )
        .await,
        StatusCode::OK
    );
    assert_eq!(
        status_of(
            http.put(api(&server, "/users/99999"))
                .admin()
                .json(&json!({"email": "n@example.com", "realname": "N"}))
        )
        .await,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        status_of(
            http.put(api(&server, &format!("/users/{fay}")))
                .json(&profile)
        )
        .await,
        StatusCode::UNAUTHORIZED
    );
    // Another user's email is taken; invalid profiles are refused and change nothing.
    let taken = http
        .put(api(&server, &format!("/users/{fay}")))
        .user("fay", PASSWORD)
        .json(&json!({"email": "gus@example.com", "realname": "Fay"}))
        .send()
        .await
        .unwrap();
    assert_eq!(taken.status(), StatusCode::CONFLICT);
    assert_eq!(error_code(taken).await, "CONFLICT");
    for bad in [
        json!({"email": "", "realname": "Fay"}),
        json!({"email": "nope", "realname": "Fay"}),
        json!({"email": "f@example.com", "realname": ""}),
        json!({"email": "f@example.com", "realname": "F%"}),
        json!({"email": "f@example.com", "realname": "F", "comment": "c".repeat(31)}),
    ] {
        let response = http
            .put(api(&server, &format!("/users/{fay}")))
            .user("fay", PASSWORD)
            .json(&bad)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{bad}");
    }
    let detail = server.state.db.user_detail(fay).await.unwrap().unwrap();
    assert_eq!(detail.email.as_deref(), Some("fay@example.com"));
    assert_eq!(detail.comment, "hello");
    // A comment given at creation is kept.
    let created = http
        .post(api(&server, "/users"))
        .admin()
        .json(&new_user("hal"))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    let hal = user_id(&server, "hal").await;
    let detail = server.state.db.user_detail(hal).await.unwrap().unwrap();
    assert_eq!(detail.comment, "from the tests");
}

#[tokio::test]
async fn sysadmins_delete_users_who_then_lose_all_access() {
    let server = TestServer::start().await;
    let http = client();
    let project = super::create_project(&server, &http, json!({"project_name": "team"})).await;
    server.create_user("ivy", PASSWORD, false).await;
    server.create_user("jon", PASSWORD, false).await;
    server.create_user("root2", PASSWORD, true).await;
    let ivy = user_id(&server, "ivy").await;
    let root2 = user_id(&server, "root2").await;
    let added = http
        .post(api(&server, "/projects/team/members"))
        .admin()
        .json(&json!({"role_id": 2, "member_user": {"user_id": ivy}}))
        .send()
        .await
        .unwrap();
    assert_eq!(added.status(), StatusCode::CREATED);
    // Ivy has a browser session and Basic credentials (the latter checked once, so cached).
    let browser = browser();
    let login = browser
        .post(server.url("/c/login"))
        .form(&[("principal", "ivy"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), StatusCode::OK);
    assert_eq!(
        status_of(browser.get(api(&server, "/users/current"))).await,
        StatusCode::OK
    );
    assert_eq!(
        status_of(
            http.get(api(&server, "/projects/team"))
                .user("ivy", PASSWORD)
        )
        .await,
        StatusCode::OK
    );

    // Refused: anonymous, plain users, oneself, the built-in admin, unknown ids, bad ids.
    let delete = |id: String| http.delete(api(&server, &format!("/users/{id}")));
    assert_eq!(
        status_of(delete(ivy.to_string())).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        status_of(delete(ivy.to_string()).user("jon", PASSWORD)).await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        status_of(delete(root2.to_string()).user("root2", PASSWORD)).await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        status_of(delete("1".to_owned()).user("root2", PASSWORD)).await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        status_of(delete("99999".to_owned()).admin()).await,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        status_of(delete("abc".to_owned()).admin()).await,
        StatusCode::BAD_REQUEST
    );

    assert_eq!(
        status_of(delete(ivy.to_string()).user("root2", PASSWORD)).await,
        StatusCode::OK
    );
    assert_eq!(
        status_of(delete(ivy.to_string()).admin()).await,
        StatusCode::NOT_FOUND,
        "already deleted"
    );
    assert_eq!(
        status_of(
            http.get(api(&server, "/users/current"))
                .user("ivy", PASSWORD)
        )
        .await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        status_of(browser.get(api(&server, "/users/current"))).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        status_of(http.get(api(&server, &format!("/users/{ivy}"))).admin()).await,
        StatusCode::NOT_FOUND
    );
    assert!(server.state.db.find_user("ivy").await.unwrap().is_none());
    assert!(
        server
            .state
            .db
            .effective_role(project, ivy)
            .await
            .unwrap()
            .is_none(),
        "memberships go with the user"
    );
    let listed: Vec<Value> = http
        .get(api(&server, "/users"))
        .admin()
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(listed.iter().all(|u| u["user_id"] != ivy));
    let members: Vec<Value> = http
        .get(api(&server, "/projects/team/members"))
        .admin()
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(members.iter().all(|m| m["entity_id"] != ivy));

    // The name and email can be used again, by a new user with a new id.
    let again = http
        .post(api(&server, "/users"))
        .admin()
        .json(&new_user("ivy"))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::CREATED);
    assert_ne!(user_id(&server, "ivy").await, ivy);
    let mut reused_email = new_user("kim");
    reused_email["email"] = json!("ivy@example.com");
    let taken = http
        .post(api(&server, "/users"))
        .admin()
        .json(&reused_email)
        .send()
        .await
        .unwrap();
    assert_eq!(taken.status(), StatusCode::CONFLICT, "the new ivy has it");
}

#[tokio::test]
async fn users_change_their_password_and_sysadmins_reset_others() {
    let server = TestServer::start().await;
    let http = client();
    server.create_user("lee", PASSWORD, false).await;
    server.create_user("max", PASSWORD, false).await;
    let lee = user_id(&server, "lee").await;
    let max = user_id(&server, "max").await;
    let change = |id: i64, body: Value| {
        http.put(api(&server, &format!("/users/{id}/password")))
            .json(&body)
    };
    let signed_in = |name: &'static str, password: &'static str| {
        let request = http
            .get(api(&server, "/users/current"))
            .user(name, password);
        async move { request.send().await.unwrap().status() }
    };
    assert_eq!(signed_in("lee", PASSWORD).await, StatusCode::OK);

    let wrong_old = change(
        lee,
        json!({"old_password": "Wrong1234", "new_password": "NewPass123"}),
    )
    .user("lee", PASSWORD)
    .send()
    .await
    .unwrap();
    assert_eq!(wrong_old.status(), StatusCode::FORBIDDEN);
    assert_eq!(error_code(wrong_old).await, "FORBIDDEN");
    assert_eq!(
        status_of(change(lee, json!({"new_password": "NewPass123"})).user("lee", PASSWORD)).await,
        StatusCode::FORBIDDEN,
        "a user must give the current password"
    );
    for weak in ["short1A", "nouppercase1", "NOLOWERCASE1", "NoDigitsHere"] {
        let response = change(lee, json!({"old_password": PASSWORD, "new_password": weak}))
            .user("lee", PASSWORD)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{weak}");
        assert_eq!(error_code(response).await, "BAD_REQUEST");
    }
    assert_eq!(
        status_of(
            change(
                lee,
                json!({"old_password": PASSWORD, "new_password": PASSWORD})
            )
            .user("lee", PASSWORD)
        )
        .await,
        StatusCode::BAD_REQUEST,
        "the new password equals the old one"
    );
    assert_eq!(
        status_of(
            change(
                max,
                json!({"old_password": PASSWORD, "new_password": "NewPass123"})
            )
            .user("lee", PASSWORD)
        )
        .await,
        StatusCode::FORBIDDEN,
        "not someone else's"
    );
    assert_eq!(
        status_of(change(
            lee,
            json!({"old_password": PASSWORD, "new_password": "NewPass123"})
        ))
        .await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(signed_in("lee", PASSWORD).await, StatusCode::OK);

    assert_eq!(
        status_of(
            change(
                lee,
                json!({"old_password": PASSWORD, "new_password": "NewPass123"})
            )
            .user("lee", PASSWORD)
        )
        .await,
        StatusCode::OK
    );
    // The old password (checked and cached a moment ago) no longer works; the new one does.
    assert_eq!(signed_in("lee", PASSWORD).await, StatusCode::UNAUTHORIZED);
    assert_eq!(signed_in("lee", "NewPass123").await, StatusCode::OK);

    // A sysadmin resets someone else's password without the old one.
    assert_eq!(
        status_of(change(max, json!({"new_password": "Reset1234"})).admin()).await,
        StatusCode::OK
    );
    assert_eq!(signed_in("max", PASSWORD).await, StatusCode::UNAUTHORIZED);
    assert_eq!(signed_in("max", "Reset1234").await, StatusCode::OK);
    assert_eq!(
        status_of(change(99999, json!({"new_password": "Reset1234"})).admin()).await,
        StatusCode::NOT_FOUND
    );
    // The sysadmin's own password needs the old one too.
    let admin = user_id(&server, ADMIN_USER).await;
    assert_eq!(
        status_of(change(admin, json!({"new_password": "Other1234"})).admin()).await,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn sysadmins_grant_and_revoke_the_admin_flag() {
    let server = TestServer::start().await;
    let http = client();
    server.create_user("ned", PASSWORD, false).await;
    let ned = user_id(&server, "ned").await;
    let admin = user_id(&server, ADMIN_USER).await;
    let flag = |id: i64, value: bool| {
        http.put(api(&server, &format!("/users/{id}/sysadmin")))
            .json(&json!({"sysadmin_flag": value}))
    };
    let lists_users = || {
        let request = http.get(api(&server, "/users")).user("ned", PASSWORD);
        async move { request.send().await.unwrap().status() }
    };
    assert_eq!(lists_users().await, StatusCode::FORBIDDEN);
    assert_eq!(
        status_of(flag(ned, true).user("ned", PASSWORD)).await,
        StatusCode::FORBIDDEN,
        "no one grants themself"
    );
    assert_eq!(status_of(flag(ned, true)).await, StatusCode::UNAUTHORIZED);
    assert_eq!(status_of(flag(ned, true).admin()).await, StatusCode::OK);
    assert_eq!(lists_users().await, StatusCode::OK);
    let user: Value = http
        .get(api(&server, &format!("/users/{ned}")))
        .admin()
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(user["sysadmin_flag"], true);
    // An admin cannot drop their own flag; another admin can.
    let own = flag(ned, false).user("ned", PASSWORD).send().await.unwrap();
    assert_eq!(own.status(), StatusCode::FORBIDDEN);
    assert_eq!(error_code(own).await, "FORBIDDEN");
    assert_eq!(
        status_of(flag(admin, false).admin()).await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(status_of(flag(admin, true).admin()).await, StatusCode::OK);
    assert_eq!(status_of(flag(ned, false).admin()).await, StatusCode::OK);
    assert_eq!(lists_users().await, StatusCode::FORBIDDEN);
    assert_eq!(
        status_of(flag(99999, true).admin()).await,
        StatusCode::NOT_FOUND
    );
    let malformed = http
        .put(api(&server, &format!("/users/{ned}/sysadmin")))
        .admin()
        .header("content-type", "application/json")
        .body("{")
        .send()
        .await
        .unwrap();
    assert_eq!(malformed.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn current_permissions_follow_the_role_and_scope() {
    let server = TestServer::start().await;
    let http = client();
    let project = super::create_project(&server, &http, json!({"project_name": "team"})).await;
    server.create_user("ola", PASSWORD, false).await;
    server.create_user("pat", PASSWORD, false).await;
    let ola = user_id(&server, "ola").await;
    let added = http
        .post(api(&server, "/projects/team/members"))
        .admin()
        .json(&json!({"role_id": 2, "member_user": {"user_id": ola}}))
        .send()
        .await
        .unwrap();
    assert_eq!(added.status(), StatusCode::CREATED);
    let permissions = |who: &'static str, password: &'static str, query: String| {
        let request = http
            .get(api(&server, &format!("/users/current/permissions{query}")))
            .user(who, password);
        async move {
            let response = request.send().await.unwrap();
            assert_eq!(response.status(), StatusCode::OK);
            let list: Vec<Value> = response.json().await.unwrap();
            list.iter()
                .map(|p| {
                    (
                        p["resource"].as_str().unwrap().to_owned(),
                        p["action"].as_str().unwrap().to_owned(),
                    )
                })
                .collect::<BTreeSet<(String, String)>>()
        }
    };
    let has = |set: &BTreeSet<(String, String)>, r: &str, a: &str| {
        set.contains(&(r.to_owned(), a.to_owned()))
    };

    let relative = permissions(
        "ola",
        PASSWORD,
        format!("?scope=/project/{project}&relative=true"),
    )
    .await;
    assert!(has(&relative, "repository", "push"));
    assert!(has(&relative, "repository", "pull"));
    assert!(has(&relative, "artifact", "create"));
    assert!(has(&relative, ".", "read"));
    assert!(has(&relative, "member", "list"));
    assert!(!has(&relative, "repository", "delete"));
    assert!(!has(&relative, "member", "create"));
    assert!(!has(&relative, ".", "delete"));
    let absolute = permissions("ola", PASSWORD, format!("?scope=/project/{project}")).await;
    assert!(has(
        &absolute,
        &format!("/project/{project}/repository"),
        "push"
    ));
    assert!(has(&absolute, &format!("/project/{project}"), "read"));
    assert_eq!(absolute.len(), relative.len());

    // Outsiders of a private project, unknown projects, other scopes: nothing.
    let none = BTreeSet::new();
    assert_eq!(
        permissions("pat", PASSWORD, format!("?scope=/project/{project}")).await,
        none
    );
    assert_eq!(
        permissions("ola", PASSWORD, "?scope=/project/99999".to_owned()).await,
        none
    );
    assert_eq!(permissions("ola", PASSWORD, String::new()).await, none);
    assert_eq!(
        permissions("ola", PASSWORD, "?scope=/system".to_owned()).await,
        none
    );
    // A sysadmin holds everything.
    let admin_pw = crate::support::ADMIN_PASSWORD;
    let system = permissions(
        ADMIN_USER,
        admin_pw,
        "?scope=/system&relative=true".to_owned(),
    )
    .await;
    assert!(has(&system, "user", "delete"));
    assert!(has(&system, "user-group", "create"));
    let admin_project = permissions(
        ADMIN_USER,
        admin_pw,
        format!("?scope=/project/{project}&relative=true"),
    )
    .await;
    assert!(admin_project.is_superset(&relative));
    assert!(has(&admin_project, "member", "create"));

    assert_eq!(
        status_of(http.get(api(&server, "/users/current/permissions?scope=/system"))).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        status_of(
            http.get(api(&server, "/users/current/permissions?relative=maybe"))
                .user("ola", PASSWORD)
        )
        .await,
        StatusCode::BAD_REQUEST
    );
}

/// `POST /users` signed out, with `body`.
async fn sign_up(server: &TestServer, http: &reqwest::Client, body: &Value) -> reqwest::Response {
    http.post(api(server, "/users"))
        .json(body)
        .send()
        .await
        .unwrap()
}

fn sign_up_body(name: &str) -> Value {
    json!({"username": name, "password": "Signup123", "email": format!("{name}@example.com"),
           "realname": "New Person", "comment": "signed up"})
}

#[tokio::test]
async fn self_registration_lets_anyone_sign_up_within_bounds() {
    let server = TestServer::start().await;
    let http = client();
    // Off (the default): signing up is refused, as in Harbor.
    let response = sign_up(&server, &http, &sign_up_body("early")).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);

    configure(&server, &http, json!({"self_registration": true})).await;
    // An anonymous caller creates a user, who can then sign in, and is never an admin whatever the body says.
    let mut body = sign_up_body("newbie");
    body["sysadmin_flag"] = json!(true);
    body["admin_role_in_auth"] = json!(true);
    let response = sign_up(&server, &http, &body).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let me: Value = http
        .get(api(&server, "/users/current"))
        .basic_auth("newbie", Some("Signup123"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["username"], "newbie");
    assert_eq!(me["sysadmin_flag"], false);

    // The same rules as for admin-made users.
    let mut weak = sign_up_body("weak");
    weak["password"] = json!("password");
    let mut bad_name = sign_up_body("x");
    bad_name["username"] = json!("bad name");
    let mut bad_email = sign_up_body("mail");
    bad_email["email"] = json!("not-an-email");
    for (body, status) in [
        (weak, StatusCode::BAD_REQUEST),
        (bad_name, StatusCode::BAD_REQUEST),
        (bad_email, StatusCode::BAD_REQUEST),
        (sign_up_body("newbie"), StatusCode::CONFLICT),
        (sign_up_body("admin"), StatusCode::CONFLICT),
    ] {
        let response = sign_up(&server, &http, &body).await;
        assert_eq!(response.status(), status, "{body}");
    }
    // Signed in, a non-admin still may not create users.
    let response = http
        .post(api(&server, "/users"))
        .basic_auth("newbie", Some("Signup123"))
        .json(&sign_up_body("friend"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);

    // An address gets 10 anonymous attempts an hour (the 6 above included); the 11th is a 429.
    for i in 0..4 {
        let response = sign_up(&server, &http, &sign_up_body(&format!("more{i}"))).await;
        assert_eq!(response.status(), StatusCode::CREATED, "attempt {}", 7 + i);
    }
    let response = sign_up(&server, &http, &sign_up_body("one-too-many")).await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(error_code(response).await, "TOO_MANY_REQUESTS");
    // Administrators are not counted.
    let response = http
        .post(api(&server, "/users"))
        .admin()
        .json(&sign_up_body("by-admin"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);

    configure(&server, &http, json!({"self_registration": false})).await;
    let response = sign_up(&server, &http, &sign_up_body("late")).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    server.stop().await;
}

#[tokio::test]
async fn self_registration_is_for_database_sign_in_only() {
    let server = TestServer::start().await;
    let http = client();
    configure(
        &server,
        &http,
        json!({"auth_mode": "ldap_auth", "self_registration": true}),
    )
    .await;
    let response = sign_up(&server, &http, &sign_up_body("someone")).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    server.stop().await;
}
