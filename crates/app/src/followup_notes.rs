//! Summary notes for the patient's record (HF-10): one per alert and one per period, as text
//! and as a FHIR DocumentReference. The texts are written by `helsebro_followup::notes`; this
//! module gathers what they say, for the care team only, and logs each note made.

use crate::App;
use crate::access::PatientAccess;
use crate::error::{AppError, Result};
use crate::followup::{item_kind, kind_from_code, observation_of, parse_conditions};
use helsebro_domain::AuditAction;
use helsebro_followup::fhir::DocumentReference;
use helsebro_followup::fhir::build::{self, NoteDocument};
use helsebro_followup::notes::{self, AlertFacts, MetricSummary, NoteSubject, PeriodFacts};
use helsebro_followup::time::{at_local, local_date};
use helsebro_followup::worklist::ItemKind;
use helsebro_followup::{Lang, Metric};
use helsebro_store::Alert;
use jiff::Timestamp;
use jiff::civil::{Date, Time};
use uuid::Uuid;

/// The longest period one note may cover.
pub const MAX_NOTE_DAYS: i64 = 366;

/// A summary note: its title, its text and the same as FHIR.
#[derive(Debug, Clone)]
pub struct SummaryNote {
    pub title: String,
    pub text: String,
    pub document: DocumentReference,
}

fn facts_of(a: &Alert) -> Option<AlertFacts> {
    Some(AlertFacts {
        kind: item_kind(&a.kind)?,
        raised_at: a.raised_at,
        explanation: a.explanation.clone(),
        escalated_at: a.escalated_at,
        acknowledged: a
            .acknowledged_at
            .map(|at| (a.acknowledged_by_label.clone().unwrap_or_default(), at)),
        action: a
            .action
            .clone()
            .zip(a.acted_at)
            .map(|(code, at)| (code, a.note.clone(), at)),
    })
}

fn alert_title(kind: ItemKind, raised_at: Timestamp, lang: Lang) -> String {
    let what = match (kind, lang) {
        (ItemKind::Red, Lang::En) => "Red alert",
        (ItemKind::Yellow, Lang::En) => "Yellow alert",
        (ItemKind::MissingReport, Lang::En) => "Missing report",
        (ItemKind::Red, Lang::Nn) => "Raudt varsel",
        (ItemKind::Red, Lang::Nb) => "Rødt varsel",
        (ItemKind::Yellow, _) => "Gult varsel",
        (ItemKind::MissingReport, Lang::Nn) => "Manglande rapport",
        (ItemKind::MissingReport, Lang::Nb) => "Manglende rapport",
    };
    let day = local_date(raised_at).strftime("%d.%m.%Y");
    format!("{what} {day}")
}

fn period_title(from: Date, to: Date, lang: Lang) -> String {
    let what = match lang {
        Lang::Nb => "Hjemmeoppfølging",
        Lang::Nn => "Heimeoppfølging",
        Lang::En => "Home follow-up",
    };
    format!(
        "{what} {}–{}",
        from.strftime("%d.%m.%Y"),
        to.strftime("%d.%m.%Y")
    )
}

impl App {
    async fn note_subject(&self, patient_id: Uuid) -> Result<NoteSubject> {
        let p = self
            .store()
            .patient(patient_id)
            .await?
            .ok_or(AppError::NotFound("the patient"))?;
        Ok(NoteSubject {
            name: p.name,
            national_id: p.national_id,
        })
    }

    /// Logs that a note was made (it leaves Helsebro for the record).
    async fn log_note(&self, access: &PatientAccess, object: String, title: &str) -> Result<()> {
        let entry = access.audit(AuditAction::FollowupNoteWritten, object, title.to_owned());
        self.store().append_audit(&entry, self.now()).await?;
        Ok(())
    }

    fn note_document(
        &self,
        access: &PatientAccess,
        id: &str,
        title: &str,
        text: &str,
        lang: Lang,
        period: Option<(Timestamp, Timestamp)>,
    ) -> DocumentReference {
        build::document_reference(&NoteDocument {
            id,
            patient_id: &access.patient_id().to_string(),
            title,
            text,
            lang,
            created: self.now(),
            author: &access.principal().display_name,
            period,
        })
    }

    /// The note for one of the patient's alerts.
    pub async fn followup_alert_note(
        &self,
        access: &PatientAccess,
        alert_id: Uuid,
        lang: Lang,
    ) -> Result<SummaryNote> {
        let alert = match self.store().followup_alert(alert_id).await? {
            Some(a) if a.patient_id == access.patient_id() => a,
            _ => return Err(AppError::NotFound("the alert")),
        };
        let facts = facts_of(&alert).ok_or(AppError::NotFound("the alert"))?;
        let subject = self.note_subject(access.patient_id()).await?;
        let title = alert_title(facts.kind, facts.raised_at, lang);
        let text = notes::alert_note(&subject, &facts, lang);
        self.log_note(access, format!("followup_alert:{alert_id}"), &title)
            .await?;
        let document = self.note_document(
            access,
            &format!("alert-{alert_id}"),
            &title,
            &text,
            lang,
            None,
        );
        Ok(SummaryNote {
            title,
            text,
            document,
        })
    }

    /// The note for the local dates `from` to `to`, both included.
    pub async fn followup_period_note(
        &self,
        access: &PatientAccess,
        from: Date,
        to: Date,
        lang: Lang,
    ) -> Result<SummaryNote> {
        if to < from {
            return Err(AppError::invalid("to", "the period ends before it starts"));
        }
        if (to - from).get_days() as i64 >= MAX_NOTE_DAYS {
            return Err(AppError::invalid(
                "to",
                "a note covers at most one year; make one per year",
            ));
        }
        let today = local_date(self.now());
        if from > today {
            return Err(AppError::invalid("from", "the period has not started yet"));
        }
        let pid = access.patient_id();
        let start = at_local(from, Time::midnight());
        let end = at_local(to.tomorrow().unwrap_or(to), Time::midnight());
        let store = self.store();
        let enrolment = store.followup_enrolment(pid).await?;
        let conditions = enrolment
            .map(|e| parse_conditions(&e.conditions))
            .unwrap_or_default()
            .into_iter()
            .map(|c| c.name().get(lang).to_owned())
            .collect();
        let readings = store.followup_readings(pid, None, start, end).await?;
        let measure_again = readings.iter().filter(|r| r.colour.is_none()).count();
        let mut metrics = Vec::new();
        for metric in Metric::ALL {
            let values: Vec<f64> = readings
                .iter()
                .filter(|r| r.colour.is_some())
                .filter(|r| kind_from_code(&r.kind).is_some())
                .filter_map(observation_of)
                .filter_map(|o| o.value_of(metric))
                .collect();
            if let Some(m) = MetricSummary::of(metric, &values) {
                metrics.push(m);
            }
        }
        let mut alerts: Vec<AlertFacts> = store
            .followup_alerts(pid, 5000)
            .await?
            .iter()
            .filter(|a| a.raised_at >= start && a.raised_at < end)
            .filter_map(facts_of)
            .collect();
        alerts.sort_by_key(|a| a.raised_at);
        let pauses = store
            .followup_pauses(pid)
            .await?
            .into_iter()
            .filter(|p| p.from_at < end && p.until_at.is_none_or(|u| u > start))
            .map(|p| (p.from_at, p.until_at, p.reason))
            .collect();
        let facts = PeriodFacts {
            from,
            to,
            conditions,
            metrics,
            alerts,
            pauses,
            measure_again,
        };
        let subject = self.note_subject(pid).await?;
        let title = period_title(from, to, lang);
        let text = notes::period_note(&subject, &facts, lang);
        self.log_note(access, format!("followup_period:{from}..{to}"), &title)
            .await?;
        let document = self.note_document(
            access,
            &format!("period-{from}-{to}"),
            &title,
            &text,
            lang,
            Some((start, end)),
        );
        Ok(SummaryNote {
            title,
            text,
            document,
        })
    }

    /// `GET /fhir/r4/DocumentReference?patient=`: a note for each alert that has been
    /// documented (acted on), newest first.
    pub async fn fhir_document_references(
        &self,
        access: &PatientAccess,
    ) -> Result<Vec<DocumentReference>> {
        let subject = self.note_subject(access.patient_id()).await?;
        let mut out = Vec::new();
        for a in self
            .store()
            .followup_alerts(access.patient_id(), 200)
            .await?
        {
            if a.action.is_none() {
                continue;
            }
            let Some(facts) = facts_of(&a) else {
                continue;
            };
            let title = alert_title(facts.kind, facts.raised_at, Lang::Nb);
            let text = notes::alert_note(&subject, &facts, Lang::Nb);
            out.push(self.note_document(
                access,
                &format!("alert-{}", a.id),
                &title,
                &text,
                Lang::Nb,
                None,
            ));
        }
        self.log_note(
            access,
            "followup_document_references".into(),
            &format!("{} alert note(s) as FHIR", out.len()),
        )
        .await?;
        Ok(out)
    }
}
