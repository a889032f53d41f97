//! Self-care plans (HF-3) and questionnaires (HF-4, HF-5, HF-7) as use cases.
//!
//! A self-care plan says, per condition and colour, what the patient does (medication
//! adjustments included) and whom to contact. Every change makes a new version and keeps the
//! old ones; a version is a draft until a GP or clinician on the care team approves it, and the
//! patient sees only the newest approved version. Questionnaire answers, from the patient app
//! or as a FHIR QuestionnaireResponse, are scored and triaged with the patient's rules; a red or
//! yellow response raises an alert on the follow-up centre's work list, like a reading does.

use crate::App;
use crate::access::{PatientAccess, Purpose, StaffPrincipal};
use crate::error::{AppError, Result};
use crate::followup::{colour_code, parse_conditions};
use crate::patient_app::PatientSelf;
use helsebro_domain::{AuditAction, AuditOutcome, Role};
use helsebro_followup::careplan::{Approval, PlanStep, SelfCarePlan};
use helsebro_followup::fhir::{self as fhir, Extension, build};
use helsebro_followup::questionnaire::{self as q, Questionnaire};
use helsebro_followup::triage::ResponseTriage;
use helsebro_followup::worklist::ItemKind;
use helsebro_followup::{Colour, Condition, Lang, Text, triage_response};
use helsebro_store::{NewAuditEntry, NewPlan, NewResponse, PlanRecord};
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use uuid::Uuid;

pub use helsebro_store::ResponseRecord;

/// The longest text a plan field may hold.
pub const MAX_PLAN_TEXT: usize = 2000;
/// The colours a plan covers, in the order they are shown.
pub const COLOURS: [Colour; 3] = [Colour::Green, Colour::Yellow, Colour::Red];

/// What the patient does at one colour of one condition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanEntry {
    pub condition: Condition,
    pub colour: Colour,
    /// What the patient does, in the care team's words.
    pub what_to_do: String,
    /// Medication adjustments at this colour (may be empty).
    #[serde(default)]
    pub medication: String,
    /// Whom to contact and how.
    pub contact: String,
}

/// One version of a patient's self-care plan.
#[derive(Debug, Clone, Serialize)]
pub struct PlanVersion {
    pub id: Uuid,
    pub version: u32,
    pub conditions: Vec<Condition>,
    pub entries: Vec<PlanEntry>,
    pub created_by_label: String,
    pub created_at: Timestamp,
    /// Who approved it and when; `None` for a draft.
    pub approval: Option<Approval>,
}

impl PlanVersion {
    pub fn entry(&self, condition: Condition, colour: Colour) -> Option<&PlanEntry> {
        self.entries
            .iter()
            .find(|e| e.condition == condition && e.colour == colour)
    }

    /// The plan as the rules crate's [`SelfCarePlan`] (for FHIR): one step per condition and
    /// colour, the condition named in front of what to do.
    pub fn self_care_plan(&self, lang: Lang) -> SelfCarePlan {
        SelfCarePlan {
            version: self.version,
            conditions: self.conditions.clone(),
            steps: self
                .entries
                .iter()
                .map(|e| {
                    let mut what = format!(
                        "{}: {}",
                        condition_text(e.condition).get(lang),
                        e.what_to_do
                    );
                    if !e.medication.is_empty() {
                        what.push_str(&format!(
                            " {}: {}",
                            Text::new("Medisiner", "Medisinar", "Medication").get(lang),
                            e.medication
                        ));
                    }
                    PlanStep {
                        colour: e.colour,
                        what_to_do: what,
                        contact: e.contact.clone(),
                    }
                })
                .collect(),
            valid_from: self.approval.as_ref().map_or(self.created_at, |a| a.at),
            approved: self.approval.clone(),
        }
    }
}

/// The plan the patient sees, with the colour of their latest values (`None`: no values in
/// the last day).
#[derive(Debug, Clone, Serialize)]
pub struct PatientPlan {
    pub plan: PlanVersion,
    pub current: Option<Colour>,
}

/// What answering a questionnaire gave.
#[derive(Debug, Clone, Serialize)]
pub struct Answered {
    pub id: Uuid,
    pub score: u32,
    pub colour: Colour,
}

/// A condition's name.
pub fn condition_text(c: Condition) -> Text {
    match c {
        Condition::Copd => Text::new("KOLS", "KOLS", "COPD"),
        Condition::HeartFailure => Text::new("Hjertesvikt", "Hjartesvikt", "Heart failure"),
        Condition::Diabetes => Text::new("Diabetes", "Diabetes", "Diabetes"),
        Condition::Hypertension => {
            Text::new("Høyt blodtrykk", "Høgt blodtrykk", "High blood pressure")
        }
        Condition::MentalHealth => Text::new("Psykisk helse", "Psykisk helse", "Mental health"),
    }
}

/// The stable code of a condition (as in forms and JSON).
pub fn condition_code(c: Condition) -> &'static str {
    match c {
        Condition::Copd => "copd",
        Condition::HeartFailure => "heart_failure",
        Condition::Diabetes => "diabetes",
        Condition::Hypertension => "hypertension",
        Condition::MentalHealth => "mental_health",
    }
}

pub fn colour_from_code(s: &str) -> Option<Colour> {
    COLOURS.into_iter().find(|c| colour_code(*c) == s)
}

fn internal(e: impl std::fmt::Display) -> AppError {
    AppError::Internal(e.to_string())
}

fn plan_of(r: &PlanRecord) -> Result<PlanVersion> {
    Ok(PlanVersion {
        id: r.id,
        version: u32::try_from(r.version).map_err(internal)?,
        conditions: serde_json::from_str(&r.conditions).map_err(internal)?,
        entries: serde_json::from_str(&r.entries).map_err(internal)?,
        created_by_label: r.created_by_label.clone(),
        created_at: r.created_at,
        approval: match (&r.approved_by_label, r.approved_at) {
            (Some(by), Some(at)) => Some(Approval { by: by.clone(), at }),
            _ => None,
        },
    })
}

/// The answers of a stored response.
pub fn answers_of(r: &ResponseRecord) -> Vec<(String, String)> {
    serde_json::from_str(&r.answers).unwrap_or_default()
}

/// The explanation stored with a response (bokmål; pages and the work list show it as written).
fn explain_response(q: &Questionnaire, t: &ResponseTriage) -> String {
    let mut s = format!(
        "Spørreskjema «{}»: {} av {} poeng ({}).",
        q.title.nb,
        t.score,
        q.max_score(),
        t.colour.name().nb
    );
    for f in &t.flagged {
        if let Some(item) = q.item(f.link_id)
            && let Some(o) = item.options.iter().find(|o| o.code == f.option)
        {
            s.push_str(&format!(
                " Svaret «{}» på «{}» gir {}.",
                o.text.nb,
                item.text.nb,
                f.colour.name().nb
            ));
        }
    }
    s
}

fn answer_error(e: q::AnswerError) -> AppError {
    let field = match &e {
        q::AnswerError::UnknownQuestion(l)
        | q::AnswerError::AnsweredTwice(l)
        | q::AnswerError::Unanswered(l) => l.clone(),
        q::AnswerError::UnknownOption { question, .. } => question.clone(),
    };
    AppError::invalid(&field, e.to_string())
}

impl App {
    // ---- self-care plans --------------------------------------------------------------

    /// Every version of the patient's plan, newest first.
    pub async fn followup_plans(&self, access: &PatientAccess) -> Result<Vec<PlanVersion>> {
        self.store()
            .followup_plans(access.patient_id())
            .await?
            .iter()
            .map(plan_of)
            .collect()
    }

    /// Keeps a new version of the plan (a draft until approved). It must say, for each of the
    /// patient's conditions, what to do and whom to contact at green, yellow and red.
    pub async fn save_followup_plan(
        &self,
        access: &PatientAccess,
        entries: Vec<PlanEntry>,
    ) -> Result<(Uuid, u32)> {
        if access.purpose() != Purpose::Change {
            return Err(AppError::Forbidden("this access is for reading only"));
        }
        let pid = access.patient_id();
        let enrolment = self.enrolment_of(pid).await?;
        let conditions = parse_conditions(&enrolment.conditions);
        let mut errors = Vec::new();
        let mut kept = Vec::new();
        for e in &entries {
            if !conditions.contains(&e.condition) {
                errors.push(crate::FieldError {
                    field: condition_code(e.condition).into(),
                    message: "the patient is not followed up for this condition".into(),
                });
            }
        }
        for c in &conditions {
            for colour in COLOURS {
                let field = format!("{}.{}", condition_code(*c), colour_code(colour));
                let mut found = entries
                    .iter()
                    .filter(|e| e.condition == *c && e.colour == colour);
                let Some(e) = found.next() else {
                    errors.push(crate::FieldError {
                        field: format!("{field}.what"),
                        message: "write what the patient does at this colour".into(),
                    });
                    continue;
                };
                if found.next().is_some() {
                    errors.push(crate::FieldError {
                        field: field.clone(),
                        message: "give one plan step per condition and colour".into(),
                    });
                }
                let entry = PlanEntry {
                    condition: *c,
                    colour,
                    what_to_do: e.what_to_do.trim().to_owned(),
                    medication: e.medication.trim().to_owned(),
                    contact: e.contact.trim().to_owned(),
                };
                for (name, text, required) in [
                    ("what", &entry.what_to_do, true),
                    ("medication", &entry.medication, false),
                    ("contact", &entry.contact, true),
                ] {
                    if required && text.is_empty() {
                        errors.push(crate::FieldError {
                            field: format!("{field}.{name}"),
                            message: if name == "what" {
                                "write what the patient does at this colour".into()
                            } else {
                                "write whom the patient contacts, and how".into()
                            },
                        });
                    }
                    if text.chars().count() > MAX_PLAN_TEXT {
                        errors.push(crate::FieldError {
                            field: format!("{field}.{name}"),
                            message: format!("write at most {MAX_PLAN_TEXT} characters"),
                        });
                    }
                }
                kept.push(entry);
            }
        }
        if !errors.is_empty() {
            return Err(AppError::Invalid(errors));
        }
        let p = access.principal();
        let plan = NewPlan {
            patient_id: pid,
            conditions: serde_json::to_string(&conditions).map_err(internal)?,
            entries: serde_json::to_string(&kept).map_err(internal)?,
            created_by: p.id,
            created_by_label: p.display_name.clone(),
        };
        let audit = access.audit(
            AuditAction::FollowupPlanChanged,
            "followup_plan".into(),
            format!("new self-care plan version, {} step(s)", kept.len()),
        );
        let (id, version) = self
            .store()
            .add_followup_plan(&plan, &audit, self.now())
            .await?;
        Ok((id, u32::try_from(version).map_err(internal)?))
    }

    /// Approves the newest version of the plan. Only a GP or other clinician on the patient's
    /// care team may (not through emergency access); an older version, superseded by a newer
    /// one, or one approved already, cannot be.
    pub async fn approve_followup_plan(&self, access: &PatientAccess, plan_id: Uuid) -> Result<()> {
        let p = access.principal();
        if !p.roles.contains(&Role::Clinician) {
            self.store()
                .append_audit(
                    &NewAuditEntry {
                        outcome: AuditOutcome::Denied,
                        detail: "plan approval needs the clinician (GP) role".into(),
                        ..access.audit(
                            AuditAction::FollowupPlanApproved,
                            "followup_plan".into(),
                            String::new(),
                        )
                    },
                    self.now(),
                )
                .await?;
            return Err(AppError::Forbidden(
                "only a GP or clinician on the care team may approve a self-care plan",
            ));
        }
        if access.is_emergency() {
            return Err(AppError::Forbidden(
                "a self-care plan cannot be approved through emergency access",
            ));
        }
        let Some(plan) = self.store().followup_plan(plan_id).await? else {
            return Err(AppError::NotFound("the plan version"));
        };
        if plan.patient_id != access.patient_id() {
            return Err(AppError::NotFound("the plan version"));
        }
        let audit = access.audit(
            AuditAction::FollowupPlanApproved,
            "followup_plan".into(),
            format!("self-care plan version {} approved", plan.version),
        );
        let done = self
            .store()
            .approve_followup_plan(
                plan_id,
                access.patient_id(),
                p.id,
                &p.display_name,
                &audit,
                self.now(),
            )
            .await?;
        if !done {
            return Err(AppError::Conflict(
                "this version is already approved, or a newer version has replaced it".into(),
            ));
        }
        Ok(())
    }

    /// The newest approved plan of the logged-in patient, with the colour of their latest
    /// values (the worst of the newest value of each measurement and questionnaire in the
    /// last 24 hours).
    pub async fn patient_plan(&self, me: &PatientSelf) -> Result<Option<PatientPlan>> {
        let pid = me.patient_id;
        let Some(record) = self.store().latest_approved_plan(pid).await? else {
            return Ok(None);
        };
        let now = self.now();
        let since = now - SignedDuration::from_hours(24);
        let mut latest: HashMap<String, Colour> = HashMap::new();
        for r in self
            .store()
            .followup_readings(pid, None, since, now + SignedDuration::from_hours(1))
            .await?
        {
            if let Some(c) = r.colour.as_deref().and_then(colour_from_code) {
                latest.insert(format!("m:{}", r.kind), c);
            }
        }
        for r in self
            .store()
            .followup_responses(pid, since, 200)
            .await?
            .iter()
            .rev()
        {
            if let Some(c) = colour_from_code(&r.colour) {
                latest.insert(format!("q:{}", r.questionnaire), c);
            }
        }
        Ok(Some(PatientPlan {
            plan: plan_of(&record)?,
            current: latest.values().copied().max(),
        }))
    }

    /// `GET /fhir/r4/CarePlan?patient=`: the newest approved plan, as an active CarePlan.
    pub async fn fhir_care_plans(&self, access: &PatientAccess) -> Result<Vec<fhir::CarePlan>> {
        let pid = access.patient_id();
        let Some(record) = self.store().latest_approved_plan(pid).await? else {
            return Ok(Vec::new());
        };
        let plan = plan_of(&record)?;
        Ok(vec![build::care_plan(
            &plan.self_care_plan(Lang::Nb),
            &plan.id.to_string(),
            &pid.to_string(),
            Lang::Nb,
        )])
    }

    /// `GET /fhir/r4/CarePlan/{id}`: one version (a draft has status `draft`).
    pub async fn fhir_care_plan(
        &self,
        principal: &StaffPrincipal,
        id: Uuid,
        ip: &str,
    ) -> Result<fhir::CarePlan> {
        let record = self
            .store()
            .followup_plan(id)
            .await?
            .ok_or(AppError::NotFound("the care plan"))?;
        let access = self
            .authorize_patient(principal, record.patient_id, Purpose::Read, ip)
            .await?;
        let plan = plan_of(&record)?;
        Ok(build::care_plan(
            &plan.self_care_plan(Lang::Nb),
            &plan.id.to_string(),
            &access.patient_id().to_string(),
            Lang::Nb,
        ))
    }

    // ---- questionnaire responses ------------------------------------------------------

    /// Scores, triages and stores one response of an enrolled patient, with the alert a red
    /// or yellow one raises and the audit entry, in one transaction. Bad answers store nothing.
    async fn record_response(
        &self,
        patient_id: Uuid,
        q: &'static Questionnaire,
        answers: &[(String, String)],
        authored: Timestamp,
        via: &str,
        audit: NewAuditEntry,
    ) -> Result<(Uuid, ResponseTriage)> {
        let enrolment = self.enrolment_of(patient_id).await?;
        let pairs: Vec<(&str, &str)> = answers
            .iter()
            .map(|(l, c)| (l.as_str(), c.as_str()))
            .collect();
        let scored = q.score(&pairs).map_err(answer_error)?;
        let conditions = parse_conditions(&enrolment.conditions);
        let rules = self.rules_of(patient_id, &conditions).await?;
        let t = triage_response(q, &scored, &rules);
        let explanation = explain_response(q, &t);
        let alert = ItemKind::from_colour(t.colour).map(|k| {
            match k {
                ItemKind::Red => "red",
                ItemKind::Yellow => "yellow",
                ItemKind::MissingReport => "missing_report",
            }
            .to_owned()
        });
        // Kept in the questionnaire's order, whatever order they came in.
        let ordered: Vec<(&str, &str)> = q
            .items
            .iter()
            .filter_map(|i| pairs.iter().find(|(l, _)| *l == i.link_id).copied())
            .collect();
        let row = NewResponse {
            patient_id,
            questionnaire: q.id.to_owned(),
            questionnaire_version: q.version.to_owned(),
            answers: serde_json::to_string(&ordered).map_err(internal)?,
            score: i64::from(t.score),
            colour: colour_code(t.colour).to_owned(),
            explanation,
            entered_via: via.to_owned(),
            authored_at: authored,
            alert,
        };
        let audit = NewAuditEntry {
            action: AuditAction::FollowupAnswerRecorded,
            object: "followup_response".into(),
            detail: format!(
                "{} v{} via {via}: score {}, {}",
                q.id,
                q.version,
                t.score,
                colour_code(t.colour)
            ),
            ..audit
        };
        let id = self
            .store()
            .store_followup_response(&row, &audit, self.now())
            .await?;
        Ok((id, t))
    }

    /// The logged-in patient answers a questionnaire in the app.
    pub async fn patient_answer_questionnaire(
        &self,
        me: &PatientSelf,
        questionnaire_id: &str,
        answers: &[(String, String)],
        ip: &str,
    ) -> Result<Answered> {
        let q = q::by_id(questionnaire_id).ok_or(AppError::NotFound("the questionnaire"))?;
        let audit = NewAuditEntry {
            actor_id: None,
            actor_label: "patient".into(),
            action: AuditAction::FollowupAnswerRecorded,
            outcome: AuditOutcome::Success,
            patient_id: Some(me.patient_id),
            object: String::new(),
            ip: ip.to_owned(),
            detail: String::new(),
            flagged: false,
        };
        let (id, t) = self
            .record_response(me.patient_id, q, answers, self.now(), "app", audit)
            .await?;
        Ok(Answered {
            id,
            score: t.score,
            colour: t.colour,
        })
    }

    /// A patient's responses of the last `days`, newest first (for the care team).
    pub async fn followup_responses(
        &self,
        access: &PatientAccess,
        days: i64,
    ) -> Result<Vec<ResponseRecord>> {
        Ok(self
            .store()
            .followup_responses(
                access.patient_id(),
                self.now() - SignedDuration::from_hours(24 * days),
                500,
            )
            .await?)
    }

    /// `POST /fhir/r4/QuestionnaireResponse` by a staff member on the care team: a completed
    /// response to one of our questionnaires, every question answered once with one of its
    /// options. Answers the stored response with its triage colour.
    pub async fn fhir_create_questionnaire_response(
        &self,
        principal: &StaffPrincipal,
        body: &[u8],
        ip: &str,
    ) -> Result<fhir::QuestionnaireResponse> {
        let qr: fhir::QuestionnaireResponse = serde_json::from_slice(body).map_err(|e| {
            AppError::Malformed(format!("not a valid FHIR QuestionnaireResponse: {e}"))
        })?;
        if qr.status != "completed" {
            return Err(AppError::invalid(
                "QuestionnaireResponse.status",
                format!("status {:?} is not accepted; send completed", qr.status),
            ));
        }
        let Some(q) = qr.our_questionnaire() else {
            return Err(AppError::invalid(
                "QuestionnaireResponse.questionnaire",
                "not a questionnaire Helsebro knows; see GET /fhir/r4/Questionnaire",
            ));
        };
        if let Some((_, version)) = qr.questionnaire.as_deref().and_then(|c| c.split_once('|'))
            && version != q.version
        {
            return Err(AppError::invalid(
                "QuestionnaireResponse.questionnaire",
                format!(
                    "version {version} is not known; the current is {}",
                    q.version
                ),
            ));
        }
        let patient_id = qr
            .subject
            .as_ref()
            .and_then(|s| s.id_of("Patient"))
            .and_then(|id| Uuid::parse_str(id).ok())
            .ok_or(AppError::invalid(
                "QuestionnaireResponse.subject",
                "subject must be a reference to Patient/<id>",
            ))?;
        let now = self.now();
        let authored = match qr.authored.as_deref() {
            None => now,
            Some(s) => s.parse::<Timestamp>().map_err(|_| {
                AppError::invalid(
                    "QuestionnaireResponse.authored",
                    "authored must be a full date and time with a time zone",
                )
            })?,
        };
        if authored > now + SignedDuration::from_mins(5) {
            return Err(AppError::invalid(
                "QuestionnaireResponse.authored",
                "authored is in the future",
            ));
        }
        let answers: Vec<(String, String)> = qr
            .answers()
            .into_iter()
            .map(|(l, c)| (l.to_owned(), c.to_owned()))
            .collect();
        if answers.len() != qr.item.len() {
            return Err(AppError::invalid(
                "QuestionnaireResponse.item.answer",
                "each item needs one answer with valueCoding",
            ));
        }
        let access = self
            .authorize_patient(principal, patient_id, Purpose::Change, ip)
            .await?;
        let audit = access.audit(
            AuditAction::FollowupAnswerRecorded,
            String::new(),
            String::new(),
        );
        let (id, t) = self
            .record_response(patient_id, q, &answers, authored, "staff", audit)
            .await?;
        let pairs: Vec<(&str, &str)> = answers
            .iter()
            .map(|(l, c)| (l.as_str(), c.as_str()))
            .collect();
        Ok(build::questionnaire_response(
            q,
            &pairs,
            &id.to_string(),
            &patient_id.to_string(),
            authored,
            Some(&t),
            Lang::Nb,
        ))
    }

    /// `GET /fhir/r4/QuestionnaireResponse?patient=`: the patient's responses, newest first.
    pub async fn fhir_questionnaire_responses(
        &self,
        access: &PatientAccess,
    ) -> Result<Vec<fhir::QuestionnaireResponse>> {
        Ok(self
            .store()
            .followup_responses(access.patient_id(), Timestamp::UNIX_EPOCH, 500)
            .await?
            .iter()
            .filter_map(fhir_response_of)
            .collect())
    }

    /// `GET /fhir/r4/QuestionnaireResponse/{id}`.
    pub async fn fhir_questionnaire_response(
        &self,
        principal: &StaffPrincipal,
        id: Uuid,
        ip: &str,
    ) -> Result<fhir::QuestionnaireResponse> {
        let r = self
            .store()
            .followup_response(id)
            .await?
            .ok_or(AppError::NotFound("the questionnaire response"))?;
        self.authorize_patient(principal, r.patient_id, Purpose::Read, ip)
            .await?;
        fhir_response_of(&r).ok_or(AppError::NotFound("the questionnaire response"))
    }
}

/// A stored response as FHIR, with the colour it was given when it came in.
fn fhir_response_of(r: &ResponseRecord) -> Option<fhir::QuestionnaireResponse> {
    let q = q::by_id(&r.questionnaire)?;
    let answers = answers_of(r);
    let pairs: Vec<(&str, &str)> = answers
        .iter()
        .map(|(l, c)| (l.as_str(), c.as_str()))
        .collect();
    let mut out = build::questionnaire_response(
        q,
        &pairs,
        &r.id.to_string(),
        &r.patient_id.to_string(),
        r.authored_at,
        None,
        Lang::Nb,
    );
    out.extension = vec![Extension {
        url: build::TRIAGE_COLOUR.into(),
        value_decimal: None,
        value_string: Some(colour_from_code(&r.colour)?.name().en.into()),
    }];
    Some(out)
}
