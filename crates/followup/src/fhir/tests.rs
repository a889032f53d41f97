//! Our FHIR output checked against R4's rules, and incoming Observations checked by table.

use jiff::Timestamp;
use serde_json::{Value as Json, json};

use super::build::*;
use super::input::*;
use super::*;
use crate::careplan::{Approval, PlanStep, SelfCarePlan};
use crate::catalogue::{self, MeasurementKind as K, Source, UCUM, Value};
use crate::colour::Colour;
use crate::questionnaire as q;
use crate::text::Lang;
use crate::triage::{Condition, PatientSettings, RuleSet, triage, triage_response};
use crate::worklist::ItemKind;

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

const NOW: &str = "2026-03-10T09:00:00Z";

/// R4 JSON rules that hold for every resource: no nulls, no empty strings, arrays or objects;
/// code systems are absolute URIs; references are `Type/id`; times parse as instants; ids are
/// valid ids.
fn check_r4_json(v: &Json, path: &str) {
    match v {
        Json::Null => panic!("null at {path}"),
        Json::String(s) => assert!(!s.is_empty(), "empty string at {path}"),
        Json::Array(a) => {
            assert!(!a.is_empty(), "empty array at {path}");
            for (i, x) in a.iter().enumerate() {
                check_r4_json(x, &format!("{path}[{i}]"));
            }
        }
        Json::Object(o) => {
            assert!(!o.is_empty(), "empty object at {path}");
            for (k, x) in o {
                let p = format!("{path}.{k}");
                match (k.as_str(), x) {
                    ("system" | "url", Json::String(s)) => {
                        assert!(
                            s.starts_with("http://")
                                || s.starts_with("https://")
                                || s.starts_with("urn:"),
                            "{p}: {s}"
                        )
                    }
                    ("reference", Json::String(s)) => {
                        let (t, id) = s.split_once('/').unwrap_or_else(|| panic!("{p}: {s}"));
                        assert!(
                            t.chars().next().is_some_and(|c| c.is_ascii_uppercase())
                                && t.chars().all(|c| c.is_ascii_alphabetic()),
                            "{p}: {s}"
                        );
                        assert!(is_valid_id(id), "{p}: {s}");
                    }
                    ("id", Json::String(s)) => assert!(is_valid_id(s), "{p}: {s}"),
                    (
                        "effectiveDateTime" | "issued" | "authored" | "date" | "start" | "end"
                        | "created" | "lastUpdated",
                        Json::String(s),
                    ) => {
                        s.parse::<Timestamp>()
                            .unwrap_or_else(|e| panic!("{p}: {s}: {e}"));
                    }
                    ("coding", Json::Array(cs)) => {
                        for c in cs {
                            assert!(
                                c.get("system").is_some() && c.get("code").is_some(),
                                "{p}: coding without system or code"
                            );
                        }
                    }
                    ("valueQuantity", q) => {
                        assert!(q["value"].is_number(), "{p}");
                        assert_eq!(q["system"], UCUM, "{p}");
                        assert!(q["code"].is_string() && q["unit"].is_string(), "{p}");
                    }
                    _ => {}
                }
                check_r4_json(x, &p);
            }
        }
        _ => {}
    }
}

fn to_json<T: serde::Serialize>(r: &T) -> Json {
    let v = serde_json::to_value(r).unwrap();
    check_r4_json(&v, "$");
    v
}

fn sample_value(kind: K) -> Value {
    match kind {
        K::BloodPressure => Value::BloodPressure {
            systolic: 172.0,
            diastolic: 95.0,
        },
        K::OxygenSaturation => Value::Single(87.0),
        K::Pulse => Value::Single(72.0),
        K::BodyWeight => Value::Single(81.4),
        K::BodyTemperature => Value::Single(38.4),
        K::BloodGlucose => Value::Single(6.2),
        K::PeakExpiratoryFlow => Value::Single(380.0),
        K::Steps => Value::Single(4200.0),
    }
}

fn all_conditions() -> RuleSet {
    RuleSet::for_patient(&Condition::ALL, &PatientSettings::default())
}

/// What the R4 vital-signs profiles fix: the code each must carry and the units each allows.
fn profile_requirements(kind: K) -> Option<(&'static str, &'static [&'static str])> {
    Some(match kind {
        K::OxygenSaturation => ("2708-6", &["%"]),
        K::Pulse => ("8867-4", &["/min"]),
        K::BloodPressure => ("85354-9", &["mm[Hg]"]),
        K::BodyWeight => ("29463-7", &["kg", "g", "[lb_av]"]),
        K::BodyTemperature => ("8310-5", &["Cel", "[degF]"]),
        _ => return None,
    })
}

#[test]
fn observations_follow_r4_and_the_vital_signs_profile() {
    let rules = all_conditions();
    for kind in K::ALL {
        let obs = catalogue::Observation {
            kind,
            at: ts("2026-03-10T07:00:00Z"),
            value: sample_value(kind),
            device_error: false,
            source: Source::Device("cuff-17".into()),
        };
        let outcome = triage(&obs, &[], &rules);
        let resource = observation(
            &obs,
            "0196f3a0-aaaa-7000-8000-000000000001",
            "p-1",
            Some(&outcome),
            Lang::Nb,
        );
        // resourceType comes first.
        assert!(
            serde_json::to_string(&resource)
                .unwrap()
                .starts_with(r#"{"resourceType":"Observation","#)
        );
        let v = to_json(&resource);
        let name = format!("{kind:?}");
        assert_eq!(v["status"], "final");
        assert_eq!(v["subject"]["reference"], "Patient/p-1");
        assert_eq!(v["effectiveDateTime"], "2026-03-10T07:00:00Z");
        assert_eq!(v["code"]["coding"][0]["system"], "http://loinc.org");
        assert_eq!(v["code"]["coding"][0]["code"], kind.loinc().code);
        assert_eq!(
            v["category"][0]["coding"][0]["system"],
            OBSERVATION_CATEGORY
        );
        assert_eq!(v["device"]["identifier"]["value"], "cuff-17");
        assert_eq!(v["method"]["coding"][0]["code"], "device");
        let interp = &v["interpretation"][0]["coding"][0];
        assert_eq!(
            interp["system"],
            crate::colour::INTERPRETATION_SYSTEM,
            "{name}"
        );
        assert!(["N", "A", "AA", "H", "L", "HH", "LL"].contains(&interp["code"].as_str().unwrap()));
        match profile_requirements(kind) {
            Some((code, units)) => {
                // vitalsigns: category vital-signs, the fixed code, profile claimed, a UCUM unit the
                // profile allows, and for blood pressure no value but both components.
                assert_eq!(
                    v["category"][0]["coding"][0]["code"], "vital-signs",
                    "{name}"
                );
                let codes: Vec<&str> = v["code"]["coding"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|c| c["code"].as_str().unwrap())
                    .collect();
                assert!(codes.contains(&code), "{name}");
                let profiles = v["meta"]["profile"].as_array().unwrap();
                assert!(profiles.contains(&json!(VITAL_SIGNS_PROFILE)), "{name}");
                if kind == K::BloodPressure {
                    assert!(v.get("valueQuantity").is_none());
                    let comps = v["component"].as_array().unwrap();
                    assert_eq!(comps.len(), 2);
                    assert_eq!(comps[0]["code"]["coding"][0]["code"], "8480-6");
                    assert_eq!(comps[1]["code"]["coding"][0]["code"], "8462-4");
                    for c in comps {
                        assert!(units.contains(&c["valueQuantity"]["code"].as_str().unwrap()));
                    }
                } else {
                    assert!(
                        units.contains(&v["valueQuantity"]["code"].as_str().unwrap()),
                        "{name}"
                    );
                }
            }
            None => {
                assert_ne!(
                    v["category"][0]["coding"][0]["code"], "vital-signs",
                    "{name}"
                );
                assert!(v.get("meta").is_none(), "{name}");
            }
        }
    }
}

#[test]
fn interpretation_and_notes_carry_the_triage() {
    let rules = all_conditions();
    // 87 % with COPD and heart-failure rules: red, low.
    let obs = catalogue::Observation::manual(K::OxygenSaturation, ts("2026-03-10T07:00:00Z"), 87.0);
    let outcome = triage(&obs, &[], &rules);
    let v = to_json(&observation(&obs, "o1", "p1", Some(&outcome), Lang::Nb));
    assert_eq!(v["interpretation"][0]["coding"][0]["code"], "LL");
    assert_eq!(v["method"]["coding"][0]["code"], "manual");
    assert!(v.get("device").is_none());
    assert!(
        v["note"][0]["text"]
            .as_str()
            .unwrap()
            .starts_with("[spo2.below.red]")
    );
    // Blood pressure 172/95 with hypertension: systolic H (yellow), diastolic N.
    let bp = catalogue::Observation::blood_pressure(ts("2026-03-10T07:00:00Z"), 172.0, 95.0);
    let outcome = triage(&bp, &[], &rules);
    let v = to_json(&observation(&bp, "o2", "p1", Some(&outcome), Lang::En));
    assert_eq!(v["interpretation"][0]["coding"][0]["code"], "H");
    assert_eq!(
        v["component"][0]["interpretation"][0]["coding"][0]["code"],
        "H"
    );
    assert_eq!(
        v["component"][1]["interpretation"][0]["coding"][0]["code"],
        "N"
    );
    // A device error: dataAbsentReason, no value, no interpretation.
    let mut err = catalogue::Observation::manual(K::Pulse, ts("2026-03-10T07:00:00Z"), 0.0);
    err.device_error = true;
    let outcome = triage(&err, &[], &rules);
    let v = to_json(&observation(&err, "o3", "p1", Some(&outcome), Lang::Nb));
    assert_eq!(v["dataAbsentReason"]["coding"][0]["code"], "error");
    assert_eq!(
        v["dataAbsentReason"]["coding"][0]["system"],
        DATA_ABSENT_REASON
    );
    assert!(v.get("valueQuantity").is_none() && v.get("interpretation").is_none());
}

#[test]
fn what_we_send_we_accept_unchanged() {
    for kind in K::ALL {
        for source in [Source::Manual, Source::Device("oxi-9".into())] {
            let obs = catalogue::Observation {
                kind,
                at: ts("2026-03-10T07:00:00Z"),
                value: sample_value(kind),
                device_error: false,
                source,
            };
            let json =
                serde_json::to_vec(&observation(&obs, "x", "pat-7", None, Lang::Nb)).unwrap();
            let back = read_observation(&json, ts(NOW)).unwrap();
            assert_eq!(back.observation, obs, "{kind:?}");
            assert_eq!(back.patient_id, "pat-7");
            assert_eq!(
                back.key,
                IdempotencyKey::new("pat-7", &obs.source, kind, obs.at)
            );
        }
    }
}

fn incoming(patch: impl FnOnce(&mut Json)) -> Result<Incoming, InputError> {
    let mut v = json!({
        "resourceType": "Observation",
        "status": "final",
        "category": [{"coding": [{"system": OBSERVATION_CATEGORY, "code": "vital-signs"}]}],
        "code": {"coding": [{"system": "http://loinc.org", "code": "29463-7", "display": "Body weight"}]},
        "subject": {"reference": "Patient/pat-1"},
        "effectiveDateTime": "2026-03-10T08:30:00+01:00",
        "valueQuantity": {"value": 81.2, "unit": "kg", "system": UCUM, "code": "kg"},
        "device": {"identifier": {"system": DEVICE_ID, "value": "scale-3"}}
    });
    patch(&mut v);
    read_observation(&serde_json::to_vec(&v).unwrap(), ts(NOW))
}

#[test]
fn incoming_observations_table() {
    // Accepted, with conversions and sources.
    let ok = incoming(|_| {}).unwrap();
    assert_eq!(ok.observation.value, Value::Single(81.2));
    assert_eq!(ok.observation.at, ts("2026-03-10T07:30:00Z"));
    assert_eq!(ok.observation.source, Source::Device("scale-3".into()));
    let lb = incoming(|v| {
        v["valueQuantity"] =
            json!({"value": 180.0, "unit": "lb", "system": UCUM, "code": "[lb_av]"})
    })
    .unwrap();
    assert!(matches!(lb.observation.value, Value::Single(w) if (w - 81.646).abs() < 0.01));
    let manual = incoming(|v| {
        v.as_object_mut().unwrap().remove("device");
    })
    .unwrap();
    assert_eq!(manual.observation.source, Source::Manual);
    let failed = incoming(|v| {
        v.as_object_mut().unwrap().remove("valueQuantity");
        v["dataAbsentReason"] =
            json!({"coding": [{"system": DATA_ABSENT_REASON, "code": "error"}]});
    })
    .unwrap();
    assert!(failed.observation.device_error);
    assert_eq!(
        crate::triage(&failed.observation, &[], &all_conditions()).colour(),
        None,
        "a device error asks to measure again"
    );
    let slightly_ahead = incoming(|v| v["effectiveDateTime"] = json!("2026-03-10T09:04:00Z"));
    assert!(
        slightly_ahead.is_ok(),
        "a few minutes of clock drift are allowed"
    );

    // Refused: (what, status, issue code, expression).
    type Patch = Box<dyn FnOnce(&mut Json)>;
    let table: Vec<(&str, Patch, u16, &str, Option<&str>)> = vec![
        (
            "wrong unit",
            Box::new(|v| v["valueQuantity"]["code"] = json!("mg")),
            422,
            "value",
            Some("Observation.valueQuantity"),
        ),
        (
            "no unit system",
            Box::new(|v| v["valueQuantity"]["system"] = json!("http://example.org/units")),
            422,
            "value",
            Some("Observation.valueQuantity"),
        ),
        (
            "impossible value",
            Box::new(|v| v["valueQuantity"]["value"] = json!(812.0)),
            422,
            "value",
            Some("Observation.value"),
        ),
        (
            "future time",
            Box::new(|v| v["effectiveDateTime"] = json!("2026-03-11T08:00:00+01:00")),
            422,
            "business-rule",
            Some("Observation.effective"),
        ),
        (
            "date only",
            Box::new(|v| v["effectiveDateTime"] = json!("2026-03-10")),
            422,
            "value",
            Some("Observation.effective"),
        ),
        (
            "no time",
            Box::new(|v| {
                v.as_object_mut().unwrap().remove("effectiveDateTime");
            }),
            422,
            "required",
            Some("Observation.effective"),
        ),
        (
            "unknown code",
            Box::new(|v| v["code"]["coding"][0]["code"] = json!("1234-5")),
            422,
            "code-invalid",
            Some("Observation.code"),
        ),
        (
            "code not LOINC",
            Box::new(|v| v["code"]["coding"][0]["system"] = json!("http://snomed.info/sct")),
            422,
            "code-invalid",
            Some("Observation.code"),
        ),
        (
            "subject not a patient",
            Box::new(|v| v["subject"]["reference"] = json!("Group/1")),
            422,
            "value",
            Some("Observation.subject"),
        ),
        (
            "no subject",
            Box::new(|v| {
                v.as_object_mut().unwrap().remove("subject");
            }),
            422,
            "value",
            Some("Observation.subject"),
        ),
        (
            "no value",
            Box::new(|v| {
                v.as_object_mut().unwrap().remove("valueQuantity");
            }),
            422,
            "required",
            Some("Observation.valueQuantity"),
        ),
        (
            "preliminary",
            Box::new(|v| v["status"] = json!("preliminary")),
            422,
            "value",
            Some("Observation.status"),
        ),
        (
            "not an observation",
            Box::new(|v| v["resourceType"] = json!("Patient")),
            400,
            "structure",
            None,
        ),
        (
            "value is text",
            Box::new(|v| v["valueQuantity"]["value"] = json!("81")),
            400,
            "structure",
            None,
        ),
    ];
    for (what, patch, status, code, expression) in table {
        let err = incoming(patch).expect_err(what);
        assert_eq!(
            (err.http_status(), err.issue_code(), err.expression()),
            (status, code, expression),
            "{what}: {err}"
        );
        let oo = to_json(&err.to_operation_outcome());
        assert_eq!(oo["resourceType"], "OperationOutcome");
        assert_eq!(oo["issue"][0]["severity"], "error");
        assert_eq!(oo["issue"][0]["code"], code);
        assert!(!oo["issue"][0]["diagnostics"].as_str().unwrap().is_empty());
    }
    // Blood pressure with its components; swapped is refused.
    let bp = |s: f64, d: f64| {
        incoming(move |v| {
            v.as_object_mut().unwrap().remove("valueQuantity");
            v["code"] = json!({"coding": [{"system": "http://loinc.org", "code": "85354-9"}]});
            v["component"] = json!([
                {"code": {"coding": [{"system": "http://loinc.org", "code": "8480-6"}]}, "valueQuantity": {"value": s, "unit": "mmHg", "system": UCUM, "code": "mm[Hg]"}},
                {"code": {"coding": [{"system": "http://loinc.org", "code": "8462-4"}]}, "valueQuantity": {"value": d, "unit": "mmHg", "system": UCUM, "code": "mm[Hg]"}}
            ]);
        })
    };
    assert_eq!(
        bp(130.0, 85.0).unwrap().observation.value,
        Value::BloodPressure {
            systolic: 130.0,
            diastolic: 85.0
        }
    );
    assert!(matches!(
        bp(85.0, 130.0),
        Err(InputError::SystolicNotAboveDiastolic { .. })
    ));
}

#[test]
fn same_reading_twice_has_one_key() {
    let a = incoming(|_| {}).unwrap();
    let b = incoming(|v| v["effectiveDateTime"] = json!("2026-03-10T07:30:00Z")).unwrap();
    assert_eq!(a.key, b.key, "the same instant written in another zone");
    let later = incoming(|v| v["effectiveDateTime"] = json!("2026-03-10T07:31:00Z")).unwrap();
    assert_ne!(a.key, later.key);
    let other_device = incoming(|v| v["device"]["identifier"]["value"] = json!("scale-4")).unwrap();
    assert_ne!(a.key, other_device.key);
    let pulse = IdempotencyKey::new(
        "pat-1",
        &Source::Device("scale-3".into()),
        K::Pulse,
        a.observation.at,
    );
    assert_ne!(
        a.key, pulse,
        "a cuff's pulse and pressure at the same time are two readings"
    );
    assert_eq!(a.key.0, "obs:pat-1:device=scale-3:29463-7:1773127800000");
}

#[test]
fn questionnaires_and_responses() {
    let rules = all_conditions();
    for qn in q::ALL {
        for lang in [Lang::Nb, Lang::Nn, Lang::En] {
            let v = to_json(&questionnaire(qn, lang));
            assert_eq!(v["resourceType"], "Questionnaire");
            assert_eq!(v["status"], "active");
            assert_eq!(v["language"], lang.tag());
            let name = v["name"].as_str().unwrap();
            assert!(
                name.chars().next().unwrap().is_ascii_uppercase()
                    && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
                "{name}"
            );
            for item in v["item"].as_array().unwrap() {
                assert_eq!(item["type"], "choice");
                for o in item["answerOption"].as_array().unwrap() {
                    assert_eq!(o["extension"][0]["url"], ORDINAL_VALUE);
                    assert!(o["extension"][0]["valueDecimal"].is_number());
                }
            }
        }
        // A response with the worst answer to each question.
        let answers: Vec<(&str, &str)> = qn
            .items
            .iter()
            .map(|i| (i.link_id, i.options.last().unwrap().code))
            .collect();
        let scored = qn.score(&answers).unwrap();
        let t = triage_response(qn, &scored, &rules);
        assert_eq!(t.colour, Colour::Red);
        let r = questionnaire_response(qn, &answers, "qr1", "p1", ts(NOW), Some(&t), Lang::Nb);
        let v = to_json(&r);
        assert_eq!(v["status"], "completed");
        assert_eq!(
            v["questionnaire"],
            format!("{}|{}", questionnaire_url(qn), qn.version)
        );
        assert_eq!(v["extension"][0]["valueString"], "red");
        // Read back and score again.
        let back: QuestionnaireResponse = serde_json::from_value(v).unwrap();
        assert_eq!(back.our_questionnaire().map(|q| q.id), Some(qn.id));
        assert_eq!(qn.score(&back.answers()).unwrap(), scored);
    }
}

#[test]
fn care_plan_flag_capability_and_bundle() {
    let plan = SelfCarePlan {
        version: 2,
        conditions: vec![Condition::Copd],
        steps: vec![
            PlanStep {
                colour: Colour::Green,
                what_to_do: "Fortsett som vanlig.".into(),
                contact: "Ingen".into(),
            },
            PlanStep {
                colour: Colour::Yellow,
                what_to_do: "Ta anfallsmedisin.".into(),
                contact: "Oppfølgingssenteret 12 34 56 78".into(),
            },
            PlanStep {
                colour: Colour::Red,
                what_to_do: "Start kurpakke.".into(),
                contact: "Fastlege, eller legevakt 116 117".into(),
            },
        ],
        valid_from: ts("2026-03-01T00:00:00Z"),
        approved: Some(Approval {
            by: "Dr. Berg".into(),
            at: ts("2026-02-28T10:00:00Z"),
        }),
    };
    assert!(plan.is_complete());
    let v = to_json(&care_plan(&plan, "cp1", "p1", Lang::Nb));
    assert_eq!(
        (v["status"].as_str(), v["intent"].as_str()),
        (Some("active"), Some("plan"))
    );
    assert_eq!(v["activity"].as_array().unwrap().len(), 3);
    for a in v["activity"].as_array().unwrap() {
        assert!(
            a["detail"]["status"].is_string(),
            "detail.status is required"
        );
    }
    let draft = SelfCarePlan {
        approved: None,
        ..plan.clone()
    };
    assert_eq!(
        to_json(&care_plan(&draft, "cp1", "p1", Lang::Nb))["status"],
        "draft"
    );

    let f = to_json(&flag(
        "f1",
        "p1",
        ItemKind::Red,
        ts(NOW),
        "Rødt: Oksygenmetning 86 %",
    ));
    assert_eq!(f["status"], "active");
    assert_eq!(f["category"][0]["coding"][0]["system"], FLAG_CATEGORY);
    assert_eq!(f["subject"]["reference"], "Patient/p1");

    let cs = to_json(&capability_statement(
        "https://helse.example/fhir/r4",
        "0.1.0",
        ts(NOW),
    ));
    assert_eq!(cs["fhirVersion"], "4.0.1");
    assert_eq!(cs["kind"], "instance");
    assert_eq!(cs["format"][0], "json");
    assert_eq!(cs["rest"][0]["mode"], "server");
    let types: Vec<&str> = cs["rest"][0]["resource"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["type"].as_str().unwrap())
        .collect();
    for t in [
        "Patient",
        "Observation",
        "Questionnaire",
        "QuestionnaireResponse",
        "CarePlan",
        "Flag",
    ] {
        assert!(types.contains(&t), "{t}");
    }

    let obs = catalogue::Observation::manual(K::Pulse, ts("2026-03-10T07:00:00Z"), 64.0);
    let bundle = searchset(
        "https://helse.example/fhir/r4/",
        "https://helse.example/fhir/r4/Observation?patient=p1&code=8867-4",
        vec![
            Resource::Observation(Box::new(observation(&obs, "o1", "p1", None, Lang::Nb))),
            Resource::Flag(Box::new(flag(
                "f1",
                "p1",
                ItemKind::Yellow,
                ts(NOW),
                "Gult",
            ))),
        ],
    );
    let v = to_json(&bundle);
    assert_eq!(v["type"], "searchset");
    assert_eq!(v["total"], 2);
    assert_eq!(
        v["entry"][0]["fullUrl"],
        "https://helse.example/fhir/r4/Observation/o1"
    );
    assert_eq!(v["entry"][0]["search"]["mode"], "match");
    assert_eq!(v["entry"][1]["resource"]["resourceType"], "Flag");
    // And it reads back into the same bundle.
    let back: Bundle = serde_json::from_value(v).unwrap();
    assert_eq!(back, bundle);

    let p = Patient {
        id: Some("p1".into()),
        identifier: vec![Identifier {
            system: Some(NORWEGIAN_FNR.into()),
            value: Some("13097248022".into()),
        }],
        active: Some(true),
        name: vec![HumanName {
            text: Some("Kari Nordmann".into()),
            family: Some("Nordmann".into()),
            given: vec!["Kari".into()],
        }],
        ..Patient::default()
    };
    let v = to_json(&p);
    assert_eq!(v["resourceType"], "Patient");
}

#[test]
fn a_summary_note_is_a_document_reference_whose_data_is_the_text() {
    use base64::Engine as _;
    let at: Timestamp = "2027-01-15T08:00:00Z".parse().unwrap();
    let text = "Oppsummering av varsel i digital hjemmeoppfølging\nPasient: Kari Nordmann\n";
    let doc = build::document_reference(&build::NoteDocument {
        id: "n-1",
        patient_id: "p-1",
        title: "Oppsummering av varsel",
        text,
        lang: Lang::Nb,
        created: at,
        author: "Ola Haugen",
        period: Some((at, at)),
    });
    let json = serde_json::to_value(&doc).unwrap();
    assert_eq!(json["resourceType"], "DocumentReference");
    assert_eq!(json["status"], "current");
    assert_eq!(json["type"]["coding"][0]["code"], "11506-3");
    assert_eq!(json["subject"]["reference"], "Patient/p-1");
    let attachment = &json["content"][0]["attachment"];
    assert_eq!(attachment["contentType"], "text/plain; charset=utf-8");
    let data = base64::engine::general_purpose::STANDARD
        .decode(attachment["data"].as_str().unwrap())
        .unwrap();
    assert_eq!(String::from_utf8(data).unwrap(), text);
    assert_eq!(json["context"]["period"]["start"], "2027-01-15T08:00:00Z");
    let back: DocumentReference = serde_json::from_value(json).unwrap();
    assert_eq!(back, doc);
}
