//! Turning errors into answers a person can act on: JSON for the API, a full page (with the
//! support contact) for browsers. Never a 500 for bad input.

use crate::AppState;
use crate::pages::render_error_page;
use crate::session::{ApiOrPage, RequestCtx};
use axum::Json;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use helsebro_app::{AppError, FieldError};
use serde::Serialize;

/// The JSON body of every API error.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// A stable code: `unauthenticated`, `forbidden`, `not_found`, `invalid`, `conflict`,
    /// `rate_limited`, `bad_request`, `internal`.
    pub error: &'static str,
    /// What went wrong, in words a person can act on.
    pub message: String,
    /// Field-by-field problems, for `invalid`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<FieldError>,
}

pub(crate) fn status_and_code(e: &AppError) -> (StatusCode, &'static str) {
    match e {
        AppError::Unauthenticated | AppError::BadCredentials(_) => {
            (StatusCode::UNAUTHORIZED, "unauthenticated")
        }
        AppError::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
        AppError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
        AppError::Invalid(_) => (StatusCode::UNPROCESSABLE_ENTITY, "invalid"),
        AppError::Malformed(_) => (StatusCode::BAD_REQUEST, "bad_request"),
        AppError::Conflict(_) => (StatusCode::CONFLICT, "conflict"),
        AppError::RateLimited(_) => (StatusCode::TOO_MANY_REQUESTS, "rate_limited"),
        AppError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
    }
}

fn retry_after(e: &AppError, res: &mut Response) {
    if let AppError::RateLimited(wait) = e {
        let secs = wait.as_secs().max(1) + u64::from(wait.subsec_nanos() > 0);
        if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
            res.headers_mut().insert(header::RETRY_AFTER, v);
        }
    }
}

fn log_internal(e: &AppError) {
    if let AppError::Internal(detail) = e {
        tracing::error!(%detail, "internal error");
    }
}

/// An API error, answered as [`ErrorBody`].
#[derive(Debug)]
pub struct ApiError(pub AppError);

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        ApiError(e)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        log_internal(&self.0);
        let (status, code) = status_and_code(&self.0);
        let fields = match &self.0 {
            AppError::Invalid(f) => f.clone(),
            _ => Vec::new(),
        };
        let message = match &self.0 {
            AppError::Internal(_) => {
                "something went wrong on our side; try again, or call support".to_owned()
            }
            other => other.to_string(),
        };
        let mut res = (
            status,
            Json(ErrorBody {
                error: code,
                message,
                fields,
            }),
        )
            .into_response();
        retry_after(&self.0, &mut res);
        res
    }
}

/// A page error. The response carries the error; [`render_error_pages`] turns it into a full
/// page in the user's language, with the support contact.
#[derive(Debug)]
pub struct PageError(pub AppError);

impl From<AppError> for PageError {
    fn from(e: AppError) -> Self {
        PageError(e)
    }
}

/// Marker put on responses that still need their error page rendered.
#[derive(Clone, Debug)]
pub(crate) struct PendingErrorPage {
    pub fields: Vec<FieldError>,
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        log_internal(&self.0);
        let (status, _) = status_and_code(&self.0);
        let fields = match &self.0 {
            AppError::Invalid(f) => f.clone(),
            _ => Vec::new(),
        };
        let mut res = status.into_response();
        retry_after(&self.0, &mut res);
        res.extensions_mut().insert(PendingErrorPage { fields });
        res
    }
}

/// Renders the page for any response marked with [`PendingErrorPage`].
pub async fn render_error_pages(
    State(state): State<AppState>,
    req: Request,
    next: Next,
) -> Response {
    let mut res = next.run(req).await;
    let Some(pending) = res.extensions_mut().remove::<PendingErrorPage>() else {
        return res;
    };
    let Some(ctx) = res.extensions().get::<RequestCtx>().cloned() else {
        return res;
    };
    let status = res.status();
    let page = render_error_page(&state, &ctx, status, &pending).await;
    let mut out = page.into_response();
    *out.status_mut() = status;
    for (name, value) in res.headers() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            out.headers_mut().insert(name.clone(), value.clone());
        }
    }
    out
}

/// Unknown paths: 404 as JSON under `/api/`, as a page elsewhere.
pub async fn not_found(ctx: RequestCtx) -> Response {
    ApiOrPage(ctx.is_api, AppError::NotFound("the page or resource")).into_response()
}
