//! Referral and inclusion (HF-1), service use against a baseline (HF-2) and end of service
//! (HF-11) for digital home follow-up, as use cases.
//!
//! - A referral from a hospital, a GP or a municipal service is registered for a patient and
//!   assessed against the inclusion and exclusion criteria that apply to the patient's service
//!   area (kept in the database, edited by a service owner or an administrator). A clinician
//!   or follow-up nurse decides: accepting forms the care team (referring, advising, following
//!   up) and enrols the patient, in the decision's transaction; declining needs a reason.
//! - Service use (admissions, bed days, outpatient visits, GP and emergency contacts,
//!   home-care visits, patient travel) is recorded per period: the baseline before inclusion
//!   and later periods, compared per month, and summed over patients for the statistics.
//! - Ending follow-up records the final evaluation, the reason, the handover and the equipment
//!   checklist, and stops everything: no reminders, no missing reports, device tokens and
//!   patient-app sessions revoked.

use crate::App;
use crate::access::{PatientAccess, Purpose, StaffPrincipal};
use crate::error::{AppError, FieldError, Result};
use helsebro_domain::{AuditAction, AuditOutcome, Permission, Role};
use helsebro_followup::Condition;
use helsebro_followup::schedule::TaskSchedule;
use helsebro_store::{
    Acceptance, AssessmentLine, Criterion, Ending, EquipmentItem, NewAuditEntry, NewEnding,
    NewReferral, Referral, ServiceCounts, ServiceUse,
};
use jiff::civil::Date;
use uuid::Uuid;

/// Where a referral comes from.
pub const SOURCE_KINDS: [&str; 3] = ["hospital", "gp", "municipal"];
/// Kinds of criteria.
pub const CRITERION_KINDS: [&str; 2] = ["inclusion", "exclusion"];
/// The care-team roles a referral's parties get (ID-3; `care_team.team_role` codes).
pub const REFERRAL_TEAM_ROLES: [&str; 3] = ["referring", "advising", "following_up"];
/// Why follow-up ended.
pub const END_REASONS: [&str; 6] = [
    "recovered_stable",
    "moved",
    "deceased",
    "institution",
    "patient_wish",
    "other",
];
/// Who takes over responsibility after follow-up.
pub const HANDOVER_TO: [&str; 4] = ["gp", "home_care", "hospital", "none"];
/// The two kinds of service-use period.
pub const PERIOD_KINDS: [&str; 2] = ["baseline", "followup"];
/// The service-use counts, in the order of [`ServiceCounts::fields`].
pub const SERVICE_FIELDS: [&str; 7] = [
    "admissions",
    "bed_days",
    "outpatient_visits",
    "gp_contacts",
    "emergency_contacts",
    "home_care_visits",
    "patient_trips",
];
/// The largest count accepted for one period (a typing error guard).
pub const MAX_COUNT: i64 = 100_000;
/// Average days in a month, for the days beyond whole calendar months.
const DAYS_PER_MONTH: f64 = 365.25 / 12.0;

/// A referral as typed in.
#[derive(Debug, Clone, Default)]
pub struct ReferralInput {
    pub source_kind: String,
    pub referrer_name: String,
    pub referrer_org: String,
    pub conditions: Vec<Condition>,
    pub reason: String,
    /// `YYYY-MM-DD`.
    pub received_on: String,
}

/// A decision on a referral, with its assessment.
#[derive(Debug, Clone, Default)]
pub struct DecisionInput {
    pub accept: bool,
    /// Required when declining; optional note when accepting.
    pub reason: String,
    /// Each applicable criterion: met or not. A criterion left out is an error.
    pub answers: Vec<(Uuid, bool)>,
    /// On acceptance: care-team members and their roles (`REFERRAL_TEAM_ROLES`).
    pub team: Vec<(Uuid, String)>,
    /// On acceptance: the measurement plan, if the patient has none yet.
    pub plan: Vec<TaskSchedule>,
}

/// A referral with what is needed to assess it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ReferralView {
    pub referral: Referral,
    pub conditions: Vec<Condition>,
    /// The criteria that apply now (for a pending referral).
    pub criteria: Vec<Criterion>,
    /// The recorded assessment (for a decided referral).
    pub assessment: Vec<AssessmentLine>,
}

/// One period of service use as typed in (every count as text, so bad input can be named).
#[derive(Debug, Clone, Default)]
pub struct ServiceUseInput {
    /// `baseline` or `followup`.
    pub kind: String,
    pub from: String,
    pub to: String,
    /// Text of each count, in the order of [`SERVICE_FIELDS`].
    pub counts: [String; 7],
}

/// A checked period of service use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidServiceUse {
    pub kind: &'static str,
    pub from: Date,
    pub to: Date,
    pub counts: ServiceCounts,
}

/// One period, normalised per month.
#[derive(Debug, Clone, serde::Serialize)]
pub struct PeriodRates {
    pub kind: String,
    pub from: Date,
    pub to: Date,
    pub days: i64,
    /// Whole calendar months plus the remaining days as a fraction of an average month.
    pub months: f64,
    pub counts: ServiceCounts,
    /// Each count per month, in the order of [`SERVICE_FIELDS`].
    pub per_month: [f64; 7],
}

/// A later period against the baseline.
#[derive(Debug, Clone, serde::Serialize)]
pub struct PeriodComparison {
    pub period: PeriodRates,
    /// Per-month change from the baseline (negative: less use); `None` without a baseline.
    pub change_per_month: [Option<f64>; 7],
}

/// A patient's service use: the baseline and every later period against it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Comparison {
    pub baseline: Option<PeriodRates>,
    pub later: Vec<PeriodComparison>,
}

/// Service use summed over patients for one kind of period (no personal data).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ServiceUseAggregate {
    /// `baseline` or `followup`.
    pub kind: String,
    pub patients: usize,
    pub periods: usize,
    /// Sum of the periods' lengths in months.
    pub patient_months: f64,
    pub totals: ServiceCounts,
    /// Each count per patient and month (totals / patient-months), order of [`SERVICE_FIELDS`].
    pub per_patient_month: [f64; 7],
    /// Each count's average per patient over the whole of their periods.
    pub mean_per_patient: [f64; 7],
}

/// The end of follow-up as typed in.
#[derive(Debug, Clone, Default)]
pub struct EndInput {
    pub reason: String,
    pub evaluation: String,
    /// `None`: not answered.
    pub goals_met: Option<bool>,
    pub handover_to: String,
    pub handover_receiver: String,
    /// Each lent item: name, the device token it is (if any), returned (`None`: not answered).
    pub equipment: Vec<(String, Option<Uuid>, Option<bool>)>,
}

/// What a patient's referral, baseline and end-of-service pages show.
#[derive(Debug, Clone, serde::Serialize)]
pub struct InclusionRecord {
    pub referrals: Vec<Referral>,
    pub comparison: Comparison,
    pub endings: Vec<Ending>,
}

fn err(field: impl Into<String>, message: impl Into<String>) -> FieldError {
    FieldError {
        field: field.into(),
        message: message.into(),
    }
}

fn require_change(access: &PatientAccess) -> Result<()> {
    if access.purpose() == Purpose::Change {
        Ok(())
    } else {
        Err(AppError::Forbidden(
            "this access was granted for reading only",
        ))
    }
}

/// Only clinicians and follow-up nurses decide on inclusion and end follow-up.
pub fn may_decide(principal: &StaffPrincipal) -> bool {
    principal
        .roles
        .iter()
        .any(|r| matches!(r, Role::Clinician | Role::FollowUpNurse))
}

/// Service owners and administrators keep the inclusion and exclusion criteria.
pub fn may_edit_criteria(principal: &StaffPrincipal) -> bool {
    principal
        .roles
        .iter()
        .any(|r| matches!(r, Role::ServiceOwner | Role::Administrator))
}

fn require_decider(principal: &StaffPrincipal) -> Result<()> {
    if may_decide(principal) {
        Ok(())
    } else {
        Err(AppError::Forbidden(
            "only a clinician or a follow-up nurse can decide this",
        ))
    }
}

fn parse_date(field: &str, s: &str, errors: &mut Vec<FieldError>) -> Option<Date> {
    let s = s.trim();
    if s.is_empty() {
        errors.push(err(field, "write the date (YYYY-MM-DD)"));
        return None;
    }
    match s.parse::<Date>() {
        Ok(d) => Some(d),
        Err(_) => {
            errors.push(err(field, "write the date as YYYY-MM-DD, e.g. 2026-03-01"));
            None
        }
    }
}

fn text_field(
    field: &str,
    s: &str,
    max: usize,
    required: bool,
    errors: &mut Vec<FieldError>,
) -> String {
    let s = s.trim();
    if required && s.is_empty() {
        errors.push(err(field, "fill in this field"));
    } else if s.chars().count() > max {
        errors.push(err(field, format!("at most {max} characters")));
    }
    s.to_owned()
}

/// Checks a referral; every problem at once.
pub fn check_referral(
    input: &ReferralInput,
    today: Date,
) -> std::result::Result<(String, String, String, String, Date), Vec<FieldError>> {
    let mut errors = Vec::new();
    if !SOURCE_KINDS.contains(&input.source_kind.as_str()) {
        errors.push(err(
            "source_kind",
            "choose where the referral comes from (hospital, GP or municipal service)",
        ));
    }
    let name = text_field(
        "referrer_name",
        &input.referrer_name,
        200,
        true,
        &mut errors,
    );
    let org = text_field("referrer_org", &input.referrer_org, 200, true, &mut errors);
    let reason = text_field("reason", &input.reason, 4000, true, &mut errors);
    if input.conditions.is_empty() {
        errors.push(err(
            "conditions",
            "choose at least one condition the patient is referred for",
        ));
    }
    let received = parse_date("received_on", &input.received_on, &mut errors);
    if let Some(d) = received
        && d > today
    {
        errors.push(err(
            "received_on",
            "the date received cannot be in the future",
        ));
    }
    match (errors.is_empty(), received) {
        (true, Some(d)) => Ok((input.source_kind.clone(), name, org, reason, d)),
        _ => Err(errors),
    }
}

fn parse_count(field: &'static str, s: &str, errors: &mut Vec<FieldError>) -> i64 {
    let s = s.trim();
    if s.is_empty() {
        errors.push(err(field, "write a number (0 if none)"));
        return 0;
    }
    match s.parse::<i64>() {
        Ok(n) if n < 0 => {
            errors.push(err(field, "the number cannot be negative"));
            0
        }
        Ok(n) if n > MAX_COUNT => {
            errors.push(err(field, format!("at most {MAX_COUNT}")));
            0
        }
        Ok(n) => n,
        Err(_) => {
            errors.push(err(field, "write a whole number, e.g. 0, 1 or 12"));
            0
        }
    }
}

/// Days in a period, both ends included.
pub fn period_days(from: Date, to: Date) -> i64 {
    i64::from(to.since(from).map(|s| s.get_days()).unwrap_or(0)) + 1
}

/// Checks one period of service use: whole non-negative numbers, from before to, the end not
/// in the future, no more bed days than days. Every problem at once.
pub fn check_service_use(
    input: &ServiceUseInput,
    today: Date,
) -> std::result::Result<ValidServiceUse, Vec<FieldError>> {
    let mut errors = Vec::new();
    let kind = PERIOD_KINDS
        .iter()
        .find(|k| **k == input.kind.as_str())
        .copied();
    if kind.is_none() {
        errors.push(err(
            "kind",
            "choose whether this is the baseline or a later period",
        ));
    }
    let from = parse_date("from", &input.from, &mut errors);
    let to = parse_date("to", &input.to, &mut errors);
    if let (Some(f), Some(t)) = (from, to)
        && f >= t
    {
        errors.push(err("to", "the end of the period must be after its start"));
    }
    if let Some(t) = to
        && t > today
    {
        errors.push(err("to", "the period cannot end in the future"));
    }
    let mut n = [0i64; 7];
    for (i, field) in SERVICE_FIELDS.iter().enumerate() {
        n[i] = parse_count(field, &input.counts[i], &mut errors);
    }
    if let (Some(f), Some(t)) = (from, to)
        && f < t
        && n[1] > period_days(f, t)
    {
        errors.push(err(
            "bed_days",
            "there cannot be more bed days than days in the period",
        ));
    }
    match (errors.is_empty(), kind, from, to) {
        (true, Some(kind), Some(from), Some(to)) => Ok(ValidServiceUse {
            kind,
            from,
            to,
            counts: ServiceCounts {
                admissions: n[0],
                bed_days: n[1],
                outpatient_visits: n[2],
                gp_contacts: n[3],
                emergency_contacts: n[4],
                home_care_visits: n[5],
                patient_trips: n[6],
            },
        }),
        _ => Err(errors),
    }
}

/// The length of a period in months: whole calendar months, then the remaining days over an
/// average month (2026-01-01..=2026-12-31 is 12; 2026-10-01..=2026-12-31 is 3).
pub fn period_months(from: Date, to: Date) -> f64 {
    let Ok(end) = to.tomorrow() else {
        return 0.0;
    };
    match from.until((jiff::Unit::Month, end)) {
        Ok(span) => {
            f64::from(span.get_years()) * 12.0
                + f64::from(span.get_months())
                + f64::from(span.get_days()) / DAYS_PER_MONTH
        }
        Err(_) => period_days(from, to) as f64 / DAYS_PER_MONTH,
    }
}

/// One period per month.
pub fn rates(u: &ServiceUse) -> PeriodRates {
    let months = period_months(u.period_from, u.period_to);
    let mut per_month = [0.0; 7];
    for (i, (_, v)) in u.counts.fields().iter().enumerate() {
        per_month[i] = if months > 0.0 {
            *v as f64 / months
        } else {
            0.0
        };
    }
    PeriodRates {
        kind: u.kind.clone(),
        from: u.period_from,
        to: u.period_to,
        days: period_days(u.period_from, u.period_to),
        months,
        counts: u.counts,
        per_month,
    }
}

/// The baseline (the earliest recorded) against every later period, per month.
pub fn compare(periods: &[ServiceUse]) -> Comparison {
    let baseline = periods
        .iter()
        .filter(|p| p.kind == "baseline")
        .min_by_key(|p| p.period_from)
        .map(rates);
    let later = periods
        .iter()
        .filter(|p| p.kind != "baseline")
        .map(|p| {
            let period = rates(p);
            let mut change = [None; 7];
            if let Some(b) = &baseline {
                for (i, c) in change.iter_mut().enumerate() {
                    *c = Some(period.per_month[i] - b.per_month[i]);
                }
            }
            PeriodComparison {
                period,
                change_per_month: change,
            }
        })
        .collect();
    Comparison { baseline, later }
}

/// Sums and averages over patients, per kind of period (baseline first). No personal data
/// leaves: counts and rates only.
pub fn aggregate(periods: &[ServiceUse]) -> Vec<ServiceUseAggregate> {
    PERIOD_KINDS
        .iter()
        .filter_map(|kind| {
            let of: Vec<&ServiceUse> = periods.iter().filter(|p| p.kind == *kind).collect();
            if of.is_empty() {
                return None;
            }
            let mut patients: Vec<Uuid> = of.iter().map(|p| p.patient_id).collect();
            patients.sort();
            patients.dedup();
            let mut totals = [0i64; 7];
            let mut months = 0.0;
            for p in &of {
                months += period_months(p.period_from, p.period_to);
                for (i, (_, v)) in p.counts.fields().iter().enumerate() {
                    totals[i] += v;
                }
            }
            let n = patients.len() as f64;
            let mut per_patient_month = [0.0; 7];
            let mut mean_per_patient = [0.0; 7];
            for i in 0..7 {
                per_patient_month[i] = if months > 0.0 {
                    totals[i] as f64 / months
                } else {
                    0.0
                };
                mean_per_patient[i] = totals[i] as f64 / n;
            }
            Some(ServiceUseAggregate {
                kind: (*kind).to_owned(),
                patients: patients.len(),
                periods: of.len(),
                patient_months: months,
                totals: ServiceCounts {
                    admissions: totals[0],
                    bed_days: totals[1],
                    outpatient_visits: totals[2],
                    gp_contacts: totals[3],
                    emergency_contacts: totals[4],
                    home_care_visits: totals[5],
                    patient_trips: totals[6],
                },
                per_patient_month,
                mean_per_patient,
            })
        })
        .collect()
}

fn conditions_of(json: &str) -> Vec<Condition> {
    serde_json::from_str(json).unwrap_or_default()
}

impl App {
    fn staff_audit(
        principal: &StaffPrincipal,
        action: AuditAction,
        object: String,
        detail: String,
        ip: &str,
    ) -> NewAuditEntry {
        NewAuditEntry {
            actor_id: Some(principal.id),
            actor_label: principal.username.clone(),
            action,
            outcome: AuditOutcome::Success,
            patient_id: None,
            object,
            ip: ip.to_owned(),
            detail,
            flagged: false,
        }
    }

    // ---- criteria -------------------------------------------------------------------

    /// Every criterion, for the page where a service owner or an administrator keeps them.
    pub async fn followup_criteria_admin(
        &self,
        principal: &StaffPrincipal,
    ) -> Result<Vec<Criterion>> {
        if !may_edit_criteria(principal) {
            return Err(AppError::Forbidden(
                "only a service owner or an administrator keeps the criteria",
            ));
        }
        Ok(self.store().all_followup_criteria().await?)
    }

    /// Adds an inclusion or exclusion criterion for a service area (`None`: everywhere).
    pub async fn add_followup_criterion(
        &self,
        principal: &StaffPrincipal,
        unit_id: Option<Uuid>,
        kind: &str,
        text: &str,
        ip: &str,
    ) -> Result<Uuid> {
        if !may_edit_criteria(principal) {
            return Err(AppError::Forbidden(
                "only a service owner or an administrator keeps the criteria",
            ));
        }
        let mut errors = Vec::new();
        if !CRITERION_KINDS.contains(&kind) {
            errors.push(err("kind", "choose inclusion or exclusion"));
        }
        let text = text_field("text", text, 500, true, &mut errors);
        if let Some(u) = unit_id
            && !self.store().units().await?.iter().any(|x| x.id == u)
        {
            errors.push(err("unit_id", "choose a service area from the list"));
        }
        if !errors.is_empty() {
            return Err(AppError::Invalid(errors));
        }
        let audit = Self::staff_audit(
            principal,
            AuditAction::SettingsChanged,
            String::new(),
            format!("added {kind} criterion"),
            ip,
        );
        Ok(self
            .store()
            .add_followup_criterion(unit_id, kind, &text, principal.id, &audit, self.now())
            .await?)
    }

    /// Rewords, retires or restores a criterion. Assessments already made keep their wording.
    pub async fn update_followup_criterion(
        &self,
        principal: &StaffPrincipal,
        id: Uuid,
        text: &str,
        active: bool,
        ip: &str,
    ) -> Result<()> {
        if !may_edit_criteria(principal) {
            return Err(AppError::Forbidden(
                "only a service owner or an administrator keeps the criteria",
            ));
        }
        let mut errors = Vec::new();
        let text = text_field("text", text, 500, true, &mut errors);
        if !errors.is_empty() {
            return Err(AppError::Invalid(errors));
        }
        let audit = Self::staff_audit(
            principal,
            AuditAction::SettingsChanged,
            format!("followup_criterion:{id}"),
            if active { "changed" } else { "retired" }.into(),
            ip,
        );
        if self
            .store()
            .update_followup_criterion(id, &text, active, principal.id, &audit, self.now())
            .await?
        {
            Ok(())
        } else {
            Err(AppError::NotFound("the criterion"))
        }
    }

    // ---- referrals ------------------------------------------------------------------

    /// Registers a referral for the patient (HF-1); it awaits assessment.
    pub async fn register_referral(
        &self,
        access: &PatientAccess,
        input: &ReferralInput,
    ) -> Result<Uuid> {
        require_change(access)?;
        let (source, name, org, reason, received_on) =
            check_referral(input, self.today()).map_err(AppError::Invalid)?;
        let conditions = serde_json::to_string(&input.conditions)
            .map_err(|e| AppError::Internal(e.to_string()))?;
        let audit = access.audit(
            AuditAction::FollowupReferralReceived,
            String::new(),
            format!("from {source}, received {received_on}, for {conditions}"),
        );
        Ok(self
            .store()
            .create_referral(
                &NewReferral {
                    patient_id: access.patient_id(),
                    source_kind: source,
                    referrer_name: name,
                    referrer_org: org,
                    conditions,
                    reason,
                    received_on,
                },
                access.principal().id,
                &audit,
                self.now(),
            )
            .await?)
    }

    /// Referrals awaiting assessment of the patients on the caller's care teams, oldest first.
    /// The read is audit-logged.
    pub async fn referrals_awaiting(
        &self,
        principal: &StaffPrincipal,
        ip: &str,
    ) -> Result<Vec<Referral>> {
        principal.require(Permission::TreatPatients)?;
        let list = self.store().pending_referrals_for(principal.id).await?;
        self.store()
            .append_audit(
                &Self::staff_audit(
                    principal,
                    AuditAction::PatientRead,
                    "followup_referrals_pending".into(),
                    format!("{} referral(s)", list.len()),
                    ip,
                ),
                self.now(),
            )
            .await?;
        Ok(list)
    }

    /// A patient's referrals, the comparison of their service use, and their ends of follow-up.
    pub async fn inclusion_record(&self, access: &PatientAccess) -> Result<InclusionRecord> {
        let pid = access.patient_id();
        Ok(InclusionRecord {
            referrals: self.store().referrals_of_patient(pid).await?,
            comparison: compare(&self.store().service_use_of(pid).await?),
            endings: self.store().followup_endings(pid).await?,
        })
    }

    /// One referral of the patient, with the criteria to assess it against.
    pub async fn referral_view(
        &self,
        access: &PatientAccess,
        referral_id: Uuid,
    ) -> Result<ReferralView> {
        let referral = match self.store().referral(referral_id).await? {
            Some(r) if r.patient_id == access.patient_id() => r,
            _ => return Err(AppError::NotFound("the referral")),
        };
        let unit = self
            .store()
            .patient(access.patient_id())
            .await?
            .and_then(|p| p.unit_id);
        let criteria = if referral.status == "pending" {
            self.store().followup_criteria_for(unit).await?
        } else {
            Vec::new()
        };
        Ok(ReferralView {
            conditions: conditions_of(&referral.conditions),
            assessment: self.store().referral_assessment(referral_id).await?,
            criteria,
            referral,
        })
    }

    /// Assesses a pending referral against every criterion that applies and records the
    /// decision. Accepting needs every inclusion criterion met and no exclusion criterion
    /// met, and someone following the patient up; it forms the care team with each party's
    /// role and enrols the patient, in the decision's transaction. Declining needs a reason
    /// and enrols no one. Only clinicians and follow-up nurses decide.
    pub async fn decide_referral(
        &self,
        access: &PatientAccess,
        referral_id: Uuid,
        d: &DecisionInput,
    ) -> Result<()> {
        require_change(access)?;
        require_decider(access.principal())?;
        let view = self.referral_view(access, referral_id).await?;
        if view.referral.status != "pending" {
            return Err(AppError::Conflict(
                "this referral has already been decided".into(),
            ));
        }
        let mut errors = Vec::new();
        let mut lines = Vec::with_capacity(view.criteria.len());
        for c in &view.criteria {
            match d.answers.iter().find(|(id, _)| *id == c.id) {
                Some((_, met)) => lines.push(AssessmentLine {
                    criterion_id: c.id,
                    kind: c.kind.clone(),
                    text: c.text.clone(),
                    met: *met,
                }),
                None => errors.push(err(
                    format!("criterion-{}", c.id),
                    format!("say whether this is met: {}", c.text),
                )),
            }
        }
        if d.answers
            .iter()
            .any(|(id, _)| !view.criteria.iter().any(|c| c.id == *id))
        {
            errors.push(err(
                "criteria",
                "the criteria have changed since the page was opened; open it again",
            ));
        }
        let reason = text_field("reason", &d.reason, 2000, !d.accept, &mut errors);
        let mut team: Vec<(Uuid, String)> = Vec::new();
        if d.accept {
            if let Some(l) = lines.iter().find(|l| l.kind == "inclusion" && !l.met) {
                errors.push(err(
                    format!("criterion-{}", l.criterion_id),
                    format!(
                        "an inclusion criterion is not met, so the referral cannot be accepted: {}",
                        l.text
                    ),
                ));
            }
            if let Some(l) = lines.iter().find(|l| l.kind == "exclusion" && l.met) {
                errors.push(err(
                    format!("criterion-{}", l.criterion_id),
                    format!(
                        "an exclusion criterion is met, so the referral cannot be accepted: {}",
                        l.text
                    ),
                ));
            }
            for (staff_id, role) in &d.team {
                if !REFERRAL_TEAM_ROLES.contains(&role.as_str()) {
                    errors.push(err(
                        "team",
                        "choose referring, advising or following up for each member",
                    ));
                    continue;
                }
                if team.iter().any(|(s, _)| s == staff_id) {
                    errors.push(err(
                        "team",
                        "a person can have only one role on the care team",
                    ));
                    continue;
                }
                match self.store().staff_by_id(*staff_id).await? {
                    Some(s) if s.active && s.roles.iter().any(|r| r.sees_health_data()) => {
                        team.push((*staff_id, role.clone()));
                    }
                    _ => errors.push(err(
                        "team",
                        "only active staff who treat patients can join a care team",
                    )),
                }
            }
            if !team.iter().any(|(_, r)| r == "following_up") {
                errors.push(err(
                    "following_up",
                    "choose who follows the patient up in the municipality",
                ));
            }
            if view.conditions.is_empty() {
                errors.push(err("conditions", "the referral names no condition"));
            }
        }
        if !errors.is_empty() {
            return Err(AppError::Invalid(errors));
        }
        let met = lines.iter().filter(|l| l.met).count();
        let mut audits = vec![access.audit(
            AuditAction::FollowupReferralDecided,
            format!("followup_referral:{referral_id}"),
            format!(
                "{}; {} of {} criteria met{}",
                if d.accept { "accepted" } else { "declined" },
                met,
                lines.len(),
                if reason.is_empty() {
                    String::new()
                } else {
                    format!("; reason: {reason}")
                }
            ),
        )];
        let acceptance = if d.accept {
            for (staff_id, role) in &team {
                audits.push(access.audit(
                    AuditAction::CareTeamChanged,
                    format!("staff:{staff_id}"),
                    format!("set {role} (referral {referral_id})"),
                ));
            }
            let conditions = serde_json::to_string(&view.conditions)
                .map_err(|e| AppError::Internal(e.to_string()))?;
            audits.push(access.audit(
                AuditAction::FollowupEnrolled,
                "followup_enrolment".into(),
                format!("enrolled for {conditions} (referral {referral_id})"),
            ));
            let mut schedules = Vec::with_capacity(d.plan.len());
            for s in &d.plan {
                schedules
                    .push(serde_json::to_string(s).map_err(|e| AppError::Internal(e.to_string()))?);
            }
            Some(Acceptance {
                team,
                conditions,
                schedules,
            })
        } else {
            None
        };
        let p = access.principal();
        if self
            .store()
            .decide_referral(
                referral_id,
                access.patient_id(),
                &lines,
                &reason,
                acceptance.as_ref(),
                p.id,
                &p.username,
                &audits,
                self.now(),
            )
            .await?
        {
            Ok(())
        } else {
            Err(AppError::Conflict(
                "this referral has already been decided".into(),
            ))
        }
    }

    // ---- service use ----------------------------------------------------------------

    /// Records one period of the patient's service use (HF-2). Nothing is stored on bad input.
    /// A patient has one baseline; later periods are `followup`.
    pub async fn record_service_use(
        &self,
        access: &PatientAccess,
        input: &ServiceUseInput,
    ) -> Result<Uuid> {
        require_change(access)?;
        let v = check_service_use(input, self.today()).map_err(AppError::Invalid)?;
        let pid = access.patient_id();
        if v.kind == "baseline"
            && self
                .store()
                .service_use_of(pid)
                .await?
                .iter()
                .any(|u| u.kind == "baseline")
        {
            return Err(AppError::invalid(
                "kind",
                "the baseline is already recorded; record later periods as follow-up periods",
            ));
        }
        let audit = access.audit(
            AuditAction::FollowupBaselineRecorded,
            String::new(),
            format!("{} {}..{}", v.kind, v.from, v.to),
        );
        let p = access.principal();
        Ok(self
            .store()
            .record_service_use(
                pid,
                v.kind,
                v.from,
                v.to,
                &v.counts,
                p.id,
                &p.username,
                &audit,
                self.now(),
            )
            .await?)
    }

    /// Service use over all patients with a period overlapping `from..=to`, summed and
    /// averaged per kind of period, for the service statistics (EV-5). No personal data.
    pub async fn service_use_statistics(
        &self,
        principal: &StaffPrincipal,
        from: Date,
        to: Date,
    ) -> Result<Vec<ServiceUseAggregate>> {
        principal.require(Permission::ReadStatistics)?;
        Ok(aggregate(
            &self.store().service_use_between(from, to).await?,
        ))
    }

    // ---- end of service -------------------------------------------------------------

    /// Ends the patient's follow-up (HF-11): final evaluation, reason, handover and the
    /// equipment checklist; reminders and missing reports stop, device tokens and patient-app
    /// sessions are revoked. Only clinicians and follow-up nurses end follow-up.
    pub async fn end_followup_service(&self, access: &PatientAccess, e: &EndInput) -> Result<Uuid> {
        require_change(access)?;
        require_decider(access.principal())?;
        let pid = access.patient_id();
        let mut errors = Vec::new();
        if !END_REASONS.contains(&e.reason.as_str()) {
            errors.push(err("reason", "choose why follow-up ends"));
        }
        let evaluation = text_field("evaluation", &e.evaluation, 4000, true, &mut errors);
        if e.goals_met.is_none() {
            errors.push(err("goals_met", "say whether the goals were met"));
        }
        if !HANDOVER_TO.contains(&e.handover_to.as_str()) {
            errors.push(err("handover_to", "choose who takes over responsibility"));
        }
        let receiver = text_field(
            "handover_receiver",
            &e.handover_receiver,
            200,
            e.handover_to != "none",
            &mut errors,
        );
        let tokens = self.store().device_tokens(pid).await?;
        let mut equipment = Vec::with_capacity(e.equipment.len());
        for (i, (item, token, returned)) in e.equipment.iter().enumerate() {
            let field = format!("returned_{i}");
            let item = item.trim();
            if item.is_empty() {
                errors.push(err(field, "name the item"));
                continue;
            }
            if item.chars().count() > 100 {
                errors.push(err(field, "the item's name may be at most 100 characters"));
                continue;
            }
            if let Some(t) = token
                && !tokens.iter().any(|x| x.id == *t)
            {
                errors.push(err(field, "that device is not lent to this patient"));
                continue;
            }
            match returned {
                Some(r) => equipment.push(EquipmentItem {
                    item: item.to_owned(),
                    device_token_id: *token,
                    returned: *r,
                }),
                None => errors.push(err(field, format!("say whether this was returned: {item}"))),
            }
        }
        if !errors.is_empty() {
            return Err(AppError::Invalid(errors));
        }
        let not_back = equipment.iter().filter(|x| !x.returned).count();
        let audit = access.audit(
            AuditAction::FollowupEnded,
            String::new(),
            format!(
                "reason {}; handover to {}; {} item(s), {} not returned",
                e.reason,
                e.handover_to,
                equipment.len(),
                not_back
            ),
        );
        let p = access.principal();
        self.store()
            .end_followup_service(
                &NewEnding {
                    patient_id: pid,
                    reason: e.reason.clone(),
                    evaluation,
                    goals_met: e.goals_met.unwrap_or(false),
                    handover_to: e.handover_to.clone(),
                    handover_receiver: receiver,
                    equipment,
                },
                p.id,
                &p.username,
                &audit,
                self.now(),
            )
            .await?
            .ok_or_else(|| AppError::Conflict("this patient is not in home follow-up".into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    fn input(kind: &str, from: &str, to: &str, counts: [&str; 7]) -> ServiceUseInput {
        ServiceUseInput {
            kind: kind.into(),
            from: from.into(),
            to: to.into(),
            counts: counts.map(str::to_owned),
        }
    }

    fn stored(patient: u128, kind: &str, from: Date, to: Date, c: [i64; 7]) -> ServiceUse {
        ServiceUse {
            id: Uuid::from_u128(patient * 100 + u128::from(from.month() as u8)),
            patient_id: Uuid::from_u128(patient),
            kind: kind.into(),
            period_from: from,
            period_to: to,
            counts: ServiceCounts {
                admissions: c[0],
                bed_days: c[1],
                outpatient_visits: c[2],
                gp_contacts: c[3],
                emergency_contacts: c[4],
                home_care_visits: c[5],
                patient_trips: c[6],
            },
            recorded_by_label: String::new(),
            recorded_at: jiff::Timestamp::UNIX_EPOCH,
        }
    }

    #[test]
    fn service_use_is_checked_field_by_field() {
        let today = date(2027, 1, 15);
        let ok = check_service_use(
            &input(
                "baseline",
                "2026-01-01",
                "2026-12-31",
                ["2", "10", "3", "12", "1", "100", "8"],
            ),
            today,
        )
        .unwrap();
        assert_eq!(ok.counts.bed_days, 10);
        let bad = check_service_use(
            &input(
                "later",
                "2026-12-31",
                "2026-01-01",
                ["-1", "1.5", "x", "", "0", "0", "0"],
            ),
            today,
        )
        .unwrap_err();
        let fields: Vec<&str> = bad.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "kind",
                "to",
                "admissions",
                "bed_days",
                "outpatient_visits",
                "gp_contacts"
            ]
        );
        let future = check_service_use(
            &input("followup", "2027-01-01", "2027-02-01", ["0"; 7]),
            today,
        )
        .unwrap_err();
        assert_eq!(future[0].field, "to");
        let beds = check_service_use(
            &input(
                "followup",
                "2026-12-01",
                "2026-12-10",
                ["1", "11", "0", "0", "0", "0", "0"],
            ),
            today,
        )
        .unwrap_err();
        assert_eq!(beds[0].field, "bed_days");
    }

    #[test]
    fn months_are_calendar_months() {
        assert_eq!(period_months(date(2026, 1, 1), date(2026, 12, 31)), 12.0);
        assert_eq!(period_months(date(2026, 10, 1), date(2026, 12, 31)), 3.0);
        let half = period_months(date(2026, 2, 1), date(2026, 3, 15));
        assert!(
            (half - (1.0 + 15.0 / DAYS_PER_MONTH)).abs() < 1e-9,
            "{half}"
        );
        assert_eq!(period_days(date(2026, 1, 1), date(2026, 1, 31)), 31);
    }

    #[test]
    fn comparison_and_aggregate_are_per_month() {
        let a = [
            stored(
                1,
                "baseline",
                date(2025, 10, 1),
                date(2026, 9, 30),
                [6, 24, 12, 24, 4, 120, 36],
            ),
            stored(
                1,
                "followup",
                date(2026, 10, 1),
                date(2026, 12, 31),
                [0, 0, 1, 3, 0, 15, 3],
            ),
        ];
        let c = compare(&a);
        let b = c.baseline.as_ref().unwrap();
        assert_eq!(b.months, 12.0);
        assert_eq!(b.per_month, [0.5, 2.0, 1.0, 2.0, 1.0 / 3.0, 10.0, 3.0]);
        let later = &c.later[0];
        assert_eq!(later.period.per_month[3], 1.0);
        assert_eq!(later.change_per_month[0], Some(-0.5));
        assert_eq!(later.change_per_month[5], Some(-5.0));

        let mut all = a.to_vec();
        all.push(stored(
            2,
            "baseline",
            date(2026, 1, 1),
            date(2026, 6, 30),
            [2, 6, 0, 6, 2, 0, 6],
        ));
        let agg = aggregate(&all);
        assert_eq!(agg.len(), 2);
        assert_eq!(agg[0].kind, "baseline");
        assert_eq!(agg[0].patients, 2);
        assert_eq!(agg[0].patient_months, 18.0);
        assert_eq!(agg[0].totals.admissions, 8);
        assert!((agg[0].per_patient_month[0] - 8.0 / 18.0).abs() < 1e-12);
        assert_eq!(agg[0].mean_per_patient[0], 4.0);
        assert_eq!(agg[1].kind, "followup");
        assert_eq!(agg[1].patients, 1);
        assert_eq!(agg[1].per_patient_month[3], 1.0);
    }

    #[test]
    fn referrals_need_source_names_conditions_and_a_past_date() {
        let today = date(2027, 1, 15);
        let bad = check_referral(
            &ReferralInput {
                received_on: "2027-02-01".into(),
                ..Default::default()
            },
            today,
        )
        .unwrap_err();
        let fields: Vec<&str> = bad.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "source_kind",
                "referrer_name",
                "referrer_org",
                "reason",
                "conditions",
                "received_on"
            ]
        );
        assert!(
            check_referral(
                &ReferralInput {
                    source_kind: "gp".into(),
                    referrer_name: "Dr. Berg".into(),
                    referrer_org: "Sentrum legekontor".into(),
                    conditions: vec![Condition::Copd],
                    reason: "Hyppige innleggelser".into(),
                    received_on: "2027-01-10".into(),
                },
                today,
            )
            .is_ok()
        );
    }
}
