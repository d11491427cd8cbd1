//! `GET /v2/<name>/tags/list`.

use reqwest::StatusCode;
use serde_json::{Value, json};

use super::{AsAdmin, OCI_MANIFEST, error_code, header, push_image, put_manifest, setup};

#[tokio::test]
async fn tags_are_listed_in_lexical_order_with_pagination() {
    let (server, http) = setup().await;
    let (manifest, _) = push_image(&server, &http, "library/app", "v3", "tags").await;
    for tag in ["v1", "latest", "v2", "A"] {
        put_manifest(&server, &http, "library/app", tag, OCI_MANIFEST, &manifest).await;
    }
    let list = |query: &'static str| {
        let http = http.clone();
        let url = server.url(&format!("/v2/library/app/tags/list{query}"));
        async move {
            let response = http.get(url).admin().send().await.unwrap();
            assert_eq!(response.status(), StatusCode::OK);
            let link = header(&response, "link");
            let body: Value = response.json().await.unwrap();
            assert_eq!(body["name"], "library/app");
            (body["tags"].clone(), link)
        }
    };
    assert_eq!(
        list("").await,
        (json!(["A", "latest", "v1", "v2", "v3"]), String::new())
    );
    assert_eq!(
        list("?n=2").await,
        (
            json!(["A", "latest"]),
            "</v2/library/app/tags/list?n=2&last=latest>; rel=\"next\"".to_owned()
        )
    );
    assert_eq!(
        list("?n=2&last=latest").await,
        (
            json!(["v1", "v2"]),
            "</v2/library/app/tags/list?n=2&last=v2>; rel=\"next\"".to_owned()
        )
    );
    assert_eq!(list("?n=2&last=v2").await, (json!(["v3"]), String::new()));
    assert_eq!(list("?n=0").await, (json!([]), String::new()));
    assert_eq!(list("?last=v1").await, (json!(["v2", "v3"]), String::new()));

    let response = http
        .get(server.url("/v2/library/app/tags/list?n=abc"))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let response = http
        .get(server.url("/v2/library/nothing/tags/list"))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert_eq!(error_code(response).await, "NAME_UNKNOWN");
    server.stop().await;
}
