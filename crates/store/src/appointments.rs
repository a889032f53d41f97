//! Video appointments, their hosts and their invitations (join links).
//!
//! Every change is written with its audit entry, and with the notifications it causes, in one
//! transaction. Only the SHA-256 of a join link's token is stored.

use crate::audit::append_in;
use crate::jobs::{JobKind, NewJob, schedule_in};
use crate::outbox::enqueue_in;
use crate::{NewAuditEntry, NewMessage, Result, Store, StoreError, ms, opt_ts, opt_uuid, ts, uuid};
use helsebro_domain::Language;
use helsebro_domain::appointment::{AppointmentKind, CallPolicy, InviteeRole, Outcome};
use jiff::Timestamp;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};
use uuid::Uuid;

/// An appointment as stored, with its hosts and (for the care team) the patient's name.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Appointment {
    pub id: Uuid,
    pub unit_id: Option<Uuid>,
    pub unit_name: Option<String>,
    pub patient_id: Option<Uuid>,
    pub patient_name: Option<String>,
    pub kind: AppointmentKind,
    #[schema(value_type = String, format = DateTime)]
    pub starts_at: Timestamp,
    pub duration_minutes: i64,
    pub policy: CallPolicy,
    pub title: String,
    pub version: i64,
    pub created_by: Uuid,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub cancelled_at: Option<Timestamp>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub call_started_at: Option<Timestamp>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub call_ended_at: Option<Timestamp>,
    pub outcome: Option<Outcome>,
    pub outcome_minutes: Option<i64>,
    pub outcome_recorded_by: Option<Uuid>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub outcome_recorded_at: Option<Timestamp>,
    pub outcome_note: String,
    /// The staff hosts: id and name.
    pub hosts: Vec<AppointmentHost>,
}

impl Appointment {
    pub fn ends_at(&self) -> Timestamp {
        self.starts_at
            .saturating_add(jiff::SignedDuration::from_mins(self.duration_minutes))
            .unwrap_or(self.starts_at)
    }

    /// Whether `staff` hosts the appointment or booked it.
    pub fn is_host(&self, staff: Uuid) -> bool {
        self.created_by == staff || self.hosts.iter().any(|h| h.staff_id == staff)
    }
}

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct AppointmentHost {
    pub staff_id: Uuid,
    pub display_name: String,
}

/// An invitation (one join link's holder). Never carries the token.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Invitation {
    pub id: Uuid,
    pub appointment_id: Uuid,
    pub role: InviteeRole,
    pub display_name: String,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub language: Language,
    #[schema(value_type = String, format = DateTime)]
    pub valid_from: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub valid_until: Timestamp,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub revoked_at: Option<Timestamp>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub spent_at: Option<Timestamp>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
}

/// A new appointment; the caller chooses the ids, so messages can name them before insert.
#[derive(Debug, Clone)]
pub struct NewAppointment {
    pub id: Uuid,
    pub unit_id: Option<Uuid>,
    pub patient_id: Option<Uuid>,
    pub kind: AppointmentKind,
    pub starts_at: Timestamp,
    pub duration_minutes: i64,
    pub policy: CallPolicy,
    pub title: String,
    pub created_by: Uuid,
    pub hosts: Vec<Uuid>,
    /// When the details no longer needed are deleted (the `purge_appointment` job).
    pub purge_at: Timestamp,
}

#[derive(Debug, Clone)]
pub struct NewInvitation {
    pub id: Uuid,
    pub role: InviteeRole,
    pub display_name: String,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub language: Language,
    pub token_hash: String,
    pub valid_from: Timestamp,
    pub valid_until: Timestamp,
}

/// A new time for an appointment, with the new link of each invitation (for the messages).
#[derive(Debug, Clone)]
pub struct Reschedule {
    pub starts_at: Timestamp,
    pub duration_minutes: i64,
    pub valid_from: Timestamp,
    pub valid_until: Timestamp,
    /// (invitation, hash of its new token).
    pub new_tokens: Vec<(Uuid, String)>,
    /// The purge job moves with the appointment.
    pub purge_at: Timestamp,
}

/// The outcome a host records.
#[derive(Debug, Clone)]
pub struct OutcomeRecord {
    pub outcome: Outcome,
    pub minutes: Option<i64>,
    pub note: String,
    pub recorded_by: Uuid,
}

const APPOINTMENT_COLUMNS: &str = "a.id, a.unit_id, u.name AS unit_name, a.patient_id, p.name AS patient_name, \
     a.kind, a.starts_at, a.duration_minutes, a.policy, a.title, a.version, a.created_by, a.created_at, \
     a.cancelled_at, a.call_started_at, a.call_ended_at, a.outcome, a.outcome_minutes, \
     a.outcome_recorded_by, a.outcome_recorded_at, a.outcome_note";

const APPOINTMENT_FROM: &str = "appointments a LEFT JOIN units u ON u.id = a.unit_id \
     LEFT JOIN patients p ON p.id = a.patient_id";

const INVITATION_COLUMNS: &str = "i.id, i.appointment_id, i.role, i.display_name, i.phone, i.email, i.language, \
     i.valid_from, i.valid_until, i.revoked_at, i.spent_at, i.created_at";

/// The prefix of the dedupe keys of an appointment's messages (see the app crate).
pub fn message_key_prefix(appointment: Uuid) -> String {
    format!("appt:{appointment}:")
}

fn purge_job(appointment: Uuid, at: Timestamp) -> NewJob {
    NewJob {
        kind: JobKind::PurgeAppointment,
        subject: appointment.to_string(),
        run_at: at,
    }
}

impl Store {
    /// Books an appointment with its hosts and invitations, queues its messages and writes the
    /// audit entry, in one transaction.
    pub async fn create_appointment(
        &self,
        new: &NewAppointment,
        invitations: &[NewInvitation],
        messages: &[NewMessage],
        audit: &NewAuditEntry,
        now: Timestamp,
    ) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO appointments (id, unit_id, patient_id, kind, starts_at, duration_minutes, policy, title, \
             version, created_by, created_at, outcome_note) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 1, $9, $10, '')",
        )
        .bind(new.id.to_string())
        .bind(new.unit_id.map(|u| u.to_string()))
        .bind(new.patient_id.map(|u| u.to_string()))
        .bind(new.kind.code())
        .bind(ms(new.starts_at))
        .bind(new.duration_minutes)
        .bind(new.policy.code())
        .bind(&new.title)
        .bind(new.created_by.to_string())
        .bind(ms(now))
        .execute(&mut *tx)
        .await?;
        for host in &new.hosts {
            sqlx::query("INSERT INTO appointment_hosts (appointment_id, staff_id) VALUES ($1, $2)")
                .bind(new.id.to_string())
                .bind(host.to_string())
                .execute(&mut *tx)
                .await?;
        }
        for inv in invitations {
            insert_invitation(&mut tx, new.id, inv, now).await?;
        }
        for m in messages {
            enqueue_in(&mut tx, m, now).await?;
        }
        schedule_in(&mut tx, &purge_job(new.id, new.purge_at), now).await?;
        append_in(&mut tx, audit, now).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn appointment(&self, id: Uuid) -> Result<Option<Appointment>> {
        let sql = format!("SELECT {APPOINTMENT_COLUMNS} FROM {APPOINTMENT_FROM} WHERE a.id = $1");
        let row = sqlx::query(&sql)
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await?;
        match row {
            None => Ok(None),
            Some(r) => {
                let mut a = appointment_from_row(&r)?;
                a.hosts = self.hosts_of(a.id).await?;
                Ok(Some(a))
            }
        }
    }

    async fn hosts_of(&self, appointment: Uuid) -> Result<Vec<AppointmentHost>> {
        let rows = sqlx::query(
            "SELECT h.staff_id, s.display_name FROM appointment_hosts h JOIN staff s ON s.id = h.staff_id \
             WHERE h.appointment_id = $1 ORDER BY s.display_name",
        )
        .bind(appointment.to_string())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(AppointmentHost {
                    staff_id: uuid(&r.try_get::<String, _>("staff_id")?)?,
                    display_name: r.try_get("display_name")?,
                })
            })
            .collect()
    }

    /// The appointments `staff` hosts or booked that start in `[from, to)`, by start time.
    pub async fn appointments_of_staff(
        &self,
        staff: Uuid,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<Vec<Appointment>> {
        let sql = format!(
            "SELECT {APPOINTMENT_COLUMNS} FROM {APPOINTMENT_FROM} WHERE a.starts_at >= $1 AND a.starts_at < $2 \
             AND (a.created_by = $3 OR a.id IN (SELECT appointment_id FROM appointment_hosts WHERE staff_id = $3)) \
             ORDER BY a.starts_at, a.id"
        );
        let rows = sqlx::query(&sql)
            .bind(ms(from))
            .bind(ms(to))
            .bind(staff.to_string())
            .fetch_all(&self.pool)
            .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let mut a = appointment_from_row(r)?;
            a.hosts = self.hosts_of(a.id).await?;
            out.push(a);
        }
        Ok(out)
    }

    pub async fn invitations_of(&self, appointment: Uuid) -> Result<Vec<Invitation>> {
        let sql = format!(
            "SELECT {INVITATION_COLUMNS} FROM invitations i WHERE i.appointment_id = $1 ORDER BY i.created_at, i.id"
        );
        let rows = sqlx::query(&sql)
            .bind(appointment.to_string())
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(invitation_from_row).collect()
    }

    pub async fn invitation(&self, id: Uuid) -> Result<Option<Invitation>> {
        let sql = format!("SELECT {INVITATION_COLUMNS} FROM invitations i WHERE i.id = $1");
        let row = sqlx::query(&sql)
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(invitation_from_row).transpose()
    }

    /// The invitation holding the link whose token hashes to `token_hash`, and its appointment.
    pub async fn invitation_by_token(
        &self,
        token_hash: &str,
    ) -> Result<Option<(Invitation, Appointment)>> {
        let sql = format!(
            "SELECT {INVITATION_COLUMNS} FROM invitation_tokens t JOIN invitations i ON i.id = t.invitation_id \
             WHERE t.token_hash = $1"
        );
        let row = sqlx::query(&sql)
            .bind(token_hash)
            .fetch_optional(&self.pool)
            .await?;
        let Some(row) = row else { return Ok(None) };
        let inv = invitation_from_row(&row)?;
        Ok(self
            .appointment(inv.appointment_id)
            .await?
            .map(|a| (inv, a)))
    }

    /// Adds an invitation to an existing appointment, with its messages and audit entry.
    pub async fn add_invitation(
        &self,
        appointment: Uuid,
        inv: &NewInvitation,
        messages: &[NewMessage],
        audit: &NewAuditEntry,
        now: Timestamp,
    ) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        insert_invitation(&mut tx, appointment, inv, now).await?;
        for m in messages {
            enqueue_in(&mut tx, m, now).await?;
        }
        append_in(&mut tx, audit, now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Revokes an invitation's links and withdraws its unsent messages. False if it was
    /// already revoked or does not exist.
    pub async fn revoke_invitation(
        &self,
        id: Uuid,
        audit: &NewAuditEntry,
        now: Timestamp,
    ) -> Result<bool> {
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query(
            "UPDATE invitations SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL RETURNING appointment_id",
        )
        .bind(ms(now))
        .bind(id.to_string())
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = done else { return Ok(false) };
        let appointment = uuid(&row.try_get::<String, _>("appointment_id")?)?;
        let pattern = format!("{}%:{id}:%", message_key_prefix(appointment));
        withdraw_messages(&mut tx, &pattern, false).await?;
        append_in(&mut tx, audit, now).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Marks an invitation spent (its links stop working). Idempotent; false if unknown.
    pub async fn mark_invitation_spent(&self, id: Uuid, now: Timestamp) -> Result<bool> {
        let done =
            sqlx::query("UPDATE invitations SET spent_at = COALESCE(spent_at, $1) WHERE id = $2")
                .bind(ms(now))
                .bind(id.to_string())
                .execute(&self.pool)
                .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Moves an appointment that is not cancelled: new time, new link windows, a new link per
    /// invitation, pending reminders withdrawn, new messages queued, audit written. Only
    /// succeeds if the appointment is still at `expected_version`.
    pub async fn reschedule_appointment(
        &self,
        id: Uuid,
        expected_version: i64,
        change: &Reschedule,
        messages: &[NewMessage],
        audit: &NewAuditEntry,
        now: Timestamp,
    ) -> Result<bool> {
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query(
            "UPDATE appointments SET starts_at = $1, duration_minutes = $2, version = version + 1 \
             WHERE id = $3 AND version = $4 AND cancelled_at IS NULL",
        )
        .bind(ms(change.starts_at))
        .bind(change.duration_minutes)
        .bind(id.to_string())
        .bind(expected_version)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() != 1 {
            return Ok(false);
        }
        sqlx::query(
            "UPDATE invitations SET valid_from = $1, valid_until = $2 WHERE appointment_id = $3",
        )
        .bind(ms(change.valid_from))
        .bind(ms(change.valid_until))
        .bind(id.to_string())
        .execute(&mut *tx)
        .await?;
        for (invitation, hash) in &change.new_tokens {
            sqlx::query(
                "INSERT INTO invitation_tokens (token_hash, invitation_id, created_at) VALUES ($1, $2, $3)",
            )
            .bind(hash)
            .bind(invitation.to_string())
            .bind(ms(now))
            .execute(&mut *tx)
            .await?;
        }
        withdraw_messages(&mut tx, &format!("{}%", message_key_prefix(id)), true).await?;
        for m in messages {
            enqueue_in(&mut tx, m, now).await?;
        }
        schedule_in(&mut tx, &purge_job(id, change.purge_at), now).await?;
        append_in(&mut tx, audit, now).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Cancels an appointment: its unsent messages are withdrawn, `messages` (the
    /// cancellation notices) queued and the purge job moved to `purge_at`. False if already
    /// cancelled or unknown.
    pub async fn cancel_appointment(
        &self,
        id: Uuid,
        messages: &[NewMessage],
        purge_at: Timestamp,
        audit: &NewAuditEntry,
        now: Timestamp,
    ) -> Result<bool> {
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query(
            "UPDATE appointments SET cancelled_at = $1 WHERE id = $2 AND cancelled_at IS NULL",
        )
        .bind(ms(now))
        .bind(id.to_string())
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() != 1 {
            return Ok(false);
        }
        withdraw_messages(&mut tx, &format!("{}%", message_key_prefix(id)), false).await?;
        for m in messages {
            enqueue_in(&mut tx, m, now).await?;
        }
        schedule_in(&mut tx, &purge_job(id, purge_at), now).await?;
        append_in(&mut tx, audit, now).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Data minimisation (VC-17): deletes what an appointment no longer needs — the
    /// invitations' contact details (the display name becomes the role), every link's token
    /// hash, the link to the patient, the free-text title and outcome note, and the addresses
    /// and texts of its messages (unsent ones are withdrawn) — keeping the statistics (time,
    /// duration, service area, policy, outcome, minutes, call quality). The audit log is not
    /// touched; `audit` records the purge. Idempotent; false if the appointment is unknown.
    pub async fn purge_appointment(
        &self,
        id: Uuid,
        audit: &NewAuditEntry,
        now: Timestamp,
    ) -> Result<bool> {
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query(
            "UPDATE appointments SET title = '', outcome_note = '', patient_id = NULL, \
             purged_at = COALESCE(purged_at, $1) WHERE id = $2",
        )
        .bind(ms(now))
        .bind(id.to_string())
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() != 1 {
            return Ok(false);
        }
        sqlx::query(
            "DELETE FROM invitation_tokens WHERE invitation_id IN \
             (SELECT id FROM invitations WHERE appointment_id = $1)",
        )
        .bind(id.to_string())
        .execute(&mut *tx)
        .await?;
        // The invitation's own token_hash column is unique and required: a marker that is no
        // hash of any token takes its place.
        sqlx::query(
            "UPDATE invitations SET phone = NULL, email = NULL, display_name = role, \
             token_hash = 'purged:' || id, revoked_at = COALESCE(revoked_at, $1) WHERE appointment_id = $2",
        )
        .bind(ms(now))
        .bind(id.to_string())
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "UPDATE outbox SET recipient = '', subject = '', body = '', calendar = NULL, \
             status = CASE WHEN status = 'queued' THEN 'withdrawn' ELSE status END \
             WHERE dedupe_key LIKE $1",
        )
        .bind(format!("{}%", message_key_prefix(id)))
        .execute(&mut *tx)
        .await?;
        append_in(&mut tx, audit, now).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Whether the appointment's details were purged.
    pub async fn appointment_purged_at(&self, id: Uuid) -> Result<Option<Timestamp>> {
        let row = sqlx::query("SELECT purged_at FROM appointments WHERE id = $1")
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await?;
        match row {
            Some(r) => opt_ts(r.try_get("purged_at")?),
            None => Ok(None),
        }
    }

    /// Records (or corrects) the outcome of an appointment.
    pub async fn record_outcome(
        &self,
        id: Uuid,
        record: &OutcomeRecord,
        audit: &NewAuditEntry,
        now: Timestamp,
    ) -> Result<bool> {
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query(
            "UPDATE appointments SET outcome = $1, outcome_minutes = $2, outcome_note = $3, \
             outcome_recorded_by = $4, outcome_recorded_at = $5 WHERE id = $6",
        )
        .bind(record.outcome.code())
        .bind(record.minutes)
        .bind(&record.note)
        .bind(record.recorded_by.to_string())
        .bind(ms(now))
        .bind(id.to_string())
        .execute(&mut *tx)
        .await?;
        crate::audit::commit_one_with_audit(tx, done.rows_affected(), audit, now).await
    }

    /// The first start of the call in the room (later calls change nothing).
    pub async fn record_call_started(&self, id: Uuid, now: Timestamp) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE appointments SET call_started_at = COALESCE(call_started_at, $1) WHERE id = $2",
        )
        .bind(ms(now))
        .bind(id.to_string())
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// The last end of the call in the room (each call moves it later).
    pub async fn record_call_ended(&self, id: Uuid, now: Timestamp) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE appointments SET call_ended_at = $1, call_started_at = COALESCE(call_started_at, $1) \
             WHERE id = $2 AND (call_ended_at IS NULL OR call_ended_at < $1)",
        )
        .bind(ms(now))
        .bind(id.to_string())
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }
}

async fn insert_invitation(
    conn: &mut AnyConnection,
    appointment: Uuid,
    inv: &NewInvitation,
    now: Timestamp,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO invitations (id, appointment_id, role, display_name, phone, email, language, token_hash, \
         valid_from, valid_until, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(inv.id.to_string())
    .bind(appointment.to_string())
    .bind(inv.role.code())
    .bind(&inv.display_name)
    .bind(inv.phone.as_deref())
    .bind(inv.email.as_deref())
    .bind(inv.language.code())
    .bind(&inv.token_hash)
    .bind(ms(inv.valid_from))
    .bind(ms(inv.valid_until))
    .bind(ms(now))
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "INSERT INTO invitation_tokens (token_hash, invitation_id, created_at) VALUES ($1, $2, $3)",
    )
    .bind(&inv.token_hash)
    .bind(inv.id.to_string())
    .bind(ms(now))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Withdraws queued (unsent) messages whose dedupe key matches the LIKE `pattern`: all of
/// them, or only the reminders.
async fn withdraw_messages(
    conn: &mut AnyConnection,
    pattern: &str,
    reminders_only: bool,
) -> Result<u64> {
    let done = sqlx::query(
        "UPDATE outbox SET status = 'withdrawn', last_answer = 'withdrawn: the appointment changed' \
         WHERE status = 'queued' AND dedupe_key LIKE $1 AND ($2 = 0 OR kind LIKE 'reminder%')",
    )
    .bind(pattern)
    .bind(i64::from(reminders_only))
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected())
}

fn appointment_from_row(r: &AnyRow) -> Result<Appointment> {
    let kind: String = r.try_get("kind")?;
    let policy: String = r.try_get("policy")?;
    let outcome: Option<String> = r.try_get("outcome")?;
    Ok(Appointment {
        id: uuid(&r.try_get::<String, _>("id")?)?,
        unit_id: opt_uuid(r.try_get("unit_id")?)?,
        unit_name: r.try_get("unit_name")?,
        patient_id: opt_uuid(r.try_get("patient_id")?)?,
        patient_name: r.try_get("patient_name")?,
        kind: AppointmentKind::parse(&kind)
            .ok_or_else(|| StoreError::Corrupt(format!("appointment kind {kind}")))?,
        starts_at: ts(r.try_get("starts_at")?)?,
        duration_minutes: r.try_get("duration_minutes")?,
        policy: CallPolicy::parse(&policy)
            .ok_or_else(|| StoreError::Corrupt(format!("call policy {policy}")))?,
        title: r.try_get("title")?,
        version: r.try_get("version")?,
        created_by: uuid(&r.try_get::<String, _>("created_by")?)?,
        created_at: ts(r.try_get("created_at")?)?,
        cancelled_at: opt_ts(r.try_get("cancelled_at")?)?,
        call_started_at: opt_ts(r.try_get("call_started_at")?)?,
        call_ended_at: opt_ts(r.try_get("call_ended_at")?)?,
        outcome: outcome
            .map(|o| Outcome::parse(&o).ok_or_else(|| StoreError::Corrupt(format!("outcome {o}"))))
            .transpose()?,
        outcome_minutes: r.try_get("outcome_minutes")?,
        outcome_recorded_by: opt_uuid(r.try_get("outcome_recorded_by")?)?,
        outcome_recorded_at: opt_ts(r.try_get("outcome_recorded_at")?)?,
        outcome_note: r.try_get("outcome_note")?,
        hosts: Vec::new(),
    })
}

fn invitation_from_row(r: &AnyRow) -> Result<Invitation> {
    let role: String = r.try_get("role")?;
    let lang: String = r.try_get("language")?;
    Ok(Invitation {
        id: uuid(&r.try_get::<String, _>("id")?)?,
        appointment_id: uuid(&r.try_get::<String, _>("appointment_id")?)?,
        role: InviteeRole::parse(&role)
            .ok_or_else(|| StoreError::Corrupt(format!("invitee role {role}")))?,
        display_name: r.try_get("display_name")?,
        phone: r.try_get("phone")?,
        email: r.try_get("email")?,
        language: Language::parse(&lang).unwrap_or_default(),
        valid_from: ts(r.try_get("valid_from")?)?,
        valid_until: ts(r.try_get("valid_until")?)?,
        revoked_at: opt_ts(r.try_get("revoked_at")?)?,
        spent_at: opt_ts(r.try_get("spent_at")?)?,
        created_at: ts(r.try_get("created_at")?)?,
    })
}
