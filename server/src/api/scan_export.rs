//! Harbor's CVE export: `POST /export/cve` (a CSV of one project's findings, written by a job),
//! `GET /export/cve/executions` (the caller's exports), `GET /export/cve/execution/{execution_id}` and
//! `GET /export/cve/download/{execution_id}` (the CSV, for the user who asked only). The rules are in
//! [`crate::scan::export`].

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use berth_api::security_hub::{
    ScanDataExportExecution, ScanDataExportExecutionList, ScanDataExportJob, ScanDataExportRequest,
};

use super::Caller;
use super::error::ApiError;
use super::extract::{Json, Path};
use crate::app::AppState;
use crate::events::audit::{Audit, ClientIp, Operation as Op};
use crate::scan::export;

/// `X-Scan-Data-Type`.
const SCAN_DATA_TYPE: &str = "x-scan-data-type";

/// `POST /export/cve`: checks the criteria and the caller's right to the project, queues the export; 200 with
/// its execution id (as Harbor answers).
pub async fn start(
    State(state): State<AppState>,
    caller: Caller,
    client: ClientIp,
    headers: HeaderMap,
    Json(request): Json<ScanDataExportRequest>,
) -> Result<Json<ScanDataExportJob>, ApiError> {
    let subject = caller.signed_in()?;
    let data_type = match headers.get(SCAN_DATA_TYPE) {
        Some(v) => Some(v.to_str().map_err(|_| {
            ApiError::BadRequest("X-Scan-Data-Type is not visible ASCII".to_owned())
        })?),
        None => None,
    };
    let id = export::start(&state, subject, data_type, &request).await?;
    Audit::new(Op::Create, "export-cve", format!("execution {id}"))
        .by_subject(subject, &client)
        .record(&state.db)
        .await;
    Ok(Json(ScanDataExportJob { id }))
}

/// `GET /export/cve/executions`: the caller's exports of the last day, newest first.
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<ScanDataExportExecutionList>, ApiError> {
    let subject = caller.signed_in()?;
    Ok(Json(ScanDataExportExecutionList {
        items: export::own_exports(&state, subject).await?,
    }))
}

fn execution_id(raw: &str) -> Result<i64, ApiError> {
    raw.parse::<i64>().ok().filter(|id| *id > 0).ok_or_else(|| {
        ApiError::BadRequest(format!(
            "execution_id must be a positive integer, not {raw:?}"
        ))
    })
}

/// `GET /export/cve/execution/{execution_id}`: one of the caller's exports (403 for another user's).
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(raw): Path<String>,
) -> Result<Json<ScanDataExportExecution>, ApiError> {
    let subject = caller.signed_in()?;
    let row = export::own_export(&state, subject, execution_id(&raw)?).await?;
    Ok(Json(export::execution(row)))
}

/// `GET /export/cve/download/{execution_id}`: the CSV of one of the caller's finished exports, as an
/// attachment named as Harbor names it.
pub async fn download(
    State(state): State<AppState>,
    caller: Caller,
    Path(raw): Path<String>,
) -> Result<Response, ApiError> {
    let subject = caller.signed_in()?;
    let id = execution_id(&raw)?;
    let csv = export::download(&state, subject, id).await?;
    let mut headers = HeaderMap::new();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/csv"));
    if let Ok(value) = HeaderValue::from_str(&format!(
        "attachment; filename=\"scandata_export_{id}.csv\""
    )) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    Ok((headers, csv).into_response())
}
