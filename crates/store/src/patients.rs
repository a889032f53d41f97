//! Patients, their care teams and emergency access grants.
//!
//! The functions that return a patient's data are called only by the app crate's access
//! layer, which checks care-team membership and writes the audit entry first.

use crate::audit::{append_in, commit_one_with_audit};
use crate::{NewAuditEntry, Result, Store, StoreError, ms, opt_uuid, ts, uuid};
use helsebro_domain::patient::ValidPatient;
use helsebro_domain::{Language, new_id};
use jiff::Timestamp;
use jiff::civil::Date;
use sqlx::Row;
use uuid::Uuid;

#[derive(Debug, Clone, serde::Serialize)]
pub struct Patient {
    pub id: Uuid,
    pub name: String,
    pub birth_date: Date,
    /// 11 digits; shown to the care team, never put in a URL or a log.
    pub national_id: String,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub language: Language,
    pub unit_id: Option<Uuid>,
}

/// A line in a staff member's patient list.
#[derive(Debug, Clone, serde::Serialize)]
pub struct PatientSummary {
    pub id: Uuid,
    pub name: String,
    pub birth_date: Date,
    pub team_role: String,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct CareTeamMember {
    pub staff_id: Uuid,
    pub display_name: String,
    pub team_role: String,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct EmergencyGrant {
    pub id: Uuid,
    pub staff_id: Uuid,
    pub staff_username: String,
    pub patient_id: Uuid,
    pub reason: String,
    pub granted_at: Timestamp,
    pub expires_at: Timestamp,
    pub reviewed_by: Option<Uuid>,
}

impl Store {
    /// Registers a patient and puts `registered_by` on the care team, in one transaction.
    pub async fn create_patient(
        &self,
        p: &ValidPatient,
        unit_id: Option<Uuid>,
        registered_by: Uuid,
        audit: &NewAuditEntry,
        now: Timestamp,
    ) -> Result<Uuid> {
        let id = new_id();
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO patients (id, name, birth_date, national_id, phone, email, language, unit_id, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)",
        )
        .bind(id.to_string())
        .bind(&p.name)
        .bind(p.birth_date.to_string())
        .bind(p.national_id.as_str())
        .bind(p.phone.as_deref())
        .bind(p.email.as_deref())
        .bind(p.language.code())
        .bind(unit_id.map(|u| u.to_string()))
        .bind(ms(now))
        .execute(&mut *tx)
        .await
        .map_err(|e| StoreError::conflict_or(e, "a patient with that national identity number"))?;
        sqlx::query("INSERT INTO care_team (patient_id, staff_id, team_role, added_at) VALUES ($1, $2, $3, $4)")
            .bind(id.to_string())
            .bind(registered_by.to_string())
            .bind("responsible")
            .bind(ms(now))
            .execute(&mut *tx)
            .await?;
        let audit = NewAuditEntry {
            patient_id: Some(id),
            ..audit.clone()
        };
        append_in(&mut tx, &audit, now).await?;
        tx.commit().await?;
        Ok(id)
    }

    pub async fn patient(&self, id: Uuid) -> Result<Option<Patient>> {
        let row = sqlx::query(
            "SELECT id, name, birth_date, national_id, phone, email, language, unit_id FROM patients WHERE id = $1",
        )
        .bind(id.to_string())
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| -> Result<Patient> {
            let birth: String = r.try_get("birth_date")?;
            let lang: String = r.try_get("language")?;
            Ok(Patient {
                id: uuid(&r.try_get::<String, _>("id")?)?,
                name: r.try_get("name")?,
                birth_date: birth
                    .parse()
                    .map_err(|_| StoreError::Corrupt(format!("birth date {birth}")))?,
                national_id: r.try_get("national_id")?,
                phone: r.try_get("phone")?,
                email: r.try_get("email")?,
                language: Language::parse(&lang).unwrap_or_default(),
                unit_id: opt_uuid(r.try_get("unit_id")?)?,
            })
        })
        .transpose()
    }

    pub async fn patient_exists(&self, id: Uuid) -> Result<bool> {
        let row = sqlx::query("SELECT id FROM patients WHERE id = $1")
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.is_some())
    }

    /// Finds a patient's id by national identity number (for the search form; never a URL).
    pub async fn patient_id_by_national_id(&self, national_id: &str) -> Result<Option<Uuid>> {
        let row = sqlx::query("SELECT id FROM patients WHERE national_id = $1")
            .bind(national_id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| uuid(&r.try_get::<String, _>("id")?))
            .transpose()
    }

    /// Changes contact details and language. Returns false if the patient does not exist.
    pub async fn update_patient_contact(
        &self,
        id: Uuid,
        phone: Option<&str>,
        email: Option<&str>,
        language: Language,
        audit: &NewAuditEntry,
        now: Timestamp,
    ) -> Result<bool> {
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query(
            "UPDATE patients SET phone = $1, email = $2, language = $3, updated_at = $4 WHERE id = $5",
        )
        .bind(phone)
        .bind(email)
        .bind(language.code())
        .bind(ms(now))
        .bind(id.to_string())
        .execute(&mut *tx)
        .await?;
        commit_one_with_audit(tx, done.rows_affected(), audit, now).await
    }

    /// The patients on `staff_id`'s care teams.
    pub async fn patients_of(&self, staff_id: Uuid) -> Result<Vec<PatientSummary>> {
        let rows = sqlx::query(
            "SELECT p.id, p.name, p.birth_date, c.team_role FROM patients p \
             JOIN care_team c ON c.patient_id = p.id WHERE c.staff_id = $1 ORDER BY p.name",
        )
        .bind(staff_id.to_string())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let birth: String = r.try_get("birth_date")?;
                Ok(PatientSummary {
                    id: uuid(&r.try_get::<String, _>("id")?)?,
                    name: r.try_get("name")?,
                    birth_date: birth
                        .parse()
                        .map_err(|_| StoreError::Corrupt(format!("birth date {birth}")))?,
                    team_role: r.try_get("team_role")?,
                })
            })
            .collect()
    }

    pub async fn is_on_care_team(&self, patient_id: Uuid, staff_id: Uuid) -> Result<bool> {
        let row =
            sqlx::query("SELECT team_role FROM care_team WHERE patient_id = $1 AND staff_id = $2")
                .bind(patient_id.to_string())
                .bind(staff_id.to_string())
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.is_some())
    }

    pub async fn care_team(&self, patient_id: Uuid) -> Result<Vec<CareTeamMember>> {
        let rows = sqlx::query(
            "SELECT c.staff_id, s.display_name, c.team_role FROM care_team c \
             JOIN staff s ON s.id = c.staff_id WHERE c.patient_id = $1 ORDER BY s.display_name",
        )
        .bind(patient_id.to_string())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(CareTeamMember {
                    staff_id: uuid(&r.try_get::<String, _>("staff_id")?)?,
                    display_name: r.try_get("display_name")?,
                    team_role: r.try_get("team_role")?,
                })
            })
            .collect()
    }

    /// Adds a staff member to the care team (or changes their team role).
    pub async fn set_care_team_member(
        &self,
        patient_id: Uuid,
        staff_id: Uuid,
        team_role: &str,
        audit: &NewAuditEntry,
        now: Timestamp,
    ) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM care_team WHERE patient_id = $1 AND staff_id = $2")
            .bind(patient_id.to_string())
            .bind(staff_id.to_string())
            .execute(&mut *tx)
            .await?;
        sqlx::query("INSERT INTO care_team (patient_id, staff_id, team_role, added_at) VALUES ($1, $2, $3, $4)")
            .bind(patient_id.to_string())
            .bind(staff_id.to_string())
            .bind(team_role)
            .bind(ms(now))
            .execute(&mut *tx)
            .await?;
        append_in(&mut tx, audit, now).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn remove_care_team_member(
        &self,
        patient_id: Uuid,
        staff_id: Uuid,
        audit: &NewAuditEntry,
        now: Timestamp,
    ) -> Result<bool> {
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query("DELETE FROM care_team WHERE patient_id = $1 AND staff_id = $2")
            .bind(patient_id.to_string())
            .bind(staff_id.to_string())
            .execute(&mut *tx)
            .await?;
        commit_one_with_audit(tx, done.rows_affected(), audit, now).await
    }

    pub async fn grant_emergency_access(
        &self,
        staff_id: Uuid,
        patient_id: Uuid,
        reason: &str,
        audit: &NewAuditEntry,
        now: Timestamp,
        expires_at: Timestamp,
    ) -> Result<Uuid> {
        let id = new_id();
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO emergency_access (id, staff_id, patient_id, reason, granted_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(id.to_string())
        .bind(staff_id.to_string())
        .bind(patient_id.to_string())
        .bind(reason)
        .bind(ms(now))
        .bind(ms(expires_at))
        .execute(&mut *tx)
        .await?;
        append_in(&mut tx, audit, now).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// The reason of an unexpired emergency grant for this staff member and patient, if any.
    pub async fn active_emergency_grant(
        &self,
        staff_id: Uuid,
        patient_id: Uuid,
        now: Timestamp,
    ) -> Result<Option<Uuid>> {
        let row = sqlx::query(
            "SELECT id FROM emergency_access WHERE staff_id = $1 AND patient_id = $2 AND expires_at > $3 \
             ORDER BY expires_at DESC LIMIT 1",
        )
        .bind(staff_id.to_string())
        .bind(patient_id.to_string())
        .bind(ms(now))
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| uuid(&r.try_get::<String, _>("id")?))
            .transpose()
    }

    /// Emergency grants not yet reviewed by the data protection officer, oldest first.
    pub async fn unreviewed_emergency_grants(&self) -> Result<Vec<EmergencyGrant>> {
        let rows = sqlx::query(
            "SELECT e.id, e.staff_id, s.username, e.patient_id, e.reason, e.granted_at, e.expires_at, e.reviewed_by \
             FROM emergency_access e JOIN staff s ON s.id = e.staff_id \
             WHERE e.reviewed_at IS NULL ORDER BY e.granted_at",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(EmergencyGrant {
                    id: uuid(&r.try_get::<String, _>("id")?)?,
                    staff_id: uuid(&r.try_get::<String, _>("staff_id")?)?,
                    staff_username: r.try_get("username")?,
                    patient_id: uuid(&r.try_get::<String, _>("patient_id")?)?,
                    reason: r.try_get("reason")?,
                    granted_at: ts(r.try_get("granted_at")?)?,
                    expires_at: ts(r.try_get("expires_at")?)?,
                    reviewed_by: opt_uuid(r.try_get("reviewed_by")?)?,
                })
            })
            .collect()
    }

    pub async fn mark_emergency_reviewed(
        &self,
        id: Uuid,
        reviewer: Uuid,
        now: Timestamp,
    ) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE emergency_access SET reviewed_by = $1, reviewed_at = $2 WHERE id = $3 AND reviewed_at IS NULL",
        )
        .bind(reviewer.to_string())
        .bind(ms(now))
        .bind(id.to_string())
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }
}
