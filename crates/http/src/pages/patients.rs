//! The start page with the work list, and the patient pages. Every handler that shows or
//! changes a patient takes `PatientRead` or `PatientChange`: access checked and audit-logged.

use super::{Layout, PageForm, language_options, principal_roles, render, team_role_label, tkey};
use crate::AppState;
use crate::error::PageError;
use crate::session::{PatientChange, PatientRead, Staff};
use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use helsebro_app::AppError;
use helsebro_app::patients::{ContactChange, PatientRecord, TEAM_ROLES};
use helsebro_app::types::PatientSummary;
use helsebro_domain::{Language, NewPatient, Permission};
use serde::Deserialize;
use uuid::Uuid;

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    l: Layout,
    name: String,
    roles: String,
    treats_patients: bool,
    patients: Vec<PatientSummary>,
    shortcuts: Vec<(&'static str, String)>,
    today: Vec<super::appointments::DayRow>,
    roles_for_invitee: Vec<(&'static str, String)>,
}

pub async fn home(
    State(state): State<AppState>,
    Staff(p, ctx): Staff,
) -> Result<Response, PageError> {
    let mut patients = state.app.my_patients(&p).await?;
    let today = if p.can(Permission::TreatPatients) {
        state.app.appointments_ahead(&p).await?
    } else {
        Vec::new()
    };
    let l = Layout::new(&state, &ctx, tkey("home-title")).await;
    for patient in &mut patients {
        patient.team_role = team_role_label(&l.i, &patient.team_role);
    }
    let mut shortcuts = Vec::new();
    if p.can(Permission::TreatPatients) {
        shortcuts.push(("/appointments", l.i.t("nav-appointments")));
        shortcuts.push(("/appointments/new", l.i.t("appointment-new-title")));
        shortcuts.push(("/followup", l.i.t("fu-worklist-title")));
    }
    if p.can(Permission::RegisterPatients) {
        shortcuts.push(("/patients/new", l.i.t("nav-new-patient")));
    }
    if p.can(Permission::ManageStaff) {
        shortcuts.push(("/admin/staff", l.i.t("nav-staff")));
        shortcuts.push(("/admin/units", l.i.t("nav-units")));
        shortcuts.push(("/admin/settings", l.i.t("nav-settings")));
        shortcuts.push(("/admin/outbox", l.i.t("nav-outbox")));
    }
    if p.can(Permission::ReadAuditLog) {
        shortcuts.push(("/audit", l.i.t("nav-audit")));
    }
    shortcuts.push(("/me/calendar", l.i.t("calendar-title")));
    let roles = principal_roles(&l.i, &p);
    let today = super::appointments::day_rows(&l.i, &today, Some(state.app.today()));
    let roles_for_invitee = super::appointments::role_options(&l.i);
    render(&HomePage {
        l,
        name: p.display_name.clone(),
        roles,
        treats_patients: p.can(Permission::TreatPatients),
        today,
        roles_for_invitee,
        patients,
        shortcuts,
    })
}

#[derive(Template)]
#[template(path = "patient_new.html")]
struct NewPatientPage {
    l: Layout,
    language_options: Vec<(&'static str, &'static str, bool)>,
}

pub async fn new_page(
    State(state): State<AppState>,
    Staff(p, ctx): Staff,
) -> Result<Response, PageError> {
    p.require(Permission::RegisterPatients)?;
    render(&NewPatientPage {
        l: Layout::new(&state, &ctx, tkey("patient-new-title")).await,
        language_options: language_options(Language::Nb),
    })
}

#[derive(Deserialize)]
pub struct NewPatientForm {
    name: String,
    birth_date: String,
    national_id: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    email: String,
    language: String,
}

pub async fn create(
    State(state): State<AppState>,
    Staff(p, ctx): Staff,
    PageForm(f): PageForm<NewPatientForm>,
) -> Result<Response, PageError> {
    let language =
        Language::parse(&f.language).ok_or(AppError::invalid("language", "choose a language"))?;
    let new = NewPatient {
        name: f.name,
        birth_date: f.birth_date,
        national_id: f.national_id,
        phone: f.phone,
        email: f.email,
        language,
    };
    let id = state.app.register_patient(&p, &new, &ctx.ip).await?;
    Ok(Redirect::to(&format!("/patients/{id}?done=registered")).into_response())
}

#[derive(Template)]
#[template(path = "emergency.html")]
struct EmergencyPage {
    l: Layout,
    patient_id: Uuid,
}

#[derive(Deserialize)]
pub struct FindForm {
    national_id: String,
}

/// Finds a patient by national identity number (posted, never in a URL). On the care team:
/// open the record. Otherwise: offer emergency access with a reason.
pub async fn find(
    State(state): State<AppState>,
    Staff(p, ctx): Staff,
    PageForm(f): PageForm<FindForm>,
) -> Result<Response, PageError> {
    let Some(id) = state.app.find_patient(&p, &f.national_id).await? else {
        return Err(AppError::NotFound("a patient with that national identity number").into());
    };
    let on_team = state.app.my_patients(&p).await?.iter().any(|s| s.id == id);
    if on_team {
        return Ok(Redirect::to(&format!("/patients/{id}")).into_response());
    }
    render(&EmergencyPage {
        l: Layout::new(&state, &ctx, tkey("emergency-title")).await,
        patient_id: id,
    })
}

#[derive(Deserialize)]
pub struct ReasonForm {
    reason: String,
}

pub async fn emergency_access(
    State(state): State<AppState>,
    Staff(p, ctx): Staff,
    Path(patient_id): Path<Uuid>,
    PageForm(f): PageForm<ReasonForm>,
) -> Result<Response, PageError> {
    state
        .app
        .grant_emergency_access(&p, patient_id, &f.reason, &ctx.ip)
        .await?;
    Ok(Redirect::to(&format!("/patients/{patient_id}")).into_response())
}

#[derive(Template)]
#[template(path = "patient.html")]
struct PatientPage {
    l: Layout,
    record: PatientRecord,
    language_name: &'static str,
    language_options: Vec<(&'static str, &'static str, bool)>,
    clinicians: Vec<(Uuid, String)>,
    team_roles: Vec<(&'static str, String)>,
}

pub async fn show(
    State(state): State<AppState>,
    PatientRead(access, ctx): PatientRead,
) -> Result<Response, PageError> {
    let mut record = state.app.patient_record(&access).await?;
    let l = Layout::new(&state, &ctx, tkey("patient-title")).await;
    for m in &mut record.care_team {
        m.team_role = team_role_label(&l.i, &m.team_role);
    }
    let on_team: Vec<Uuid> = record.care_team.iter().map(|m| m.staff_id).collect();
    let clinicians = state
        .app
        .clinical_staff(access.principal())
        .await?
        .into_iter()
        .filter(|(id, _)| !on_team.contains(id))
        .collect();
    let language = record.patient.language;
    render(&PatientPage {
        team_roles: TEAM_ROLES
            .iter()
            .map(|r| (*r, team_role_label(&l.i, r)))
            .collect(),
        l,
        language_name: language.endonym(),
        language_options: language_options(language),
        record,
        clinicians,
    })
}

#[derive(Deserialize)]
pub struct ContactForm {
    #[serde(default)]
    phone: String,
    #[serde(default)]
    email: String,
    language: String,
}

pub async fn change_contact(
    State(state): State<AppState>,
    PatientChange(access, _ctx): PatientChange,
    PageForm(f): PageForm<ContactForm>,
) -> Result<Response, PageError> {
    let language =
        Language::parse(&f.language).ok_or(AppError::invalid("language", "choose a language"))?;
    let change = ContactChange {
        phone: f.phone,
        email: f.email,
        language,
    };
    state.app.change_patient_contact(&access, &change).await?;
    Ok(Redirect::to(&format!("/patients/{}?done=saved", access.patient_id())).into_response())
}

#[derive(Deserialize)]
pub struct TeamForm {
    staff_id: Uuid,
    team_role: String,
}

pub async fn add_team_member(
    State(state): State<AppState>,
    PatientChange(access, _ctx): PatientChange,
    PageForm(f): PageForm<TeamForm>,
) -> Result<Response, PageError> {
    state
        .app
        .set_care_team_member(&access, f.staff_id, &f.team_role)
        .await?;
    Ok(Redirect::to(&format!("/patients/{}?done=team", access.patient_id())).into_response())
}
