//! The runner of scheduled jobs (the store's `jobs` table): claims due jobs with a lease, does
//! each by its kind, and records the result — done, another try later with back-off, or
//! failed for good. Every job is idempotent, so a job whose runner died and which is taken
//! over after its lease does no harm by running again. `helsebro serve` runs it from its
//! housekeeping loop; several processes may run it at once.

use crate::App;
use crate::error::{AppError, Result};
use helsebro_domain::{AuditAction, AuditOutcome};
use helsebro_notify::sender::backoff;
use helsebro_store::{Job, JobKind, NewAuditEntry};
use jiff::SignedDuration;
use uuid::Uuid;

/// How long a claimed job is the runner's before another may take it over.
const LEASE: SignedDuration = SignedDuration::from_mins(10);
/// Jobs claimed at a time.
const BATCH: i64 = 20;
/// Attempts before a job is failed for good (then it shows in the jobs table with its error).
const MAX_ATTEMPTS: i64 = 10;

impl App {
    /// Claims the jobs due now and does them. Returns how many were claimed.
    pub async fn run_due_jobs(&self) -> Result<usize> {
        let now = self.now();
        let jobs = self.store().claim_due_jobs(now, now + LEASE, BATCH).await?;
        for job in &jobs {
            let outcome = self.do_job(job).await;
            let now = self.now();
            match outcome {
                Ok(()) => {
                    self.store().mark_job_done(job, now).await?;
                    tracing::info!(job = %job.id, kind = job.kind.code(), "job done");
                }
                Err(e) => {
                    let retry = (job.attempts < MAX_ATTEMPTS).then(|| now + backoff(job.attempts));
                    self.store()
                        .mark_job_failed(job, &e.to_string(), retry, now)
                        .await?;
                    tracing::warn!(job = %job.id, kind = job.kind.code(), attempts = job.attempts,
                        retry = retry.is_some(), "job failed");
                }
            }
        }
        Ok(jobs.len())
    }

    async fn do_job(&self, job: &Job) -> Result<()> {
        match job.kind {
            JobKind::PurgeAppointment => {
                let id = Uuid::parse_str(&job.subject)
                    .map_err(|_| AppError::Internal(format!("job subject {:?}", job.subject)))?;
                self.purge_appointment(id).await
            }
        }
    }

    /// Deletes the details of an appointment that are no longer needed (VC-17), keeping its
    /// statistics; see the store's `purge_appointment`. Idempotent; an unknown appointment is
    /// nothing to do.
    async fn purge_appointment(&self, id: Uuid) -> Result<()> {
        let audit = NewAuditEntry {
            actor_id: None,
            actor_label: "system".into(),
            action: AuditAction::AppointmentPurged,
            outcome: AuditOutcome::Success,
            patient_id: None,
            object: format!("appointment:{id}"),
            ip: String::new(),
            detail: "details deleted; statistics kept".into(),
            flagged: false,
        };
        self.store()
            .purge_appointment(id, &audit, self.now())
            .await?;
        Ok(())
    }
}
