//! Members: `/projects/{project_name_or_id}/members[/{mid}]`.
//!
//! Project administrators (and system administrators) manage members; Maintainers, Developers and Guests
//! may read them; LimitedGuests may not (`docs/reference/harbor-rbac.md`). A project the caller cannot see
//! answers 404, as does a member id of another project. Members are users or user groups (`entity_type` `u`
//! or `g`); a user holds the strongest of their own role and their groups' roles (see `auth::policy`).

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use berth_api::members::{ProjectMember, ProjectMemberEntity, RoleRequest, UserEntity, UserGroup};
use berth_api::usergroups::LDAP_GROUP;
use serde::Deserialize;

use super::error::ApiError;
use super::extract::{Json, Path, Query};
use super::pagination::Page;
use super::projects::{require, resolve};
use super::query::{Pattern, add};
use super::{BASE, Caller};
use crate::app::AppState;
use crate::auth::Subject;
use crate::auth::policy::{Operation, ProjectAccess, Resource, Role};
use crate::db::list;
use crate::db::{Member, UserDetail, UserGroupFilter, UserGroupRow, is_unique_violation};
use crate::events::audit::{Audit, ClientIp, Operation as Op};

/// The query of the member list besides the page.
#[derive(Debug, Deserialize)]
pub struct ListQuery {
    /// A substring of the member's name.
    entityname: Option<String>,
}

/// `GET /projects/{p}/members`: one page of the project's members, by name.
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    project: Path<String>,
    page: Page,
    query: Query<ListQuery>,
) -> Result<Response, ApiError> {
    let Path(name_or_id) = project;
    let (project, access) = resolve(&state, &caller, &headers, &name_or_id).await?;
    authorize(&caller, access, Operation::List)?;
    let Query(query) = query;
    let name = query.entityname.as_deref().filter(|n| !n.is_empty());
    let mut filters = list::ListQuery::default();
    if let Some(name) = name {
        add(
            &mut filters,
            &list::MEMBERS,
            "entityname",
            Pattern::Fuzzy(name.to_owned()),
        )?;
    }
    let (members, total) = state
        .db
        .list_members(project.id, &filters, page.limit(), page.offset())
        .await?;
    let kept: Vec<(&str, String)> = name
        .map(|n| ("entityname", n.to_owned()))
        .into_iter()
        .collect();
    let path = format!("{BASE}/projects/{name_or_id}/members");
    let body: Vec<ProjectMemberEntity> = members.into_iter().map(member_entity).collect();
    Ok((page.headers(total, &path, &kept), Json(body)).into_response())
}

/// `POST /projects/{p}/members`: adds a user, named by `member_user.user_id` or `member_user.username`, or a
/// user group, named by `member_group.id`, `member_group.ldap_group_dn` or `member_group.group_name` (with
/// `group_type` to tell groups of different types apart), with `role_id`. 201 with the new member's
/// `Location`; 404 if there is no such user or group, 409 if it is already a member.
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    client: ClientIp,
    headers: HeaderMap,
    project: Path<String>,
    body: Json<ProjectMember>,
) -> Result<Response, ApiError> {
    let Path(name_or_id) = project;
    let (project, access) = resolve(&state, &caller, &headers, &name_or_id).await?;
    authorize(&caller, access, Operation::Create)?;
    let Json(req) = body;
    let role = role(req.role_id)?;
    let added = match (req.member_user, req.member_group) {
        (Some(user), _) => {
            let user = find_user(&state, &user).await?;
            state
                .db
                .add_user_member(project.id, user.id, role.id())
                .await
                .map(|mid| (mid, user.username.clone()))
                .map_err(|e| (e, format!("user {}", user.username)))
        }
        (None, Some(group)) => {
            let group = find_group(&state, &group).await?;
            state
                .db
                .add_group_member(project.id, group.id, role.id())
                .await
                .map(|mid| (mid, group.group_name.clone()))
                .map_err(|e| (e, format!("group {}", group.group_name)))
        }
        (None, None) => {
            return Err(ApiError::BadRequest(
                "member_user or member_group is required".to_owned(),
            ));
        }
    };
    let (mid, name) = added.map_err(|(e, who)| {
        if is_unique_violation(&e) {
            ApiError::Conflict(format!(
                "{who} is already a member of project {}",
                project.name
            ))
        } else {
            e.into()
        }
    })?;
    Audit::new(Op::Create, "member", &name)
        .project_id(Some(project.id))
        .by_subject(&caller.0, &client)
        .record(&state.db)
        .await;
    let location = HeaderValue::try_from(format!("{BASE}/projects/{}/members/{mid}", project.id))
        .map_err(|e| ApiError::internal("location header", e))?;
    Ok((StatusCode::CREATED, [(header::LOCATION, location)]).into_response())
}

/// `GET /projects/{p}/members/{mid}`: one member.
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    path: Path<(String, String)>,
) -> Result<Response, ApiError> {
    let Path((name_or_id, mid)) = path;
    let (project, access) = resolve(&state, &caller, &headers, &name_or_id).await?;
    authorize(&caller, access, Operation::Read)?;
    let mid = member_id(&mid)?;
    let member = state
        .db
        .member(project.id, mid)
        .await?
        .ok_or_else(|| member_not_found(mid))?;
    Ok(Json(member_entity(member)).into_response())
}

/// `PUT /projects/{p}/members/{mid}`: changes a member's role.
pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    client: ClientIp,
    headers: HeaderMap,
    path: Path<(String, String)>,
    body: Json<RoleRequest>,
) -> Result<Response, ApiError> {
    let Path((name_or_id, mid)) = path;
    let (project, access) = resolve(&state, &caller, &headers, &name_or_id).await?;
    authorize(&caller, access, Operation::Update)?;
    let mid = member_id(&mid)?;
    let Json(req) = body;
    let role = role(req.role_id)?;
    if !state.db.set_member_role(project.id, mid, role.id()).await? {
        return Err(member_not_found(mid));
    }
    Audit::new(Op::Update, "member", format!("members/{mid}"))
        .project_id(Some(project.id))
        .by_subject(&caller.0, &client)
        .record(&state.db)
        .await;
    Ok(StatusCode::OK.into_response())
}

/// `DELETE /projects/{p}/members/{mid}`: removes a member.
pub async fn remove(
    State(state): State<AppState>,
    caller: Caller,
    client: ClientIp,
    headers: HeaderMap,
    path: Path<(String, String)>,
) -> Result<Response, ApiError> {
    let Path((name_or_id, mid)) = path;
    let (project, access) = resolve(&state, &caller, &headers, &name_or_id).await?;
    authorize(&caller, access, Operation::Delete)?;
    let mid = member_id(&mid)?;
    if !state.db.remove_member(project.id, mid).await? {
        return Err(member_not_found(mid));
    }
    Audit::new(Op::Delete, "member", format!("members/{mid}"))
        .project_id(Some(project.id))
        .by_subject(&caller.0, &client)
        .record(&state.db)
        .await;
    Ok(StatusCode::OK.into_response())
}

/// Whether the caller may perform `operation` on the project's members: 401 for an anonymous caller (who
/// might be allowed once signed in, as Harbor answers), 403 for a signed-in one.
fn authorize(caller: &Caller, access: ProjectAccess, operation: Operation) -> Result<(), ApiError> {
    if caller.0 == Subject::Anonymous && !access.permits(Resource::Member, operation) {
        return Err(ApiError::Unauthorized(
            "sign in to manage project members".to_owned(),
        ));
    }
    require(access, Resource::Member, operation)
}

/// The user a `member_user` names: by `user_id` if given, else by `username`. In `ldap_auth`, a username not
/// yet in Berth is looked up in the directory and the user created, as Harbor does.
async fn find_user(state: &AppState, user: &UserEntity) -> Result<UserDetail, ApiError> {
    let (found, who) = match (user.user_id, user.username.as_deref()) {
        (Some(id), _) if id > 0 => (state.db.user_detail(id).await?, format!("with id {id}")),
        (_, Some(name)) if !name.is_empty() => {
            let mut found = state.db.user_detail_by_name(name).await?;
            if found.is_none()
                && let Some(id) = super::ldap::onboard_user(state, name).await?
            {
                found = state.db.user_detail(id).await?;
            }
            (found, format!("{name:?}"))
        }
        _ => {
            return Err(ApiError::BadRequest(
                "member_user needs a user_id or a username".to_owned(),
            ));
        }
    };
    found.ok_or_else(|| ApiError::NotFound(format!("user {who} not found")))
}

/// The group a `member_group` names: by `id` if given, else an LDAP group by `ldap_group_dn`, else by
/// `group_name` (of `group_type`, if given). In `ldap_auth`, an LDAP group not yet in Berth is looked up by DN in
/// the directory and added, as Harbor does; other groups must exist (`POST /usergroups`, or a sign-in that
/// brought them) before they can be members.
async fn find_group(state: &AppState, group: &UserGroup) -> Result<UserGroupRow, ApiError> {
    if let Some(id) = group.id.filter(|id| *id > 0) {
        return state
            .db
            .user_group(id)
            .await?
            .ok_or_else(|| ApiError::NotFound(format!("user group {id} not found")));
    }
    let dn = group.ldap_group_dn.as_deref().filter(|dn| !dn.is_empty());
    let name = group.group_name.as_deref().filter(|n| !n.is_empty());
    let (filter, who) = match (dn, name) {
        (Some(dn), _) => (
            UserGroupFilter {
                ldap_group_dn: Some(dn),
                group_type: Some(LDAP_GROUP),
                ..UserGroupFilter::default()
            },
            format!("with DN {dn:?}"),
        ),
        (None, Some(name)) => (
            UserGroupFilter {
                name: Some(name),
                group_type: group.group_type,
                ..UserGroupFilter::default()
            },
            format!("{name:?}"),
        ),
        (None, None) => {
            return Err(ApiError::BadRequest(
                "member_group needs an id, an ldap_group_dn or a group_name".to_owned(),
            ));
        }
    };
    let (groups, _) = state.db.list_user_groups(&filter, 1, 0).await?;
    if let Some(found) = groups.into_iter().next() {
        return Ok(found);
    }
    if let Some(dn) = dn
        && let Some(id) = super::ldap::onboard_group(state, dn).await?
        && let Some(found) = state.db.user_group(id).await?
    {
        return Ok(found);
    }
    Err(ApiError::NotFound(format!("user group {who} not found")))
}

/// A Harbor role id (1 to 5), or 400.
fn role(id: i64) -> Result<Role, ApiError> {
    Role::from_id(id).ok_or_else(|| {
        ApiError::BadRequest(format!(
            "invalid role_id {id}: 1 projectAdmin, 2 developer, 3 guest, 4 maintainer, 5 limitedGuest"
        ))
    })
}

fn member_id(mid: &str) -> Result<i64, ApiError> {
    mid.parse()
        .map_err(|_| ApiError::BadRequest(format!("member id must be an integer, not {mid:?}")))
}

fn member_not_found(mid: i64) -> ApiError {
    ApiError::NotFound(format!("member {mid} not found in this project"))
}

/// Harbor's `ProjectMemberEntity` for a member.
fn member_entity(member: Member) -> ProjectMemberEntity {
    ProjectMemberEntity {
        id: member.id,
        project_id: member.project_id,
        entity_name: member.entity_name,
        role_name: Role::from_id(member.role).map_or("", Role::name).to_owned(),
        role_id: member.role,
        entity_id: member.entity_id,
        entity_type: member.entity_type,
    }
}
