//! The audit log: append-only, each entry chained to the one before by SHA-256.
//!
//! Appending locks the single `audit_head` row first (`UPDATE … RETURNING` takes the write
//! lock on SQLite and a row lock on PostgreSQL), so concurrent appends from one or many
//! server processes form one unbroken chain.

use crate::{Result, Store, StoreError, ms, opt_uuid, ts};
use helsebro_domain::audit::ChainVerifier;
use helsebro_domain::{AuditAction, AuditEntry, AuditOutcome, ChainBreak};
use jiff::Timestamp;
use sqlx::{AnyConnection, Row};
use uuid::Uuid;

/// An entry to append; the store adds sequence number, time and hashes.
#[derive(Debug, Clone)]
pub struct NewAuditEntry {
    pub actor_id: Option<Uuid>,
    pub actor_label: String,
    pub action: AuditAction,
    pub outcome: AuditOutcome,
    pub patient_id: Option<Uuid>,
    pub object: String,
    pub ip: String,
    pub detail: String,
    pub flagged: bool,
}

/// Search criteria for the audit page. Empty fields match everything.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub actor_id: Option<Uuid>,
    pub actor_label: Option<String>,
    pub patient_id: Option<Uuid>,
    pub action: Option<String>,
    pub from: Option<Timestamp>,
    pub to: Option<Timestamp>,
    pub flagged_only: bool,
    /// Return entries with `seq` below this (paging backwards from the newest).
    pub before_seq: Option<i64>,
    pub limit: i64,
}

const AUDIT_COLUMNS: &str = "seq, at, actor_id, actor_label, action, outcome, patient_id, object, ip, detail, flagged, prev_hash, hash";

impl Store {
    /// Appends one entry in its own transaction.
    pub async fn append_audit(&self, entry: &NewAuditEntry, now: Timestamp) -> Result<AuditEntry> {
        let mut tx = self.pool.begin().await?;
        let stored = append_in(&mut tx, entry, now).await?;
        tx.commit().await?;
        Ok(stored)
    }

    /// Searches the log, newest first.
    pub async fn search_audit(&self, f: &AuditFilter) -> Result<Vec<AuditEntry>> {
        // Each criterion is either bound or neutralised, so the SQL text stays fixed.
        let sql = format!(
            "SELECT {AUDIT_COLUMNS} FROM audit_log WHERE \
             ($1 = '' OR actor_id = $1) AND ($2 = '' OR actor_label = $2) AND ($3 = '' OR patient_id = $3) \
             AND ($4 = '' OR action = $4) AND at >= $5 AND at <= $6 AND flagged >= $7 AND seq < $8 \
             ORDER BY seq DESC LIMIT $9"
        );
        let rows = sqlx::query(&sql)
            .bind(f.actor_id.map(|u| u.to_string()).unwrap_or_default())
            .bind(f.actor_label.clone().unwrap_or_default())
            .bind(f.patient_id.map(|u| u.to_string()).unwrap_or_default())
            .bind(f.action.clone().unwrap_or_default())
            .bind(f.from.map(ms).unwrap_or(i64::MIN))
            .bind(f.to.map(ms).unwrap_or(i64::MAX))
            .bind(i64::from(f.flagged_only))
            .bind(f.before_seq.unwrap_or(i64::MAX))
            .bind(f.limit.clamp(1, 1000))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(entry_from_row).collect()
    }

    /// Reads the whole chain in order and checks every link and the head.
    /// Returns the number of entries verified.
    pub async fn verify_audit_chain(&self) -> Result<Result<i64, ChainBreak>> {
        let head = sqlx::query("SELECT seq, hash FROM audit_head WHERE id = 1")
            .fetch_one(&self.pool)
            .await?;
        let head_seq: i64 = head.try_get("seq")?;
        let head_hash: String = head.try_get("hash")?;
        let mut verifier = ChainVerifier::default();
        let mut after = 0i64;
        let sql =
            format!("SELECT {AUDIT_COLUMNS} FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT 5000");
        loop {
            let rows = sqlx::query(&sql).bind(after).fetch_all(&self.pool).await?;
            if rows.is_empty() {
                break;
            }
            for row in &rows {
                let entry = entry_from_row(row)?;
                after = entry.seq;
                if let Err(br) = verifier.push(&entry) {
                    return Ok(Err(br));
                }
            }
        }
        Ok(verifier.finish(head_seq, &head_hash))
    }
}

/// Finishes a change that should have touched exactly one row: then writes `audit` in the same
/// transaction and commits; otherwise rolls back (the transaction is dropped) and answers false.
pub(crate) async fn commit_one_with_audit(
    mut tx: sqlx::Transaction<'_, sqlx::Any>,
    rows_affected: u64,
    audit: &NewAuditEntry,
    now: Timestamp,
) -> Result<bool> {
    if rows_affected != 1 {
        return Ok(false);
    }
    append_in(&mut tx, audit, now).await?;
    tx.commit().await?;
    Ok(true)
}

/// Appends `entry` inside the caller's transaction, so a change and its audit entry are
/// committed together or not at all.
pub(crate) async fn append_in(
    conn: &mut AnyConnection,
    entry: &NewAuditEntry,
    now: Timestamp,
) -> Result<AuditEntry> {
    let head = sqlx::query("UPDATE audit_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash")
        .fetch_one(&mut *conn)
        .await?;
    let seq: i64 = head.try_get("seq")?;
    let prev_hash: String = head.try_get("hash")?;
    // Stored times have millisecond precision; hash exactly what is stored.
    let at = ts(ms(now))?;
    let mut stored = AuditEntry {
        seq,
        at,
        actor_id: entry.actor_id,
        actor_label: entry.actor_label.clone(),
        action: entry.action.code().to_owned(),
        outcome: entry.outcome.code().to_owned(),
        patient_id: entry.patient_id,
        object: entry.object.clone(),
        ip: entry.ip.clone(),
        detail: entry.detail.clone(),
        flagged: entry.flagged,
        prev_hash,
        hash: String::new(),
    };
    stored.hash = stored.compute_hash();
    sqlx::query(
        "INSERT INTO audit_log (seq, at, actor_id, actor_label, action, outcome, patient_id, object, ip, detail, flagged, prev_hash, hash) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
    )
    .bind(stored.seq)
    .bind(ms(stored.at))
    .bind(stored.actor_id.map(|u| u.to_string()))
    .bind(&stored.actor_label)
    .bind(&stored.action)
    .bind(&stored.outcome)
    .bind(stored.patient_id.map(|u| u.to_string()))
    .bind(&stored.object)
    .bind(&stored.ip)
    .bind(&stored.detail)
    .bind(i64::from(stored.flagged))
    .bind(&stored.prev_hash)
    .bind(&stored.hash)
    .execute(&mut *conn)
    .await?;
    sqlx::query("UPDATE audit_head SET hash = $1 WHERE id = 1")
        .bind(&stored.hash)
        .execute(&mut *conn)
        .await?;
    Ok(stored)
}

fn entry_from_row(r: &sqlx::any::AnyRow) -> Result<AuditEntry> {
    let outcome: String = r.try_get("outcome")?;
    if AuditOutcome::parse(&outcome).is_none() {
        return Err(StoreError::Corrupt(format!("audit outcome {outcome}")));
    }
    Ok(AuditEntry {
        seq: r.try_get("seq")?,
        at: ts(r.try_get("at")?)?,
        actor_id: opt_uuid(r.try_get("actor_id")?)?,
        actor_label: r.try_get("actor_label")?,
        action: r.try_get("action")?,
        outcome,
        patient_id: opt_uuid(r.try_get("patient_id")?)?,
        object: r.try_get("object")?,
        ip: r.try_get("ip")?,
        detail: r.try_get("detail")?,
        flagged: r.try_get::<i64, _>("flagged")? != 0,
        prev_hash: r.try_get("prev_hash")?,
        hash: r.try_get("hash")?,
    })
}
