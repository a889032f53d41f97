//! "My calendar" (VC-16, IO-4): a staff member makes, replaces or revokes their personal
//! calendar feed, and calendar programs fetch it at `/calendar/<token>.ics` without a login.

use super::{Layout, render, tkey};
use crate::AppState;
use crate::error::PageError;
use crate::session::{RequestCtx, Staff};
use askama::Template;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use helsebro_app::AppError;
use jiff::tz::TimeZone;

#[derive(Template)]
#[template(path = "calendar.html")]
struct CalendarPage {
    l: Layout,
    /// When the current feed was made (Norwegian time), if there is one.
    since: Option<String>,
    /// The new feed's address, shown once right after it is made.
    new_url: Option<String>,
    revoked: bool,
}

fn oslo(t: jiff::Timestamp) -> String {
    let tz = TimeZone::get("Europe/Oslo").unwrap_or(TimeZone::UTC);
    t.to_zoned(tz).strftime("%Y-%m-%d %H:%M").to_string()
}

async fn page(
    state: &AppState,
    ctx: &RequestCtx,
    p: &helsebro_app::StaffPrincipal,
    new_url: Option<String>,
    revoked: bool,
) -> Result<Response, PageError> {
    let since = state.app.calendar_feed_since(p).await?.map(oslo);
    render(&CalendarPage {
        l: Layout::new(state, ctx, tkey("calendar-title")).await,
        since,
        new_url,
        revoked,
    })
}

pub async fn calendar_page(
    State(state): State<AppState>,
    Staff(p, ctx): Staff,
) -> Result<Response, PageError> {
    page(&state, &ctx, &p, None, false).await
}

/// Makes a new feed (revoking the old one) and shows its address once.
pub async fn calendar_create(
    State(state): State<AppState>,
    Staff(p, ctx): Staff,
) -> Result<Response, PageError> {
    let url = state.app.create_calendar_feed(&p, &ctx.ip).await?;
    page(&state, &ctx, &p, Some(url), false).await
}

pub async fn calendar_revoke(
    State(state): State<AppState>,
    Staff(p, ctx): Staff,
) -> Result<Response, PageError> {
    state.app.revoke_calendar_feed(&p, &ctx.ip).await?;
    page(&state, &ctx, &p, None, true).await
}

/// `GET /calendar/<token>.ics`: the feed, or the same 404 as any missing page.
pub async fn feed(
    State(state): State<AppState>,
    ctx: RequestCtx,
    Path(file): Path<String>,
) -> Result<Response, PageError> {
    let token = file
        .strip_suffix(".ics")
        .ok_or(AppError::NotFound("the page"))?;
    let ics = state.app.calendar_feed(token, &ctx.ip).await?;
    Ok((
        [(header::CONTENT_TYPE, "text/calendar; charset=utf-8")],
        ics,
    )
        .into_response())
}
