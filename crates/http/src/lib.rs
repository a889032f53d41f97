//! Helsebro's web layer.
//!
//! - `pages`: server-rendered HTML (askama templates in `templates/`), for staff.
//! - `api`: the JSON API under `/api/v1`, described by the OpenAPI document at
//!   `/api/openapi.json`, which is generated from the same route table.
//! - `session`: one middleware that resolves the login session, the language and the CSRF
//!   check for every request, and the extractors handlers use to prove who is calling.
//! - `security`: headers on every response (CSP without any external origin, HSTS, …).
//! - `followup_referral_pages`: referrals and inclusion, the baseline of service use and the
//!   end of home follow-up (HF-1, HF-2, HF-11).
//! - `followup_note_pages`: summary notes for the patient record per alert and per period (HF-10).
//! - `fhir`: FHIR R4 at `/fhir/r4` for home follow-up (Observation, Patient, Flag,
//!   DocumentReference, metadata);
//!   `fhir_care`: Questionnaire, QuestionnaireResponse and CarePlan.
//! - `metrics`: Prometheus text at `/metrics`; `/healthz` and `/readyz` for orchestrators.

mod api;
mod error;
mod fhir;
mod fhir_care;
mod followup_note_pages;
mod followup_pages;
mod followup_plan_pages;
mod followup_referral_pages;
mod metrics;
mod pages;
mod security;
mod session;
mod statics;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::get;
use helsebro_app::App;
use std::sync::Arc;

pub use api::openapi_document;

/// Shared state of every handler.
#[derive(Clone)]
pub struct AppState {
    pub app: App,
    metrics: Arc<metrics::Metrics>,
}

/// Builds the whole HTTP application.
pub fn router(app: App) -> Router {
    let max_body = app.config().max_body_bytes;
    let state = AppState {
        app,
        metrics: Arc::new(metrics::Metrics::new()),
    };
    let (api_router, _) = api::router().split_for_parts();
    Router::new()
        .merge(pages::router())
        .merge(api_router)
        .merge(fhir::router())
        .merge(followup_pages::router())
        .merge(followup_note_pages::router())
        .merge(followup_referral_pages::router())
        .merge(followup_plan_pages::router())
        .merge(fhir_care::router())
        .route("/api/openapi.json", get(api::openapi_json))
        .route("/healthz", get(metrics::healthz))
        .route("/readyz", get(metrics::readyz))
        .route("/metrics", get(metrics::prometheus))
        .route("/static/{file}", get(statics::serve))
        .fallback(error::not_found)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            session::resolve,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            error::render_error_pages,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            security::headers,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            metrics::track,
        ))
        .layer(DefaultBodyLimit::max(max_body))
        .layer(tower_http::limit::RequestBodyLimitLayer::new(max_body))
        .with_state(state)
}
