//! Helsebro's domain: pure types and rules with no I/O.
//!
//! Everything here can be unit-tested without a database, a network or a real clock.
//! The store, the use cases and the web layer all speak these types.

pub mod appointment;
pub mod audit;
pub mod clock;
pub mod language;
pub mod patient;
pub mod role;

pub use audit::{AuditAction, AuditEntry, AuditOutcome, ChainBreak, GENESIS_HASH};
pub use clock::{Clock, FakeClock, SystemClock};
pub use language::Language;
pub use patient::{NationalId, NationalIdError, NewPatient, PatientFieldError};
pub use role::{Permission, Role};

/// A new row identifier: UUIDv7, so rows sort by creation time.
pub fn new_id() -> uuid::Uuid {
    uuid::Uuid::now_v7()
}
