//! Helsebro's use cases, between the web layer and the store.
//!
//! [`App`] owns the store, the clock and the configuration. Everything a page or an API
//! call can do goes through a method here, and every method that touches a patient's data
//! takes an [`access::PatientAccess`], which only [`App::authorize_patient`] can make and
//! which writes the audit entry as it is made.

pub mod access;
pub mod admin;
pub mod appointments;
pub mod auth;
pub mod calendar;
pub mod calls;
pub mod config;
pub mod demo;
pub mod error;
pub mod followup;
pub mod followup_notes;
pub mod followup_plans;
pub mod followup_referrals;
pub mod jobs;
pub mod notifications;
pub mod patient_app;
pub mod patients;
pub mod secrets;

pub use access::{PatientAccess, Purpose, StaffPrincipal};
pub use config::Config;
pub use error::{AppError, FieldError};
pub use helsebro_store::Backend;
use helsebro_store::Store;

/// Data types of the store that the web layer shows (the store itself stays private to the
/// app crate, so no handler can reach patient data around the access checks).
pub mod types {
    pub use helsebro_domain::appointment::{AppointmentKind, CallPolicy, InviteeRole, Outcome};
    pub use helsebro_store::{
        AdjustmentRecord, Alert, DeviceToken, Enrolment, PauseRecord, Reading,
    };
    pub use helsebro_store::{
        Appointment, AppointmentHost, AuditFilter, CareTeamMember, EmergencyGrant, Invitation,
        NoticeSettings, Organisation, OutboxChannel, OutboxMessage, Patient, PatientSummary,
        SessionStage, StaffChange, Unit, UnitKind,
    };
    pub use helsebro_store::{
        AssessmentLine, Criterion, Ending, EquipmentItem, Referral, ServiceCounts, ServiceUse,
    };
}

use helsebro_domain::{Clock, SystemClock};
use std::sync::Arc;

/// The application: cheap to clone, shared by every request.
#[derive(Clone)]
pub struct App {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    clock: Arc<dyn Clock>,
    config: Config,
    limits: auth::RateLimits,
    calls: calls::CallRegistry,
}

impl App {
    pub fn new(store: Store, config: Config) -> App {
        App::with_clock(store, config, Arc::new(SystemClock))
    }

    pub fn with_clock(store: Store, config: Config, clock: Arc<dyn Clock>) -> App {
        let limits = auth::RateLimits::new(&config);
        App {
            inner: Arc::new(Inner {
                store,
                clock,
                config,
                limits,
                calls: calls::CallRegistry::default(),
            }),
        }
    }

    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    pub fn now(&self) -> jiff::Timestamp {
        self.inner.clock.now()
    }

    pub fn backend(&self) -> Backend {
        self.inner.store.backend()
    }

    /// Readiness: the database answers.
    pub async fn ready(&self) -> bool {
        self.inner.store.ping().await.is_ok()
    }

    /// Open and idle database connections, for `/metrics`.
    pub fn pool_stats(&self) -> (u32, u32) {
        self.inner.store.pool_stats()
    }

    /// Live state of an appointment's video room (for the work list).
    pub fn live_state(&self, appointment: uuid::Uuid) -> calls::LiveState {
        self.inner.calls.live_state(appointment)
    }

    pub(crate) fn store(&self) -> &Store {
        &self.inner.store
    }
}
