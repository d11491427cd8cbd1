//! The console's lists at scale (`bench/lists.py`), checked for what they answer, not how fast: each sort
//! order the console offers is one total order (ties broken by the newest id first) whatever the page size
//! and however far the page; totals always equal a count of what is listed; a tag search (`q=tags=~part`)
//! finds exactly the artifacts with a tag containing `part`, as tags are added, moved and deleted. The data
//! sets have ties: equal push times, pull times, pull counts and sizes.

use std::cmp::Ordering;

use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

use super::repositories::{image_size, pull, push};
use super::{As, api, create_project, get_json};
use crate::images::{Image, MultiArch};
use crate::registry::{OCI_INDEX, OCI_MANIFEST, image_manifest, put_manifest, sha256, upload_blob};
use crate::support::{TestServer, client};

const APP: &str = "/projects/proj/repositories/app";

/// The sort orders the console offers on artifacts (each both ways), the default, and one of two keys.
const ARTIFACT_SORTS: [&str; 10] = [
    "",
    "push_time",
    "-push_time",
    "pull_time",
    "-pull_time",
    "pull_count",
    "-pull_count",
    "size",
    "-size",
    "-pull_count,push_time",
];

/// GET `path` with `params` as admin: the body and `X-Total-Count`, after checking that `Link` names the
/// pages before and after this one (`page`, `page_size`) exactly when they exist.
async fn page(
    server: &TestServer,
    http: &Client,
    path: &str,
    params: &[(&str, &str)],
    page: usize,
    page_size: usize,
) -> (Vec<Value>, usize) {
    let response = http
        .get(api(server, path))
        .query(params)
        .query(&[("page", page), ("page_size", page_size)])
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK, "{path} {params:?}");
    let total: usize = response.headers()["x-total-count"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let link = response
        .headers()
        .get("link")
        .map(|l| l.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let prev = format!("page={}&page_size={page_size}>; rel=\"prev\"", page - 1);
    let next = format!("page={}&page_size={page_size}>; rel=\"next\"", page + 1);
    assert_eq!(link.contains(&prev), page > 1, "{link}");
    assert_eq!(link.contains(&next), page * page_size < total, "{link}");
    assert_eq!(
        link.matches("rel=").count(),
        usize::from(page > 1) + usize::from(page * page_size < total)
    );
    (response.json().await.unwrap(), total)
}

/// Every item of a list, read page by page with `page_size` (and one page past the end, which is empty);
/// asserts that every page has the same total and that the pages add up to it.
async fn all_pages(
    server: &TestServer,
    http: &Client,
    path: &str,
    params: &[(&str, &str)],
    page_size: usize,
) -> Vec<Value> {
    let mut items = Vec::new();
    let mut expected_total = None;
    for number in 1.. {
        let (body, total) = page(server, http, path, params, number, page_size).await;
        assert_eq!(
            *expected_total.get_or_insert(total),
            total,
            "{path} {params:?} page {number}"
        );
        if body.is_empty() {
            assert!(
                (number - 1) * page_size >= total,
                "{path} {params:?}: page {number} is empty"
            );
            break;
        }
        assert!(body.len() <= page_size);
        items.extend(body);
    }
    assert_eq!(Some(items.len()), expected_total, "{path} {params:?}");
    items
}

/// Asserts that the list at `path` with `params` reads the same at every page size, pages near the end
/// included, and returns it (read as one page).
async fn same_at_every_page_size(
    server: &TestServer,
    http: &Client,
    path: &str,
    params: &[(&str, &str)],
) -> Vec<Value> {
    let whole = all_pages(server, http, path, params, 100).await;
    for page_size in [1, 2, 3, 4] {
        let paged = all_pages(server, http, path, params, page_size).await;
        assert_eq!(
            ids(&paged),
            ids(&whole),
            "{path} {params:?} in pages of {page_size}"
        );
        assert_eq!(paged, whole, "{path} {params:?} in pages of {page_size}");
    }
    whole
}

fn ids(items: &[Value]) -> Vec<i64> {
    items.iter().map(|i| i["id"].as_i64().unwrap()).collect()
}

fn compare(a: &Value, b: &Value) -> Ordering {
    match (a, b) {
        (Value::Number(a), Value::Number(b)) => a.as_i64().cmp(&b.as_i64()),
        (Value::String(a), Value::String(b)) => a.cmp(b),
        _ => panic!("cannot compare {a} and {b}"),
    }
}

/// `items` in the order `sort` names (keys of the API's JSON, `-` for descending), ties by the newest id.
fn sorted(items: &[Value], sort: &str) -> Vec<i64> {
    let keys: Vec<(&str, bool)> = sort
        .split(',')
        .map(|k| match k.strip_prefix('-') {
            Some(k) => (k, true),
            None => (k, false),
        })
        .collect();
    let mut items = items.to_vec();
    items.sort_by(|a, b| {
        keys.iter()
            .map(|(key, descending)| {
                let order = compare(&a[key], &b[key]);
                if *descending { order.reverse() } else { order }
            })
            .fold(Ordering::Equal, Ordering::then)
            .then_with(|| compare(&b["id"], &a["id"]))
    });
    ids(&items)
}

fn tag_names(artifact: &Value) -> Vec<&str> {
    artifact["tags"]
        .as_array()
        .map(|tags| tags.iter().map(|t| t["name"].as_str().unwrap()).collect())
        .unwrap_or_default()
}

/// A connection to the server's database, for setting up ties and for checking the search index.
async fn database(server: &TestServer) -> sqlx::AnyPool {
    server.state.db.raw_write_pool()
}

/// What each count the API shows must be, checked against the listed artifacts and the stored rows.
async fn assert_counts(server: &TestServer, http: &Client, repository: &str, listed: usize) {
    let path = format!("/projects/proj/repositories/{repository}");
    let (_, total) = page(server, http, &format!("{path}/artifacts"), &[], 1, 1).await;
    assert_eq!(total, listed, "X-Total-Count of {repository}");
    let repo = get_json(http, api(server, &path)).await;
    assert_eq!(
        repo["artifact_count"], listed,
        "artifact_count of {repository}"
    );
    let search = get_json(http, api(server, &format!("/search?q=proj/{repository}"))).await;
    let found = search["repository"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["repository_name"] == format!("proj/{repository}"))
        .unwrap();
    assert_eq!(found["artifact_count"], listed, "search of {repository}");
    let repositories = all_pages(server, http, "/projects/proj/repositories", &[], 100).await;
    let summed: i64 = repositories
        .iter()
        .map(|r| r["artifact_count"].as_i64().unwrap())
        .sum();
    let summary = get_json(http, api(server, "/projects/proj/summary")).await;
    assert_eq!(summary["artifact_count"], summed, "{summary}");
    // Total storage: every distinct blob and manifest once, as counted from the rows themselves.
    let pool = database(server).await;
    let stored: i64 = sqlx::query_scalar(
        "SELECT CAST(COALESCE(SUM(size), 0) AS BIGINT) FROM
            (SELECT digest, size FROM blobs UNION SELECT digest, size FROM artifacts) AS stored",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    let statistics = get_json(http, api(server, "/statistics")).await;
    assert_eq!(statistics["total_storage_consumption"], stored);
}

/// Pushes `image` by digest (untagged); returns its digest.
async fn push_untagged(server: &TestServer, http: &Client, repo: &str, image: &Image) -> String {
    push(server, http, repo, &image.manifest.digest, image).await
}

/// Pushes a signature of `subject` (an image manifest of `size` bytes) into `repo`; returns its digest.
async fn push_signature(
    server: &TestServer,
    http: &Client,
    repo: &str,
    subject: &str,
    size: usize,
) -> String {
    let empty = upload_blob(server, http, repo, b"{}").await;
    let signature = image_manifest(
        (&empty, 2),
        &[],
        json!({
            "artifactType": "application/vnd.cncf.notary.signature",
            "subject": {"mediaType": OCI_MANIFEST, "digest": subject, "size": size},
        }),
    );
    put_manifest(
        server,
        http,
        repo,
        &sha256(&signature),
        OCI_MANIFEST,
        &signature,
    )
    .await
}

async fn delete(server: &TestServer, http: &Client, path: &str) {
    let response = http.delete(api(server, path)).admin().send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK, "DELETE {path}");
}

async fn add_tag(server: &TestServer, http: &Client, reference: &str, tag: &str) {
    let response = http
        .post(api(server, &format!("{APP}/artifacts/{reference}/tags")))
        .admin()
        .json(&json!({"name": tag}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        StatusCode::CREATED,
        "tag {reference} {tag}"
    );
}

/// Eight images (six of one size), an index whose children are not listed (one of them tagged), and a
/// signature pushed before its subject; pulls, push times and pull times with ties. Returns the digests of
/// the images, in push order.
async fn seed(server: &TestServer, http: &Client) -> Vec<String> {
    create_project(server, http, json!({"project_name": "proj"})).await;
    let images: Vec<Image> = (1..=8)
        .map(|seed| {
            let layer = match seed {
                7 => 2000,
                8 => 500,
                _ => 1000,
            };
            Image::build(seed, "amd64", &[layer])
        })
        .collect();
    // The signature arrives before its subject: listed on its own until then.
    push_signature(
        server,
        http,
        "proj/app",
        &images[0].manifest.digest,
        images[0].manifest.size(),
    )
    .await;
    let tags = [
        "v1.0",
        "V1.0-rc",
        "release_1",
        "",
        "build-2024.01",
        "abc",
        "v10",
        "",
    ];
    let mut digests = Vec::new();
    for (image, tag) in images.iter().zip(tags) {
        digests.push(if tag.is_empty() {
            push_untagged(server, http, "proj/app", image).await
        } else {
            push(server, http, "proj/app", tag, image).await
        });
    }
    let multi = MultiArch::build(9, &[300]);
    push(server, http, "proj/app", "amd", &multi.children[0]).await;
    push_untagged(server, http, "proj/app", &multi.children[1]).await;
    put_manifest(
        server,
        http,
        "proj/app",
        "multi",
        OCI_INDEX,
        &multi.index.bytes,
    )
    .await;
    add_tag(server, http, &digests[5], "xabcx").await;
    for (image, pulls) in [(0, 2), (1, 2), (2, 1), (4, 1)] {
        for _ in 0..pulls {
            assert_eq!(
                pull(server, http, "proj/app", &digests[image]).await,
                StatusCode::OK
            );
        }
    }
    server.state.pulls.flush().await;
    // Ties in push and pull times, as pushes within one clock tick and batched pull times make.
    let pool = database(server).await;
    for (time, ids) in [
        ("push_time", [&digests[0], &digests[1], &digests[2]]),
        ("push_time", [&digests[3], &digests[4], &digests[6]]),
        ("pull_time", [&digests[0], &digests[1], &digests[4]]),
    ] {
        sqlx::query(&format!(
            "UPDATE artifacts SET {time} = (SELECT {time} FROM artifacts WHERE digest = $1)
             WHERE digest IN ($1, $2, $3)"
        ))
        .bind(ids[0])
        .bind(ids[1])
        .bind(ids[2])
        .execute(&pool)
        .await
        .unwrap();
    }
    digests
}

#[tokio::test]
async fn every_artifact_sort_order_pages_alike_to_the_last_page() {
    let server = TestServer::start().await;
    let http = client();
    seed(&server, &http).await;
    let path = format!("{APP}/artifacts");
    let all = same_at_every_page_size(&server, &http, &path, &[("with_tag", "true")]).await;
    // 8 images and the index; not the index's children, nor the signature now that its subject is here.
    assert_eq!(all.len(), 9);
    let sizes: Vec<i64> = all.iter().map(|a| a["size"].as_i64().unwrap()).collect();
    assert!(
        sizes
            .iter()
            .filter(|s| **s == sizes[sizes.len() - 1])
            .count()
            >= 5,
        "ties in size: {sizes:?}"
    );
    for sort in ARTIFACT_SORTS {
        let params = [("with_tag", "true"), ("sort", sort)];
        let listed = same_at_every_page_size(&server, &http, &path, &params).await;
        let order = if sort.is_empty() { "-push_time" } else { sort };
        assert_eq!(ids(&listed), sorted(&all, order), "sort={sort}");
    }
    // Filtered lists are counted, then paged the same way.
    for (q, keep) in [
        (
            "tags=*",
            (|a: &Value| !tag_names(a).is_empty()) as fn(&Value) -> bool,
        ),
        ("tags=nil", |a: &Value| tag_names(a).is_empty()),
        ("pull_count=[1~]", |a: &Value| {
            a["pull_count"].as_i64() >= Some(1)
        }),
    ] {
        let kept: Vec<Value> = all.iter().filter(|a| keep(a)).cloned().collect();
        for sort in ["", "pull_count", "-size"] {
            let params = [("with_tag", "true"), ("q", q), ("sort", sort)];
            let listed = same_at_every_page_size(&server, &http, &path, &params).await;
            let order = if sort.is_empty() { "-push_time" } else { sort };
            assert_eq!(ids(&listed), sorted(&kept, order), "q={q} sort={sort}");
        }
    }
    server.stop().await;
}

#[tokio::test]
async fn counts_follow_pushes_indexes_accessories_copies_and_deletes() {
    let server = TestServer::start().await;
    let http = client();
    let digests = seed(&server, &http).await;
    assert_counts(&server, &http, "app", 9).await;

    // The index goes with its untagged child; its tagged child stays, listed on its own now.
    delete(&server, &http, &format!("{APP}/artifacts/multi")).await;
    assert_counts(&server, &http, "app", 9).await;
    let amd = get_json(
        &http,
        api(&server, &format!("{APP}/artifacts?q=tags%3Damd")),
    )
    .await;
    assert_eq!(amd.as_array().unwrap().len(), 1, "{amd}");

    // The first image goes with its signature.
    delete(&server, &http, &format!("{APP}/artifacts/{}", digests[0])).await;
    assert_counts(&server, &http, "app", 8).await;

    // A copy counts in its repository; a signature of a missing subject is listed on its own.
    let response = http
        .post(api(&server, "/projects/proj/repositories/other/artifacts"))
        .query(&[("from", format!("proj/app@{}", digests[1]))])
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    assert_counts(&server, &http, "other", 1).await;
    push_signature(&server, &http, "proj/other", &digests[0], 10).await;
    assert_counts(&server, &http, "other", 2).await;
    assert_counts(&server, &http, "app", 8).await;

    // A registry DELETE of a manifest counts as well.
    let response = http
        .delete(server.url(&format!("/v2/proj/app/manifests/{}", digests[3])))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    assert_counts(&server, &http, "app", 7).await;

    // Repositories sort by their counts (ties by the newest id) in every page size.
    let repositories = "/projects/proj/repositories";
    let all = same_at_every_page_size(&server, &http, repositories, &[]).await;
    for sort in [
        "artifact_count",
        "-artifact_count",
        "pull_count",
        "-name",
        "-update_time",
    ] {
        let listed = same_at_every_page_size(&server, &http, repositories, &[("sort", sort)]).await;
        assert_eq!(ids(&listed), sorted(&all, sort), "sort={sort}");
    }

    delete(&server, &http, "/projects/proj/repositories/other").await;
    assert_counts(&server, &http, "app", 7).await;
    server.stop().await;
}

/// Searches the artifacts of `proj/app` for tags containing `part` (in two orders, at every page size),
/// asserting that exactly those whose tags contain it are found; returns how many.
async fn search(server: &TestServer, http: &Client, part: &str) -> usize {
    let path = format!("{APP}/artifacts");
    let all = all_pages(server, http, &path, &[("with_tag", "true")], 100).await;
    let expected: Vec<Value> = all
        .iter()
        .filter(|a| tag_names(a).iter().any(|t| t.contains(part)))
        .cloned()
        .collect();
    let q = format!("tags=~{part}");
    let found =
        same_at_every_page_size(server, http, &path, &[("with_tag", "true"), ("q", &q)]).await;
    assert_eq!(ids(&found), ids(&expected), "q={q}");
    let params = [
        ("with_tag", "true"),
        ("q", q.as_str()),
        ("sort", "-pull_count"),
    ];
    let by_pulls = same_at_every_page_size(server, http, &path, &params).await;
    assert_eq!(ids(&by_pulls), sorted(&expected, "-pull_count"), "q={q}");
    found.len()
}

#[tokio::test]
async fn a_tag_search_finds_every_tag_containing_the_part_and_nothing_else() {
    let server = TestServer::start().await;
    let http = client();
    let digests = seed(&server, &http).await;
    // Parts of every length (three characters and more are found from the index), case-sensitive, with
    // characters that are special in SQL patterns and in full-text queries, and the empty part (every
    // tagged artifact).
    for (part, found) in [
        ("v1.0", 1),
        ("V1.0", 1),
        ("1.0", 2),
        ("1.0-rc", 1),
        ("v1", 2),
        ("v", 2),
        ("V", 1),
        ("abc", 1),
        ("bc", 1),
        ("xabcx", 1),
        ("release_1", 1),
        ("_", 1),
        ("e_1", 1),
        ("%", 0),
        ("e%1", 0),
        ("a_c", 0),
        ("'", 0),
        ("\"", 0),
        ("ab\"c", 0),
        ("\"abc\"", 0),
        ("abc*", 0),
        ("NEAR(abc)", 0),
        ("rc OR abc", 0),
        ("-", 2),
        ("2024.01", 1),
        ("é", 0),
        ("ééé", 0),
        ("zzz", 0),
        ("", 7),
    ] {
        assert_eq!(search(&server, &http, part).await, found, "part {part:?}");
    }
    // A tag added is found; a tag moved is found on its new artifact only; tags deleted, alone or with
    // their artifact, are gone.
    add_tag(&server, &http, &digests[3], "found-later").await;
    assert_eq!(search(&server, &http, "d-lat").await, 1);
    push(
        &server,
        &http,
        "proj/app",
        "found-later",
        &Image::build(8, "amd64", &[500]),
    )
    .await;
    assert_eq!(search(&server, &http, "d-lat").await, 1);
    let moved = get_json(&http, api(&server, &format!("{APP}/artifacts/found-later"))).await;
    assert_eq!(moved["digest"], digests[7].as_str());
    delete(
        &server,
        &http,
        &format!("{APP}/artifacts/found-later/tags/found-later"),
    )
    .await;
    assert_eq!(search(&server, &http, "d-lat").await, 0);
    delete(&server, &http, &format!("{APP}/artifacts/{}", digests[5])).await;
    assert_eq!(search(&server, &http, "abc").await, 0);
    delete(&server, &http, "/projects/proj/repositories/app").await;
    push(
        &server,
        &http,
        "proj/app",
        "abcd",
        &Image::build(1, "amd64", &[10]),
    )
    .await;
    assert_eq!(search(&server, &http, "abc").await, 1);
    // The search index holds exactly the tags there are.
    // SQLite's FTS5 table checks itself; PostgreSQL's trigram index needs no such check.
    if server.state.db.backend() == berth::db::Backend::Sqlite {
        let pool = database(&server).await;
        sqlx::query("INSERT INTO tags_fts (tags_fts, rank) VALUES ('integrity-check', 1)")
            .execute(&pool)
            .await
            .unwrap();
    }
    server.stop().await;
}

/// `(first tag, size)` of each artifact of `proj/app`, largest first.
async fn by_size(server: &TestServer, http: &Client) -> Vec<(String, i64)> {
    let list = get_json(http, api(server, &format!("{APP}/artifacts?sort=-size"))).await;
    list.as_array()
        .unwrap()
        .iter()
        .map(|a| (tag_names(a)[0].to_owned(), a["size"].as_i64().unwrap()))
        .collect()
}

#[tokio::test]
async fn sizes_grow_as_a_proxied_artifacts_blobs_arrive() {
    let server = TestServer::start().await;
    let http = client();
    let project_id = create_project(&server, &http, json!({"project_name": "proj"})).await;
    let small = Image::build(1, "amd64", &[100]);
    push(&server, &http, "proj/app", "small", &small).await;
    // A proxy-cache stores a manifest before any of its blobs.
    let big = Image::build(2, "amd64", &[5000]);
    let blobs: Vec<String> = big
        .referenced_blobs()
        .iter()
        .map(|b| b.digest.clone())
        .collect();
    server
        .state
        .db
        .put_manifest(&berth::db::NewArtifact {
            project_id,
            repository: "proj/app",
            digest: &big.manifest.digest,
            media_type: OCI_MANIFEST,
            artifact_type: None,
            subject: None,
            annotations: None,
            content: &big.manifest.bytes,
            blobs: &blobs,
            children: &[],
            tag: Some("big"),
            proxied: true,
        })
        .await
        .unwrap();
    let manifest_only = big.manifest.size() as i64;
    assert_eq!(
        by_size(&server, &http).await,
        [
            ("small".to_owned(), image_size(&small)),
            ("big".to_owned(), manifest_only)
        ]
    );
    for blob in big.referenced_blobs() {
        server
            .state
            .db
            .record_blob(&blob.digest, blob.size() as i64)
            .await
            .unwrap();
    }
    assert_eq!(
        by_size(&server, &http).await,
        [
            ("big".to_owned(), image_size(&big)),
            ("small".to_owned(), image_size(&small))
        ]
    );
    server.stop().await;
}

#[tokio::test]
async fn audit_logs_page_alike_to_the_last_page() {
    let server = TestServer::start().await;
    let http = client();
    seed(&server, &http).await;
    create_project(&server, &http, json!({"project_name": "second"})).await;
    let all = same_at_every_page_size(&server, &http, "/audit-logs", &[]).await;
    assert!(all.len() > 20, "{}", all.len());
    assert_eq!(ids(&all), sorted(&all, "-op_time"));
    let project = same_at_every_page_size(&server, &http, "/projects/proj/logs", &[]).await;
    let ours: Vec<Value> = all
        .iter()
        .filter(|e| e["resource"].as_str().unwrap().starts_with("proj"))
        .cloned()
        .collect();
    assert_eq!(ids(&project), ids(&ours));
    for sort in ["op_time", "-operation"] {
        let listed =
            same_at_every_page_size(&server, &http, "/audit-logs", &[("sort", sort)]).await;
        assert_eq!(ids(&listed), sorted(&all, sort), "sort={sort}");
    }
    let pulls =
        same_at_every_page_size(&server, &http, "/audit-logs", &[("q", "operation=pull")]).await;
    assert_eq!(pulls.len(), 6);
    server.stop().await;
}

#[tokio::test]
async fn a_page_past_any_end_is_empty() {
    let server = TestServer::start().await;
    let http = client();
    seed(&server, &http).await;
    let last = i64::MAX.to_string();
    for path in [
        format!("{APP}/artifacts"),
        "/audit-logs".to_owned(),
        "/projects".to_owned(),
    ] {
        let response = http
            .get(api(&server, &path))
            .query(&[("page", last.as_str()), ("page_size", "100")])
            .admin()
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        assert_ne!(response.headers()["x-total-count"], "0", "{path}");
        let link = response.headers()["link"].to_str().unwrap().to_owned();
        assert!(
            link.contains("rel=\"prev\"") && !link.contains("rel=\"next\""),
            "{link}"
        );
        assert_eq!(response.json::<Value>().await.unwrap(), json!([]), "{path}");
    }
    server.stop().await;
}
