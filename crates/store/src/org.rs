//! The organisation (one per deployment), its settings, and its service areas (units).

use crate::audit::{append_in, commit_one_with_audit};
use crate::{NewAuditEntry, Result, Store, StoreError, ms, uuid};
use helsebro_domain::{Role, new_id};
use jiff::Timestamp;
use sqlx::Row;
use uuid::Uuid;

/// Organisation-level settings an administrator changes without a restart.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Organisation {
    pub name: String,
    pub support_phone: String,
    pub support_email: String,
    pub support_hours: String,
    /// Roles that must use two-factor login.
    pub totp_roles: Vec<Role>,
    /// Which reminders patients get, and when.
    pub notices: NoticeSettings,
}

/// Notification settings of the organisation (NT-1).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct NoticeSettings {
    /// A reminder ten days before an appointment.
    pub reminder_ten_days: bool,
    /// A reminder the day before, with the self-test link.
    pub reminder_day_before: bool,
    /// Local time (Europe/Oslo) the reminders go out, `HH:MM`.
    pub reminder_time: String,
    /// Whether messages may name the service area (off: only the organisation is named).
    pub name_service_area: bool,
}

impl Default for NoticeSettings {
    fn default() -> Self {
        NoticeSettings {
            reminder_ten_days: true,
            reminder_day_before: true,
            reminder_time: "12:00".into(),
            name_service_area: false,
        }
    }
}

impl Organisation {
    /// The defaults for a new deployment: every role that sees health data, plus the
    /// administrator and the data protection officer, must use two-factor login.
    pub fn initial(name: &str) -> Organisation {
        Organisation {
            name: name.to_owned(),
            support_phone: "+47 00 00 00 00".into(),
            support_email: "support@example.invalid".into(),
            support_hours: "08:00–15:30".into(),
            totp_roles: Role::ALL
                .into_iter()
                .filter(|r| {
                    r.sees_health_data()
                        || matches!(r, Role::Administrator | Role::DataProtectionOfficer)
                })
                .collect(),
            notices: NoticeSettings::default(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnitKind {
    HomeCare,
    NursingHome,
    Hospital,
    GeneralPractice,
    FollowUpCentre,
    Other,
}

impl UnitKind {
    pub const ALL: [UnitKind; 6] = [
        UnitKind::HomeCare,
        UnitKind::NursingHome,
        UnitKind::Hospital,
        UnitKind::GeneralPractice,
        UnitKind::FollowUpCentre,
        UnitKind::Other,
    ];

    pub fn code(self) -> &'static str {
        match self {
            UnitKind::HomeCare => "home_care",
            UnitKind::NursingHome => "nursing_home",
            UnitKind::Hospital => "hospital",
            UnitKind::GeneralPractice => "general_practice",
            UnitKind::FollowUpCentre => "follow_up_centre",
            UnitKind::Other => "other",
        }
    }

    pub fn parse(code: &str) -> Option<UnitKind> {
        UnitKind::ALL.into_iter().find(|k| k.code() == code)
    }
}

/// A service area (tjenesteområde), e.g. home care or a nursing home.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Unit {
    pub id: Uuid,
    pub name: String,
    pub kind: UnitKind,
    pub active: bool,
}

fn roles_to_text(roles: &[Role]) -> String {
    roles.iter().map(|r| r.code()).collect::<Vec<_>>().join(" ")
}

impl Store {
    /// The organisation's settings; `None` before first start-up has created them.
    pub async fn organisation(&self) -> Result<Option<Organisation>> {
        let row = sqlx::query(
            "SELECT name, support_phone, support_email, support_hours, totp_roles, reminder_ten_days, \
             reminder_day_before, reminder_time, name_service_area FROM organisation LIMIT 1",
        )
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| -> Result<Organisation> {
            let roles: String = r.try_get("totp_roles")?;
            Ok(Organisation {
                name: r.try_get("name")?,
                support_phone: r.try_get("support_phone")?,
                support_email: r.try_get("support_email")?,
                support_hours: r.try_get("support_hours")?,
                totp_roles: roles.split_whitespace().filter_map(Role::parse).collect(),
                notices: NoticeSettings {
                    reminder_ten_days: r.try_get::<i64, _>("reminder_ten_days")? != 0,
                    reminder_day_before: r.try_get::<i64, _>("reminder_day_before")? != 0,
                    reminder_time: r.try_get("reminder_time")?,
                    name_service_area: r.try_get::<i64, _>("name_service_area")? != 0,
                },
            })
        })
        .transpose()
    }

    /// Creates the organisation row if there is none. Returns whether it was created.
    pub async fn ensure_organisation(
        &self,
        initial: &Organisation,
        now: Timestamp,
    ) -> Result<bool> {
        let mut tx = self.pool.begin().await?;
        let exists = sqlx::query("SELECT id FROM organisation LIMIT 1")
            .fetch_optional(&mut *tx)
            .await?;
        if exists.is_some() {
            return Ok(false);
        }
        sqlx::query(
            "INSERT INTO organisation (id, name, support_phone, support_email, support_hours, totp_roles, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(new_id().to_string())
        .bind(&initial.name)
        .bind(&initial.support_phone)
        .bind(&initial.support_email)
        .bind(&initial.support_hours)
        .bind(roles_to_text(&initial.totp_roles))
        .bind(ms(now))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    pub async fn update_organisation(
        &self,
        org: &Organisation,
        audit: &NewAuditEntry,
        now: Timestamp,
    ) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "UPDATE organisation SET name = $1, support_phone = $2, support_email = $3, \
             support_hours = $4, totp_roles = $5, updated_at = $6, reminder_ten_days = $7, \
             reminder_day_before = $8, reminder_time = $9, name_service_area = $10",
        )
        .bind(&org.name)
        .bind(&org.support_phone)
        .bind(&org.support_email)
        .bind(&org.support_hours)
        .bind(roles_to_text(&org.totp_roles))
        .bind(ms(now))
        .bind(i64::from(org.notices.reminder_ten_days))
        .bind(i64::from(org.notices.reminder_day_before))
        .bind(&org.notices.reminder_time)
        .bind(i64::from(org.notices.name_service_area))
        .execute(&mut *tx)
        .await?;
        append_in(&mut tx, audit, now).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn units(&self) -> Result<Vec<Unit>> {
        let rows = sqlx::query("SELECT id, name, kind, active FROM units ORDER BY name")
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(unit_from_row).collect()
    }

    pub async fn unit(&self, id: Uuid) -> Result<Option<Unit>> {
        let row = sqlx::query("SELECT id, name, kind, active FROM units WHERE id = $1")
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(unit_from_row).transpose()
    }

    pub async fn create_unit(
        &self,
        name: &str,
        kind: UnitKind,
        audit: Option<&NewAuditEntry>,
        now: Timestamp,
    ) -> Result<Unit> {
        let id = new_id();
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO units (id, name, kind, active, created_at) VALUES ($1, $2, $3, 1, $4)",
        )
        .bind(id.to_string())
        .bind(name)
        .bind(kind.code())
        .bind(ms(now))
        .execute(&mut *tx)
        .await
        .map_err(|e| StoreError::conflict_or(e, "a service area with that name"))?;
        if let Some(audit) = audit {
            let audit = NewAuditEntry {
                object: format!("unit:{id}"),
                ..audit.clone()
            };
            append_in(&mut tx, &audit, now).await?;
        }
        tx.commit().await?;
        Ok(Unit {
            id,
            name: name.to_owned(),
            kind,
            active: true,
        })
    }

    /// Renames, changes kind, or (de)activates a unit. Returns false if it does not exist.
    pub async fn update_unit(
        &self,
        unit: &Unit,
        audit: &NewAuditEntry,
        now: Timestamp,
    ) -> Result<bool> {
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query("UPDATE units SET name = $1, kind = $2, active = $3 WHERE id = $4")
            .bind(&unit.name)
            .bind(unit.kind.code())
            .bind(i64::from(unit.active))
            .bind(unit.id.to_string())
            .execute(&mut *tx)
            .await
            .map_err(|e| StoreError::conflict_or(e, "a service area with that name"))?;
        commit_one_with_audit(tx, done.rows_affected(), audit, now).await
    }
}

fn unit_from_row(r: &sqlx::any::AnyRow) -> Result<Unit> {
    let kind: String = r.try_get("kind")?;
    Ok(Unit {
        id: uuid(&r.try_get::<String, _>("id")?)?,
        name: r.try_get("name")?,
        kind: UnitKind::parse(&kind)
            .ok_or_else(|| StoreError::Corrupt(format!("unit kind {kind}")))?,
        active: r.try_get::<i64, _>("active")? != 0,
    })
}
