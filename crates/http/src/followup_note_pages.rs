//! Summary notes for the patient's record (HF-10), for the care team:
//!
//! - `GET /followup/patients/{id}/notes?from=&to=` — the period note on a page, with the text
//!   ready to copy and links to download it as text or as a FHIR DocumentReference
//!   (`&format=text` or `&format=fhir`); the last 30 days unless a period is given.
//! - `GET /followup/patients/{id}/alerts/{alert}/note` — one alert's note, as text, or as FHIR
//!   with `?format=fhir`.
//!
//! Access goes through `PatientRead` (care team or emergency access, audit-logged), and each
//! note made is logged as well.

use crate::AppState;
use crate::error::PageError;
use crate::fhir::FHIR_JSON;
use crate::pages::{Layout, render, tkey};
use crate::session::PatientRead;
use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use helsebro_app::AppError;
use helsebro_app::followup::lang_of;
use helsebro_app::followup::rules::Lang;
use helsebro_app::followup::rules::time::local_date;
use helsebro_app::followup_notes::SummaryNote;
use helsebro_domain::Language;
use jiff::civil::Date;
use serde::Deserialize;
use uuid::Uuid;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/followup/patients/{patient_id}/notes", get(period_note))
        .route(
            "/followup/patients/{patient_id}/alerts/{alert_id}/note",
            get(alert_note),
        )
}

#[derive(Deserialize, Default)]
struct NoteQuery {
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    format: String,
}

fn lang_of_layout(l: &Layout) -> Lang {
    lang_of(Language::parse(l.lang).unwrap_or_default())
}

fn date(field: &'static str, value: &str) -> Result<Date, AppError> {
    value
        .trim()
        .parse()
        .map_err(|_| AppError::invalid(field, "write the date as YYYY-MM-DD"))
}

/// How a note is wanted.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Format {
    Page,
    Text,
    Fhir,
}

fn format_of(q: &str, default: Format) -> Result<Format, AppError> {
    match q {
        "" => Ok(default),
        "html" => Ok(Format::Page),
        "text" => Ok(Format::Text),
        "fhir" => Ok(Format::Fhir),
        _ => Err(AppError::invalid("format", "use text or fhir")),
    }
}

/// The note as a download: plain text or FHIR JSON (`None` for the page).
fn download(note: &SummaryNote, format: Format) -> Result<Option<Response>, AppError> {
    let name = note
        .title
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect::<String>();
    let (content_type, body, ext) = match format {
        Format::Text => (
            "text/plain; charset=utf-8",
            note.text.clone().into_bytes(),
            "txt",
        ),
        Format::Fhir => (
            FHIR_JSON,
            serde_json::to_vec_pretty(&note.document)
                .map_err(|e| AppError::Internal(e.to_string()))?,
            "json",
        ),
        Format::Page => return Ok(None),
    };
    let disposition = HeaderValue::from_str(&format!("attachment; filename=\"{name}.{ext}\""))
        .map_err(|e| AppError::Internal(e.to_string()))?;
    Ok(Some(
        (
            [
                (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
                (header::CONTENT_DISPOSITION, disposition),
            ],
            body,
        )
            .into_response(),
    ))
}

#[derive(Template)]
#[template(path = "followup_notes.html")]
struct NotePage {
    l: Layout,
    patient_id: String,
    from: String,
    to: String,
    title: String,
    text: String,
}

async fn period_note(
    State(state): State<AppState>,
    PatientRead(access, ctx): PatientRead,
    Query(q): Query<NoteQuery>,
) -> Result<Response, PageError> {
    let format = format_of(&q.format, Format::Page)?;
    let today = local_date(state.app.now());
    let to = if q.to.trim().is_empty() {
        today
    } else {
        date("to", &q.to)?
    };
    let from = if q.from.trim().is_empty() {
        to.checked_sub(jiff::Span::new().days(29)).unwrap_or(to)
    } else {
        date("from", &q.from)?
    };
    let l = Layout::new(&state, &ctx, tkey("fu-notes-title")).await;
    let note = state
        .app
        .followup_period_note(&access, from, to, lang_of_layout(&l))
        .await?;
    if let Some(response) = download(&note, format)? {
        return Ok(response);
    }
    render(&NotePage {
        l,
        patient_id: access.patient_id().to_string(),
        from: from.to_string(),
        to: to.to_string(),
        title: note.title,
        text: note.text,
    })
}

async fn alert_note(
    State(state): State<AppState>,
    PatientRead(access, ctx): PatientRead,
    Path((_, alert_id)): Path<(Uuid, Uuid)>,
    Query(q): Query<NoteQuery>,
) -> Result<Response, PageError> {
    let format = match format_of(&q.format, Format::Text)? {
        Format::Page => return Err(AppError::invalid("format", "use text or fhir").into()),
        f => f,
    };
    let l = Layout::new(&state, &ctx, tkey("fu-notes-title")).await;
    let note = state
        .app
        .followup_alert_note(&access, alert_id, lang_of_layout(&l))
        .await?;
    match download(&note, format)? {
        Some(response) => Ok(response),
        None => Err(AppError::Internal("a download was asked for".into()).into()),
    }
}
