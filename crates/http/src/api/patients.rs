//! Patients and care teams over the API. Handlers that touch a patient take
//! `PatientRead`/`PatientChange`, which check access and write the audit log.

use super::{ApiJson, ApiPath};
use crate::AppState;
use crate::error::{ApiError, ErrorBody};
use crate::session::{PatientChange, PatientRead, Staff};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use helsebro_app::patients::{ContactChange, PatientRecord};
use helsebro_domain::NewPatient;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

#[derive(Serialize, ToSchema)]
pub struct PatientListItem {
    pub id: Uuid,
    pub name: String,
    pub birth_date: String,
    pub team_role: String,
}

/// The patients on the caller's care teams.
#[utoipa::path(get, path = "/api/v1/patients", tag = "patients", security(("session" = [])),
    responses((status = 200, body = Vec<PatientListItem>), (status = 401, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    Staff(p, _): Staff,
) -> Result<Json<Vec<PatientListItem>>, ApiError> {
    let list = state.app.my_patients(&p).await?;
    Ok(Json(
        list.into_iter()
            .map(|s| PatientListItem {
                id: s.id,
                name: s.name,
                birth_date: s.birth_date.to_string(),
                team_role: s.team_role,
            })
            .collect(),
    ))
}

#[derive(Serialize, ToSchema)]
pub struct Created {
    pub id: Uuid,
}

/// Register a patient; the caller joins the care team as responsible.
#[utoipa::path(post, path = "/api/v1/patients", tag = "patients", security(("session" = [])), request_body = NewPatient,
    responses((status = 201, body = Created), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn register(
    State(state): State<AppState>,
    Staff(p, ctx): Staff,
    ApiJson(new): ApiJson<NewPatient>,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    let id = state.app.register_patient(&p, &new, &ctx.ip).await?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}

/// A patient's record, for the care team (audit-logged; others get 403).
#[utoipa::path(get, path = "/api/v1/patients/{patient_id}", tag = "patients", security(("session" = [])),
    params(("patient_id" = Uuid, Path)),
    responses((status = 200, body = PatientRecord), (status = 403, body = ErrorBody)))]
pub async fn read(
    State(state): State<AppState>,
    PatientRead(access, _): PatientRead,
) -> Result<Json<PatientRecord>, ApiError> {
    Ok(Json(state.app.patient_record(&access).await?))
}

/// Change a patient's phone, e-mail and language.
#[utoipa::path(put, path = "/api/v1/patients/{patient_id}/contact", tag = "patients", security(("session" = [])),
    params(("patient_id" = Uuid, Path)), request_body = ContactChange,
    responses((status = 204), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn change_contact(
    State(state): State<AppState>,
    PatientChange(access, _): PatientChange,
    ApiJson(change): ApiJson<ContactChange>,
) -> Result<StatusCode, ApiError> {
    state.app.change_patient_contact(&access, &change).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
pub struct TeamRole {
    /// `responsible`, `following_up`, `advising` or `referring`.
    pub team_role: String,
}

/// Put a staff member on the care team, or change their team role.
#[utoipa::path(put, path = "/api/v1/patients/{patient_id}/care-team/{staff_id}", tag = "patients", security(("session" = [])),
    params(("patient_id" = Uuid, Path), ("staff_id" = Uuid, Path)), request_body = TeamRole,
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn set_team_member(
    State(state): State<AppState>,
    PatientChange(access, _): PatientChange,
    ApiPath(ids): ApiPath<(Uuid, Uuid)>,
    ApiJson(role): ApiJson<TeamRole>,
) -> Result<StatusCode, ApiError> {
    state
        .app
        .set_care_team_member(&access, ids.1, &role.team_role)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Take a staff member off the care team.
#[utoipa::path(delete, path = "/api/v1/patients/{patient_id}/care-team/{staff_id}", tag = "patients", security(("session" = [])),
    params(("patient_id" = Uuid, Path), ("staff_id" = Uuid, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn remove_team_member(
    State(state): State<AppState>,
    PatientChange(access, _): PatientChange,
    ApiPath(ids): ApiPath<(Uuid, Uuid)>,
) -> Result<StatusCode, ApiError> {
    state.app.remove_care_team_member(&access, ids.1).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
pub struct Reason {
    /// Why access outside the care team is needed (10–500 characters). Reviewed by the DPO.
    pub reason: String,
}

/// Emergency access to a patient outside the caller's care team, with a reason; flagged for review.
#[utoipa::path(post, path = "/api/v1/patients/{patient_id}/emergency-access", tag = "patients", security(("session" = [])),
    params(("patient_id" = Uuid, Path)), request_body = Reason,
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn emergency_access(
    State(state): State<AppState>,
    Staff(p, ctx): Staff,
    ApiPath(patient_id): ApiPath<Uuid>,
    ApiJson(r): ApiJson<Reason>,
) -> Result<StatusCode, ApiError> {
    state
        .app
        .grant_emergency_access(&p, patient_id, &r.reason, &ctx.ip)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
