//! Staff roles and what each may do (least privilege, ID-3).
//!
//! Only roles that treat patients see health data, and even they see only the patients on
//! their care teams (checked by the access layer, not here). Administrators run the system
//! but never see health data; the data protection officer reads the audit log.

use serde::{Deserialize, Serialize};

#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Administrator,
    ServiceOwner,
    Clinician,
    FollowUpNurse,
    Superuser,
    Support,
    DataProtectionOfficer,
}

/// Something a staff member may be allowed to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Permission {
    /// Read and change health data of patients on the caller's care teams.
    TreatPatients,
    /// Register patients and put staff on their care teams.
    RegisterPatients,
    /// Create staff users, change roles, deactivate.
    ManageStaff,
    /// Service areas and organisation settings (support contact).
    ManageOrganisation,
    /// Search and read the audit log, review emergency access.
    ReadAuditLog,
    /// Aggregated statistics without personal data.
    ReadStatistics,
}

impl Role {
    pub const ALL: [Role; 7] = [
        Role::Administrator,
        Role::ServiceOwner,
        Role::Clinician,
        Role::FollowUpNurse,
        Role::Superuser,
        Role::Support,
        Role::DataProtectionOfficer,
    ];

    /// The stable code used in the database, the API and the command line.
    pub fn code(self) -> &'static str {
        match self {
            Role::Administrator => "administrator",
            Role::ServiceOwner => "service_owner",
            Role::Clinician => "clinician",
            Role::FollowUpNurse => "follow_up_nurse",
            Role::Superuser => "superuser",
            Role::Support => "support",
            Role::DataProtectionOfficer => "data_protection_officer",
        }
    }

    pub fn parse(code: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.code() == code)
    }

    /// The translation key of the role's display name.
    pub fn label_key(self) -> &'static str {
        match self {
            Role::Administrator => "role-administrator",
            Role::ServiceOwner => "role-service-owner",
            Role::Clinician => "role-clinician",
            Role::FollowUpNurse => "role-follow-up-nurse",
            Role::Superuser => "role-superuser",
            Role::Support => "role-support",
            Role::DataProtectionOfficer => "role-data-protection-officer",
        }
    }

    /// Whether the role works with patients' health data at all.
    pub fn sees_health_data(self) -> bool {
        self.can(Permission::TreatPatients)
    }

    pub fn can(self, permission: Permission) -> bool {
        use Permission::*;
        match self {
            Role::Administrator => matches!(
                permission,
                ManageStaff | ManageOrganisation | RegisterPatients | ReadStatistics | ReadAuditLog
            ),
            Role::ServiceOwner => matches!(permission, ReadStatistics),
            Role::Clinician | Role::FollowUpNurse => {
                matches!(permission, TreatPatients | RegisterPatients)
            }
            Role::Superuser => matches!(permission, TreatPatients),
            Role::Support => false,
            Role::DataProtectionOfficer => matches!(permission, ReadAuditLog),
        }
    }
}

/// True when any of `roles` grants `permission`.
pub fn any_can(roles: &[Role], permission: Permission) -> bool {
    roles.iter().any(|r| r.can(permission))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.code()), Some(role));
        }
        assert_eq!(Role::parse("root"), None);
    }

    #[test]
    fn least_privilege() {
        assert!(!Role::Administrator.sees_health_data());
        assert!(!Role::Support.sees_health_data());
        assert!(!Role::DataProtectionOfficer.sees_health_data());
        assert!(!Role::ServiceOwner.sees_health_data());
        assert!(Role::Clinician.sees_health_data());
        assert!(Role::FollowUpNurse.sees_health_data());
        assert!(Role::DataProtectionOfficer.can(Permission::ReadAuditLog));
        assert!(Role::Administrator.can(Permission::ReadAuditLog));
        assert!(!Role::Clinician.can(Permission::ReadAuditLog));
        assert!(any_can(
            &[Role::Support, Role::Clinician],
            Permission::TreatPatients
        ));
    }
}
