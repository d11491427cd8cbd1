//! Robot accounts: `/robots`, and robots signing in to `/v2` and `/service/token`.

use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

use super::{As, api, create_project, error_code};
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

/// The scenario, over plain HTTP and with skopeo, against the real binary.
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
    let url = format!(
        "sqlite://{}",
        server.state.config.data_dir.join("berth.db").display()
    );
    let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
    sqlx::query("UPDATE robots SET expires_at = 1 WHERE name = $1")
        .bind(&name)
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
    let response = http
        .get(server.url("/service/token?service=berth-registry"))
        .basic_auth(&name, Some(&secret))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    server.stop().await;
}
