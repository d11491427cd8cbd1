//! `GET /permissions`: the permissions a robot account may be given, for the console's robot form.

use axum::extract::State;
use berth_api::users::{Permission, Permissions};

use super::extract::Json;
use super::{ApiError, Caller};
use crate::app::AppState;
use crate::auth::Subject;
use crate::auth::policy::{ROBOT_PROJECT_POLICIES, ROBOT_SYSTEM_POLICIES, Role};

/// `GET /permissions`, as Harbor: for administrators only. A system administrator gets the system-level and
/// project-level lists, a user who is project admin somewhere (directly or through a group) the project-level
/// one (`system` empty); anyone else, robots included, is refused (403; 401 anonymous).
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Permissions>, ApiError> {
    let to_wire = |pairs: &[(&str, &str)]| -> Vec<Permission> {
        pairs
            .iter()
            .map(|(resource, action)| Permission {
                resource: (*resource).to_owned(),
                action: (*action).to_owned(),
            })
            .collect()
    };
    let system = match caller.signed_in()? {
        Subject::User { sysadmin: true, .. } => true,
        Subject::User { id, .. } => {
            let roles = state.db.effective_roles(*id).await?;
            if !roles
                .iter()
                .any(|(_, role)| *role == Role::ProjectAdmin.id())
            {
                return Err(forbidden());
            }
            false
        }
        _ => return Err(forbidden()),
    };
    Ok(Json(Permissions {
        system: if system {
            to_wire(ROBOT_SYSTEM_POLICIES)
        } else {
            Vec::new()
        },
        project: to_wire(ROBOT_PROJECT_POLICIES),
    }))
}

fn forbidden() -> ApiError {
    ApiError::Forbidden(
        "only system administrators and project admins can see the permissions".to_owned(),
    )
}
