//! Server-rendered pages for staff. Every page extends `base.html`: language switch, the
//! user's navigation, and the organisation's support contact in the footer (EV-4).

mod admin;
mod appointments;
mod auth;
mod calendar;
mod calls;
mod patients;

use crate::AppState;
use crate::error::{PageError, PendingErrorPage};
use crate::session::RequestCtx;
use askama::Template;
use axum::Router;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use helsebro_app::{AppError, FieldError, StaffPrincipal};
use helsebro_domain::{Language, Permission};
use helsebro_i18n::Tr;
use serde::de::DeserializeOwned;

pub fn router() -> Router<AppState> {
    Router::new()
        .merge(appointments::router())
        .merge(calls::router())
        .route("/", get(patients::home))
        .route("/login", get(auth::login_page).post(auth::login_submit))
        .route("/login/totp", get(auth::totp_page).post(auth::totp_submit))
        .route(
            "/login/enrol",
            get(auth::enrol_page).post(auth::enrol_submit),
        )
        .route("/logout", post(auth::logout))
        .route(
            "/me/calendar",
            get(calendar::calendar_page).post(calendar::calendar_create),
        )
        .route("/me/calendar/revoke", post(calendar::calendar_revoke))
        .route("/calendar/{file}", get(calendar::feed))
        .route("/patients", post(patients::create))
        .route("/patients/new", get(patients::new_page))
        .route("/patients/find", post(patients::find))
        .route("/patients/{patient_id}", get(patients::show))
        .route(
            "/patients/{patient_id}/contact",
            post(patients::change_contact),
        )
        .route(
            "/patients/{patient_id}/care-team",
            post(patients::add_team_member),
        )
        .route(
            "/patients/{patient_id}/emergency-access",
            post(patients::emergency_access),
        )
        .route(
            "/admin/staff",
            get(admin::staff_page).post(admin::staff_create),
        )
        .route("/admin/staff/{staff_id}", post(admin::staff_update))
        .route(
            "/admin/units",
            get(admin::units_page).post(admin::units_create),
        )
        .route(
            "/admin/settings",
            get(admin::settings_page).post(admin::settings_save),
        )
        .route("/admin/outbox", get(admin::outbox_page))
        .route("/admin/outbox/test", post(admin::outbox_test))
        .route("/audit", get(admin::audit_page))
        .route(
            "/audit/emergency/{grant_id}/reviewed",
            post(admin::emergency_reviewed),
        )
}

pub struct LangLink {
    pub href: String,
    pub code: &'static str,
    pub name: &'static str,
    pub current: bool,
}

pub struct UserNav {
    pub name: String,
    pub can_register: bool,
    /// Sees the home follow-up work list.
    pub can_follow_up: bool,
    pub can_admin: bool,
    pub can_audit: bool,
}

/// What the base layout needs.
pub struct Layout {
    pub i: Tr,
    pub lang: &'static str,
    pub title: String,
    pub org_name: String,
    pub support_phone: String,
    /// The phone number without spaces, for the `tel:` link.
    pub support_phone_href: String,
    pub support_email: String,
    pub support_hours: String,
    pub user: Option<UserNav>,
    pub csrf: String,
    pub lang_links: Vec<LangLink>,
    pub notice: Option<String>,
}

/// The current path with `lang=` replaced, for the language links.
fn lang_href(path: &str, code: &str) -> String {
    let (base, query) = path.split_once('?').unwrap_or((path, ""));
    let mut parts: Vec<&str> = query
        .split('&')
        .filter(|p| !p.is_empty() && !p.starts_with("lang="))
        .collect();
    let lang = format!("lang={code}");
    parts.push(&lang);
    format!("{base}?{}", parts.join("&"))
}

impl Layout {
    pub async fn new(state: &AppState, ctx: &RequestCtx, title_key: &str) -> Layout {
        let i = Tr::new(ctx.lang);
        // The footer must render even when the database is down: fall back to the defaults.
        let org = state.app.organisation().await.unwrap_or_else(|_| {
            helsebro_app::types::Organisation::initial(&state.app.config().organisation_name)
        });
        let user = ctx
            .session
            .as_ref()
            .filter(|s| s.stage == helsebro_app::types::SessionStage::Full)
            .map(|s| {
                let p = &s.principal;
                UserNav {
                    name: p.display_name.clone(),
                    can_register: p.can(Permission::RegisterPatients),
                    can_follow_up: p.can(Permission::TreatPatients),
                    can_admin: p.can(Permission::ManageStaff),
                    can_audit: p.can(Permission::ReadAuditLog),
                }
            });
        let notice = ctx
            .path
            .split_once('?')
            .and_then(|(_, q)| q.split('&').find_map(|kv| kv.strip_prefix("done=")))
            .and_then(|k| match k {
                "saved" => Some(tkey("done-saved")),
                "created" => Some(tkey("done-created")),
                "reviewed" => Some(tkey("done-reviewed")),
                "registered" => Some(tkey("done-registered")),
                "team" => Some(tkey("done-team")),
                "queued" => Some(tkey("done-queued")),
                _ => None,
            })
            .map(|k| i.t(k));
        Layout {
            i,
            lang: ctx.lang.code(),
            title: i.t(title_key),
            org_name: org.name,
            support_phone_href: org
                .support_phone
                .chars()
                .filter(|c| !c.is_whitespace())
                .collect(),
            support_phone: org.support_phone,
            support_email: org.support_email,
            support_hours: org.support_hours,
            user,
            csrf: ctx.csrf.clone(),
            lang_links: Language::ALL
                .iter()
                .map(|l| LangLink {
                    href: lang_href(&ctx.path, l.code()),
                    code: l.code(),
                    name: l.endonym(),
                    current: *l == ctx.lang,
                })
                .collect(),
            notice,
        }
    }
}

/// Marks a literal as a translation key, so the key test finds it.
pub const fn tkey(key: &'static str) -> &'static str {
    key
}

/// Renders a template into an HTML response.
pub fn render<T: Template>(t: &T) -> Result<Response, PageError> {
    t.render()
        .map(|html| Html(html).into_response())
        .map_err(|e| PageError(AppError::Internal(e.to_string())))
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    l: Layout,
    heading: String,
    message: String,
    fields: Vec<FieldError>,
}

/// The full error page, in the user's language, with the support contact.
pub async fn render_error_page(
    state: &AppState,
    ctx: &RequestCtx,
    status: StatusCode,
    pending: &PendingErrorPage,
) -> Response {
    let (key, text_key) = match status {
        StatusCode::NOT_FOUND => (tkey("error-not-found"), tkey("error-not-found-text")),
        StatusCode::FORBIDDEN => (tkey("error-forbidden"), tkey("error-forbidden-text")),
        StatusCode::UNAUTHORIZED => (
            tkey("error-unauthenticated"),
            tkey("error-unauthenticated-text"),
        ),
        StatusCode::TOO_MANY_REQUESTS => {
            (tkey("error-rate-limited"), tkey("error-rate-limited-text"))
        }
        StatusCode::UNPROCESSABLE_ENTITY
        | StatusCode::BAD_REQUEST
        | StatusCode::PAYLOAD_TOO_LARGE => (tkey("error-invalid"), tkey("error-invalid-text")),
        StatusCode::CONFLICT => (tkey("error-conflict"), tkey("error-conflict-text")),
        _ => (tkey("error-internal"), tkey("error-internal-text")),
    };
    let l = Layout::new(state, ctx, key).await;
    let heading = l.title.clone();
    // The page speaks the user's language; the specific reason (in English, from the app
    // layer) is kept for the field list only, where it says what to correct.
    let message = l.i.t(text_key);
    let page = ErrorPage {
        l,
        heading,
        message,
        fields: pending.fields.clone(),
    };
    match page.render() {
        Ok(html) => Html(html).into_response(),
        Err(_) => (status, "error").into_response(),
    }
}

/// A URL-encoded form; a malformed one is a 422 page saying what is wrong.
pub struct PageForm<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for PageForm<T> {
    type Rejection = PageError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        axum::Form::<T>::from_request(req, state)
            .await
            .map(|axum::Form(v)| PageForm(v))
            .map_err(|e| PageError(AppError::invalid("form", e.body_text())))
    }
}

/// The translated name of a care-team role code.
pub fn team_role_label(i: &Tr, code: &str) -> String {
    match code {
        "responsible" => i.t(tkey("team-role-responsible")),
        "following_up" => i.t(tkey("team-role-following-up")),
        "advising" => i.t(tkey("team-role-advising")),
        "referring" => i.t(tkey("team-role-referring")),
        other => other.to_owned(),
    }
}

/// Translated role names, joined for display.
pub fn role_names(i: &Tr, p: &[helsebro_domain::Role]) -> String {
    p.iter()
        .map(|r| i.t(r.label_key()))
        .collect::<Vec<_>>()
        .join(", ")
}

pub fn principal_roles(i: &Tr, p: &StaffPrincipal) -> String {
    role_names(i, &p.roles)
}

/// The options of a language select: code, name, selected.
pub fn language_options(selected: Language) -> Vec<(&'static str, &'static str, bool)> {
    Language::ALL
        .iter()
        .map(|l| (l.code(), l.endonym(), *l == selected))
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn lang_links_replace_only_lang() {
        assert_eq!(
            super::lang_href("/audit?actor=x&lang=nb", "en"),
            "/audit?actor=x&lang=en"
        );
        assert_eq!(super::lang_href("/", "nn"), "/?lang=nn");
    }
}
