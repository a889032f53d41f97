//! Referral and inclusion (HF-1), service use against a baseline (HF-2) and end of service
//! (HF-11) for digital home follow-up.
//!
//! Inclusion and exclusion criteria are kept per service area (or for the whole organisation);
//! an assessment keeps each criterion's wording as it was assessed. Accepting a referral
//! records the assessment, forms the care team and enrols the patient in one transaction with
//! its audit entries; ending follow-up sets the enrolment ended, records the final evaluation,
//! handover and equipment checklist, revokes device tokens and patient-app sessions and
//! withdraws unsent reminders, also in one transaction.

use crate::audit::append_in;
use crate::followup::enrol_in;
use crate::{NewAuditEntry, Result, Store, StoreError, ms, opt_ts, opt_uuid, ts, uuid};
use helsebro_domain::new_id;
use jiff::Timestamp;
use jiff::civil::Date;
use sqlx::Row;
use sqlx::any::AnyRow;
use uuid::Uuid;

/// An inclusion or exclusion criterion.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Criterion {
    pub id: Uuid,
    /// The service area it belongs to; `None`: the whole organisation.
    pub unit_id: Option<Uuid>,
    /// `inclusion` or `exclusion`.
    pub kind: String,
    pub text: String,
    pub active: bool,
    pub position: i64,
}

/// A referral to register.
#[derive(Debug, Clone)]
pub struct NewReferral {
    pub patient_id: Uuid,
    /// `hospital`, `gp` or `municipal`.
    pub source_kind: String,
    pub referrer_name: String,
    pub referrer_org: String,
    /// JSON array of `followup::Condition`.
    pub conditions: String,
    pub reason: String,
    pub received_on: Date,
}

/// A stored referral.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Referral {
    pub id: Uuid,
    pub patient_id: Uuid,
    /// Filled in by the list of referrals awaiting assessment.
    pub patient_name: String,
    pub source_kind: String,
    pub referrer_name: String,
    pub referrer_org: String,
    pub conditions: String,
    pub reason: String,
    pub received_on: Date,
    /// `pending`, `accepted` or `declined`.
    pub status: String,
    pub decision_reason: String,
    pub decided_by_label: Option<String>,
    pub decided_at: Option<Timestamp>,
    pub created_at: Timestamp,
}

/// One criterion of an assessment, as worded when it was assessed.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AssessmentLine {
    pub criterion_id: Uuid,
    pub kind: String,
    pub text: String,
    pub met: bool,
}

/// What accepting a referral sets up besides the decision.
#[derive(Debug, Clone)]
pub struct Acceptance {
    /// Care-team members and their team roles.
    pub team: Vec<(Uuid, String)>,
    /// JSON array of `followup::Condition` to enrol for.
    pub conditions: String,
    /// JSON `followup::schedule::TaskSchedule`s, added when the patient has no plan yet.
    pub schedules: Vec<String>,
}

/// Counts of health-service use in one period (HF-2).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct ServiceCounts {
    pub admissions: i64,
    pub bed_days: i64,
    pub outpatient_visits: i64,
    pub gp_contacts: i64,
    pub emergency_contacts: i64,
    pub home_care_visits: i64,
    pub patient_trips: i64,
}

impl ServiceCounts {
    /// The counts in a fixed order, with their stable codes (forms, tables, sums).
    pub fn fields(&self) -> [(&'static str, i64); 7] {
        [
            ("admissions", self.admissions),
            ("bed_days", self.bed_days),
            ("outpatient_visits", self.outpatient_visits),
            ("gp_contacts", self.gp_contacts),
            ("emergency_contacts", self.emergency_contacts),
            ("home_care_visits", self.home_care_visits),
            ("patient_trips", self.patient_trips),
        ]
    }
}

/// One recorded period of service use.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ServiceUse {
    pub id: Uuid,
    pub patient_id: Uuid,
    /// `baseline` or `followup`.
    pub kind: String,
    pub period_from: Date,
    pub period_to: Date,
    pub counts: ServiceCounts,
    pub recorded_by_label: String,
    pub recorded_at: Timestamp,
}

/// A lent item on the equipment-return checklist.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct EquipmentItem {
    pub item: String,
    /// The device token of a measuring device, where the item is one.
    pub device_token_id: Option<Uuid>,
    pub returned: bool,
}

/// The end of follow-up to record.
#[derive(Debug, Clone)]
pub struct NewEnding {
    pub patient_id: Uuid,
    pub reason: String,
    pub evaluation: String,
    pub goals_met: bool,
    pub handover_to: String,
    pub handover_receiver: String,
    pub equipment: Vec<EquipmentItem>,
}

/// A recorded end of follow-up.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Ending {
    pub id: Uuid,
    pub patient_id: Uuid,
    pub reason: String,
    pub evaluation: String,
    pub goals_met: bool,
    pub handover_to: String,
    pub handover_receiver: String,
    pub ended_by_label: String,
    pub ended_at: Timestamp,
    pub equipment: Vec<EquipmentItem>,
}

const REFERRAL_COLUMNS: &str = "r.id, r.patient_id, r.source_kind, r.referrer_name, r.referrer_org, \
    r.conditions, r.reason, r.received_on, r.status, r.decision_reason, r.decided_by_label, \
    r.decided_at, r.created_at";

const SERVICE_USE_COLUMNS: &str = "id, patient_id, kind, period_from, period_to, admissions, \
    bed_days, outpatient_visits, gp_contacts, emergency_contacts, home_care_visits, \
    patient_trips, recorded_by_label, recorded_at";

fn date(s: &str) -> Result<Date> {
    s.parse()
        .map_err(|_| StoreError::Corrupt(format!("date {s:?}")))
}

fn criterion_from(r: &AnyRow) -> Result<Criterion> {
    Ok(Criterion {
        id: uuid(&r.try_get::<String, _>("id")?)?,
        unit_id: opt_uuid(r.try_get("unit_id")?)?,
        kind: r.try_get("kind")?,
        text: r.try_get("text")?,
        active: r.try_get::<i64, _>("active")? != 0,
        position: r.try_get("position")?,
    })
}

fn referral_from(r: &AnyRow, with_name: bool) -> Result<Referral> {
    Ok(Referral {
        id: uuid(&r.try_get::<String, _>("id")?)?,
        patient_id: uuid(&r.try_get::<String, _>("patient_id")?)?,
        patient_name: if with_name {
            r.try_get("name")?
        } else {
            String::new()
        },
        source_kind: r.try_get("source_kind")?,
        referrer_name: r.try_get("referrer_name")?,
        referrer_org: r.try_get("referrer_org")?,
        conditions: r.try_get("conditions")?,
        reason: r.try_get("reason")?,
        received_on: date(&r.try_get::<String, _>("received_on")?)?,
        status: r.try_get("status")?,
        decision_reason: r.try_get("decision_reason")?,
        decided_by_label: r.try_get("decided_by_label")?,
        decided_at: opt_ts(r.try_get("decided_at")?)?,
        created_at: ts(r.try_get("created_at")?)?,
    })
}

fn service_use_from(r: &AnyRow) -> Result<ServiceUse> {
    Ok(ServiceUse {
        id: uuid(&r.try_get::<String, _>("id")?)?,
        patient_id: uuid(&r.try_get::<String, _>("patient_id")?)?,
        kind: r.try_get("kind")?,
        period_from: date(&r.try_get::<String, _>("period_from")?)?,
        period_to: date(&r.try_get::<String, _>("period_to")?)?,
        counts: ServiceCounts {
            admissions: r.try_get("admissions")?,
            bed_days: r.try_get("bed_days")?,
            outpatient_visits: r.try_get("outpatient_visits")?,
            gp_contacts: r.try_get("gp_contacts")?,
            emergency_contacts: r.try_get("emergency_contacts")?,
            home_care_visits: r.try_get("home_care_visits")?,
            patient_trips: r.try_get("patient_trips")?,
        },
        recorded_by_label: r.try_get("recorded_by_label")?,
        recorded_at: ts(r.try_get("recorded_at")?)?,
    })
}

impl Store {
    // ---- criteria -------------------------------------------------------------------

    /// Every criterion (active and retired), organisation-wide first, then per service area.
    pub async fn all_followup_criteria(&self) -> Result<Vec<Criterion>> {
        let rows = sqlx::query(
            "SELECT id, unit_id, kind, text, active, position FROM followup_criteria \
             ORDER BY unit_id IS NOT NULL, unit_id, kind DESC, position, id",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(criterion_from).collect()
    }

    /// The active criteria that apply to a patient of service area `unit_id`: the
    /// organisation's and the service area's.
    pub async fn followup_criteria_for(&self, unit_id: Option<Uuid>) -> Result<Vec<Criterion>> {
        let rows = sqlx::query(
            "SELECT id, unit_id, kind, text, active, position FROM followup_criteria \
             WHERE active = 1 AND (unit_id IS NULL OR unit_id = $1) \
             ORDER BY kind DESC, unit_id IS NOT NULL, position, id",
        )
        .bind(unit_id.map(|u| u.to_string()).unwrap_or_default())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(criterion_from).collect()
    }

    pub async fn add_followup_criterion(
        &self,
        unit_id: Option<Uuid>,
        kind: &str,
        text: &str,
        by: Uuid,
        audit: &NewAuditEntry,
        now: Timestamp,
    ) -> Result<Uuid> {
        let id = new_id();
        let mut tx = self.pool.begin().await?;
        let next: i64 = sqlx::query("SELECT COUNT(*) AS n FROM followup_criteria")
            .fetch_one(&mut *tx)
            .await?
            .try_get("n")?;
        sqlx::query(
            "INSERT INTO followup_criteria (id, unit_id, kind, text, active, position, updated_by, updated_at) \
             VALUES ($1, $2, $3, $4, 1, $5, $6, $7)",
        )
        .bind(id.to_string())
        .bind(unit_id.map(|u| u.to_string()))
        .bind(kind)
        .bind(text)
        .bind(next + 1)
        .bind(by.to_string())
        .bind(ms(now))
        .execute(&mut *tx)
        .await?;
        append_in(
            &mut tx,
            &NewAuditEntry {
                object: format!("followup_criterion:{id}"),
                ..audit.clone()
            },
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Rewords a criterion or retires (or restores) it. False if there is no such criterion.
    pub async fn update_followup_criterion(
        &self,
        id: Uuid,
        text: &str,
        active: bool,
        by: Uuid,
        audit: &NewAuditEntry,
        now: Timestamp,
    ) -> Result<bool> {
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query(
            "UPDATE followup_criteria SET text = $1, active = $2, updated_by = $3, updated_at = $4 WHERE id = $5",
        )
        .bind(text)
        .bind(i64::from(active))
        .bind(by.to_string())
        .bind(ms(now))
        .bind(id.to_string())
        .execute(&mut *tx)
        .await?;
        crate::audit::commit_one_with_audit(tx, done.rows_affected(), audit, now).await
    }

    // ---- referrals ------------------------------------------------------------------

    pub async fn create_referral(
        &self,
        r: &NewReferral,
        by: Uuid,
        audit: &NewAuditEntry,
        now: Timestamp,
    ) -> Result<Uuid> {
        let id = new_id();
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO followup_referrals (id, patient_id, source_kind, referrer_name, referrer_org, conditions, \
             reason, received_on, status, decision_reason, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'pending', '', $9, $10)",
        )
        .bind(id.to_string())
        .bind(r.patient_id.to_string())
        .bind(&r.source_kind)
        .bind(&r.referrer_name)
        .bind(&r.referrer_org)
        .bind(&r.conditions)
        .bind(&r.reason)
        .bind(r.received_on.to_string())
        .bind(by.to_string())
        .bind(ms(now))
        .execute(&mut *tx)
        .await?;
        append_in(
            &mut tx,
            &NewAuditEntry {
                object: format!("followup_referral:{id}"),
                ..audit.clone()
            },
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    pub async fn referral(&self, id: Uuid) -> Result<Option<Referral>> {
        let sql = format!("SELECT {REFERRAL_COLUMNS} FROM followup_referrals r WHERE r.id = $1");
        let row = sqlx::query(&sql)
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(|r| referral_from(r, false)).transpose()
    }

    /// A patient's referrals, newest first.
    pub async fn referrals_of_patient(&self, patient_id: Uuid) -> Result<Vec<Referral>> {
        let sql = format!(
            "SELECT {REFERRAL_COLUMNS} FROM followup_referrals r WHERE r.patient_id = $1 \
             ORDER BY r.created_at DESC, r.id DESC"
        );
        let rows = sqlx::query(&sql)
            .bind(patient_id.to_string())
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(|r| referral_from(r, false)).collect()
    }

    /// Referrals awaiting assessment of the patients on `staff_id`'s care teams, oldest first,
    /// with the patients' names.
    pub async fn pending_referrals_for(&self, staff_id: Uuid) -> Result<Vec<Referral>> {
        let sql = format!(
            "SELECT {REFERRAL_COLUMNS}, p.name FROM followup_referrals r \
             JOIN patients p ON p.id = r.patient_id \
             JOIN care_team c ON c.patient_id = r.patient_id AND c.staff_id = $1 \
             WHERE r.status = 'pending' ORDER BY r.received_on, r.created_at, r.id"
        );
        let rows = sqlx::query(&sql)
            .bind(staff_id.to_string())
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(|r| referral_from(r, true)).collect()
    }

    pub async fn referral_assessment(&self, referral_id: Uuid) -> Result<Vec<AssessmentLine>> {
        let rows = sqlx::query(
            "SELECT criterion_id, kind, text, met FROM followup_referral_assessments \
             WHERE referral_id = $1 ORDER BY kind DESC, text",
        )
        .bind(referral_id.to_string())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(AssessmentLine {
                    criterion_id: uuid(&r.try_get::<String, _>("criterion_id")?)?,
                    kind: r.try_get("kind")?,
                    text: r.try_get("text")?,
                    met: r.try_get::<i64, _>("met")? != 0,
                })
            })
            .collect()
    }

    /// Records the assessment and decision of a pending referral of `patient_id`; on
    /// acceptance also sets the care team, enrols the patient and adds the measurement plan
    /// (if none yet). Everything, with `audits`, in one transaction. False (nothing changed)
    /// when the referral is not pending any more.
    #[allow(clippy::too_many_arguments)]
    pub async fn decide_referral(
        &self,
        referral_id: Uuid,
        patient_id: Uuid,
        assessment: &[AssessmentLine],
        decision_reason: &str,
        acceptance: Option<&Acceptance>,
        by: Uuid,
        by_label: &str,
        audits: &[NewAuditEntry],
        now: Timestamp,
    ) -> Result<bool> {
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query(
            "UPDATE followup_referrals SET status = $1, decision_reason = $2, decided_by = $3, \
             decided_by_label = $4, decided_at = $5 WHERE id = $6 AND patient_id = $7 AND status = 'pending'",
        )
        .bind(if acceptance.is_some() {
            "accepted"
        } else {
            "declined"
        })
        .bind(decision_reason)
        .bind(by.to_string())
        .bind(by_label)
        .bind(ms(now))
        .bind(referral_id.to_string())
        .bind(patient_id.to_string())
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() != 1 {
            return Ok(false);
        }
        for line in assessment {
            sqlx::query(
                "INSERT INTO followup_referral_assessments (referral_id, criterion_id, kind, text, met) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(referral_id.to_string())
            .bind(line.criterion_id.to_string())
            .bind(&line.kind)
            .bind(&line.text)
            .bind(i64::from(line.met))
            .execute(&mut *tx)
            .await?;
        }
        if let Some(a) = acceptance {
            for (staff_id, role) in &a.team {
                sqlx::query("DELETE FROM care_team WHERE patient_id = $1 AND staff_id = $2")
                    .bind(patient_id.to_string())
                    .bind(staff_id.to_string())
                    .execute(&mut *tx)
                    .await?;
                sqlx::query(
                    "INSERT INTO care_team (patient_id, staff_id, team_role, added_at) VALUES ($1, $2, $3, $4)",
                )
                .bind(patient_id.to_string())
                .bind(staff_id.to_string())
                .bind(role)
                .bind(ms(now))
                .execute(&mut *tx)
                .await?;
            }
            enrol_in(&mut tx, patient_id, &a.conditions, by, now).await?;
            let planned: i64 =
                sqlx::query("SELECT COUNT(*) AS n FROM followup_schedules WHERE patient_id = $1")
                    .bind(patient_id.to_string())
                    .fetch_one(&mut *tx)
                    .await?
                    .try_get("n")?;
            if planned == 0 {
                for s in &a.schedules {
                    sqlx::query(
                        "INSERT INTO followup_schedules (id, patient_id, schedule, created_at) VALUES ($1, $2, $3, $4)",
                    )
                    .bind(new_id().to_string())
                    .bind(patient_id.to_string())
                    .bind(s)
                    .bind(ms(now))
                    .execute(&mut *tx)
                    .await?;
                }
            }
        }
        for audit in audits {
            append_in(&mut tx, audit, now).await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    // ---- service use (baseline) -------------------------------------------------------

    #[allow(clippy::too_many_arguments)]
    pub async fn record_service_use(
        &self,
        patient_id: Uuid,
        kind: &str,
        from: Date,
        to: Date,
        c: &ServiceCounts,
        by: Uuid,
        by_label: &str,
        audit: &NewAuditEntry,
        now: Timestamp,
    ) -> Result<Uuid> {
        let id = new_id();
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO followup_service_use (id, patient_id, kind, period_from, period_to, admissions, bed_days, \
             outpatient_visits, gp_contacts, emergency_contacts, home_care_visits, patient_trips, recorded_by, \
             recorded_by_label, recorded_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
        )
        .bind(id.to_string())
        .bind(patient_id.to_string())
        .bind(kind)
        .bind(from.to_string())
        .bind(to.to_string())
        .bind(c.admissions)
        .bind(c.bed_days)
        .bind(c.outpatient_visits)
        .bind(c.gp_contacts)
        .bind(c.emergency_contacts)
        .bind(c.home_care_visits)
        .bind(c.patient_trips)
        .bind(by.to_string())
        .bind(by_label)
        .bind(ms(now))
        .execute(&mut *tx)
        .await?;
        append_in(
            &mut tx,
            &NewAuditEntry {
                object: format!("followup_service_use:{id}"),
                ..audit.clone()
            },
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// A patient's recorded periods, oldest first.
    pub async fn service_use_of(&self, patient_id: Uuid) -> Result<Vec<ServiceUse>> {
        let sql = format!(
            "SELECT {SERVICE_USE_COLUMNS} FROM followup_service_use WHERE patient_id = $1 \
             ORDER BY period_from, recorded_at, id"
        );
        let rows = sqlx::query(&sql)
            .bind(patient_id.to_string())
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(service_use_from).collect()
    }

    /// Every recorded period of every patient whose period overlaps `from..=to` (for
    /// aggregate statistics; the caller strips personal data).
    pub async fn service_use_between(&self, from: Date, to: Date) -> Result<Vec<ServiceUse>> {
        let sql = format!(
            "SELECT {SERVICE_USE_COLUMNS} FROM followup_service_use \
             WHERE period_to >= $1 AND period_from <= $2 ORDER BY patient_id, period_from, id"
        );
        let rows = sqlx::query(&sql)
            .bind(from.to_string())
            .bind(to.to_string())
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(service_use_from).collect()
    }

    // ---- end of service ---------------------------------------------------------------

    /// Ends a patient's follow-up (HF-11): status ended with the reason, the final evaluation,
    /// handover and equipment checklist recorded, device tokens revoked, patient-app sessions
    /// closed and unused login codes spent, unsent follow-up messages withdrawn. One
    /// transaction with `audit`. `None` when the patient is not in follow-up (or already ended).
    pub async fn end_followup_service(
        &self,
        e: &NewEnding,
        by: Uuid,
        by_label: &str,
        audit: &NewAuditEntry,
        now: Timestamp,
    ) -> Result<Option<Uuid>> {
        let pid = e.patient_id.to_string();
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query(
            "UPDATE followup_enrolments SET status = 'ended', status_reason = $1, updated_at = $2 \
             WHERE patient_id = $3 AND status <> 'ended'",
        )
        .bind(&e.reason)
        .bind(ms(now))
        .bind(&pid)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() != 1 {
            return Ok(None);
        }
        let id = new_id();
        sqlx::query(
            "INSERT INTO followup_endings (id, patient_id, reason, evaluation, goals_met, handover_to, \
             handover_receiver, ended_by, ended_by_label, ended_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(id.to_string())
        .bind(&pid)
        .bind(&e.reason)
        .bind(&e.evaluation)
        .bind(i64::from(e.goals_met))
        .bind(&e.handover_to)
        .bind(&e.handover_receiver)
        .bind(by.to_string())
        .bind(by_label)
        .bind(ms(now))
        .execute(&mut *tx)
        .await?;
        for item in &e.equipment {
            sqlx::query(
                "INSERT INTO followup_equipment_returns (id, ending_id, patient_id, item, device_token_id, returned) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(new_id().to_string())
            .bind(id.to_string())
            .bind(&pid)
            .bind(&item.item)
            .bind(item.device_token_id.map(|u| u.to_string()))
            .bind(i64::from(item.returned))
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query(
            "UPDATE followup_device_tokens SET revoked_at = $1 WHERE patient_id = $2 AND revoked_at IS NULL",
        )
        .bind(ms(now))
        .bind(&pid)
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM followup_patient_sessions WHERE patient_id = $1")
            .bind(&pid)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "UPDATE followup_login_codes SET used_at = $1 WHERE patient_id = $2 AND used_at IS NULL",
        )
        .bind(ms(now))
        .bind(&pid)
        .execute(&mut *tx)
        .await?;
        // Reminders are queued with the dedupe key `fu:<patient>:…`.
        sqlx::query(
            "UPDATE outbox SET status = 'withdrawn', last_answer = 'withdrawn: follow-up ended' \
             WHERE status = 'queued' AND dedupe_key LIKE $1",
        )
        .bind(format!("fu:{pid}:%"))
        .execute(&mut *tx)
        .await?;
        append_in(
            &mut tx,
            &NewAuditEntry {
                object: format!("followup_ending:{id}"),
                ..audit.clone()
            },
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(Some(id))
    }

    /// A patient's recorded ends of follow-up, newest first, with their equipment checklists.
    pub async fn followup_endings(&self, patient_id: Uuid) -> Result<Vec<Ending>> {
        let rows = sqlx::query(
            "SELECT id, patient_id, reason, evaluation, goals_met, handover_to, handover_receiver, \
             ended_by_label, ended_at FROM followup_endings WHERE patient_id = $1 ORDER BY ended_at DESC, id DESC",
        )
        .bind(patient_id.to_string())
        .fetch_all(&self.pool)
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let id = uuid(&r.try_get::<String, _>("id")?)?;
            let items = sqlx::query(
                "SELECT item, device_token_id, returned FROM followup_equipment_returns \
                 WHERE ending_id = $1 ORDER BY item, id",
            )
            .bind(id.to_string())
            .fetch_all(&self.pool)
            .await?;
            let equipment = items
                .iter()
                .map(|i| {
                    Ok(EquipmentItem {
                        item: i.try_get("item")?,
                        device_token_id: opt_uuid(i.try_get("device_token_id")?)?,
                        returned: i.try_get::<i64, _>("returned")? != 0,
                    })
                })
                .collect::<Result<Vec<_>>>()?;
            out.push(Ending {
                id,
                patient_id: uuid(&r.try_get::<String, _>("patient_id")?)?,
                reason: r.try_get("reason")?,
                evaluation: r.try_get("evaluation")?,
                goals_met: r.try_get::<i64, _>("goals_met")? != 0,
                handover_to: r.try_get("handover_to")?,
                handover_receiver: r.try_get("handover_receiver")?,
                ended_by_label: r.try_get("ended_by_label")?,
                ended_at: ts(r.try_get("ended_at")?)?,
                equipment,
            });
        }
        Ok(out)
    }
}
