//! FHIR R4 at `/fhir/r4` (IO-2, HF-6): the CapabilityStatement, Observation create and search,
//! Patient read, Flag search for open alerts and DocumentReference search for the summary notes of
//! documented alerts. `application/fhir+json` in and out; every
//! refusal is an OperationOutcome with a 4xx.
//!
//! Who may call: a staff session on the patient's care team (reads and writes go through
//! `App::authorize_patient` and are audit-logged; a POST carries `X-CSRF-Token`), or — for
//! `POST /Observation` only — a device with `Authorization: Bearer <token>`, a token made on
//! the patient's follow-up page and bound to that patient.

use crate::AppState;
use crate::error::status_and_code;
use crate::session::RequestCtx;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use helsebro_app::followup::{FhirCaller, FhirCreateError};
use helsebro_app::types::SessionStage;
use helsebro_app::{AppError, PatientAccess, Purpose, StaffPrincipal};
use helsebro_followup::fhir::{OperationOutcome, Resource, build};
use jiff::Timestamp;
use serde::Serialize;
use std::collections::HashMap;
use uuid::Uuid;

pub const FHIR_JSON: &str = "application/fhir+json";

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/fhir/r4/metadata", get(metadata))
        .route(
            "/fhir/r4/Observation",
            get(search_observations).post(create_observation),
        )
        .route("/fhir/r4/Patient/{id}", get(read_patient))
        .route("/fhir/r4/Flag", get(search_flags))
        .route(
            "/fhir/r4/DocumentReference",
            get(search_document_references),
        )
}

pub(crate) fn fhir_json<T: Serialize>(status: StatusCode, body: &T) -> Response {
    match serde_json::to_vec(body) {
        Ok(bytes) => (
            status,
            [(header::CONTENT_TYPE, HeaderValue::from_static(FHIR_JSON))],
            bytes,
        )
            .into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

/// A search's answer: a `searchset` Bundle of the matches, or the error as an OperationOutcome.
/// `search` is what follows `/fhir/r4/`, as the client asked (`Flag?patient=…`).
pub(crate) fn searchset_response(
    state: &AppState,
    search: &str,
    result: Result<Vec<Resource>, AppError>,
) -> Response {
    match result {
        Ok(matches) => {
            let base = base_url(state);
            let self_url = format!("{base}/{search}");
            fhir_json(StatusCode::OK, &build::searchset(&base, &self_url, matches))
        }
        Err(e) => outcome(&e),
    }
}

/// A search by `?patient=` (care-team access checked and audit-logged by `access`): runs
/// `search` for the patient and answers a searchset of its results, each wrapped by `wrap`,
/// or an OperationOutcome.
pub(crate) async fn search_by_patient<T>(
    state: &AppState,
    ctx: &RequestCtx,
    params: &HashMap<String, String>,
    resource_type: &str,
    search: impl AsyncFnOnce(&PatientAccess) -> Result<Vec<T>, AppError>,
    wrap: impl Fn(T) -> Resource,
) -> Response {
    let result = match access(state, ctx, params.get("patient")).await {
        Ok(access) => search(&access).await,
        Err(e) => Err(e),
    };
    searchset_response(
        state,
        &format!("{resource_type}{}", patient_query(params)),
        result.map(|found| found.into_iter().map(wrap).collect()),
    )
}

/// A read's answer: the resource, or the error as an OperationOutcome.
pub(crate) fn resource_response<T: Serialize>(result: Result<T, AppError>) -> Response {
    match result {
        Ok(r) => fhir_json(StatusCode::OK, &r),
        Err(e) => outcome(&e),
    }
}

/// `?patient=<id>` as the client gave it (encoded), for a searchset's self link; empty without.
fn patient_query(params: &HashMap<String, String>) -> String {
    params
        .get("patient")
        .map(|p| {
            format!(
                "?patient={}",
                form_urlencoded::byte_serialize(p.as_bytes()).collect::<String>()
            )
        })
        .unwrap_or_default()
}

/// An OperationOutcome for an app error.
pub(crate) fn outcome(e: &AppError) -> Response {
    let (status, _) = status_and_code(e);
    let code = match status {
        StatusCode::UNAUTHORIZED => "login",
        StatusCode::FORBIDDEN => "forbidden",
        StatusCode::NOT_FOUND => "not-found",
        StatusCode::TOO_MANY_REQUESTS => "throttled",
        StatusCode::CONFLICT => "conflict",
        s if s.is_server_error() => "exception",
        _ => "invalid",
    };
    let text = match e {
        AppError::Internal(d) => {
            tracing::error!(detail = %d, "internal error");
            "something went wrong on our side; try again, or call support".to_owned()
        }
        AppError::Invalid(fields) => fields
            .iter()
            .map(|f| format!("{}: {}", f.field, f.message))
            .collect::<Vec<_>>()
            .join("; "),
        other => other.to_string(),
    };
    let mut res = fhir_json(status, &OperationOutcome::error(code, &text, None));
    if status == StatusCode::UNAUTHORIZED {
        res.headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    }
    res
}

pub(crate) fn staff_of(ctx: &RequestCtx) -> Result<&StaffPrincipal, AppError> {
    match &ctx.session {
        Some(s) if s.stage == SessionStage::Full => Ok(&s.principal),
        _ => Err(AppError::Unauthenticated),
    }
}

pub(crate) fn base_url(state: &AppState) -> String {
    format!("{}/fhir/r4", state.app.config().base_url())
}

async fn metadata(State(state): State<AppState>) -> Response {
    fhir_json(
        StatusCode::OK,
        &build::capability_statement(
            &base_url(&state),
            env!("CARGO_PKG_VERSION"),
            state.app.now(),
        ),
    )
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
}

async fn create_observation(
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
    let caller = match bearer(&headers) {
        Some(token) => FhirCaller::Device(token),
        None => match staff_of(&ctx) {
            Ok(p) => FhirCaller::Staff(p),
            Err(e) => return outcome(&e),
        },
    };
    match state
        .app
        .fhir_create_observation(caller, &body, &ctx.ip)
        .await
    {
        Ok((resource, created)) => {
            let mut res = fhir_json(
                if created {
                    StatusCode::CREATED
                } else {
                    StatusCode::OK
                },
                &resource,
            );
            if let Some(id) = &resource.id
                && let Ok(v) =
                    HeaderValue::from_str(&format!("{}/Observation/{id}", base_url(&state)))
            {
                res.headers_mut().insert(header::LOCATION, v);
            }
            res
        }
        Err(FhirCreateError::Input(e)) => fhir_json(
            StatusCode::from_u16(e.http_status()).unwrap_or(StatusCode::UNPROCESSABLE_ENTITY),
            &e.to_operation_outcome(),
        ),
        Err(FhirCreateError::App(e)) => outcome(&e),
    }
}

/// `Patient/<id>` or `<id>` as a patient id.
fn patient_param(v: &str) -> Option<Uuid> {
    Uuid::parse_str(v.strip_prefix("Patient/").unwrap_or(v)).ok()
}

pub(crate) async fn access(
    state: &AppState,
    ctx: &RequestCtx,
    patient: Option<&String>,
) -> Result<PatientAccess, AppError> {
    let principal = staff_of(ctx)?;
    let id = patient
        .and_then(|p| patient_param(p))
        .ok_or(AppError::invalid("patient", "give patient=<id>"))?;
    state
        .app
        .authorize_patient(principal, id, Purpose::Read, &ctx.ip)
        .await
}

/// FHIR `date` search values: `ge2026-01-01`, `lt2026-02-01T00:00:00Z`, `2026-01-15` (that day).
fn date_bounds(values: &[String]) -> Result<(Option<Timestamp>, Option<Timestamp>), AppError> {
    let mut from = None;
    let mut to = None;
    for v in values {
        let (prefix, rest) = if v.len() > 2 && v.as_bytes()[..2].iter().all(u8::is_ascii_alphabetic)
        {
            v.split_at(2)
        } else {
            ("eq", v.as_str())
        };
        let bad = || AppError::invalid("date", "use e.g. ge2026-01-01 or lt2026-02-01T00:00:00Z");
        let (start, end) = if rest.len() == 10 {
            let d: jiff::civil::Date = rest.parse().map_err(|_| bad())?;
            let s = helsebro_followup::time::at_local(d, jiff::civil::Time::midnight());
            let e = helsebro_followup::time::at_local(
                d.tomorrow().map_err(|_| bad())?,
                jiff::civil::Time::midnight(),
            );
            (s, e)
        } else {
            let t: Timestamp = rest.parse().map_err(|_| bad())?;
            (t, t)
        };
        match prefix {
            "ge" | "gt" | "sa" => from = Some(start),
            "le" | "lt" | "eb" => to = Some(end),
            "eq" => {
                from = Some(start);
                to = Some(end);
            }
            _ => return Err(bad()),
        }
    }
    Ok((from, to))
}

fn query_multi(raw: Option<&str>) -> HashMap<String, Vec<String>> {
    let mut m: HashMap<String, Vec<String>> = HashMap::new();
    for (k, v) in form_urlencoded::parse(raw.unwrap_or("").as_bytes()) {
        m.entry(k.into_owned()).or_default().push(v.into_owned());
    }
    m
}

async fn search_observations(
    State(state): State<AppState>,
    ctx: RequestCtx,
    uri: axum::http::Uri,
) -> Response {
    let q = query_multi(uri.query());
    let result = async {
        let access = access(&state, &ctx, q.get("patient").and_then(|v| v.first())).await?;
        let (from, to) = date_bounds(q.get("date").map(Vec::as_slice).unwrap_or(&[]))?;
        let code = q.get("code").and_then(|v| v.first()).map(String::as_str);
        state
            .app
            .fhir_search_observations(&access, code, from, to)
            .await
    }
    .await;
    searchset_response(
        &state,
        &format!("Observation?{}", uri.query().unwrap_or("")),
        result.map(|list| {
            list.into_iter()
                .map(|o| Resource::Observation(Box::new(o)))
                .collect()
        }),
    )
}

async fn read_patient(
    State(state): State<AppState>,
    ctx: RequestCtx,
    Path(id): Path<String>,
) -> Response {
    let result = async {
        let access = access(&state, &ctx, Some(&id)).await?;
        state.app.fhir_patient(&access).await
    }
    .await;
    resource_response(result)
}

async fn search_flags(
    State(state): State<AppState>,
    ctx: RequestCtx,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    search_by_patient(
        &state,
        &ctx,
        &q,
        "Flag",
        async |access| state.app.fhir_flags(access).await,
        |r| Resource::Flag(Box::new(r)),
    )
    .await
}

/// `GET /fhir/r4/DocumentReference?patient=`: the summary note of each documented alert
/// (HF-10), for the patient record.
async fn search_document_references(
    State(state): State<AppState>,
    ctx: RequestCtx,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    search_by_patient(
        &state,
        &ctx,
        &q,
        "DocumentReference",
        async |access| state.app.fhir_document_references(access).await,
        |r| Resource::DocumentReference(Box::new(r)),
    )
    .await
}
