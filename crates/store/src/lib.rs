//! Persistence for Helsebro, behind one boundary.
//!
//! One [`Store`] speaks to either SQLite (the embedded default, in WAL mode) or PostgreSQL,
//! chosen by the database URL. The SQL is written once, in the subset both understand
//! (`$1` placeholders, `RETURNING`, text UUIDs, integer millisecond timestamps), and run
//! through sqlx's `Any` driver; only the migrations differ per database. No SQL lives
//! outside this crate.

mod appointments;
mod audit;
mod calendar;
mod calls;
mod followup;
mod followup_plans;
mod followup_referrals;
mod jobs;
mod org;
mod outbox;
mod patients;
mod sessions;
mod staff;

pub use appointments::{
    Appointment, AppointmentHost, Invitation, NewAppointment, NewInvitation, OutcomeRecord,
    Reschedule, message_key_prefix,
};
pub use audit::{AuditFilter, NewAuditEntry};
pub use calls::CallQuality;
pub use followup::{
    AdjustmentRecord, Alert, DeviceToken, Enrolment, LoginCode, NewMissingReport, NewReading,
    PauseRecord, Reading, Stored,
};
pub use followup_plans::{NewPlan, NewResponse, PlanRecord, ResponseRecord};
pub use followup_referrals::{
    Acceptance, AssessmentLine, Criterion, Ending, EquipmentItem, NewEnding, NewReferral, Referral,
    ServiceCounts, ServiceUse,
};
pub use jobs::{Job, JobKind, NewJob};
pub use org::{NoticeSettings, Organisation, Unit, UnitKind};
pub use outbox::{NewMessage, OutboxChannel, OutboxMessage};
pub use patients::{CareTeamMember, EmergencyGrant, Patient, PatientSummary};
pub use sessions::{Session, SessionStage};
pub use staff::{NewStaff, Staff, StaffChange};

use jiff::Timestamp;
use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::{AnyPool, Executor};
use std::time::Duration;
use uuid::Uuid;

/// Which database is behind the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    #[error("unsupported database URL (use sqlite:// or postgres://)")]
    UnsupportedUrl,
    #[error("{0} already exists")]
    Conflict(&'static str),
    #[error("stored data is not valid: {0}")]
    Corrupt(String),
}

impl StoreError {
    /// Maps a unique-constraint violation to [`StoreError::Conflict`].
    fn conflict_or(e: sqlx::Error, what: &'static str) -> StoreError {
        if let sqlx::Error::Database(db) = &e
            && db.is_unique_violation()
        {
            return StoreError::Conflict(what);
        }
        StoreError::Database(e)
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// The database, with a connection pool.
#[derive(Clone, Debug)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
}

impl Store {
    /// Opens (and for SQLite, creates) the database at `url`.
    pub async fn connect(url: &str, max_connections: u32) -> Result<Store> {
        install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Backend::Postgres
        } else {
            return Err(StoreError::UnsupportedUrl);
        };
        let options = AnyPoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(Duration::from_secs(10));
        let options = if backend == Backend::Sqlite {
            options.after_connect(|conn, _meta| {
                Box::pin(async move {
                    // WAL: readers never block the writer; FULL sync: a committed
                    // transaction survives a crash or power loss.
                    conn.execute(
                        "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; \
                         PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000;",
                    )
                    .await?;
                    Ok(())
                })
            })
        } else {
            options
        };
        let pool = options.connect(url).await?;
        Ok(Store { pool, backend })
    }

    /// The SQLite URL for a database file in `dir`, created if missing.
    pub fn sqlite_url_in(dir: &std::path::Path) -> String {
        format!(
            "sqlite://{}?mode=rwc",
            dir.join("helsebro.sqlite3").display()
        )
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Brings the schema up to date. Safe to run on every start.
    pub async fn migrate(&self) -> Result<()> {
        match self.backend {
            Backend::Sqlite => {
                sqlx::migrate!("./migrations/sqlite")
                    .run(&self.pool)
                    .await?
            }
            Backend::Postgres => {
                sqlx::migrate!("./migrations/postgres")
                    .run(&self.pool)
                    .await?
            }
        }
        Ok(())
    }

    /// Whether the database answers (readiness).
    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// Connections open, and of those idle, in the pool.
    pub fn pool_stats(&self) -> (u32, u32) {
        (self.pool.size(), self.pool.num_idle() as u32)
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Direct access for tests that must tamper with the database behind the store's back.
    #[doc(hidden)]
    pub fn raw_pool(&self) -> &AnyPool {
        &self.pool
    }
}

// ---- conversions shared by the repositories ---------------------------------------------

pub(crate) fn ms(t: Timestamp) -> i64 {
    t.as_millisecond()
}

pub(crate) fn ts(ms: i64) -> Result<Timestamp> {
    Timestamp::from_millisecond(ms).map_err(|e| StoreError::Corrupt(format!("timestamp {ms}: {e}")))
}

pub(crate) fn opt_ts(ms: Option<i64>) -> Result<Option<Timestamp>> {
    ms.map(ts).transpose()
}

pub(crate) fn uuid(s: &str) -> Result<Uuid> {
    Uuid::parse_str(s).map_err(|e| StoreError::Corrupt(format!("id {s:?}: {e}")))
}

pub(crate) fn opt_uuid(s: Option<String>) -> Result<Option<Uuid>> {
    s.as_deref().map(uuid).transpose()
}
