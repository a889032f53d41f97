//! Digital home follow-up (HF-1..HF-12) as use cases: enrolment, readings from the patient
//! app, from staff and from devices (FHIR), triage into alerts, the follow-up centre's work
//! list, acknowledging and documenting, "acknowledge all green" with a receipt to the patient,
//! pauses, per-patient thresholds with the what-if preview, device tokens, and the sweep that
//! raises missing reports, queues reminders and escalates alerts nobody acknowledged.
//!
//! The rules are the `helsebro-followup` crate's; this module loads their inputs from the
//! store, runs them and stores the results with their audit entries. Staff reach a patient
//! only through a [`PatientAccess`]; a device through its token (bound to one patient); the
//! patient through a [`PatientSelf`] from the patient app's session ([`crate::patient_app`]).

/// The follow-up rules crate, for callers of these use cases (pages, tests, benchmarks).
pub use helsebro_followup as rules;

use crate::App;
use crate::access::{PatientAccess, Purpose, StaffPrincipal};
use crate::error::{AppError, Result};
use crate::secrets::{random_token, token_hash};
use helsebro_domain::{AuditAction, AuditOutcome, Language, Permission};
use helsebro_followup::fhir::input::{IdempotencyKey, InputError, check_observation};
use helsebro_followup::fhir::{self as fhir, build};
use helsebro_followup::schedule::{Pause, Task, TaskSchedule, missing_reports, reminder_at};
use helsebro_followup::triage::{Adjustment, History, Outcome, PatientSettings, RuleSet};
use helsebro_followup::whatif::{WhatIf, what_if};
use helsebro_followup::worklist::{Escalation, EscalationPolicy, ItemKind, WorkItem, order};
use helsebro_followup::{Colour, Condition, Lang, MeasurementKind, Observation, Source, Value};
use helsebro_notify::templates::{Channel, MessageContext, MessageKind, render};
use helsebro_store::{
    AdjustmentRecord, Alert, DeviceToken, Enrolment, NewAuditEntry, NewMessage, NewMissingReport,
    NewReading, OutboxChannel, PauseRecord, Reading,
};
use jiff::{SignedDuration, Timestamp};
use uuid::Uuid;

/// Days the what-if preview replays.
pub const WHAT_IF_DAYS: u16 = 90;
/// Patients are reminded this long before a task is due.
pub const REMINDER_BEFORE: SignedDuration = SignedDuration::from_hours(1);

/// What staff can do about an alert (HF-8).
pub const ACTIONS: [&str; 5] = [
    "called",
    "video_call",
    "contacted_gp",
    "adjusted_plan",
    "no_action",
];

/// The stable code of a measurement kind (as stored and in URLs).
pub fn kind_code(k: MeasurementKind) -> &'static str {
    match k {
        MeasurementKind::OxygenSaturation => "oxygen_saturation",
        MeasurementKind::Pulse => "pulse",
        MeasurementKind::BloodPressure => "blood_pressure",
        MeasurementKind::BodyWeight => "body_weight",
        MeasurementKind::BodyTemperature => "body_temperature",
        MeasurementKind::BloodGlucose => "blood_glucose",
        MeasurementKind::PeakExpiratoryFlow => "peak_expiratory_flow",
        MeasurementKind::Steps => "steps",
    }
}

pub fn kind_from_code(s: &str) -> Option<MeasurementKind> {
    MeasurementKind::ALL
        .into_iter()
        .find(|k| kind_code(*k) == s)
}

pub fn colour_code(c: Colour) -> &'static str {
    match c {
        Colour::Green => "green",
        Colour::Yellow => "yellow",
        Colour::Red => "red",
    }
}

pub fn lang_of(l: Language) -> Lang {
    match l.code() {
        "nn" => Lang::Nn,
        "en" => Lang::En,
        _ => Lang::Nb,
    }
}

/// A stored value as the rules see it: blood pressure has two numbers, the rest one.
fn value_of(kind: MeasurementKind, value1: f64, value2: Option<f64>) -> Value {
    match (kind, value2) {
        (MeasurementKind::BloodPressure, Some(d)) => Value::BloodPressure {
            systolic: value1,
            diastolic: d,
        },
        _ => Value::Single(value1),
    }
}

/// A stored reading as the rules see it.
pub fn observation_of(r: &Reading) -> Option<Observation> {
    let kind = kind_from_code(&r.kind)?;
    Some(Observation {
        kind,
        at: r.effective_at,
        value: value_of(kind, r.value1, r.value2),
        device_error: r.device_error,
        source: r.device_id.clone().map_or(Source::Manual, Source::Device),
    })
}

/// How a reading reached us.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EnteredVia {
    App,
    Staff,
    Device,
}

impl EnteredVia {
    fn code(self) -> &'static str {
        match self {
            EnteredVia::App => "app",
            EnteredVia::Staff => "staff",
            EnteredVia::Device => "device",
        }
    }
}

/// What happened to one reading.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Ingested {
    pub id: Uuid,
    /// False when the same reading had been stored before (nothing changed).
    pub created: bool,
    /// `None`: not a real reading; the patient is asked to measure again.
    #[serde(serialize_with = "ser_colour")]
    pub colour: Option<Colour>,
    pub explanation: String,
}

fn ser_colour<S: serde::Serializer>(
    c: &Option<Colour>,
    s: S,
) -> std::result::Result<S::Ok, S::Error> {
    match c {
        Some(c) => s.serialize_str(colour_code(*c)),
        None => s.serialize_str("measure_again"),
    }
}

/// A staff member's view of one patient's follow-up.
#[derive(Debug, Clone, serde::Serialize)]
pub struct FollowupRecord {
    pub enrolment: Option<Enrolment>,
    pub conditions: Vec<Condition>,
    pub readings: Vec<Reading>,
    pub alerts: Vec<Alert>,
    pub adjustments: Vec<AdjustmentRecord>,
    pub pauses: Vec<PauseRecord>,
    pub schedules: Vec<TaskSchedule>,
    pub rules: RuleSet,
    pub device_tokens: Vec<DeviceToken>,
}

/// One line of the work list.
#[derive(Debug, Clone, serde::Serialize)]
pub struct WorkLine {
    pub alert: Alert,
    pub escalated: bool,
}

/// The follow-up centre's work list: red, then yellow, then missing reports.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Worklist {
    pub lines: Vec<WorkLine>,
    /// Green readings not yet reviewed: (patient, how many).
    pub green: Vec<(Uuid, i64)>,
}

/// What one sweep did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct SweepReport {
    pub missing_reports: usize,
    pub escalated: usize,
}

/// Why a FHIR create was refused: bad input (with its OperationOutcome), or access.
#[derive(Debug)]
pub enum FhirCreateError {
    Input(InputError),
    App(AppError),
}

impl From<AppError> for FhirCreateError {
    fn from(e: AppError) -> Self {
        FhirCreateError::App(e)
    }
}

impl From<helsebro_store::StoreError> for FhirCreateError {
    fn from(e: helsebro_store::StoreError) -> Self {
        FhirCreateError::App(e.into())
    }
}

/// Who posts a FHIR Observation.
pub enum FhirCaller<'a> {
    Staff(&'a StaffPrincipal),
    /// A device's bearer token.
    Device(&'a str),
}

fn system_audit(
    action: AuditAction,
    patient_id: Option<Uuid>,
    label: &str,
    ip: &str,
    object: String,
    detail: String,
) -> NewAuditEntry {
    NewAuditEntry {
        actor_id: None,
        actor_label: label.to_owned(),
        action,
        outcome: AuditOutcome::Success,
        patient_id,
        object,
        ip: ip.to_owned(),
        detail,
        flagged: false,
    }
}

pub(crate) fn parse_conditions(json: &str) -> Vec<Condition> {
    serde_json::from_str(json).unwrap_or_default()
}

/// The explanation stored with a reading (bokmål; the pages show it as written).
fn explain(outcome: &Outcome<'_>) -> String {
    match outcome {
        Outcome::Triaged(t) => {
            let reasons: Vec<String> = t.reasons().iter().map(|e| e.explain(Lang::Nb)).collect();
            if reasons.is_empty() {
                "Innenfor grensene.".to_owned()
            } else {
                reasons.join(" ")
            }
        }
        Outcome::MeasureAgain { reason } => format!(
            "Målingen kan ikke stemme ({}); pasienten bes måle på nytt.",
            serde_json::to_value(reason)
                .ok()
                .and_then(|v| v.get("reason").and_then(|r| r.as_str()).map(str::to_owned))
                .unwrap_or_default()
        ),
    }
}

impl App {
    // ---- loading ----------------------------------------------------------------------

    pub(crate) async fn enrolment_of(&self, patient_id: Uuid) -> Result<Enrolment> {
        match self.store().followup_enrolment(patient_id).await? {
            Some(e) if e.status != "ended" => Ok(e),
            _ => Err(AppError::invalid(
                "patient",
                "this patient is not in home follow-up",
            )),
        }
    }

    pub(crate) async fn rules_of(
        &self,
        patient_id: Uuid,
        conditions: &[Condition],
    ) -> Result<RuleSet> {
        let mut settings = PatientSettings::default();
        for a in self.store().followup_adjustments(patient_id).await? {
            if let Ok(adj) = serde_json::from_str::<Adjustment>(&a.adjustment) {
                settings.adjustments.push(adj);
            }
        }
        Ok(RuleSet::for_patient(conditions, &settings))
    }

    /// The patient's real readings (not "measure again") taken in `[from, to]`.
    async fn real_readings(
        &self,
        patient_id: Uuid,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<Vec<Observation>> {
        Ok(self
            .store()
            .followup_history(patient_id, from, to)
            .await?
            .into_iter()
            .filter_map(|r| {
                let kind = kind_from_code(&r.kind)?;
                Some(Observation {
                    kind,
                    at: r.effective_at,
                    value: value_of(kind, r.value1, r.value2),
                    device_error: false,
                    source: Source::Manual,
                })
            })
            .collect())
    }

    /// What the rules look at for readings taken in `[from, to]`: the real readings from
    /// `rules.lookback_days()` before `from`.
    async fn history_of(
        &self,
        patient_id: Uuid,
        rules: &RuleSet,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<History> {
        let since = from - SignedDuration::from_hours(24 * i64::from(rules.lookback_days()));
        Ok(History::new(
            &self.real_readings(patient_id, since, to).await?,
        ))
    }

    // ---- ingestion --------------------------------------------------------------------

    /// Triages and stores readings of one enrolled patient, each with its idempotency key, in
    /// one transaction with one audit entry. Earlier readings of the batch count as history for
    /// later ones.
    pub(crate) async fn ingest(
        &self,
        patient_id: Uuid,
        readings: Vec<(Observation, IdempotencyKey)>,
        via: EnteredVia,
        audit: NewAuditEntry,
    ) -> Result<Vec<Ingested>> {
        if readings.is_empty() {
            return Ok(Vec::new());
        }
        let enrolment = self.enrolment_of(patient_id).await?;
        let conditions = parse_conditions(&enrolment.conditions);
        let rules = self.rules_of(patient_id, &conditions).await?;
        let earliest = readings
            .iter()
            .map(|(o, _)| o.at)
            .min()
            .unwrap_or(self.now());
        let latest = readings
            .iter()
            .map(|(o, _)| o.at)
            .max()
            .unwrap_or(self.now());
        let mut history = self
            .history_of(patient_id, &rules, earliest, latest)
            .await?;
        let mut rows = Vec::with_capacity(readings.len());
        let mut results = Vec::with_capacity(readings.len());
        for (obs, key) in readings {
            let outcome = helsebro_followup::triage_with(&obs, &history, &rules);
            let colour = outcome.colour();
            let explanation = explain(&outcome);
            let alert = colour
                .and_then(ItemKind::from_colour)
                .map(|k| match k {
                    ItemKind::Red => "red",
                    ItemKind::Yellow => "yellow",
                    ItemKind::MissingReport => "missing_report",
                })
                .map(str::to_owned);
            let (value1, value2) = match obs.value {
                Value::Single(v) => (v, None),
                Value::BloodPressure {
                    systolic,
                    diastolic,
                } => (systolic, Some(diastolic)),
            };
            rows.push(NewReading {
                patient_id,
                idempotency_key: key.0,
                kind: kind_code(obs.kind).to_owned(),
                loinc: obs.kind.loinc().code.to_owned(),
                value1,
                value2,
                unit: obs.kind.metrics()[0].ucum().to_owned(),
                effective_at: obs.at,
                device_error: obs.device_error,
                device_id: match &obs.source {
                    Source::Device(d) => Some(d.clone()),
                    Source::Manual => None,
                },
                entered_via: via.code().to_owned(),
                colour: colour.map(|c| colour_code(c).to_owned()),
                explanation: explanation.clone(),
                alert,
            });
            results.push((colour, explanation));
            history.push(&obs);
        }
        let worst = results.iter().filter_map(|(c, _)| *c).max();
        let audit = NewAuditEntry {
            object: "followup_observation".into(),
            detail: format!(
                "{} reading(s) via {}, worst {}",
                rows.len(),
                via.code(),
                worst.map_or("measure_again", colour_code)
            ),
            ..audit
        };
        let stored = self
            .store()
            .store_readings(&rows, &audit, self.now())
            .await?;
        Ok(stored
            .into_iter()
            .zip(results)
            .map(|(s, (colour, explanation))| Ingested {
                id: s.id,
                created: s.created,
                colour,
                explanation,
            })
            .collect())
    }

    /// A reading entered by a staff member on the care team (manual entry).
    pub async fn record_reading(
        &self,
        access: &PatientAccess,
        obs: Observation,
    ) -> Result<Ingested> {
        let now = self.now();
        if obs.at > now + SignedDuration::from_mins(5) {
            return Err(AppError::invalid(
                "at",
                "the time of the measurement is in the future",
            ));
        }
        let key = IdempotencyKey::new(
            &access.patient_id().to_string(),
            &obs.source,
            obs.kind,
            obs.at,
        );
        let audit = access.audit(
            AuditAction::FollowupReadingRecorded,
            String::new(),
            String::new(),
        );
        let mut out = self
            .ingest(
                access.patient_id(),
                vec![(obs, key)],
                EnteredVia::Staff,
                audit,
            )
            .await?;
        out.pop()
            .ok_or_else(|| AppError::Internal("nothing stored".into()))
    }

    /// Readings sent in one batch for one patient by a trusted in-process caller (the demo and
    /// the ingestion benchmark); same path as the API without HTTP.
    pub async fn ingest_batch(
        &self,
        patient_id: Uuid,
        readings: Vec<Observation>,
        label: &str,
    ) -> Result<Vec<Ingested>> {
        let pid = patient_id.to_string();
        let keyed = readings
            .into_iter()
            .map(|o| {
                let k = IdempotencyKey::new(&pid, &o.source, o.kind, o.at);
                (o, k)
            })
            .collect();
        let audit = system_audit(
            AuditAction::FollowupReadingRecorded,
            Some(patient_id),
            label,
            "",
            String::new(),
            String::new(),
        );
        self.ingest(patient_id, keyed, EnteredVia::Device, audit)
            .await
    }

    /// `POST /fhir/r4/Observation`: checks the resource, who sends it, and stores it once.
    /// Answers the stored Observation (with the triage as its interpretation) and whether it
    /// was created now.
    pub async fn fhir_create_observation(
        &self,
        caller: FhirCaller<'_>,
        body: &[u8],
        ip: &str,
    ) -> std::result::Result<(fhir::Observation, bool), FhirCreateError> {
        let parsed: fhir::Observation = serde_json::from_slice(body)
            .map_err(|e| FhirCreateError::Input(InputError::Malformed(e.to_string())))?;
        let incoming = check_observation(&parsed, self.now()).map_err(FhirCreateError::Input)?;
        let patient_id = Uuid::parse_str(&incoming.patient_id)
            .map_err(|_| FhirCreateError::App(AppError::NotFound("the patient")))?;
        let (audit, via) = match caller {
            FhirCaller::Staff(principal) => {
                let access = self
                    .authorize_patient(principal, patient_id, Purpose::Change, ip)
                    .await?;
                (
                    access.audit(
                        AuditAction::FollowupReadingRecorded,
                        String::new(),
                        String::new(),
                    ),
                    EnteredVia::Staff,
                )
            }
            FhirCaller::Device(token) => {
                let Some((token_id, token_patient)) =
                    self.store().device_token(&token_hash(token)).await?
                else {
                    return Err(AppError::Unauthenticated.into());
                };
                if token_patient != patient_id {
                    return Err(
                        AppError::Forbidden("this device token is for another patient").into(),
                    );
                }
                (
                    system_audit(
                        AuditAction::FollowupReadingRecorded,
                        Some(patient_id),
                        &format!("device:{token_id}"),
                        ip,
                        String::new(),
                        String::new(),
                    ),
                    EnteredVia::Device,
                )
            }
        };
        let obs = incoming.observation.clone();
        let mut out = self
            .ingest(
                patient_id,
                vec![(incoming.observation, incoming.key)],
                via,
                audit,
            )
            .await?;
        let done = out
            .pop()
            .ok_or_else(|| AppError::Internal("nothing stored".into()))?;
        let resource = self.fhir_observation_of(patient_id, done.id, &obs).await?;
        Ok((resource, done.created))
    }

    /// The FHIR Observation of a stored reading, triaged against the history before it.
    async fn fhir_observation_of(
        &self,
        patient_id: Uuid,
        id: Uuid,
        obs: &Observation,
    ) -> Result<fhir::Observation> {
        let enrolment = self.store().followup_enrolment(patient_id).await?;
        let conditions = enrolment
            .map(|e| parse_conditions(&e.conditions))
            .unwrap_or_default();
        let rules = self.rules_of(patient_id, &conditions).await?;
        let history = self.history_of(patient_id, &rules, obs.at, obs.at).await?;
        let outcome = helsebro_followup::triage_with(obs, &history, &rules);
        Ok(build::observation(
            obs,
            &id.to_string(),
            &patient_id.to_string(),
            Some(&outcome),
            Lang::Nb,
        ))
    }

    /// `GET /fhir/r4/Observation?patient=&code=&date=`: the patient's readings, optionally of
    /// one LOINC code and within `[from, to]`.
    pub async fn fhir_search_observations(
        &self,
        access: &PatientAccess,
        code: Option<&str>,
        from: Option<Timestamp>,
        to: Option<Timestamp>,
    ) -> Result<Vec<fhir::Observation>> {
        let kind =
            match code {
                Some(c) => {
                    let c = c.rsplit('|').next().unwrap_or(c);
                    Some(MeasurementKind::from_loinc(c).ok_or_else(|| {
                        AppError::invalid("code", "not a LOINC code Helsebro knows")
                    })?)
                }
                None => None,
            };
        let pid = access.patient_id();
        let from = from.unwrap_or(Timestamp::UNIX_EPOCH);
        let to = to.unwrap_or(self.now() + SignedDuration::from_hours(1));
        let readings = self
            .store()
            .followup_readings(pid, kind.map(kind_code), from, to)
            .await?;
        let enrolment = self.store().followup_enrolment(pid).await?;
        let conditions = enrolment
            .map(|e| parse_conditions(&e.conditions))
            .unwrap_or_default();
        let rules = self.rules_of(pid, &conditions).await?;
        let history = self.history_of(pid, &rules, from, to).await?;
        Ok(readings
            .iter()
            .filter_map(|r| {
                let obs = observation_of(r)?;
                let outcome = helsebro_followup::triage_with(&obs, &history, &rules);
                Some(build::observation(
                    &obs,
                    &r.id.to_string(),
                    &pid.to_string(),
                    Some(&outcome),
                    Lang::Nb,
                ))
            })
            .collect())
    }

    /// `GET /fhir/r4/Patient/{id}`.
    pub async fn fhir_patient(&self, access: &PatientAccess) -> Result<fhir::Patient> {
        let p = self
            .store()
            .patient(access.patient_id())
            .await?
            .ok_or(AppError::NotFound("the patient"))?;
        let mut telecom = Vec::new();
        if let Some(phone) = &p.phone {
            telecom.push(fhir::ContactPoint {
                system: Some("phone".into()),
                value: Some(phone.clone()),
            });
        }
        if let Some(email) = &p.email {
            telecom.push(fhir::ContactPoint {
                system: Some("email".into()),
                value: Some(email.clone()),
            });
        }
        Ok(fhir::Patient {
            id: Some(p.id.to_string()),
            identifier: vec![fhir::Identifier {
                system: Some(fhir::NORWEGIAN_FNR.into()),
                value: Some(p.national_id.clone()),
            }],
            active: Some(true),
            name: vec![fhir::HumanName {
                text: Some(p.name.clone()),
                ..Default::default()
            }],
            telecom,
            birth_date: Some(p.birth_date.to_string()),
            ..Default::default()
        })
    }

    /// `GET /fhir/r4/Flag?patient=`: the patient's open alerts.
    pub async fn fhir_flags(&self, access: &PatientAccess) -> Result<Vec<fhir::Flag>> {
        let pid = access.patient_id().to_string();
        Ok(self
            .store()
            .followup_alerts(access.patient_id(), 500)
            .await?
            .into_iter()
            .filter(|a| a.acted_at.is_none())
            .filter_map(|a| {
                let kind = match a.kind.as_str() {
                    "red" => ItemKind::Red,
                    "yellow" => ItemKind::Yellow,
                    "missing_report" => ItemKind::MissingReport,
                    _ => return None,
                };
                Some(build::flag(
                    &a.id.to_string(),
                    &pid,
                    kind,
                    a.raised_at,
                    &a.explanation,
                ))
            })
            .collect())
    }

    // ---- enrolment, plan, rules ---------------------------------------------------------

    /// Enrols a patient in home follow-up for `conditions`, with a measurement plan.
    pub async fn enrol_followup(
        &self,
        access: &PatientAccess,
        conditions: &[Condition],
        plan: &[TaskSchedule],
    ) -> Result<()> {
        if conditions.is_empty() {
            return Err(AppError::invalid(
                "conditions",
                "choose at least one condition",
            ));
        }
        let now = self.now();
        let json =
            serde_json::to_string(conditions).map_err(|e| AppError::Internal(e.to_string()))?;
        let audit = access.audit(
            AuditAction::FollowupEnrolled,
            "followup_enrolment".into(),
            format!("enrolled for {json}"),
        );
        let pid = access.patient_id();
        self.store()
            .enrol_followup(pid, &json, access.principal().id, &audit, now)
            .await?;
        if self.store().followup_schedules(pid).await?.is_empty() {
            for s in plan {
                let sj = serde_json::to_string(s).map_err(|e| AppError::Internal(e.to_string()))?;
                let audit = access.audit(
                    AuditAction::FollowupEnrolled,
                    "followup_schedule".into(),
                    sj.clone(),
                );
                self.store()
                    .add_followup_schedule(pid, &sj, &audit, now)
                    .await?;
            }
        }
        Ok(())
    }

    /// Everything the care team sees of one patient's follow-up; readings of the last `days`.
    pub async fn followup_record(
        &self,
        access: &PatientAccess,
        days: i64,
    ) -> Result<FollowupRecord> {
        let pid = access.patient_id();
        let store = self.store();
        let enrolment = store.followup_enrolment(pid).await?;
        let conditions = enrolment
            .as_ref()
            .map(|e| parse_conditions(&e.conditions))
            .unwrap_or_default();
        let now = self.now();
        Ok(FollowupRecord {
            readings: store
                .followup_readings(
                    pid,
                    None,
                    now - SignedDuration::from_hours(24 * days),
                    now + SignedDuration::from_hours(1),
                )
                .await?,
            alerts: store.followup_alerts(pid, 200).await?,
            adjustments: store.followup_adjustments(pid).await?,
            pauses: store.followup_pauses(pid).await?,
            schedules: store
                .followup_schedules(pid)
                .await?
                .iter()
                .filter_map(|(_, s)| serde_json::from_str(s).ok())
                .collect(),
            rules: self.rules_of(pid, &conditions).await?,
            device_tokens: store.device_tokens(pid).await?,
            enrolment,
            conditions,
        })
    }

    /// Changes one patient's triage rules; every change is kept with who and why (HF-7).
    pub async fn adjust_followup_rules(
        &self,
        access: &PatientAccess,
        adjustment: &Adjustment,
        reason: &str,
    ) -> Result<()> {
        let reason = reason.trim();
        if reason.chars().count() < 5 {
            return Err(AppError::invalid(
                "reason",
                "say why the threshold is changed",
            ));
        }
        self.enrolment_of(access.patient_id()).await?;
        let json =
            serde_json::to_string(adjustment).map_err(|e| AppError::Internal(e.to_string()))?;
        let audit = access.audit(
            AuditAction::FollowupRulesChanged,
            "followup_rules".into(),
            format!("{json}; reason: {reason}"),
        );
        let p = access.principal();
        self.store()
            .add_followup_adjustment(
                access.patient_id(),
                &json,
                reason,
                p.id,
                &p.username,
                &audit,
                self.now(),
            )
            .await?;
        Ok(())
    }

    /// How many alerts the patient's last 90 days would have raised with `adjustment` added.
    pub async fn followup_what_if(
        &self,
        access: &PatientAccess,
        adjustment: &Adjustment,
    ) -> Result<WhatIf> {
        let pid = access.patient_id();
        let enrolment = self.enrolment_of(pid).await?;
        let conditions = parse_conditions(&enrolment.conditions);
        let old = self.rules_of(pid, &conditions).await?;
        let mut new = old.clone();
        new.apply(&PatientSettings {
            adjustments: vec![adjustment.clone()],
        });
        let now = self.now();
        let lookback =
            i64::from(WHAT_IF_DAYS) + i64::from(old.lookback_days().max(new.lookback_days()));
        let history = self
            .real_readings(pid, now - SignedDuration::from_hours(24 * lookback), now)
            .await?;
        Ok(what_if(&history, now, WHAT_IF_DAYS, &old, &new))
    }

    pub async fn pause_followup(&self, access: &PatientAccess, reason: &str) -> Result<()> {
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(AppError::invalid("reason", "say why follow-up is paused"));
        }
        let audit = access.audit(
            AuditAction::FollowupPaused,
            "followup_pause".into(),
            reason.to_owned(),
        );
        if !self
            .store()
            .pause_followup(
                access.patient_id(),
                reason,
                access.principal().id,
                &audit,
                self.now(),
            )
            .await?
        {
            return Err(AppError::Conflict("follow-up is not active".into()));
        }
        Ok(())
    }

    pub async fn resume_followup(&self, access: &PatientAccess) -> Result<()> {
        let audit = access.audit(
            AuditAction::FollowupResumed,
            "followup_resume".into(),
            String::new(),
        );
        if !self
            .store()
            .resume_followup(access.patient_id(), &audit, self.now())
            .await?
        {
            return Err(AppError::Conflict("follow-up is not paused".into()));
        }
        Ok(())
    }

    /// A new device token for the patient, shown once (≥128 bits; only its hash is kept).
    pub async fn create_device_token(&self, access: &PatientAccess, label: &str) -> Result<String> {
        let label = label.trim();
        if label.is_empty() || label.chars().count() > 100 {
            return Err(AppError::invalid(
                "label",
                "name the device (1–100 characters)",
            ));
        }
        self.enrolment_of(access.patient_id()).await?;
        let token = format!("hbd_{}", random_token(32));
        let audit = access.audit(
            AuditAction::FollowupDeviceTokenCreated,
            "followup_device_token".into(),
            label.to_owned(),
        );
        self.store()
            .create_device_token(
                access.patient_id(),
                &token_hash(&token),
                label,
                access.principal().id,
                &audit,
                self.now(),
            )
            .await?;
        Ok(token)
    }

    // ---- the work list ----------------------------------------------------------------

    /// The caller's work list over the patients on their care teams: unfinished red, yellow
    /// and missing-report alerts in the follow-up centre's order, escalated ones first within
    /// their kind. The read is audit-logged.
    pub async fn followup_worklist(
        &self,
        principal: &StaffPrincipal,
        ip: &str,
    ) -> Result<Worklist> {
        principal.require(Permission::TreatPatients)?;
        let now = self.now();
        let alerts = self.store().followup_worklist(principal.id).await?;
        let policy = EscalationPolicy::default();
        let mut items: Vec<WorkItem<usize>> = alerts
            .iter()
            .enumerate()
            .filter_map(|(i, a)| {
                Some(WorkItem {
                    id: i,
                    kind: item_kind(&a.kind)?,
                    raised_at: a.raised_at,
                    acknowledged_at: a.acknowledged_at,
                })
            })
            .collect();
        order(&mut items, &policy, now);
        let lines = items
            .iter()
            .map(|it| WorkLine {
                escalated: matches!(it.escalation(&policy, now), Escalation::Escalated { .. }),
                alert: alerts[it.id].clone(),
            })
            .collect();
        self.store()
            .append_audit(
                &NewAuditEntry {
                    actor_id: Some(principal.id),
                    actor_label: principal.username.clone(),
                    action: AuditAction::PatientRead,
                    outcome: AuditOutcome::Success,
                    patient_id: None,
                    object: "followup_worklist".into(),
                    ip: ip.to_owned(),
                    detail: format!("{} item(s)", alerts.len()),
                    flagged: false,
                },
                now,
            )
            .await?;
        Ok(Worklist {
            lines,
            green: self.store().unreviewed_green(principal.id).await?,
        })
    }

    async fn alert_of(&self, access: &PatientAccess, alert_id: Uuid) -> Result<Alert> {
        match self.store().followup_alert(alert_id).await? {
            Some(a) if a.patient_id == access.patient_id() => Ok(a),
            _ => Err(AppError::NotFound("the alert")),
        }
    }

    /// Acknowledges an alert (stops its escalation).
    pub async fn acknowledge_alert(&self, access: &PatientAccess, alert_id: Uuid) -> Result<()> {
        let a = self.alert_of(access, alert_id).await?;
        let p = access.principal();
        let audit = access.audit(
            AuditAction::FollowupAlertAcknowledged,
            format!("followup_alert:{alert_id}"),
            format!("acknowledged {} alert", a.kind),
        );
        if !self
            .store()
            .acknowledge_followup_alert(
                alert_id,
                access.patient_id(),
                p.id,
                &p.username,
                &audit,
                self.now(),
            )
            .await?
        {
            return Err(AppError::Conflict(
                "the alert was already acknowledged".into(),
            ));
        }
        Ok(())
    }

    /// Records what was done about an alert and documents it (HF-8, HF-10).
    pub async fn act_on_alert(
        &self,
        access: &PatientAccess,
        alert_id: Uuid,
        action: &str,
        note: &str,
    ) -> Result<()> {
        if !ACTIONS.contains(&action) {
            return Err(AppError::invalid("action", "choose what was done"));
        }
        let note = note.trim();
        if note.is_empty() {
            return Err(AppError::invalid("note", "document what was done"));
        }
        if note.chars().count() > 4000 {
            return Err(AppError::invalid(
                "note",
                "the note may be at most 4000 characters",
            ));
        }
        let a = self.alert_of(access, alert_id).await?;
        let p = access.principal();
        let audit = access.audit(
            AuditAction::FollowupAlertActed,
            format!("followup_alert:{alert_id}"),
            format!("{} alert: {action}", a.kind),
        );
        if !self
            .store()
            .act_on_followup_alert(
                alert_id,
                access.patient_id(),
                action,
                note,
                p.id,
                &p.username,
                &audit,
                self.now(),
            )
            .await?
        {
            return Err(AppError::Conflict(
                "the alert was already documented".into(),
            ));
        }
        Ok(())
    }

    /// Marks every green reading of the caller's patients reviewed, with a receipt message to
    /// each patient ("your readings have been seen"). Returns how many readings.
    pub async fn acknowledge_all_green(&self, principal: &StaffPrincipal, ip: &str) -> Result<u64> {
        principal.require(Permission::TreatPatients)?;
        let ctx = self.patient_message_context().await?;
        let mut total = 0;
        for (pid, _) in self.store().unreviewed_green(principal.id).await? {
            let access = self
                .authorize_patient(principal, pid, Purpose::Change, ip)
                .await?;
            let now = self.now();
            let receipt = match self.store().patient(pid).await? {
                Some(p) => {
                    patient_message(&p, MessageKind::ReadingsSeen, &ctx, "followup_receipt", now)?
                }
                None => None,
            };
            let audit = access.audit(
                AuditAction::FollowupGreenAcknowledged,
                "followup_green".into(),
                "acknowledged green readings".into(),
            );
            total += self
                .store()
                .review_green(pid, receipt.as_ref(), &audit, now)
                .await?;
        }
        Ok(total)
    }

    // ---- the sweep --------------------------------------------------------------------

    /// Raises missing reports for tasks not done by their deadline (not while paused), queues
    /// reminders before tasks fall due, and marks alerts not acknowledged in time escalated.
    /// Idempotent: run it as often as you like (the housekeeping loop runs it every minute).
    pub async fn followup_sweep(&self) -> Result<SweepReport> {
        let now = self.now();
        let store = self.store();
        let mut report = SweepReport::default();
        // Reminders link to the patient app; without an organisation (not set up) none are sent.
        let reminder_ctx = store.organisation().await?.map(|org| MessageContext {
            organisation: org.name,
            support_phone: org.support_phone,
            link: Some(format!("{}/mine", self.config().base_url())),
            ..MessageContext::default()
        });
        for e in store.current_followup_enrolments().await? {
            let pid = e.patient_id;
            let pauses: Vec<Pause> = store
                .followup_pauses(pid)
                .await?
                .iter()
                .map(|p| Pause {
                    from: p.from_at,
                    until: p.until_at,
                })
                .collect();
            let patient = store.patient(pid).await?;
            let after = e.swept_until;
            let mut missing = Vec::new();
            let mut reminders = Vec::new();
            for (_, sj) in store.followup_schedules(pid).await? {
                let Ok(schedule) = serde_json::from_str::<TaskSchedule>(&sj) else {
                    continue;
                };
                let since = after - SignedDuration::from_hours(72);
                // When the task was done: a real reading of the kind, or a response to the
                // questionnaire.
                let (what, done): (String, Vec<Timestamp>) = match &schedule.task {
                    Task::Measurement(kind) => (
                        kind.name().get(Lang::Nb).to_lowercase(),
                        store
                            .followup_readings(pid, Some(kind_code(*kind)), since, now)
                            .await?
                            .iter()
                            .filter(|r| !r.device_error)
                            .map(|r| r.effective_at)
                            .collect(),
                    ),
                    Task::Questionnaire(id) => (
                        helsebro_followup::questionnaire::by_id(id).map_or_else(
                            || format!("svar på skjemaet {id}"),
                            |q| format!("svar på «{}»", q.title.get(Lang::Nb)),
                        ),
                        store
                            .followup_responses(pid, since, 1000)
                            .await?
                            .iter()
                            .filter(|r| &r.questionnaire == id)
                            .map(|r| r.authored_at)
                            .collect(),
                    ),
                };
                for o in missing_reports(&schedule, &done, &pauses, after, now) {
                    missing.push(NewMissingReport {
                        occurrence_key: format!("{pid}:{}", o.key()),
                        explanation: format!(
                            "Ingen {what} innen fristen {}.",
                            o.deadline
                                .to_zoned(helsebro_followup::time::oslo().clone())
                                .strftime("%d.%m. %H:%M")
                        ),
                        raised_at: o.deadline,
                    });
                }
                if let (Some(o), Some(p), Some(ctx)) =
                    (schedule.next_due(now), &patient, &reminder_ctx)
                    && let Some(at) = reminder_at(&o, REMINDER_BEFORE, &done, &pauses, now)
                    && let Some(mut m) =
                        patient_message(p, MessageKind::TaskReminder, ctx, "followup_reminder", at)?
                {
                    m.dedupe_key = Some(format!("fu:{pid}:{}:reminder", o.key()));
                    reminders.push(m);
                }
            }
            if e.status == "paused" {
                reminders.clear();
            }
            let audit = system_audit(
                AuditAction::FollowupMissingReport,
                Some(pid),
                "system",
                "",
                "followup_missing_report".into(),
                format!("{} missing report(s)", missing.len()),
            );
            report.missing_reports += store
                .record_followup_sweep(pid, &missing, &reminders, now, Some(&audit), now)
                .await?;
        }
        let policy = EscalationPolicy::default();
        for a in store.followup_unescalated().await? {
            let Some(kind) = item_kind(&a.kind) else {
                continue;
            };
            let item = WorkItem {
                id: a.id,
                kind,
                raised_at: a.raised_at,
                acknowledged_at: a.acknowledged_at,
            };
            if let Escalation::Escalated { .. } = item.escalation(&policy, now) {
                let audit = system_audit(
                    AuditAction::FollowupAlertEscalated,
                    Some(a.patient_id),
                    "system",
                    "",
                    format!("followup_alert:{}", a.id),
                    format!("escalated {} alert not acknowledged in time", a.kind),
                );
                if store.escalate_followup_alert(a.id, &audit, now).await? {
                    report.escalated += 1;
                }
            }
        }
        Ok(report)
    }
}

/// The work-list kind of a stored alert kind.
pub(crate) fn item_kind(code: &str) -> Option<ItemKind> {
    match code {
        "red" => Some(ItemKind::Red),
        "yellow" => Some(ItemKind::Yellow),
        "missing_report" => Some(ItemKind::MissingReport),
        _ => None,
    }
}

/// Where a patient's messages go: SMS to the phone on file, else e-mail.
pub(crate) fn patient_channel(p: &helsebro_store::Patient) -> Option<(OutboxChannel, String)> {
    if let Some(phone) = &p.phone {
        return Some((OutboxChannel::Sms, phone.clone()));
    }
    p.email.clone().map(|e| (OutboxChannel::Email, e))
}

/// A message to a patient by SMS (or e-mail when there is no phone), in the patient's
/// language, from the notification texts (Fluent). Patient messages carry no health
/// information: no values, no diagnosis, no colours.
pub(crate) fn patient_message(
    p: &helsebro_store::Patient,
    kind: MessageKind,
    ctx: &MessageContext,
    outbox_kind: &str,
    not_before: Timestamp,
) -> Result<Option<NewMessage>> {
    let Some((channel, recipient)) = patient_channel(p) else {
        return Ok(None);
    };
    let template_channel = match channel {
        OutboxChannel::Sms => Channel::Sms,
        OutboxChannel::Email => Channel::Email,
    };
    let text = render(kind, template_channel, p.language, ctx)
        .map_err(|e| AppError::Internal(e.to_string()))?;
    Ok(Some(NewMessage {
        channel,
        recipient,
        subject: text.subject,
        body: text.body,
        calendar: None,
        kind: outbox_kind.to_owned(),
        not_before,
        dedupe_key: None,
    }))
}

impl App {
    /// What every follow-up message to a patient is filled in with: the organisation's name and
    /// support phone.
    pub(crate) async fn patient_message_context(&self) -> Result<MessageContext> {
        let org = self.organisation().await?;
        Ok(MessageContext {
            organisation: org.name,
            support_phone: org.support_phone,
            ..MessageContext::default()
        })
    }
}
