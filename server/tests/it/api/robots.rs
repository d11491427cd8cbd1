//! Robot accounts: `/robots`, and robots signing in to `/v2` and `/service/token`.

use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

use super::{As, api, configure, create_project, error_code, get_json};
use crate::clients::{ClientEnv, skopeo_copy_cmd};
use crate::images::{Image, Layout, require_tool, run, run_ok};
use crate::support::{BinaryServer, TestServer, client};

pub fn project_robot(project: &str, name: &str, pairs: &[(&str, &str)]) -> Value {
    json!({
        "name": name,
        "level": "project",
        "duration": 30,
        "permissions": [{"kind": "project", "namespace": project,
                         "access": pairs.iter().map(|(r, a)| json!({"resource": r, "action": a})).collect::<Vec<_>>()}],
    })
}

/// Creates a robot as admin; returns (id, name, secret).
pub async fn create_robot(http: &Client, url: &str, body: &Value) -> (i64, String, String) {
    let response = http.post(url).admin().json(body).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::CREATED, "{body}");
    let created: Value = response.json().await.unwrap();
    (
        created["id"].as_i64().unwrap(),
        created["name"].as_str().unwrap().to_owned(),
        created["secret"].as_str().unwrap().to_owned(),
    )
}

/// The issue's scenario, over plain HTTP and with skopeo, against the real binary.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_sets_up_a_project_user_and_robot_over_http() {
    require_tool("skopeo");
    let dir = tempfile::tempdir().unwrap();
    let server = BinaryServer::start(&dir.path().join("data"));
    let http = client();
    let url = |path: &str| server.url(&format!("/api/v2.0{path}"));

    // A private project with a 50 MB quota, a Developer, and a robot with push and pull.
    let response = http
        .post(url("/projects"))
        .admin()
        .json(&json!({"project_name": "team", "metadata": {"public": "false"}, "storage_limit": 50_000_000}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let project_id: i64 = response.headers()["location"]
        .to_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let response = http
        .post(url("/users"))
        .admin()
        .json(&json!({"username": "dev", "password": "Developer1", "email": "dev@example.com", "realname": "Dev"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let response = http
        .post(url("/projects/team/members"))
        .admin()
        .json(&json!({"role_id": 2, "member_user": {"username": "dev"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let (_, robot, secret) = create_robot(
        &http,
        &url("/robots"),
        &project_robot(
            "team",
            "ci",
            &[("repository", "push"), ("repository", "pull")],
        ),
    )
    .await;
    assert_eq!(robot, "robot$team+ci");

    // skopeo pushes with the robot's credentials.
    let env = ClientEnv::new();
    let layout_dir = env.path("layout");
    let mut layout = Layout::create(&layout_dir);
    let image = Image::build(42, "amd64", &[300_000, 200_000]);
    layout.add_image("1", &image);
    let dest = format!("docker://{}/team/app:1", server.host());
    let creds = format!("{robot}:{secret}");
    run_ok(&mut skopeo_copy_cmd(
        &env,
        &layout.reference("1"),
        &dest,
        Some(&creds),
        false,
    ));

    // The Developer can pull but not delete.
    let manifest_url = server.url("/v2/team/app/manifests/1");
    let response = http
        .get(&manifest_url)
        .user("dev", "Developer1")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()["docker-content-digest"],
        image.manifest.digest.as_str()
    );
    let response = http
        .delete(server.url(&format!("/v2/team/app/manifests/{}", image.manifest.digest)))
        .user("dev", "Developer1")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);

    // An outsider cannot see that the project exists.
    let response = http
        .post(url("/users"))
        .admin()
        .json(&json!({"username": "outsider", "password": "Outsider1", "email": "o@example.com", "realname": "O"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    for path in [
        "/projects/team".to_owned(),
        format!("/projects/{project_id}"),
    ] {
        let response = http
            .get(url(&path))
            .user("outsider", "Outsider1")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
    }
    let projects: Value = http
        .get(url("/projects"))
        .user("outsider", "Outsider1")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        projects
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["name"] != "team")
    );
    let catalog: Value = http
        .get(server.url("/v2/_catalog"))
        .user("outsider", "Outsider1")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(!catalog.to_string().contains("team/"), "{catalog}");

    // Usage is the deduplicated size of what was pushed; a push beyond 50 MB is refused.
    let expected: usize = image
        .referenced_blobs()
        .iter()
        .map(|b| b.size())
        .sum::<usize>()
        + image.manifest.size();
    let quota: Value = http
        .get(url(&format!("/quotas/{project_id}")))
        .admin()
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(quota["used"]["storage"], expected as i64);
    assert_eq!(quota["hard"]["storage"], 50_000_000);
    let mut big_layout = Layout::create(&env.path("big"));
    let big = Image::build(7, "amd64", &[52_000_000]);
    big_layout.add_image("big", &big);
    let refused = run(&mut skopeo_copy_cmd(
        &env,
        &big_layout.reference("big"),
        &format!("docker://{}/team/big:1", server.host()),
        Some(&creds),
        false,
    ));
    assert!(
        !refused.status.success(),
        "a push beyond the quota is refused"
    );
    let text = String::from_utf8_lossy(&refused.stderr);
    assert!(text.contains("quota") || text.contains("denied"), "{text}");
    let quota: Value = http
        .get(url(&format!("/quotas/{project_id}")))
        .admin()
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        quota["used"]["storage"], expected as i64,
        "nothing of the refused push is charged"
    );
}

#[tokio::test]
async fn robots_get_only_their_permissions_and_can_be_disabled_or_refreshed() {
    let server = TestServer::start().await;
    let http = client();
    create_project(&server, &http, json!({"project_name": "team"})).await;
    create_project(&server, &http, json!({"project_name": "other"})).await;
    let (id, name, secret) = create_robot(
        &http,
        &api(&server, "/robots"),
        &project_robot("team", "puller", &[("repository", "pull")]),
    )
    .await;

    // The token service grants the intersection of what is asked and what the robot holds.
    let token: Value = http
        .get(server.url("/service/token?service=berth-registry&scope=repository:team/app:pull,push&scope=repository:other/app:pull"))
        .basic_auth(&name, Some(&secret))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let claims = token["token"]
        .as_str()
        .unwrap()
        .split('.')
        .nth(1)
        .unwrap()
        .to_owned();
    use base64::Engine as _;
    let claims: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(claims)
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        claims["access"],
        json!([{"type": "repository", "name": "team/app", "actions": ["pull"]}])
    );
    assert_eq!(claims["sub"], name);

    // Basic on /v2: may pull (404 = allowed, repository empty), may not push.
    let response = http
        .get(server.url("/v2/team/app/tags/list"))
        .basic_auth(&name, Some(&secret))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let response = http
        .post(server.url("/v2/team/app/blobs/uploads/"))
        .basic_auth(&name, Some(&secret))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);

    // The secret is never shown again.
    let robot: Value = http
        .get(api(&server, &format!("/robots/{id}")))
        .admin()
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(robot["name"], name);
    assert!(robot.get("secret").is_none(), "{robot}");
    assert_eq!(robot["permissions"][0]["access"][0]["action"], "pull");

    // Disabling takes effect at once; so does a refreshed secret.
    let mut update = project_robot("team", "puller", &[("repository", "pull")]);
    update["disable"] = json!(true);
    let response = http
        .put(api(&server, &format!("/robots/{id}")))
        .admin()
        .json(&update)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let response = http
        .get(server.url("/v2/team/app/tags/list"))
        .basic_auth(&name, Some(&secret))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    update["disable"] = json!(false);
    http.put(api(&server, &format!("/robots/{id}")))
        .admin()
        .json(&update)
        .send()
        .await
        .unwrap();
    let refreshed: Value = http
        .patch(api(&server, &format!("/robots/{id}")))
        .admin()
        .json(&json!({}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let new_secret = refreshed["secret"].as_str().unwrap();
    assert_ne!(new_secret, secret);
    let old = http
        .get(server.url("/v2/team/app/tags/list"))
        .basic_auth(&name, Some(&secret))
        .send()
        .await
        .unwrap();
    assert_eq!(old.status(), StatusCode::UNAUTHORIZED);
    let new = http
        .get(server.url("/v2/team/app/tags/list"))
        .basic_auth(&name, Some(new_secret))
        .send()
        .await
        .unwrap();
    assert_eq!(new.status(), StatusCode::NOT_FOUND);

    // Deleted robots cannot sign in.
    assert_eq!(
        http.delete(api(&server, &format!("/robots/{id}")))
            .admin()
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    let response = http
        .get(server.url("/v2/team/app/tags/list"))
        .basic_auth(&name, Some(new_secret))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    server.stop().await;
}

#[tokio::test]
async fn a_robot_never_gets_more_than_its_creator_holds() {
    let server = TestServer::start().await;
    let http = client();
    create_project(&server, &http, json!({"project_name": "team"})).await;
    for (user, role) in [("lead", 1), ("dev", 2)] {
        server.create_user(user, "Password1", false).await;
        let response = http
            .post(api(&server, "/projects/team/members"))
            .admin()
            .json(&json!({"role_id": role, "member_user": {"username": user}}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::CREATED);
    }
    let robots = api(&server, "/robots");
    // A Developer may not manage robots at all.
    let response = http
        .post(&robots)
        .user("dev", "Password1")
        .json(&project_robot("team", "r1", &[("repository", "pull")]))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    // A project admin may, within the project only.
    let response = http
        .post(&robots)
        .user("lead", "Password1")
        .json(&project_robot(
            "team",
            "r2",
            &[("repository", "push"), ("artifact", "delete")],
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let response = http
        .post(&robots)
        .user("lead", "Password1")
        .json(&project_robot("library", "r3", &[("repository", "push")]))
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        StatusCode::FORBIDDEN,
        "lead is no admin of library"
    );
    let system = json!({"name": "sys", "level": "system", "permissions": [{"kind": "project", "namespace": "*", "access": [{"resource": "repository", "action": "pull"}]}]});
    let response = http
        .post(&robots)
        .user("lead", "Password1")
        .json(&system)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let (_, name, secret) = create_robot(&http, &robots, &system).await;
    assert_eq!(name, "robot$sys");
    let response = http
        .get(server.url("/v2/team/app/tags/list"))
        .basic_auth(&name, Some(&secret))
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        StatusCode::NOT_FOUND,
        "a system robot with * may pull everywhere"
    );

    // Bad requests.
    for (body, status) in [
        (
            project_robot("team", "Bad Name", &[("repository", "pull")]),
            StatusCode::BAD_REQUEST,
        ),
        (project_robot("team", "empty", &[]), StatusCode::BAD_REQUEST),
        (
            project_robot("nosuch", "x", &[("repository", "pull")]),
            StatusCode::NOT_FOUND,
        ),
        (
            project_robot("team", "r2", &[("repository", "pull")]),
            StatusCode::CONFLICT,
        ),
    ] {
        let response = http.post(&robots).admin().json(&body).send().await.unwrap();
        assert_eq!(response.status(), status, "{body}");
    }
    let mut never = project_robot("team", "forever", &[("repository", "pull")]);
    never["duration"] = json!(-1);
    let created: Value = http
        .post(&robots)
        .admin()
        .json(&never)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(created["expires_at"], -1);

    // Listing: everything for admins, a project's robots for its members, nothing for outsiders.
    let team_id = http
        .get(api(&server, "/projects/team"))
        .admin()
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap()["project_id"]
        .as_i64()
        .unwrap();
    let query = format!("/robots?q=Level=project,ProjectID={team_id}");
    let response = http
        .get(api(&server, &query))
        .user("dev", "Password1")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["x-total-count"], "2");
    server.create_user("outsider", "Outsider1", false).await;
    let response = http
        .get(api(&server, &query))
        .user("outsider", "Outsider1")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let response = http
        .get(api(&server, "/robots"))
        .user("dev", "Password1")
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(response).await, "FORBIDDEN");
    let response = http
        .get(api(&server, "/robots"))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["x-total-count"], "3");
    server.stop().await;
}

#[tokio::test]
async fn an_expired_robot_cannot_sign_in() {
    let server = TestServer::start().await;
    let http = client();
    let (_, name, secret) = create_robot(
        &http,
        &api(&server, "/robots"),
        &project_robot("library", "old", &[("repository", "push")]),
    )
    .await;
    let pool = server.state.db.raw_write_pool();
    sqlx::query("UPDATE robots SET expires_at = 1 WHERE name = $1")
        .bind(&name)
        .execute(&pool)
        .await
        .unwrap();
    let response = http
        .get(server.url("/service/token?service=berth-registry"))
        .basic_auth(&name, Some(&secret))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    server.stop().await;
}

/// `GET`/`POST`/… `url` as `user`; returns the status.
async fn status_as(
    http: &Client,
    method: reqwest::Method,
    url: &str,
    (user, secret): (&str, &str),
    body: Option<Value>,
) -> StatusCode {
    let mut request = http.request(method, url).basic_auth(user, Some(secret));
    if let Some(body) = body {
        request = request.json(&body);
    }
    request.send().await.unwrap().status()
}

#[tokio::test]
async fn a_system_robot_does_what_it_was_given_and_nothing_else() {
    use reqwest::Method;
    let server = TestServer::start().await;
    let http = client();
    create_project(&server, &http, json!({"project_name": "team"})).await;
    create_project(&server, &http, json!({"project_name": "secret"})).await;
    crate::registry::push_image(&server, &http, "team/app", "v1", "sys").await;
    let robots = api(&server, "/robots");
    let system = |name: &str, system: &[(&str, &str)], project: &[(&str, &str)]| {
        let access = |pairs: &[(&str, &str)]| {
            pairs
                .iter()
                .map(|(r, a)| json!({"resource": r, "action": a}))
                .collect::<Vec<_>>()
        };
        json!({"name": name, "level": "system", "duration": -1, "permissions": [
            {"kind": "system", "namespace": "/", "access": access(system)},
            {"kind": "project", "namespace": "team", "access": access(project)},
        ]})
    };
    let (_, name, secret) = create_robot(
        &http,
        &robots,
        &system(
            "ops",
            &[
                ("project", "create"),
                ("project", "list"),
                ("registry", "list"),
                ("registry", "read"),
                ("audit-log", "list"),
                ("quota", "list"),
                ("catalog", "read"),
            ],
            &[("repository", "pull")],
        ),
    )
    .await;
    assert_eq!(name, "robot$ops");
    let robot = (name.as_str(), secret.as_str());

    // What it was given.
    let created = http
        .post(api(&server, "/projects"))
        .basic_auth(robot.0, Some(robot.1))
        .json(&json!({"project_name": "made-by-robot", "storage_limit": 1000000}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    let made = get_json(&http, api(&server, "/projects/made-by-robot")).await;
    assert_eq!(made["owner_name"], "admin", "Harbor gives it to the admin");
    let listed: Vec<Value> = http
        .get(api(&server, "/projects"))
        .basic_auth(robot.0, Some(robot.1))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut names: Vec<&str> = listed.iter().map(|p| p["name"].as_str().unwrap()).collect();
    names.sort_unstable();
    assert_eq!(names, ["library", "made-by-robot", "secret", "team"]);
    for path in [
        "/registries",
        "/audit-logs",
        "/quotas",
        "/replication/adapters",
    ] {
        let expected = if path == "/replication/adapters" {
            StatusCode::FORBIDDEN
        } else {
            StatusCode::OK
        };
        let got = status_as(&http, Method::GET, &api(&server, path), robot, None).await;
        assert_eq!(got, expected, "GET {path}");
    }
    let catalog: Value = http
        .get(server.url("/v2/_catalog"))
        .basic_auth(robot.0, Some(robot.1))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(catalog["repositories"], json!(["team/app"]));
    let pull = status_as(
        &http,
        Method::GET,
        &server.url("/v2/team/app/manifests/v1"),
        robot,
        None,
    )
    .await;
    assert_eq!(pull, StatusCode::OK);

    // Nothing else.
    let registry = json!({"name": "hub", "type": "docker-hub", "url": "https://hub.docker.com"});
    for (method, path, body) in [
        (Method::POST, "/registries", Some(registry)),
        (Method::GET, "/users", None),
        (Method::GET, "/configurations", None),
        (
            Method::PUT,
            "/configurations",
            Some(json!({"self_registration": true})),
        ),
        (
            Method::PUT,
            "/quotas/1",
            Some(json!({"hard": {"storage": 5}})),
        ),
        (Method::GET, "/usergroups", None),
        (Method::DELETE, "/projects/team", None),
    ] {
        let got = status_as(&http, method.clone(), &api(&server, path), robot, body).await;
        assert_eq!(got, StatusCode::FORBIDDEN, "{method} {path}");
    }
    let secret_repos = status_as(
        &http,
        Method::GET,
        &api(&server, "/projects/secret/repositories"),
        robot,
        None,
    )
    .await;
    assert_eq!(
        secret_repos,
        StatusCode::NOT_FOUND,
        "listing projects is not reading them"
    );
    let push = status_as(
        &http,
        Method::POST,
        &server.url("/v2/team/app/blobs/uploads/"),
        robot,
        None,
    )
    .await;
    assert_eq!(push, StatusCode::FORBIDDEN, "pull only in team");

    // Its system permissions, as Harbor lists them.
    let permissions: Vec<Value> = http
        .get(api(&server, "/users/current/permissions"))
        .query(&[("scope", "/system"), ("relative", "true")])
        .basic_auth(robot.0, Some(robot.1))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut pairs: Vec<String> = permissions
        .iter()
        .map(|p| {
            format!(
                "{}:{}",
                p["resource"].as_str().unwrap(),
                p["action"].as_str().unwrap()
            )
        })
        .collect();
    pairs.sort();
    assert_eq!(
        pairs,
        [
            "audit-log:list",
            "catalog:read",
            "project:create",
            "project:list",
            "quota:list",
            "registry:list",
            "registry:read"
        ]
    );

    // A system robot without project:create may not create projects; a project robot never.
    let (_, lister, lister_secret) = create_robot(
        &http,
        &robots,
        &system("lister", &[("project", "list")], &[("repository", "pull")]),
    )
    .await;
    let got = status_as(
        &http,
        Method::POST,
        &api(&server, "/projects"),
        (&lister, &lister_secret),
        Some(json!({"project_name": "nope"})),
    )
    .await;
    assert_eq!(got, StatusCode::FORBIDDEN);
    let (_, ci, ci_secret) = create_robot(
        &http,
        &robots,
        &project_robot("team", "ci", &[("repository", "pull")]),
    )
    .await;
    let response = http
        .post(api(&server, "/projects"))
        .basic_auth(&ci, Some(&ci_secret))
        .json(&json!({"project_name": "nope"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body["errors"][0]["message"],
        "Only system level robot can create project"
    );
    server.stop().await;
}

#[tokio::test]
async fn system_permissions_are_checked_as_harbor_checks_them() {
    let server = TestServer::start().await;
    let http = client();
    let robots = api(&server, "/robots");
    let robot = |level: &str, kind: &str, namespace: &str, resource: &str, action: &str| {
        json!({"name": "r", "level": level, "permissions": [{"kind": kind, "namespace": namespace,
               "access": [{"resource": resource, "action": action}]}]})
    };
    for (body, message) in [
        (
            robot("system", "system", "/", "user", "create"),
            "bad request permission: user:create",
        ),
        (
            robot("system", "system", "/", "configuration", "update"),
            "bad request permission: configuration:update",
        ),
        (
            robot("system", "cluster", "/", "project", "create"),
            "bad request permission level: cluster",
        ),
        (
            robot("system", "system", "team", "project", "create"),
            "namespace is \"/\"",
        ),
        (
            robot("project", "system", "/", "project", "create"),
            "system permissions are for system robots",
        ),
    ] {
        let response = http.post(&robots).admin().json(&body).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{body}");
        let answer: Value = response.json().await.unwrap();
        let got = answer["errors"][0]["message"].as_str().unwrap();
        assert!(got.contains(message), "{body}: {got}");
    }
    // Every pair Harbor lets robots hold at system level is accepted.
    let all: Vec<Value> = berth::auth::policy::ROBOT_SYSTEM_POLICIES
        .iter()
        .map(|(r, a)| json!({"resource": r, "action": a}))
        .collect();
    let body = json!({"name": "everything", "level": "system", "permissions": [
        {"kind": "system", "namespace": "/", "access": all},
        {"kind": "project", "namespace": "*", "access": [{"resource": "repository", "action": "pull"}]},
    ]});
    create_robot(&http, &robots, &body).await;
    server.stop().await;
}

#[tokio::test]
async fn new_robots_take_the_configured_prefix_and_duration_and_old_ones_still_sign_in() {
    let server = TestServer::start().await;
    let http = client();
    create_project(&server, &http, json!({"project_name": "team"})).await;
    let robots = api(&server, "/robots");
    let (_, old_name, old_secret) = create_robot(
        &http,
        &robots,
        &project_robot("team", "old", &[("repository", "pull")]),
    )
    .await;
    assert_eq!(old_name, "robot$team+old");

    configure(
        &server,
        &http,
        json!({"robot_name_prefix": "bot-", "robot_token_duration": 7}),
    )
    .await;
    let mut body = project_robot("team", "new", &[("repository", "pull")]);
    body.as_object_mut().unwrap().remove("duration");
    let response = http.post(&robots).admin().json(&body).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let created: Value = response.json().await.unwrap();
    let new_name = created["name"].as_str().unwrap().to_owned();
    let new_secret = created["secret"].as_str().unwrap().to_owned();
    assert_eq!(new_name, "bot-team+new");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let expires = created["expires_at"].as_i64().unwrap();
    assert!(
        (expires - (now + 7 * 86_400)).abs() < 120,
        "expires_at {expires} is 7 days from now"
    );
    let robot = get_json(&http, api(&server, &format!("/robots/{}", created["id"]))).await;
    assert_eq!(robot["duration"], 7);

    // Both sign in, on the REST API and the registry, whatever their prefix.
    for (name, secret) in [(&old_name, &old_secret), (&new_name, &new_secret)] {
        let response = http
            .get(api(&server, "/projects/team"))
            .basic_auth(name, Some(secret))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{name}");
        let token = http
            .get(server.url("/service/token"))
            .query(&[
                ("service", "berth-registry"),
                ("scope", "repository:team/app:pull"),
            ])
            .basic_auth(name, Some(secret))
            .send()
            .await
            .unwrap();
        assert_eq!(token.status(), StatusCode::OK, "{name} gets a token");
    }
    // A user may not take a robot's name, nor a robot a user's.
    let response = http
        .post(api(&server, "/users"))
        .admin()
        .json(&json!({"username": "bot-team+new", "password": "Password1", "email": "b@example.com", "realname": "B"}))
        .send()
        .await
        .unwrap();
    assert!(
        matches!(
            response.status(),
            StatusCode::CONFLICT | StatusCode::BAD_REQUEST
        ),
        "{}",
        response.status()
    );
    server.create_user("bot-solo", "Password1", false).await;
    let solo = json!({"name": "solo", "level": "system", "permissions": [
        {"kind": "project", "namespace": "team", "access": [{"resource": "repository", "action": "pull"}]}]});
    let response = http.post(&robots).admin().json(&solo).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::CONFLICT);
    server.stop().await;
}

/// `GET /permissions`: the lists the console's robot form offers — the system-level and project-level
/// permissions for a system admin, the project-level ones for a project admin, nothing for anyone else.
#[tokio::test]
async fn the_grantable_permissions_are_for_admins() {
    use super::repositories::{PASSWORD, member};

    let server = TestServer::start().await;
    let http = client();
    create_project(&server, &http, json!({"project_name": "team"})).await;
    member(&server, &http, "team", "boss", 1).await;
    member(&server, &http, "team", "dev", 2).await;
    let url = api(&server, "/permissions");
    let pairs = |list: &Value| -> Vec<(String, String)> {
        list.as_array()
            .unwrap()
            .iter()
            .map(|p| {
                (
                    p["resource"].as_str().unwrap().to_owned(),
                    p["action"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    };
    let has = |list: &[(String, String)], resource: &str, action: &str| {
        list.iter().any(|(r, a)| r == resource && a == action)
    };

    let all = get_json(&http, url.clone()).await;
    let system = pairs(&all["system"]);
    let project = pairs(&all["project"]);
    assert!(has(&system, "system-volumes", "read"), "{all}");
    assert!(has(&system, "registry", "create"), "{all}");
    assert!(!has(&system, "user", "create"), "not a robot permission");
    assert!(has(&project, "repository", "push"), "{all}");
    assert!(has(&project, "accessory", "list"), "{all}");
    assert!(has(&project, "preheat-policy", "list"), "{all}");
    assert!(!has(&project, "member", "create"), "not a robot permission");
    let unique: std::collections::BTreeSet<_> = project.iter().collect();
    assert_eq!(unique.len(), project.len(), "no pair twice");

    let response = http.get(&url).user("boss", PASSWORD).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let mine: Value = response.json().await.unwrap();
    assert_eq!(
        mine["system"],
        json!([]),
        "a project admin grants no system permission"
    );
    assert_eq!(mine["project"], all["project"]);

    let response = http.get(&url).user("dev", PASSWORD).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(error_code(response).await, "FORBIDDEN");
    let response = http.get(&url).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let (_, name, secret) = create_robot(
        &http,
        &api(&server, "/robots"),
        &project_robot("team", "bot", &[("repository", "pull")]),
    )
    .await;
    let response = http.get(&url).user(&name, &secret).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    server.stop().await;
}
