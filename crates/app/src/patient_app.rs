//! The home follow-up patient app's use cases (HF-5, ID-2): login by a one-time code sent by
//! SMS or e-mail through the outbox to the contact on file, a patient session separate from
//! staff sessions, today's tasks, entering readings and the patient's own history.
//!
//! A patient reaches only their own data: every method takes the [`PatientSelf`] that
//! [`App::patient_self`] makes from the session cookie.

use crate::App;
use crate::error::{AppError, Result};
use crate::followup::{EnteredVia, Ingested, kind_code, patient_message};
use crate::secrets::{random_token, same, token_hash};
use helsebro_domain::patient::normalise_phone;
use helsebro_domain::{AuditAction, AuditOutcome, Language};
use helsebro_followup::Observation;
use helsebro_followup::fhir::input::IdempotencyKey;
use helsebro_followup::schedule::{Task, TaskSchedule};
use helsebro_notify::templates::{MessageContext, MessageKind, ONE_TIME_CODE_MINUTES};
use helsebro_store::{NewAuditEntry, Reading};
use jiff::{SignedDuration, Timestamp};
use uuid::Uuid;

/// How long a login code works.
pub const CODE_MINUTES: i64 = ONE_TIME_CODE_MINUTES as i64;
/// Codes sent per patient per quarter of an hour.
pub const CODES_PER_QUARTER: i64 = 3;
/// Wrong guesses allowed per code.
pub const CODE_ATTEMPTS: i64 = 5;
/// A patient session ends after this long without activity …
pub const PATIENT_IDLE: SignedDuration = SignedDuration::from_hours(2);
/// … and this long after login in any case.
pub const PATIENT_SESSION: SignedDuration = SignedDuration::from_hours(24 * 7);

/// A logged-in home follow-up patient.
#[derive(Debug, Clone)]
pub struct PatientSelf {
    pub patient_id: Uuid,
    pub name: String,
    pub language: Language,
}

/// One of today's tasks.
#[derive(Debug, Clone, serde::Serialize)]
pub struct TodayTask {
    pub task: Task,
    pub due_at: Timestamp,
    pub done: bool,
}

/// What the patient app's start page shows.
#[derive(Debug, Clone)]
pub struct PatientHome {
    pub tasks: Vec<TodayTask>,
    pub readings: Vec<Reading>,
    pub paused: bool,
}

fn patient_audit(
    action: AuditAction,
    pid: Uuid,
    ip: &str,
    object: &str,
    detail: String,
) -> NewAuditEntry {
    NewAuditEntry {
        actor_id: None,
        actor_label: "patient".into(),
        action,
        outcome: AuditOutcome::Success,
        patient_id: Some(pid),
        object: object.into(),
        ip: ip.to_owned(),
        detail,
        flagged: false,
    }
}

fn contact_key(contact: &str) -> Option<String> {
    let c = contact.trim();
    if c.contains('@') {
        Some(c.to_lowercase())
    } else {
        normalise_phone(c).ok().flatten()
    }
}

fn six_digits() -> String {
    let hex = random_token(8);
    let n = u64::from_str_radix(&hex, 16).unwrap_or(0) % 1_000_000;
    format!("{n:06}")
}

impl App {
    /// Sends a login code to the patient with this phone number or e-mail address on file.
    /// Answers the same whether or not there is such a patient (no probing), except when the
    /// patient has asked for too many codes.
    pub async fn request_patient_code(&self, contact: &str, ip: &str) -> Result<()> {
        let Some(key) = contact_key(contact) else {
            return Err(AppError::invalid(
                "contact",
                "write your mobile number or e-mail address",
            ));
        };
        let store = self.store();
        let Some(pid) = store.followup_patient_by_contact(&key).await? else {
            return Ok(());
        };
        let now = self.now();
        if store
            .login_codes_since(pid, now - SignedDuration::from_mins(15))
            .await?
            >= CODES_PER_QUARTER
        {
            return Err(AppError::RateLimited(std::time::Duration::from_secs(
                15 * 60,
            )));
        }
        let Some(patient) = store.patient(pid).await? else {
            return Ok(());
        };
        let code = six_digits();
        let ctx = MessageContext {
            code: Some(code.clone()),
            ..self.patient_message_context().await?
        };
        let Some(message) = patient_message(
            &patient,
            MessageKind::OneTimeCode,
            &ctx,
            "followup_login_code",
            now,
        )?
        else {
            return Ok(());
        };
        let audit = patient_audit(
            AuditAction::PatientAppLogin,
            pid,
            ip,
            "followup_login_code",
            "code sent".into(),
        );
        store
            .create_login_code(
                pid,
                &token_hash(&format!("{pid}:{code}")),
                now + SignedDuration::from_mins(CODE_MINUTES),
                &message,
                &audit,
                now,
            )
            .await?;
        Ok(())
    }

    /// Checks a login code; answers a new patient session token (256 bits; only its hash is
    /// kept).
    pub async fn verify_patient_code(&self, contact: &str, code: &str, ip: &str) -> Result<String> {
        let wrong = AppError::BadCredentials("the code is wrong or has expired; ask for a new one");
        let Some(key) = contact_key(contact) else {
            return Err(wrong);
        };
        let store = self.store();
        let Some(pid) = store.followup_patient_by_contact(&key).await? else {
            return Err(wrong);
        };
        let Some(c) = store.latest_login_code(pid).await? else {
            return Err(wrong);
        };
        let now = self.now();
        if c.used_at.is_some() || c.expires_at <= now || c.attempts >= CODE_ATTEMPTS {
            return Err(wrong);
        }
        let code: String = code.chars().filter(char::is_ascii_digit).collect();
        if !same(&token_hash(&format!("{pid}:{code}")), &c.code_hash) {
            store.count_login_code_attempt(c.id).await?;
            return Err(wrong);
        }
        let token = random_token(32);
        let audit = patient_audit(
            AuditAction::PatientAppLogin,
            pid,
            ip,
            "followup_patient_session",
            "patient app login".into(),
        );
        if !store
            .open_patient_session(
                c.id,
                pid,
                &token_hash(&token),
                now + PATIENT_SESSION,
                &audit,
                now,
            )
            .await?
        {
            return Err(wrong);
        }
        Ok(token)
    }

    /// The patient of a session token, if the session is live.
    pub async fn patient_self(&self, token: &str) -> Result<Option<PatientSelf>> {
        let now = self.now();
        let Some(pid) = self
            .store()
            .patient_session(&token_hash(token), now - PATIENT_IDLE, now)
            .await?
        else {
            return Ok(None);
        };
        Ok(self.store().patient(pid).await?.map(|p| PatientSelf {
            patient_id: p.id,
            name: p.name,
            language: p.language,
        }))
    }

    pub async fn patient_logout(&self, token: &str) -> Result<()> {
        Ok(self.store().end_patient_session(&token_hash(token)).await?)
    }

    /// Today's tasks (in Norwegian time) and the last 30 days of readings.
    pub async fn patient_home(&self, me: &PatientSelf) -> Result<PatientHome> {
        let store = self.store();
        let now = self.now();
        let pid = me.patient_id;
        let readings = store
            .followup_readings(
                pid,
                None,
                now - SignedDuration::from_hours(24 * 30),
                now + SignedDuration::from_hours(1),
            )
            .await?;
        let today = helsebro_followup::time::local_date(now);
        let responses = store
            .followup_responses(pid, now - SignedDuration::from_hours(48), 200)
            .await?;
        let mut tasks = Vec::new();
        for (_, sj) in store.followup_schedules(pid).await? {
            let Ok(s) = serde_json::from_str::<TaskSchedule>(&sj) else {
                continue;
            };
            if !s.occurs_on(today) {
                continue;
            }
            let o = s.occurrence_on(today);
            let done = match &s.task {
                Task::Measurement(k) => readings.iter().any(|r| {
                    r.kind == kind_code(*k)
                        && !r.device_error
                        && r.colour.is_some()
                        && o.done_by(r.effective_at)
                }),
                Task::Questionnaire(id) => responses
                    .iter()
                    .any(|r| r.questionnaire == *id && o.done_by(r.authored_at)),
            };
            tasks.push(TodayTask {
                task: s.task.clone(),
                due_at: o.due_at,
                done,
            });
        }
        let paused = store
            .followup_enrolment(pid)
            .await?
            .is_some_and(|e| e.status == "paused");
        Ok(PatientHome {
            tasks,
            readings,
            paused,
        })
    }

    /// A reading the patient entered in the app.
    pub async fn patient_record_reading(
        &self,
        me: &PatientSelf,
        obs: Observation,
        ip: &str,
    ) -> Result<Ingested> {
        let now = self.now();
        if obs.at > now + SignedDuration::from_mins(5) {
            return Err(AppError::invalid(
                "at",
                "the time of the measurement is in the future",
            ));
        }
        let key = IdempotencyKey::new(&me.patient_id.to_string(), &obs.source, obs.kind, obs.at);
        let audit = patient_audit(
            AuditAction::FollowupReadingRecorded,
            me.patient_id,
            ip,
            "followup_observation",
            String::new(),
        );
        let mut out = self
            .ingest(me.patient_id, vec![(obs, key)], EnteredVia::App, audit)
            .await?;
        out.pop()
            .ok_or_else(|| AppError::Internal("nothing stored".into()))
    }
}
