//! Self-care plans and questionnaires in the pages (HF-3, HF-4, HF-5).
//!
//! Staff: `/followup/patients/<id>/plan` shows every version of the patient's self-care plan,
//! a form that saves a new version (a draft), the button a GP or clinician on the care team uses
//! to approve the newest version, and the patient's questionnaire responses. The patient's
//! follow-up page shows a summary of both.
//!
//! Patient app: `/mine/questionnaires/<id>` is one questionnaire, a fieldset of big radio
//! buttons per question; `/mine` shows the newest approved plan beside the latest values, the
//! step of the current colour marked in words ("applies now"), not by colour alone.

use crate::AppState;
use crate::error::PageError;
use crate::followup_pages::PATIENT_COOKIE;
use crate::pages::{Layout, render, tkey};
use crate::session::{PatientChange, PatientRead, RequestCtx};
use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum_extra::extract::CookieJar;
use helsebro_app::followup::rules::questionnaire::{self as q, Questionnaire};
use helsebro_app::followup::rules::{Colour, Condition, Lang};
use helsebro_app::followup::{colour_code, lang_of};
use helsebro_app::followup_plans::{
    COLOURS, PlanEntry, PlanVersion, ResponseRecord, answers_of, colour_from_code, condition_code,
};
use helsebro_app::patient_app::PatientSelf;
use helsebro_app::{AppError, FieldError, PatientAccess};
use helsebro_domain::Role;
use jiff::Timestamp;
use uuid::Uuid;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/followup/patients/{patient_id}/plan",
            get(plan_page).post(save_plan),
        )
        .route(
            "/followup/patients/{patient_id}/plan/{plan_id}/approve",
            post(approve_plan),
        )
        .route(
            "/mine/questionnaires/{id}",
            get(questionnaire_page).post(answer),
        )
}

fn oslo(t: Timestamp) -> String {
    t.to_zoned(helsebro_app::followup::rules::time::oslo().clone())
        .strftime("%d.%m.%Y %H:%M")
        .to_string()
}

fn colour_key(c: Colour) -> &'static str {
    match c {
        Colour::Green => tkey("plan-at-green"),
        Colour::Yellow => tkey("plan-at-yellow"),
        Colour::Red => tkey("plan-at-red"),
    }
}

fn colour_name(code: &str, l: &Layout) -> String {
    match code {
        "red" => l.i.t("fu-colour-red"),
        "yellow" => l.i.t("fu-colour-yellow"),
        _ => l.i.t("fu-colour-green"),
    }
}

fn condition_key(c: Condition) -> &'static str {
    match c {
        Condition::Copd => tkey("fu-condition-copd"),
        Condition::HeartFailure => tkey("fu-condition-heart-failure"),
        Condition::Diabetes => tkey("fu-condition-diabetes"),
        Condition::Hypertension => tkey("fu-condition-hypertension"),
        Condition::MentalHealth => tkey("fu-condition-mental-health"),
    }
}

fn lang_of_layout(l: &Layout) -> Lang {
    lang_of(helsebro_domain::Language::parse(l.lang).unwrap_or_default())
}

// ---- the staff side ------------------------------------------------------------------------

/// One step of a plan as shown.
pub struct StepView {
    pub colour: &'static str,
    pub colour_label: String,
    pub what_to_do: String,
    pub medication: String,
    pub contact: String,
    /// The step of the colour the patient's latest values have.
    pub current: bool,
}

/// A plan's steps for one condition.
pub struct ConditionView {
    pub name: String,
    pub steps: Vec<StepView>,
}

/// One version of a plan as shown.
pub struct VersionView {
    pub id: String,
    pub version: u32,
    pub made: String,
    pub approved: Option<String>,
    pub conditions: Vec<ConditionView>,
    /// The colour of the patient's latest values, in words (patient app only).
    pub current: Option<String>,
}

fn version_view(p: &PlanVersion, current: Option<Colour>, l: &Layout) -> VersionView {
    VersionView {
        id: p.id.to_string(),
        version: p.version,
        made: format!("{} {}", p.created_by_label, oslo(p.created_at)),
        approved: p
            .approval
            .as_ref()
            .map(|a| format!("{} {}", a.by, oslo(a.at))),
        conditions: p
            .conditions
            .iter()
            .map(|c| ConditionView {
                name: l.i.t(condition_key(*c)),
                steps: COLOURS
                    .iter()
                    .filter_map(|colour| {
                        let e = p.entry(*c, *colour)?;
                        Some(StepView {
                            colour: colour_code(*colour),
                            colour_label: l.i.t(colour_key(*colour)),
                            what_to_do: e.what_to_do.clone(),
                            medication: e.medication.clone(),
                            contact: e.contact.clone(),
                            current: current == Some(*colour),
                        })
                    })
                    .collect(),
            })
            .collect(),
        current: current.map(|c| colour_name(colour_code(c), l)),
    }
}

/// A field of the plan form.
pub struct FormField {
    pub name: String,
    pub label: String,
    pub value: String,
    pub required: bool,
}

/// The plan form's fields for one condition and colour.
pub struct FormStep {
    pub legend: String,
    pub fields: Vec<FormField>,
}

/// One questionnaire response as a table row.
pub struct ResponseRow {
    pub at: String,
    pub title: String,
    pub score: String,
    pub colour: String,
    pub colour_code: String,
    pub answers: String,
    pub explanation: String,
}

fn response_rows(responses: &[ResponseRecord], l: &Layout) -> Vec<ResponseRow> {
    let lang = lang_of_layout(l);
    responses
        .iter()
        .map(|r| {
            let quest = q::by_id(&r.questionnaire);
            let answers = answers_of(r)
                .iter()
                .map(|(link, code)| {
                    let item = quest.and_then(|qq| qq.item(link));
                    let option = item.and_then(|i| i.options.iter().find(|o| o.code == code));
                    format!(
                        "{}: {}",
                        item.map_or(link.as_str(), |i| i.text.get(lang)),
                        option.map_or(code.as_str(), |o| o.text.get(lang))
                    )
                })
                .collect::<Vec<_>>()
                .join(" · ");
            ResponseRow {
                at: oslo(r.authored_at),
                title: quest.map_or(r.questionnaire.clone(), |qq| qq.title.get(lang).to_owned()),
                score: format!("{} / {}", r.score, quest.map_or(0, |qq| qq.max_score())),
                colour: colour_name(&r.colour, l),
                colour_code: r.colour.clone(),
                answers,
                explanation: r.explanation.clone(),
            }
        })
        .collect()
}

#[derive(Template)]
#[template(path = "followup_plan.html")]
struct PlanPage {
    l: Layout,
    patient_id: String,
    patient_name: String,
    enrolled: bool,
    can_approve: bool,
    /// The newest version, if it is a draft (the one to approve).
    draft: Option<VersionView>,
    /// The newest approved version (what the patient sees).
    approved: Option<VersionView>,
    older: Vec<VersionView>,
    form: Vec<FormStep>,
    errors: Vec<FieldError>,
    responses: Vec<ResponseRow>,
}

async fn show_plan(
    state: &AppState,
    access: &PatientAccess,
    ctx: &RequestCtx,
    tried: Option<(Vec<PlanEntry>, Vec<FieldError>)>,
) -> Result<Response, PageError> {
    let record = state.app.patient_record(access).await?;
    let fu = state.app.followup_record(access, 1).await?;
    let versions = state.app.followup_plans(access).await?;
    let responses = state.app.followup_responses(access, 90).await?;
    let l = Layout::new(state, ctx, tkey("plan-title")).await;
    let enrolled = fu.enrolment.as_ref().is_some_and(|e| e.status != "ended");
    let newest = versions.first();
    let draft = newest
        .filter(|v| v.approval.is_none())
        .map(|v| version_view(v, None, &l));
    let approved_version = versions.iter().find(|v| v.approval.is_some());
    let approved = approved_version.map(|v| version_view(v, None, &l));
    let older = versions
        .iter()
        .filter(|v| {
            Some(v.id) != newest.map(|n| n.id) && Some(v.id) != approved_version.map(|a| a.id)
        })
        .map(|v| version_view(v, None, &l))
        .collect();
    let (tried_entries, errors) = tried.unwrap_or_default();
    let prefill = |c: Condition, colour: Colour| -> Option<PlanEntry> {
        tried_entries
            .iter()
            .find(|e| e.condition == c && e.colour == colour)
            .cloned()
            .or_else(|| newest.and_then(|v| v.entry(c, colour)).cloned())
    };
    let mut form = Vec::new();
    for c in &fu.conditions {
        for colour in COLOURS {
            let e = prefill(*c, colour);
            let base = format!("{}.{}", condition_code(*c), colour_code(colour));
            form.push(FormStep {
                legend: format!(
                    "{} – {}",
                    l.i.t(condition_key(*c)),
                    l.i.t(colour_key(colour))
                ),
                fields: vec![
                    FormField {
                        name: format!("{base}.what"),
                        label: l.i.t("plan-what"),
                        value: e.as_ref().map(|e| e.what_to_do.clone()).unwrap_or_default(),
                        required: true,
                    },
                    FormField {
                        name: format!("{base}.medication"),
                        label: l.i.t("plan-medication"),
                        value: e.as_ref().map(|e| e.medication.clone()).unwrap_or_default(),
                        required: false,
                    },
                    FormField {
                        name: format!("{base}.contact"),
                        label: l.i.t("plan-contact"),
                        value: e.as_ref().map(|e| e.contact.clone()).unwrap_or_default(),
                        required: true,
                    },
                ],
            });
        }
    }
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let page = render(&PlanPage {
        patient_id: access.patient_id().to_string(),
        patient_name: record.patient.name.clone(),
        enrolled,
        can_approve: access.principal().roles.contains(&Role::Clinician),
        draft,
        approved,
        older,
        form,
        errors,
        responses: response_rows(&responses, &l),
        l,
    })?;
    Ok((status, page).into_response())
}

async fn plan_page(
    State(state): State<AppState>,
    PatientRead(access, ctx): PatientRead,
) -> Result<Response, PageError> {
    show_plan(&state, &access, &ctx, None).await
}

/// Reads the plan form: fields named `<condition>.<colour>.<what|medication|contact>`.
fn plan_entries(body: &[u8]) -> Vec<PlanEntry> {
    let mut entries: Vec<PlanEntry> = Vec::new();
    for (k, v) in form_urlencoded::parse(body) {
        let mut parts = k.split('.');
        let (Some(c), Some(colour), Some(field), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            continue;
        };
        let Some(condition) = Condition::ALL.into_iter().find(|x| condition_code(*x) == c) else {
            continue;
        };
        let Some(colour) = colour_from_code(colour) else {
            continue;
        };
        let i = match entries
            .iter()
            .position(|e| e.condition == condition && e.colour == colour)
        {
            Some(i) => i,
            None => {
                entries.push(PlanEntry {
                    condition,
                    colour,
                    what_to_do: String::new(),
                    medication: String::new(),
                    contact: String::new(),
                });
                entries.len() - 1
            }
        };
        let e = &mut entries[i];
        match field {
            "what" => e.what_to_do = v.into_owned(),
            "medication" => e.medication = v.into_owned(),
            "contact" => e.contact = v.into_owned(),
            _ => {}
        }
    }
    entries
}

async fn save_plan(
    State(state): State<AppState>,
    PatientChange(access, ctx): PatientChange,
    body: axum::body::Bytes,
) -> Result<Response, PageError> {
    let entries = plan_entries(&body);
    match state.app.save_followup_plan(&access, entries.clone()).await {
        Ok(_) => Ok(Redirect::to(&format!(
            "/followup/patients/{}/plan?done=saved",
            access.patient_id()
        ))
        .into_response()),
        Err(AppError::Invalid(errors)) => {
            show_plan(&state, &access, &ctx, Some((entries, errors))).await
        }
        Err(e) => Err(e.into()),
    }
}

async fn approve_plan(
    State(state): State<AppState>,
    PatientChange(access, _): PatientChange,
    Path((_, plan_id)): Path<(Uuid, Uuid)>,
) -> Result<Response, PageError> {
    state.app.approve_followup_plan(&access, plan_id).await?;
    Ok(Redirect::to(&format!(
        "/followup/patients/{}/plan?done=saved",
        access.patient_id()
    ))
    .into_response())
}

/// What the patient's follow-up page shows of the plan and the responses.
pub struct PlanSummary {
    pub status: String,
    pub responses: Vec<ResponseRow>,
}

/// The plan's state in a sentence and the newest responses, for the follow-up page.
pub async fn plan_summary(
    state: &AppState,
    access: &PatientAccess,
    l: &Layout,
) -> Result<PlanSummary, PageError> {
    let versions = state.app.followup_plans(access).await?;
    let status = match (
        versions.first(),
        versions.iter().find(|v| v.approval.is_some()),
    ) {
        (None, _) => l.i.t("plan-none"),
        (Some(newest), Some(ok)) if newest.id == ok.id => {
            format!(
                "{} {} – {}",
                l.i.t("plan-version"),
                ok.version,
                l.i.t("plan-is-approved")
            )
        }
        (Some(newest), _) => format!(
            "{} {} – {}",
            l.i.t("plan-version"),
            newest.version,
            l.i.t("plan-draft")
        ),
    };
    let mut responses = response_rows(&state.app.followup_responses(access, 90).await?, l);
    responses.truncate(10);
    Ok(PlanSummary { status, responses })
}

// ---- the patient app -----------------------------------------------------------------------

async fn me(state: &AppState, jar: &CookieJar) -> Result<Option<PatientSelf>, PageError> {
    match jar.get(PATIENT_COOKIE) {
        Some(c) => Ok(state.app.patient_self(c.value()).await?),
        None => Ok(None),
    }
}

/// The newest approved plan of the logged-in patient, if any.
pub async fn mine_plan(
    state: &AppState,
    me: &PatientSelf,
    l: &Layout,
) -> Result<Option<VersionView>, PageError> {
    Ok(state
        .app
        .patient_plan(me)
        .await?
        .map(|p| version_view(&p.plan, p.current, l)))
}

/// One answer option of a question.
pub struct OptionView {
    pub id: String,
    pub code: &'static str,
    pub text: &'static str,
    pub checked: bool,
}

/// One question.
pub struct ItemView {
    pub link_id: &'static str,
    pub text: &'static str,
    pub options: Vec<OptionView>,
    pub error: Option<String>,
}

#[derive(Template)]
#[template(path = "mine_questionnaire.html")]
struct QuestionnairePage {
    l: Layout,
    id: &'static str,
    title: &'static str,
    intro: &'static str,
    items: Vec<ItemView>,
    has_errors: bool,
}

fn show_questionnaire(
    l: Layout,
    quest: &'static Questionnaire,
    lang: Lang,
    given: &[(String, String)],
    errors: &[FieldError],
) -> Result<Response, PageError> {
    let items = quest
        .items
        .iter()
        .map(|item| ItemView {
            link_id: item.link_id,
            text: item.text.get(lang),
            options: item
                .options
                .iter()
                .map(|o| OptionView {
                    id: format!("{}-{}", item.link_id, o.code),
                    code: o.code,
                    text: o.text.get(lang),
                    checked: given.iter().any(|(k, v)| k == item.link_id && v == o.code),
                })
                .collect(),
            error: errors
                .iter()
                .any(|e| e.field == item.link_id)
                .then(|| l.i.t("mine-answer-missing-one")),
        })
        .collect();
    let page = render(&QuestionnairePage {
        id: quest.id,
        title: quest.title.get(lang),
        intro: quest.intro.get(lang),
        items,
        has_errors: !errors.is_empty(),
        l,
    })?;
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    Ok((status, page).into_response())
}

async fn questionnaire_page(
    State(state): State<AppState>,
    ctx: RequestCtx,
    jar: CookieJar,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    if me(&state, &jar).await?.is_none() {
        return Ok(Redirect::to("/mine/login").into_response());
    }
    let quest = q::by_id(&id).ok_or(AppError::NotFound("the questionnaire"))?;
    let l = Layout::new(&state, &ctx, tkey("mine-title")).await;
    show_questionnaire(l, quest, lang_of(ctx.lang), &[], &[])
}

async fn answer(
    State(state): State<AppState>,
    ctx: RequestCtx,
    jar: CookieJar,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<Response, PageError> {
    let Some(me) = me(&state, &jar).await? else {
        return Ok(Redirect::to("/mine/login").into_response());
    };
    let quest = q::by_id(&id).ok_or(AppError::NotFound("the questionnaire"))?;
    let given: Vec<(String, String)> = form_urlencoded::parse(&body)
        .filter(|(k, _)| k != "csrf_token")
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    match state
        .app
        .patient_answer_questionnaire(&me, quest.id, &given, &ctx.ip)
        .await
    {
        Ok(done) => {
            let result = match done.colour {
                Colour::Red => "red",
                Colour::Yellow => "yellow",
                Colour::Green => "green",
            };
            Ok(Redirect::to(&format!("/mine?answered={result}")).into_response())
        }
        Err(AppError::Invalid(errors)) => {
            let l = Layout::new(&state, &ctx, tkey("mine-title")).await;
            show_questionnaire(l, quest, lang_of(ctx.lang), &given, &errors)
        }
        Err(e) => Err(e.into()),
    }
}

/// The message shown on `/mine` after answering (`?answered=<colour>`), as (class, text).
pub fn answered_message(path: &str, l: &Layout) -> Option<(String, String)> {
    let (_, query) = path.split_once('?')?;
    let colour = query
        .split('&')
        .find_map(|kv| kv.strip_prefix("answered="))?;
    Some(match colour {
        "red" => ("error".to_owned(), l.i.t("mine-answer-red")),
        "yellow" => ("warning".to_owned(), l.i.t("mine-answer-yellow")),
        _ => ("notice".to_owned(), l.i.t("mine-answer-green")),
    })
}

/// A questionnaire task's title and the link to answer it, in the patient's language.
pub fn questionnaire_task(id: &str, lang: Lang) -> (String, Option<String>) {
    match q::by_id(id) {
        Some(quest) => (
            quest.title.get(lang).to_owned(),
            Some(format!("/mine/questionnaires/{}", quest.id)),
        ),
        None => (id.to_owned(), None),
    }
}
