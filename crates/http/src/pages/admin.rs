//! Administration pages (staff, service areas, settings) and the audit log search.

use super::{Layout, render, role_names, tkey};
use crate::AppState;
use crate::error::PageError;
use crate::session::Staff;
use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use helsebro_app::AppError;
use helsebro_app::admin::{SettingsInput, StaffInput};
use helsebro_app::types::{
    AuditFilter, NoticeSettings, Organisation, OutboxChannel, StaffChange, UnitKind,
};
use helsebro_domain::{AuditAction, Language, Permission, Role};
use helsebro_i18n::Tr;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use serde::Deserialize;
use uuid::Uuid;

/// Times are stored in UTC and shown in Norwegian time.
fn oslo(t: jiff::Timestamp) -> String {
    let tz = TimeZone::get("Europe/Oslo").unwrap_or(TimeZone::UTC);
    t.to_zoned(tz).strftime("%Y-%m-%d %H:%M:%S").to_string()
}

fn unit_kind_label(i: &Tr, k: UnitKind) -> String {
    i.t(match k {
        UnitKind::HomeCare => tkey("unit-kind-home-care"),
        UnitKind::NursingHome => tkey("unit-kind-nursing-home"),
        UnitKind::Hospital => tkey("unit-kind-hospital"),
        UnitKind::GeneralPractice => tkey("unit-kind-general-practice"),
        UnitKind::FollowUpCentre => tkey("unit-kind-follow-up-centre"),
        UnitKind::Other => tkey("unit-kind-other"),
    })
}

/// Form bodies with repeated fields (checkboxes) as pairs.
fn pairs(body: &Bytes) -> Vec<(String, String)> {
    form_urlencoded::parse(body)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

fn field(pairs: &[(String, String)], name: &str) -> String {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.clone())
        .unwrap_or_default()
}

fn roles_from(pairs: &[(String, String)], name: &str) -> Result<Vec<Role>, AppError> {
    pairs
        .iter()
        .filter(|(k, _)| k == name)
        .map(|(_, v)| Role::parse(v).ok_or(AppError::invalid(name, format!("unknown role {v:?}"))))
        .collect()
}

struct StaffRow {
    id: Uuid,
    email: String,
    active: bool,
    /// Every role: code, name, held.
    role_flags: Vec<(&'static str, String, bool)>,
    username: String,
    name: String,
    roles: String,
    totp: String,
    status: String,
}

#[derive(Template)]
#[template(path = "admin_staff.html")]
struct StaffPage {
    l: Layout,
    staff: Vec<StaffRow>,
    units: Vec<(Uuid, String)>,
    role_options: Vec<(&'static str, String)>,
}

pub async fn staff_page(
    State(state): State<AppState>,
    Staff(p, ctx): Staff,
) -> Result<Response, PageError> {
    let staff = state.app.staff_list(&p).await?;
    let units = state.app.units().await?;
    let l = Layout::new(&state, &ctx, tkey("staff-title")).await;
    let i = l.i;
    render(&StaffPage {
        staff: staff
            .into_iter()
            .map(|s| StaffRow {
                id: s.id,
                email: s.email.clone(),
                active: s.active,
                role_flags: Role::ALL
                    .iter()
                    .map(|r| (r.code(), i.t(r.label_key()), s.roles.contains(r)))
                    .collect(),
                username: s.username,
                name: s.display_name,
                roles: role_names(&i, &s.roles),
                totp: i.t(if s.totp_enrolled {
                    tkey("yes")
                } else {
                    tkey("no")
                }),
                status: i.t(if s.active {
                    "staff-active"
                } else {
                    "staff-inactive"
                }),
            })
            .collect(),
        units: units
            .into_iter()
            .filter(|u| u.active)
            .map(|u| (u.id, u.name))
            .collect(),
        role_options: Role::ALL
            .iter()
            .map(|r| (r.code(), i.t(r.label_key())))
            .collect(),
        l,
    })
}

pub async fn staff_create(
    State(state): State<AppState>,
    Staff(p, ctx): Staff,
    body: Bytes,
) -> Result<Response, PageError> {
    let f = pairs(&body);
    let unit = field(&f, "unit_id");
    let unit_id = if unit.is_empty() {
        None
    } else {
        Some(
            Uuid::parse_str(&unit)
                .map_err(|_| AppError::invalid("unit_id", "no such service area"))?,
        )
    };
    let input = StaffInput {
        username: field(&f, "username"),
        display_name: field(&f, "display_name"),
        email: field(&f, "email"),
        password: field(&f, "password"),
        roles: roles_from(&f, "role")?,
        unit_id,
    };
    state.app.create_staff(Some(&p), &input, &ctx.ip).await?;
    Ok(Redirect::to("/admin/staff?done=created").into_response())
}

pub async fn staff_update(
    State(state): State<AppState>,
    Staff(p, ctx): Staff,
    Path(staff_id): Path<Uuid>,
    body: Bytes,
) -> Result<Response, PageError> {
    let f = pairs(&body);
    let existing = state
        .app
        .staff_list(&p)
        .await?
        .into_iter()
        .find(|s| s.id == staff_id);
    let existing = existing.ok_or(AppError::NotFound("the staff member"))?;
    let change = StaffChange {
        display_name: field(&f, "display_name"),
        email: field(&f, "email"),
        unit_id: existing.unit_id,
        active: field(&f, "active") == "1",
        roles: roles_from(&f, "role")?,
    };
    state
        .app
        .update_staff(&p, staff_id, &change, &ctx.ip)
        .await?;
    Ok(Redirect::to("/admin/staff?done=saved").into_response())
}

#[derive(Template)]
#[template(path = "admin_units.html")]
struct UnitsPage {
    l: Layout,
    units: Vec<(String, String)>,
    kinds: Vec<(&'static str, String)>,
}

pub async fn units_page(
    State(state): State<AppState>,
    Staff(p, ctx): Staff,
) -> Result<Response, PageError> {
    p.require(Permission::ManageOrganisation)?;
    let units = state.app.units().await?;
    let l = Layout::new(&state, &ctx, tkey("units-title")).await;
    let i = l.i;
    render(&UnitsPage {
        units: units
            .into_iter()
            .map(|u| (u.name, unit_kind_label(&i, u.kind)))
            .collect(),
        kinds: UnitKind::ALL
            .iter()
            .map(|k| (k.code(), unit_kind_label(&i, *k)))
            .collect(),
        l,
    })
}

#[derive(Deserialize)]
pub struct UnitForm {
    name: String,
    kind: String,
}

pub async fn units_create(
    State(state): State<AppState>,
    Staff(p, ctx): Staff,
    super::PageForm(f): super::PageForm<UnitForm>,
) -> Result<Response, PageError> {
    let kind = UnitKind::parse(&f.kind)
        .ok_or(AppError::invalid("kind", "choose a kind of service area"))?;
    state.app.create_unit(&p, &f.name, kind, &ctx.ip).await?;
    Ok(Redirect::to("/admin/units?done=created").into_response())
}

#[derive(Template)]
#[template(path = "admin_settings.html")]
struct SettingsPage {
    l: Layout,
    org: Organisation,
    role_options: Vec<(&'static str, String, bool)>,
}

pub async fn settings_page(
    State(state): State<AppState>,
    Staff(p, ctx): Staff,
) -> Result<Response, PageError> {
    p.require(Permission::ManageOrganisation)?;
    let org = state.app.organisation().await?;
    let l = Layout::new(&state, &ctx, tkey("settings-title")).await;
    let i = l.i;
    render(&SettingsPage {
        role_options: Role::ALL
            .iter()
            .map(|r| (r.code(), i.t(r.label_key()), org.totp_roles.contains(r)))
            .collect(),
        org,
        l,
    })
}

pub async fn settings_save(
    State(state): State<AppState>,
    Staff(p, ctx): Staff,
    body: Bytes,
) -> Result<Response, PageError> {
    let f = pairs(&body);
    let input = SettingsInput {
        name: field(&f, "name"),
        support_phone: field(&f, "support_phone"),
        support_email: field(&f, "support_email"),
        support_hours: field(&f, "support_hours"),
        totp_roles: roles_from(&f, "totp_role")?,
        notices: Some(NoticeSettings {
            reminder_ten_days: field(&f, "reminder_ten_days") == "1",
            reminder_day_before: field(&f, "reminder_day_before") == "1",
            reminder_time: field(&f, "reminder_time"),
            name_service_area: field(&f, "name_service_area") == "1",
        }),
    };
    state.app.update_settings(&p, &input, &ctx.ip).await?;
    Ok(Redirect::to("/admin/settings?done=saved").into_response())
}

#[derive(Deserialize, Default)]
pub struct AuditQuery {
    #[serde(default)]
    actor: String,
    #[serde(default)]
    patient_id: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    flagged: Option<String>,
}

struct AuditRow {
    seq: i64,
    when: String,
    who: String,
    action: String,
    outcome: String,
    patient: String,
    ip: String,
    detail: String,
    flagged: bool,
}

struct GrantRow {
    id: Uuid,
    when: String,
    who: String,
    patient: String,
    reason: String,
}

struct AuditQueryView {
    actor: String,
    patient_id: String,
    from: String,
    to: String,
    flagged: bool,
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    l: Layout,
    chain_status: String,
    chain_class: &'static str,
    grants: Vec<GrantRow>,
    q: AuditQueryView,
    actions: Vec<(&'static str, bool)>,
    count: String,
    entries: Vec<AuditRow>,
}

fn oslo_day_start(d: &str, next_day: bool) -> Result<Option<jiff::Timestamp>, AppError> {
    if d.is_empty() {
        return Ok(None);
    }
    let date: Date = d
        .parse()
        .map_err(|_| AppError::invalid("date", "use the form YYYY-MM-DD"))?;
    let date = if next_day {
        date.tomorrow()
            .map_err(|_| AppError::invalid("date", "date out of range"))?
    } else {
        date
    };
    let tz = TimeZone::get("Europe/Oslo").unwrap_or(TimeZone::UTC);
    date.to_zoned(tz)
        .map(|z| Some(z.timestamp()))
        .map_err(|_| AppError::invalid("date", "date out of range"))
}

pub async fn audit_page(
    State(state): State<AppState>,
    Staff(p, ctx): Staff,
    Query(q): Query<AuditQuery>,
) -> Result<Response, PageError> {
    p.require(Permission::ReadAuditLog)?;
    let patient_id = if q.patient_id.trim().is_empty() {
        None
    } else {
        Some(
            Uuid::parse_str(q.patient_id.trim())
                .map_err(|_| AppError::invalid("patient_id", "not a patient id"))?,
        )
    };
    let filter = AuditFilter {
        actor_label: (!q.actor.trim().is_empty()).then(|| q.actor.trim().to_owned()),
        patient_id,
        action: (!q.action.is_empty()).then(|| q.action.clone()),
        from: oslo_day_start(&q.from, false)?,
        to: oslo_day_start(&q.to, true)?,
        flagged_only: q.flagged.is_some(),
        limit: 200,
        ..AuditFilter::default()
    };
    let entries = state.app.search_audit(&p, &filter, &ctx.ip).await?;
    let grants = state.app.unreviewed_emergency_access(&p).await?;
    let chain = state.app.verify_audit_chain().await?;
    let l = Layout::new(&state, &ctx, tkey("audit-title")).await;
    let i = l.i;
    let (chain_status, chain_class) = match chain {
        Ok(n) => (i.t1("audit-chain-ok", "count", &n.to_string()), "ok"),
        Err(br) => (format!("{} {br}", i.t("audit-chain-broken")), "broken"),
    };
    let actions = AuditAction::ALL
        .iter()
        .map(|a| (a.code(), a.code() == q.action))
        .collect();
    render(&AuditPage {
        actions,
        chain_status,
        chain_class,
        grants: grants
            .into_iter()
            .map(|g| GrantRow {
                id: g.id,
                when: oslo(g.granted_at),
                who: g.staff_username,
                patient: g.patient_id.to_string(),
                reason: g.reason,
            })
            .collect(),
        q: AuditQueryView {
            actor: q.actor,
            patient_id: q.patient_id,
            from: q.from,
            to: q.to,
            flagged: q.flagged.is_some(),
        },
        count: entries.len().to_string(),
        entries: entries
            .into_iter()
            .map(|e| AuditRow {
                seq: e.seq,
                when: oslo(e.at),
                who: e.actor_label,
                action: e.action,
                outcome: e.outcome,
                patient: e.patient_id.map(|u| u.to_string()).unwrap_or_default(),
                ip: e.ip,
                detail: e.detail,
                flagged: e.flagged,
            })
            .collect(),
        l,
    })
}

pub async fn emergency_reviewed(
    State(state): State<AppState>,
    Staff(p, _ctx): Staff,
    Path(grant_id): Path<Uuid>,
) -> Result<Response, PageError> {
    state.app.mark_emergency_reviewed(&p, grant_id).await?;
    Ok(Redirect::to("/audit?done=reviewed").into_response())
}

struct OutboxRow {
    created: String,
    kind: String,
    channel: &'static str,
    recipient: String,
    status: String,
    attempts: i64,
    answer: String,
    subject: String,
    body: String,
}

#[derive(Template)]
#[template(path = "admin_outbox.html")]
struct OutboxPage {
    l: Layout,
    providers: String,
    counts: Vec<(String, i64)>,
    messages: Vec<OutboxRow>,
    language_options: Vec<(&'static str, &'static str, bool)>,
}

pub async fn outbox_page(
    State(state): State<AppState>,
    Staff(p, ctx): Staff,
) -> Result<Response, PageError> {
    let view = state.app.outbox(&p, 200).await?;
    let l = Layout::new(&state, &ctx, tkey("outbox-title")).await;
    let cfg = state.app.config();
    let providers = l.i.t2(
        "outbox-providers",
        ("email", &cfg.email_provider),
        ("sms", &cfg.sms_provider),
    );
    let language_options = super::language_options(ctx.lang);
    render(&OutboxPage {
        providers,
        counts: view.counts,
        messages: view
            .messages
            .into_iter()
            .map(|m| OutboxRow {
                created: oslo(m.created_at),
                kind: m.kind,
                channel: m.channel.code(),
                recipient: m.recipient,
                status: m.status,
                attempts: m.attempts,
                answer: m.last_answer,
                subject: m.subject,
                body: m.body,
            })
            .collect(),
        language_options,
        l,
    })
}

#[derive(Deserialize)]
pub struct TestMessageForm {
    channel: String,
    recipient: String,
    language: String,
}

pub async fn outbox_test(
    State(state): State<AppState>,
    Staff(p, ctx): Staff,
    super::PageForm(f): super::PageForm<TestMessageForm>,
) -> Result<Response, PageError> {
    let channel = OutboxChannel::parse(&f.channel)
        .ok_or(AppError::invalid("channel", "choose email or sms"))?;
    let language = Language::parse(&f.language).unwrap_or_default();
    state
        .app
        .send_test_message(&p, channel, &f.recipient, language, &ctx.ip)
        .await?;
    Ok(Redirect::to("/admin/outbox?done=queued").into_response())
}
