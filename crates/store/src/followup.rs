//! Digital home follow-up (HF-1..HF-12): enrolment, rule adjustments, schedules, readings with
//! their triage, the follow-up centre's alerts, pauses, device tokens and the patient app's
//! login codes and sessions.
//!
//! The rules themselves (triage, schedules, work-list order) live in the `helsebro-followup`
//! crate; this module keeps their inputs and results. Structured values (conditions, rule
//! adjustments, task schedules) are stored as that crate's JSON, so the store need not know
//! their shape. Every change takes its audit entry and writes it in the same transaction.

use crate::audit::{append_in, commit_one_with_audit};
use crate::outbox::{NewMessage, enqueue_in};
use crate::{NewAuditEntry, Result, Store, StoreError, ms, opt_ts, opt_uuid, ts, uuid};
use helsebro_domain::new_id;
use jiff::Timestamp;
use sqlx::Row;
use sqlx::any::AnyRow;
use uuid::Uuid;

/// A patient's place in home follow-up.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Enrolment {
    pub patient_id: Uuid,
    /// JSON array of `followup::Condition`.
    pub conditions: String,
    /// `active`, `paused` or `ended`.
    pub status: String,
    pub status_reason: String,
    pub enrolled_at: Timestamp,
    pub swept_until: Timestamp,
}

/// A stored rule adjustment, with who made it and why.
#[derive(Debug, Clone, serde::Serialize)]
pub struct AdjustmentRecord {
    pub id: Uuid,
    /// JSON `followup::triage::Adjustment`.
    pub adjustment: String,
    pub reason: String,
    pub made_by: Uuid,
    pub made_by_label: String,
    pub made_at: Timestamp,
}

/// A reading to keep.
#[derive(Debug, Clone)]
pub struct NewReading {
    pub patient_id: Uuid,
    pub idempotency_key: String,
    /// `followup::MeasurementKind` in snake case.
    pub kind: String,
    pub loinc: String,
    pub value1: f64,
    pub value2: Option<f64>,
    pub unit: String,
    pub effective_at: Timestamp,
    pub device_error: bool,
    pub device_id: Option<String>,
    /// `app`, `staff` or `device`.
    pub entered_via: String,
    /// `green`, `yellow`, `red`; `None` when the patient must measure again.
    pub colour: Option<String>,
    pub explanation: String,
    /// The alert this reading raises (red or yellow), if any.
    pub alert: Option<String>,
}

/// A reading as triage sees it (see [`Store::followup_history`]).
#[derive(Debug, Clone)]
pub struct HistoryReading {
    pub kind: String,
    pub value1: f64,
    pub value2: Option<f64>,
    pub effective_at: Timestamp,
}

/// A stored reading.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Reading {
    pub id: Uuid,
    pub patient_id: Uuid,
    pub kind: String,
    pub loinc: String,
    pub value1: f64,
    pub value2: Option<f64>,
    pub unit: String,
    pub effective_at: Timestamp,
    pub device_error: bool,
    pub device_id: Option<String>,
    pub entered_via: String,
    pub received_at: Timestamp,
    pub colour: Option<String>,
    pub explanation: String,
    pub reviewed_at: Option<Timestamp>,
}

/// What storing a reading did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stored {
    pub id: Uuid,
    /// False when the same reading was already there (nothing changed).
    pub created: bool,
}

/// A work item of the follow-up centre.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Alert {
    pub id: Uuid,
    pub patient_id: Uuid,
    /// Filled in by work-list queries.
    pub patient_name: String,
    /// `red`, `yellow` or `missing_report`.
    pub kind: String,
    pub observation_id: Option<Uuid>,
    /// The questionnaire response that raised it (red or yellow answers).
    pub questionnaire_response_id: Option<Uuid>,
    pub explanation: String,
    pub raised_at: Timestamp,
    pub escalated_at: Option<Timestamp>,
    pub acknowledged_by_label: Option<String>,
    pub acknowledged_at: Option<Timestamp>,
    pub action: Option<String>,
    pub note: String,
    pub acted_at: Option<Timestamp>,
}

/// A missing-report alert to raise once per occurrence.
#[derive(Debug, Clone)]
pub struct NewMissingReport {
    pub occurrence_key: String,
    pub explanation: String,
    pub raised_at: Timestamp,
}

/// A pause of follow-up.
#[derive(Debug, Clone, serde::Serialize)]
pub struct PauseRecord {
    pub id: Uuid,
    pub from_at: Timestamp,
    pub until_at: Option<Timestamp>,
    pub reason: String,
}

/// A device token (its hash is never shown).
#[derive(Debug, Clone, serde::Serialize)]
pub struct DeviceToken {
    pub id: Uuid,
    pub patient_id: Uuid,
    pub label: String,
    pub created_at: Timestamp,
    pub revoked_at: Option<Timestamp>,
}

/// The newest login code of a patient.
#[derive(Debug, Clone)]
pub struct LoginCode {
    pub id: Uuid,
    pub patient_id: Uuid,
    pub code_hash: String,
    pub expires_at: Timestamp,
    pub attempts: i64,
    pub used_at: Option<Timestamp>,
}

const READING_COLUMNS: &str = "id, patient_id, kind, loinc, value1, value2, unit, effective_at, \
    device_error, device_id, entered_via, received_at, colour, explanation, reviewed_at";

const ALERT_COLUMNS: &str = "a.id, a.patient_id, a.kind, a.observation_id, a.explanation, a.raised_at, \
    a.escalated_at, a.acknowledged_by_label, a.acknowledged_at, a.action, a.note, a.acted_at, \
    a.questionnaire_response_id";

fn reading_from(r: &AnyRow) -> Result<Reading> {
    Ok(Reading {
        id: uuid(&r.try_get::<String, _>("id")?)?,
        patient_id: uuid(&r.try_get::<String, _>("patient_id")?)?,
        kind: r.try_get("kind")?,
        loinc: r.try_get("loinc")?,
        value1: r.try_get("value1")?,
        value2: r.try_get("value2")?,
        unit: r.try_get("unit")?,
        effective_at: ts(r.try_get("effective_at")?)?,
        device_error: r.try_get::<i64, _>("device_error")? != 0,
        device_id: r.try_get("device_id")?,
        entered_via: r.try_get("entered_via")?,
        received_at: ts(r.try_get("received_at")?)?,
        colour: r.try_get("colour")?,
        explanation: r.try_get("explanation")?,
        reviewed_at: opt_ts(r.try_get("reviewed_at")?)?,
    })
}

fn alert_from(r: &AnyRow, with_name: bool) -> Result<Alert> {
    Ok(Alert {
        id: uuid(&r.try_get::<String, _>("id")?)?,
        patient_id: uuid(&r.try_get::<String, _>("patient_id")?)?,
        patient_name: if with_name {
            r.try_get("name")?
        } else {
            String::new()
        },
        kind: r.try_get("kind")?,
        observation_id: opt_uuid(r.try_get("observation_id")?)?,
        questionnaire_response_id: opt_uuid(r.try_get("questionnaire_response_id")?)?,
        explanation: r.try_get("explanation")?,
        raised_at: ts(r.try_get("raised_at")?)?,
        escalated_at: opt_ts(r.try_get("escalated_at")?)?,
        acknowledged_by_label: r.try_get("acknowledged_by_label")?,
        acknowledged_at: opt_ts(r.try_get("acknowledged_at")?)?,
        action: r.try_get("action")?,
        note: r.try_get("note")?,
        acted_at: opt_ts(r.try_get("acted_at")?)?,
    })
}

fn enrolment_from(r: &AnyRow) -> Result<Enrolment> {
    Ok(Enrolment {
        patient_id: uuid(&r.try_get::<String, _>("patient_id")?)?,
        conditions: r.try_get("conditions")?,
        status: r.try_get("status")?,
        status_reason: r.try_get("status_reason")?,
        enrolled_at: ts(r.try_get("enrolled_at")?)?,
        swept_until: ts(r.try_get("swept_until")?)?,
    })
}

/// Enrols a patient inside the caller's transaction (or changes the conditions of one already
/// enrolled, making them active again; after an ended follow-up the sweep starts afresh from
/// now, so the gap raises no missing reports). Used by [`Store::enrol_followup`] and by accepting a
/// referral, which enrols in the same transaction as its decision.
pub(crate) async fn enrol_in(
    conn: &mut sqlx::AnyConnection,
    patient_id: Uuid,
    conditions_json: &str,
    by: Uuid,
    now: Timestamp,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO followup_enrolments (patient_id, conditions, status, status_reason, enrolled_by, enrolled_at, updated_at, swept_until) \
         VALUES ($1, $2, 'active', '', $3, $4, $4, $4) \
         ON CONFLICT (patient_id) DO UPDATE SET conditions = $2, status = 'active', status_reason = '', updated_at = $4, \
         swept_until = CASE WHEN followup_enrolments.status = 'ended' THEN $4 ELSE followup_enrolments.swept_until END",
    )
    .bind(patient_id.to_string())
    .bind(conditions_json)
    .bind(by.to_string())
    .bind(ms(now))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

impl Store {
    // ---- enrolment, pauses ------------------------------------------------------------

    /// Enrols a patient (or changes the conditions of one already enrolled, making them active).
    pub async fn enrol_followup(
        &self,
        patient_id: Uuid,
        conditions_json: &str,
        by: Uuid,
        audit: &NewAuditEntry,
        now: Timestamp,
    ) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        enrol_in(&mut tx, patient_id, conditions_json, by, now).await?;
        append_in(&mut tx, audit, now).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn followup_enrolment(&self, patient_id: Uuid) -> Result<Option<Enrolment>> {
        let row = sqlx::query(
            "SELECT patient_id, conditions, status, status_reason, enrolled_at, swept_until \
             FROM followup_enrolments WHERE patient_id = $1",
        )
        .bind(patient_id.to_string())
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(enrolment_from).transpose()
    }

    /// Enrolments that are not ended (for the sweep of missing reports and escalations).
    pub async fn current_followup_enrolments(&self) -> Result<Vec<Enrolment>> {
        let rows = sqlx::query(
            "SELECT patient_id, conditions, status, status_reason, enrolled_at, swept_until \
             FROM followup_enrolments WHERE status <> 'ended' ORDER BY patient_id",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(enrolment_from).collect()
    }

    /// Ends follow-up with a reason; missing reports stop.
    pub async fn end_followup(
        &self,
        patient_id: Uuid,
        reason: &str,
        audit: &NewAuditEntry,
        now: Timestamp,
    ) -> Result<bool> {
        let tx = self.pool.begin().await?;
        let mut tx = tx;
        let done = sqlx::query(
            "UPDATE followup_enrolments SET status = 'ended', status_reason = $1, updated_at = $2 \
             WHERE patient_id = $3 AND status <> 'ended'",
        )
        .bind(reason)
        .bind(ms(now))
        .bind(patient_id.to_string())
        .execute(&mut *tx)
        .await?;
        commit_one_with_audit(tx, done.rows_affected(), audit, now).await
    }

    /// Pauses an active follow-up from `now` until resumed.
    pub async fn pause_followup(
        &self,
        patient_id: Uuid,
        reason: &str,
        by: Uuid,
        audit: &NewAuditEntry,
        now: Timestamp,
    ) -> Result<bool> {
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query(
            "UPDATE followup_enrolments SET status = 'paused', status_reason = $1, updated_at = $2 \
             WHERE patient_id = $3 AND status = 'active'",
        )
        .bind(reason)
        .bind(ms(now))
        .bind(patient_id.to_string())
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() != 1 {
            return Ok(false);
        }
        sqlx::query(
            "INSERT INTO followup_pauses (id, patient_id, from_at, until_at, reason, created_by) \
             VALUES ($1, $2, $3, NULL, $4, $5)",
        )
        .bind(new_id().to_string())
        .bind(patient_id.to_string())
        .bind(ms(now))
        .bind(reason)
        .bind(by.to_string())
        .execute(&mut *tx)
        .await?;
        commit_one_with_audit(tx, 1, audit, now).await
    }

    /// Resumes a paused follow-up: the open pause ends now.
    pub async fn resume_followup(
        &self,
        patient_id: Uuid,
        audit: &NewAuditEntry,
        now: Timestamp,
    ) -> Result<bool> {
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query(
            "UPDATE followup_enrolments SET status = 'active', status_reason = '', updated_at = $1 \
             WHERE patient_id = $2 AND status = 'paused'",
        )
        .bind(ms(now))
        .bind(patient_id.to_string())
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() != 1 {
            return Ok(false);
        }
        sqlx::query(
            "UPDATE followup_pauses SET until_at = $1 WHERE patient_id = $2 AND until_at IS NULL",
        )
        .bind(ms(now))
        .bind(patient_id.to_string())
        .execute(&mut *tx)
        .await?;
        commit_one_with_audit(tx, 1, audit, now).await
    }

    pub async fn followup_pauses(&self, patient_id: Uuid) -> Result<Vec<PauseRecord>> {
        let rows = sqlx::query(
            "SELECT id, from_at, until_at, reason FROM followup_pauses WHERE patient_id = $1 ORDER BY from_at",
        )
        .bind(patient_id.to_string())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(PauseRecord {
                    id: uuid(&r.try_get::<String, _>("id")?)?,
                    from_at: ts(r.try_get("from_at")?)?,
                    until_at: opt_ts(r.try_get("until_at")?)?,
                    reason: r.try_get("reason")?,
                })
            })
            .collect()
    }

    // ---- rules and schedules ------------------------------------------------------------

    /// Records a change of one patient's triage rules, with who and why.
    #[allow(clippy::too_many_arguments)]
    pub async fn add_followup_adjustment(
        &self,
        patient_id: Uuid,
        adjustment_json: &str,
        reason: &str,
        by: Uuid,
        by_label: &str,
        audit: &NewAuditEntry,
        now: Timestamp,
    ) -> Result<Uuid> {
        let id = new_id();
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO followup_adjustments (id, patient_id, adjustment, reason, made_by, made_by_label, made_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(id.to_string())
        .bind(patient_id.to_string())
        .bind(adjustment_json)
        .bind(reason)
        .bind(by.to_string())
        .bind(by_label)
        .bind(ms(now))
        .execute(&mut *tx)
        .await?;
        append_in(&mut tx, audit, now).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// A patient's rule adjustments, oldest first (the order they apply in).
    pub async fn followup_adjustments(&self, patient_id: Uuid) -> Result<Vec<AdjustmentRecord>> {
        let rows = sqlx::query(
            "SELECT id, adjustment, reason, made_by, made_by_label, made_at FROM followup_adjustments \
             WHERE patient_id = $1 ORDER BY made_at, id",
        )
        .bind(patient_id.to_string())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(AdjustmentRecord {
                    id: uuid(&r.try_get::<String, _>("id")?)?,
                    adjustment: r.try_get("adjustment")?,
                    reason: r.try_get("reason")?,
                    made_by: uuid(&r.try_get::<String, _>("made_by")?)?,
                    made_by_label: r.try_get("made_by_label")?,
                    made_at: ts(r.try_get("made_at")?)?,
                })
            })
            .collect()
    }

    /// Adds a task to a patient's measurement plan.
    pub async fn add_followup_schedule(
        &self,
        patient_id: Uuid,
        schedule_json: &str,
        audit: &NewAuditEntry,
        now: Timestamp,
    ) -> Result<Uuid> {
        let id = new_id();
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO followup_schedules (id, patient_id, schedule, created_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(id.to_string())
        .bind(patient_id.to_string())
        .bind(schedule_json)
        .bind(ms(now))
        .execute(&mut *tx)
        .await?;
        append_in(&mut tx, audit, now).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// A patient's measurement plan: (id, JSON `followup::schedule::TaskSchedule`).
    pub async fn followup_schedules(&self, patient_id: Uuid) -> Result<Vec<(Uuid, String)>> {
        let rows = sqlx::query(
            "SELECT id, schedule FROM followup_schedules WHERE patient_id = $1 ORDER BY created_at, id",
        )
        .bind(patient_id.to_string())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok((
                    uuid(&r.try_get::<String, _>("id")?)?,
                    r.try_get("schedule")?,
                ))
            })
            .collect()
    }

    // ---- readings -------------------------------------------------------------------

    /// Stores readings in one transaction with one audit entry: each new reading with the
    /// alert it raises; a reading whose idempotency key is already stored changes nothing and
    /// answers the stored id. The audit entry is written only if something was stored.
    pub async fn store_readings(
        &self,
        readings: &[NewReading],
        audit: &NewAuditEntry,
        now: Timestamp,
    ) -> Result<Vec<Stored>> {
        let mut tx = self.pool.begin().await?;
        let mut out = Vec::with_capacity(readings.len());
        for r in readings {
            let id = new_id();
            let done = sqlx::query(
                "INSERT INTO followup_observations (id, patient_id, idempotency_key, kind, loinc, value1, value2, unit, \
                 effective_at, device_error, device_id, entered_via, received_at, colour, explanation) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) \
                 ON CONFLICT (idempotency_key) DO NOTHING",
            )
            .bind(id.to_string())
            .bind(r.patient_id.to_string())
            .bind(&r.idempotency_key)
            .bind(&r.kind)
            .bind(&r.loinc)
            .bind(r.value1)
            .bind(r.value2)
            .bind(&r.unit)
            .bind(ms(r.effective_at))
            .bind(i64::from(r.device_error))
            .bind(r.device_id.as_deref())
            .bind(&r.entered_via)
            .bind(ms(now))
            .bind(r.colour.as_deref())
            .bind(&r.explanation)
            .execute(&mut *tx)
            .await?;
            if done.rows_affected() == 0 {
                let row =
                    sqlx::query("SELECT id FROM followup_observations WHERE idempotency_key = $1")
                        .bind(&r.idempotency_key)
                        .fetch_one(&mut *tx)
                        .await?;
                out.push(Stored {
                    id: uuid(&row.try_get::<String, _>("id")?)?,
                    created: false,
                });
                continue;
            }
            if let Some(kind) = &r.alert {
                sqlx::query(
                    "INSERT INTO followup_alerts (id, patient_id, kind, observation_id, occurrence_key, explanation, raised_at, note) \
                     VALUES ($1, $2, $3, $4, NULL, $5, $6, '')",
                )
                .bind(new_id().to_string())
                .bind(r.patient_id.to_string())
                .bind(kind)
                .bind(id.to_string())
                .bind(&r.explanation)
                .bind(ms(now))
                .execute(&mut *tx)
                .await?;
            }
            out.push(Stored { id, created: true });
        }
        if out.iter().any(|s| s.created) {
            append_in(&mut tx, audit, now).await?;
            tx.commit().await?;
        }
        Ok(out)
    }

    /// A patient's readings with `effective_at` in `[from, to]`, optionally of one kind,
    /// oldest first.
    pub async fn followup_readings(
        &self,
        patient_id: Uuid,
        kind: Option<&str>,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<Vec<Reading>> {
        let sql = format!(
            "SELECT {READING_COLUMNS} FROM followup_observations WHERE patient_id = $1 \
             AND ($2 = '' OR kind = $2) AND effective_at >= $3 AND effective_at <= $4 \
             ORDER BY effective_at, id"
        );
        let rows = sqlx::query(&sql)
            .bind(patient_id.to_string())
            .bind(kind.unwrap_or(""))
            .bind(ms(from))
            .bind(ms(to))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(reading_from).collect()
    }

    /// What triage needs of a patient's earlier readings with `effective_at` in `[from, to]`:
    /// kind, values and time, oldest first, leaving out those that were "measure again"
    /// (they never count). Lighter than [`Store::followup_readings`]: no texts are read.
    pub async fn followup_history(
        &self,
        patient_id: Uuid,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<Vec<HistoryReading>> {
        let rows = sqlx::query(
            "SELECT kind, value1, value2, effective_at FROM followup_observations \
             WHERE patient_id = $1 AND effective_at >= $2 AND effective_at <= $3 \
             AND colour IS NOT NULL ORDER BY effective_at",
        )
        .bind(patient_id.to_string())
        .bind(ms(from))
        .bind(ms(to))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(HistoryReading {
                    kind: r.try_get("kind")?,
                    value1: r.try_get("value1")?,
                    value2: r.try_get("value2")?,
                    effective_at: ts(r.try_get("effective_at")?)?,
                })
            })
            .collect()
    }

    pub async fn followup_reading(&self, id: Uuid) -> Result<Option<Reading>> {
        let sql = format!("SELECT {READING_COLUMNS} FROM followup_observations WHERE id = $1");
        let row = sqlx::query(&sql)
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(reading_from).transpose()
    }

    /// Patients on `staff_id`'s care teams with green readings not yet reviewed, and how many.
    pub async fn unreviewed_green(&self, staff_id: Uuid) -> Result<Vec<(Uuid, i64)>> {
        let rows = sqlx::query(
            "SELECT o.patient_id, COUNT(*) AS n FROM followup_observations o \
             JOIN care_team c ON c.patient_id = o.patient_id AND c.staff_id = $1 \
             WHERE o.colour = 'green' AND o.reviewed_at IS NULL GROUP BY o.patient_id ORDER BY o.patient_id",
        )
        .bind(staff_id.to_string())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok((
                    uuid(&r.try_get::<String, _>("patient_id")?)?,
                    r.try_get("n")?,
                ))
            })
            .collect()
    }

    /// Marks a patient's unreviewed green readings reviewed, queues the receipt to the patient
    /// and writes the audit entry, in one transaction. Returns how many were marked.
    pub async fn review_green(
        &self,
        patient_id: Uuid,
        receipt: Option<&NewMessage>,
        audit: &NewAuditEntry,
        now: Timestamp,
    ) -> Result<u64> {
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query(
            "UPDATE followup_observations SET reviewed_at = $1 \
             WHERE patient_id = $2 AND colour = 'green' AND reviewed_at IS NULL",
        )
        .bind(ms(now))
        .bind(patient_id.to_string())
        .execute(&mut *tx)
        .await?;
        let n = done.rows_affected();
        if n == 0 {
            return Ok(0);
        }
        if let Some(m) = receipt {
            enqueue_in(&mut tx, m, now).await?;
        }
        append_in(&mut tx, audit, now).await?;
        tx.commit().await?;
        Ok(n)
    }

    // ---- alerts ---------------------------------------------------------------------

    /// Unfinished alerts (not yet acted on) of the enrolled patients on `staff_id`'s care
    /// teams, with the patients' names; the caller orders them.
    pub async fn followup_worklist(&self, staff_id: Uuid) -> Result<Vec<Alert>> {
        let sql = format!(
            "SELECT {ALERT_COLUMNS}, p.name FROM followup_alerts a \
             JOIN patients p ON p.id = a.patient_id \
             JOIN care_team c ON c.patient_id = a.patient_id AND c.staff_id = $1 \
             JOIN followup_enrolments e ON e.patient_id = a.patient_id AND e.status <> 'ended' \
             WHERE a.acted_at IS NULL"
        );
        let rows = sqlx::query(&sql)
            .bind(staff_id.to_string())
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(|r| alert_from(r, true)).collect()
    }

    /// A patient's alerts, newest first.
    pub async fn followup_alerts(&self, patient_id: Uuid, limit: i64) -> Result<Vec<Alert>> {
        let sql = format!(
            "SELECT {ALERT_COLUMNS} FROM followup_alerts a WHERE a.patient_id = $1 \
             ORDER BY a.raised_at DESC, a.id DESC LIMIT $2"
        );
        let rows = sqlx::query(&sql)
            .bind(patient_id.to_string())
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(|r| alert_from(r, false)).collect()
    }

    /// Every unacknowledged, not yet escalated alert of a patient still in follow-up (for the
    /// escalation sweep; an ended follow-up escalates nothing).
    pub async fn followup_unescalated(&self) -> Result<Vec<Alert>> {
        let sql = format!(
            "SELECT {ALERT_COLUMNS} FROM followup_alerts a \
             JOIN followup_enrolments e ON e.patient_id = a.patient_id AND e.status <> 'ended' \
             WHERE a.acknowledged_at IS NULL AND a.escalated_at IS NULL"
        );
        let rows = sqlx::query(&sql).fetch_all(&self.pool).await?;
        rows.iter().map(|r| alert_from(r, false)).collect()
    }

    pub async fn followup_alert(&self, id: Uuid) -> Result<Option<Alert>> {
        let sql = format!("SELECT {ALERT_COLUMNS} FROM followup_alerts a WHERE a.id = $1");
        let row = sqlx::query(&sql)
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(|r| alert_from(r, false)).transpose()
    }

    /// Acknowledges an alert of `patient_id` that is not yet acknowledged.
    pub async fn acknowledge_followup_alert(
        &self,
        id: Uuid,
        patient_id: Uuid,
        by: Uuid,
        by_label: &str,
        audit: &NewAuditEntry,
        now: Timestamp,
    ) -> Result<bool> {
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query(
            "UPDATE followup_alerts SET acknowledged_by = $1, acknowledged_by_label = $2, acknowledged_at = $3 \
             WHERE id = $4 AND patient_id = $5 AND acknowledged_at IS NULL",
        )
        .bind(by.to_string())
        .bind(by_label)
        .bind(ms(now))
        .bind(id.to_string())
        .bind(patient_id.to_string())
        .execute(&mut *tx)
        .await?;
        commit_one_with_audit(tx, done.rows_affected(), audit, now).await
    }

    /// Records what was done about an alert and the note documenting it (acknowledging it too
    /// if that had not been done). An alert is acted on once.
    #[allow(clippy::too_many_arguments)]
    pub async fn act_on_followup_alert(
        &self,
        id: Uuid,
        patient_id: Uuid,
        action: &str,
        note: &str,
        by: Uuid,
        by_label: &str,
        audit: &NewAuditEntry,
        now: Timestamp,
    ) -> Result<bool> {
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query(
            "UPDATE followup_alerts SET action = $1, note = $2, acted_at = $3, \
             acknowledged_by = COALESCE(acknowledged_by, $4), \
             acknowledged_by_label = COALESCE(acknowledged_by_label, $5), \
             acknowledged_at = COALESCE(acknowledged_at, $3) \
             WHERE id = $6 AND patient_id = $7 AND acted_at IS NULL",
        )
        .bind(action)
        .bind(note)
        .bind(ms(now))
        .bind(by.to_string())
        .bind(by_label)
        .bind(id.to_string())
        .bind(patient_id.to_string())
        .execute(&mut *tx)
        .await?;
        commit_one_with_audit(tx, done.rows_affected(), audit, now).await
    }

    /// Marks an alert escalated (once).
    pub async fn escalate_followup_alert(
        &self,
        id: Uuid,
        audit: &NewAuditEntry,
        now: Timestamp,
    ) -> Result<bool> {
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query(
            "UPDATE followup_alerts SET escalated_at = $1 \
             WHERE id = $2 AND escalated_at IS NULL AND acknowledged_at IS NULL",
        )
        .bind(ms(now))
        .bind(id.to_string())
        .execute(&mut *tx)
        .await?;
        commit_one_with_audit(tx, done.rows_affected(), audit, now).await
    }

    /// Raises missing-report alerts (each occurrence once), queues reminders (deduplicated by
    /// the outbox) and moves the patient's sweep mark, in one transaction. Returns how many
    /// alerts were new.
    pub async fn record_followup_sweep(
        &self,
        patient_id: Uuid,
        missing: &[NewMissingReport],
        reminders: &[NewMessage],
        swept_until: Timestamp,
        audit: Option<&NewAuditEntry>,
        now: Timestamp,
    ) -> Result<usize> {
        let mut tx = self.pool.begin().await?;
        let mut new = 0;
        for m in missing {
            let done = sqlx::query(
                "INSERT INTO followup_alerts (id, patient_id, kind, observation_id, occurrence_key, explanation, raised_at, note) \
                 VALUES ($1, $2, 'missing_report', NULL, $3, $4, $5, '') ON CONFLICT (occurrence_key) DO NOTHING",
            )
            .bind(new_id().to_string())
            .bind(patient_id.to_string())
            .bind(&m.occurrence_key)
            .bind(&m.explanation)
            .bind(ms(m.raised_at))
            .execute(&mut *tx)
            .await?;
            new += done.rows_affected() as usize;
        }
        for r in reminders {
            enqueue_in(&mut tx, r, now).await?;
        }
        sqlx::query("UPDATE followup_enrolments SET swept_until = $1 WHERE patient_id = $2 AND swept_until < $1")
            .bind(ms(swept_until))
            .bind(patient_id.to_string())
            .execute(&mut *tx)
            .await?;
        if new > 0
            && let Some(a) = audit
        {
            append_in(&mut tx, a, now).await?;
        }
        tx.commit().await?;
        Ok(new)
    }

    // ---- device tokens --------------------------------------------------------------

    pub async fn create_device_token(
        &self,
        patient_id: Uuid,
        token_hash: &str,
        label: &str,
        by: Uuid,
        audit: &NewAuditEntry,
        now: Timestamp,
    ) -> Result<Uuid> {
        let id = new_id();
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO followup_device_tokens (token_hash, id, patient_id, label, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(token_hash)
        .bind(id.to_string())
        .bind(patient_id.to_string())
        .bind(label)
        .bind(by.to_string())
        .bind(ms(now))
        .execute(&mut *tx)
        .await?;
        append_in(&mut tx, audit, now).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// The device token with this hash, if not revoked: (token id, patient id).
    pub async fn device_token(&self, token_hash: &str) -> Result<Option<(Uuid, Uuid)>> {
        let row = sqlx::query(
            "SELECT id, patient_id FROM followup_device_tokens WHERE token_hash = $1 AND revoked_at IS NULL",
        )
        .bind(token_hash)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| {
            Ok((
                uuid(&r.try_get::<String, _>("id")?)?,
                uuid(&r.try_get::<String, _>("patient_id")?)?,
            ))
        })
        .transpose()
    }

    pub async fn device_tokens(&self, patient_id: Uuid) -> Result<Vec<DeviceToken>> {
        let rows = sqlx::query(
            "SELECT id, patient_id, label, created_at, revoked_at FROM followup_device_tokens \
             WHERE patient_id = $1 ORDER BY created_at",
        )
        .bind(patient_id.to_string())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(DeviceToken {
                    id: uuid(&r.try_get::<String, _>("id")?)?,
                    patient_id: uuid(&r.try_get::<String, _>("patient_id")?)?,
                    label: r.try_get("label")?,
                    created_at: ts(r.try_get("created_at")?)?,
                    revoked_at: opt_ts(r.try_get("revoked_at")?)?,
                })
            })
            .collect()
    }

    pub async fn revoke_device_token(
        &self,
        id: Uuid,
        patient_id: Uuid,
        audit: &NewAuditEntry,
        now: Timestamp,
    ) -> Result<bool> {
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query(
            "UPDATE followup_device_tokens SET revoked_at = $1 WHERE id = $2 AND patient_id = $3 AND revoked_at IS NULL",
        )
        .bind(ms(now))
        .bind(id.to_string())
        .bind(patient_id.to_string())
        .execute(&mut *tx)
        .await?;
        commit_one_with_audit(tx, done.rows_affected(), audit, now).await
    }

    // ---- the patient app's login ----------------------------------------------------

    /// The enrolled (not ended) patient with this phone number or e-mail address on file.
    pub async fn followup_patient_by_contact(&self, contact: &str) -> Result<Option<Uuid>> {
        let row = sqlx::query(
            "SELECT p.id FROM patients p JOIN followup_enrolments e ON e.patient_id = p.id \
             WHERE e.status <> 'ended' AND (p.phone = $1 OR LOWER(p.email) = LOWER($1)) ORDER BY p.id LIMIT 1",
        )
        .bind(contact)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| uuid(&r.try_get::<String, _>("id")?))
            .transpose()
    }

    /// Login codes made for a patient since `since`.
    pub async fn login_codes_since(&self, patient_id: Uuid, since: Timestamp) -> Result<i64> {
        let row = sqlx::query(
            "SELECT COUNT(*) AS n FROM followup_login_codes WHERE patient_id = $1 AND created_at >= $2",
        )
        .bind(patient_id.to_string())
        .bind(ms(since))
        .fetch_one(&self.pool)
        .await?;
        Ok(row.try_get("n")?)
    }

    /// Stores a login code's hash and queues the message that carries the code.
    pub async fn create_login_code(
        &self,
        patient_id: Uuid,
        code_hash: &str,
        expires_at: Timestamp,
        message: &NewMessage,
        audit: &NewAuditEntry,
        now: Timestamp,
    ) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO followup_login_codes (id, patient_id, code_hash, created_at, expires_at, attempts) \
             VALUES ($1, $2, $3, $4, $5, 0)",
        )
        .bind(new_id().to_string())
        .bind(patient_id.to_string())
        .bind(code_hash)
        .bind(ms(now))
        .bind(ms(expires_at))
        .execute(&mut *tx)
        .await?;
        enqueue_in(&mut tx, message, now).await?;
        append_in(&mut tx, audit, now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The newest login code of a patient.
    pub async fn latest_login_code(&self, patient_id: Uuid) -> Result<Option<LoginCode>> {
        let row = sqlx::query(
            "SELECT id, patient_id, code_hash, expires_at, attempts, used_at FROM followup_login_codes \
             WHERE patient_id = $1 ORDER BY created_at DESC, id DESC LIMIT 1",
        )
        .bind(patient_id.to_string())
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| {
            Ok(LoginCode {
                id: uuid(&r.try_get::<String, _>("id")?)?,
                patient_id: uuid(&r.try_get::<String, _>("patient_id")?)?,
                code_hash: r.try_get("code_hash")?,
                expires_at: ts(r.try_get("expires_at")?)?,
                attempts: r.try_get("attempts")?,
                used_at: opt_ts(r.try_get("used_at")?)?,
            })
        })
        .transpose()
    }

    pub async fn count_login_code_attempt(&self, id: Uuid) -> Result<()> {
        sqlx::query("UPDATE followup_login_codes SET attempts = attempts + 1 WHERE id = $1")
            .bind(id.to_string())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Spends a login code and opens a patient session, in one transaction. False if the
    /// code was spent meanwhile.
    pub async fn open_patient_session(
        &self,
        code_id: Uuid,
        patient_id: Uuid,
        session_hash: &str,
        expires_at: Timestamp,
        audit: &NewAuditEntry,
        now: Timestamp,
    ) -> Result<bool> {
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query(
            "UPDATE followup_login_codes SET used_at = $1 WHERE id = $2 AND used_at IS NULL",
        )
        .bind(ms(now))
        .bind(code_id.to_string())
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() != 1 {
            return Ok(false);
        }
        sqlx::query(
            "INSERT INTO followup_patient_sessions (token_hash, patient_id, created_at, last_seen_at, expires_at) \
             VALUES ($1, $2, $3, $3, $4)",
        )
        .bind(session_hash)
        .bind(patient_id.to_string())
        .bind(ms(now))
        .bind(ms(expires_at))
        .execute(&mut *tx)
        .await
        .map_err(|e| StoreError::conflict_or(e, "a session with that token"))?;
        commit_one_with_audit(tx, 1, audit, now).await
    }

    /// The patient of a live session (seen within `idle_since`), touching it.
    pub async fn patient_session(
        &self,
        session_hash: &str,
        idle_since: Timestamp,
        now: Timestamp,
    ) -> Result<Option<Uuid>> {
        let row = sqlx::query(
            "UPDATE followup_patient_sessions SET last_seen_at = $1 \
             WHERE token_hash = $2 AND expires_at > $1 AND last_seen_at >= $3 RETURNING patient_id",
        )
        .bind(ms(now))
        .bind(session_hash)
        .bind(ms(idle_since))
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| uuid(&r.try_get::<String, _>("patient_id")?))
            .transpose()
    }

    pub async fn end_patient_session(&self, session_hash: &str) -> Result<()> {
        sqlx::query("DELETE FROM followup_patient_sessions WHERE token_hash = $1")
            .bind(session_hash)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
