//! Video appointments over the API: booking, the day's list, join links, moving, cancelling,
//! ad-hoc rooms and the outcome. A join link is in the answer that creates it, and nowhere else.

use super::{ApiJson, ApiPath};
use crate::AppState;
use crate::error::{ApiError, ErrorBody};
use crate::session::Staff;
use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use helsebro_app::appointments::{
    AppointmentDetails, AppointmentItem, Booked, BookingInput, InviteeInput, MoveInput, NewLink,
    OutcomeInput, RoomInput, RoomStarted,
};
use helsebro_app::types::Appointment;
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

#[derive(Deserialize, IntoParams)]
pub struct DayQuery {
    /// Local date `YYYY-MM-DD`; today when left out.
    #[serde(default)]
    pub date: String,
}

/// The caller's appointments on a day (as host or booker), with the live state of each room.
#[utoipa::path(get, path = "/api/v1/appointments", tag = "appointments", security(("session" = [])),
    params(DayQuery),
    responses((status = 200, body = Vec<AppointmentItem>), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    Staff(p, _): Staff,
    Query(q): Query<DayQuery>,
) -> Result<Json<Vec<AppointmentItem>>, ApiError> {
    Ok(Json(state.app.appointments_on(&p, &q.date).await?))
}

/// Book a video appointment. The answer holds each invitee's join link, once.
#[utoipa::path(post, path = "/api/v1/appointments", tag = "appointments", security(("session" = [])),
    request_body = BookingInput,
    responses((status = 201, body = Booked), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn book(
    State(state): State<AppState>,
    Staff(p, ctx): Staff,
    ApiJson(input): ApiJson<BookingInput>,
) -> Result<(StatusCode, Json<Booked>), ApiError> {
    let booked = state.app.book_appointment(&p, &input, &ctx.ip).await?;
    Ok((StatusCode::CREATED, Json(booked)))
}

/// One appointment with its invitations (never their links).
#[utoipa::path(get, path = "/api/v1/appointments/{appointment_id}", tag = "appointments", security(("session" = [])),
    params(("appointment_id" = Uuid, Path)),
    responses((status = 200, body = AppointmentDetails), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn read(
    State(state): State<AppState>,
    Staff(p, ctx): Staff,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<AppointmentDetails>, ApiError> {
    Ok(Json(state.app.appointment_details(&p, id, &ctx.ip).await?))
}

/// Move an appointment. Invitees with a phone or e-mail get the new time with a new link;
/// the reminders are replaced.
#[utoipa::path(patch, path = "/api/v1/appointments/{appointment_id}", tag = "appointments", security(("session" = [])),
    params(("appointment_id" = Uuid, Path)), request_body = MoveInput,
    responses((status = 200, body = Appointment), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn move_to(
    State(state): State<AppState>,
    Staff(p, ctx): Staff,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(input): ApiJson<MoveInput>,
) -> Result<Json<Appointment>, ApiError> {
    Ok(Json(
        state.app.move_appointment(&p, id, &input, &ctx.ip).await?,
    ))
}

/// Cancel an appointment: its links stop working and invitees are told.
#[utoipa::path(delete, path = "/api/v1/appointments/{appointment_id}", tag = "appointments", security(("session" = [])),
    params(("appointment_id" = Uuid, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn cancel(
    State(state): State<AppState>,
    Staff(p, ctx): Staff,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<StatusCode, ApiError> {
    state.app.cancel_appointment(&p, id, &ctx.ip).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Invite one more participant. The answer holds the join link, once.
#[utoipa::path(post, path = "/api/v1/appointments/{appointment_id}/invitations", tag = "appointments", security(("session" = [])),
    params(("appointment_id" = Uuid, Path)), request_body = InviteeInput,
    responses((status = 201, body = NewLink), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn invite(
    State(state): State<AppState>,
    Staff(p, ctx): Staff,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(input): ApiJson<InviteeInput>,
) -> Result<(StatusCode, Json<NewLink>), ApiError> {
    let link = state.app.add_invitee(&p, id, &input, &ctx.ip).await?;
    Ok((StatusCode::CREATED, Json(link)))
}

/// Revoke an invitation: its links stop working at once.
#[utoipa::path(post, path = "/api/v1/invitations/{invitation_id}/revoke", tag = "appointments", security(("session" = [])),
    params(("invitation_id" = Uuid, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn revoke(
    State(state): State<AppState>,
    Staff(p, ctx): Staff,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<StatusCode, ApiError> {
    state.app.revoke_invitation(&p, id, &ctx.ip).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Record what happened (held, no-show, fallback by phone or visit, cancelled). The minutes
/// are filled in from the call when left out.
#[utoipa::path(post, path = "/api/v1/appointments/{appointment_id}/outcome", tag = "appointments", security(("session" = [])),
    params(("appointment_id" = Uuid, Path)), request_body = OutcomeInput,
    responses((status = 200, body = Appointment), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn outcome(
    State(state): State<AppState>,
    Staff(p, ctx): Staff,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(input): ApiJson<OutcomeInput>,
) -> Result<Json<Appointment>, ApiError> {
    Ok(Json(
        state.app.record_outcome(&p, id, &input, &ctx.ip).await?,
    ))
}

/// Start a video room at once ("start video now"), with one link to send or hand over.
#[utoipa::path(post, path = "/api/v1/rooms", tag = "appointments", security(("session" = [])),
    request_body = RoomInput,
    responses((status = 201, body = RoomStarted), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn start_room(
    State(state): State<AppState>,
    Staff(p, ctx): Staff,
    ApiJson(input): ApiJson<RoomInput>,
) -> Result<(StatusCode, Json<RoomStarted>), ApiError> {
    let room = state.app.start_room(&p, &input, &ctx.ip).await?;
    Ok((StatusCode::CREATED, Json(room)))
}
