//! The notification outbox (NT-2, OPS-3): persistent, retried, never lost across a restart.
//!
//! Claiming marks due messages `sending` with a lease in one statement; on PostgreSQL the
//! candidate rows are locked with `FOR UPDATE SKIP LOCKED`, so several server processes never
//! claim the same message. A message whose sender died mid-delivery becomes due again when
//! its lease runs out — the one window in which a message can be delivered twice.

use crate::audit::append_in;
use crate::{Backend, NewAuditEntry, Result, Store, StoreError, ms, opt_ts, ts, uuid};
use helsebro_domain::new_id;
use jiff::Timestamp;
use sqlx::{AnyConnection, Row};
use uuid::Uuid;

/// Where a message goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum OutboxChannel {
    Email,
    Sms,
}

impl OutboxChannel {
    pub fn code(self) -> &'static str {
        match self {
            OutboxChannel::Email => "email",
            OutboxChannel::Sms => "sms",
        }
    }

    /// Parses the code written by [`OutboxChannel::code`].
    pub fn parse(s: &str) -> Option<OutboxChannel> {
        match s {
            "email" => Some(OutboxChannel::Email),
            "sms" => Some(OutboxChannel::Sms),
            _ => None,
        }
    }
}

/// A message to queue.
#[derive(Debug, Clone)]
pub struct NewMessage {
    pub channel: OutboxChannel,
    pub recipient: String,
    pub subject: String,
    pub body: String,
    pub calendar: Option<String>,
    /// What kind of message this is (`invitation`, `reminder_day_before`, …), for the viewer.
    pub kind: String,
    /// Not before this time (reminders are queued ahead).
    pub not_before: Timestamp,
    /// Queue this logical message once only.
    pub dedupe_key: Option<String>,
}

/// A message as stored.
#[derive(Debug, Clone, serde::Serialize)]
pub struct OutboxMessage {
    pub id: Uuid,
    pub channel: OutboxChannel,
    pub recipient: String,
    pub subject: String,
    pub body: String,
    pub calendar: Option<String>,
    pub kind: String,
    pub status: String,
    pub attempts: i64,
    pub next_attempt_at: Timestamp,
    pub last_answer: String,
    pub created_at: Timestamp,
    pub sent_at: Option<Timestamp>,
}

const COLUMNS: &str = "id, channel, recipient, subject, body, calendar, kind, status, attempts, \
     next_attempt_at, last_answer, created_at, sent_at";

/// Queues `m` inside the caller's transaction. A message with a `dedupe_key` already queued is
/// not queued again; returns `None` then.
pub(crate) async fn enqueue_in(
    conn: &mut AnyConnection,
    m: &NewMessage,
    now: Timestamp,
) -> Result<Option<Uuid>> {
    let id = new_id();
    // ON CONFLICT on the dedupe key: a message queued twice (even by two processes at once)
    // stays one row. Messages without a key never conflict.
    let done = sqlx::query(
        "INSERT INTO outbox (id, channel, recipient, subject, body, calendar, kind, status, attempts, \
         next_attempt_at, last_answer, created_at, dedupe_key) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, 'queued', 0, $8, '', $9, $10) \
         ON CONFLICT (dedupe_key) DO NOTHING",
    )
    .bind(id.to_string())
    .bind(m.channel.code())
    .bind(&m.recipient)
    .bind(&m.subject)
    .bind(&m.body)
    .bind(m.calendar.as_deref())
    .bind(&m.kind)
    .bind(ms(m.not_before.max(now)))
    .bind(ms(now))
    .bind(m.dedupe_key.as_deref())
    .execute(&mut *conn)
    .await?;
    Ok((done.rows_affected() == 1).then_some(id))
}

impl Store {
    /// Queues messages in one transaction, with an optional audit entry beside them.
    pub async fn enqueue_messages(
        &self,
        messages: &[NewMessage],
        audit: Option<&NewAuditEntry>,
        now: Timestamp,
    ) -> Result<Vec<Uuid>> {
        let mut tx = self.pool.begin().await?;
        let mut ids = Vec::new();
        for m in messages {
            if let Some(id) = enqueue_in(&mut tx, m, now).await? {
                ids.push(id);
            }
        }
        if let Some(a) = audit {
            append_in(&mut tx, a, now).await?;
        }
        tx.commit().await?;
        Ok(ids)
    }

    /// Claims up to `limit` due messages for delivery until `lease_until`: queued ones whose
    /// time has come, and `sending` ones whose lease ran out (their sender died).
    pub async fn claim_due_messages(
        &self,
        now: Timestamp,
        lease_until: Timestamp,
        limit: i64,
    ) -> Result<Vec<OutboxMessage>> {
        let lock = match self.backend {
            Backend::Postgres => "FOR UPDATE SKIP LOCKED",
            Backend::Sqlite => "",
        };
        let sql = format!(
            "UPDATE outbox SET status = 'sending', lease_until = $1, attempts = attempts + 1 \
             WHERE id IN (SELECT id FROM outbox \
                 WHERE (status = 'queued' AND next_attempt_at <= $2) OR (status = 'sending' AND lease_until <= $2) \
                 ORDER BY next_attempt_at LIMIT $3 {lock}) \
             RETURNING {COLUMNS}"
        );
        let rows = sqlx::query(&sql)
            .bind(ms(lease_until))
            .bind(ms(now))
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(message_from_row).collect()
    }

    /// Records a delivery. Only a message still `sending` is changed.
    pub async fn mark_message_sent(&self, id: Uuid, answer: &str, now: Timestamp) -> Result<()> {
        sqlx::query(
            "UPDATE outbox SET status = 'sent', sent_at = $1, last_answer = $2, lease_until = NULL \
             WHERE id = $3 AND status = 'sending'",
        )
        .bind(ms(now))
        .bind(answer)
        .bind(id.to_string())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Puts a message back in the queue for another attempt at `retry_at`, or — when
    /// `retry_at` is `None` — marks it failed for good.
    pub async fn mark_message_failed(
        &self,
        id: Uuid,
        answer: &str,
        retry_at: Option<Timestamp>,
    ) -> Result<()> {
        let (status, next) = match retry_at {
            Some(t) => ("queued", Some(ms(t))),
            None => ("failed", None),
        };
        sqlx::query(
            "UPDATE outbox SET status = $1, next_attempt_at = COALESCE($2, next_attempt_at), last_answer = $3, \
             lease_until = NULL WHERE id = $4 AND status = 'sending'",
        )
        .bind(status)
        .bind(next)
        .bind(answer)
        .bind(id.to_string())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The newest messages, for the development outbox viewer.
    pub async fn recent_messages(&self, limit: i64) -> Result<Vec<OutboxMessage>> {
        let sql =
            format!("SELECT {COLUMNS} FROM outbox ORDER BY created_at DESC, id DESC LIMIT $1");
        let rows = sqlx::query(&sql)
            .bind(limit.clamp(1, 1000))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(message_from_row).collect()
    }

    /// Counts of messages by status.
    pub async fn outbox_counts(&self) -> Result<Vec<(String, i64)>> {
        let rows =
            sqlx::query("SELECT status, COUNT(*) AS n FROM outbox GROUP BY status ORDER BY status")
                .fetch_all(&self.pool)
                .await?;
        rows.iter()
            .map(|r| Ok((r.try_get("status")?, r.try_get("n")?)))
            .collect()
    }
}

fn message_from_row(r: &sqlx::any::AnyRow) -> Result<OutboxMessage> {
    let channel: String = r.try_get("channel")?;
    Ok(OutboxMessage {
        id: uuid(&r.try_get::<String, _>("id")?)?,
        channel: OutboxChannel::parse(&channel)
            .ok_or_else(|| StoreError::Corrupt(format!("channel {channel}")))?,
        recipient: r.try_get("recipient")?,
        subject: r.try_get("subject")?,
        body: r.try_get("body")?,
        calendar: r.try_get("calendar")?,
        kind: r.try_get("kind")?,
        status: r.try_get("status")?,
        attempts: r.try_get("attempts")?,
        next_attempt_at: ts(r.try_get("next_attempt_at")?)?,
        last_answer: r.try_get("last_answer")?,
        created_at: ts(r.try_get("created_at")?)?,
        sent_at: opt_ts(r.try_get("sent_at")?)?,
    })
}
