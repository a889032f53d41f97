//! Patients: registration, the care team's view of a patient, contact details, care teams.

use crate::App;
use crate::access::{PatientAccess, Purpose, StaffPrincipal};
use crate::error::{AppError, FieldError, Result};
use helsebro_domain::patient::{is_plausible_email, normalise_phone};
use helsebro_domain::{AuditAction, AuditOutcome, Language, NationalId, NewPatient, Permission};
use helsebro_store::{CareTeamMember, NewAuditEntry, Patient, PatientSummary};
use uuid::Uuid;

/// The team roles a staff member can have for one patient (HF-1 uses the last three).
pub const TEAM_ROLES: [&str; 4] = ["responsible", "following_up", "advising", "referring"];

/// What a care-team member sees of a patient.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct PatientRecord {
    #[schema(value_type = Object)]
    pub patient: Patient,
    #[schema(value_type = Vec<Object>)]
    pub care_team: Vec<CareTeamMember>,
    /// True when seen through emergency access (shown as a warning).
    pub emergency: bool,
}

/// Changes to a patient's contact details.
#[derive(Debug, Clone, serde::Deserialize, utoipa::ToSchema)]
pub struct ContactChange {
    #[serde(default)]
    pub phone: String,
    #[serde(default)]
    pub email: String,
    pub language: Language,
}

impl App {
    /// Registers a patient; the registering staff member joins the care team as responsible.
    pub async fn register_patient(
        &self,
        principal: &StaffPrincipal,
        new: &NewPatient,
        ip: &str,
    ) -> Result<Uuid> {
        principal.require(Permission::RegisterPatients)?;
        let valid = new.validate().map_err(|errors| {
            AppError::Invalid(
                errors
                    .into_iter()
                    .map(|e| FieldError {
                        field: e.field.to_owned(),
                        message: e.message,
                    })
                    .collect(),
            )
        })?;
        let entry = NewAuditEntry {
            actor_id: Some(principal.id),
            actor_label: principal.username.clone(),
            action: AuditAction::PatientCreated,
            outcome: AuditOutcome::Success,
            patient_id: None,
            object: String::new(),
            ip: ip.to_owned(),
            detail: String::new(),
            flagged: false,
        };
        let unit = self
            .store()
            .staff_by_id(principal.id)
            .await?
            .and_then(|s| s.unit_id);
        Ok(self
            .store()
            .create_patient(&valid, unit, principal.id, &entry, self.now())
            .await?)
    }

    /// The patients on the caller's care teams (the work list).
    pub async fn my_patients(&self, principal: &StaffPrincipal) -> Result<Vec<PatientSummary>> {
        if !principal.can(Permission::TreatPatients) {
            return Ok(Vec::new());
        }
        Ok(self.store().patients_of(principal.id).await?)
    }

    /// Active staff who treat patients (id, name), for choosing care-team members.
    pub async fn clinical_staff(&self, principal: &StaffPrincipal) -> Result<Vec<(Uuid, String)>> {
        principal.require(Permission::TreatPatients)?;
        Ok(self
            .store()
            .all_staff()
            .await?
            .into_iter()
            .filter(|s| s.active && s.roles.iter().any(|r| r.sees_health_data()))
            .map(|s| (s.id, s.display_name))
            .collect())
    }

    /// Finds a patient by national identity number, for the search form (the number never
    /// goes in a URL). Returns the id only; opening the record goes through access control.
    pub async fn find_patient(
        &self,
        principal: &StaffPrincipal,
        national_id: &str,
    ) -> Result<Option<Uuid>> {
        principal.require(Permission::TreatPatients)?;
        let nid = NationalId::parse(national_id).map_err(|e| {
            AppError::invalid(
                "national_id",
                format!("not a valid national identity number: {e}"),
            )
        })?;
        Ok(self.store().patient_id_by_national_id(nid.as_str()).await?)
    }

    pub async fn patient_record(&self, access: &PatientAccess) -> Result<PatientRecord> {
        let patient = self
            .store()
            .patient(access.patient_id())
            .await?
            .ok_or(AppError::NotFound("the patient"))?;
        let care_team = self.store().care_team(access.patient_id()).await?;
        Ok(PatientRecord {
            patient,
            care_team,
            emergency: access.is_emergency(),
        })
    }

    pub async fn change_patient_contact(
        &self,
        access: &PatientAccess,
        change: &ContactChange,
    ) -> Result<()> {
        require_change(access)?;
        let phone = normalise_phone(&change.phone).map_err(|m| AppError::invalid("phone", m))?;
        let email = change.email.trim();
        if !email.is_empty() && !is_plausible_email(email) {
            return Err(AppError::invalid("email", "not a valid e-mail address"));
        }
        let entry = access.audit(
            AuditAction::PatientUpdated,
            String::new(),
            "contact details".into(),
        );
        let email = (!email.is_empty()).then_some(email);
        let done = self
            .store()
            .update_patient_contact(
                access.patient_id(),
                phone.as_deref(),
                email,
                change.language,
                &entry,
                self.now(),
            )
            .await?;
        if done {
            Ok(())
        } else {
            Err(AppError::NotFound("the patient"))
        }
    }

    /// Adds a staff member who treats patients to the care team, or changes their team role.
    pub async fn set_care_team_member(
        &self,
        access: &PatientAccess,
        staff_id: Uuid,
        team_role: &str,
    ) -> Result<()> {
        require_change(access)?;
        if !TEAM_ROLES.contains(&team_role) {
            return Err(AppError::invalid(
                "team_role",
                format!("choose one of: {}", TEAM_ROLES.join(", ")),
            ));
        }
        let staff = self
            .store()
            .staff_by_id(staff_id)
            .await?
            .ok_or(AppError::NotFound("the staff member"))?;
        if !staff.active || !staff.roles.iter().any(|r| r.sees_health_data()) {
            return Err(AppError::invalid(
                "staff_id",
                "only active staff who treat patients can join a care team",
            ));
        }
        let entry = access.audit(
            AuditAction::CareTeamChanged,
            format!("staff:{staff_id}"),
            format!("set {team_role}"),
        );
        Ok(self
            .store()
            .set_care_team_member(access.patient_id(), staff_id, team_role, &entry, self.now())
            .await?)
    }

    pub async fn remove_care_team_member(
        &self,
        access: &PatientAccess,
        staff_id: Uuid,
    ) -> Result<()> {
        require_change(access)?;
        let team = self.store().care_team(access.patient_id()).await?;
        if team.len() == 1 && team[0].staff_id == staff_id {
            return Err(AppError::Conflict(
                "the care team cannot be left empty".into(),
            ));
        }
        let entry = access.audit(
            AuditAction::CareTeamChanged,
            format!("staff:{staff_id}"),
            "removed".into(),
        );
        if self
            .store()
            .remove_care_team_member(access.patient_id(), staff_id, &entry, self.now())
            .await?
        {
            Ok(())
        } else {
            Err(AppError::NotFound("that care team member"))
        }
    }
}

fn require_change(access: &PatientAccess) -> Result<()> {
    if access.purpose() == Purpose::Change {
        Ok(())
    } else {
        Err(AppError::Forbidden(
            "this access was granted for reading only",
        ))
    }
}
