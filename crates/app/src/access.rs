//! Access control as types (ID-3, ID-4).
//!
//! A [`StaffPrincipal`] is a logged-in staff member. A [`PatientAccess`] proves that this
//! principal may see or change one patient's data *and* that the access has been written to
//! the audit log. It has private fields, so the only way to get one is
//! [`App::authorize_patient`]; every function that returns or changes patient data takes one.

use crate::App;
use crate::error::{AppError, Result};
use helsebro_domain::role::any_can;
use helsebro_domain::{AuditAction, AuditOutcome, Language, Permission, Role};
use helsebro_store::NewAuditEntry;
use uuid::Uuid;

/// A logged-in staff member, as seen by one request.
#[derive(Debug, Clone)]
pub struct StaffPrincipal {
    pub id: Uuid,
    pub username: String,
    pub display_name: String,
    pub roles: Vec<Role>,
    pub language: Option<Language>,
    /// The session's CSRF token, checked on every state-changing request.
    pub csrf_token: String,
    /// The stored hash of the session token.
    pub session_hash: String,
}

impl StaffPrincipal {
    pub fn can(&self, permission: Permission) -> bool {
        any_can(&self.roles, permission)
    }

    /// Fails with 403 unless one of the principal's roles grants `permission`.
    pub fn require(&self, permission: Permission) -> Result<()> {
        if self.can(permission) {
            Ok(())
        } else {
            Err(AppError::Forbidden("your role does not allow this"))
        }
    }
}

/// Why patient data is being accessed; recorded in the audit log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    Read,
    Change,
}

/// Proof that access to one patient was allowed and audit-logged.
#[derive(Debug)]
pub struct PatientAccess {
    principal: StaffPrincipal,
    patient_id: Uuid,
    purpose: Purpose,
    ip: String,
    emergency: bool,
}

impl PatientAccess {
    pub fn patient_id(&self) -> Uuid {
        self.patient_id
    }

    pub fn principal(&self) -> &StaffPrincipal {
        &self.principal
    }

    pub fn purpose(&self) -> Purpose {
        self.purpose
    }

    /// True when access is through an emergency grant rather than the care team.
    pub fn is_emergency(&self) -> bool {
        self.emergency
    }

    /// An audit entry for a change made under this access.
    pub(crate) fn audit(
        &self,
        action: AuditAction,
        object: String,
        detail: String,
    ) -> NewAuditEntry {
        NewAuditEntry {
            actor_id: Some(self.principal.id),
            actor_label: self.principal.username.clone(),
            action,
            outcome: AuditOutcome::Success,
            patient_id: Some(self.patient_id),
            object,
            ip: self.ip.clone(),
            detail,
            flagged: self.emergency,
        }
    }
}

impl App {
    /// Checks that `principal` may access `patient_id` for `purpose`: a role that treats
    /// patients, and membership of the patient's care team or an unexpired emergency grant.
    /// Writes the audit entry — allowed or denied — before returning.
    pub async fn authorize_patient(
        &self,
        principal: &StaffPrincipal,
        patient_id: Uuid,
        purpose: Purpose,
        ip: &str,
    ) -> Result<PatientAccess> {
        let store = self.store();
        let action = match purpose {
            Purpose::Read => AuditAction::PatientRead,
            Purpose::Change => AuditAction::PatientUpdated,
        };
        let mut entry = NewAuditEntry {
            actor_id: Some(principal.id),
            actor_label: principal.username.clone(),
            action,
            outcome: AuditOutcome::Denied,
            patient_id: Some(patient_id),
            object: String::new(),
            ip: ip.to_owned(),
            detail: String::new(),
            flagged: false,
        };
        if !principal.can(Permission::TreatPatients) {
            entry.detail = "role does not treat patients".into();
            store.append_audit(&entry, self.now()).await?;
            return Err(AppError::Forbidden(
                "your role does not give access to patient data",
            ));
        }
        if !store.patient_exists(patient_id).await? {
            // Unknown ids answer exactly like ids outside the team, so ids cannot be probed.
            entry.detail = "no such patient".into();
            store.append_audit(&entry, self.now()).await?;
            return Err(AppError::Forbidden("this patient is not on your care team"));
        }
        let on_team = store.is_on_care_team(patient_id, principal.id).await?;
        let emergency = !on_team
            && store
                .active_emergency_grant(principal.id, patient_id, self.now())
                .await?
                .is_some();
        if !on_team && !emergency {
            entry.detail = "not on the care team".into();
            store.append_audit(&entry, self.now()).await?;
            return Err(AppError::Forbidden("this patient is not on your care team"));
        }
        // Reads are logged here; a change is logged by the change itself, in its transaction.
        if purpose == Purpose::Read {
            entry.outcome = AuditOutcome::Success;
            entry.flagged = emergency;
            if emergency {
                entry.detail = "emergency access".into();
            }
            store.append_audit(&entry, self.now()).await?;
        }
        Ok(PatientAccess {
            principal: principal.clone(),
            patient_id,
            purpose,
            ip: ip.to_owned(),
            emergency,
        })
    }

    /// Opens access to a patient outside the caller's care team, for a stated reason. The
    /// grant lasts `emergency_access_hours`, and the audit entry is flagged for review.
    pub async fn grant_emergency_access(
        &self,
        principal: &StaffPrincipal,
        patient_id: Uuid,
        reason: &str,
        ip: &str,
    ) -> Result<()> {
        principal.require(Permission::TreatPatients)?;
        let reason = reason.trim();
        if reason.chars().count() < 10 {
            return Err(AppError::invalid(
                "reason",
                "explain in a sentence why you need access (at least 10 characters)",
            ));
        }
        if reason.chars().count() > 500 {
            return Err(AppError::invalid(
                "reason",
                "the reason may be at most 500 characters",
            ));
        }
        if !self.store().patient_exists(patient_id).await? {
            return Err(AppError::NotFound("the patient"));
        }
        let now = self.now();
        let expires =
            now + jiff::SignedDuration::from_hours(i64::from(self.config().emergency_access_hours));
        let entry = NewAuditEntry {
            actor_id: Some(principal.id),
            actor_label: principal.username.clone(),
            action: AuditAction::EmergencyAccess,
            outcome: AuditOutcome::Success,
            patient_id: Some(patient_id),
            object: String::new(),
            ip: ip.to_owned(),
            detail: reason.to_owned(),
            flagged: true,
        };
        self.store()
            .grant_emergency_access(principal.id, patient_id, reason, &entry, now, expires)
            .await?;
        Ok(())
    }
}
