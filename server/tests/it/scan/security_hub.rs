//! Harbor's Security Hub (`/security/summary`, `/security/vul`) and CVE export (`/export/cve`) over real
//! scans: images built from the real package databases, pushed with skopeo into two projects, scanned by the
//! built-in scanner against the real advisories.

use std::collections::BTreeMap;

use serde_json::json;

use super::real_data::DEBIAN_FILES;
use super::*;

/// Builds an image of `layers` and pushes it to `<project>/<name>:v1` with skopeo.
fn push_to(
    server: &TestServer,
    env: &ClientEnv,
    work: &Path,
    project: &str,
    name: &str,
    layers: &[Vec<(String, Vec<u8>)>],
) {
    let image = Image::from_files("amd64", layers);
    let mut layout = Layout::create(&work.join(format!("{project}-{name}")));
    layout.add_image("v1", &image);
    skopeo_copy(
        env,
        &layout.reference("v1"),
        &format!("docker://{}/{project}/{name}:v1", server.host()),
        Some(&format!("{ADMIN_USER}:{ADMIN_PASSWORD}")),
        false,
    );
}

fn alpine_datadog() -> Vec<(String, Vec<u8>)> {
    let mut files = package_files(
        "alpine3.18-minirootfs-3.18.9",
        &["etc/os-release", "etc/alpine-release"],
    );
    files.extend(package_files(
        "alpine3.18-datadog-excerpt",
        &["lib/apk/db/installed"],
    ));
    files
}

async fn get(server: &TestServer, path: &str, user: (&str, &str)) -> reqwest::Response {
    client()
        .get(server.url(path))
        .basic_auth(user.0, Some(user.1))
        .send()
        .await
        .unwrap_or_else(|e| panic!("GET {path}: {e}"))
}

async fn get_json(server: &TestServer, path: &str, user: (&str, &str)) -> Value {
    let response = get(server, path, user).await;
    assert_eq!(response.status(), 200, "GET {path}");
    response
        .json()
        .await
        .unwrap_or_else(|e| panic!("GET {path}: {e}"))
}

/// The error message of a Harbor-shaped error body.
async fn message(response: reqwest::Response) -> String {
    let body: Value = response.json().await.unwrap_or(Value::Null);
    body["errors"][0]["message"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

const ADMIN: (&str, &str) = (ADMIN_USER, ADMIN_PASSWORD);

/// The rows of a report's findings by severity, as the Security Hub counts them (Negligible with Low).
fn by_severity(report: &Value) -> BTreeMap<String, i64> {
    let mut counts = BTreeMap::new();
    for v in report["vulnerabilities"].as_array().into_iter().flatten() {
        let severity = match v["severity"].as_str().unwrap_or_default() {
            "Negligible" => "Low",
            other => other,
        };
        *counts.entry(severity.to_owned()).or_insert(0) += 1;
    }
    counts
}

fn rows(report: &Value) -> Vec<Value> {
    report["vulnerabilities"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

async fn project_id(server: &TestServer, name: &str) -> i64 {
    get_json(server, &format!("/api/v2.0/projects/{name}"), ADMIN).await["project_id"]
        .as_i64()
        .unwrap_or_else(|| panic!("project {name} has no id"))
}

/// `X-Total-Count` and the body of `GET /security/vul?{query}` as admin.
async fn vul(server: &TestServer, query: &str) -> (i64, Vec<Value>, String) {
    let response = get(server, &format!("/api/v2.0/security/vul?{query}"), ADMIN).await;
    assert_eq!(response.status(), 200, "vul {query}");
    let total = response.headers()["x-total-count"]
        .to_str()
        .ok()
        .and_then(|t| t.parse().ok())
        .unwrap_or(i64::MIN);
    let link = response
        .headers()
        .get("link")
        .and_then(|l| l.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let items: Vec<Value> = response.json().await.unwrap_or_default();
    (total, items, link)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_security_hub_counts_each_artifacts_latest_report_once() {
    crate::images::require_tool("skopeo");
    let server = TestServer::start().await;
    import_advisories(&server).await;
    server.create_project("scans", false).await;
    server.create_project("other", false).await;
    let env = ClientEnv::new();
    let work = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    let debian = [package_files("debian12-derived-12.0", &DEBIAN_FILES)];
    push(&server, &env, work.path(), "debian-12.0", &debian);
    push(
        &server,
        &env,
        work.path(),
        "alpine-datadog",
        &[alpine_datadog()],
    );
    // The same Debian image in a second project: the same digest, so the same report, counted per artifact.
    push_to(&server, &env, work.path(), "other", "debian", &debian);
    let other = project_id(&server, "other").await;

    let before = get_json(&server, "/api/v2.0/security/summary", ADMIN).await;
    assert_eq!(
        before,
        json!({"critical_cnt": 0, "high_cnt": 0, "medium_cnt": 0, "low_cnt": 0, "none_cnt": 0,
               "unknown_cnt": 0, "total_vuls": 0, "scanned_cnt": 0, "total_artifact": 3, "fixable_cnt": 0}),
        "nothing is scanned yet"
    );

    let debian_report = scan_and_wait(&server, "debian-12.0").await;
    let alpine_report = scan_and_wait(&server, "alpine-datadog").await;
    let debian_rows = rows(&debian_report);
    let alpine_rows = rows(&alpine_report);
    // The README's expectations (§5, §6), one row per installed package a finding names.
    assert_eq!(debian_rows.len(), 53, "Debian 12.0 report rows");
    assert_eq!(alpine_rows.len(), 11, "Alpine datadog report rows");
    let fixable = |rows: &[Value]| {
        rows.iter()
            .filter(|v| !v["fix_version"].as_str().unwrap_or_default().is_empty())
            .count() as i64
    };
    let mut want: BTreeMap<String, i64> = BTreeMap::new();
    for (report, times) in [(&debian_report, 2), (&alpine_report, 1)] {
        for (severity, n) in by_severity(report) {
            *want.entry(severity).or_insert(0) += n * times;
        }
    }
    let count = |s: &str| want.get(s).copied().unwrap_or(0);
    let total = 2 * debian_rows.len() as i64 + alpine_rows.len() as i64;
    let expected_summary = json!({
        "critical_cnt": count("Critical"), "high_cnt": count("High"), "medium_cnt": count("Medium"),
        "low_cnt": count("Low"), "none_cnt": count("None"), "unknown_cnt": count("Unknown"),
        "total_vuls": total, "scanned_cnt": 3, "total_artifact": 3,
        "fixable_cnt": 2 * fixable(&debian_rows) + fixable(&alpine_rows),
    });
    let summary = get_json(&server, "/api/v2.0/security/summary", ADMIN).await;
    assert_eq!(
        summary, expected_summary,
        "the summary of the three artifacts"
    );
    // The same numbers, written out: most Debian tracker findings carry no severity (Unknown).
    assert_eq!(
        (
            &summary["total_vuls"],
            &summary["high_cnt"],
            &summary["low_cnt"],
            &summary["unknown_cnt"],
            &summary["fixable_cnt"]
        ),
        (&json!(117), &json!(2), &json!(12), &json!(103), &json!(67))
    );

    // A rescan replaces the report: nothing is counted twice.
    scan_and_wait(&server, "debian-12.0").await;
    let again = get_json(&server, "/api/v2.0/security/summary", ADMIN).await;
    assert_eq!(again, expected_summary, "after a rescan");

    // The most dangerous: CVEs with a CVSS v3 score, highest first; artifacts by their worst counts.
    let dangerous = get_json(
        &server,
        "/api/v2.0/security/summary?with_dangerous_cve=true&with_dangerous_artifact=true",
        ADMIN,
    )
    .await;
    let cves = dangerous["dangerous_cves"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(!cves.is_empty() && cves.len() <= 5, "{dangerous}");
    let scores: Vec<f64> = cves
        .iter()
        .map(|c| c["cvss_score_v3"].as_f64().unwrap_or(-1.0))
        .collect();
    assert!(
        scores.windows(2).all(|w| w[0] >= w[1]) && scores.iter().all(|s| *s > 0.0),
        "scores, highest first: {scores:?}"
    );
    let scored: Vec<(String, f64)> = debian_rows
        .iter()
        .chain(&alpine_rows)
        .filter_map(|v| {
            Some((
                v["id"].as_str()?.to_owned(),
                v["preferred_cvss"]["score_v3"].as_f64()?,
            ))
        })
        .collect();
    let best = scored.iter().map(|(_, s)| *s).fold(0.0, f64::max);
    assert_eq!(
        scores[0], best,
        "the top CVE has the highest score of any finding"
    );
    let artifacts = dangerous["dangerous_artifacts"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(artifacts.len(), 3, "{dangerous}");
    // Alpine's two High busybox findings rank it first; the Debian images' findings are Low (negligible) and
    // Unknown (the tracker gives no severity to most), the older artifact first.
    let ranked: Vec<(String, i64, i64, i64)> = artifacts
        .iter()
        .map(|a| {
            (
                a["repository_name"].as_str().unwrap_or_default().to_owned(),
                a["critical_cnt"].as_i64().unwrap_or(-1),
                a["high_cnt"].as_i64().unwrap_or(-1),
                a["medium_cnt"].as_i64().unwrap_or(-1),
            )
        })
        .collect();
    assert_eq!(
        ranked,
        vec![
            ("scans/alpine-datadog".to_owned(), 0, count("High"), 0),
            ("scans/debian-12.0".to_owned(), 0, 0, 0),
            ("other/debian".to_owned(), 0, 0, 0),
        ]
    );
    assert_eq!(artifacts[1]["digest"], debian_report["artifact"]["digest"]);
    assert_eq!(artifacts[1]["digest"], artifacts[2]["digest"]);
    assert_eq!(artifacts[2]["project_id"], other);
    // Of the findings here, only musl's CVE-2025-26519 (in two packages) has a CVSS v3 score.
    assert_eq!(
        cves.iter()
            .map(|c| (
                c["cve_id"].as_str().unwrap_or_default(),
                c["package"].as_str().unwrap_or_default(),
                c["version"].as_str().unwrap_or_default(),
                c["severity"].as_str().unwrap_or_default()
            ))
            .collect::<Vec<_>>(),
        vec![
            ("CVE-2025-26519", "musl", "1.2.4-r1", "High"),
            ("CVE-2025-26519", "musl-utils", "1.2.4-r1", "High"),
        ]
    );
    assert!(
        cves[0]["desc"]
            .as_str()
            .unwrap_or_default()
            .starts_with("musl libc 0.9.13 through 1.2.5"),
        "{}",
        cves[0]
    );

    // The search: by CVE id, in all three artifacts.
    let in_report =
        |report: &Value, id: &str| rows(report).iter().filter(|v| v["id"] == id).count() as i64;
    let openssl_cve = "CVE-2023-5363";
    let (n, items, _) = vul(&server, &format!("q=cve_id={openssl_cve}&page_size=100")).await;
    assert_eq!(
        n,
        2 * in_report(&debian_report, openssl_cve) + in_report(&alpine_report, openssl_cve)
    );
    assert_eq!(items.len() as i64, n);
    assert!(items.iter().all(|i| i["cve_id"] == openssl_cve));
    let libssl = items
        .iter()
        .find(|i| i["repository_name"] == "other/debian" && i["package"] == "libssl3")
        .unwrap_or_else(|| panic!("libssl3 in other/debian: {items:?}"));
    assert_eq!(libssl["project_id"], other);
    assert_eq!(libssl["version"], "3.0.9-1");
    assert_eq!(libssl["fixed_version"], "3.0.11-1~deb12u2");
    assert_eq!(libssl["digest"], debian_report["artifact"]["digest"]);
    assert!(libssl.get("tags").is_none(), "tags only with with_tag");

    // By package, project, severity, tag, digest and score.
    let (n, items, _) = vul(&server, "q=package=ssl_client&page_size=100").await;
    assert_eq!(
        n, 4,
        "busybox's four CVEs, in the ssl_client package it builds"
    );
    assert_eq!(
        n,
        alpine_rows
            .iter()
            .filter(|v| v["package"] == "ssl_client")
            .count() as i64
    );
    assert!(
        n > 0
            && items
                .iter()
                .all(|i| i["repository_name"] == "scans/alpine-datadog")
    );
    let (n, items, _) = vul(&server, &format!("q=project_id={other}&page_size=100")).await;
    assert_eq!(
        n,
        debian_rows.len() as i64,
        "project {other} holds one Debian image"
    );
    assert!(items.iter().all(|i| i["project_id"] == other));
    let (n, items, _) = vul(&server, "q=severity=high&page_size=100").await;
    assert_eq!(n, count("High"));
    assert!(items.iter().all(|i| i["severity"] == "High"));
    let (n, _, _) = vul(&server, "q=repository_name=scans/debian-12.0,tag=v1").await;
    assert_eq!(n, debian_rows.len() as i64);
    let (n, _, _) = vul(&server, "q=tag=v2").await;
    assert_eq!(n, 0);
    let digest = alpine_report["artifact"]["digest"]
        .as_str()
        .unwrap_or_default();
    let (n, _, _) = vul(&server, &format!("q=digest={digest}")).await;
    assert_eq!(n, alpine_rows.len() as i64);
    let (n, items, _) = vul(&server, "q=cvss_score_v3=[6.5~7]&page_size=100").await;
    assert_eq!(n, 2, "musl's scored CVE, in musl and musl-utils");
    assert!(
        items
            .iter()
            .all(|i| i["cvss_v3_score"] == 7.0 && i["cve_id"] == "CVE-2025-26519")
    );
    let (n, _, _) = vul(&server, "q=cvss_score_v3=[7.1~]").await;
    assert_eq!(n, 0);

    // Pages, highest score first, with Harbor's headers; tags on request.
    let (n, first, link) = vul(&server, "page_size=5&with_tag=true").await;
    assert_eq!((n, first.len()), (total, 5));
    assert!(
        link.contains("page=2&page_size=5")
            && link.contains("rel=\"next\"")
            && link.contains("with_tag=true"),
        "{link}"
    );
    assert!(first.iter().all(|i| i["tags"] == json!(["v1"])));
    let first_scores: Vec<f64> = first
        .iter()
        .map(|i| i["cvss_v3_score"].as_f64().unwrap_or(-1.0))
        .collect();
    assert_eq!(first_scores[0], best, "{first_scores:?}");
    let pages = (total + 4) / 5;
    let (_, last, link) = vul(&server, &format!("page={pages}&page_size=5")).await;
    assert_eq!(last.len() as i64, total - 5 * (pages - 1));
    assert!(
        link.contains("rel=\"prev\"") && !link.contains("next"),
        "{link}"
    );
    let (n, _, _) = vul(&server, "tune_count=true").await;
    assert_eq!(n, total, "tune_count keeps a total under 1000");

    // Harbor's errors, exactly.
    for (query, said) in [
        (
            "q=status=fixed",
            "q cannot filter by \"status\" here; supported: cve_id, cvss_score_v3, severity, repository_name, project_id, package, tag, digest",
        ),
        (
            "q=package=~ssl",
            "q package is matched exactly here: write package=value (no ~, range or list)",
        ),
        (
            "page_size=101",
            "page_size must be between 1 and 100, not 101",
        ),
    ] {
        let response = get(&server, &format!("/api/v2.0/security/vul?{query}"), ADMIN).await;
        assert_eq!(response.status(), 400, "{query}");
        assert_eq!(message(response).await, said, "{query}");
    }
    // System administrators only.
    server.create_user("someone", "Password1", false).await;
    for path in ["/api/v2.0/security/summary", "/api/v2.0/security/vul"] {
        assert_eq!(
            get(&server, path, ("someone", "Password1")).await.status(),
            403
        );
        let anonymous = client()
            .get(server.url(path))
            .send()
            .await
            .map(|r| r.status().as_u16());
        assert_eq!(anonymous.ok(), Some(401));
    }
    server.stop().await;
}

/// Waits until export `id` of `user` ends; returns the execution.
async fn wait_for_export(server: &TestServer, id: i64, user: (&str, &str)) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let execution = get_json(
            server,
            &format!("/api/v2.0/export/cve/execution/{id}"),
            user,
        )
        .await;
        match execution["status"].as_str().unwrap_or_default() {
            "Pending" | "Running" => {}
            _ => return execution,
        }
        assert!(
            Instant::now() < deadline,
            "export {id} did not end: {execution}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn export(
    server: &TestServer,
    user: (&str, &str),
    data_type: Option<&str>,
    body: Value,
) -> reqwest::Response {
    let mut request = client()
        .post(server.url("/api/v2.0/export/cve"))
        .basic_auth(user.0, Some(user.1))
        .json(&body);
    if let Some(data_type) = data_type {
        request = request.header("X-Scan-Data-Type", data_type);
    }
    request
        .send()
        .await
        .unwrap_or_else(|e| panic!("export: {e}"))
}

async fn add_member(server: &TestServer, project: &str, user: &str, role: i64) {
    let response = client()
        .post(server.url(&format!("/api/v2.0/projects/{project}/members")))
        .basic_auth(ADMIN_USER, Some(ADMIN_PASSWORD))
        .json(&json!({"role_id": role, "member_user": {"username": user}}))
        .send()
        .await
        .unwrap_or_else(|e| panic!("member: {e}"));
    assert_eq!(response.status(), 201, "{:?}", response.text().await);
}

/// Starts an export as `user` and waits for its CSV; returns (execution id, CSV text).
async fn export_csv(server: &TestServer, user: (&str, &str), body: Value) -> (i64, String) {
    let response = export(server, user, Some(REPORT_MIME), body).await;
    assert_eq!(response.status(), 200, "{:?}", response.text().await);
    let id = response.json::<Value>().await.unwrap_or_default()["id"]
        .as_i64()
        .unwrap_or_default();
    let execution = wait_for_export(server, id, user).await;
    assert_eq!(execution["status"], "Success", "{execution}");
    assert_eq!(execution["file_present"], true);
    let response = get(server, &format!("/api/v2.0/export/cve/download/{id}"), user).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "text/csv");
    assert_eq!(
        response.headers()["content-disposition"],
        format!("attachment; filename=\"scandata_export_{id}.csv\"").as_str()
    );
    (id, response.text().await.unwrap_or_default())
}

const HEADER: &str = "Repository,Artifact Digest,CVE,Package,Current Version,Fixed in version,Severity,CWE Ids,Additional Data,Scanner";

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_cve_export_holds_one_allowed_project_for_the_user_who_asked_only() {
    crate::images::require_tool("skopeo");
    let server = TestServer::start_with(|c| c.jobs.poll_ms = 50).await;
    import_advisories(&server).await;
    server.create_project("scans", false).await;
    server.create_project("other", false).await;
    for user in ["dev", "guest"] {
        server.create_user(user, "Password1", false).await;
    }
    add_member(&server, "scans", "dev", 2).await;
    add_member(&server, "scans", "guest", 3).await;
    let dev = ("dev", "Password1");
    let guest = ("guest", "Password1");
    let env = ClientEnv::new();
    let work = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    let debian = [package_files("debian12-derived-12.0", &DEBIAN_FILES)];
    push(&server, &env, work.path(), "debian-12.0", &debian);
    push(
        &server,
        &env,
        work.path(),
        "alpine-datadog",
        &[alpine_datadog()],
    );
    push_to(&server, &env, work.path(), "other", "debian", &debian);
    let debian_report = scan_and_wait(&server, "debian-12.0").await;
    let alpine_report = scan_and_wait(&server, "alpine-datadog").await;
    let scans = project_id(&server, "scans").await;
    let other = project_id(&server, "other").await;

    // Harbor's checks, in its order, with exact messages.
    let refused = export(&server, dev, None, json!({"projects": [scans]})).await;
    assert_eq!(refused.status(), 400);
    assert_eq!(
        message(refused).await,
        format!("the X-Scan-Data-Type header is required: {REPORT_MIME}")
    );
    let refused = export(&server, dev, Some("text/csv"), json!({"projects": [scans]})).await;
    assert_eq!(refused.status(), 400);
    assert_eq!(
        message(refused).await,
        format!("Unsupported MIME type : text/csv; X-Scan-Data-Type must be {REPORT_MIME}")
    );
    let refused = export(
        &server,
        dev,
        Some(REPORT_MIME),
        json!({"projects": [scans, other]}),
    )
    .await;
    assert_eq!(refused.status(), 400);
    assert_eq!(
        message(refused).await,
        format!("only support export single project, invalid value: [{scans}, {other}]")
    );
    let refused = export(
        &server,
        dev,
        Some(REPORT_MIME),
        json!({"projects": [scans], "repositories": "a b"}),
    )
    .await;
    assert_eq!(refused.status(), 400);
    assert_eq!(
        message(refused).await,
        "invalid criteria value, please remove additional spaces for input: a b"
    );
    // A private project the developer is not in does not exist for them; a guest may not export.
    let refused = export(
        &server,
        dev,
        Some(REPORT_MIME),
        json!({"projects": [other]}),
    )
    .await;
    assert_eq!(refused.status(), 404);
    assert_eq!(message(refused).await, format!("project {other} not found"));
    let refused = export(
        &server,
        guest,
        Some(REPORT_MIME),
        json!({"projects": [scans]}),
    )
    .await;
    assert_eq!(refused.status(), 403);
    assert_eq!(
        message(refused).await,
        "export-cve:create in project scans is for its project admins, maintainers and developers"
    );
    let anonymous = client()
        .post(server.url("/api/v2.0/export/cve"))
        .header("X-Scan-Data-Type", REPORT_MIME)
        .json(&json!({"projects": [scans]}))
        .send()
        .await
        .map(|r| r.status().as_u16());
    assert_eq!(anonymous.ok(), Some(401));

    // The developer's export of their project: every finding of its two artifacts, and nothing of `other`
    // (which holds the same image).
    let (id, csv) = export_csv(
        &server,
        dev,
        json!({"projects": [scans], "job_name": "all"}),
    )
    .await;
    let lines: Vec<&str> = csv.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert_eq!(lines[0], HEADER);
    let debian_rows = rows(&debian_report);
    let alpine_rows = rows(&alpine_report);
    assert_eq!(lines.len() - 1, debian_rows.len() + alpine_rows.len());
    assert!(lines[1..].iter().all(|l| l.starts_with("scans/")), "{csv}");
    let digest = debian_report["artifact"]["digest"]
        .as_str()
        .unwrap_or_default();
    let libssl =
        format!("scans/debian-12.0,{digest},CVE-2023-5363,libssl3,3.0.9-1,3.0.11-1~deb12u2,");
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with(&libssl) && l.ends_with(",Berth")),
        "no row {libssl}…: {csv}"
    );

    // Only its user sees and downloads it, even a system administrator may not.
    let mine = get_json(&server, "/api/v2.0/export/cve/executions", dev).await;
    let ids: Vec<i64> = mine["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["id"].as_i64())
        .collect();
    assert_eq!(ids, vec![id]);
    assert_eq!(mine["items"][0]["user_name"], "dev");
    assert_eq!(mine["items"][0]["trigger"], "MANUAL");
    let admins = get_json(&server, "/api/v2.0/export/cve/executions", ADMIN).await;
    assert_eq!(admins, json!({"items": []}));
    for who in [ADMIN, guest] {
        for path in [
            format!("/api/v2.0/export/cve/execution/{id}"),
            format!("/api/v2.0/export/cve/download/{id}"),
        ] {
            let response = get(&server, &path, who).await;
            assert_eq!(response.status(), 403, "{path} as {}", who.0);
            assert_eq!(
                message(response).await,
                format!("execution {id} belongs to another user")
            );
        }
    }
    let missing = get(&server, "/api/v2.0/export/cve/download/999999", dev).await;
    assert_eq!(missing.status(), 404);
    assert_eq!(
        message(missing).await,
        "execution with id: 999999 not found"
    );
    // Downloading does not delete it: it stays until it expires.
    let again = get(&server, &format!("/api/v2.0/export/cve/download/{id}"), dev).await;
    assert_eq!(again.text().await.unwrap_or_default(), csv);

    // Criteria: a repository, two CVE ids and a tag; labels (none exist) select nothing.
    let (_, narrow) = export_csv(
        &server,
        dev,
        json!({"projects": [scans], "repositories": "debian-*", "tags": "{v1,v9}",
               "cveIds": "{CVE-2023-5363,CVE-2023-4911}"}),
    )
    .await;
    let narrow: Vec<&str> = narrow
        .split("\r\n")
        .filter(|l| !l.is_empty())
        .skip(1)
        .collect();
    let want = debian_rows
        .iter()
        .filter(|v| v["id"] == "CVE-2023-5363" || v["id"] == "CVE-2023-4911")
        .count();
    assert_eq!(narrow.len(), want, "{narrow:?}");
    assert!(narrow.iter().all(|l| l.starts_with("scans/debian-12.0,")));
    let (_, none) = export_csv(&server, dev, json!({"projects": [scans], "tags": "v9"})).await;
    assert_eq!(none, format!("{HEADER}\r\n"));
    let (_, labelled) =
        export_csv(&server, dev, json!({"projects": [scans], "labels": [999]})).await;
    assert_eq!(labelled, format!("{HEADER}\r\n"));
    // Labels: only the artifacts carrying one of the labels asked for.
    let http = client();
    let created = http
        .post(server.url("/api/v2.0/labels"))
        .basic_auth(ADMIN.0, Some(ADMIN.1))
        .json(&json!({"name": "exported", "scope": "g"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let label: i64 = created.headers()["location"]
        .to_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let attached = http
        .post(server.url(&format!(
            "/api/v2.0/projects/scans/repositories/debian-12.0/artifacts/{digest}/labels"
        )))
        .basic_auth(ADMIN.0, Some(ADMIN.1))
        .json(&json!({"id": label}))
        .send()
        .await
        .unwrap();
    assert_eq!(attached.status(), 200);
    let (_, labelled) = export_csv(
        &server,
        dev,
        json!({"projects": [scans], "labels": [999, label]}),
    )
    .await;
    let labelled: Vec<&str> = labelled
        .split("\r\n")
        .filter(|l| !l.is_empty())
        .skip(1)
        .collect();
    assert_eq!(labelled.len(), debian_rows.len(), "{labelled:?}");
    assert!(labelled.iter().all(|l| l.starts_with("scans/debian-12.0,")));

    // The administrator may export any project.
    let (_, theirs) = export_csv(&server, ADMIN, json!({"projects": [other]})).await;
    let theirs: Vec<&str> = theirs
        .split("\r\n")
        .filter(|l| !l.is_empty())
        .skip(1)
        .collect();
    assert_eq!(theirs.len(), debian_rows.len());
    assert!(theirs.iter().all(|l| l.starts_with("other/debian,")));
    server.stop().await;
}
