//! The persistent scheduler (VC-17): work that is not a message, due at a set time.
//!
//! One row per (kind, subject); scheduling the same job again moves it. Claiming works like
//! the outbox: one `UPDATE … RETURNING` marks due jobs `running` with a lease and a random
//! claim; on PostgreSQL the candidate rows are locked with `FOR UPDATE SKIP LOCKED`, on SQLite
//! the single statement holds the write lock. Only the holder of the claim can record the
//! result, so a job moved while it ran stays scheduled for its new time, and a runner that
//! died leaves its job to be taken again when the lease runs out.

use crate::{Backend, Result, Store, StoreError, ms, opt_ts, ts, uuid};
use helsebro_domain::new_id;
use jiff::Timestamp;
use sqlx::{AnyConnection, Row};
use uuid::Uuid;

/// What a job does. Add a kind here (and its handler in the app crate's runner) for new
/// scheduled work, e.g. home follow-up task reminders.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum JobKind {
    /// Delete an appointment's details that are no longer needed; the subject is its id.
    PurgeAppointment,
}

impl JobKind {
    pub const ALL: [JobKind; 1] = [JobKind::PurgeAppointment];

    pub fn code(self) -> &'static str {
        match self {
            JobKind::PurgeAppointment => "purge_appointment",
        }
    }

    pub fn parse(s: &str) -> Option<JobKind> {
        JobKind::ALL.into_iter().find(|k| k.code() == s)
    }
}

/// A job to schedule (or move).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewJob {
    pub kind: JobKind,
    pub subject: String,
    pub run_at: Timestamp,
}

/// A job as stored.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Job {
    pub id: Uuid,
    pub kind: JobKind,
    pub subject: String,
    pub run_at: Timestamp,
    pub status: String,
    pub attempts: i64,
    pub last_error: String,
    pub finished_at: Option<Timestamp>,
    /// The claim that must be shown to record the result.
    #[serde(skip)]
    pub claim: String,
}

const COLUMNS: &str = "id, kind, subject, run_at, status, attempts, last_error, finished_at, claim";

/// Schedules `job` inside the caller's transaction; a job of the same kind and subject is
/// moved to the new time and scheduled afresh (even if it already ran: the new time counts).
pub(crate) async fn schedule_in(
    conn: &mut AnyConnection,
    job: &NewJob,
    now: Timestamp,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO jobs (id, kind, subject, run_at, status, attempts, last_error, created_at) \
         VALUES ($1, $2, $3, $4, 'scheduled', 0, '', $5) \
         ON CONFLICT (kind, subject) DO UPDATE SET run_at = excluded.run_at, status = 'scheduled', \
         attempts = 0, lease_until = NULL, claim = NULL, last_error = '', finished_at = NULL",
    )
    .bind(new_id().to_string())
    .bind(job.kind.code())
    .bind(&job.subject)
    .bind(ms(job.run_at))
    .bind(ms(now))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

impl Store {
    /// Schedules (or moves) one job.
    pub async fn schedule_job(&self, job: &NewJob, now: Timestamp) -> Result<()> {
        let mut conn = self.pool.acquire().await?;
        schedule_in(&mut conn, job, now).await
    }

    /// Claims up to `limit` due jobs until `lease_until`: scheduled ones whose time has come,
    /// and running ones whose lease ran out (their runner died).
    pub async fn claim_due_jobs(
        &self,
        now: Timestamp,
        lease_until: Timestamp,
        limit: i64,
    ) -> Result<Vec<Job>> {
        let lock = match self.backend {
            Backend::Postgres => "FOR UPDATE SKIP LOCKED",
            Backend::Sqlite => "",
        };
        let claim = new_id().to_string();
        let sql = format!(
            "UPDATE jobs SET status = 'running', lease_until = $1, attempts = attempts + 1, claim = $4 \
             WHERE id IN (SELECT id FROM jobs \
                 WHERE (status = 'scheduled' AND run_at <= $2) OR (status = 'running' AND lease_until <= $2) \
                 ORDER BY run_at LIMIT $3 {lock}) \
             RETURNING {COLUMNS}"
        );
        let rows = sqlx::query(&sql)
            .bind(ms(lease_until))
            .bind(ms(now))
            .bind(limit)
            .bind(&claim)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(job_from_row).collect()
    }

    /// Records that a claimed job is done. False if the claim is no longer ours (the job was
    /// moved or taken over meanwhile).
    pub async fn mark_job_done(&self, job: &Job, now: Timestamp) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE jobs SET status = 'done', finished_at = $1, lease_until = NULL, last_error = '' \
             WHERE id = $2 AND status = 'running' AND claim = $3",
        )
        .bind(ms(now))
        .bind(job.id.to_string())
        .bind(&job.claim)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Records a failed attempt: scheduled again at `retry_at`, or failed for good (`None`).
    pub async fn mark_job_failed(
        &self,
        job: &Job,
        error: &str,
        retry_at: Option<Timestamp>,
        now: Timestamp,
    ) -> Result<bool> {
        let (status, run_at, finished) = match retry_at {
            Some(t) => ("scheduled", Some(ms(t)), None),
            None => ("failed", None, Some(ms(now))),
        };
        let done = sqlx::query(
            "UPDATE jobs SET status = $1, run_at = COALESCE($2, run_at), last_error = $3, \
             finished_at = $4, lease_until = NULL WHERE id = $5 AND status = 'running' AND claim = $6",
        )
        .bind(status)
        .bind(run_at)
        .bind(error)
        .bind(finished)
        .bind(job.id.to_string())
        .bind(&job.claim)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// The job of `kind` for `subject`, if any.
    pub async fn job(&self, kind: JobKind, subject: &str) -> Result<Option<Job>> {
        let sql = format!("SELECT {COLUMNS} FROM jobs WHERE kind = $1 AND subject = $2");
        let row = sqlx::query(&sql)
            .bind(kind.code())
            .bind(subject)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(job_from_row).transpose()
    }
}

fn job_from_row(r: &sqlx::any::AnyRow) -> Result<Job> {
    let kind: String = r.try_get("kind")?;
    Ok(Job {
        id: uuid(&r.try_get::<String, _>("id")?)?,
        kind: JobKind::parse(&kind).ok_or_else(|| StoreError::Corrupt(format!("job {kind}")))?,
        subject: r.try_get("subject")?,
        run_at: ts(r.try_get("run_at")?)?,
        status: r.try_get("status")?,
        attempts: r.try_get("attempts")?,
        last_error: r.try_get("last_error")?,
        finished_at: opt_ts(r.try_get("finished_at")?)?,
        claim: r.try_get::<Option<String>, _>("claim")?.unwrap_or_default(),
    })
}
