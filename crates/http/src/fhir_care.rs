//! FHIR R4 for questionnaires and self-care plans (IO-2, HF-3, HF-4): `Questionnaire` (our own
//! questionnaires, read and search, in the caller's language), `QuestionnaireResponse` (create
//! by a staff session on the care team, read, search by patient) and `CarePlan` (the newest
//! approved self-care plan by patient, or one version by id). Every refusal is an
//! OperationOutcome with a 4xx, and a refused create stores nothing.

use crate::AppState;
use crate::fhir::{
    FHIR_JSON, base_url, fhir_json, outcome, resource_response, search_by_patient,
    searchset_response, staff_of,
};
use crate::session::RequestCtx;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use axum::routing::get;
use helsebro_app::AppError;
use helsebro_app::followup::lang_of;
use helsebro_app::followup::rules::fhir::{OperationOutcome, Resource, build};
use helsebro_app::followup::rules::questionnaire as q;
use std::collections::HashMap;
use uuid::Uuid;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/fhir/r4/Questionnaire", get(search_questionnaires))
        .route("/fhir/r4/Questionnaire/{id}", get(read_questionnaire))
        .route(
            "/fhir/r4/QuestionnaireResponse",
            get(search_responses).post(create_response),
        )
        .route("/fhir/r4/QuestionnaireResponse/{id}", get(read_response))
        .route("/fhir/r4/CarePlan", get(search_care_plans))
        .route("/fhir/r4/CarePlan/{id}", get(read_care_plan))
}

/// Our questionnaires carry no personal data; anyone may read them.
async fn search_questionnaires(
    State(state): State<AppState>,
    ctx: RequestCtx,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    let lang = lang_of(ctx.lang);
    let url = params.get("url").map(|u| u.split('|').next().unwrap_or(u));
    let matches = q::ALL
        .into_iter()
        .filter(|quest| url.is_none_or(|u| build::questionnaire_url(quest) == u))
        .map(|quest| Resource::Questionnaire(Box::new(build::questionnaire(quest, lang))))
        .collect();
    let query = params
        .get("url")
        .map(|u| {
            format!(
                "?url={}",
                form_urlencoded::byte_serialize(u.as_bytes()).collect::<String>()
            )
        })
        .unwrap_or_default();
    searchset_response(&state, &format!("Questionnaire{query}"), Ok(matches))
}

async fn read_questionnaire(ctx: RequestCtx, Path(id): Path<String>) -> Response {
    match q::by_id(&id) {
        Some(quest) => fhir_json(
            StatusCode::OK,
            &build::questionnaire(quest, lang_of(ctx.lang)),
        ),
        None => outcome(&AppError::NotFound("the questionnaire")),
    }
}

async fn create_response(
    State(state): State<AppState>,
    ctx: RequestCtx,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !(ct.starts_with(FHIR_JSON) || ct.starts_with("application/json")) {
        return fhir_json(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            &OperationOutcome::error("not-supported", "send application/fhir+json", None),
        );
    }
    let principal = match staff_of(&ctx) {
        Ok(p) => p,
        Err(e) => return outcome(&e),
    };
    match state
        .app
        .fhir_create_questionnaire_response(principal, &body, &ctx.ip)
        .await
    {
        Ok(resource) => {
            let mut res = fhir_json(StatusCode::CREATED, &resource);
            if let Some(id) = &resource.id
                && let Ok(v) = HeaderValue::from_str(&format!(
                    "{}/QuestionnaireResponse/{id}",
                    base_url(&state)
                ))
            {
                res.headers_mut().insert(header::LOCATION, v);
            }
            res
        }
        Err(e) => outcome(&e),
    }
}

async fn search_responses(
    State(state): State<AppState>,
    ctx: RequestCtx,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    search_by_patient(
        &state,
        &ctx,
        &params,
        "QuestionnaireResponse",
        async |access| state.app.fhir_questionnaire_responses(access).await,
        |r| Resource::QuestionnaireResponse(Box::new(r)),
    )
    .await
}

async fn read_response(
    State(state): State<AppState>,
    ctx: RequestCtx,
    Path(id): Path<String>,
) -> Response {
    let result = async {
        let principal = staff_of(&ctx)?;
        let id =
            Uuid::parse_str(&id).map_err(|_| AppError::NotFound("the questionnaire response"))?;
        state
            .app
            .fhir_questionnaire_response(principal, id, &ctx.ip)
            .await
    }
    .await;
    resource_response(result)
}

async fn search_care_plans(
    State(state): State<AppState>,
    ctx: RequestCtx,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    search_by_patient(
        &state,
        &ctx,
        &params,
        "CarePlan",
        async |access| state.app.fhir_care_plans(access).await,
        |r| Resource::CarePlan(Box::new(r)),
    )
    .await
}

async fn read_care_plan(
    State(state): State<AppState>,
    ctx: RequestCtx,
    Path(id): Path<String>,
) -> Response {
    let result = async {
        let principal = staff_of(&ctx)?;
        let id = Uuid::parse_str(&id).map_err(|_| AppError::NotFound("the care plan"))?;
        state.app.fhir_care_plan(principal, id, &ctx.ip).await
    }
    .await;
    resource_response(result)
}
