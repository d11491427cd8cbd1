//! `GET /v2/<name>/referrers/<digest>` and the `OCI-Subject` header.

use reqwest::StatusCode;
use serde_json::{Value, json};

use super::{
    AsAdmin, OCI_INDEX, OCI_MANIFEST, error_code, header, image_manifest, push_image, setup,
    sha256, upload_blob,
};

#[tokio::test]
async fn referrers_are_listed_and_filtered_by_artifact_type() {
    let (server, http) = setup().await;
    let empty = upload_blob(&server, &http, "library/app", b"{}").await;
    let subject_digest = sha256(b"subject pushed later");
    let subject = json!({"mediaType": OCI_MANIFEST, "digest": subject_digest, "size": 20});

    // Referrers may be pushed before their subject exists.
    let mut pushed = Vec::new();
    for (artifact_type, note) in [
        ("application/vnd.example.sbom", "sbom"),
        ("application/vnd.example.sig", "sig"),
    ] {
        let manifest = image_manifest(
            (&empty, 2),
            &[],
            json!({"artifactType": artifact_type, "subject": subject, "annotations": {"note": note}}),
        );
        let response = http
            .put(server.url(&format!("/v2/library/app/manifests/{}", sha256(&manifest))))
            .admin()
            .header("content-type", OCI_MANIFEST)
            .body(manifest.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::CREATED);
        assert_eq!(header(&response, "oci-subject"), subject_digest);
        pushed.push((sha256(&manifest), manifest.len(), artifact_type, note));
    }
    // An image without artifactType reports its config media type.
    push_image(&server, &http, "library/app", "plain", "no-subject").await;
    let config_typed = image_manifest((&empty, 2), &[], json!({"subject": subject}));
    super::put_manifest(
        &server,
        &http,
        "library/app",
        &sha256(&config_typed),
        OCI_MANIFEST,
        &config_typed,
    )
    .await;

    let url = server.url(&format!("/v2/library/app/referrers/{subject_digest}"));
    let response = http.get(&url).admin().send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(header(&response, "content-type"), OCI_INDEX);
    assert_eq!(header(&response, "oci-filters-applied"), "");
    let index: Value = response.json().await.unwrap();
    assert_eq!(index["schemaVersion"], 2);
    assert_eq!(index["mediaType"], OCI_INDEX);
    let manifests = index["manifests"].as_array().unwrap();
    assert_eq!(manifests.len(), 3);
    for (digest, size, artifact_type, note) in &pushed {
        let entry = manifests.iter().find(|m| m["digest"] == *digest).unwrap();
        assert_eq!(
            entry,
            &json!({"mediaType": OCI_MANIFEST, "digest": digest, "size": size, "artifactType": artifact_type,
                    "annotations": {"note": note}})
        );
    }
    let typed = manifests
        .iter()
        .find(|m| m["digest"] == sha256(&config_typed))
        .unwrap();
    assert_eq!(
        typed["artifactType"],
        "application/vnd.oci.image.config.v1+json"
    );

    let response = http
        .get(format!("{url}?artifactType=application/vnd.example.sig"))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(header(&response, "oci-filters-applied"), "artifactType");
    let index: Value = response.json().await.unwrap();
    assert_eq!(index["manifests"].as_array().unwrap().len(), 1);
    assert_eq!(index["manifests"][0]["digest"], pushed[1].0);

    // Unknown subjects and repositories give an empty index, never 404; a bad digest is a 400.
    let response = http
        .get(server.url(&format!("/v2/library/none/referrers/{}", sha256(b"x"))))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let index: Value = response.json().await.unwrap();
    assert_eq!(index["manifests"], json!([]));
    let response = http
        .get(server.url("/v2/library/app/referrers/sha256:bad"))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(error_code(response).await, "DIGEST_INVALID");
    server.stop().await;
}
