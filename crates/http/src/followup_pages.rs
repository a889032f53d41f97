//! Home follow-up pages: the follow-up centre's work list and a patient's follow-up page for
//! staff (`/followup…`), and the patient app (`/mine…`, HF-5) with its own session cookie.
//!
//! Charts (HF-12) are SVG drawn here on the server — each measurement over time with the band
//! between the patient's yellow limits — and every chart has a table beside it.

use crate::AppState;
use crate::error::PageError;
use crate::pages::{Layout, PageForm, render, tkey};
use crate::session::{PatientChange, PatientRead, RequestCtx, Staff, cookie};
use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::SameSite;
use helsebro_app::AppError;
use helsebro_app::followup::rules::schedule::{Recurrence, Task, TaskSchedule};
use helsebro_app::followup::rules::triage::{Adjustment, RuleSet, Test};
use helsebro_app::followup::rules::{
    Colour, Condition, Lang, MeasurementKind, Metric, Observation,
};
use helsebro_app::followup::{ACTIONS, kind_code, kind_from_code, lang_of};
use helsebro_app::patient_app::PatientSelf;
use helsebro_app::types::Reading;
use jiff::{SignedDuration, Timestamp};
use serde::Deserialize;
use uuid::Uuid;

/// The patient app's session cookie (separate from staff sessions).
pub const PATIENT_COOKIE: &str = "hb_patient";

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/followup", get(worklist))
        .route("/followup/green", post(acknowledge_green))
        .route("/followup/patients/{patient_id}", get(patient_page))
        .route("/followup/patients/{patient_id}/enrol", post(enrol))
        .route(
            "/followup/patients/{patient_id}/alerts/{alert_id}/acknowledge",
            post(acknowledge),
        )
        .route(
            "/followup/patients/{patient_id}/alerts/{alert_id}/act",
            post(act),
        )
        .route("/followup/patients/{patient_id}/pause", post(pause))
        .route("/followup/patients/{patient_id}/resume", post(resume))
        .route(
            "/followup/patients/{patient_id}/thresholds",
            post(thresholds),
        )
        .route(
            "/followup/patients/{patient_id}/devices",
            post(device_token),
        )
        .route("/mine", get(patient_home))
        .route(
            "/mine/login",
            get(patient_login_page).post(patient_send_code),
        )
        .route("/mine/code", post(patient_verify_code))
        .route("/mine/readings", post(patient_reading))
        .route("/mine/logout", post(patient_logout))
}

// ---- shared helpers ----------------------------------------------------------------------

fn oslo(t: Timestamp) -> String {
    t.to_zoned(helsebro_app::followup::rules::time::oslo().clone())
        .strftime("%d.%m.%Y %H:%M")
        .to_string()
}

fn kind_name(k: MeasurementKind, lang: Lang) -> String {
    k.name().get(lang).to_owned()
}

fn colour_name(c: Option<&str>, l: &Layout) -> String {
    match c {
        Some("red") => l.i.t("fu-colour-red"),
        Some("yellow") => l.i.t("fu-colour-yellow"),
        Some("green") => l.i.t("fu-colour-green"),
        _ => l.i.t("fu-colour-again"),
    }
}

/// One reading as a table row.
pub struct ReadingRow {
    pub at: String,
    pub value: String,
    pub unit: String,
    pub colour: String,
    pub colour_code: String,
    pub via: String,
    pub explanation: String,
}

fn value_text(r: &Reading) -> (String, String) {
    let Some(kind) = kind_from_code(&r.kind) else {
        return (r.value1.to_string(), r.unit.clone());
    };
    let m = kind.metrics();
    match r.value2 {
        Some(d) if m.len() == 2 => (
            format!("{}/{}", m[0].format(r.value1), m[1].format(d)),
            m[0].unit_display().to_owned(),
        ),
        _ => (m[0].format(r.value1), m[0].unit_display().to_owned()),
    }
}

fn reading_rows(readings: &[Reading], l: &Layout) -> Vec<ReadingRow> {
    readings
        .iter()
        .rev()
        .map(|r| {
            let (value, unit) = value_text(r);
            ReadingRow {
                at: oslo(r.effective_at),
                value,
                unit,
                colour: colour_name(r.colour.as_deref(), l),
                colour_code: r.colour.clone().unwrap_or_else(|| "again".into()),
                via: r.device_id.clone().unwrap_or_else(|| r.entered_via.clone()),
                explanation: r.explanation.clone(),
            }
        })
        .collect()
}

/// The band between the lowest "below" yellow limit and the highest "above" yellow limit of a
/// metric, where the rules have them.
fn band(rules: Option<&RuleSet>, m: Metric) -> (Option<f64>, Option<f64>) {
    let Some(rules) = rules else {
        return (None, None);
    };
    let mut low: Option<f64> = None;
    let mut high: Option<f64> = None;
    for a in rules.rules.iter().filter(|a| a.rule.metric == m) {
        match a.rule.test {
            Test::Below { limit } => low = Some(low.map_or(limit, |v: f64| v.max(limit))),
            Test::Above { limit } => high = Some(high.map_or(limit, |v: f64| v.min(limit))),
            _ => {}
        }
    }
    (low, high)
}

/// A chart of one measurement kind.
pub struct Chart {
    pub title: String,
    pub svg: String,
    pub rows: Vec<ReadingRow>,
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Server-rendered SVG: values over time (first metric; blood pressure both), the reference
/// band shaded, points coloured by triage. No script, no styles beyond attributes.
fn chart_svg(
    readings: &[&Reading],
    kind: MeasurementKind,
    rules: Option<&RuleSet>,
    title: &str,
) -> String {
    const W: f64 = 640.0;
    const H: f64 = 200.0;
    const PAD: f64 = 40.0;
    let metrics = kind.metrics();
    let mut values: Vec<f64> = readings
        .iter()
        .filter(|r| !r.device_error)
        .flat_map(|r| [Some(r.value1), r.value2].into_iter().flatten())
        .collect();
    let (low, high) = band(rules, metrics[0]);
    values.extend(low);
    values.extend(high);
    let (mut vmin, mut vmax) = values
        .iter()
        .fold((f64::MAX, f64::MIN), |(a, b), v| (a.min(*v), b.max(*v)));
    if !vmin.is_finite() || vmin > vmax {
        vmin = 0.0;
        vmax = 1.0;
    }
    if (vmax - vmin).abs() < 1e-9 {
        vmin -= 1.0;
        vmax += 1.0;
    }
    let span = vmax - vmin;
    vmin -= span * 0.1;
    vmax += span * 0.1;
    let times: Vec<i64> = readings
        .iter()
        .map(|r| r.effective_at.as_millisecond())
        .collect();
    let tmin = times.iter().copied().min().unwrap_or(0);
    let tmax = times.iter().copied().max().unwrap_or(1).max(tmin + 1);
    let x = |t: i64| PAD + (t - tmin) as f64 / (tmax - tmin) as f64 * (W - 2.0 * PAD);
    let y = |v: f64| H - PAD / 2.0 - (v - vmin) / (vmax - vmin) * (H - PAD);
    let mut s = format!(
        "<svg class=\"chart\" viewBox=\"0 0 {W} {H}\" role=\"img\" aria-label=\"{}\" xmlns=\"http://www.w3.org/2000/svg\">",
        esc(title)
    );
    let (blo, bhi) = (low.unwrap_or(vmin), high.unwrap_or(vmax));
    if low.is_some() || high.is_some() {
        s.push_str(&format!(
            "<rect x=\"{PAD}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"#e6f4ea\" stroke=\"#1e7b3c\" stroke-dasharray=\"4 3\"/>",
            y(bhi),
            W - 2.0 * PAD,
            (y(blo) - y(bhi)).max(0.0)
        ));
    }
    for (v, label) in [(vmax, vmax), (vmin, vmin)] {
        s.push_str(&format!(
            "<text x=\"2\" y=\"{:.1}\" font-size=\"12\" fill=\"#333\">{}</text>",
            y(v) + 4.0,
            metrics[0].format(label)
        ));
    }
    for (i, metric_value) in [0usize, 1].iter().enumerate() {
        let pts: Vec<(f64, f64, Option<&str>)> = readings
            .iter()
            .filter(|r| !r.device_error)
            .filter_map(|r| {
                let v = if *metric_value == 0 {
                    Some(r.value1)
                } else {
                    r.value2
                };
                v.map(|v| {
                    (
                        x(r.effective_at.as_millisecond()),
                        y(v),
                        r.colour.as_deref(),
                    )
                })
            })
            .collect();
        if pts.is_empty() {
            continue;
        }
        let line: Vec<String> = pts
            .iter()
            .map(|(a, b, _)| format!("{a:.1},{b:.1}"))
            .collect();
        s.push_str(&format!(
            "<polyline points=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"2\"/>",
            line.join(" "),
            if i == 0 { "#0b4f8a" } else { "#5b3a8a" }
        ));
        for (a, b, c) in pts {
            let fill = match c {
                Some("red") => "#b91c1c",
                Some("yellow") => "#b45309",
                _ => "#1e7b3c",
            };
            s.push_str(&format!(
                "<circle cx=\"{a:.1}\" cy=\"{b:.1}\" r=\"4\" fill=\"{fill}\"/>"
            ));
        }
    }
    s.push_str("</svg>");
    s
}

fn charts(readings: &[Reading], rules: Option<&RuleSet>, l: &Layout) -> Vec<Chart> {
    let lang = lang_of(helsebro_domain::Language::parse(l.lang).unwrap_or_default());
    MeasurementKind::ALL
        .iter()
        .filter_map(|k| {
            let of_kind: Vec<&Reading> = readings
                .iter()
                .filter(|r| r.kind == kind_code(*k))
                .collect();
            if of_kind.is_empty() {
                return None;
            }
            let title = format!(
                "{} ({})",
                kind_name(*k, lang),
                k.metrics()[0].unit_display()
            );
            let owned: Vec<Reading> = of_kind.iter().map(|r| (*r).clone()).collect();
            Some(Chart {
                svg: chart_svg(&of_kind, *k, rules, &title),
                rows: reading_rows(&owned, l),
                title,
            })
        })
        .collect()
}

// ---- the work list -------------------------------------------------------------------------

pub struct WorkRow {
    pub alert_id: String,
    pub patient_id: String,
    pub patient_name: String,
    pub kind: String,
    pub kind_label: String,
    pub raised: String,
    pub explanation: String,
    pub escalated: bool,
    pub acknowledged: Option<String>,
}

#[derive(Template)]
#[template(path = "followup_worklist.html")]
struct WorklistPage {
    l: Layout,
    rows: Vec<WorkRow>,
    green: i64,
}

fn kind_label(kind: &str, l: &Layout) -> String {
    match kind {
        "red" => l.i.t("fu-colour-red"),
        "yellow" => l.i.t("fu-colour-yellow"),
        _ => l.i.t("fu-missing-report"),
    }
}

async fn worklist(
    State(state): State<AppState>,
    Staff(p, ctx): Staff,
) -> Result<Response, PageError> {
    let list = state.app.followup_worklist(&p, &ctx.ip).await?;
    let l = Layout::new(&state, &ctx, tkey("fu-worklist-title")).await;
    let rows = list
        .lines
        .iter()
        .map(|line| {
            let a = &line.alert;
            WorkRow {
                alert_id: a.id.to_string(),
                patient_id: a.patient_id.to_string(),
                patient_name: a.patient_name.clone(),
                kind: a.kind.clone(),
                kind_label: kind_label(&a.kind, &l),
                raised: oslo(a.raised_at),
                explanation: a.explanation.clone(),
                escalated: line.escalated,
                acknowledged: a.acknowledged_at.map(|t| {
                    format!(
                        "{} {}",
                        a.acknowledged_by_label.clone().unwrap_or_default(),
                        oslo(t)
                    )
                }),
            }
        })
        .collect();
    render(&WorklistPage {
        green: list.green.iter().map(|(_, n)| n).sum(),
        l,
        rows,
    })
}

async fn acknowledge_green(
    State(state): State<AppState>,
    Staff(p, ctx): Staff,
) -> Result<Response, PageError> {
    state.app.acknowledge_all_green(&p, &ctx.ip).await?;
    Ok(Redirect::to("/followup?done=saved").into_response())
}

// ---- a patient's follow-up page -------------------------------------------------------------

pub struct AlertRow {
    pub id: String,
    pub kind: String,
    pub kind_label: String,
    pub raised: String,
    pub explanation: String,
    pub acknowledged: Option<String>,
    pub action: Option<String>,
    pub note: String,
    pub escalated: bool,
}

pub struct RuleRow {
    pub id: String,
    pub text: String,
    pub limit: Option<f64>,
}

#[derive(Template)]
#[template(path = "followup_patient.html")]
struct PatientPage {
    l: Layout,
    patient_id: String,
    patient_name: String,
    /// Where the video-call invitation goes (HF-8's "video call" action).
    patient_phone: String,
    patient_email: String,
    /// Questionnaires that can be put on the plan, weekly: id and title.
    questionnaires: Vec<(&'static str, &'static str)>,
    enrolled: bool,
    status: String,
    status_reason: String,
    conditions: Vec<(&'static str, String, bool)>,
    charts: Vec<Chart>,
    alerts: Vec<AlertRow>,
    rules: Vec<RuleRow>,
    adjustments: Vec<(String, String, String, String)>,
    actions: Vec<(&'static str, String)>,
    devices: Vec<(String, String)>,
    new_token: Option<String>,
    preview: Option<String>,
    emergency: bool,
    plan_status: String,
    responses: Vec<crate::followup_plan_pages::ResponseRow>,
}

const CONDITIONS: [(&str, Condition); 5] = [
    ("copd", Condition::Copd),
    ("heart_failure", Condition::HeartFailure),
    ("diabetes", Condition::Diabetes),
    ("hypertension", Condition::Hypertension),
    ("mental_health", Condition::MentalHealth),
];

fn condition_key(code: &str) -> &'static str {
    match code {
        "copd" => tkey("fu-condition-copd"),
        "heart_failure" => tkey("fu-condition-heart-failure"),
        "diabetes" => tkey("fu-condition-diabetes"),
        "hypertension" => tkey("fu-condition-hypertension"),
        _ => tkey("fu-condition-mental-health"),
    }
}

fn action_key(a: &str) -> &'static str {
    match a {
        "called" => tkey("fu-action-called"),
        "video_call" => tkey("fu-action-video-call"),
        "contacted_gp" => tkey("fu-action-contacted-gp"),
        "adjusted_plan" => tkey("fu-action-adjusted-plan"),
        _ => tkey("fu-action-no-action"),
    }
}

async fn show_patient(
    state: &AppState,
    access: &helsebro_app::PatientAccess,
    ctx: &RequestCtx,
    new_token: Option<String>,
    preview: Option<String>,
) -> Result<Response, PageError> {
    let record = state.app.patient_record(access).await?;
    let fu = state.app.followup_record(access, 90).await?;
    let l = Layout::new(state, ctx, tkey("fu-patient-title")).await;
    let summary = crate::followup_plan_pages::plan_summary(state, access, &l).await?;
    let lang = lang_of(helsebro_domain::Language::parse(l.lang).unwrap_or_default());
    let enrolled = fu.enrolment.as_ref().is_some_and(|e| e.status != "ended");
    let charts = charts(&fu.readings, enrolled.then_some(&fu.rules), &l);
    let alerts = fu
        .alerts
        .iter()
        .map(|a| AlertRow {
            id: a.id.to_string(),
            kind: a.kind.clone(),
            kind_label: kind_label(&a.kind, &l),
            raised: oslo(a.raised_at),
            explanation: a.explanation.clone(),
            acknowledged: a.acknowledged_at.map(|t| {
                format!(
                    "{} {}",
                    a.acknowledged_by_label.clone().unwrap_or_default(),
                    oslo(t)
                )
            }),
            action: a.action.as_deref().map(|x| l.i.t(action_key(x))),
            note: a.note.clone(),
            escalated: a.escalated_at.is_some() && a.acknowledged_at.is_none(),
        })
        .collect();
    let rules = fu
        .rules
        .rules
        .iter()
        .map(|a| {
            let limit = match a.rule.test {
                Test::Below { limit } | Test::Above { limit } => Some(limit),
                _ => None,
            };
            RuleRow {
                id: a.rule.id.clone(),
                text: format!(
                    "{} – {}: {}",
                    a.rule.metric.name().get(lang),
                    a.rule.colour.name().get(lang),
                    serde_json::to_string(&a.rule.test).unwrap_or_default()
                ),
                limit,
            }
        })
        .collect();
    let adjustments = fu
        .adjustments
        .iter()
        .map(|a| {
            (
                oslo(a.made_at),
                a.made_by_label.clone(),
                a.adjustment.clone(),
                a.reason.clone(),
            )
        })
        .collect();
    let chosen: Vec<String> = fu
        .conditions
        .iter()
        .filter_map(|c| {
            serde_json::to_value(c)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
        })
        .collect();
    render(&PatientPage {
        questionnaires: helsebro_app::followup::rules::questionnaire::ALL
            .iter()
            .map(|q| (q.id, q.title.get(lang)))
            .collect(),
        patient_id: access.patient_id().to_string(),
        patient_name: record.patient.name.clone(),
        patient_phone: record.patient.phone.clone().unwrap_or_default(),
        patient_email: record.patient.email.clone().unwrap_or_default(),
        enrolled,
        status: fu
            .enrolment
            .as_ref()
            .map(|e| e.status.clone())
            .unwrap_or_default(),
        status_reason: fu
            .enrolment
            .as_ref()
            .map(|e| e.status_reason.clone())
            .unwrap_or_default(),
        conditions: CONDITIONS
            .iter()
            .map(|(code, _)| {
                (
                    *code,
                    l.i.t(condition_key(code)),
                    chosen.iter().any(|c| c == code),
                )
            })
            .collect(),
        charts,
        alerts,
        rules,
        adjustments,
        actions: ACTIONS.iter().map(|a| (*a, l.i.t(action_key(a)))).collect(),
        devices: fu
            .device_tokens
            .iter()
            .filter(|d| d.revoked_at.is_none())
            .map(|d| (d.label.clone(), oslo(d.created_at)))
            .collect(),
        new_token,
        preview,
        emergency: access.is_emergency(),
        plan_status: summary.status,
        responses: summary.responses,
        l,
    })
}

async fn patient_page(
    State(state): State<AppState>,
    PatientRead(access, ctx): PatientRead,
) -> Result<Response, PageError> {
    show_patient(&state, &access, &ctx, None, None).await
}

fn back(patient_id: Uuid) -> Response {
    Redirect::to(&format!("/followup/patients/{patient_id}?done=saved")).into_response()
}

struct EnrolForm {
    conditions: Vec<String>,
    daily: Vec<String>,
    weekly_questionnaires: Vec<String>,
    due_by: String,
}

/// Checkbox groups repeat their name, which `serde_urlencoded` cannot read into a list.
fn enrol_form(body: &[u8]) -> EnrolForm {
    let mut f = EnrolForm {
        conditions: Vec::new(),
        daily: Vec::new(),
        weekly_questionnaires: Vec::new(),
        due_by: String::new(),
    };
    for (k, v) in form_urlencoded::parse(body) {
        match k.as_ref() {
            "conditions" => f.conditions.push(v.into_owned()),
            "daily" => f.daily.push(v.into_owned()),
            "weekly_questionnaires" => f.weekly_questionnaires.push(v.into_owned()),
            "due_by" => f.due_by = v.into_owned(),
            _ => {}
        }
    }
    f
}

async fn enrol(
    State(state): State<AppState>,
    PatientChange(access, _): PatientChange,
    body: axum::body::Bytes,
) -> Result<Response, PageError> {
    let f = enrol_form(&body);
    let conditions: Vec<Condition> = CONDITIONS
        .iter()
        .filter(|(code, _)| f.conditions.iter().any(|c| c == code))
        .map(|(_, c)| *c)
        .collect();
    let due_by: jiff::civil::Time = if f.due_by.is_empty() {
        jiff::civil::time(10, 0, 0, 0)
    } else {
        f.due_by
            .parse()
            .map_err(|_| AppError::invalid("due_by", "write the time as HH:MM"))?
    };
    let today = helsebro_app::followup::rules::time::local_date(state.app.now());
    let mut plan: Vec<TaskSchedule> = f
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
    // Questionnaires once a week, on the weekday follow-up starts.
    for id in &f.weekly_questionnaires {
        let q = helsebro_app::followup::rules::questionnaire::by_id(id)
            .ok_or_else(|| AppError::invalid("weekly_questionnaires", "unknown questionnaire"))?;
        plan.push(TaskSchedule {
            task: Task::Questionnaire(q.id.to_owned()),
            recurrence: Recurrence::Weekly {
                days: vec![today.weekday()],
            },
            due_by,
            grace: SignedDuration::from_hours(2),
            starts: today,
            ends: None,
        });
    }
    state
        .app
        .enrol_followup(&access, &conditions, &plan)
        .await?;
    Ok(back(access.patient_id()))
}

async fn acknowledge(
    State(state): State<AppState>,
    PatientChange(access, _): PatientChange,
    Path((_, alert_id)): Path<(Uuid, Uuid)>,
) -> Result<Response, PageError> {
    state.app.acknowledge_alert(&access, alert_id).await?;
    Ok(Redirect::to("/followup?done=saved").into_response())
}

#[derive(Deserialize)]
struct ActForm {
    action: String,
    note: String,
}

async fn act(
    State(state): State<AppState>,
    PatientChange(access, _): PatientChange,
    Path((_, alert_id)): Path<(Uuid, Uuid)>,
    PageForm(f): PageForm<ActForm>,
) -> Result<Response, PageError> {
    state
        .app
        .act_on_alert(&access, alert_id, &f.action, &f.note)
        .await?;
    Ok(back(access.patient_id()))
}

#[derive(Deserialize)]
struct ReasonForm {
    #[serde(default)]
    reason: String,
}

async fn pause(
    State(state): State<AppState>,
    PatientChange(access, _): PatientChange,
    PageForm(f): PageForm<ReasonForm>,
) -> Result<Response, PageError> {
    state.app.pause_followup(&access, &f.reason).await?;
    Ok(back(access.patient_id()))
}

async fn resume(
    State(state): State<AppState>,
    PatientChange(access, _): PatientChange,
) -> Result<Response, PageError> {
    state.app.resume_followup(&access).await?;
    Ok(back(access.patient_id()))
}

#[derive(Deserialize)]
struct ThresholdForm {
    rule_id: String,
    limit: String,
    #[serde(default)]
    reason: String,
    /// `preview` or `save`.
    intent: String,
}

async fn thresholds(
    State(state): State<AppState>,
    PatientChange(access, ctx): PatientChange,
    PageForm(f): PageForm<ThresholdForm>,
) -> Result<Response, PageError> {
    let record = state.app.followup_record(&access, 1).await?;
    let Some(active) = record.rules.rule(&f.rule_id) else {
        return Err(AppError::invalid("rule_id", "choose a rule").into());
    };
    let limit: f64 = f
        .limit
        .trim()
        .replace(',', ".")
        .parse()
        .map_err(|_| AppError::invalid("limit", "write a number"))?;
    let mut rule = active.rule.clone();
    rule.test = match rule.test {
        Test::Below { .. } => Test::Below { limit },
        Test::Above { .. } => Test::Above { limit },
        _ => return Err(AppError::invalid("rule_id", "only limits can be changed here").into()),
    };
    let adjustment = Adjustment::Set { rule };
    if f.intent == "save" {
        state
            .app
            .adjust_followup_rules(&access, &adjustment, &f.reason)
            .await?;
        return Ok(back(access.patient_id()));
    }
    let w = state.app.followup_what_if(&access, &adjustment).await?;
    let l = Layout::new(&state, &ctx, tkey("fu-patient-title")).await;
    let text = format!(
        "{}: {}; {} {} / {} {} → {} {} / {} {}",
        l.i.t("fu-whatif-result"),
        w.readings,
        w.old.red,
        l.i.t("fu-colour-red"),
        w.old.yellow,
        l.i.t("fu-colour-yellow"),
        w.new.red,
        l.i.t("fu-colour-red"),
        w.new.yellow,
        l.i.t("fu-colour-yellow"),
    );
    show_patient(
        &state,
        &access,
        &ctx,
        None,
        Some(format!("{}: {text}", f.rule_id)),
    )
    .await
}

#[derive(Deserialize)]
struct DeviceForm {
    label: String,
}

async fn device_token(
    State(state): State<AppState>,
    PatientChange(access, ctx): PatientChange,
    PageForm(f): PageForm<DeviceForm>,
) -> Result<Response, PageError> {
    let token = state.app.create_device_token(&access, &f.label).await?;
    show_patient(&state, &access, &ctx, Some(token), None).await
}

// ---- the patient app ------------------------------------------------------------------------

async fn me(state: &AppState, jar: &CookieJar) -> Result<Option<PatientSelf>, PageError> {
    match jar.get(PATIENT_COOKIE) {
        Some(c) => Ok(state.app.patient_self(c.value()).await?),
        None => Ok(None),
    }
}

#[derive(Template)]
#[template(path = "mine_login.html")]
struct LoginPage {
    l: Layout,
    contact: String,
    code_step: bool,
}

async fn patient_login_page(
    State(state): State<AppState>,
    ctx: RequestCtx,
) -> Result<Response, PageError> {
    render(&LoginPage {
        l: Layout::new(&state, &ctx, tkey("mine-login-title")).await,
        contact: String::new(),
        code_step: false,
    })
}

#[derive(Deserialize)]
struct ContactForm {
    contact: String,
}

async fn patient_send_code(
    State(state): State<AppState>,
    ctx: RequestCtx,
    PageForm(f): PageForm<ContactForm>,
) -> Result<Response, PageError> {
    state.app.request_patient_code(&f.contact, &ctx.ip).await?;
    render(&LoginPage {
        l: Layout::new(&state, &ctx, tkey("mine-login-title")).await,
        contact: f.contact,
        code_step: true,
    })
}

#[derive(Deserialize)]
struct CodeForm {
    contact: String,
    code: String,
}

async fn patient_verify_code(
    State(state): State<AppState>,
    ctx: RequestCtx,
    jar: CookieJar,
    PageForm(f): PageForm<CodeForm>,
) -> Result<Response, PageError> {
    let token = state
        .app
        .verify_patient_code(&f.contact, &f.code, &ctx.ip)
        .await?;
    let c = cookie(
        PATIENT_COOKIE,
        token,
        state.app.config().https(),
        SameSite::Strict,
    );
    Ok((jar.add(c), Redirect::to("/mine")).into_response())
}

async fn patient_logout(
    State(state): State<AppState>,
    jar: CookieJar,
) -> Result<Response, PageError> {
    if let Some(c) = jar.get(PATIENT_COOKIE) {
        state.app.patient_logout(c.value()).await?;
    }
    let gone = cookie(
        PATIENT_COOKIE,
        String::new(),
        state.app.config().https(),
        SameSite::Strict,
    );
    Ok((jar.remove(gone), Redirect::to("/mine/login")).into_response())
}

pub struct TaskRow {
    pub text: String,
    pub due: String,
    pub done: bool,
    /// Where to do it (a questionnaire's page).
    pub href: Option<String>,
}

pub struct EntryField {
    pub kind: &'static str,
    pub label: String,
    pub unit: String,
    pub two: bool,
    pub min: f64,
    pub max: f64,
    pub step: &'static str,
}

#[derive(Template)]
#[template(path = "mine_home.html")]
struct HomePage {
    l: Layout,
    name: String,
    tasks: Vec<TaskRow>,
    fields: Vec<EntryField>,
    charts: Vec<Chart>,
    paused: bool,
    result: Option<(String, String)>,
    plan: Option<crate::followup_plan_pages::VersionView>,
}

async fn patient_home(
    State(state): State<AppState>,
    ctx: RequestCtx,
    jar: CookieJar,
) -> Result<Response, PageError> {
    let Some(me) = me(&state, &jar).await? else {
        return Ok(Redirect::to("/mine/login").into_response());
    };
    show_home(&state, &ctx, &me, None).await
}

async fn show_home(
    state: &AppState,
    ctx: &RequestCtx,
    me: &PatientSelf,
    result: Option<(String, String)>,
) -> Result<Response, PageError> {
    let home = state.app.patient_home(me).await?;
    let l = Layout::new(state, ctx, tkey("mine-title")).await;
    let plan = crate::followup_plan_pages::mine_plan(state, me, &l).await?;
    let result = result.or_else(|| crate::followup_plan_pages::answered_message(&ctx.path, &l));
    let lang = lang_of(ctx.lang);
    let mut kinds: Vec<MeasurementKind> = home
        .tasks
        .iter()
        .filter_map(|t| match &t.task {
            Task::Measurement(k) => Some(*k),
            Task::Questionnaire(_) => None,
        })
        .collect();
    if kinds.is_empty() {
        kinds = vec![MeasurementKind::OxygenSaturation, MeasurementKind::Pulse];
    }
    kinds.dedup();
    let fields = kinds
        .iter()
        .map(|k| {
            let m = k.metrics()[0];
            let p = m.plausible();
            EntryField {
                kind: kind_code(*k),
                label: kind_name(*k, lang),
                unit: m.unit_display().to_owned(),
                two: k.metrics().len() == 2,
                min: p.min,
                max: p.max,
                step: if m.decimals() == 0 { "1" } else { "0.1" },
            }
        })
        .collect();
    let tasks = home
        .tasks
        .iter()
        .map(|t| {
            let (text, href) = match &t.task {
                Task::Measurement(k) => (kind_name(*k, lang), None),
                Task::Questionnaire(q) => crate::followup_plan_pages::questionnaire_task(q, lang),
            };
            TaskRow {
                text,
                due: oslo(t.due_at),
                done: t.done,
                href,
            }
        })
        .collect();
    render(&HomePage {
        name: me.name.clone(),
        tasks,
        fields,
        charts: charts(&home.readings, None, &l),
        paused: home.paused,
        result,
        plan,
        l,
    })
}

#[derive(Deserialize)]
struct ReadingForm {
    kind: String,
    value: String,
    #[serde(default)]
    value2: String,
}

async fn patient_reading(
    State(state): State<AppState>,
    ctx: RequestCtx,
    jar: CookieJar,
    PageForm(f): PageForm<ReadingForm>,
) -> Result<Response, PageError> {
    let Some(me) = me(&state, &jar).await? else {
        return Ok(Redirect::to("/mine/login").into_response());
    };
    let kind = kind_from_code(&f.kind).ok_or(AppError::invalid("kind", "choose a measurement"))?;
    let num = |s: &str, field: &str| -> Result<f64, AppError> {
        s.trim()
            .replace(',', ".")
            .parse::<f64>()
            .map_err(|_| AppError::invalid(field, "write the number you measured"))
    };
    let now = state.app.now();
    let obs = if kind == MeasurementKind::BloodPressure {
        Observation::blood_pressure(now, num(&f.value, "value")?, num(&f.value2, "value2")?)
    } else {
        Observation::manual(kind, now, num(&f.value, "value")?)
    };
    let done = state.app.patient_record_reading(&me, obs, &ctx.ip).await?;
    let l = Layout::new(&state, &ctx, tkey("mine-title")).await;
    let (cls, text) = match done.colour {
        Some(Colour::Red) => ("error", l.i.t("mine-result-red")),
        Some(Colour::Yellow) => ("warning", l.i.t("mine-result-yellow")),
        Some(Colour::Green) => ("notice", l.i.t("mine-result-green")),
        None => ("warning", l.i.t("mine-result-again")),
    };
    let mut res = show_home(&state, &ctx, &me, Some((cls.to_owned(), text))).await?;
    res.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    Ok(res)
}
