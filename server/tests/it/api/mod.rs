//! REST API (`/api/v2.0`) tests over HTTP, one file per resource, against an in-process server.

mod artifacts;
mod audit;
mod configurations;
mod content_trust;
mod gc;
pub mod immutable;
mod labels;
mod lists;
mod members;
mod openapi;
mod preheat;
mod project_artifacts;
mod projects;
mod purgeaudit;
mod query;
mod quotas;
mod registries;
pub mod repositories;
pub mod robots;
mod scanners;
mod search;
mod session;
mod statistics;
mod swagger;
mod system;
mod usergroups;
mod users;

use reqwest::{Client, RequestBuilder, Response};
use serde_json::Value;

use crate::support::{ADMIN_PASSWORD, ADMIN_USER, TestServer};

/// Basic credentials of the built-in admin.
pub trait As {
    fn admin(self) -> Self;
    fn user(self, name: &str, password: &str) -> Self;
}

impl As for RequestBuilder {
    fn admin(self) -> Self {
        self.basic_auth(ADMIN_USER, Some(ADMIN_PASSWORD))
    }

    fn user(self, name: &str, password: &str) -> Self {
        self.basic_auth(name, Some(password))
    }
}

/// `http://host/api/v2.0` + `path`.
pub fn api(server: &TestServer, path: &str) -> String {
    server.url(&format!("/api/v2.0{path}"))
}

/// `GET url` as admin: asserts 200 and returns the JSON body.
pub async fn get_json(http: &reqwest::Client, url: String) -> Value {
    let response = http.get(&url).admin().send().await.unwrap();
    assert_eq!(response.status(), reqwest::StatusCode::OK, "GET {url}");
    response.json().await.unwrap()
}

/// `PUT /configurations` with `body` as admin, asserting 200.
pub async fn configure(server: &TestServer, http: &Client, body: Value) {
    let response = http
        .put(api(server, "/configurations"))
        .admin()
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        reqwest::StatusCode::OK,
        "PUT /configurations {body}"
    );
}

/// The first error code of a Harbor error body.
pub async fn error_code(response: Response) -> String {
    let body: Value = response.json().await.unwrap_or(Value::Null);
    body["errors"][0]["code"]
        .as_str()
        .unwrap_or("<none>")
        .to_owned()
}

/// Creates a project through the API as admin; returns its id.
pub async fn create_project(server: &TestServer, http: &Client, body: Value) -> i64 {
    let response = http
        .post(api(server, "/projects"))
        .admin()
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        reqwest::StatusCode::CREATED,
        "create project {body}"
    );
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    location.rsplit('/').next().unwrap().parse().unwrap()
}
