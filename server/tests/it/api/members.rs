//! `/projects/{project_name_or_id}/members` and `/projects/{project_name_or_id}/members/{mid}`.

use std::collections::BTreeSet;

use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

use super::{As, api, create_project, error_code, get_json};
use crate::support::{TestServer, client};

const PASSWORD: &str = "Passw0rdX";

/// Creates a user; returns its id.
async fn user(server: &TestServer, name: &str, sysadmin: bool) -> i64 {
    server.create_user(name, PASSWORD, sysadmin).await;
    server.state.db.find_user(name).await.unwrap().unwrap().id
}

/// Adds `body` as a member of `project` as admin; returns the member id.
async fn add_member(server: &TestServer, http: &Client, project: &str, body: Value) -> i64 {
    let response = http
        .post(api(server, &format!("/projects/{project}/members")))
        .admin()
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED, "add member {body}");
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    location.rsplit('/').next().unwrap().parse().unwrap()
}

#[tokio::test]
async fn admin_adds_reads_updates_and_removes_members() {
    let server = TestServer::start().await;
    let http = client();
    let project = create_project(&server, &http, json!({"project_name": "team"})).await;
    let dev = user(&server, "dev", false).await;
    user(&server, "guest", false).await;

    let response = http
        .post(api(&server, "/projects/team/members"))
        .admin()
        .json(&json!({"role_id": 2, "member_user": {"user_id": dev}}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let mid: i64 = location.rsplit('/').next().unwrap().parse().unwrap();
    assert_eq!(
        location,
        format!("/api/v2.0/projects/{project}/members/{mid}")
    );

    let member = get_json(&http, server.url(&location)).await;
    let fields: BTreeSet<&str> = member
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        fields,
        BTreeSet::from([
            "entity_id",
            "entity_name",
            "entity_type",
            "id",
            "project_id",
            "role_id",
            "role_name"
        ])
    );
    assert_eq!(
        member,
        json!({"id": mid, "project_id": project, "entity_name": "dev", "role_name": "developer",
               "role_id": 2, "entity_id": dev, "entity_type": "u"})
    );

    let guest_mid = add_member(
        &server,
        &http,
        &project.to_string(),
        json!({"role_id": 3, "member_user": {"username": "guest"}}),
    )
    .await;

    let response = http
        .get(api(&server, "/projects/team/members"))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["x-total-count"], "3");
    let members: Vec<Value> = response.json().await.unwrap();
    let listed: Vec<(&str, &str)> = members
        .iter()
        .map(|m| {
            (
                m["entity_name"].as_str().unwrap(),
                m["role_name"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        listed,
        [
            ("admin", "projectAdmin"),
            ("dev", "developer"),
            ("guest", "guest")
        ],
        "the creator is the project admin"
    );

    let updated = http
        .put(server.url(&location))
        .admin()
        .json(&json!({"role_id": 4}))
        .send()
        .await
        .unwrap();
    assert_eq!(updated.status(), StatusCode::OK);
    let member = get_json(&http, server.url(&location)).await;
    assert_eq!(
        (member["role_id"].clone(), member["role_name"].clone()),
        (json!(4), json!("maintainer"))
    );
    let limited = http
        .put(api(&server, &format!("/projects/team/members/{guest_mid}")))
        .admin()
        .json(&json!({"role_id": 5}))
        .send()
        .await
        .unwrap();
    assert_eq!(limited.status(), StatusCode::OK);
    let member = get_json(
        &http,
        api(&server, &format!("/projects/team/members/{guest_mid}")),
    )
    .await;
    assert_eq!(member["role_name"], "limitedGuest");

    let removed = http
        .delete(server.url(&location))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(removed.status(), StatusCode::OK);
    let gone = http
        .get(server.url(&location))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(gone.status(), StatusCode::NOT_FOUND);
    assert_eq!(error_code(gone).await, "NOT_FOUND");
    let again = http
        .delete(server.url(&location))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::NOT_FOUND);
    assert!(
        server
            .state
            .db
            .member_role(project, dev)
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn bad_member_requests_are_refused() {
    let server = TestServer::start().await;
    let http = client();
    create_project(&server, &http, json!({"project_name": "team"})).await;
    let frank = user(&server, "frank", false).await;
    let mid = add_member(
        &server,
        &http,
        "team",
        json!({"role_id": 2, "member_user": {"user_id": frank}}),
    )
    .await;

    let cases = [
        (
            json!({"role_id": 0, "member_user": {"user_id": frank}}),
            StatusCode::BAD_REQUEST,
        ),
        (
            json!({"role_id": 6, "member_user": {"user_id": frank}}),
            StatusCode::BAD_REQUEST,
        ),
        (json!({"role_id": 2}), StatusCode::BAD_REQUEST),
        (
            json!({"role_id": 2, "member_user": {}}),
            StatusCode::BAD_REQUEST,
        ),
        (
            json!({"role_id": 2, "member_group": {"group_name": "devs"}}),
            StatusCode::NOT_FOUND,
        ),
        (
            json!({"role_id": 2, "member_group": {"id": 99999}}),
            StatusCode::NOT_FOUND,
        ),
        (
            json!({"role_id": 2, "member_group": {"ldap_group_dn": "cn=x,dc=y"}}),
            StatusCode::NOT_FOUND,
        ),
        (
            json!({"role_id": 2, "member_group": {}}),
            StatusCode::BAD_REQUEST,
        ),
        (
            json!({"member_user": {"user_id": frank}}),
            StatusCode::BAD_REQUEST,
        ),
        (
            json!({"role_id": 2, "member_user": {"user_id": 99999}}),
            StatusCode::NOT_FOUND,
        ),
        (
            json!({"role_id": 2, "member_user": {"username": "nobody"}}),
            StatusCode::NOT_FOUND,
        ),
        (
            json!({"role_id": 3, "member_user": {"user_id": frank}}),
            StatusCode::CONFLICT,
        ),
        (
            json!({"role_id": 3, "member_user": {"username": "frank"}}),
            StatusCode::CONFLICT,
        ),
        (
            json!({"role_id": 3, "member_user": {"username": "admin"}}),
            StatusCode::CONFLICT,
        ),
    ];
    for (body, status) in cases {
        let response = http
            .post(api(&server, "/projects/team/members"))
            .admin()
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), status, "{body}");
        assert!(!error_code(response).await.is_empty());
    }
    let malformed = http
        .post(api(&server, "/projects/team/members"))
        .admin()
        .header("content-type", "application/json")
        .body("{")
        .send()
        .await
        .unwrap();
    assert_eq!(malformed.status(), StatusCode::BAD_REQUEST);
    assert_eq!(error_code(malformed).await, "BAD_REQUEST");

    let bad_role = http
        .put(api(&server, &format!("/projects/team/members/{mid}")))
        .admin()
        .json(&json!({"role_id": 9}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad_role.status(), StatusCode::BAD_REQUEST);
    let member = get_json(
        &http,
        api(&server, &format!("/projects/team/members/{mid}")),
    )
    .await;
    assert_eq!(member["role_id"], 2, "a refused update changes nothing");

    for (method, path) in [
        (reqwest::Method::GET, "/projects/team/members/abc"),
        (reqwest::Method::DELETE, "/projects/team/members/abc"),
        (reqwest::Method::GET, "/projects/team/members?page=0"),
    ] {
        let response = http
            .request(method.clone(), api(&server, path))
            .admin()
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.status(),
            StatusCode::BAD_REQUEST,
            "{method} {path}"
        );
        assert_eq!(error_code(response).await, "BAD_REQUEST");
    }
    for path in [
        "/projects/nope/members",
        "/projects/nope/members/1",
        "/projects/team/members/99999",
    ] {
        let response = http.get(api(&server, path)).admin().send().await.unwrap();
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
    }
}

/// Who may do what to the members of a project, by role (`docs/reference/harbor-rbac.md`).
#[tokio::test]
async fn roles_decide_who_reads_and_manages_members() {
    let server = TestServer::start().await;
    let http = client();
    create_project(&server, &http, json!({"project_name": "private"})).await;
    create_project(
        &server,
        &http,
        json!({"project_name": "open", "metadata": {"public": "true"}}),
    )
    .await;
    let roles = [
        ("padmin", 1),
        ("maintainer", 4),
        ("developer", 2),
        ("guest", 3),
        ("limited", 5),
    ];
    let mut padmin_mid = 0;
    for (name, role) in roles {
        let id = user(&server, name, false).await;
        for project in ["private", "open"] {
            let mid = add_member(
                &server,
                &http,
                project,
                json!({"role_id": role, "member_user": {"user_id": id}}),
            )
            .await;
            if (name, project) == ("padmin", "private") {
                padmin_mid = mid;
            }
        }
    }
    user(&server, "outsider", false).await;
    user(&server, "root2", true).await;
    let target = user(&server, "target", false).await;

    // (caller, may read and list, may manage); None is anonymous.
    let expectations: [(Option<&str>, StatusCode, bool); 8] = [
        (Some("padmin"), StatusCode::OK, true),
        (Some("maintainer"), StatusCode::OK, false),
        (Some("developer"), StatusCode::OK, false),
        (Some("guest"), StatusCode::OK, false),
        (Some("limited"), StatusCode::FORBIDDEN, false),
        (Some("root2"), StatusCode::OK, true),
        (Some("outsider"), StatusCode::NOT_FOUND, false),
        (None, StatusCode::NOT_FOUND, false),
    ];
    for (who, read, manage) in expectations {
        let send = |request: reqwest::RequestBuilder| {
            let request = match who {
                Some(name) => request.user(name, PASSWORD),
                None => request,
            };
            async move { request.send().await.unwrap() }
        };
        let list = send(http.get(api(&server, "/projects/private/members"))).await;
        assert_eq!(list.status(), read, "{who:?} lists members");
        let one = send(http.get(api(
            &server,
            &format!("/projects/private/members/{padmin_mid}"),
        )))
        .await;
        assert_eq!(one.status(), read, "{who:?} reads a member");

        let denied = if read == StatusCode::NOT_FOUND {
            StatusCode::NOT_FOUND
        } else {
            StatusCode::FORBIDDEN
        };
        let added = send(
            http.post(api(&server, "/projects/private/members"))
                .json(&json!({"role_id": 3, "member_user": {"user_id": target}})),
        )
        .await;
        let expected = if manage { StatusCode::CREATED } else { denied };
        assert_eq!(added.status(), expected, "{who:?} adds a member");
        let mid = if manage {
            let location = added.headers()["location"].to_str().unwrap().to_owned();
            location.rsplit('/').next().unwrap().to_owned()
        } else {
            let existing = add_member(
                &server,
                &http,
                "private",
                json!({"role_id": 3, "member_user": {"user_id": target}}),
            )
            .await;
            existing.to_string()
        };
        let member = format!("/projects/private/members/{mid}");
        let updated = send(http.put(api(&server, &member)).json(&json!({"role_id": 2}))).await;
        let expected = if manage { StatusCode::OK } else { denied };
        assert_eq!(updated.status(), expected, "{who:?} changes a role");
        let removed = send(http.delete(api(&server, &member))).await;
        assert_eq!(removed.status(), expected, "{who:?} removes a member");
        if !manage {
            let cleanup = http
                .delete(api(&server, &member))
                .admin()
                .send()
                .await
                .unwrap();
            assert_eq!(cleanup.status(), StatusCode::OK, "target was left in place");
        }
    }

    // On a public project, outsiders see that it exists but not its members; anonymous callers are asked
    // to sign in.
    let outsider = http
        .get(api(&server, "/projects/open/members"))
        .user("outsider", PASSWORD)
        .send()
        .await
        .unwrap();
    assert_eq!(outsider.status(), StatusCode::FORBIDDEN);
    let anonymous = http
        .get(api(&server, "/projects/open/members"))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    assert!(anonymous.headers().contains_key("www-authenticate"));
    let anonymous_add = http
        .post(api(&server, "/projects/open/members"))
        .json(&json!({"role_id": 1, "member_user": {"user_id": target}}))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous_add.status(), StatusCode::UNAUTHORIZED);
    let guest_add = http
        .post(api(&server, "/projects/open/members"))
        .user("guest", PASSWORD)
        .json(&json!({"role_id": 1, "member_user": {"user_id": target}}))
        .send()
        .await
        .unwrap();
    assert_eq!(guest_add.status(), StatusCode::FORBIDDEN);
    assert_eq!(error_code(guest_add).await, "FORBIDDEN");
}

#[tokio::test]
async fn membership_grants_and_removal_revokes_access() {
    let server = TestServer::start().await;
    let http = client();
    create_project(&server, &http, json!({"project_name": "team"})).await;
    let grace = user(&server, "grace", false).await;
    let as_grace = |path: &str| http.get(api(&server, path)).user("grace", PASSWORD).send();

    assert_eq!(
        as_grace("/projects/team/members").await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
    let mid = add_member(
        &server,
        &http,
        "team",
        json!({"role_id": 1, "member_user": {"user_id": grace}}),
    )
    .await;
    assert_eq!(
        as_grace("/projects/team/members").await.unwrap().status(),
        StatusCode::OK
    );
    // As project admin, grace may now add others.
    let henry = user(&server, "henry", false).await;
    let added = http
        .post(api(&server, "/projects/team/members"))
        .user("grace", PASSWORD)
        .json(&json!({"role_id": 2, "member_user": {"user_id": henry}}))
        .send()
        .await
        .unwrap();
    assert_eq!(added.status(), StatusCode::CREATED);
    // Demoted to guest, she may only read.
    let demoted = http
        .put(api(&server, &format!("/projects/team/members/{mid}")))
        .admin()
        .json(&json!({"role_id": 3}))
        .send()
        .await
        .unwrap();
    assert_eq!(demoted.status(), StatusCode::OK);
    let refused = http
        .delete(api(&server, &format!("/projects/team/members/{mid}")))
        .user("grace", PASSWORD)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let removed = http
        .delete(api(&server, &format!("/projects/team/members/{mid}")))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(removed.status(), StatusCode::OK);
    assert_eq!(
        as_grace("/projects/team/members").await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn a_member_id_of_another_project_is_not_found() {
    let server = TestServer::start().await;
    let http = client();
    create_project(&server, &http, json!({"project_name": "one"})).await;
    create_project(&server, &http, json!({"project_name": "two"})).await;
    let ivan = user(&server, "ivan", false).await;
    let mid = add_member(
        &server,
        &http,
        "one",
        json!({"role_id": 2, "member_user": {"user_id": ivan}}),
    )
    .await;
    let elsewhere = api(&server, &format!("/projects/two/members/{mid}"));
    assert_eq!(
        http.get(&elsewhere).admin().send().await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        http.put(&elsewhere)
            .admin()
            .json(&json!({"role_id": 1}))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        http.delete(&elsewhere)
            .admin()
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::NOT_FOUND
    );
    let member = get_json(&http, api(&server, &format!("/projects/one/members/{mid}"))).await;
    assert_eq!(member["role_id"], 2, "untouched in its own project");
}

#[tokio::test]
async fn the_member_list_filters_by_name_and_paginates() {
    let server = TestServer::start().await;
    let http = client();
    create_project(&server, &http, json!({"project_name": "team"})).await;
    for name in ["ops-ann", "ops-ben", "ops-cid", "dev-dan"] {
        let id = user(&server, name, false).await;
        add_member(
            &server,
            &http,
            "team",
            json!({"role_id": 2, "member_user": {"user_id": id}}),
        )
        .await;
    }
    let names = |members: &[Value]| -> Vec<String> {
        members
            .iter()
            .map(|m| m["entity_name"].as_str().unwrap().to_owned())
            .collect()
    };

    let response = http
        .get(api(
            &server,
            "/projects/team/members?entityname=ops&page_size=2",
        ))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["x-total-count"], "3");
    assert_eq!(
        response.headers()["link"],
        "</api/v2.0/projects/team/members?entityname=ops&page=2&page_size=2>; rel=\"next\""
    );
    let first: Vec<Value> = response.json().await.unwrap();
    assert_eq!(names(&first), ["ops-ann", "ops-ben"]);
    let second: Vec<Value> = http
        .get(api(
            &server,
            "/projects/team/members?entityname=ops&page=2&page_size=2",
        ))
        .admin()
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(names(&second), ["ops-cid"]);

    let all = get_json(&http, api(&server, "/projects/team/members")).await;
    assert_eq!(
        names(all.as_array().unwrap()),
        ["admin", "dev-dan", "ops-ann", "ops-ben", "ops-cid"]
    );
    let none = get_json(&http, api(&server, "/projects/team/members?entityname=zzz")).await;
    assert_eq!(none, json!([]));
}

/// Creates a user group as admin; returns its id.
async fn group(server: &TestServer, http: &Client, body: Value) -> i64 {
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
    location.rsplit('/').next().unwrap().parse().unwrap()
}

#[tokio::test]
async fn groups_are_added_by_id_name_or_dn_and_listed_as_g() {
    let server = TestServer::start().await;
    let http = client();
    let project = create_project(&server, &http, json!({"project_name": "team"})).await;
    let devs = group(
        &server,
        &http,
        json!({"group_name": "devs", "group_type": 3}),
    )
    .await;
    let ops = group(
        &server,
        &http,
        json!({"group_name": "ops", "group_type": 1, "ldap_group_dn": "cn=ops,dc=x"}),
    )
    .await;
    let qa = group(&server, &http, json!({"group_name": "qa", "group_type": 2})).await;
    // The same name in another type.
    group(&server, &http, json!({"group_name": "qa", "group_type": 3})).await;

    let by_id = add_member(
        &server,
        &http,
        "team",
        json!({"role_id": 2, "member_group": {"id": devs}}),
    )
    .await;
    add_member(
        &server,
        &http,
        "team",
        json!({"role_id": 4, "member_group": {"ldap_group_dn": "cn=ops,dc=x"}}),
    )
    .await;
    add_member(
        &server,
        &http,
        "team",
        json!({"role_id": 3, "member_group": {"group_name": "qa", "group_type": 2}}),
    )
    .await;

    let member = get_json(
        &http,
        api(&server, &format!("/projects/team/members/{by_id}")),
    )
    .await;
    assert_eq!(
        member,
        json!({"id": by_id, "project_id": project, "entity_name": "devs", "role_name": "developer",
               "role_id": 2, "entity_id": devs, "entity_type": "g"})
    );
    let members = get_json(&http, api(&server, "/projects/team/members")).await;
    let listed: Vec<(&str, &str, i64)> = members
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["entity_name"].as_str().unwrap(),
                m["entity_type"].as_str().unwrap(),
                m["entity_id"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        listed,
        [
            ("admin", "u", 1),
            ("devs", "g", devs),
            ("ops", "g", ops),
            ("qa", "g", qa)
        ]
    );
    let filtered = get_json(&http, api(&server, "/projects/team/members?entityname=op")).await;
    assert_eq!(filtered.as_array().unwrap().len(), 1);
    assert_eq!(filtered[0]["entity_name"], "ops");

    for body in [
        json!({"role_id": 3, "member_group": {"id": devs}}),
        json!({"role_id": 3, "member_group": {"group_name": "devs"}}),
        json!({"role_id": 3, "member_group": {"ldap_group_dn": "cn=ops,dc=x"}}),
    ] {
        let response = http
            .post(api(&server, "/projects/team/members"))
            .admin()
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::CONFLICT, "{body}");
    }
    // A group member's role changes and it is removed like a user member.
    let updated = http
        .put(api(&server, &format!("/projects/team/members/{by_id}")))
        .admin()
        .json(&json!({"role_id": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(updated.status(), StatusCode::OK);
    let member = get_json(
        &http,
        api(&server, &format!("/projects/team/members/{by_id}")),
    )
    .await;
    assert_eq!(member["role_name"], "projectAdmin");
    let removed = http
        .delete(api(&server, &format!("/projects/team/members/{by_id}")))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(removed.status(), StatusCode::OK);
}

/// A bearer token from the token service for `scope`, as `user`.
async fn token(server: &TestServer, http: &Client, user: &str, scope: &str) -> String {
    let response = http
        .get(server.url("/service/token"))
        .query(&[("service", "berth-registry"), ("scope", scope)])
        .basic_auth(user, Some(PASSWORD))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    body["token"].as_str().unwrap().to_owned()
}

/// The status of pulling `private/app:v1` with a fresh token for `user`.
async fn pull_status(server: &TestServer, http: &Client, user: &str) -> StatusCode {
    let bearer = token(server, http, user, "repository:private/app:pull").await;
    http.get(server.url("/v2/private/app/manifests/v1"))
        .bearer_auth(bearer)
        .header("accept", "application/vnd.oci.image.manifest.v1+json")
        .send()
        .await
        .unwrap()
        .status()
}

/// The status of pushing a blob to `private/app` with Basic credentials of `user`.
async fn push_status(server: &TestServer, http: &Client, user: &str, data: &[u8]) -> StatusCode {
    http.post(server.url(&format!(
        "/v2/private/app/blobs/uploads/?digest={}",
        crate::support::sha256(data)
    )))
    .basic_auth(user, Some(PASSWORD))
    .body(data.to_vec())
    .send()
    .await
    .unwrap()
    .status()
}

#[tokio::test]
async fn a_group_grants_its_role_until_the_user_leaves_or_the_group_is_removed() {
    let server = TestServer::start().await;
    let http = client();
    let project = create_project(&server, &http, json!({"project_name": "private"})).await;
    crate::registry::push_image(&server, &http, "private/app", "v1", "group").await;
    let tess = user(&server, "tess", false).await;
    let devs = group(
        &server,
        &http,
        json!({"group_name": "devs", "group_type": 3}),
    )
    .await;
    let mid = add_member(
        &server,
        &http,
        "private",
        json!({"role_id": 2, "member_group": {"id": devs}}),
    )
    .await;
    let sees = |path: &'static str| {
        let request = http.get(api(&server, path)).user("tess", PASSWORD);
        async move { request.send().await.unwrap().status() }
    };

    // Not yet in the group: the private project does not exist for her, on /v2 as on the REST API.
    assert_eq!(sees("/projects/private").await, StatusCode::NOT_FOUND);
    assert_eq!(
        pull_status(&server, &http, "tess").await,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        push_status(&server, &http, "tess", b"one").await,
        StatusCode::NOT_FOUND
    );

    server
        .state
        .db
        .set_user_groups(tess, &[devs])
        .await
        .unwrap();
    assert_eq!(sees("/projects/private").await, StatusCode::OK);
    assert_eq!(sees("/projects/private/repositories").await, StatusCode::OK);
    let projects: Value = http
        .get(api(&server, "/projects"))
        .user("tess", PASSWORD)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let private = projects
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "private")
        .expect("the private project is listed");
    assert_eq!(private["current_user_role_id"], 2);
    assert_eq!(pull_status(&server, &http, "tess").await, StatusCode::OK);
    assert_eq!(
        push_status(&server, &http, "tess", b"two").await,
        StatusCode::CREATED
    );
    let catalog: Value = http
        .get(server.url("/v2/_catalog"))
        .basic_auth("tess", Some(PASSWORD))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(catalog["repositories"], json!(["private/app"]));
    // Developers may not delete.
    let delete = http
        .delete(api(&server, "/projects/private/repositories/app"))
        .user("tess", PASSWORD)
        .send()
        .await
        .unwrap();
    assert_eq!(delete.status(), StatusCode::FORBIDDEN);

    // The strongest role wins: a direct Guest membership does not weaken the group's Developer role, and
    // a direct ProjectAdmin one strengthens it.
    let direct = add_member(
        &server,
        &http,
        "private",
        json!({"role_id": 3, "member_user": {"user_id": tess}}),
    )
    .await;
    assert_eq!(
        push_status(&server, &http, "tess", b"three").await,
        StatusCode::CREATED
    );
    assert_eq!(
        server.state.db.effective_role(project, tess).await.unwrap(),
        Some(2)
    );
    let promoted = http
        .put(api(&server, &format!("/projects/private/members/{direct}")))
        .admin()
        .json(&json!({"role_id": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(promoted.status(), StatusCode::OK);
    assert_eq!(
        server.state.db.effective_role(project, tess).await.unwrap(),
        Some(1)
    );
    let removed = http
        .delete(api(&server, &format!("/projects/private/members/{direct}")))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(removed.status(), StatusCode::OK);

    // Out of the group: access is gone at the next request.
    server.state.db.set_user_groups(tess, &[]).await.unwrap();
    assert_eq!(sees("/projects/private").await, StatusCode::NOT_FOUND);
    assert_eq!(
        pull_status(&server, &http, "tess").await,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        push_status(&server, &http, "tess", b"four").await,
        StatusCode::NOT_FOUND
    );

    // Back in the group, then the group's membership is deleted: gone again.
    server
        .state
        .db
        .set_user_groups(tess, &[devs])
        .await
        .unwrap();
    assert_eq!(pull_status(&server, &http, "tess").await, StatusCode::OK);
    let removed = http
        .delete(api(&server, &format!("/projects/private/members/{mid}")))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(removed.status(), StatusCode::OK);
    assert_eq!(sees("/projects/private").await, StatusCode::NOT_FOUND);
    assert_eq!(
        pull_status(&server, &http, "tess").await,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        push_status(&server, &http, "tess", b"five").await,
        StatusCode::NOT_FOUND
    );
}
