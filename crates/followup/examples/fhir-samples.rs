//! Prints a JSON array of sample FHIR resources as Helsebro produces them — every measurement kind
//! triaged, device error, blood pressure, every questionnaire in every language with a response,
//! a care plan, a flag, summary notes (DocumentReference), an OperationOutcome per kind of bad input, the CapabilityStatement and a
//! searchset Bundle — for `fhir-schema/validate.mjs` to check against the official R4 JSON schema.

use helsebro_followup::careplan::{Approval, PlanStep, SelfCarePlan};
use helsebro_followup::catalogue::{MeasurementKind, Metric, Observation, Source, Value};
use helsebro_followup::fhir::{Resource, build, input};
use helsebro_followup::triage::{Condition, PatientSettings, RuleSet};
use helsebro_followup::worklist::ItemKind;
use helsebro_followup::{Colour, Lang, notes, questionnaire, triage, triage_response};
use jiff::Timestamp;
use serde_json::{Value as Json, json};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let at: Timestamp = "2026-03-10T07:00:00Z".parse()?;
    let rules = RuleSet::for_patient(&Condition::ALL, &PatientSettings::default());
    let mut out: Vec<Json> = Vec::new();
    for (i, kind) in MeasurementKind::ALL.into_iter().enumerate() {
        let value = match kind {
            MeasurementKind::BloodPressure => Value::BloodPressure {
                systolic: 182.0,
                diastolic: 96.0,
            },
            k => Value::Single(
                (k.metrics()[0].plausible().min + k.metrics()[0].plausible().max) / 2.0,
            ),
        };
        for device_error in [false, true] {
            let obs = Observation {
                kind,
                at,
                value,
                device_error,
                source: Source::Device(format!("dev-{i}")),
            };
            let outcome = triage(&obs, &[], &rules);
            out.push(serde_json::to_value(build::observation(
                &obs,
                &format!("obs-{i}-{device_error}"),
                "pat-1",
                Some(&outcome),
                Lang::Nb,
            ))?);
        }
    }
    for q in questionnaire::ALL {
        for lang in [Lang::Nb, Lang::Nn, Lang::En] {
            out.push(serde_json::to_value(build::questionnaire(q, lang))?);
        }
        let answers: Vec<(&str, &str)> = q
            .items
            .iter()
            .map(|i| (i.link_id, i.options[1].code))
            .collect();
        let scored = q.score(&answers)?;
        let t = triage_response(q, &scored, &rules);
        out.push(serde_json::to_value(build::questionnaire_response(
            q,
            &answers,
            "qr-1",
            "pat-1",
            at,
            Some(&t),
            Lang::Nb,
        ))?);
    }
    let plan = SelfCarePlan {
        version: 1,
        conditions: vec![Condition::HeartFailure],
        steps: [Colour::Green, Colour::Yellow, Colour::Red]
            .into_iter()
            .map(|colour| PlanStep {
                colour,
                what_to_do: "Gjør som avtalt.".into(),
                contact: "Oppfølgingssenteret".into(),
            })
            .collect(),
        valid_from: at,
        approved: Some(Approval {
            by: "Fastlege".into(),
            at,
        }),
    };
    out.push(serde_json::to_value(build::care_plan(
        &plan,
        "cp-1",
        "pat-1",
        Lang::Nb,
    ))?);
    let flag = build::flag("flag-1", "pat-1", ItemKind::Red, at, "Rødt varsel");
    out.push(serde_json::to_value(&flag)?);
    out.push(serde_json::to_value(build::capability_statement(
        "https://helsebro.example/fhir/r4",
        "0.1.0",
        at,
    ))?);
    for bad in [
        json!({"resourceType": "Observation"}),
        json!({"resourceType": "Observation", "status": "final", "code": {"coding": [{"system": "http://loinc.org", "code": "1-1"}]}}),
    ] {
        if let Err(e) = input::read_observation(&serde_json::to_vec(&bad)?, at) {
            out.push(serde_json::to_value(e.to_operation_outcome())?);
        }
    }
    // Summary notes (HF-10): one per alert and one per period.
    let subject = notes::NoteSubject {
        name: "Kari Nordmann".into(),
        national_id: "15834100123".into(),
    };
    let alert = notes::AlertFacts {
        kind: ItemKind::Red,
        raised_at: at,
        explanation: "Oksygenmetning 86 %, grense: under 88 % → rød".into(),
        escalated_at: None,
        acknowledged: Some(("Ola Haugen".into(), at)),
        action: Some(("called".into(), "Ringte pasienten.".into(), at)),
    };
    let alert_note = build::document_reference(&build::NoteDocument {
        id: "note-alert-1",
        patient_id: "pat-1",
        title: "Oppsummering av varsel",
        text: &notes::alert_note(&subject, &alert, Lang::Nb),
        lang: Lang::Nb,
        created: at,
        author: "Ola Haugen",
        period: None,
    });
    out.push(serde_json::to_value(&alert_note)?);
    let period = notes::PeriodFacts {
        from: jiff::civil::date(2026, 3, 1),
        to: jiff::civil::date(2026, 3, 31),
        conditions: vec!["KOLS".into()],
        metrics: notes::MetricSummary::of(Metric::OxygenSaturation, &[95.0, 86.0])
            .into_iter()
            .collect(),
        alerts: vec![alert],
        pauses: vec![],
        measure_again: 0,
    };
    out.push(serde_json::to_value(build::document_reference(
        &build::NoteDocument {
            id: "note-period-1",
            patient_id: "pat-1",
            title: "Oppsummering for mars 2026",
            text: &notes::period_note(&subject, &period, Lang::En),
            lang: Lang::En,
            created: at,
            author: "Ola Haugen",
            period: Some((at, at)),
        },
    ))?);
    let obs = Observation::manual(MeasurementKind::Pulse, at, 64.0);
    out.push(serde_json::to_value(build::searchset(
        "https://helsebro.example/fhir/r4",
        "https://helsebro.example/fhir/r4/Flag?patient=pat-1",
        vec![
            Resource::Flag(Box::new(flag)),
            Resource::DocumentReference(Box::new(alert_note)),
            Resource::Observation(Box::new(build::observation(
                &obs,
                "o-9",
                "pat-1",
                None,
                Lang::En,
            ))),
        ],
    ))?);
    println!("{}", serde_json::to_string_pretty(&out)?);
    Ok(())
}
