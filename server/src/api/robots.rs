//! Robot accounts: `/robots` and `/robots/{robot_id}`.
//!
//! System admins manage every robot; a project's robots are managed by its project admins and listed or read
//! by its other members (Harbor's role matrix). The secret is shown once, at creation or refresh.

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use berth_api::robots::{Robot, RobotCreate, RobotCreated, RobotPermission, RobotSec};
use serde::Deserialize;

use super::error::ApiError;
use super::extract::{Json, Path, Query};
use super::pagination::Page;
use super::query::list_query;
use super::{BASE, Caller};
use crate::app::AppState;
use crate::auth::policy::{Operation, ProjectAccess, Resource};
use crate::db::RobotRow;
use crate::db::list::{self, Value};
use crate::events::audit::{Audit, ClientIp, Operation as Op};
use crate::service;

fn to_robot(row: RobotRow, access: ProjectAccess) -> Robot {
    let permissions: Vec<RobotPermission> = serde_json::from_str(&row.permissions).unwrap_or_else(|e| {
        tracing::error!(robot = %row.name, error = %e, "robot permissions in the database are not valid JSON");
        Vec::new()
    });
    Robot {
        id: row.id,
        name: row.name,
        description: row.description,
        level: row.level,
        duration: row.duration,
        editable: access.permits(Resource::Robot, Operation::Update),
        disable: row.disabled,
        expires_at: row.expires_at,
        permissions,
        creator_type: "local".to_owned(),
        creator_ref: row.creator_ref,
        creation_time: row.created_at,
        update_time: row.updated_at,
    }
}

/// The robot `id` and what the caller may do with it; 404 if the caller may not see it.
async fn find(
    state: &AppState,
    caller: &Caller,
    id: i64,
) -> Result<(RobotRow, ProjectAccess), ApiError> {
    let subject = caller.signed_in()?;
    let not_found = || ApiError::NotFound(format!("robot {id} not found"));
    let robot = state.db.robot(id).await?.ok_or_else(not_found)?;
    let access = service::robots::access_to(&state.db, subject, &robot)
        .await?
        .ok_or_else(not_found)?;
    Ok((robot, access))
}

fn require(access: ProjectAccess, operation: Operation) -> Result<(), ApiError> {
    if access.permits(Resource::Robot, operation) {
        Ok(())
    } else {
        Err(ApiError::Forbidden(
            "your role does not allow managing this robot".to_owned(),
        ))
    }
}

/// `POST /robots`.
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    client: ClientIp,
    Json(request): Json<RobotCreate>,
) -> Result<Response, ApiError> {
    let subject = caller.signed_in()?;
    let config = state.system_config.current();
    let created = service::robots::create(&state.db, &config, subject, &request).await?;
    tracing::info!(robot = %created.row.name, by = subject.name(), "robot account created");
    Audit::new(Op::Create, "robot", &created.row.name)
        .project_id(created.row.project_id)
        .by_subject(subject, &client)
        .record(&state.db)
        .await;
    let body = RobotCreated {
        id: created.row.id,
        name: created.row.name.clone(),
        secret: created.secret.expose().to_owned(),
        creation_time: created.row.created_at.clone(),
        expires_at: created.row.expires_at,
    };
    let location = format!("{BASE}/robots/{}", created.row.id);
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(body),
    )
        .into_response())
}

/// Query of `GET /robots`: Harbor's `q=Level=project,ProjectID=N`, and `sort`.
#[derive(Debug, Deserialize)]
pub struct ListQuery {
    q: Option<String>,
    sort: Option<String>,
}

/// `GET /robots`: all robots for system admins; a project's robots (`q=Level=project,ProjectID=N`, an exact
/// `ProjectID` is required) for its members who may list them. `q` and `sort` take the keys of
/// [`list::ROBOTS`].
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<ListQuery>,
    page: Page,
) -> Result<Response, ApiError> {
    let subject = caller.signed_in()?;
    let filters = list_query(query.q.as_deref(), query.sort.as_deref(), &list::ROBOTS)?;
    let project_id = filters.exact("ProjectID").find_map(|v| match v {
        Value::Integer(id) => Some(*id),
        _ => None,
    });
    let access = match project_id {
        _ if subject.is_sysadmin() => None,
        Some(id) => {
            let not_found = || ApiError::NotFound(format!("project {id} not found"));
            let project = state
                .db
                .find_project_by_id(id)
                .await?
                .ok_or_else(not_found)?;
            let access = ProjectAccess::of(&state.db, subject, &project).await?;
            if !access.can_see() {
                return Err(not_found());
            }
            require(access, Operation::List)?;
            Some(access)
        }
        None => {
            return Err(ApiError::Forbidden(
                "only system administrators may list every robot".to_owned(),
            ));
        }
    };
    let (rows, total) = state
        .db
        .list_robots(&filters, page.limit(), page.offset())
        .await?;
    let everything = ProjectAccess {
        sysadmin: true,
        public: false,
        role: None,
        robot_grants: 0,
    };
    let robots: Vec<Robot> = rows
        .into_iter()
        .map(|r| to_robot(r, access.unwrap_or(everything)))
        .collect();
    let kept: Vec<(&str, String)> = [("q", &query.q), ("sort", &query.sort)]
        .into_iter()
        .filter_map(|(key, value)| value.clone().map(|v| (key, v)))
        .collect();
    Ok((
        page.headers(total, &format!("{BASE}/robots"), &kept),
        Json(robots),
    )
        .into_response())
}

/// `GET /robots/{robot_id}`.
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Json<Robot>, ApiError> {
    let (robot, access) = find(&state, &caller, id).await?;
    Ok(Json(to_robot(robot, access)))
}

/// `PUT /robots/{robot_id}`: description, disable, duration and permissions.
pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    client: ClientIp,
    Path(id): Path<i64>,
    Json(request): Json<RobotCreate>,
) -> Result<StatusCode, ApiError> {
    let (robot, access) = find(&state, &caller, id).await?;
    require(access, Operation::Update)?;
    let config = state.system_config.current();
    service::robots::update(&state.db, &config, &caller.0, &robot, &request).await?;
    tracing::info!(robot = %robot.name, by = caller.0.name(), disabled = request.disable, "robot account updated");
    Audit::new(Op::Update, "robot", &robot.name)
        .project_id(robot.project_id)
        .by_subject(&caller.0, &client)
        .record(&state.db)
        .await;
    Ok(StatusCode::OK)
}

/// `PATCH /robots/{robot_id}`: a new secret, given or generated, shown once.
pub async fn refresh(
    State(state): State<AppState>,
    caller: Caller,
    client: ClientIp,
    Path(id): Path<i64>,
    Json(request): Json<RobotSec>,
) -> Result<Json<RobotSec>, ApiError> {
    let (robot, access) = find(&state, &caller, id).await?;
    require(access, Operation::Update)?;
    let secret =
        service::robots::refresh_secret(&state.db, &robot, request.secret.as_deref()).await?;
    tracing::info!(robot = %robot.name, by = caller.0.name(), "robot secret refreshed");
    Audit::new(Op::Update, "robot", &robot.name)
        .project_id(robot.project_id)
        .by_subject(&caller.0, &client)
        .record(&state.db)
        .await;
    Ok(Json(RobotSec {
        secret: Some(secret.expose().to_owned()),
    }))
}

/// `DELETE /robots/{robot_id}`.
pub async fn remove(
    State(state): State<AppState>,
    caller: Caller,
    client: ClientIp,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    let (robot, access) = find(&state, &caller, id).await?;
    require(access, Operation::Delete)?;
    state.db.delete_robot(id).await?;
    tracing::info!(robot = %robot.name, by = caller.0.name(), "robot account deleted");
    Audit::new(Op::Delete, "robot", &robot.name)
        .project_id(robot.project_id)
        .by_subject(&caller.0, &client)
        .record(&state.db)
        .await;
    Ok(StatusCode::OK)
}
