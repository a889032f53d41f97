//! Referral and inclusion (HF-1), service use against the baseline (HF-2) and end of service
//! (HF-11) pages for staff, under `/followup`.
//!
//! A form with bad input is shown again, with what was typed and an error summary at the top
//! that links to each field (status 422); nothing is stored.

use crate::AppState;
use crate::error::PageError;
use crate::pages::{Layout, render, team_role_label, tkey};
use crate::session::{PatientChange, PatientRead, RequestCtx, Staff};
use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use helsebro_app::followup::kind_from_code;
use helsebro_app::followup::rules::Condition;
use helsebro_app::followup::rules::schedule::{Recurrence, Task, TaskSchedule};
use helsebro_app::followup_referrals::{
    DecisionInput, END_REASONS, EndInput, HANDOVER_TO, ReferralInput, SERVICE_FIELDS, SOURCE_KINDS,
    ServiceUseInput, may_decide, may_edit_criteria,
};
use helsebro_app::{AppError, FieldError, PatientAccess};
use jiff::SignedDuration;
use uuid::Uuid;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/followup/referrals", get(awaiting))
        .route("/followup/criteria", get(criteria_page).post(criteria_add))
        .route("/followup/criteria/{criterion_id}", post(criteria_update))
        .route(
            "/followup/patients/{patient_id}/referrals",
            get(patient_referrals).post(referral_create),
        )
        .route(
            "/followup/patients/{patient_id}/referrals/{referral_id}",
            get(referral_page),
        )
        .route(
            "/followup/patients/{patient_id}/referrals/{referral_id}/decide",
            post(referral_decide),
        )
        .route(
            "/followup/patients/{patient_id}/service-use",
            get(service_use_page).post(service_use_record),
        )
        .route(
            "/followup/patients/{patient_id}/end",
            get(end_page).post(end_submit),
        )
}

// ---- shared helpers ----------------------------------------------------------------------

/// The form's fields, in order (repeated names kept).
fn fields(body: &[u8]) -> Vec<(String, String)> {
    form_urlencoded::parse(body)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

fn one(f: &[(String, String)], name: &str) -> String {
    f.iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.clone())
        .unwrap_or_default()
}

fn all(f: &[(String, String)], name: &str) -> Vec<String> {
    f.iter()
        .filter(|(k, _)| k == name)
        .map(|(_, v)| v.clone())
        .collect()
}

/// One line of an error summary: the field's id (for the link), its label, the problem.
pub struct ErrorLine {
    pub id: String,
    pub label: String,
    pub message: String,
}

fn field_label(l: &Layout, field: &str) -> String {
    let key = match field {
        "source_kind" => tkey("referral-source"),
        "referrer_name" => tkey("referral-referrer-name"),
        "referrer_org" => tkey("referral-referrer-org"),
        "reason" => tkey("referral-reason"),
        "conditions" => tkey("referral-conditions"),
        "received_on" => tkey("referral-received-on"),
        "kind" => tkey("baseline-kind"),
        "from" => tkey("baseline-from"),
        "to" => tkey("baseline-to"),
        "admissions" => tkey("baseline-admissions"),
        "bed_days" => tkey("baseline-bed-days"),
        "outpatient_visits" => tkey("baseline-outpatient-visits"),
        "gp_contacts" => tkey("baseline-gp-contacts"),
        "emergency_contacts" => tkey("baseline-emergency-contacts"),
        "home_care_visits" => tkey("baseline-home-care-visits"),
        "patient_trips" => tkey("baseline-patient-trips"),
        "evaluation" => tkey("end-evaluation"),
        "goals_met" => tkey("end-goals-met"),
        "handover_to" => tkey("end-handover-to"),
        "handover_receiver" => tkey("end-handover-receiver"),
        "following_up" => tkey("referral-team-following-up"),
        "team" => tkey("referral-team"),
        "text" => tkey("referral-criterion-text"),
        "unit_id" => tkey("referral-criterion-unit"),
        _ if field.starts_with("criterion-") => tkey("referral-criterion"),
        _ if field.starts_with("returned_") => tkey("end-equipment"),
        _ => return field.to_owned(),
    };
    l.i.t(key)
}

fn error_lines(l: &Layout, errors: &[FieldError]) -> Vec<ErrorLine> {
    errors
        .iter()
        .map(|e| ErrorLine {
            id: e.field.clone(),
            label: field_label(l, &e.field),
            message: e.message.clone(),
        })
        .collect()
}

fn day(t: jiff::Timestamp) -> String {
    t.to_zoned(helsebro_app::followup::rules::time::oslo().clone())
        .strftime("%d.%m.%Y %H:%M")
        .to_string()
}

const CONDITIONS: [(&str, Condition); 5] = [
    ("copd", Condition::Copd),
    ("heart_failure", Condition::HeartFailure),
    ("diabetes", Condition::Diabetes),
    ("hypertension", Condition::Hypertension),
    ("mental_health", Condition::MentalHealth),
];

fn condition_code(c: Condition) -> &'static str {
    CONDITIONS
        .iter()
        .find(|(_, x)| *x == c)
        .map_or("copd", |(code, _)| code)
}

fn condition_name(l: &Layout, code: &str) -> String {
    l.i.t(match code {
        "copd" => tkey("fu-condition-copd"),
        "heart_failure" => tkey("fu-condition-heart-failure"),
        "diabetes" => tkey("fu-condition-diabetes"),
        "hypertension" => tkey("fu-condition-hypertension"),
        _ => tkey("fu-condition-mental-health"),
    })
}

fn conditions_text(l: &Layout, cs: &[Condition]) -> String {
    cs.iter()
        .map(|c| condition_name(l, condition_code(*c)))
        .collect::<Vec<_>>()
        .join(", ")
}

fn source_name(l: &Layout, code: &str) -> String {
    l.i.t(match code {
        "hospital" => tkey("referral-source-hospital"),
        "gp" => tkey("referral-source-gp"),
        _ => tkey("referral-source-municipal"),
    })
}

fn status_name(l: &Layout, code: &str) -> String {
    l.i.t(match code {
        "accepted" => tkey("referral-status-accepted"),
        "declined" => tkey("referral-status-declined"),
        _ => tkey("referral-status-pending"),
    })
}

fn reason_name(l: &Layout, code: &str) -> String {
    l.i.t(match code {
        "recovered_stable" => tkey("end-reason-recovered-stable"),
        "moved" => tkey("end-reason-moved"),
        "deceased" => tkey("end-reason-deceased"),
        "institution" => tkey("end-reason-institution"),
        "patient_wish" => tkey("end-reason-patient-wish"),
        _ => tkey("end-reason-other"),
    })
}

fn handover_name(l: &Layout, code: &str) -> String {
    l.i.t(match code {
        "gp" => tkey("end-handover-gp"),
        "home_care" => tkey("end-handover-home-care"),
        "hospital" => tkey("end-handover-hospital"),
        _ => tkey("end-handover-none"),
    })
}

fn service_field_name(l: &Layout, code: &str) -> String {
    field_label(l, code)
}

async fn patient_name(state: &AppState, access: &PatientAccess) -> Result<String, PageError> {
    Ok(state.app.patient_record(access).await?.patient.name)
}

// ---- referrals awaiting assessment ---------------------------------------------------------

pub struct AwaitingRow {
    pub patient_id: String,
    pub referral_id: String,
    pub patient_name: String,
    pub source: String,
    pub referrer: String,
    pub received: String,
    pub conditions: String,
}

#[derive(Template)]
#[template(path = "referral_awaiting.html")]
struct AwaitingPage {
    l: Layout,
    rows: Vec<AwaitingRow>,
    can_edit_criteria: bool,
}

async fn awaiting(
    State(state): State<AppState>,
    Staff(p, ctx): Staff,
) -> Result<Response, PageError> {
    let list = state.app.referrals_awaiting(&p, &ctx.ip).await?;
    let l = Layout::new(&state, &ctx, tkey("referral-awaiting-title")).await;
    let rows = list
        .iter()
        .map(|r| {
            let cs: Vec<Condition> = serde_json::from_str(&r.conditions).unwrap_or_default();
            AwaitingRow {
                patient_id: r.patient_id.to_string(),
                referral_id: r.id.to_string(),
                patient_name: r.patient_name.clone(),
                source: source_name(&l, &r.source_kind),
                referrer: format!("{}, {}", r.referrer_name, r.referrer_org),
                received: r.received_on.to_string(),
                conditions: conditions_text(&l, &cs),
            }
        })
        .collect();
    render(&AwaitingPage {
        can_edit_criteria: may_edit_criteria(&p),
        l,
        rows,
    })
}

// ---- criteria ------------------------------------------------------------------------------

pub struct CriterionRow {
    pub id: String,
    pub kind: String,
    pub area: String,
    pub text: String,
    pub active: bool,
}

#[derive(Template)]
#[template(path = "referral_criteria.html")]
struct CriteriaPage {
    l: Layout,
    rows: Vec<CriterionRow>,
    units: Vec<(String, String)>,
    errors: Vec<ErrorLine>,
    text: String,
}

async fn show_criteria(
    state: &AppState,
    p: &helsebro_app::StaffPrincipal,
    ctx: &RequestCtx,
    errors: Vec<FieldError>,
    text: String,
) -> Result<Response, PageError> {
    let criteria = state.app.followup_criteria_admin(p).await?;
    let units = state.app.units().await?;
    let l = Layout::new(state, ctx, tkey("referral-criteria-title")).await;
    let everywhere = l.i.t("referral-criterion-everywhere");
    let rows = criteria
        .iter()
        .map(|c| CriterionRow {
            id: c.id.to_string(),
            kind: l.i.t(if c.kind == "inclusion" {
                tkey("referral-criterion-inclusion")
            } else {
                tkey("referral-criterion-exclusion")
            }),
            area: c
                .unit_id
                .and_then(|u| units.iter().find(|x| x.id == u).map(|x| x.name.clone()))
                .unwrap_or_else(|| everywhere.clone()),
            text: c.text.clone(),
            active: c.active,
        })
        .collect();
    let page = CriteriaPage {
        rows,
        units: units
            .iter()
            .filter(|u| u.active)
            .map(|u| (u.id.to_string(), u.name.clone()))
            .collect(),
        errors: error_lines(&l, &errors),
        text,
        l,
    };
    let mut res = render(&page)?;
    if !page.errors.is_empty() {
        *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(res)
}

async fn criteria_page(
    State(state): State<AppState>,
    Staff(p, ctx): Staff,
) -> Result<Response, PageError> {
    show_criteria(&state, &p, &ctx, Vec::new(), String::new()).await
}

async fn criteria_add(
    State(state): State<AppState>,
    Staff(p, ctx): Staff,
    body: axum::body::Bytes,
) -> Result<Response, PageError> {
    let f = fields(&body);
    let unit = one(&f, "unit_id");
    let unit_id = if unit.is_empty() {
        None
    } else {
        Some(
            Uuid::parse_str(&unit)
                .map_err(|_| AppError::invalid("unit_id", "choose a service area"))?,
        )
    };
    let text = one(&f, "text");
    match state
        .app
        .add_followup_criterion(&p, unit_id, &one(&f, "kind"), &text, &ctx.ip)
        .await
    {
        Ok(_) => Ok(Redirect::to("/followup/criteria?done=saved").into_response()),
        Err(AppError::Invalid(errors)) => show_criteria(&state, &p, &ctx, errors, text).await,
        Err(e) => Err(e.into()),
    }
}

async fn criteria_update(
    State(state): State<AppState>,
    Staff(p, ctx): Staff,
    Path(criterion_id): Path<Uuid>,
    body: axum::body::Bytes,
) -> Result<Response, PageError> {
    let f = fields(&body);
    let active = one(&f, "active") == "1";
    match state
        .app
        .update_followup_criterion(&p, criterion_id, &one(&f, "text"), active, &ctx.ip)
        .await
    {
        Ok(()) => Ok(Redirect::to("/followup/criteria?done=saved").into_response()),
        Err(AppError::Invalid(errors)) => {
            show_criteria(&state, &p, &ctx, errors, String::new()).await
        }
        Err(e) => Err(e.into()),
    }
}

// ---- a patient's referrals -----------------------------------------------------------------

pub struct ReferralRow {
    pub id: String,
    pub received: String,
    pub source: String,
    pub referrer: String,
    pub conditions: String,
    pub status: String,
    pub status_code: String,
}

#[derive(Template)]
#[template(path = "referral_patient.html")]
struct PatientReferralsPage {
    l: Layout,
    patient_id: String,
    patient_name: String,
    rows: Vec<ReferralRow>,
    errors: Vec<ErrorLine>,
    sources: Vec<(&'static str, String)>,
    conditions: Vec<(&'static str, String)>,
    v: ReferralValues,
}

/// What was typed into the referral form.
#[derive(Default)]
pub struct ReferralValues {
    pub source_kind: String,
    pub referrer_name: String,
    pub referrer_org: String,
    pub conditions: Vec<String>,
    pub reason: String,
    pub received_on: String,
}

async fn show_patient_referrals(
    state: &AppState,
    access: &PatientAccess,
    ctx: &RequestCtx,
    errors: Vec<FieldError>,
    v: ReferralValues,
) -> Result<Response, PageError> {
    let rec = state.app.inclusion_record(access).await?;
    let name = patient_name(state, access).await?;
    let l = Layout::new(state, ctx, tkey("referral-patient-title")).await;
    let rows = rec
        .referrals
        .iter()
        .map(|r| {
            let cs: Vec<Condition> = serde_json::from_str(&r.conditions).unwrap_or_default();
            ReferralRow {
                id: r.id.to_string(),
                received: r.received_on.to_string(),
                source: source_name(&l, &r.source_kind),
                referrer: format!("{}, {}", r.referrer_name, r.referrer_org),
                conditions: conditions_text(&l, &cs),
                status: status_name(&l, &r.status),
                status_code: r.status.clone(),
            }
        })
        .collect();
    let v = if v.received_on.is_empty() && errors.is_empty() {
        ReferralValues {
            received_on: helsebro_app::followup::rules::time::local_date(state.app.now())
                .to_string(),
            ..v
        }
    } else {
        v
    };
    let page = PatientReferralsPage {
        patient_id: access.patient_id().to_string(),
        patient_name: name,
        rows,
        errors: error_lines(&l, &errors),
        sources: SOURCE_KINDS
            .iter()
            .map(|s| (*s, source_name(&l, s)))
            .collect(),
        conditions: CONDITIONS
            .iter()
            .map(|(c, _)| (*c, condition_name(&l, c)))
            .collect(),
        v,
        l,
    };
    let mut res = render(&page)?;
    if !page.errors.is_empty() {
        *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(res)
}

async fn patient_referrals(
    State(state): State<AppState>,
    PatientRead(access, ctx): PatientRead,
) -> Result<Response, PageError> {
    show_patient_referrals(&state, &access, &ctx, Vec::new(), ReferralValues::default()).await
}

async fn referral_create(
    State(state): State<AppState>,
    PatientChange(access, ctx): PatientChange,
    body: axum::body::Bytes,
) -> Result<Response, PageError> {
    let f = fields(&body);
    let v = ReferralValues {
        source_kind: one(&f, "source_kind"),
        referrer_name: one(&f, "referrer_name"),
        referrer_org: one(&f, "referrer_org"),
        conditions: all(&f, "conditions"),
        reason: one(&f, "reason"),
        received_on: one(&f, "received_on"),
    };
    let input = ReferralInput {
        source_kind: v.source_kind.clone(),
        referrer_name: v.referrer_name.clone(),
        referrer_org: v.referrer_org.clone(),
        conditions: CONDITIONS
            .iter()
            .filter(|(code, _)| v.conditions.iter().any(|c| c == code))
            .map(|(_, c)| *c)
            .collect(),
        reason: v.reason.clone(),
        received_on: v.received_on.clone(),
    };
    match state.app.register_referral(&access, &input).await {
        Ok(id) => Ok(Redirect::to(&format!(
            "/followup/patients/{}/referrals/{id}?done=saved",
            access.patient_id()
        ))
        .into_response()),
        Err(AppError::Invalid(errors)) => {
            show_patient_referrals(&state, &access, &ctx, errors, v).await
        }
        Err(e) => Err(e.into()),
    }
}

// ---- assessing one referral ----------------------------------------------------------------

pub struct CriterionChoice {
    pub id: String,
    pub text: String,
    pub inclusion: bool,
    /// `Some(true)`: met was chosen; `Some(false)`: not met; `None`: nothing yet.
    pub met: Option<bool>,
}

pub struct AssessedRow {
    pub kind: String,
    pub text: String,
    pub met: String,
}

#[derive(Template)]
#[template(path = "referral_assess.html")]
struct AssessPage {
    l: Layout,
    patient_id: String,
    patient_name: String,
    referral_id: String,
    source: String,
    referrer: String,
    received: String,
    conditions: String,
    reason: String,
    pending: bool,
    status: String,
    decision_reason: String,
    decided: String,
    assessed: Vec<AssessedRow>,
    criteria: Vec<CriterionChoice>,
    staff: Vec<(String, String)>,
    team: Vec<(String, String)>,
    can_decide: bool,
    errors: Vec<ErrorLine>,
    v: DecisionValues,
}

/// What was chosen in the decision form.
#[derive(Default)]
pub struct DecisionValues {
    pub decision: String,
    pub reason: String,
    pub following_up: String,
    pub advising: String,
    pub referring: String,
    pub daily: Vec<String>,
    pub due_by: String,
    pub answers: Vec<(String, bool)>,
}

async fn show_referral(
    state: &AppState,
    access: &PatientAccess,
    ctx: &RequestCtx,
    referral_id: Uuid,
    errors: Vec<FieldError>,
    v: DecisionValues,
) -> Result<Response, PageError> {
    let view = state.app.referral_view(access, referral_id).await?;
    let record = state.app.patient_record(access).await?;
    let p = access.principal();
    let staff = state.app.clinical_staff(p).await?;
    let l = Layout::new(state, ctx, tkey("referral-assess-title")).await;
    let r = &view.referral;
    let yes = l.i.t("referral-met");
    let no = l.i.t("referral-not-met");
    let page = AssessPage {
        patient_id: access.patient_id().to_string(),
        patient_name: record.patient.name.clone(),
        referral_id: r.id.to_string(),
        source: source_name(&l, &r.source_kind),
        referrer: format!("{}, {}", r.referrer_name, r.referrer_org),
        received: r.received_on.to_string(),
        conditions: conditions_text(&l, &view.conditions),
        reason: r.reason.clone(),
        pending: r.status == "pending",
        status: status_name(&l, &r.status),
        decision_reason: r.decision_reason.clone(),
        decided: match (&r.decided_by_label, r.decided_at) {
            (Some(who), Some(at)) => format!("{who} {}", day(at)),
            _ => String::new(),
        },
        assessed: view
            .assessment
            .iter()
            .map(|a| AssessedRow {
                kind: l.i.t(if a.kind == "inclusion" {
                    tkey("referral-criterion-inclusion")
                } else {
                    tkey("referral-criterion-exclusion")
                }),
                text: a.text.clone(),
                met: if a.met { yes.clone() } else { no.clone() },
            })
            .collect(),
        criteria: view
            .criteria
            .iter()
            .map(|c| {
                let id = c.id.to_string();
                CriterionChoice {
                    met: v.answers.iter().find(|(k, _)| *k == id).map(|(_, m)| *m),
                    id,
                    text: c.text.clone(),
                    inclusion: c.kind == "inclusion",
                }
            })
            .collect(),
        staff: staff
            .iter()
            .map(|(id, name)| (id.to_string(), name.clone()))
            .collect(),
        team: record
            .care_team
            .iter()
            .map(|m| (m.display_name.clone(), team_role_label(&l.i, &m.team_role)))
            .collect(),
        can_decide: may_decide(p),
        errors: error_lines(&l, &errors),
        v,
        l,
    };
    let mut res = render(&page)?;
    if !page.errors.is_empty() {
        *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(res)
}

async fn referral_page(
    State(state): State<AppState>,
    PatientRead(access, ctx): PatientRead,
    Path((_, referral_id)): Path<(Uuid, Uuid)>,
) -> Result<Response, PageError> {
    let v = DecisionValues {
        due_by: "10:00".into(),
        daily: vec!["oxygen_saturation".into()],
        following_up: access.principal().id.to_string(),
        ..Default::default()
    };
    show_referral(&state, &access, &ctx, referral_id, Vec::new(), v).await
}

async fn referral_decide(
    State(state): State<AppState>,
    PatientChange(access, ctx): PatientChange,
    Path((_, referral_id)): Path<(Uuid, Uuid)>,
    body: axum::body::Bytes,
) -> Result<Response, PageError> {
    let f = fields(&body);
    let answers: Vec<(String, bool)> = f
        .iter()
        .filter_map(|(k, v)| {
            k.strip_prefix("criterion-")
                .map(|id| (id.to_owned(), v == "met"))
        })
        .collect();
    let v = DecisionValues {
        decision: one(&f, "decision"),
        reason: one(&f, "reason"),
        following_up: one(&f, "following_up"),
        advising: one(&f, "advising"),
        referring: one(&f, "referring"),
        daily: all(&f, "daily"),
        due_by: one(&f, "due_by"),
        answers,
    };
    let mut bad = Vec::new();
    let mut parsed_answers = Vec::new();
    for (id, met) in &v.answers {
        match Uuid::parse_str(id) {
            Ok(u) => parsed_answers.push((u, *met)),
            Err(_) => bad.push(FieldError {
                field: "criteria".into(),
                message: "the form was damaged; open the page again".into(),
            }),
        }
    }
    let mut team = Vec::new();
    for (field, role) in [
        ("following_up", "following_up"),
        ("advising", "advising"),
        ("referring", "referring"),
    ] {
        let value = one(&f, field);
        if value.is_empty() {
            continue;
        }
        match Uuid::parse_str(&value) {
            Ok(u) => team.push((u, role.to_owned())),
            Err(_) => bad.push(FieldError {
                field: field.into(),
                message: "choose a person from the list".into(),
            }),
        }
    }
    if !matches!(v.decision.as_str(), "accept" | "decline") {
        bad.push(FieldError {
            field: "decision".into(),
            message: "choose to accept or decline the referral".into(),
        });
    }
    let due_by: jiff::civil::Time = if v.due_by.trim().is_empty() {
        jiff::civil::time(10, 0, 0, 0)
    } else {
        match v.due_by.trim().parse() {
            Ok(t) => t,
            Err(_) => {
                bad.push(FieldError {
                    field: "due_by".into(),
                    message: "write the time as HH:MM".into(),
                });
                jiff::civil::time(10, 0, 0, 0)
            }
        }
    };
    if !bad.is_empty() {
        return show_referral(&state, &access, &ctx, referral_id, bad, v).await;
    }
    let today = helsebro_app::followup::rules::time::local_date(state.app.now());
    let plan = v
        .daily
        .iter()
        .filter_map(|k| kind_from_code(k))
        .map(|k| TaskSchedule {
            task: Task::Measurement(k),
            recurrence: Recurrence::Daily,
            due_by,
            grace: SignedDuration::from_hours(2),
            starts: today,
            ends: None,
        })
        .collect();
    let d = DecisionInput {
        accept: v.decision == "accept",
        reason: v.reason.clone(),
        answers: parsed_answers,
        team,
        plan,
    };
    match state.app.decide_referral(&access, referral_id, &d).await {
        Ok(()) => Ok(Redirect::to(&format!(
            "/followup/patients/{}/referrals/{referral_id}?done=saved",
            access.patient_id()
        ))
        .into_response()),
        Err(AppError::Invalid(errors)) => {
            show_referral(&state, &access, &ctx, referral_id, errors, v).await
        }
        Err(e) => Err(e.into()),
    }
}

// ---- service use against the baseline ------------------------------------------------------

pub struct RateRow {
    pub label: String,
    pub baseline_count: String,
    pub baseline_rate: String,
    pub later: Vec<(String, String, String)>,
}

#[derive(Template)]
#[template(path = "baseline_patient.html")]
struct ServiceUsePage {
    l: Layout,
    patient_id: String,
    patient_name: String,
    baseline: Option<String>,
    periods: Vec<String>,
    rows: Vec<RateRow>,
    inputs: Vec<(&'static str, String, String)>,
    errors: Vec<ErrorLine>,
    kind: String,
    from: String,
    to: String,
}

fn num(x: f64) -> String {
    format!("{x:.2}").replace('.', ",")
}

fn signed(x: f64) -> String {
    let s = num(x);
    if x > 0.0 { format!("+{s}") } else { s }
}

async fn show_service_use(
    state: &AppState,
    access: &PatientAccess,
    ctx: &RequestCtx,
    errors: Vec<FieldError>,
    input: ServiceUseInput,
) -> Result<Response, PageError> {
    let rec = state.app.inclusion_record(access).await?;
    let name = patient_name(state, access).await?;
    let l = Layout::new(state, ctx, tkey("baseline-title")).await;
    let c = &rec.comparison;
    let period_text = |from: &jiff::civil::Date, to: &jiff::civil::Date, months: f64| {
        format!(
            "{from} – {to} ({} {})",
            num(months),
            l.i.t("baseline-months")
        )
    };
    let rows = SERVICE_FIELDS
        .iter()
        .enumerate()
        .map(|(i, code)| RateRow {
            label: service_field_name(&l, code),
            baseline_count: c
                .baseline
                .as_ref()
                .map(|b| b.counts.fields()[i].1.to_string())
                .unwrap_or_default(),
            baseline_rate: c
                .baseline
                .as_ref()
                .map(|b| num(b.per_month[i]))
                .unwrap_or_default(),
            later: c
                .later
                .iter()
                .map(|p| {
                    (
                        p.period.counts.fields()[i].1.to_string(),
                        num(p.period.per_month[i]),
                        p.change_per_month[i].map(signed).unwrap_or_default(),
                    )
                })
                .collect(),
        })
        .collect();
    let has_baseline = c.baseline.is_some();
    let page = ServiceUsePage {
        patient_id: access.patient_id().to_string(),
        patient_name: name,
        baseline: c
            .baseline
            .as_ref()
            .map(|b| period_text(&b.from, &b.to, b.months)),
        periods: c
            .later
            .iter()
            .map(|p| period_text(&p.period.from, &p.period.to, p.period.months))
            .collect(),
        rows,
        inputs: SERVICE_FIELDS
            .iter()
            .enumerate()
            .map(|(i, code)| (*code, service_field_name(&l, code), input.counts[i].clone()))
            .collect(),
        errors: error_lines(&l, &errors),
        kind: if input.kind.is_empty() {
            if has_baseline { "followup" } else { "baseline" }.to_owned()
        } else {
            input.kind.clone()
        },
        from: input.from.clone(),
        to: input.to.clone(),
        l,
    };
    let mut res = render(&page)?;
    if !page.errors.is_empty() {
        *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(res)
}

async fn service_use_page(
    State(state): State<AppState>,
    PatientRead(access, ctx): PatientRead,
) -> Result<Response, PageError> {
    show_service_use(
        &state,
        &access,
        &ctx,
        Vec::new(),
        ServiceUseInput {
            counts: std::array::from_fn(|_| "0".to_owned()),
            ..Default::default()
        },
    )
    .await
}

async fn service_use_record(
    State(state): State<AppState>,
    PatientChange(access, ctx): PatientChange,
    body: axum::body::Bytes,
) -> Result<Response, PageError> {
    let f = fields(&body);
    let input = ServiceUseInput {
        kind: one(&f, "kind"),
        from: one(&f, "from"),
        to: one(&f, "to"),
        counts: std::array::from_fn(|i| one(&f, SERVICE_FIELDS[i])),
    };
    match state.app.record_service_use(&access, &input).await {
        Ok(_) => Ok(Redirect::to(&format!(
            "/followup/patients/{}/service-use?done=saved",
            access.patient_id()
        ))
        .into_response()),
        Err(AppError::Invalid(errors)) => {
            show_service_use(&state, &access, &ctx, errors, input).await
        }
        Err(e) => Err(e.into()),
    }
}

// ---- end of service ------------------------------------------------------------------------

pub struct EquipmentRow {
    pub index: usize,
    pub item: String,
    pub token: String,
    pub fixed: bool,
    pub returned: Option<bool>,
}

pub struct EndedRow {
    pub at: String,
    pub who: String,
    pub reason: String,
    pub evaluation: String,
    pub goals_met: bool,
    pub handover: String,
    pub equipment: Vec<(String, bool)>,
}

#[derive(Template)]
#[template(path = "end_patient.html")]
struct EndPage {
    l: Layout,
    patient_id: String,
    patient_name: String,
    in_followup: bool,
    can_end: bool,
    reasons: Vec<(&'static str, String)>,
    handovers: Vec<(&'static str, String)>,
    equipment: Vec<EquipmentRow>,
    ended: Vec<EndedRow>,
    errors: Vec<ErrorLine>,
    v: EndValues,
}

/// What was typed into the end form.
#[derive(Default)]
pub struct EndValues {
    pub reason: String,
    pub evaluation: String,
    pub goals_met: String,
    pub handover_to: String,
    pub handover_receiver: String,
}

/// Extra rows for equipment that is not a measuring device with a key (tablet, router, …).
const EXTRA_ITEMS: usize = 3;

async fn show_end(
    state: &AppState,
    access: &PatientAccess,
    ctx: &RequestCtx,
    errors: Vec<FieldError>,
    v: EndValues,
    typed: Option<Vec<EquipmentRow>>,
) -> Result<Response, PageError> {
    let rec = state.app.inclusion_record(access).await?;
    let fu = state.app.followup_record(access, 1).await?;
    let name = patient_name(state, access).await?;
    let l = Layout::new(state, ctx, tkey("end-title")).await;
    let equipment = typed.unwrap_or_else(|| {
        let mut rows: Vec<EquipmentRow> = fu
            .device_tokens
            .iter()
            .filter(|d| d.revoked_at.is_none())
            .enumerate()
            .map(|(i, d)| EquipmentRow {
                index: i,
                item: d.label.clone(),
                token: d.id.to_string(),
                fixed: true,
                returned: None,
            })
            .collect();
        let n = rows.len();
        rows.extend((0..EXTRA_ITEMS).map(|j| EquipmentRow {
            index: n + j,
            item: String::new(),
            token: String::new(),
            fixed: false,
            returned: None,
        }));
        rows
    });
    let page = EndPage {
        patient_id: access.patient_id().to_string(),
        patient_name: name,
        in_followup: fu.enrolment.as_ref().is_some_and(|e| e.status != "ended"),
        can_end: may_decide(access.principal()),
        reasons: END_REASONS
            .iter()
            .map(|r| (*r, reason_name(&l, r)))
            .collect(),
        handovers: HANDOVER_TO
            .iter()
            .map(|h| (*h, handover_name(&l, h)))
            .collect(),
        equipment,
        ended: rec
            .endings
            .iter()
            .map(|e| EndedRow {
                at: day(e.ended_at),
                who: e.ended_by_label.clone(),
                reason: reason_name(&l, &e.reason),
                evaluation: e.evaluation.clone(),
                goals_met: e.goals_met,
                handover: format!(
                    "{}{}",
                    handover_name(&l, &e.handover_to),
                    if e.handover_receiver.is_empty() {
                        String::new()
                    } else {
                        format!(": {}", e.handover_receiver)
                    }
                ),
                equipment: e
                    .equipment
                    .iter()
                    .map(|x| (x.item.clone(), x.returned))
                    .collect(),
            })
            .collect(),
        errors: error_lines(&l, &errors),
        v,
        l,
    };
    let mut res = render(&page)?;
    if !page.errors.is_empty() {
        *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(res)
}

async fn end_page(
    State(state): State<AppState>,
    PatientRead(access, ctx): PatientRead,
) -> Result<Response, PageError> {
    show_end(
        &state,
        &access,
        &ctx,
        Vec::new(),
        EndValues::default(),
        None,
    )
    .await
}

async fn end_submit(
    State(state): State<AppState>,
    PatientChange(access, ctx): PatientChange,
    body: axum::body::Bytes,
) -> Result<Response, PageError> {
    let f = fields(&body);
    let v = EndValues {
        reason: one(&f, "reason"),
        evaluation: one(&f, "evaluation"),
        goals_met: one(&f, "goals_met"),
        handover_to: one(&f, "handover_to"),
        handover_receiver: one(&f, "handover_receiver"),
    };
    // Equipment rows: item_N (name), token_N (device key id, for lent measuring devices),
    // returned_N (yes/no). An extra row left empty is skipped.
    let count = all(&f, "item_index").len();
    let mut rows = Vec::new();
    let mut items = Vec::new();
    let mut bad = Vec::new();
    for i in 0..count.min(50) {
        let item = one(&f, &format!("item_{i}"));
        let token_text = one(&f, &format!("token_{i}"));
        let returned = match one(&f, &format!("returned_{i}")).as_str() {
            "yes" => Some(true),
            "no" => Some(false),
            _ => None,
        };
        let token = if token_text.is_empty() {
            None
        } else {
            match Uuid::parse_str(&token_text) {
                Ok(u) => Some(u),
                Err(_) => {
                    bad.push(FieldError {
                        field: format!("returned_{i}"),
                        message: "the form was damaged; open the page again".into(),
                    });
                    None
                }
            }
        };
        rows.push(EquipmentRow {
            index: i,
            item: item.clone(),
            token: token_text.clone(),
            fixed: token.is_some(),
            returned,
        });
        if token.is_none() && item.trim().is_empty() && returned.is_none() {
            continue;
        }
        items.push((item, token, returned));
    }
    if !bad.is_empty() {
        return show_end(&state, &access, &ctx, bad, v, Some(rows)).await;
    }
    let input = EndInput {
        reason: v.reason.clone(),
        evaluation: v.evaluation.clone(),
        goals_met: match v.goals_met.as_str() {
            "yes" => Some(true),
            "no" => Some(false),
            _ => None,
        },
        handover_to: v.handover_to.clone(),
        handover_receiver: v.handover_receiver.clone(),
        equipment: items,
    };
    match state.app.end_followup_service(&access, &input).await {
        Ok(_) => Ok(Redirect::to(&format!(
            "/followup/patients/{}/end?done=saved",
            access.patient_id()
        ))
        .into_response()),
        Err(AppError::Invalid(errors)) => {
            show_end(&state, &access, &ctx, errors, v, Some(rows)).await
        }
        Err(e) => Err(e.into()),
    }
}
