//! Staff members' personal calendar feeds (VC-16, IO-4): one revocable token each, stored as
//! its SHA-256 only.

use crate::audit::append_in;
use crate::{NewAuditEntry, Result, Store, ms, ts, uuid};
use jiff::Timestamp;
use sqlx::Row;
use uuid::Uuid;

impl Store {
    /// Makes `token_hash` the staff member's feed, revoking any earlier one, with the audit
    /// entry, in one transaction.
    pub async fn replace_calendar_feed(
        &self,
        staff: Uuid,
        token_hash: &str,
        audit: &NewAuditEntry,
        now: Timestamp,
    ) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "UPDATE calendar_feeds SET revoked_at = $1 WHERE staff_id = $2 AND revoked_at IS NULL",
        )
        .bind(ms(now))
        .bind(staff.to_string())
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO calendar_feeds (token_hash, staff_id, created_at) VALUES ($1, $2, $3)",
        )
        .bind(token_hash)
        .bind(staff.to_string())
        .bind(ms(now))
        .execute(&mut *tx)
        .await?;
        append_in(&mut tx, audit, now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Revokes the staff member's feed. False (and no audit entry) if there was none.
    pub async fn revoke_calendar_feed(
        &self,
        staff: Uuid,
        audit: &NewAuditEntry,
        now: Timestamp,
    ) -> Result<bool> {
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query(
            "UPDATE calendar_feeds SET revoked_at = $1 WHERE staff_id = $2 AND revoked_at IS NULL",
        )
        .bind(ms(now))
        .bind(staff.to_string())
        .execute(&mut *tx)
        .await?;
        crate::audit::commit_one_with_audit(tx, done.rows_affected().min(1), audit, now).await
    }

    /// When the staff member's current feed was made, if they have one.
    pub async fn calendar_feed_since(&self, staff: Uuid) -> Result<Option<Timestamp>> {
        let row = sqlx::query(
            "SELECT created_at FROM calendar_feeds WHERE staff_id = $1 AND revoked_at IS NULL",
        )
        .bind(staff.to_string())
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| ts(r.try_get("created_at")?)).transpose()
    }

    /// The active staff member whose unrevoked feed has `token_hash`.
    pub async fn calendar_feed_owner(&self, token_hash: &str) -> Result<Option<Uuid>> {
        let row = sqlx::query(
            "SELECT f.staff_id FROM calendar_feeds f JOIN staff s ON s.id = f.staff_id \
             WHERE f.token_hash = $1 AND f.revoked_at IS NULL AND s.active = 1",
        )
        .bind(token_hash)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| uuid(&r.try_get::<String, _>("staff_id")?))
            .transpose()
    }
}
