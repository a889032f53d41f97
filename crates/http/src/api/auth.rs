//! Login over the API.

use super::ApiJson;
use crate::AppState;
use crate::error::{ApiError, ErrorBody};
use crate::session::{PendingLogin, RequestCtx, SESSION_COOKIE, Staff, cookie};
use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum_extra::extract::cookie::SameSite;
use helsebro_app::AppError;
use helsebro_app::types::SessionStage;
use helsebro_domain::{Language, Role};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

#[derive(Deserialize, ToSchema)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
}

#[derive(Serialize, ToSchema)]
pub struct LoginResponse {
    /// `full`: logged in. `totp`: send a code to /api/v1/auth/totp. `enrol`: two-factor login
    /// must first be set up in the web interface.
    pub stage: String,
    /// Send as `X-CSRF-Token` on state-changing requests.
    pub csrf_token: String,
}

/// Log in with username and password. Sets the `hb_session` cookie.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = LoginRequest,
    responses(
        (status = 200, body = LoginResponse),
        (status = 401, description = "Wrong username or password", body = ErrorBody),
        (status = 429, description = "Too many attempts; see Retry-After", body = ErrorBody),
    ))]
pub async fn login(
    State(state): State<AppState>,
    ctx: RequestCtx,
    ApiJson(req): ApiJson<LoginRequest>,
) -> Result<Response, ApiError> {
    let start = state
        .app
        .login(&req.username, &req.password, &ctx.ip)
        .await?;
    let info = state
        .app
        .session(&start.token)
        .await?
        .ok_or(AppError::Unauthenticated)?;
    let c = cookie(
        SESSION_COOKIE,
        start.token,
        state.app.config().https(),
        SameSite::Lax,
    );
    let body = LoginResponse {
        stage: start.stage.code().into(),
        csrf_token: info.principal.csrf_token,
    };
    Ok(([(header::SET_COOKIE, c.to_string())], Json(body)).into_response())
}

#[derive(Deserialize, ToSchema)]
pub struct TotpRequest {
    pub code: String,
}

/// The second step: a 6-digit code from the authenticator app.
#[utoipa::path(post, path = "/api/v1/auth/totp", tag = "auth", request_body = TotpRequest,
    responses((status = 204), (status = 401, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn totp(
    State(state): State<AppState>,
    PendingLogin(info, ctx): PendingLogin,
    ApiJson(req): ApiJson<TotpRequest>,
) -> Result<StatusCode, ApiError> {
    if info.stage != SessionStage::Totp {
        return Err(
            AppError::Forbidden("set up two-factor login in the web interface first").into(),
        );
    }
    state.app.verify_totp(&info, &req.code, &ctx.ip).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// End the session.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth", security(("session" = [])),
    responses((status = 204), (status = 401, body = ErrorBody)))]
pub async fn logout(
    State(state): State<AppState>,
    ctx: RequestCtx,
) -> Result<StatusCode, ApiError> {
    let info = ctx.session.as_ref().ok_or(AppError::Unauthenticated)?;
    state.app.logout(info, &ctx.ip).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, ToSchema)]
pub struct Me {
    pub id: Uuid,
    pub username: String,
    pub display_name: String,
    pub roles: Vec<Role>,
    pub language: Language,
    pub csrf_token: String,
}

/// Who is logged in.
#[utoipa::path(get, path = "/api/v1/me", tag = "auth", security(("session" = [])),
    responses((status = 200, body = Me), (status = 401, body = ErrorBody)))]
pub async fn me(Staff(p, ctx): Staff) -> Json<Me> {
    Json(Me {
        id: p.id,
        username: p.username,
        display_name: p.display_name,
        roles: p.roles,
        language: p.language.unwrap_or(ctx.lang),
        csrf_token: p.csrf_token,
    })
}
