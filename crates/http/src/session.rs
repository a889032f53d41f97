//! Who is calling, in what language, and whether a state-changing request carries its CSRF
//! token (ID-5). One middleware, [`resolve`], works this out once per request and stores a
//! [`RequestCtx`]; the extractors below read it.
//!
//! CSRF: a logged-in browser must send its session's token (form field `csrf_token` or
//! header `X-CSRF-Token`) with every POST, PUT, PATCH and DELETE. Before login, forms carry
//! the token of a pre-session cookie (double submit). A JSON request without a valid session
//! carries no ambient authority and cannot be sent cross-site without a CORS preflight,
//! which Helsebro never grants, so the API's login needs no token.

use crate::AppState;
use crate::error::{ApiError, PageError};
use axum::body::{Body, to_bytes};
use axum::extract::{ConnectInfo, FromRequestParts, Path, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use helsebro_app::auth::SessionInfo;
use helsebro_app::secrets::{random_token, same};
use helsebro_app::types::SessionStage;
use helsebro_app::{AppError, PatientAccess, Purpose, StaffPrincipal};
use helsebro_domain::Language;
use std::collections::HashMap;
use std::net::SocketAddr;
use uuid::Uuid;

pub const SESSION_COOKIE: &str = "hb_session";
pub const PRE_COOKIE: &str = "hb_pre";
pub const LANG_COOKIE: &str = "hb_lang";
pub const CSRF_FIELD: &str = "csrf_token";
pub const CSRF_HEADER: &str = "x-csrf-token";

/// What every handler may know about the request.
#[derive(Clone, Debug)]
pub struct RequestCtx {
    pub session: Option<SessionInfo>,
    pub lang: Language,
    /// The CSRF token to put in this page's forms.
    pub csrf: String,
    pub ip: String,
    /// Path and query of this request, for the language links.
    pub path: String,
    pub is_api: bool,
}

impl RequestCtx {
    /// The context of a request turned away before it was fully resolved.
    fn bare(lang: Language, ip: String, path: String, is_api: bool) -> RequestCtx {
        RequestCtx {
            session: None,
            lang,
            csrf: String::new(),
            ip,
            path,
            is_api,
        }
    }
}

fn client_ip(req: &Request, trust_forwarded: bool) -> String {
    let forwarded = req
        .headers()
        .get("x-forwarded-for")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').next())
        .map(str::trim)
        .filter(|ip| ip.parse::<std::net::IpAddr>().is_ok());
    if let (true, Some(ip)) = (trust_forwarded, forwarded) {
        return ip.to_owned();
    }
    req.extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ci| ci.0.ip().to_string())
        .unwrap_or_else(|| "unknown".into())
}

fn is_unsafe(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

fn content_type(headers: &HeaderMap) -> &str {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

fn query_lang(uri: &axum::http::Uri) -> Option<Language> {
    uri.query()?
        .split('&')
        .find_map(|kv| kv.strip_prefix("lang="))
        .and_then(Language::parse)
}

pub(crate) fn cookie<'a>(
    name: &'a str,
    value: String,
    https: bool,
    same_site: SameSite,
) -> Cookie<'a> {
    Cookie::build((name, value))
        .path("/")
        .http_only(true)
        .secure(https)
        .same_site(same_site)
        .build()
}

/// Resolves session, language and CSRF for every request.
pub async fn resolve(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let app = &state.app;
    let https = app.config().https();
    let jar = CookieJar::from_headers(req.headers());
    let ip = client_ip(&req, app.config().trust_forwarded_for);
    let path = req.uri().path().to_owned();
    let is_api = path.starts_with("/api/");

    let session_cookie = jar.get(SESSION_COOKIE).map(|c| c.value().to_owned());
    let session = match &session_cookie {
        Some(token) => match app.session(token).await {
            Ok(s) => s,
            Err(e) => {
                tracing::error!(error = %e, "session lookup failed");
                let bare = RequestCtx::bare(Language::default(), ip, path, is_api);
                return with_ctx(
                    ApiOrPage(is_api, AppError::Internal("session lookup failed".into())),
                    bare,
                );
            }
        },
        None => None,
    };

    let chosen_lang = query_lang(req.uri());
    let lang = chosen_lang
        .or_else(|| {
            jar.get(LANG_COOKIE)
                .and_then(|c| Language::parse(c.value()))
        })
        .or_else(|| session.as_ref().and_then(|s| s.principal.language))
        .or_else(|| {
            req.headers()
                .get(header::ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok())
                .and_then(Language::from_accept_language)
        })
        .unwrap_or_default();
    if let (Some(l), Some(s)) = (chosen_lang, &session)
        && s.principal.language != Some(l)
        && let Err(e) = app.set_language(&s.principal, l).await
    {
        tracing::warn!(error = %e, "could not save the language preference");
    }

    let existing_pre = jar
        .get(PRE_COOKIE)
        .map(|c| c.value().to_owned())
        .filter(|v| v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit()));
    let new_pre = existing_pre.is_none().then(|| random_token(32));
    let expected = match (&session, &existing_pre) {
        (Some(s), _) => Some(s.principal.csrf_token.clone()),
        (None, Some(pre)) => Some(pre.clone()),
        (None, None) => None,
    };

    let mut req = req;
    if is_unsafe(req.method()) {
        let ct = content_type(req.headers()).to_owned();
        let mut provided = req
            .headers()
            .get(CSRF_HEADER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        if provided.is_none() && ct.starts_with("application/x-www-form-urlencoded") {
            let (parts, body) = req.into_parts();
            let bytes = match to_bytes(body, app.config().max_body_bytes).await {
                Ok(b) => b,
                Err(_) => {
                    let bare = RequestCtx::bare(lang, ip, path, is_api);
                    return with_ctx(
                        ApiOrPage(is_api, AppError::invalid("body", "the form is too large")),
                        bare,
                    );
                }
            };
            provided = form_urlencoded_field(&bytes, CSRF_FIELD);
            req = Request::from_parts(parts, Body::from(bytes));
        }
        // Without a valid session there is no ambient authority to abuse (a stale cookie
        // carries none), and a JSON body cannot be sent cross-site without a CORS preflight.
        // The same holds for FHIR clients (devices send a bearer token, not a cookie).
        let is_fhir = path.starts_with("/fhir/");
        let json_without_session = session.is_none()
            && ((is_api && ct.starts_with("application/json"))
                || (is_fhir
                    && (ct.starts_with("application/fhir+json")
                        || ct.starts_with("application/json"))));
        let ok = match (&expected, &provided) {
            (Some(e), Some(p)) => same(e, p),
            _ => json_without_session,
        };
        if !ok {
            let forbidden = AppError::Forbidden(
                "the request lacks a valid CSRF token; reload the page and try again",
            );
            let bare = RequestCtx::bare(lang, ip, path, is_api);
            return with_ctx(ApiOrPage(is_api, forbidden), bare);
        }
    }

    let ctx = RequestCtx {
        csrf: session
            .as_ref()
            .map(|s| s.principal.csrf_token.clone())
            .or_else(|| existing_pre.clone())
            .or_else(|| new_pre.clone())
            .unwrap_or_default(),
        session,
        lang,
        ip,
        path: req
            .uri()
            .path_and_query()
            .map(|p| p.as_str().to_owned())
            .unwrap_or_else(|| path.clone()),
        is_api,
    };
    req.extensions_mut().insert(ctx.clone());
    let mut res = next.run(req).await;
    // The error-page renderer outside this layer needs the language and the session.
    res.extensions_mut().insert(ctx);
    let mut set = Vec::new();
    if let Some(pre) = new_pre {
        set.push(cookie(PRE_COOKIE, pre, https, SameSite::Strict));
    }
    if let Some(l) = chosen_lang {
        let mut c = cookie(LANG_COOKIE, l.code().to_owned(), https, SameSite::Lax);
        c.make_permanent();
        set.push(c);
    }
    for c in set {
        if let Ok(v) = c.to_string().parse() {
            res.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    res
}

fn with_ctx(answer: ApiOrPage, ctx: RequestCtx) -> Response {
    let mut res = answer.into_response();
    res.extensions_mut().insert(ctx);
    res
}

/// Reads one field of a URL-encoded form body.
pub(crate) fn form_urlencoded_field(bytes: &[u8], name: &str) -> Option<String> {
    form_urlencoded::parse(bytes)
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// An error answered as JSON for the API and as a page otherwise.
pub struct ApiOrPage(pub bool, pub AppError);

impl IntoResponse for ApiOrPage {
    fn into_response(self) -> Response {
        if self.0 {
            ApiError(self.1).into_response()
        } else {
            PageError(self.1).into_response()
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for RequestCtx {
    type Rejection = ApiOrPage;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<RequestCtx>()
            .cloned()
            .ok_or(ApiOrPage(
                false,
                AppError::Internal("request context missing".into()),
            ))
    }
}

/// Why a staff-only request was turned away.
pub enum AuthRejection {
    Api(ApiError),
    Page(Redirect),
    Other(ApiOrPage),
}

impl IntoResponse for AuthRejection {
    fn into_response(self) -> Response {
        match self {
            AuthRejection::Api(e) => e.into_response(),
            AuthRejection::Page(r) => r.into_response(),
            AuthRejection::Other(e) => e.into_response(),
        }
    }
}

/// A fully logged-in staff member (password and, where required, TOTP).
pub struct Staff(pub StaffPrincipal, pub RequestCtx);

impl<S: Send + Sync> FromRequestParts<S> for Staff {
    type Rejection = AuthRejection;

    async fn from_request_parts(parts: &mut Parts, s: &S) -> Result<Self, Self::Rejection> {
        let ctx = RequestCtx::from_request_parts(parts, s)
            .await
            .map_err(AuthRejection::Other)?;
        match &ctx.session {
            Some(info) if info.stage == SessionStage::Full => {
                Ok(Staff(info.principal.clone(), ctx))
            }
            _ if ctx.is_api => Err(AuthRejection::Api(ApiError(AppError::Unauthenticated))),
            Some(info) if info.stage == SessionStage::Totp => {
                Err(AuthRejection::Page(Redirect::to("/login/totp")))
            }
            Some(_) => Err(AuthRejection::Page(Redirect::to("/login/enrol"))),
            None => Err(AuthRejection::Page(Redirect::to("/login"))),
        }
    }
}

/// A login waiting for its second step (TOTP code or enrolment).
pub struct PendingLogin(pub SessionInfo, pub RequestCtx);

impl<S: Send + Sync> FromRequestParts<S> for PendingLogin {
    type Rejection = AuthRejection;

    async fn from_request_parts(parts: &mut Parts, s: &S) -> Result<Self, Self::Rejection> {
        let ctx = RequestCtx::from_request_parts(parts, s)
            .await
            .map_err(AuthRejection::Other)?;
        match &ctx.session {
            Some(info) if info.stage != SessionStage::Full => Ok(PendingLogin(info.clone(), ctx)),
            Some(_) if !ctx.is_api => Err(AuthRejection::Page(Redirect::to("/"))),
            _ if ctx.is_api => Err(AuthRejection::Api(ApiError(AppError::Unauthenticated))),
            _ => Err(AuthRejection::Page(Redirect::to("/login"))),
        }
    }
}

/// The `patient_id` of the route, parsed.
async fn patient_id_of(parts: &mut Parts, ctx: &RequestCtx) -> Result<Uuid, AuthRejection> {
    let Path(params) = Path::<HashMap<String, String>>::from_request_parts(parts, &())
        .await
        .map_err(|_| {
            AuthRejection::Other(ApiOrPage(ctx.is_api, AppError::NotFound("the patient")))
        })?;
    params
        .get("patient_id")
        .and_then(|s| Uuid::parse_str(s).ok())
        .ok_or(AuthRejection::Other(ApiOrPage(
            ctx.is_api,
            AppError::NotFound("the patient"),
        )))
}

/// Read access to the patient in the route: proves role and care-team membership (or an
/// emergency grant) and has written the audit entry. Handlers that show patient data take it.
pub struct PatientRead(pub PatientAccess, pub RequestCtx);

/// Change access to the patient in the route; the change writes its own audit entry.
pub struct PatientChange(pub PatientAccess, pub RequestCtx);

async fn authorize(
    parts: &mut Parts,
    state: &AppState,
    purpose: Purpose,
) -> Result<(PatientAccess, RequestCtx), AuthRejection> {
    let Staff(principal, ctx) = Staff::from_request_parts(parts, state).await?;
    let patient_id = patient_id_of(parts, &ctx).await?;
    let access = state
        .app
        .authorize_patient(&principal, patient_id, purpose, &ctx.ip)
        .await
        .map_err(|e| AuthRejection::Other(ApiOrPage(ctx.is_api, e)))?;
    Ok((access, ctx))
}

impl FromRequestParts<AppState> for PatientRead {
    type Rejection = AuthRejection;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let (access, ctx) = authorize(parts, state, Purpose::Read).await?;
        Ok(PatientRead(access, ctx))
    }
}

impl FromRequestParts<AppState> for PatientChange {
    type Rejection = AuthRejection;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let (access, ctx) = authorize(parts, state, Purpose::Change).await?;
        Ok(PatientChange(access, ctx))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_field_decoding() {
        assert_eq!(
            form_urlencoded_field(b"a=1&csrf_token=ab%20c+d", "csrf_token").as_deref(),
            Some("ab c d")
        );
        assert_eq!(form_urlencoded_field(b"a=1", "csrf_token"), None);
    }
}
