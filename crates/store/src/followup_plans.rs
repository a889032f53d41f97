//! Self-care plans (HF-3) and questionnaire responses (HF-4, HF-5): plan versions with the GP's
//! approval, and completed questionnaires with their score, colour and the alert they raise.
//!
//! Structured values (conditions, plan entries, answers) are stored as JSON written by the app
//! layer. Every change takes its audit entry and writes it in the same transaction.

use crate::audit::{append_in, commit_one_with_audit};
use crate::{NewAuditEntry, Result, Store, StoreError, ms, opt_ts, opt_uuid, ts, uuid};
use helsebro_domain::new_id;
use jiff::Timestamp;
use sqlx::Row;
use sqlx::any::AnyRow;
use uuid::Uuid;

/// One stored version of a patient's self-care plan.
#[derive(Debug, Clone, serde::Serialize)]
pub struct PlanRecord {
    pub id: Uuid,
    pub patient_id: Uuid,
    pub version: i64,
    /// JSON array of `followup::Condition`.
    pub conditions: String,
    /// JSON array of the app's plan entries.
    pub entries: String,
    pub created_by: Uuid,
    pub created_by_label: String,
    pub created_at: Timestamp,
    pub approved_by: Option<Uuid>,
    pub approved_by_label: Option<String>,
    pub approved_at: Option<Timestamp>,
}

/// A new plan version to keep.
#[derive(Debug, Clone)]
pub struct NewPlan {
    pub patient_id: Uuid,
    pub conditions: String,
    pub entries: String,
    pub created_by: Uuid,
    pub created_by_label: String,
}

/// A completed questionnaire to keep, with the alert it raises (red or yellow), if any.
#[derive(Debug, Clone)]
pub struct NewResponse {
    pub patient_id: Uuid,
    pub questionnaire: String,
    pub questionnaire_version: String,
    /// JSON array of `[link_id, option code]`.
    pub answers: String,
    pub score: i64,
    pub colour: String,
    pub explanation: String,
    /// `app` or `staff`.
    pub entered_via: String,
    pub authored_at: Timestamp,
    /// `red` or `yellow`.
    pub alert: Option<String>,
}

/// A stored questionnaire response.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ResponseRecord {
    pub id: Uuid,
    pub patient_id: Uuid,
    pub questionnaire: String,
    pub questionnaire_version: String,
    pub answers: String,
    pub score: i64,
    pub colour: String,
    pub explanation: String,
    pub entered_via: String,
    pub authored_at: Timestamp,
    pub received_at: Timestamp,
}

const PLAN_COLUMNS: &str = "id, patient_id, version, conditions, entries, created_by, \
    created_by_label, created_at, approved_by, approved_by_label, approved_at";

const RESPONSE_COLUMNS: &str = "id, patient_id, questionnaire, questionnaire_version, answers, \
    score, colour, explanation, entered_via, authored_at, received_at";

fn plan_from(r: &AnyRow) -> Result<PlanRecord> {
    Ok(PlanRecord {
        id: uuid(&r.try_get::<String, _>("id")?)?,
        patient_id: uuid(&r.try_get::<String, _>("patient_id")?)?,
        version: r.try_get("version")?,
        conditions: r.try_get("conditions")?,
        entries: r.try_get("entries")?,
        created_by: uuid(&r.try_get::<String, _>("created_by")?)?,
        created_by_label: r.try_get("created_by_label")?,
        created_at: ts(r.try_get("created_at")?)?,
        approved_by: opt_uuid(r.try_get("approved_by")?)?,
        approved_by_label: r.try_get("approved_by_label")?,
        approved_at: opt_ts(r.try_get("approved_at")?)?,
    })
}

fn response_from(r: &AnyRow) -> Result<ResponseRecord> {
    Ok(ResponseRecord {
        id: uuid(&r.try_get::<String, _>("id")?)?,
        patient_id: uuid(&r.try_get::<String, _>("patient_id")?)?,
        questionnaire: r.try_get("questionnaire")?,
        questionnaire_version: r.try_get("questionnaire_version")?,
        answers: r.try_get("answers")?,
        score: r.try_get("score")?,
        colour: r.try_get("colour")?,
        explanation: r.try_get("explanation")?,
        entered_via: r.try_get("entered_via")?,
        authored_at: ts(r.try_get("authored_at")?)?,
        received_at: ts(r.try_get("received_at")?)?,
    })
}

impl Store {
    // ---- self-care plans --------------------------------------------------------------

    /// Keeps a new version of a patient's plan (the next number after the newest) as a draft.
    /// Answers its id and version. Two changes at once cannot get the same number (the
    /// second is a conflict).
    pub async fn add_followup_plan(
        &self,
        plan: &NewPlan,
        audit: &NewAuditEntry,
        now: Timestamp,
    ) -> Result<(Uuid, i64)> {
        let id = new_id();
        let mut tx = self.pool.begin().await?;
        let row = sqlx::query(
            "SELECT COALESCE(MAX(version), 0) AS v FROM followup_plans WHERE patient_id = $1",
        )
        .bind(plan.patient_id.to_string())
        .fetch_one(&mut *tx)
        .await?;
        let version: i64 = row.try_get::<i64, _>("v")? + 1;
        sqlx::query(
            "INSERT INTO followup_plans (id, patient_id, version, conditions, entries, created_by, \
             created_by_label, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(id.to_string())
        .bind(plan.patient_id.to_string())
        .bind(version)
        .bind(&plan.conditions)
        .bind(&plan.entries)
        .bind(plan.created_by.to_string())
        .bind(&plan.created_by_label)
        .bind(ms(now))
        .execute(&mut *tx)
        .await
        .map_err(|e| StoreError::conflict_or(e, "a plan version with this number"))?;
        append_in(&mut tx, audit, now).await?;
        tx.commit().await?;
        Ok((id, version))
    }

    /// Every version of a patient's plan, newest first.
    pub async fn followup_plans(&self, patient_id: Uuid) -> Result<Vec<PlanRecord>> {
        let sql = format!(
            "SELECT {PLAN_COLUMNS} FROM followup_plans WHERE patient_id = $1 ORDER BY version DESC"
        );
        let rows = sqlx::query(&sql)
            .bind(patient_id.to_string())
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(plan_from).collect()
    }

    /// The newest approved version of a patient's plan.
    pub async fn latest_approved_plan(&self, patient_id: Uuid) -> Result<Option<PlanRecord>> {
        let sql = format!(
            "SELECT {PLAN_COLUMNS} FROM followup_plans WHERE patient_id = $1 \
             AND approved_at IS NOT NULL ORDER BY version DESC LIMIT 1"
        );
        let row = sqlx::query(&sql)
            .bind(patient_id.to_string())
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(plan_from).transpose()
    }

    /// Records the approval of a plan version of `patient_id`, if it is the newest version and
    /// not yet approved. False when nothing changed.
    pub async fn approve_followup_plan(
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
            "UPDATE followup_plans SET approved_by = $1, approved_by_label = $2, approved_at = $3 \
             WHERE id = $4 AND patient_id = $5 AND approved_at IS NULL \
             AND version = (SELECT MAX(version) FROM followup_plans WHERE patient_id = $5)",
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

    // ---- questionnaire responses ------------------------------------------------------

    /// Stores a response with the alert it raises and its audit entry, in one transaction.
    pub async fn store_followup_response(
        &self,
        r: &NewResponse,
        audit: &NewAuditEntry,
        now: Timestamp,
    ) -> Result<Uuid> {
        let id = new_id();
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO followup_responses (id, patient_id, questionnaire, questionnaire_version, \
             answers, score, colour, explanation, entered_via, authored_at, received_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(id.to_string())
        .bind(r.patient_id.to_string())
        .bind(&r.questionnaire)
        .bind(&r.questionnaire_version)
        .bind(&r.answers)
        .bind(r.score)
        .bind(&r.colour)
        .bind(&r.explanation)
        .bind(&r.entered_via)
        .bind(ms(r.authored_at))
        .bind(ms(now))
        .execute(&mut *tx)
        .await?;
        if let Some(kind) = &r.alert {
            sqlx::query(
                "INSERT INTO followup_alerts (id, patient_id, kind, observation_id, occurrence_key, \
                 explanation, raised_at, note, questionnaire_response_id) \
                 VALUES ($1, $2, $3, NULL, NULL, $4, $5, '', $6)",
            )
            .bind(new_id().to_string())
            .bind(r.patient_id.to_string())
            .bind(kind)
            .bind(&r.explanation)
            .bind(ms(now))
            .bind(id.to_string())
            .execute(&mut *tx)
            .await?;
        }
        append_in(&mut tx, audit, now).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// A patient's responses authored at or after `since`, newest first, at most `limit`.
    pub async fn followup_responses(
        &self,
        patient_id: Uuid,
        since: Timestamp,
        limit: i64,
    ) -> Result<Vec<ResponseRecord>> {
        let sql = format!(
            "SELECT {RESPONSE_COLUMNS} FROM followup_responses WHERE patient_id = $1 \
             AND authored_at >= $2 ORDER BY authored_at DESC, id DESC LIMIT $3"
        );
        let rows = sqlx::query(&sql)
            .bind(patient_id.to_string())
            .bind(ms(since))
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(response_from).collect()
    }

    pub async fn followup_response(&self, id: Uuid) -> Result<Option<ResponseRecord>> {
        let sql = format!("SELECT {RESPONSE_COLUMNS} FROM followup_responses WHERE id = $1");
        let row = sqlx::query(&sql)
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(response_from).transpose()
    }

    /// One plan version by id.
    pub async fn followup_plan(&self, id: Uuid) -> Result<Option<PlanRecord>> {
        let sql = format!("SELECT {PLAN_COLUMNS} FROM followup_plans WHERE id = $1");
        let row = sqlx::query(&sql)
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(plan_from).transpose()
    }
}
