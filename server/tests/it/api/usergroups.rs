//! `/usergroups`, `/usergroups/{group_id}` and `/usergroups/search`.

use std::collections::BTreeSet;

use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

use super::{As, api, error_code, get_json};
use crate::support::{TestServer, client};

const PASSWORD: &str = "Passw0rdX";

/// Creates a group as admin; returns its id.
pub async fn create_group(server: &TestServer, http: &Client, body: Value) -> i64 {
    let response = http
        .post(api(server, "/usergroups"))
        .admin()
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        StatusCode::CREATED,
        "create group {body}"
    );
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let id = location.rsplit('/').next().unwrap().parse().unwrap();
    assert_eq!(location, format!("/api/v2.0/usergroups/{id}"));
    id
}

fn names(groups: &Value) -> Vec<&str> {
    groups
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["group_name"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn sysadmins_create_read_rename_and_delete_groups() {
    let server = TestServer::start().await;
    let http = client();
    let ldap = create_group(
        &server,
        &http,
        json!({"group_name": "ops", "group_type": 1, "ldap_group_dn": "cn=ops,ou=groups,dc=example,dc=com"}),
    )
    .await;
    let oidc = create_group(
        &server,
        &http,
        json!({"group_name": "devs", "group_type": 3}),
    )
    .await;

    let group = get_json(&http, api(&server, &format!("/usergroups/{ldap}"))).await;
    assert_eq!(
        group,
        json!({"id": ldap, "group_name": "ops", "group_type": 1,
               "ldap_group_dn": "cn=ops,ou=groups,dc=example,dc=com"})
    );
    let group = get_json(&http, api(&server, &format!("/usergroups/{oidc}"))).await;
    let fields: BTreeSet<&str> = group
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(fields, BTreeSet::from(["group_name", "group_type", "id"]));

    let renamed = http
        .put(api(&server, &format!("/usergroups/{oidc}")))
        .admin()
        .json(&json!({"group_name": "developers", "group_type": 2}))
        .send()
        .await
        .unwrap();
    assert_eq!(renamed.status(), StatusCode::OK);
    let group = get_json(&http, api(&server, &format!("/usergroups/{oidc}"))).await;
    assert_eq!(
        (&group["group_name"], &group["group_type"]),
        (&json!("developers"), &json!(3)),
        "only the name changes"
    );

    let removed = http
        .delete(api(&server, &format!("/usergroups/{oidc}")))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(removed.status(), StatusCode::OK);
    for response in [
        http.get(api(&server, &format!("/usergroups/{oidc}")))
            .admin()
            .send()
            .await
            .unwrap(),
        http.delete(api(&server, &format!("/usergroups/{oidc}")))
            .admin()
            .send()
            .await
            .unwrap(),
        http.put(api(&server, &format!("/usergroups/{oidc}")))
            .admin()
            .json(&json!({"group_name": "x"}))
            .send()
            .await
            .unwrap(),
    ] {
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        assert_eq!(error_code(response).await, "NOT_FOUND");
    }
    let all = get_json(&http, api(&server, "/usergroups")).await;
    assert_eq!(names(&all), ["ops"]);
}

#[tokio::test]
async fn the_group_list_filters_and_paginates_and_search_is_for_everyone() {
    let server = TestServer::start().await;
    let http = client();
    for (name, kind) in [("team-a", 2), ("team-b", 3), ("team-c", 2), ("other", 2)] {
        create_group(
            &server,
            &http,
            json!({"group_name": name, "group_type": kind}),
        )
        .await;
    }
    create_group(
        &server,
        &http,
        json!({"group_name": "ldap-team", "group_type": 1, "ldap_group_dn": "cn=t,dc=x"}),
    )
    .await;

    let response = http
        .get(api(&server, "/usergroups?group_name=team&page_size=2"))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["x-total-count"], "4");
    assert_eq!(
        response.headers()["link"],
        "</api/v2.0/usergroups?group_name=team&page=2&page_size=2>; rel=\"next\""
    );
    let first: Value = response.json().await.unwrap();
    assert_eq!(names(&first), ["ldap-team", "team-a"]);
    let second = get_json(
        &http,
        api(&server, "/usergroups?group_name=team&page=2&page_size=2"),
    )
    .await;
    assert_eq!(names(&second), ["team-b", "team-c"]);
    let by_dn = get_json(&http, api(&server, "/usergroups?ldap_group_dn=cn=t,dc=x")).await;
    assert_eq!(names(&by_dn), ["ldap-team"]);
    let all = get_json(&http, api(&server, "/usergroups")).await;
    assert_eq!(all.as_array().unwrap().len(), 5);

    server.create_user("quinn", PASSWORD, false).await;
    let response = http
        .get(api(&server, "/usergroups/search?groupname=team-"))
        .user("quinn", PASSWORD)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["x-total-count"], "3");
    let hits: Value = response.json().await.unwrap();
    assert_eq!(names(&hits), ["team-a", "team-b", "team-c"]);
    let fields: BTreeSet<&str> = hits[0]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(fields, BTreeSet::from(["group_name", "group_type", "id"]));
    for (path, who, status) in [
        ("/usergroups/search", Some("quinn"), StatusCode::BAD_REQUEST),
        (
            "/usergroups/search?groupname=",
            Some("quinn"),
            StatusCode::BAD_REQUEST,
        ),
        (
            "/usergroups/search?groupname=team",
            None,
            StatusCode::UNAUTHORIZED,
        ),
        ("/usergroups", Some("quinn"), StatusCode::FORBIDDEN),
        ("/usergroups", None, StatusCode::UNAUTHORIZED),
        ("/usergroups/1", Some("quinn"), StatusCode::FORBIDDEN),
        ("/usergroups?page=0", Some("admin"), StatusCode::BAD_REQUEST),
    ] {
        let request = http.get(api(&server, path));
        let request = match who {
            Some("admin") => request.admin(),
            Some(name) => request.user(name, PASSWORD),
            None => request,
        };
        assert_eq!(
            request.send().await.unwrap().status(),
            status,
            "{path} as {who:?}"
        );
    }
}

#[tokio::test]
async fn bad_or_duplicate_groups_are_refused() {
    let server = TestServer::start().await;
    let http = client();
    let devs = create_group(
        &server,
        &http,
        json!({"group_name": "devs", "group_type": 2}),
    )
    .await;
    create_group(
        &server,
        &http,
        json!({"group_name": "ldap-devs", "group_type": 1, "ldap_group_dn": "cn=devs,dc=x"}),
    )
    .await;
    // The same name in another type is a different group.
    create_group(
        &server,
        &http,
        json!({"group_name": "devs", "group_type": 3}),
    )
    .await;

    let cases = [
        (json!({"group_type": 2}), StatusCode::BAD_REQUEST),
        (
            json!({"group_name": "", "group_type": 2}),
            StatusCode::BAD_REQUEST,
        ),
        (json!({"group_name": "g"}), StatusCode::BAD_REQUEST),
        (
            json!({"group_name": "g", "group_type": 4}),
            StatusCode::BAD_REQUEST,
        ),
        (
            json!({"group_name": "g", "group_type": 1}),
            StatusCode::BAD_REQUEST,
        ),
        (
            json!({"group_name": "g", "group_type": 1, "ldap_group_dn": " "}),
            StatusCode::BAD_REQUEST,
        ),
        (
            json!({"group_name": "devs", "group_type": 2}),
            StatusCode::CONFLICT,
        ),
        (
            json!({"group_name": "other", "group_type": 1, "ldap_group_dn": "cn=devs,dc=x"}),
            StatusCode::CONFLICT,
        ),
    ];
    for (body, status) in cases {
        let response = http
            .post(api(&server, "/usergroups"))
            .admin()
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), status, "{body}");
        assert!(!error_code(response).await.is_empty());
    }
    let all = get_json(&http, api(&server, "/usergroups")).await;
    assert_eq!(all.as_array().unwrap().len(), 3, "nothing was created");

    server.create_user("rae", PASSWORD, false).await;
    let plain = http
        .post(api(&server, "/usergroups"))
        .user("rae", PASSWORD)
        .json(&json!({"group_name": "mine", "group_type": 2}))
        .send()
        .await
        .unwrap();
    assert_eq!(plain.status(), StatusCode::FORBIDDEN);
    let anonymous = http
        .post(api(&server, "/usergroups"))
        .json(&json!({"group_name": "mine", "group_type": 2}))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    for (method, id, body) in [
        (
            reqwest::Method::PUT,
            devs.to_string(),
            json!({"group_name": ""}),
        ),
        (reqwest::Method::PUT, devs.to_string(), json!({})),
        (reqwest::Method::GET, "abc".to_owned(), json!({})),
        (reqwest::Method::GET, "0".to_owned(), json!({})),
        (reqwest::Method::DELETE, "-1".to_owned(), json!({})),
    ] {
        let response = http
            .request(method.clone(), api(&server, &format!("/usergroups/{id}")))
            .admin()
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.status(),
            StatusCode::BAD_REQUEST,
            "{method} {id} {body}"
        );
    }
    let clash = http
        .put(api(&server, &format!("/usergroups/{devs}")))
        .admin()
        .json(&json!({"group_name": "devs"}))
        .send()
        .await
        .unwrap();
    assert_eq!(clash.status(), StatusCode::OK, "renaming to its own name");
    let plain_rename = http
        .put(api(&server, &format!("/usergroups/{devs}")))
        .user("rae", PASSWORD)
        .json(&json!({"group_name": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(plain_rename.status(), StatusCode::FORBIDDEN);
    let plain_delete = http
        .delete(api(&server, &format!("/usergroups/{devs}")))
        .user("rae", PASSWORD)
        .send()
        .await
        .unwrap();
    assert_eq!(plain_delete.status(), StatusCode::FORBIDDEN);
    let group = get_json(&http, api(&server, &format!("/usergroups/{devs}"))).await;
    assert_eq!(group["group_name"], "devs");
}

#[tokio::test]
async fn deleting_a_group_removes_its_memberships() {
    let server = TestServer::start().await;
    let http = client();
    super::create_project(&server, &http, json!({"project_name": "team"})).await;
    let group = create_group(
        &server,
        &http,
        json!({"group_name": "devs", "group_type": 2}),
    )
    .await;
    let other = create_group(
        &server,
        &http,
        json!({"group_name": "ops", "group_type": 2}),
    )
    .await;
    server.create_user("sam", PASSWORD, false).await;
    let sam = server.state.db.find_user("sam").await.unwrap().unwrap().id;
    server
        .state
        .db
        .set_user_groups(sam, &[group, other])
        .await
        .unwrap();
    assert_eq!(
        server.state.db.user_group_ids(sam).await.unwrap(),
        [group, other]
    );
    let added = http
        .post(api(&server, "/projects/team/members"))
        .admin()
        .json(&json!({"role_id": 2, "member_group": {"id": group}}))
        .send()
        .await
        .unwrap();
    assert_eq!(added.status(), StatusCode::CREATED);
    let removed = http
        .delete(api(&server, &format!("/usergroups/{group}")))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(removed.status(), StatusCode::OK);
    let members = get_json(&http, api(&server, "/projects/team/members")).await;
    assert_eq!(
        members
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["entity_type"].as_str().unwrap())
            .collect::<Vec<_>>(),
        ["u"],
        "only the creator is left"
    );
    assert_eq!(server.state.db.user_group_ids(sam).await.unwrap(), [other]);
    // A group that does not exist cannot be joined, and a failed change changes nothing.
    assert!(
        server
            .state
            .db
            .set_user_groups(sam, &[other, 99999])
            .await
            .is_err()
    );
    assert_eq!(server.state.db.user_group_ids(sam).await.unwrap(), [other]);
}
