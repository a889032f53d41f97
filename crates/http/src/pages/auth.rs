//! Login pages: password, TOTP code, TOTP enrolment, logout.

use super::{Layout, PageForm, render, tkey};
use crate::AppState;
use crate::error::PageError;
use crate::session::{PendingLogin, RequestCtx, SESSION_COOKIE, cookie};
use askama::Template;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::SameSite;
use helsebro_app::AppError;
use helsebro_app::types::SessionStage;
use serde::Deserialize;

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    l: Layout,
    error: Option<String>,
    username: String,
}

#[derive(Template)]
#[template(path = "totp.html")]
struct TotpPage {
    l: Layout,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "enrol.html")]
struct EnrolPage {
    l: Layout,
    error: Option<String>,
    qr_svg: String,
    secret: String,
}

pub async fn login_page(
    State(state): State<AppState>,
    ctx: RequestCtx,
) -> Result<Response, PageError> {
    if let Some(s) = &ctx.session {
        return Ok(Redirect::to(match s.stage {
            SessionStage::Full => "/",
            SessionStage::Totp => "/login/totp",
            SessionStage::Enrol => "/login/enrol",
        })
        .into_response());
    }
    render(&LoginPage {
        l: Layout::new(&state, &ctx, tkey("login-title")).await,
        error: None,
        username: String::new(),
    })
}

#[derive(Deserialize)]
pub struct LoginForm {
    username: String,
    password: String,
}

pub async fn login_submit(
    State(state): State<AppState>,
    ctx: RequestCtx,
    PageForm(form): PageForm<LoginForm>,
) -> Result<Response, PageError> {
    match state
        .app
        .login(&form.username, &form.password, &ctx.ip)
        .await
    {
        Ok(start) => {
            let next = match start.stage {
                SessionStage::Full => "/",
                SessionStage::Totp => "/login/totp",
                SessionStage::Enrol => "/login/enrol",
            };
            let c = cookie(
                SESSION_COOKIE,
                start.token,
                state.app.config().https(),
                SameSite::Lax,
            );
            Ok(([(header::SET_COOKIE, c.to_string())], Redirect::to(next)).into_response())
        }
        Err(AppError::BadCredentials(_)) => {
            let l = Layout::new(&state, &ctx, tkey("login-title")).await;
            let error = Some(l.i.t("login-failed"));
            let mut res = render(&LoginPage {
                l,
                error,
                username: form.username,
            })?;
            *res.status_mut() = StatusCode::UNAUTHORIZED;
            Ok(res)
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn totp_page(
    State(state): State<AppState>,
    PendingLogin(info, ctx): PendingLogin,
) -> Result<Response, PageError> {
    if info.stage != SessionStage::Totp {
        return Ok(Redirect::to("/login/enrol").into_response());
    }
    render(&TotpPage {
        l: Layout::new(&state, &ctx, tkey("totp-title")).await,
        error: None,
    })
}

#[derive(Deserialize)]
pub struct CodeForm {
    code: String,
}

pub async fn totp_submit(
    State(state): State<AppState>,
    PendingLogin(info, ctx): PendingLogin,
    PageForm(form): PageForm<CodeForm>,
) -> Result<Response, PageError> {
    match state.app.verify_totp(&info, &form.code, &ctx.ip).await {
        Ok(()) => Ok(Redirect::to("/").into_response()),
        Err(AppError::BadCredentials(_)) => {
            let l = Layout::new(&state, &ctx, tkey("totp-title")).await;
            let error = Some(l.i.t("totp-failed"));
            let mut res = render(&TotpPage { l, error })?;
            *res.status_mut() = StatusCode::UNAUTHORIZED;
            Ok(res)
        }
        Err(e) => Err(e.into()),
    }
}

async fn enrol_view(
    state: &AppState,
    info: &helsebro_app::auth::SessionInfo,
    ctx: &RequestCtx,
    failed: bool,
) -> Result<Response, PageError> {
    let enrolment = state.app.enrolment(info).await?;
    let l = Layout::new(state, ctx, tkey("enrol-title")).await;
    let error = failed.then(|| l.i.t("totp-failed"));
    let mut res = render(&EnrolPage {
        l,
        error,
        qr_svg: enrolment.qr_svg,
        secret: enrolment.secret,
    })?;
    if failed {
        *res.status_mut() = StatusCode::UNAUTHORIZED;
    }
    Ok(res)
}

pub async fn enrol_page(
    State(state): State<AppState>,
    PendingLogin(info, ctx): PendingLogin,
) -> Result<Response, PageError> {
    if info.stage != SessionStage::Enrol {
        return Ok(Redirect::to("/login/totp").into_response());
    }
    enrol_view(&state, &info, &ctx, false).await
}

pub async fn enrol_submit(
    State(state): State<AppState>,
    PendingLogin(info, ctx): PendingLogin,
    PageForm(form): PageForm<CodeForm>,
) -> Result<Response, PageError> {
    match state.app.finish_enrolment(&info, &form.code, &ctx.ip).await {
        Ok(()) => Ok(Redirect::to("/").into_response()),
        Err(AppError::BadCredentials(_)) => enrol_view(&state, &info, &ctx, true).await,
        Err(e) => Err(e.into()),
    }
}

pub async fn logout(State(state): State<AppState>, ctx: RequestCtx) -> Result<Response, PageError> {
    if let Some(info) = &ctx.session {
        state.app.logout(info, &ctx.ip).await?;
    }
    let mut c = cookie(
        SESSION_COOKIE,
        String::new(),
        state.app.config().https(),
        SameSite::Lax,
    );
    c.make_removal();
    Ok((
        [(header::SET_COOKIE, c.to_string())],
        Redirect::to("/login"),
    )
        .into_response())
}
