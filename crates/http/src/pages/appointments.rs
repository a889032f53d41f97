//! Video appointment pages: the day's list, the booking form, one appointment (invitees, new
//! links shown once, move, cancel, outcome), and "start video now".

use super::{Layout, PageForm, language_options, render, tkey};
use crate::AppState;
use crate::error::PageError;
use crate::session::Staff;
use askama::Template;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use helsebro_app::appointments::{
    AppointmentDetails, AppointmentItem, BookingInput, InviteeInput, MoveInput, NewLink,
    OutcomeInput, RoomInput,
};
use helsebro_app::calls::LiveState;
use helsebro_app::types::{CallPolicy, InviteeRole, Outcome};
use helsebro_app::{AppError, StaffPrincipal};
use helsebro_domain::Language;
use helsebro_i18n::Tr;
use jiff::Timestamp;
use serde::Deserialize;
use uuid::Uuid;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/appointments", get(day_page).post(book))
        .route("/appointments/new", get(new_page))
        .route("/appointments/{appointment_id}", get(show))
        .route("/appointments/{appointment_id}/invitations", post(invite))
        .route(
            "/appointments/{appointment_id}/invitations/{invitation_id}/revoke",
            post(revoke),
        )
        .route("/appointments/{appointment_id}/move", post(move_to))
        .route("/appointments/{appointment_id}/cancel", post(cancel))
        .route("/appointments/{appointment_id}/outcome", post(outcome))
        .route("/rooms", post(start_room))
}

// ---- display helpers ----------------------------------------------------------------------

fn oslo() -> jiff::tz::TimeZone {
    jiff::tz::TimeZone::get("Europe/Oslo").unwrap_or(jiff::tz::TimeZone::UTC)
}

/// `HH:MM` in Norwegian time.
pub fn clock(t: Timestamp) -> String {
    t.to_zoned(oslo()).strftime("%H:%M").to_string()
}

/// `DD.MM.YYYY HH:MM` in Norwegian time.
pub fn date_time(t: Timestamp) -> String {
    t.to_zoned(oslo()).strftime("%d.%m.%Y %H:%M").to_string()
}

pub fn live_label(i: &Tr, s: LiveState) -> String {
    i.t(match s {
        LiveState::Idle => tkey("appointment-live-idle"),
        LiveState::Waiting => tkey("appointment-live-waiting"),
        LiveState::InCall => tkey("appointment-live-in-call"),
        LiveState::Ended => tkey("appointment-live-ended"),
    })
}

pub fn outcome_label(i: &Tr, o: Outcome) -> String {
    i.t(match o {
        Outcome::Held => tkey("outcome-held"),
        Outcome::NoShow => tkey("outcome-no-show"),
        Outcome::FallbackPhone => tkey("outcome-fallback-phone"),
        Outcome::FallbackPhysical => tkey("outcome-fallback-physical"),
        Outcome::Cancelled => tkey("outcome-cancelled"),
    })
}

fn role_label(i: &Tr, r: InviteeRole) -> String {
    i.t(match r {
        InviteeRole::Patient => tkey("invitee-role-patient"),
        InviteeRole::Relative => tkey("invitee-role-relative"),
        InviteeRole::Interpreter => tkey("invitee-role-interpreter"),
        InviteeRole::External => tkey("invitee-role-external"),
        InviteeRole::Staff => tkey("invitee-role-staff"),
    })
}

fn policy_label(i: &Tr, p: CallPolicy) -> String {
    i.t(match p {
        CallPolicy::Consultation => tkey("policy-consultation"),
        CallPolicy::Administrative => tkey("policy-administrative"),
    })
}

pub fn role_options(i: &Tr) -> Vec<(&'static str, String)> {
    InviteeRole::ALL
        .iter()
        .map(|r| (r.code(), role_label(i, *r)))
        .collect()
}

/// One line of a day's list, ready to show.
pub struct DayRow {
    pub id: Uuid,
    pub time: String,
    pub who: String,
    pub state: String,
    pub outcome: String,
}

/// Rows for a list of appointments. With `today`, an appointment on another day says which
/// ("tomorrow 00:10–00:40"), as the home page's list reaches past midnight.
pub fn day_rows(
    i: &Tr,
    items: &[AppointmentItem],
    today: Option<jiff::civil::Date>,
) -> Vec<DayRow> {
    items
        .iter()
        .map(|item| {
            let a = &item.appointment;
            let who = match (&a.patient_name, a.title.is_empty()) {
                (Some(name), true) => name.clone(),
                (Some(name), false) => format!("{name} – {}", a.title),
                (None, false) => a.title.clone(),
                (None, true) => i.t(tkey("appointment-no-patient")),
            };
            DayRow {
                id: a.id,
                time: {
                    let span = format!("{}–{}", clock(a.starts_at), clock(a.ends_at()));
                    let day = a.starts_at.to_zoned(oslo()).date();
                    match today {
                        Some(t) if day != t && t.tomorrow().ok() == Some(day) => {
                            format!("{} {span}", i.t(tkey("appointment-tomorrow")))
                        }
                        Some(t) if day != t => {
                            format!("{} {span}", day.strftime("%d.%m.%Y"))
                        }
                        _ => span,
                    }
                },
                who,
                state: if a.cancelled_at.is_some() {
                    i.t(tkey("appointment-cancelled"))
                } else {
                    live_label(i, item.live_state)
                },
                outcome: a.outcome.map(|o| outcome_label(i, o)).unwrap_or_default(),
            }
        })
        .collect()
}

fn pairs(body: &Bytes) -> Vec<(String, String)> {
    form_urlencoded::parse(body)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

fn field(pairs: &[(String, String)], name: &str) -> String {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.trim().to_owned())
        .unwrap_or_default()
}

fn opt_uuid(pairs: &[(String, String)], name: &str) -> Result<Option<Uuid>, AppError> {
    let v = field(pairs, name);
    if v.is_empty() {
        return Ok(None);
    }
    Uuid::parse_str(&v)
        .map(Some)
        .map_err(|_| AppError::invalid(name, "choose from the list"))
}

/// How many invitee rows the booking form has.
const INVITEE_ROWS: usize = 3;

fn invitee_from(
    pairs: &[(String, String)],
    prefix: &str,
) -> Result<Option<InviteeInput>, AppError> {
    let name = field(pairs, &format!("{prefix}name"));
    let phone = field(pairs, &format!("{prefix}phone"));
    let email = field(pairs, &format!("{prefix}email"));
    if name.is_empty() && phone.is_empty() && email.is_empty() {
        return Ok(None);
    }
    let role_field = format!("{prefix}role");
    let role = InviteeRole::parse(&field(pairs, &role_field))
        .ok_or(AppError::invalid(&role_field, "choose a role"))?;
    let language = Language::parse(&field(pairs, &format!("{prefix}language")));
    Ok(Some(InviteeInput {
        role,
        display_name: name,
        phone,
        email,
        language,
    }))
}

// ---- the day's list -------------------------------------------------------------------------

#[derive(Deserialize)]
pub struct DayQuery {
    #[serde(default)]
    date: String,
}

#[derive(Template)]
#[template(path = "appointments.html")]
struct DayPage {
    l: Layout,
    date: String,
    rows: Vec<DayRow>,
}

pub async fn day_page(
    State(state): State<AppState>,
    Staff(p, ctx): Staff,
    Query(q): Query<DayQuery>,
) -> Result<Response, PageError> {
    let items = state.app.appointments_on(&p, &q.date).await?;
    let l = Layout::new(&state, &ctx, tkey("appointments-title")).await;
    let date = if q.date.trim().is_empty() {
        state.app.today().to_string()
    } else {
        q.date.trim().to_owned()
    };
    render(&DayPage {
        rows: day_rows(&l.i, &items, None),
        l,
        date,
    })
}

// ---- booking -------------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "appointment_new.html")]
struct NewPage {
    l: Layout,
    me: Uuid,
    today: String,
    patients: Vec<(Uuid, String)>,
    staff: Vec<(Uuid, String)>,
    units: Vec<(Uuid, String)>,
    roles: Vec<(&'static str, String)>,
    rows: Vec<usize>,
    language_options: Vec<(&'static str, &'static str, bool)>,
}

pub async fn new_page(
    State(state): State<AppState>,
    Staff(p, ctx): Staff,
) -> Result<Response, PageError> {
    p.require(helsebro_domain::Permission::TreatPatients)?;
    let patients = state
        .app
        .my_patients(&p)
        .await?
        .into_iter()
        .map(|s| (s.id, format!("{} ({})", s.name, s.birth_date)))
        .collect();
    let staff = state.app.clinical_staff(&p).await?;
    let units = state.app.active_units().await?;
    let l = Layout::new(&state, &ctx, tkey("appointment-new-title")).await;
    render(&NewPage {
        roles: role_options(&l.i),
        l,
        me: p.id,
        today: state.app.today().to_string(),
        patients,
        staff,
        units,
        rows: (0..INVITEE_ROWS).collect(),
        language_options: language_options(Language::Nb),
    })
}

pub async fn book(
    State(state): State<AppState>,
    Staff(p, ctx): Staff,
    body: Bytes,
) -> Result<Response, PageError> {
    let f = pairs(&body);
    let mut invitees = Vec::new();
    for n in 0..INVITEE_ROWS {
        if let Some(i) = invitee_from(&f, &format!("inv{n}_"))? {
            invitees.push(i);
        }
    }
    let hosts = f
        .iter()
        .filter(|(k, _)| k == "hosts")
        .map(|(_, v)| {
            Uuid::parse_str(v).map_err(|_| AppError::invalid("hosts", "choose from the list"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let policy = CallPolicy::parse(&field(&f, "policy"))
        .ok_or(AppError::invalid("policy", "choose what the room is for"))?;
    let duration_minutes = field(&f, "duration_minutes")
        .parse()
        .map_err(|_| AppError::invalid("duration_minutes", "give the duration in minutes"))?;
    let input = BookingInput {
        patient_id: opt_uuid(&f, "patient_id")?,
        date: field(&f, "date"),
        time: field(&f, "time"),
        duration_minutes,
        unit_id: opt_uuid(&f, "unit_id")?,
        policy,
        title: field(&f, "title"),
        hosts,
        invitees,
    };
    let booked = state.app.book_appointment(&p, &input, &ctx.ip).await?;
    show_with_links(&state, &p, &ctx, booked.appointment_id, booked.links).await
}

// ---- one appointment -------------------------------------------------------------------------

pub struct InvitationRow {
    pub id: Uuid,
    pub name: String,
    pub role: String,
    pub contact: String,
    pub status: String,
    pub active: bool,
}

pub struct LinkRow {
    pub n: usize,
    pub name: String,
    pub role: String,
    pub link: String,
}

#[derive(Template)]
#[template(path = "appointment.html")]
struct ShowPage {
    l: Layout,
    id: Uuid,
    when: String,
    duration: i64,
    patient: Option<(Uuid, String)>,
    title: String,
    unit: String,
    policy: String,
    hosts: String,
    state: String,
    cancelled: bool,
    adhoc: bool,
    date: String,
    time: String,
    call_minutes: String,
    outcome: String,
    outcome_note: String,
    outcomes: Vec<(&'static str, String, bool)>,
    invitations: Vec<InvitationRow>,
    new_links: Vec<LinkRow>,
    roles: Vec<(&'static str, String)>,
    language_options: Vec<(&'static str, &'static str, bool)>,
}

async fn show_with_links(
    state: &AppState,
    p: &StaffPrincipal,
    ctx: &crate::session::RequestCtx,
    id: Uuid,
    links: Vec<NewLink>,
) -> Result<Response, PageError> {
    let d: AppointmentDetails = state.app.appointment_details(p, id, &ctx.ip).await?;
    let l = Layout::new(state, ctx, tkey("appointment-title")).await;
    let a = &d.appointment;
    let i = l.i;
    let now = state.app.now();
    let invitations = d
        .invitations
        .iter()
        .map(|inv| {
            let (status, active) = if inv.revoked_at.is_some() {
                (i.t(tkey("invitation-revoked")), false)
            } else if inv.spent_at.is_some() {
                (i.t(tkey("invitation-spent")), false)
            } else if inv.valid_until <= now {
                (i.t(tkey("invitation-expired")), false)
            } else {
                (
                    i.t1("invitation-valid", "from", &date_time(inv.valid_from)),
                    true,
                )
            };
            let contact = [inv.phone.clone(), inv.email.clone()]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(", ");
            InvitationRow {
                id: inv.id,
                name: inv.display_name.clone(),
                role: role_label(&i, inv.role),
                contact: if contact.is_empty() {
                    i.t(tkey("invitation-no-contact"))
                } else {
                    contact
                },
                status,
                active: active && a.cancelled_at.is_none(),
            }
        })
        .collect();
    let local = a.starts_at.to_zoned(oslo());
    let page = ShowPage {
        id: a.id,
        when: format!("{}–{}", date_time(a.starts_at), clock(a.ends_at())),
        duration: a.duration_minutes,
        patient: a.patient_id.zip(a.patient_name.clone()),
        title: a.title.clone(),
        unit: a.unit_name.clone().unwrap_or_else(|| "–".into()),
        policy: policy_label(&i, a.policy),
        hosts: a
            .hosts
            .iter()
            .map(|h| h.display_name.clone())
            .collect::<Vec<_>>()
            .join(", "),
        state: if a.cancelled_at.is_some() {
            i.t(tkey("appointment-cancelled"))
        } else {
            live_label(&i, d.live_state)
        },
        cancelled: a.cancelled_at.is_some(),
        adhoc: a.kind == helsebro_app::types::AppointmentKind::Adhoc,
        date: local.date().to_string(),
        time: local.strftime("%H:%M").to_string(),
        call_minutes: a.outcome_minutes.map(|m| m.to_string()).unwrap_or_default(),
        outcome: a.outcome.map(|o| outcome_label(&i, o)).unwrap_or_default(),
        outcome_note: a.outcome_note.clone(),
        outcomes: Outcome::ALL
            .iter()
            .map(|o| (o.code(), outcome_label(&i, *o), a.outcome == Some(*o)))
            .collect(),
        invitations,
        new_links: links
            .into_iter()
            .enumerate()
            .map(|(n, link)| LinkRow {
                n,
                name: link.display_name,
                role: role_label(&i, link.role),
                link: link.link,
            })
            .collect(),
        roles: role_options(&i),
        language_options: language_options(Language::Nb),
        l,
    };
    render(&page)
}

pub async fn show(
    State(state): State<AppState>,
    Staff(p, ctx): Staff,
    Path(id): Path<Uuid>,
) -> Result<Response, PageError> {
    show_with_links(&state, &p, &ctx, id, Vec::new()).await
}

pub async fn invite(
    State(state): State<AppState>,
    Staff(p, ctx): Staff,
    Path(id): Path<Uuid>,
    body: Bytes,
) -> Result<Response, PageError> {
    let f = pairs(&body);
    let input = invitee_from(&f, "")?.ok_or(AppError::invalid(
        "name",
        "give the name of the person to invite",
    ))?;
    let link = state.app.add_invitee(&p, id, &input, &ctx.ip).await?;
    show_with_links(&state, &p, &ctx, id, vec![link]).await
}

pub async fn revoke(
    State(state): State<AppState>,
    Staff(p, ctx): Staff,
    Path((id, invitation)): Path<(Uuid, Uuid)>,
) -> Result<Response, PageError> {
    state.app.revoke_invitation(&p, invitation, &ctx.ip).await?;
    Ok(Redirect::to(&format!("/appointments/{id}?done=saved")).into_response())
}

#[derive(Deserialize)]
pub struct MoveForm {
    date: String,
    time: String,
    duration_minutes: String,
}

pub async fn move_to(
    State(state): State<AppState>,
    Staff(p, ctx): Staff,
    Path(id): Path<Uuid>,
    PageForm(f): PageForm<MoveForm>,
) -> Result<Response, PageError> {
    let duration_minutes = f
        .duration_minutes
        .trim()
        .parse()
        .map_err(|_| AppError::invalid("duration_minutes", "give the duration in minutes"))?;
    let input = MoveInput {
        date: f.date,
        time: f.time,
        duration_minutes: Some(duration_minutes),
    };
    state.app.move_appointment(&p, id, &input, &ctx.ip).await?;
    Ok(Redirect::to(&format!("/appointments/{id}?done=saved")).into_response())
}

pub async fn cancel(
    State(state): State<AppState>,
    Staff(p, ctx): Staff,
    Path(id): Path<Uuid>,
) -> Result<Response, PageError> {
    state.app.cancel_appointment(&p, id, &ctx.ip).await?;
    Ok(Redirect::to(&format!("/appointments/{id}?done=saved")).into_response())
}

#[derive(Deserialize)]
pub struct OutcomeForm {
    outcome: String,
    #[serde(default)]
    minutes: String,
    #[serde(default)]
    note: String,
}

pub async fn outcome(
    State(state): State<AppState>,
    Staff(p, ctx): Staff,
    Path(id): Path<Uuid>,
    PageForm(f): PageForm<OutcomeForm>,
) -> Result<Response, PageError> {
    let outcome =
        Outcome::parse(&f.outcome).ok_or(AppError::invalid("outcome", "choose what happened"))?;
    let minutes = match f.minutes.trim() {
        "" => None,
        m => Some(
            m.parse()
                .map_err(|_| AppError::invalid("minutes", "give whole minutes"))?,
        ),
    };
    let input = OutcomeInput {
        outcome,
        minutes,
        note: f.note,
    };
    state.app.record_outcome(&p, id, &input, &ctx.ip).await?;
    Ok(Redirect::to(&format!("/appointments/{id}?done=saved")).into_response())
}

/// "Start video now" from the start page: opens the room and goes to the host's call page.
pub async fn start_room(
    State(state): State<AppState>,
    Staff(p, ctx): Staff,
    body: Bytes,
) -> Result<Response, PageError> {
    let f = pairs(&body);
    let invitee = invitee_from(&f, "")?;
    let input = RoomInput {
        patient_id: opt_uuid(&f, "patient_id")?,
        unit_id: None,
        invitee,
    };
    let room = state.app.start_room(&p, &input, &ctx.ip).await?;
    Ok(Redirect::to(&room.host_path).into_response())
}
