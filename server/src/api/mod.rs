//! Harbor's REST API v2.0 under `/api/v2.0`: one module per resource.
//!
//! Every endpoint is listed once, in the [`api_routes!`] table below, which builds the router and the
//! [`ENDPOINTS`] list that the tests check against Harbor's swagger.

mod artifacts;
mod audit;
mod caller;
pub mod error;
mod extract;
mod members;
mod pagination;
mod projects;
mod query;
mod quotas;
mod repositories;
mod robots;
mod system;
mod tags;
mod users;

use axum::Router;
use axum::routing::{delete, get, head, patch, post, put};

use crate::app::AppState;
pub use caller::Caller;
pub use error::ApiError;

/// Where the REST API is mounted.
pub const BASE: &str = "/api/v2.0";

macro_rules! api_routes {
    ($( $method:ident $path:literal => $handler:path ),* $(,)?) => {
        /// Every REST endpoint as `(method, path under /api/v2.0)`, in Harbor's spelling.
        pub const ENDPOINTS: &[(&str, &str)] = &[$((stringify!($method), $path)),*];

        /// The REST routes, mounted under [`BASE`].
        pub fn routes() -> Router<AppState> {
            let api = Router::new()$(.route($path, $method($handler)))*
                .fallback(|| async { ApiError::NotFound("no such API endpoint".to_owned()) });
            Router::new().nest(BASE, api)
        }
    };
}

api_routes! {
    get "/ping" => system::ping,
    get "/health" => system::health,
    get "/systeminfo" => system::info,

    get "/projects" => projects::list,
    head "/projects" => projects::exists,
    post "/projects" => projects::create,
    get "/projects/{project_name_or_id}" => projects::get,
    put "/projects/{project_name_or_id}" => projects::update,
    delete "/projects/{project_name_or_id}" => projects::remove,

    get "/projects/{project_name_or_id}/members" => members::list,
    post "/projects/{project_name_or_id}/members" => members::create,
    get "/projects/{project_name_or_id}/members/{mid}" => members::get,
    put "/projects/{project_name_or_id}/members/{mid}" => members::update,
    delete "/projects/{project_name_or_id}/members/{mid}" => members::remove,

    get "/repositories" => repositories::list_all,
    get "/projects/{project_name}/repositories" => repositories::list,
    get "/projects/{project_name}/repositories/{repository_name}" => repositories::get,
    delete "/projects/{project_name}/repositories/{repository_name}" => repositories::remove,

    get "/projects/{project_name}/repositories/{repository_name}/artifacts" => artifacts::list,
    post "/projects/{project_name}/repositories/{repository_name}/artifacts" => artifacts::copy,
    get "/projects/{project_name}/repositories/{repository_name}/artifacts/{reference}" => artifacts::get,
    delete "/projects/{project_name}/repositories/{repository_name}/artifacts/{reference}" => artifacts::remove,
    get "/projects/{project_name}/repositories/{repository_name}/artifacts/{reference}/additions/{addition}" => artifacts::addition,

    get "/projects/{project_name}/repositories/{repository_name}/artifacts/{reference}/tags" => tags::list,
    post "/projects/{project_name}/repositories/{repository_name}/artifacts/{reference}/tags" => tags::create,
    delete "/projects/{project_name}/repositories/{repository_name}/artifacts/{reference}/tags/{tag_name}" => tags::remove,

    get "/quotas" => quotas::list,
    get "/quotas/{id}" => quotas::get,
    put "/quotas/{id}" => quotas::update,

    get "/robots" => robots::list,
    post "/robots" => robots::create,
    get "/robots/{robot_id}" => robots::get,
    put "/robots/{robot_id}" => robots::update,
    patch "/robots/{robot_id}" => robots::refresh,
    delete "/robots/{robot_id}" => robots::remove,

    get "/users" => users::list,
    post "/users" => users::create,
    get "/users/current" => users::current,
    get "/users/search" => users::search,
    get "/users/{user_id}" => users::get,

    get "/audit-logs" => audit::list,
    get "/projects/{project_name}/logs" => audit::list_project,
}
