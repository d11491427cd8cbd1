//! P2P preheat (`/p2p/preheat/providers`, `/p2p/preheat/instances`, `/projects/{project_name}/preheat/policies`):
//! Harbor warms Dragonfly or Kraken caches with a project's artifacts. Berth ships neither and supports no P2P
//! provider, so it answers as a Harbor with no provider: the lists are empty, and registering an instance or
//! creating a policy is a 400 saying why. Access is Harbor's: `preheat-instance` is a system permission,
//! `preheat-policy` a project admin's.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use berth_api::preheat::{Instance, PreheatPolicy, ProviderMetadata};

use super::extract::{Json, Path};
use super::pagination::Page;
use super::repositories::project;
use super::{ApiError, BASE, Caller};
use crate::app::AppState;

/// Why nothing can be preheated.
const NO_PROVIDER: &str = "P2P preheat needs a Dragonfly or Kraken provider instance, and Berth supports \
     neither: no instance can be registered and no preheat policy created";

/// Project permission `preheat-policy:{action}`: project admins, system admins and robots given it.
async fn authorize(
    state: &AppState,
    caller: &Caller,
    project_name: &str,
    action: &str,
) -> Result<String, ApiError> {
    caller.signed_in()?;
    let (project, access) = project(state, caller, project_name).await?;
    if caller.holds_in_project(access, &project.name, "preheat-policy", action) {
        Ok(project.name)
    } else {
        Err(ApiError::Forbidden(format!(
            "preheat-policy:{action} in project {} is for its project admins",
            project.name
        )))
    }
}

/// `GET /p2p/preheat/providers`: the P2P providers this installation supports — none.
pub async fn providers(caller: Caller) -> Result<Json<Vec<ProviderMetadata>>, ApiError> {
    caller.system("preheat-instance", "list")?;
    Ok(Json(Vec::new()))
}

/// `GET /p2p/preheat/instances`: the registered provider instances — none, ever.
pub async fn instances(caller: Caller, page: Page) -> Result<Response, ApiError> {
    caller.system("preheat-instance", "list")?;
    let body: Vec<Instance> = Vec::new();
    let headers = page.headers(0, &format!("{BASE}/p2p/preheat/instances"), &[]);
    Ok((headers, Json(body)).into_response())
}

/// `POST /p2p/preheat/instances`: refused (400), there being no provider to register.
pub async fn create_instance(caller: Caller) -> Result<Response, ApiError> {
    caller.system("preheat-instance", "create")?;
    Err(ApiError::BadRequest(NO_PROVIDER.to_owned()))
}

/// `GET /projects/{project_name}/preheat/policies`: the project's preheat policies — none, ever.
pub async fn policies(
    State(state): State<AppState>,
    caller: Caller,
    Path(project_name): Path<String>,
    page: Page,
) -> Result<Response, ApiError> {
    let name = authorize(&state, &caller, &project_name, "list").await?;
    let body: Vec<PreheatPolicy> = Vec::new();
    let headers = page.headers(0, &format!("{BASE}/projects/{name}/preheat/policies"), &[]);
    Ok((headers, Json(body)).into_response())
}

/// `POST /projects/{project_name}/preheat/policies`: refused (400), a policy needing a provider instance.
pub async fn create_policy(
    State(state): State<AppState>,
    caller: Caller,
    Path(project_name): Path<String>,
) -> Result<Response, ApiError> {
    authorize(&state, &caller, &project_name, "create").await?;
    Err(ApiError::BadRequest(NO_PROVIDER.to_owned()))
}
