//! Staff, service areas, organisation settings and the audit log over the API.

use super::{ApiJson, ApiPath};
use crate::AppState;
use crate::error::{ApiError, ErrorBody};
use crate::session::Staff;
use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use helsebro_app::AppError;
use helsebro_app::admin::{SettingsInput, StaffInput, StaffView};
use helsebro_app::notifications::OutboxView;
use helsebro_app::types::{
    AuditFilter, NoticeSettings, OutboxChannel, StaffChange, Unit, UnitKind,
};
use helsebro_domain::{AuditEntry, Language, Permission, Role};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// All staff (administrators).
#[utoipa::path(get, path = "/api/v1/staff", tag = "admin", security(("session" = [])),
    responses((status = 200, body = Vec<StaffView>), (status = 403, body = ErrorBody)))]
pub async fn list_staff(
    State(state): State<AppState>,
    Staff(p, _): Staff,
) -> Result<Json<Vec<StaffView>>, ApiError> {
    Ok(Json(state.app.staff_list(&p).await?))
}

#[derive(Serialize, ToSchema)]
pub struct Created {
    pub id: Uuid,
}

/// Create a staff member (administrators).
#[utoipa::path(post, path = "/api/v1/staff", tag = "admin", security(("session" = [])), request_body = StaffInput,
    responses((status = 201, body = Created), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_staff(
    State(state): State<AppState>,
    Staff(p, ctx): Staff,
    ApiJson(input): ApiJson<StaffInput>,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    let id = state.app.create_staff(Some(&p), &input, &ctx.ip).await?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}

#[derive(Deserialize, ToSchema)]
pub struct StaffUpdate {
    pub display_name: String,
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub unit_id: Option<Uuid>,
    /// False deactivates the account and ends its sessions at once.
    pub active: bool,
    pub roles: Vec<Role>,
}

/// Change a staff member's name, e-mail, service area, roles or active flag (administrators).
#[utoipa::path(put, path = "/api/v1/staff/{staff_id}", tag = "admin", security(("session" = [])),
    params(("staff_id" = Uuid, Path)), request_body = StaffUpdate,
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update_staff(
    State(state): State<AppState>,
    Staff(p, ctx): Staff,
    ApiPath(staff_id): ApiPath<Uuid>,
    ApiJson(u): ApiJson<StaffUpdate>,
) -> Result<StatusCode, ApiError> {
    let change = StaffChange {
        display_name: u.display_name,
        email: u.email,
        unit_id: u.unit_id,
        active: u.active,
        roles: u.roles,
    };
    state
        .app
        .update_staff(&p, staff_id, &change, &ctx.ip)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, ToSchema)]
pub struct UnitView {
    pub id: Uuid,
    pub name: String,
    /// `home_care`, `nursing_home`, `hospital`, `general_practice`, `follow_up_centre`, `other`.
    pub kind: String,
    pub active: bool,
}

/// Service areas.
#[utoipa::path(get, path = "/api/v1/units", tag = "admin", security(("session" = [])),
    responses((status = 200, body = Vec<UnitView>), (status = 401, body = ErrorBody)))]
pub async fn list_units(
    State(state): State<AppState>,
    _caller: Staff,
) -> Result<Json<Vec<UnitView>>, ApiError> {
    Ok(Json(
        state
            .app
            .units()
            .await?
            .into_iter()
            .map(|u| UnitView {
                id: u.id,
                name: u.name,
                kind: u.kind.code().into(),
                active: u.active,
            })
            .collect(),
    ))
}

#[derive(Deserialize, ToSchema)]
pub struct NewUnit {
    pub name: String,
    pub kind: String,
}

/// Create a service area (administrators).
#[utoipa::path(post, path = "/api/v1/units", tag = "admin", security(("session" = [])), request_body = NewUnit,
    responses((status = 201, body = Created), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_unit(
    State(state): State<AppState>,
    Staff(p, ctx): Staff,
    ApiJson(u): ApiJson<NewUnit>,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    let kind = UnitKind::parse(&u.kind)
        .ok_or(AppError::invalid("kind", "unknown kind of service area"))?;
    let unit = state.app.create_unit(&p, &u.name, kind, &ctx.ip).await?;
    Ok((StatusCode::CREATED, Json(Created { id: unit.id })))
}

#[derive(Deserialize, ToSchema)]
pub struct UnitUpdate {
    pub name: String,
    pub kind: String,
    pub active: bool,
}

/// Rename a service area, change its kind, or (de)activate it (administrators).
#[utoipa::path(put, path = "/api/v1/units/{unit_id}", tag = "admin", security(("session" = [])),
    params(("unit_id" = Uuid, Path)), request_body = UnitUpdate,
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update_unit(
    State(state): State<AppState>,
    Staff(p, ctx): Staff,
    ApiPath(unit_id): ApiPath<Uuid>,
    ApiJson(u): ApiJson<UnitUpdate>,
) -> Result<StatusCode, ApiError> {
    let kind = UnitKind::parse(&u.kind)
        .ok_or(AppError::invalid("kind", "unknown kind of service area"))?;
    let unit = Unit {
        id: unit_id,
        name: u.name.trim().to_owned(),
        kind,
        active: u.active,
    };
    state.app.update_unit(&p, &unit, &ctx.ip).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, ToSchema)]
pub struct Settings {
    pub name: String,
    pub support_phone: String,
    pub support_email: String,
    pub support_hours: String,
    pub totp_roles: Vec<Role>,
    pub notices: NoticeSettings,
}

/// The organisation's name, support contact, two-factor policy and reminder settings.
#[utoipa::path(get, path = "/api/v1/organisation", tag = "admin", security(("session" = [])),
    responses((status = 200, body = Settings), (status = 401, body = ErrorBody)))]
pub async fn get_settings(
    State(state): State<AppState>,
    _caller: Staff,
) -> Result<Json<Settings>, ApiError> {
    let o = state.app.organisation().await?;
    Ok(Json(Settings {
        name: o.name,
        support_phone: o.support_phone,
        support_email: o.support_email,
        support_hours: o.support_hours,
        totp_roles: o.totp_roles,
        notices: o.notices,
    }))
}

/// Change the organisation's settings (administrators). Takes effect at once.
#[utoipa::path(put, path = "/api/v1/organisation", tag = "admin", security(("session" = [])), request_body = SettingsInput,
    responses((status = 204), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn put_settings(
    State(state): State<AppState>,
    Staff(p, ctx): Staff,
    ApiJson(input): ApiJson<SettingsInput>,
) -> Result<StatusCode, ApiError> {
    state.app.update_settings(&p, &input, &ctx.ip).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, IntoParams)]
pub struct AuditSearch {
    /// Username of the actor.
    pub actor: Option<String>,
    pub patient_id: Option<Uuid>,
    /// An action code such as `patient.read`.
    pub action: Option<String>,
    /// RFC 3339 times (UTC).
    pub from: Option<String>,
    pub to: Option<String>,
    /// Only entries flagged for review (emergency access).
    #[serde(default)]
    pub flagged: bool,
    /// Page backwards: entries with a sequence number below this.
    pub before: Option<i64>,
    /// At most this many entries (1–1000, default 100).
    pub limit: Option<i64>,
}

fn time(field: &str, v: &Option<String>) -> Result<Option<jiff::Timestamp>, AppError> {
    v.as_deref()
        .map(|s| {
            s.parse().map_err(|_| {
                AppError::invalid(field, "use an RFC 3339 time, e.g. 2026-11-22T09:00:00Z")
            })
        })
        .transpose()
}

/// Search the audit log, newest first (data protection officer, administrators).
#[utoipa::path(get, path = "/api/v1/audit", tag = "audit", security(("session" = [])), params(AuditSearch),
    responses((status = 200, body = Vec<AuditEntry>), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn search_audit(
    State(state): State<AppState>,
    Staff(p, ctx): Staff,
    query: Result<Query<AuditSearch>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Vec<AuditEntry>>, ApiError> {
    let Query(q) = query.map_err(|e| AppError::invalid("query", e.body_text()))?;
    let filter = AuditFilter {
        actor_id: None,
        actor_label: q.actor.filter(|a| !a.is_empty()),
        patient_id: q.patient_id,
        action: q.action.filter(|a| !a.is_empty()),
        from: time("from", &q.from)?,
        to: time("to", &q.to)?,
        flagged_only: q.flagged,
        before_seq: q.before,
        limit: q.limit.unwrap_or(100),
    };
    Ok(Json(state.app.search_audit(&p, &filter, &ctx.ip).await?))
}

#[derive(Serialize, ToSchema)]
pub struct ChainStatus {
    pub intact: bool,
    /// Entries verified, when intact.
    pub entries: i64,
    /// Where the chain breaks, when not.
    pub problem: Option<String>,
}

/// Verify the audit log's hash chain.
#[utoipa::path(get, path = "/api/v1/audit/verify", tag = "audit", security(("session" = [])),
    responses((status = 200, body = ChainStatus), (status = 403, body = ErrorBody)))]
pub async fn verify_audit(
    State(state): State<AppState>,
    Staff(p, _): Staff,
) -> Result<Json<ChainStatus>, ApiError> {
    p.require(Permission::ReadAuditLog)?;
    Ok(Json(match state.app.verify_audit_chain().await? {
        Ok(n) => ChainStatus {
            intact: true,
            entries: n,
            problem: None,
        },
        Err(br) => ChainStatus {
            intact: false,
            entries: 0,
            problem: Some(br.to_string()),
        },
    }))
}

#[derive(Deserialize, IntoParams)]
pub struct OutboxQuery {
    /// At most this many messages, newest first (1–1000, default 100).
    pub limit: Option<i64>,
}

/// The notification outbox: counts by status and the newest messages with the provider's
/// answer (administrators). In demo mode this is the development outbox: nothing leaves.
#[utoipa::path(get, path = "/api/v1/outbox", tag = "admin", security(("session" = [])), params(OutboxQuery),
    responses((status = 200, body = OutboxView), (status = 403, body = ErrorBody)))]
pub async fn outbox(
    State(state): State<AppState>,
    Staff(p, _): Staff,
    Query(q): Query<OutboxQuery>,
) -> Result<Json<OutboxView>, ApiError> {
    Ok(Json(state.app.outbox(&p, q.limit.unwrap_or(100)).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct TestMessage {
    /// `email` or `sms`.
    pub channel: String,
    /// An e-mail address or a phone number (with country code, or 8 digits for Norway).
    pub recipient: String,
    #[serde(default)]
    pub language: Language,
}

/// Queue a test message through the configured provider, to check delivery (administrators).
#[utoipa::path(post, path = "/api/v1/outbox/test", tag = "admin", security(("session" = [])), request_body = TestMessage,
    responses((status = 202), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn send_test_message(
    State(state): State<AppState>,
    Staff(p, ctx): Staff,
    ApiJson(m): ApiJson<TestMessage>,
) -> Result<StatusCode, ApiError> {
    let channel = OutboxChannel::parse(&m.channel)
        .ok_or(AppError::invalid("channel", "choose email or sms"))?;
    state
        .app
        .send_test_message(&p, channel, &m.recipient, m.language, &ctx.ip)
        .await?;
    Ok(StatusCode::ACCEPTED)
}
