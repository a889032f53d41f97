//! Login sessions. The browser holds a random token; only its SHA-256 hash is stored.

use crate::{Result, Store, StoreError, ms, ts, uuid};
use jiff::Timestamp;
use sqlx::Row;
use uuid::Uuid;

/// How far a login has come.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionStage {
    /// Password accepted; a TOTP code is still needed.
    Totp,
    /// Password accepted; the role requires two-factor and none is enrolled yet.
    Enrol,
    /// Fully logged in.
    Full,
}

impl SessionStage {
    pub fn code(self) -> &'static str {
        match self {
            SessionStage::Totp => "totp",
            SessionStage::Enrol => "enrol",
            SessionStage::Full => "full",
        }
    }

    fn parse(code: &str) -> Option<SessionStage> {
        match code {
            "totp" => Some(SessionStage::Totp),
            "enrol" => Some(SessionStage::Enrol),
            "full" => Some(SessionStage::Full),
            _ => None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Session {
    pub token_hash: String,
    pub staff_id: Uuid,
    pub stage: SessionStage,
    pub csrf_token: String,
    pub created_at: Timestamp,
    pub last_seen: Timestamp,
}

impl Store {
    pub async fn create_session(&self, s: &Session, ip: &str) -> Result<()> {
        sqlx::query(
            "INSERT INTO sessions (token_hash, staff_id, stage, csrf_token, created_at, last_seen, ip) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&s.token_hash)
        .bind(s.staff_id.to_string())
        .bind(s.stage.code())
        .bind(&s.csrf_token)
        .bind(ms(s.created_at))
        .bind(ms(s.last_seen))
        .bind(ip)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn session(&self, token_hash: &str) -> Result<Option<Session>> {
        let row = sqlx::query(
            "SELECT token_hash, staff_id, stage, csrf_token, created_at, last_seen FROM sessions WHERE token_hash = $1",
        )
        .bind(token_hash)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| -> Result<Session> {
            let stage: String = r.try_get("stage")?;
            Ok(Session {
                token_hash: r.try_get("token_hash")?,
                staff_id: uuid(&r.try_get::<String, _>("staff_id")?)?,
                stage: SessionStage::parse(&stage)
                    .ok_or_else(|| StoreError::Corrupt(format!("session stage {stage}")))?,
                csrf_token: r.try_get("csrf_token")?,
                created_at: ts(r.try_get("created_at")?)?,
                last_seen: ts(r.try_get("last_seen")?)?,
            })
        })
        .transpose()
    }

    /// Marks the session as used now (sliding idle timeout).
    pub async fn touch_session(&self, token_hash: &str, now: Timestamp) -> Result<()> {
        sqlx::query("UPDATE sessions SET last_seen = $1 WHERE token_hash = $2")
            .bind(ms(now))
            .bind(token_hash)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn set_session_stage(&self, token_hash: &str, stage: SessionStage) -> Result<()> {
        sqlx::query("UPDATE sessions SET stage = $1 WHERE token_hash = $2")
            .bind(stage.code())
            .bind(token_hash)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Keeps a TOTP secret offered during enrolment until a code confirms it.
    pub async fn set_pending_totp_secret(
        &self,
        token_hash: &str,
        secret: Option<&str>,
    ) -> Result<()> {
        sqlx::query("UPDATE sessions SET pending_totp_secret = $1 WHERE token_hash = $2")
            .bind(secret)
            .bind(token_hash)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn pending_totp_secret(&self, token_hash: &str) -> Result<Option<String>> {
        let row = sqlx::query("SELECT pending_totp_secret FROM sessions WHERE token_hash = $1")
            .bind(token_hash)
            .fetch_optional(&self.pool)
            .await?;
        Ok(match row {
            Some(r) => r.try_get("pending_totp_secret")?,
            None => None,
        })
    }

    pub async fn delete_session(&self, token_hash: &str) -> Result<()> {
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
            .bind(token_hash)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Removes sessions idle since before `idle_cutoff` or created before `absolute_cutoff`.
    pub async fn purge_sessions(
        &self,
        idle_cutoff: Timestamp,
        absolute_cutoff: Timestamp,
    ) -> Result<u64> {
        let done = sqlx::query("DELETE FROM sessions WHERE last_seen < $1 OR created_at < $2")
            .bind(ms(idle_cutoff))
            .bind(ms(absolute_cutoff))
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }
}
