//! Running the organisation: settings and support contact (EV-4), service areas, staff,
//! the audit log search and emergency-access review (ID-4).

use crate::App;
use crate::access::StaffPrincipal;
use crate::auth::{check_password_policy, hash_password};
use crate::error::{AppError, FieldError, Result};
use helsebro_domain::patient::{is_plausible_email, normalise_phone};
use helsebro_domain::{AuditAction, AuditEntry, AuditOutcome, ChainBreak, Permission, Role};
use helsebro_store::{
    AuditFilter, EmergencyGrant, NewAuditEntry, NewStaff, NoticeSettings, Organisation,
    StaffChange, Unit, UnitKind,
};
use uuid::Uuid;

/// A staff member as shown to administrators (no secrets).
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct StaffView {
    pub id: Uuid,
    pub username: String,
    pub display_name: String,
    pub email: String,
    pub roles: Vec<Role>,
    pub unit_id: Option<Uuid>,
    pub active: bool,
    pub totp_enrolled: bool,
}

/// Input for creating a staff member.
#[derive(Debug, Clone, serde::Deserialize, utoipa::ToSchema)]
pub struct StaffInput {
    pub username: String,
    pub display_name: String,
    #[serde(default)]
    pub email: String,
    pub password: String,
    pub roles: Vec<Role>,
    #[serde(default)]
    pub unit_id: Option<Uuid>,
}

/// The support contact and two-factor policy, as an administrator edits them.
#[derive(Debug, Clone, serde::Deserialize, utoipa::ToSchema)]
pub struct SettingsInput {
    pub name: String,
    pub support_phone: String,
    pub support_email: String,
    pub support_hours: String,
    pub totp_roles: Vec<Role>,
    /// Reminder settings; left out, they stay as they are.
    #[serde(default)]
    pub notices: Option<NoticeSettings>,
}

fn entry(p: &StaffPrincipal, action: AuditAction, object: String, ip: &str) -> NewAuditEntry {
    NewAuditEntry {
        actor_id: Some(p.id),
        actor_label: p.username.clone(),
        action,
        outcome: AuditOutcome::Success,
        patient_id: None,
        object,
        ip: ip.to_owned(),
        detail: String::new(),
        flagged: false,
    }
}

/// Checks a username: 3–64 of a–z, 0–9, `.`, `_`, `-`.
pub fn check_username(username: &str) -> Result<()> {
    let ok = (3..=64).contains(&username.len())
        && username
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(AppError::invalid(
            "username",
            "use 3–64 lower-case letters (a–z), digits, '.', '_' or '-'",
        ))
    }
}

/// Problems with the fields every staff member has, all at once.
fn staff_field_errors(display_name: &str, email: &str, roles: &[Role]) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let mut problem = |field: &str, message: &str| {
        errors.push(FieldError {
            field: field.into(),
            message: message.into(),
        })
    };
    if display_name.trim().is_empty() || display_name.chars().count() > 200 {
        problem(
            "display_name",
            "give the person's name (at most 200 characters)",
        );
    }
    if !email.trim().is_empty() && !is_plausible_email(email.trim()) {
        problem("email", "not a valid e-mail address");
    }
    if roles.is_empty() {
        problem("roles", "choose at least one role");
    }
    errors
}

impl App {
    /// The organisation's settings (created at first start-up).
    pub async fn organisation(&self) -> Result<Organisation> {
        self.store().organisation().await?.ok_or_else(|| {
            AppError::Internal(
                "the organisation has not been set up; run `helsebro migrate`".into(),
            )
        })
    }

    pub async fn update_settings(
        &self,
        p: &StaffPrincipal,
        input: &SettingsInput,
        ip: &str,
    ) -> Result<()> {
        p.require(Permission::ManageOrganisation)?;
        let mut errors = Vec::new();
        if input.name.trim().is_empty() || input.name.len() > 200 {
            errors.push(FieldError {
                field: "name".into(),
                message: "give the organisation a name (at most 200 characters)".into(),
            });
        }
        let phone = match normalise_phone(&input.support_phone) {
            Ok(Some(p)) => p,
            Ok(None) => {
                errors.push(FieldError {
                    field: "support_phone".into(),
                    message: "patients need a number to call".into(),
                });
                String::new()
            }
            Err(m) => {
                errors.push(FieldError {
                    field: "support_phone".into(),
                    message: m.into(),
                });
                String::new()
            }
        };
        if !is_plausible_email(input.support_email.trim()) {
            errors.push(FieldError {
                field: "support_email".into(),
                message: "not a valid e-mail address".into(),
            });
        }
        if input.support_hours.trim().is_empty() || input.support_hours.len() > 200 {
            errors.push(FieldError {
                field: "support_hours".into(),
                message: "say when support answers (at most 200 characters)".into(),
            });
        }
        let notices = match &input.notices {
            Some(n) => {
                let time = n.reminder_time.trim();
                if jiff::civil::Time::strptime("%H:%M", time).is_err() {
                    errors.push(FieldError {
                        field: "reminder_time".into(),
                        message: "give the time as HH:MM, e.g. 12:00".into(),
                    });
                }
                NoticeSettings {
                    reminder_time: time.to_owned(),
                    ..n.clone()
                }
            }
            None => self.organisation().await?.notices,
        };
        if !errors.is_empty() {
            return Err(AppError::Invalid(errors));
        }
        let mut roles = input.totp_roles.clone();
        roles.sort();
        roles.dedup();
        let org = Organisation {
            name: input.name.trim().to_owned(),
            support_phone: phone,
            support_email: input.support_email.trim().to_owned(),
            support_hours: input.support_hours.trim().to_owned(),
            totp_roles: roles,
            notices,
        };
        let e = entry(p, AuditAction::SettingsChanged, "organisation".into(), ip);
        Ok(self
            .store()
            .update_organisation(&org, &e, self.now())
            .await?)
    }

    pub async fn units(&self) -> Result<Vec<Unit>> {
        Ok(self.store().units().await?)
    }

    pub async fn create_unit(
        &self,
        p: &StaffPrincipal,
        name: &str,
        kind: UnitKind,
        ip: &str,
    ) -> Result<Unit> {
        p.require(Permission::ManageOrganisation)?;
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 120 {
            return Err(AppError::invalid(
                "name",
                "give the service area a name (at most 120 characters)",
            ));
        }
        let e = entry(p, AuditAction::UnitChanged, String::new(), ip);
        Ok(self
            .store()
            .create_unit(name, kind, Some(&e), self.now())
            .await?)
    }

    pub async fn update_unit(&self, p: &StaffPrincipal, unit: &Unit, ip: &str) -> Result<()> {
        p.require(Permission::ManageOrganisation)?;
        if unit.name.trim().is_empty() || unit.name.chars().count() > 120 {
            return Err(AppError::invalid(
                "name",
                "give the service area a name (at most 120 characters)",
            ));
        }
        let e = entry(p, AuditAction::UnitChanged, format!("unit:{}", unit.id), ip);
        if self.store().update_unit(unit, &e, self.now()).await? {
            Ok(())
        } else {
            Err(AppError::NotFound("the service area"))
        }
    }

    pub async fn staff_list(&self, p: &StaffPrincipal) -> Result<Vec<StaffView>> {
        p.require(Permission::ManageStaff)?;
        Ok(self
            .store()
            .all_staff()
            .await?
            .into_iter()
            .map(|s| StaffView {
                id: s.id,
                username: s.username,
                display_name: s.display_name,
                email: s.email,
                roles: s.roles,
                unit_id: s.unit_id,
                active: s.active,
                totp_enrolled: s.totp_secret.is_some(),
            })
            .collect())
    }

    /// Creates a staff member. `p` is `None` only for the command line and first start-up.
    pub async fn create_staff(
        &self,
        p: Option<&StaffPrincipal>,
        input: &StaffInput,
        ip: &str,
    ) -> Result<Uuid> {
        if let Some(p) = p {
            p.require(Permission::ManageStaff)?;
        }
        let username = input.username.trim().to_lowercase();
        check_username(&username)?;
        let mut errors = staff_field_errors(&input.display_name, &input.email, &input.roles);
        if let Err(AppError::Invalid(mut e)) = check_password_policy(&input.password) {
            errors.append(&mut e);
        }
        if !errors.is_empty() {
            return Err(AppError::Invalid(errors));
        }
        if let Some(unit) = input.unit_id
            && self.store().unit(unit).await?.is_none()
        {
            return Err(AppError::invalid("unit_id", "no such service area"));
        }
        let hash = hash_password(input.password.clone()).await?;
        let mut roles = input.roles.clone();
        roles.sort();
        roles.dedup();
        let new = NewStaff {
            username,
            display_name: input.display_name.trim().to_owned(),
            email: input.email.trim().to_owned(),
            password_hash: hash,
            unit_id: input.unit_id,
            roles,
        };
        let e = match p {
            Some(p) => entry(p, AuditAction::StaffCreated, String::new(), ip),
            None => NewAuditEntry {
                actor_id: None,
                actor_label: "system".into(),
                action: AuditAction::StaffCreated,
                outcome: AuditOutcome::Success,
                patient_id: None,
                object: String::new(),
                ip: ip.to_owned(),
                detail: String::new(),
                flagged: false,
            },
        };
        Ok(self
            .store()
            .create_staff(&new, Some(&e), self.now())
            .await?)
    }

    /// Changes a staff member's name, e-mail, roles, unit and active flag. Deactivating ends
    /// their sessions at once.
    pub async fn update_staff(
        &self,
        p: &StaffPrincipal,
        id: Uuid,
        change: &StaffChange,
        ip: &str,
    ) -> Result<()> {
        p.require(Permission::ManageStaff)?;
        if id == p.id && (!change.active || !change.roles.contains(&Role::Administrator)) {
            return Err(AppError::Conflict(
                "you cannot remove your own administrator access".into(),
            ));
        }
        let errors = staff_field_errors(&change.display_name, &change.email, &change.roles);
        if !errors.is_empty() {
            return Err(AppError::Invalid(errors));
        }
        if let Some(unit) = change.unit_id
            && self.store().unit(unit).await?.is_none()
        {
            return Err(AppError::invalid("unit_id", "no such service area"));
        }
        let mut roles = change.roles.clone();
        roles.sort();
        roles.dedup();
        let change = StaffChange {
            display_name: change.display_name.trim().to_owned(),
            email: change.email.trim().to_owned(),
            roles,
            ..change.clone()
        };
        let e = entry(p, AuditAction::StaffUpdated, format!("staff:{id}"), ip);
        if self
            .store()
            .update_staff(id, &change, &e, self.now())
            .await?
        {
            Ok(())
        } else {
            Err(AppError::NotFound("the staff member"))
        }
    }

    /// Searches the audit log; the search itself is logged too.
    pub async fn search_audit(
        &self,
        p: &StaffPrincipal,
        filter: &AuditFilter,
        ip: &str,
    ) -> Result<Vec<AuditEntry>> {
        p.require(Permission::ReadAuditLog)?;
        let mut e = entry(p, AuditAction::AuditSearched, String::new(), ip);
        e.patient_id = filter.patient_id;
        self.store().append_audit(&e, self.now()).await?;
        Ok(self.store().search_audit(filter).await?)
    }

    /// Who has accessed this patient's data (for the patient's own insight, and the DPO).
    pub async fn access_history(
        &self,
        p: &StaffPrincipal,
        patient_id: Uuid,
        ip: &str,
    ) -> Result<Vec<AuditEntry>> {
        let filter = AuditFilter {
            patient_id: Some(patient_id),
            limit: 500,
            ..AuditFilter::default()
        };
        self.search_audit(p, &filter, ip).await
    }

    pub async fn unreviewed_emergency_access(
        &self,
        p: &StaffPrincipal,
    ) -> Result<Vec<EmergencyGrant>> {
        p.require(Permission::ReadAuditLog)?;
        Ok(self.store().unreviewed_emergency_grants().await?)
    }

    pub async fn mark_emergency_reviewed(&self, p: &StaffPrincipal, grant: Uuid) -> Result<()> {
        p.require(Permission::ReadAuditLog)?;
        if self
            .store()
            .mark_emergency_reviewed(grant, p.id, self.now())
            .await?
        {
            Ok(())
        } else {
            Err(AppError::NotFound(
                "an unreviewed emergency access with that id",
            ))
        }
    }

    /// Checks the whole audit hash chain (`helsebro audit verify`).
    pub async fn verify_audit_chain(&self) -> Result<Result<i64, ChainBreak>> {
        Ok(self.store().verify_audit_chain().await?)
    }
}
