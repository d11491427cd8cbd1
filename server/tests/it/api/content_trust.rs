//! Cosign content trust: with the project's `enable_content_trust_cosign`, pulls of artifacts without a cosign
//! signature are refused with Harbor's 412 `PROJECTPOLICYVIOLATION`.

use reqwest::StatusCode;
use serde_json::{Value, json};

use super::project_artifacts::{COSIGN_SIGNATURE, attach};
use super::repositories::{pull, push};
use super::{As, api, create_project};
use crate::images::Image;
use crate::registry::{OCI_INDEX, OCI_MANIFEST, image_manifest, put_manifest, sha256, upload_blob};
use crate::support::{TestServer, client};

async fn set_cosign(server: &TestServer, http: &reqwest::Client, on: bool) {
    let response = http
        .put(api(server, "/projects/trust"))
        .admin()
        .json(&json!({"metadata": {"enable_content_trust_cosign": on.to_string()}}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn only_cosign_signed_artifacts_pull_when_the_project_requires_signatures() {
    let server = TestServer::start().await;
    let http = client();
    create_project(&server, &http, json!({"project_name": "trust"})).await;
    let signed_image = Image::build(1, "amd64", &[1000]);
    let unsigned_image = Image::build(2, "amd64", &[2000]);
    let notarized_image = Image::build(3, "amd64", &[3000]);
    let legacy_image = Image::build(4, "amd64", &[4000]);
    let signed = push(&server, &http, "trust/app", "signed", &signed_image).await;
    push(&server, &http, "trust/app", "unsigned", &unsigned_image).await;
    let notarized = push(&server, &http, "trust/app", "notarized", &notarized_image).await;
    let legacy = push(&server, &http, "trust/app", "legacy", &legacy_image).await;
    let signature = attach(
        &server,
        &http,
        "trust/app",
        &signed,
        &signed_image,
        COSIGN_SIGNATURE,
    )
    .await;
    attach(
        &server,
        &http,
        "trust/app",
        &notarized,
        &notarized_image,
        "application/vnd.cncf.notary.signature",
    )
    .await;
    // cosign's tag scheme (without the referrers API): `sha256-<hex>.sig` names the signed digest.
    let sig_tag = format!("sha256-{}.sig", legacy.trim_start_matches("sha256:"));
    push(
        &server,
        &http,
        "trust/app",
        &sig_tag,
        &Image::build(5, "amd64", &[10]),
    )
    .await;

    // A signed multi-platform index: its image pulls by digest, as docker pulls it after the index.
    let child_image = Image::build(6, "arm64", &[500]);
    let child = push(&server, &http, "trust/app", "child", &child_image).await;
    let index = serde_json::to_vec(&json!({
        "schemaVersion": 2, "mediaType": OCI_INDEX,
        "manifests": [{"mediaType": OCI_MANIFEST, "digest": child, "size": child_image.manifest.size()}]
    }))
    .unwrap();
    let index_digest = put_manifest(&server, &http, "trust/app", "multi", OCI_INDEX, &index).await;
    let empty = upload_blob(&server, &http, "trust/app", b"{}").await;
    let index_signature = image_manifest(
        (&empty, 2),
        &[],
        json!({"artifactType": COSIGN_SIGNATURE,
               "subject": {"mediaType": OCI_INDEX, "digest": index_digest, "size": index.len()}}),
    );
    put_manifest(
        &server,
        &http,
        "trust/app",
        &sha256(&index_signature),
        OCI_MANIFEST,
        &index_signature,
    )
    .await;

    // Off (the default): everything pulls.
    assert_eq!(
        pull(&server, &http, "trust/app", "unsigned").await,
        StatusCode::OK
    );
    set_cosign(&server, &http, true).await;
    for (reference, expected) in [
        ("signed", StatusCode::OK),
        (signed.as_str(), StatusCode::OK),
        (signature.as_str(), StatusCode::OK),
        ("legacy", StatusCode::OK),
        (child.as_str(), StatusCode::OK),
        ("unsigned", StatusCode::PRECONDITION_FAILED),
        ("notarized", StatusCode::PRECONDITION_FAILED),
    ] {
        assert_eq!(
            pull(&server, &http, "trust/app", reference).await,
            expected,
            "{reference}"
        );
    }
    let response = http
        .get(server.url("/v2/trust/app/manifests/multi"))
        .admin()
        .header("accept", OCI_INDEX)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK, "the signed index");
    let url = server.url("/v2/trust/app/manifests/unsigned");
    let response = http
        .get(&url)
        .admin()
        .header("accept", OCI_MANIFEST)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::PRECONDITION_FAILED);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["errors"][0]["code"], "PROJECTPOLICYVIOLATION");
    assert_eq!(
        body["errors"][0]["message"],
        "The image is not signed in Cosign."
    );
    // A HEAD is not a pull, and cosign's own requests (verifying) are let through, as in Harbor.
    let response = http
        .head(&url)
        .admin()
        .header("accept", OCI_MANIFEST)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let response = http
        .get(&url)
        .admin()
        .header("accept", OCI_MANIFEST)
        .header("user-agent", "cosign/v2.4.1 (linux; amd64)")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);

    set_cosign(&server, &http, false).await;
    assert_eq!(
        pull(&server, &http, "trust/app", "unsigned").await,
        StatusCode::OK
    );
    server.stop().await;
}
