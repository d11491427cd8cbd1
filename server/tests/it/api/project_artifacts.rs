//! `/projects/{project_name}/artifacts`: the artifacts of every repository of a project, and
//! `…/artifacts/{reference}/accessories`.

use reqwest::StatusCode;
use serde_json::{Value, json};

use super::get_json;
use super::repositories::{PASSWORD, member, push};
use super::{As, api, create_project};
use crate::images::Image;
use crate::registry::{OCI_MANIFEST, image_manifest, put_manifest, sha256, upload_blob};
use crate::support::{TestServer, client};

/// The digests of a list, in order.
fn digests_of(list: &Value) -> Vec<&str> {
    list.as_array()
        .map(|items| items.iter().filter_map(|a| a["digest"].as_str()).collect())
        .unwrap_or_default()
}

/// The artifact type of cosign's signatures pushed with a subject (OCI 1.1 referrers mode).
pub const COSIGN_SIGNATURE: &str = "application/vnd.dev.cosign.artifact.sig.v1+json";

/// Pushes a notation signature of `subject` (pushed from `image`) to `repository`; returns its digest.
async fn sign(
    server: &TestServer,
    http: &reqwest::Client,
    repository: &str,
    subject: &str,
    image: &Image,
) -> String {
    attach(
        server,
        http,
        repository,
        subject,
        image,
        "application/vnd.cncf.notary.signature",
    )
    .await
}

/// Pushes an accessory of type `artifact_type` of `subject` (pushed from `image`) to `repository`; returns
/// its digest.
pub async fn attach(
    server: &TestServer,
    http: &reqwest::Client,
    repository: &str,
    subject: &str,
    image: &Image,
    artifact_type: &str,
) -> String {
    let empty = upload_blob(server, http, repository, b"{}").await;
    let signature = image_manifest(
        (&empty, 2),
        &[],
        json!({
            "artifactType": artifact_type,
            "subject": {"mediaType": OCI_MANIFEST, "digest": subject, "size": image.manifest.size()},
        }),
    );
    put_manifest(
        server,
        http,
        repository,
        &sha256(&signature),
        OCI_MANIFEST,
        &signature,
    )
    .await
}

#[tokio::test]
async fn a_projects_artifacts_span_its_repositories_and_no_other_project() {
    let server = TestServer::start().await;
    let http = client();
    create_project(&server, &http, json!({"project_name": "proj"})).await;
    create_project(&server, &http, json!({"project_name": "other"})).await;
    let small = Image::build(1, "amd64", &[1000]);
    let big = Image::build(2, "amd64", &[50_000]);
    let nested = Image::build(3, "arm64", &[5000]);
    let first = push(&server, &http, "proj/app", "v1", &small).await;
    let second = push(&server, &http, "proj/app", "v2", &big).await;
    let third = push(&server, &http, "proj/lib/tool", "t1", &nested).await;
    let foreign = push(
        &server,
        &http,
        "other/app",
        "v1",
        &Image::build(4, "amd64", &[10]),
    )
    .await;
    // The same image in two repositories of the project is two artifacts.
    let again = push(&server, &http, "proj/copy", "v1", &small).await;
    assert_eq!(again, first);
    sign(&server, &http, "proj/lib/tool", &third, &nested).await;

    let response = http
        .get(api(&server, "/projects/proj/artifacts?page=1&page_size=3"))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()["x-total-count"],
        "4",
        "the signature is an accessory"
    );
    let link = response.headers()["link"].to_str().unwrap().to_owned();
    assert!(
        link.contains("/api/v2.0/projects/proj/artifacts?page=2&page_size=3>; rel=\"next\""),
        "{link}"
    );
    let page: Value = response.json().await.unwrap();
    assert_eq!(
        digests_of(&page),
        [first.as_str(), third.as_str(), second.as_str()],
        "newest first"
    );
    assert_eq!(page[0]["repository_name"], "proj/copy");
    assert_eq!(page[1]["repository_name"], "proj/lib/tool");
    assert_eq!(page[1]["tags"][0]["name"], "t1");
    let rest = get_json(
        &http,
        api(&server, "/projects/proj/artifacts?page=2&page_size=3"),
    )
    .await;
    assert_eq!(digests_of(&rest), [first.as_str()]);
    assert_eq!(rest[0]["repository_name"], "proj/app");
    let all = get_json(&http, api(&server, "/projects/proj/artifacts")).await;
    assert!(!digests_of(&all).contains(&foreign.as_str()));
    // Harbor's latest_in_repository: the newest artifact of each repository (proj/app's v2, not v1).
    let latest = get_json(
        &http,
        api(
            &server,
            "/projects/proj/artifacts?latest_in_repository=true",
        ),
    )
    .await;
    assert_eq!(
        digests_of(&latest),
        [first.as_str(), third.as_str(), second.as_str()]
    );

    // The repository list's query: filters (the tag index too), sorting and the with_* parameters.
    let named = get_json(&http, api(&server, "/projects/proj/artifacts?q=tags%3D~t")).await;
    assert_eq!(digests_of(&named), [third.as_str()]);
    let named = get_json(&http, api(&server, "/projects/proj/artifacts?q=tags%3Dv1")).await;
    assert_eq!(digests_of(&named), [first.as_str(), first.as_str()]);
    let sorted = get_json(&http, api(&server, "/projects/proj/artifacts?sort=-size")).await;
    assert_eq!(digests_of(&sorted)[0], second.as_str());
    let bare = get_json(
        &http,
        api(&server, "/projects/proj/artifacts?with_tag=false"),
    )
    .await;
    assert!(bare[0].get("tags").is_none(), "{bare}");
    let signed = get_json(
        &http,
        api(
            &server,
            "/projects/proj/artifacts?with_accessory=true&q=tags%3Dt1",
        ),
    )
    .await;
    let accessories = signed[0]["accessories"].as_array().unwrap();
    assert_eq!(accessories.len(), 1);
    assert_eq!(accessories[0]["subject_artifact_id"], signed[0]["id"]);
    assert_eq!(accessories[0]["subject_artifact_repo"], "proj/lib/tool");
    let response = http
        .get(api(&server, "/projects/proj/artifacts?q=bogus%3D1"))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let response = http
        .get(api(&server, "/projects/proj/artifacts?page_size=101"))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);

    // A private project's artifacts are its members' only.
    server.create_user("stranger", PASSWORD, false).await;
    member(&server, &http, "proj", "guest", 3).await;
    let response = http
        .get(api(&server, "/projects/proj/artifacts"))
        .user("stranger", PASSWORD)
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        StatusCode::NOT_FOUND,
        "a private project is not shown to a stranger"
    );
    let response = http
        .get(api(&server, "/projects/proj/artifacts"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND, "nor to anyone");
    let response = http
        .get(api(&server, "/projects/proj/artifacts"))
        .user("guest", PASSWORD)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let response = http
        .get(api(&server, "/projects/nope/artifacts"))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    server.stop().await;
}

#[tokio::test]
async fn an_artifacts_accessories_are_listed_by_page_type_and_order() {
    let server = TestServer::start().await;
    let http = client();
    create_project(&server, &http, json!({"project_name": "proj"})).await;
    let image = Image::build(1, "amd64", &[1000]);
    let other = Image::build(2, "amd64", &[2000]);
    let subject = push(&server, &http, "proj/app", "v1", &image).await;
    let unsigned = push(&server, &http, "proj/app", "v2", &other).await;
    let notation = sign(&server, &http, "proj/app", &subject, &image).await;
    let cosign = attach(
        &server,
        &http,
        "proj/app",
        &subject,
        &image,
        COSIGN_SIGNATURE,
    )
    .await;
    // The same subject in another repository has its own accessories.
    push(&server, &http, "proj/copy", "v1", &image).await;
    attach(
        &server,
        &http,
        "proj/copy",
        &subject,
        &image,
        COSIGN_SIGNATURE,
    )
    .await;
    let base = "/projects/proj/repositories/app/artifacts";

    let response = http
        .get(api(&server, &format!("{base}/v1/accessories")))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["x-total-count"], "2");
    let list: Value = response.json().await.unwrap();
    assert_eq!(
        digests_of(&list),
        [cosign.as_str(), notation.as_str()],
        "newest first"
    );
    let artifact = get_json(&http, api(&server, &format!("{base}/v1"))).await;
    assert_eq!(list[0]["type"], "signature.cosign");
    assert_eq!(list[0]["subject_artifact_id"], artifact["id"]);
    assert_eq!(list[0]["subject_artifact_digest"], subject.as_str());
    assert_eq!(list[0]["subject_artifact_repo"], "proj/app");
    assert_eq!(list[0]["artifact_id"], list[0]["id"]);
    assert!(list[0]["size"].as_i64().unwrap() > 0, "{list}");
    assert!(
        list[0]["icon"].as_str().unwrap().starts_with("sha256:"),
        "{list}"
    );
    assert_eq!(list[1]["type"], "signature.notation");
    let by_digest = get_json(
        &http,
        api(&server, &format!("{base}/{subject}/accessories")),
    )
    .await;
    assert_eq!(by_digest, list);

    let cosigned = get_json(
        &http,
        api(
            &server,
            &format!("{base}/v1/accessories?q=type%3Dsignature.cosign"),
        ),
    )
    .await;
    assert_eq!(digests_of(&cosigned), [cosign.as_str()]);
    let oldest = get_json(
        &http,
        api(
            &server,
            &format!("{base}/v1/accessories?sort=creation_time&page_size=1"),
        ),
    )
    .await;
    assert_eq!(digests_of(&oldest), [notation.as_str()]);
    let response = http
        .get(api(
            &server,
            &format!("{base}/v1/accessories?page=1&page_size=1"),
        ))
        .admin()
        .send()
        .await
        .unwrap();
    let link = response.headers()["link"].to_str().unwrap().to_owned();
    assert!(
        link.contains("/artifacts/v1/accessories?page=2&page_size=1>; rel=\"next\""),
        "{link}"
    );
    let none = get_json(&http, api(&server, &format!("{base}/v2/accessories"))).await;
    assert_eq!(none, json!([]), "{unsigned} has none");
    for (url, status) in [
        (
            format!("{base}/v1/accessories?q=bogus%3D1"),
            StatusCode::BAD_REQUEST,
        ),
        (
            format!("{base}/v1/accessories?sort=tags"),
            StatusCode::BAD_REQUEST,
        ),
        (format!("{base}/v9/accessories"), StatusCode::NOT_FOUND),
        (
            "/projects/proj/repositories/nope/artifacts/v1/accessories".to_owned(),
            StatusCode::NOT_FOUND,
        ),
        (
            "/projects/nope/repositories/app/artifacts/v1/accessories".to_owned(),
            StatusCode::NOT_FOUND,
        ),
    ] {
        let response = http.get(api(&server, &url)).admin().send().await.unwrap();
        assert_eq!(response.status(), status, "{url}");
    }

    // Members of the private project only; anyone on a public one.
    server.create_user("stranger", PASSWORD, false).await;
    member(&server, &http, "proj", "guest", 3).await;
    let url = api(&server, &format!("{base}/v1/accessories"));
    let response = http
        .get(&url)
        .user("stranger", PASSWORD)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let response = http.get(&url).user("guest", PASSWORD).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let response = http
        .put(api(&server, "/projects/proj"))
        .admin()
        .json(&json!({"metadata": {"public": "true"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let response = http.get(&url).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    server.stop().await;
}
