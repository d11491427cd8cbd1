//! User groups: `/usergroups`, `/usergroups/{group_id}` and `/usergroups/search`.
//!
//! System administrators manage groups; any signed-in caller may search them (to add one as a project
//! member), as Harbor's handler does (`src/server/v2.0/handler/usergroup.go`). A group is LDAP (1), HTTP (2)
//! or OIDC (3); names are unique per type and an LDAP group's DN among LDAP groups. Only the name of a group
//! can be changed. Deleting a group removes its project memberships.

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use berth_api::usergroups::{LDAP_GROUP, OIDC_GROUP, UserGroup, UserGroupSearchItem};
use serde::Deserialize;

use super::error::ApiError;
use super::extract::{Json, Path, Query};
use super::pagination::Page;
use super::{BASE, Caller};
use crate::app::AppState;
use crate::db::{NewUserGroup, UserGroupFilter, UserGroupRow, is_unique_violation};
use crate::service::configurations::AuthMode;

/// The query of `GET /usergroups` besides the page.
#[derive(Debug, Deserialize)]
pub struct ListQuery {
    /// A substring of the group name.
    group_name: Option<String>,
    /// The exact DN of an LDAP group.
    ldap_group_dn: Option<String>,
}

/// `GET /usergroups`: one page of groups by name, for system administrators.
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    page: Page,
    Query(query): Query<ListQuery>,
) -> Result<Response, ApiError> {
    caller.sysadmin()?;
    let name = query.group_name.filter(|n| !n.is_empty());
    let dn = query.ldap_group_dn.filter(|d| !d.is_empty());
    let filter = UserGroupFilter {
        name_contains: name.as_deref(),
        ldap_group_dn: dn.as_deref(),
        ..UserGroupFilter::default()
    };
    let (groups, total) = state
        .db
        .list_user_groups(&filter, page.limit(), page.offset())
        .await?;
    let mut kept = Vec::new();
    if let Some(name) = &name {
        kept.push(("group_name", name.clone()));
    }
    if let Some(dn) = &dn {
        kept.push(("ldap_group_dn", dn.clone()));
    }
    let body: Vec<UserGroup> = groups.into_iter().map(user_group).collect();
    Ok((
        page.headers(total, &format!("{BASE}/usergroups"), &kept),
        Json(body),
    )
        .into_response())
}

/// The query of `GET /usergroups/search`.
#[derive(Debug, Deserialize)]
pub struct SearchQuery {
    groupname: Option<String>,
}

/// `GET /usergroups/search?groupname=`: groups whose name contains the text, for any signed-in caller, as
/// Harbor's `UserGroupSearchItem`.
pub async fn search(
    State(state): State<AppState>,
    caller: Caller,
    page: Page,
    Query(query): Query<SearchQuery>,
) -> Result<Response, ApiError> {
    caller.signed_in()?;
    let name = query
        .groupname
        .filter(|n| !n.is_empty())
        .ok_or_else(|| ApiError::BadRequest("the groupname parameter is required".to_owned()))?;
    let filter = UserGroupFilter {
        name_contains: Some(&name),
        ..UserGroupFilter::default()
    };
    let (groups, total) = state
        .db
        .list_user_groups(&filter, page.limit(), page.offset())
        .await?;
    let hits: Vec<UserGroupSearchItem> = groups
        .into_iter()
        .map(|g| UserGroupSearchItem {
            id: g.id,
            group_name: g.group_name,
            group_type: g.group_type,
        })
        .collect();
    let kept = [("groupname", name.clone())];
    Ok((
        page.headers(total, &format!("{BASE}/usergroups/search"), &kept),
        Json(hits),
    )
        .into_response())
}

/// `POST /usergroups`: creates a group, for system administrators. It needs a name and a type; an LDAP
/// group also needs its DN, which in `ldap_auth` must name a group of the directory. 201 with the new group's `Location`; 409 if the name (or the DN) is taken.
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    body: Json<UserGroup>,
) -> Result<Response, ApiError> {
    caller.sysadmin()?;
    let Json(req) = body;
    let name = group_name(req.group_name.as_deref())?;
    let group_type = match req.group_type {
        Some(t) if (LDAP_GROUP..=OIDC_GROUP).contains(&t) => t,
        _ => {
            return Err(ApiError::BadRequest(
                "group_type must be 1 (LDAP), 2 (HTTP) or 3 (OIDC)".to_owned(),
            ));
        }
    };
    let dn = if group_type == LDAP_GROUP {
        match req.ldap_group_dn.as_deref().map(str::trim) {
            Some(dn) if !dn.is_empty() => dn,
            _ => {
                return Err(ApiError::BadRequest(
                    "an LDAP group needs its ldap_group_dn".to_owned(),
                ));
            }
        }
    } else {
        ""
    };
    if group_type == LDAP_GROUP && state.system_config.current().auth_mode == AuthMode::Ldap {
        // As Harbor: in ldap_auth, an LDAP group must exist in the directory.
        let found = super::ldap::ldap_client(&state)?
            .find_group(dn)
            .await
            .map_err(super::ldap::ldap_failed)?;
        if found.is_none() {
            return Err(ApiError::BadRequest(format!(
                "no LDAP group with DN {dn:?} matches the group search filter"
            )));
        }
    }
    let new = NewUserGroup {
        group_name: name,
        group_type,
        ldap_group_dn: dn,
    };
    let id = state.db.create_user_group(&new).await.map_err(|e| {
        if is_unique_violation(&e) {
            ApiError::Conflict(format!(
                "a group of type {group_type} named {name:?}{} already exists",
                if dn.is_empty() {
                    String::new()
                } else {
                    format!(" or with DN {dn:?}")
                }
            ))
        } else {
            e.into()
        }
    })?;
    let location = HeaderValue::try_from(format!("{BASE}/usergroups/{id}"))
        .map_err(|e| ApiError::internal("location header", e))?;
    Ok((StatusCode::CREATED, [(header::LOCATION, location)]).into_response())
}

/// `GET /usergroups/{group_id}`: one group, for system administrators.
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    group_id: Path<String>,
) -> Result<Response, ApiError> {
    caller.sysadmin()?;
    let Path(group_id) = group_id;
    let id = parse_group_id(&group_id)?;
    let group = state
        .db
        .user_group(id)
        .await?
        .ok_or_else(|| group_not_found(id))?;
    Ok(Json(user_group(group)).into_response())
}

/// `PUT /usergroups/{group_id}`: renames a group, for system administrators. Its type and DN stay.
pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    group_id: Path<String>,
    body: Json<UserGroup>,
) -> Result<Response, ApiError> {
    caller.sysadmin()?;
    let Path(group_id) = group_id;
    let id = parse_group_id(&group_id)?;
    let Json(req) = body;
    let name = group_name(req.group_name.as_deref())?;
    let renamed = state.db.rename_user_group(id, name).await.map_err(|e| {
        if is_unique_violation(&e) {
            ApiError::Conflict(format!(
                "a group of this type named {name:?} already exists"
            ))
        } else {
            e.into()
        }
    })?;
    if !renamed {
        return Err(group_not_found(id));
    }
    Ok(StatusCode::OK.into_response())
}

/// `DELETE /usergroups/{group_id}`: deletes a group and its project memberships, for system administrators.
pub async fn remove(
    State(state): State<AppState>,
    caller: Caller,
    group_id: Path<String>,
) -> Result<Response, ApiError> {
    caller.sysadmin()?;
    let Path(group_id) = group_id;
    let id = parse_group_id(&group_id)?;
    if !state.db.delete_user_group(id).await? {
        return Err(group_not_found(id));
    }
    Ok(StatusCode::OK.into_response())
}

/// A group name: 1 to 255 characters, no control characters.
fn group_name(name: Option<&str>) -> Result<&str, ApiError> {
    match name.map(str::trim) {
        Some(name)
            if (1..=255).contains(&name.chars().count()) && !name.chars().any(char::is_control) =>
        {
            Ok(name)
        }
        _ => Err(ApiError::BadRequest(
            "group_name must have 1 to 255 characters and no control characters".to_owned(),
        )),
    }
}

fn parse_group_id(group_id: &str) -> Result<i64, ApiError> {
    match group_id.parse::<i64>() {
        Ok(id) if id > 0 => Ok(id),
        _ => Err(ApiError::BadRequest(format!(
            "group id must be a positive integer, not {group_id:?}"
        ))),
    }
}

fn group_not_found(id: i64) -> ApiError {
    ApiError::NotFound(format!("user group {id} not found"))
}

/// Harbor's `UserGroup` for a group; the DN only for LDAP groups.
fn user_group(group: UserGroupRow) -> UserGroup {
    UserGroup {
        id: Some(group.id),
        group_name: Some(group.group_name),
        group_type: Some(group.group_type),
        ldap_group_dn: Some(group.ldap_group_dn).filter(|dn| !dn.is_empty()),
    }
}
