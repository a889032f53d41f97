//! The JSON API under `/api/v1` (IO-1). Routes are registered through utoipa-axum, so the
//! OpenAPI document at `/api/openapi.json` is generated from the same table the router uses
//! and cannot leave a route out.
//!
//! Authentication: `POST /api/v1/auth/login` sets the session cookie and returns the CSRF
//! token; send it as `X-CSRF-Token` on every POST, PUT and DELETE.

mod admin;
mod appointments;
mod auth;
mod patients;

use crate::AppState;
use crate::error::{ApiError, ErrorBody};
use axum::Json;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::response::IntoResponse;
use helsebro_app::AppError;
use serde::de::DeserializeOwned;
use utoipa::OpenApi;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityScheme};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

#[derive(OpenApi)]
#[openapi(
    info(title = "Helsebro API", description = "Video consultations, digital home follow-up and service operations for Norwegian health and care services."),
    components(schemas(ErrorBody)),
    modifiers(&Security),
    tags(
        (name = "auth", description = "Staff login"),
        (name = "patients", description = "Patients and care teams (every read and change is audit-logged)"),
        (name = "appointments", description = "Video appointments, join links, ad-hoc rooms and outcomes (changes are audit-logged)"),
        (name = "admin", description = "Staff, service areas and organisation settings"),
        (name = "audit", description = "The tamper-evident audit log"),
    )
)]
struct ApiDoc;

struct Security;

impl utoipa::Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                "hb_session",
                "Set by POST /api/v1/auth/login. State-changing calls also need the X-CSRF-Token header.",
            ))),
        );
    }
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(auth::login))
        .routes(routes!(auth::totp))
        .routes(routes!(auth::logout))
        .routes(routes!(auth::me))
        .routes(routes!(patients::list, patients::register))
        .routes(routes!(patients::read))
        .routes(routes!(patients::change_contact))
        .routes(routes!(
            patients::set_team_member,
            patients::remove_team_member
        ))
        .routes(routes!(patients::emergency_access))
        .routes(routes!(admin::list_staff, admin::create_staff))
        .routes(routes!(admin::update_staff))
        .routes(routes!(admin::list_units, admin::create_unit))
        .routes(routes!(admin::update_unit))
        .routes(routes!(admin::get_settings, admin::put_settings))
        .routes(routes!(admin::search_audit))
        .routes(routes!(admin::verify_audit))
        .routes(routes!(admin::outbox))
        .routes(routes!(admin::send_test_message))
        .routes(routes!(appointments::list, appointments::book))
        .routes(routes!(
            appointments::read,
            appointments::move_to,
            appointments::cancel
        ))
        .routes(routes!(appointments::invite))
        .routes(routes!(appointments::revoke))
        .routes(routes!(appointments::outcome))
        .routes(routes!(appointments::start_room))
}

/// The OpenAPI document (also used by tests and the `openapi` command).
pub fn openapi_document() -> utoipa::openapi::OpenApi {
    router().into_openapi()
}

pub async fn openapi_json() -> impl IntoResponse {
    Json(openapi_document())
}

/// A JSON body; malformed JSON, wrong types and oversized bodies give a clear 4xx.
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(v)) => Ok(ApiJson(v)),
            Err(rejection) => {
                let text = rejection.body_text();
                Err(ApiError(match rejection.status() {
                    axum::http::StatusCode::UNPROCESSABLE_ENTITY => AppError::invalid("body", text),
                    axum::http::StatusCode::UNSUPPORTED_MEDIA_TYPE => AppError::Malformed(
                        "send the body as JSON with Content-Type: application/json".into(),
                    ),
                    _ => AppError::Malformed(text),
                }))
            }
        }
    }
}

/// A path parameter that must be a UUID; anything else is a 404 with a clear message.
pub struct ApiPath<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(v)| ApiPath(v))
            .map_err(|_| ApiError(AppError::NotFound("the resource named in the path")))
    }
}
