//! P2P preheat: Berth has no provider, so it answers as a Harbor with none — empty lists, and a 400 saying
//! why for a new instance or policy — with Harbor's access rules.

use reqwest::StatusCode;
use serde_json::{Value, json};

use super::repositories::{PASSWORD, member};
use super::{As, api, create_project, error_code};
use crate::support::{TestServer, client};

#[tokio::test]
async fn preheat_lists_are_empty_and_nothing_can_be_created() {
    let server = TestServer::start().await;
    let http = client();
    create_project(&server, &http, json!({"project_name": "team"})).await;
    member(&server, &http, "team", "boss", 1).await;
    member(&server, &http, "team", "keeper", 4).await;

    for url in ["/p2p/preheat/providers", "/p2p/preheat/instances"] {
        let response = http.get(api(&server, url)).admin().send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{url}");
        let list: Value = response.json().await.unwrap();
        assert_eq!(list, json!([]), "{url}");
        let response = http
            .get(api(&server, url))
            .user("boss", PASSWORD)
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.status(),
            StatusCode::FORBIDDEN,
            "{url}: a system permission"
        );
    }
    let response = http
        .get(api(&server, "/p2p/preheat/instances"))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["x-total-count"], "0");
    let instance = json!({"name": "d7y", "vendor": "dragonfly", "endpoint": "http://d7y.example",
                          "auth_mode": "NONE", "enabled": true});
    let response = http
        .post(api(&server, "/p2p/preheat/instances"))
        .admin()
        .json(&instance)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["errors"][0]["code"], "BAD_REQUEST");
    let message = body["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains("Dragonfly or Kraken"), "{message}");

    // A project's policies: its project admins only.
    let url = api(&server, "/projects/team/preheat/policies");
    let response = http.get(&url).user("boss", PASSWORD).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["x-total-count"], "0");
    assert_eq!(response.json::<Value>().await.unwrap(), json!([]));
    let response = http
        .get(&url)
        .user("keeper", PASSWORD)
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        StatusCode::FORBIDDEN,
        "maintainers hold no preheat-policy"
    );
    let policy = json!({"name": "warm", "provider_id": 1, "enabled": true,
                        "filters": "[]", "trigger": "{\"type\":\"manual\"}"});
    let response = http
        .post(&url)
        .user("boss", PASSWORD)
        .json(&policy)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(error_code(response).await, "BAD_REQUEST");
    let response = http
        .post(&url)
        .user("keeper", PASSWORD)
        .json(&policy)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let response = http
        .get(api(&server, "/projects/nope/preheat/policies"))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let response = http.get(&url).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    server.stop().await;
}
