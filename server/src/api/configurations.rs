//! `GET`/`PUT /configurations`: the system configuration (auth mode, LDAP, OIDC, token lifetimes).
//!
//! A system resource, as in Harbor (`src/server/v2.0/handler/config.go`): only system administrators may read
//! or change it (401 anonymous, 403 otherwise). Secrets are write-only: `GET` leaves them out. A `PUT` is a
//! flat `{key: value}` subset, all applied or none; the rules are in [`crate::service::configurations`]. The
//! audit log names the keys changed, never their values.

use axum::extract::State;
use axum::http::StatusCode;
use berth_api::configurations::ConfigurationsResponse;
use serde_json::{Map, Value};

use super::Caller;
use super::error::ApiError;
use super::extract::Json;
use crate::app::AppState;
use crate::events::audit::{Audit, ClientIp, Operation as Op};
use crate::service::configurations;

/// `GET /configurations`: every key as `{value, editable}`; `auth_mode` is editable only while no user other
/// than `admin` exists.
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<ConfigurationsResponse>, ApiError> {
    caller.sysadmin()?;
    let frozen = state.db.users_besides_admin().await?;
    let body = state
        .system_config
        .current()
        .response(!frozen)
        .map_err(|e| ApiError::internal("building the configuration response", e))?;
    Ok(Json(body))
}

/// `PUT /configurations`: changes the keys given (Harbor's `Configurations`). The body is read as a map, not
/// as the typed `Configurations`, so that an unknown key or a value of the wrong type is named precisely; 400
/// for either, for a value out of range, or for an auth mode change once users exist.
pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    client: ClientIp,
    body: Json<Map<String, Value>>,
) -> Result<StatusCode, ApiError> {
    let subject = caller.sysadmin()?;
    let Json(changes) = body;
    let keys = configurations::update(
        &state.db,
        &state.secrets,
        &state.system_config,
        &changes,
        false,
    )
    .await?;
    if !keys.is_empty() {
        let keys = keys.join(",");
        tracing::info!(keys = %keys, by = subject.name(), "system configuration changed");
        Audit::new(Op::Update, "configuration", keys)
            .by_subject(subject, &client)
            .record(&state.db)
            .await;
    }
    Ok(StatusCode::OK)
}
