//! Harbor's LDAP endpoints, for system administrators: `POST /ldap/ping`, `GET /ldap/users/search`,
//! `POST /ldap/users/import` and `GET /ldap/groups/search`.
//!
//! They use the stored LDAP settings whatever the auth mode, so an administrator can test and prepare LDAP
//! before switching to it. Failures of the LDAP server are reported with their reason (the callers are
//! administrators); a ping answers 200 with `success: false` and the reason, as the console shows it.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use berth_api::ldap::{LdapConf, LdapFailedImportUser, LdapImportUsers, LdapPingResult, LdapUser};
use berth_api::usergroups::{LDAP_GROUP, UserGroup};
use serde::Deserialize;

use super::Caller;
use super::error::ApiError;
use super::extract::{Json, Query};
use crate::app::AppState;
use crate::auth::directory::onboard_ldap_user;
use crate::auth::ldap::{LdapClient, LdapError, LdapSettings};
use crate::db::NewUserGroup;
use crate::events::audit::{Audit, ClientIp, Operation as Op, clip};
use crate::secret::StoredSecret;
use crate::service::configurations::AuthMode;

/// `POST /ldap/ping`: tries the stored settings, with the body's `LdapConf` fields over them (an empty body
/// tests the stored settings as they are). 200 with the outcome; 400 for settings that cannot be valid.
///
/// The stored bind password is used only with the stored server and bind DN: a test of another URL, bind DN
/// or weaker certificate check must send `ldap_search_password` itself (400 otherwise), so whoever may call
/// this cannot make Berth hand the write-only secret to a server of their choosing.
pub async fn ping(
    State(state): State<AppState>,
    caller: Caller,
    body: Bytes,
) -> Result<Json<LdapPingResult>, ApiError> {
    caller.sysadmin()?;
    let conf: LdapConf = if body.iter().all(u8::is_ascii_whitespace) {
        LdapConf::default()
    } else {
        serde_json::from_slice(&body)
            .map_err(|e| ApiError::BadRequest(format!("invalid LdapConf: {e}")))?
    };
    let stored = state.system_config.current();
    let mut settings = stored.ldap_with(&conf)?;
    let password_sent = conf
        .ldap_search_password
        .as_deref()
        .is_some_and(|p| !p.is_empty());
    let has_stored_password = !matches!(stored.ldap.search_password, StoredSecret::Unset);
    if has_stored_password && !password_sent && !same_server(&stored.ldap, &settings) {
        if !settings.search_dn.is_empty() {
            tracing::info!(url = %clip(&settings.url), "LDAP test refused: another server or bind DN without its password");
            return Err(ApiError::BadRequest(
                "ldap_search_password is required to test a server, bind DN or certificate check other than the stored ones; the stored password is only sent to the stored server".to_owned(),
            ));
        }
        settings.search_password = StoredSecret::Unset;
    }
    // A client of its own: a test must not disturb the pool and group cache of the settings in use.
    let outcome = match LdapClient::new(settings) {
        Ok(client) => client.ping().await,
        Err(e) => Err(e),
    };
    Ok(Json(match outcome {
        Ok(()) => LdapPingResult {
            success: true,
            message: "connected, bound as the search DN and found the base DN".to_owned(),
        },
        Err(e) => {
            tracing::info!(error = %e, "LDAP test failed");
            LdapPingResult {
                success: false,
                message: e.to_string(),
            }
        }
    }))
}

#[derive(Debug, Deserialize)]
pub struct UserSearch {
    #[serde(default)]
    username: String,
}

/// `GET /ldap/users/search?username=`: directory users whose uid contains `username` (all when empty).
pub async fn search_users(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<UserSearch>,
) -> Result<Json<Vec<LdapUser>>, ApiError> {
    caller.sysadmin()?;
    let client = ldap_client(&state)?;
    let users = client
        .search_users(query.username.trim())
        .await
        .map_err(ldap_failed)?;
    Ok(Json(
        users
            .into_iter()
            .map(|u| LdapUser {
                realname: u.display_name.unwrap_or_default(),
                email: u.email.unwrap_or_default(),
                username: u.username,
            })
            .collect(),
    ))
}

/// `POST /ldap/users/import`: creates the Berth users for these uids, with their groups. Users already in
/// Berth have their groups refreshed. 200 when every uid worked; otherwise 404 with the uids that did not and
/// why (Harbor's answer), the others imported.
pub async fn import_users(
    State(state): State<AppState>,
    caller: Caller,
    client_ip: ClientIp,
    body: Json<LdapImportUsers>,
) -> Result<Response, ApiError> {
    let subject = caller.sysadmin()?;
    let Json(req) = body;
    if req.ldap_uid_list.is_empty() {
        return Err(ApiError::BadRequest("ldap_uid_list is empty".to_owned()));
    }
    let client = ldap_client(&state)?;
    let mut failed = Vec::new();
    for uid in &req.ldap_uid_list {
        let error = match client.find_user(uid).await {
            Ok(user) => match onboard_ldap_user(&state.db, &user).await {
                Ok(_) => {
                    Audit::new(Op::Create, "user", &user.username)
                        .by_subject(subject, &client_ip)
                        .record(&state.db)
                        .await;
                    continue;
                }
                Err(e) => {
                    tracing::error!(uid = %clip(uid), error = %e, "importing an LDAP user: database error");
                    "database error; see the server log".to_owned()
                }
            },
            Err(e @ (LdapError::UnknownUser { .. } | LdapError::Ambiguous { .. })) => e.to_string(),
            Err(e) => return Err(ldap_failed(e)),
        };
        failed.push(LdapFailedImportUser {
            uid: uid.clone(),
            error,
        });
    }
    if failed.is_empty() {
        Ok(StatusCode::OK.into_response())
    } else {
        Ok((StatusCode::NOT_FOUND, Json(failed)).into_response())
    }
}

#[derive(Debug, Deserialize)]
pub struct GroupSearch {
    #[serde(default)]
    groupname: String,
    #[serde(default)]
    groupdn: String,
}

/// `GET /ldap/groups/search?groupname=|groupdn=`: the group with this DN, or the groups whose name contains
/// `groupname` (all when both are empty), as `UserGroup`s ready for `POST /usergroups`.
pub async fn search_groups(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<GroupSearch>,
) -> Result<Json<Vec<UserGroup>>, ApiError> {
    caller.sysadmin()?;
    let client = ldap_client(&state)?;
    let groups = if query.groupdn.trim().is_empty() {
        client.search_groups(query.groupname.trim()).await
    } else {
        client
            .find_group(query.groupdn.trim())
            .await
            .map(|g| g.into_iter().collect())
    }
    .map_err(ldap_failed)?;
    Ok(Json(
        groups
            .into_iter()
            .map(|g| UserGroup {
                id: None,
                group_name: Some(g.name),
                group_type: Some(LDAP_GROUP),
                ldap_group_dn: Some(g.dn),
            })
            .collect(),
    ))
}

/// In `ldap_auth`, the directory's group with this DN, added to Berth's groups if missing; its id, or `None`
/// when the mode is another or the directory has no such group.
pub(super) async fn onboard_group(state: &AppState, dn: &str) -> Result<Option<i64>, ApiError> {
    if state.system_config.current().auth_mode != AuthMode::Ldap {
        return Ok(None);
    }
    let Some(group) = ldap_client(state)?
        .find_group(dn)
        .await
        .map_err(ldap_failed)?
    else {
        return Ok(None);
    };
    let new = NewUserGroup {
        group_name: &group.name,
        group_type: LDAP_GROUP,
        ldap_group_dn: &group.dn,
    };
    Ok(Some(
        state.db.ensure_external_group(LDAP_GROUP, &new).await?,
    ))
}

/// In `ldap_auth`, the Berth user for directory user `uid`, created from the directory if missing (as at a
/// first sign-in), so that a user can be made a project member before they ever sign in, as in Harbor.
/// `None` outside `ldap_auth` or when the directory has no such user; 400 when the uid names several entries.
pub(super) async fn onboard_user(state: &AppState, uid: &str) -> Result<Option<i64>, ApiError> {
    if state.system_config.current().auth_mode != AuthMode::Ldap {
        return Ok(None);
    }
    match ldap_client(state)?.find_user(uid).await {
        Ok(user) => {
            let id = onboard_ldap_user(&state.db, &user).await?;
            tracing::info!(
                uid = %clip(uid),
                user_id = id,
                "LDAP user onboarded to be added as a member"
            );
            Ok(Some(id))
        }
        Err(LdapError::UnknownUser { .. }) => Ok(None),
        Err(e @ LdapError::Ambiguous { .. }) => Err(ApiError::BadRequest(e.to_string())),
        Err(e) => Err(ldap_failed(e)),
    }
}

/// Whether `tried` sends its bind password to the same place, as the same DN, as carefully as `stored`.
fn same_server(stored: &LdapSettings, tried: &LdapSettings) -> bool {
    stored.url.trim().eq_ignore_ascii_case(tried.url.trim())
        && stored.search_dn == tried.search_dn
        && stored.starttls == tried.starttls
        && (stored.verify_cert <= tried.verify_cert)
}

/// The client for the stored settings; 400 when they are incomplete.
pub(super) fn ldap_client(state: &AppState) -> Result<LdapClient, ApiError> {
    let config = state.system_config.current();
    state
        .passwords
        .directory()
        .ldap(&config.ldap)
        .map_err(ldap_failed)
}

/// An LDAP failure as the REST API reports it to an administrator: settings → 400, the server → 503.
pub(super) fn ldap_failed(error: LdapError) -> ApiError {
    match error {
        LdapError::InvalidSettings(m) => {
            ApiError::BadRequest(format!("invalid LDAP settings: {m}"))
        }
        other => {
            tracing::warn!(error = %other, "LDAP request failed");
            ApiError::Unavailable(other.to_string())
        }
    }
}
