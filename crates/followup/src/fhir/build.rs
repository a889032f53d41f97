//! From this crate's types to FHIR R4 resources.

use jiff::Timestamp;

use super::*;
use crate::careplan::SelfCarePlan;
use crate::catalogue::{self, LOINC, Metric, Source, UCUM, Value};
use crate::colour::{Colour, INTERPRETATION_SYSTEM, Interpretation};
use crate::questionnaire::{self as q};
use crate::text::{Lang, Text};
use crate::triage::{Outcome, ResponseTriage};
use crate::worklist::ItemKind;

/// A FHIR `instant`/`dateTime` in UTC.
pub fn instant(at: Timestamp) -> String {
    at.to_string()
}

fn interpretation(i: Interpretation) -> CodeableConcept {
    CodeableConcept::coding(Coding::new(INTERPRETATION_SYSTEM, i.code(), i.display()))
}

fn quantity(metric: Metric, v: f64) -> Quantity {
    Quantity {
        value: Some(metric.round(v)),
        unit: Some(metric.unit_display().into()),
        system: Some(UCUM.into()),
        code: Some(metric.ucum().into()),
    }
}

fn loinc(l: catalogue::Loinc) -> Coding {
    Coding::new(LOINC, l.code, l.display)
}

/// How a value was entered (HF-6): our code system `urn:helsebro:entry-method`.
pub const ENTRY_METHOD: &str = "urn:helsebro:entry-method";
/// Device identities: `urn:helsebro:device`.
pub const DEVICE_ID: &str = "urn:helsebro:device";

/// An Observation for a reading of `patient_id`, with the triage as its interpretation.
pub fn observation(
    obs: &catalogue::Observation,
    id: &str,
    patient_id: &str,
    outcome: Option<&Outcome<'_>>,
    lang: Lang,
) -> Observation {
    let kind = obs.kind;
    let category = kind.category();
    let mut profile = Vec::new();
    if let Some(p) = kind.profile() {
        profile.push(VITAL_SIGNS_PROFILE.to_string());
        profile.push(p.to_string());
    }
    let triage = match outcome {
        Some(Outcome::Triaged(t)) => Some(t),
        _ => None,
    };
    let (method, device) = match &obs.source {
        Source::Manual => (Coding::new(ENTRY_METHOD, "manual", "Manual entry"), None),
        Source::Device(d) => (
            Coding::new(ENTRY_METHOD, "device", "Sent by device"),
            Some(Reference {
                identifier: Some(Identifier {
                    system: Some(DEVICE_ID.into()),
                    value: Some(d.clone()),
                }),
                ..Reference::default()
            }),
        ),
    };
    let mut out = Observation {
        id: Some(id.into()),
        meta: (!profile.is_empty()).then_some(Meta {
            last_updated: None,
            profile,
        }),
        status: "final".into(),
        category: vec![CodeableConcept::coding(Coding::new(
            OBSERVATION_CATEGORY,
            category.code(),
            category.display(),
        ))],
        code: CodeableConcept {
            coding: kind.codes().iter().map(|c| loinc(*c)).collect(),
            text: Some(kind.name().get(lang).into()),
        },
        subject: Some(Reference::to("Patient", patient_id)),
        effective_date_time: Some(instant(obs.at)),
        method: Some(CodeableConcept::coding(method)),
        device,
        ..Observation::default()
    };
    if obs.device_error {
        out.data_absent_reason = Some(CodeableConcept::coding(Coding::new(
            DATA_ABSENT_REASON,
            "error",
            "Error",
        )));
        return out;
    }
    match obs.value {
        Value::Single(v) => out.value_quantity = Some(quantity(kind.metrics()[0], v)),
        Value::BloodPressure {
            systolic,
            diastolic,
        } => {
            out.component = [(Metric::Systolic, systolic), (Metric::Diastolic, diastolic)]
                .into_iter()
                .map(|(m, v)| ObservationComponent {
                    code: CodeableConcept::coding(loinc(m.loinc())),
                    value_quantity: Some(quantity(m, v)),
                    data_absent_reason: None,
                    interpretation: triage
                        .map(|t| vec![interpretation(t.interpretation(Some(m)))])
                        .unwrap_or_default(),
                })
                .collect();
        }
    }
    if let Some(t) = triage {
        out.interpretation = vec![interpretation(t.interpretation(None))];
        out.note = t
            .reasons()
            .iter()
            .map(|e| Annotation {
                text: e.explain(lang),
            })
            .collect();
    }
    if let Some(Outcome::MeasureAgain { .. }) = outcome {
        out.note = vec![Annotation {
            text: Text::new(
                "Verdien er ikke mulig; pasienten er bedt om å måle på nytt.",
                "Verdien er ikkje mogleg; pasienten er beden om å måle på nytt.",
                "The value is not possible; the patient was asked to measure again.",
            )
            .get(lang)
            .into(),
        }];
    }
    out
}

/// The canonical URL of one of our questionnaires.
pub fn questionnaire_url(q: &q::Questionnaire) -> String {
    format!("{HELSEBRO_URN}:questionnaire:{}", q.id)
}

/// The code system of one question's answer options.
pub fn answer_system(q: &q::Questionnaire, item: &q::Item) -> String {
    format!("{HELSEBRO_URN}:questionnaire:{}:{}", q.id, item.link_id)
}

/// R4's extension for an answer's score.
pub const ORDINAL_VALUE: &str = "http://hl7.org/fhir/StructureDefinition/ordinalValue";

fn fhir_name(id: &str) -> String {
    // `[A-Z]([A-Za-z0-9_]){0,254}` from a kebab-case id.
    id.split('-')
        .map(|part| {
            let mut c = part.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect::<String>()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect()
}

/// One of our questionnaires in one language.
pub fn questionnaire(q: &q::Questionnaire, lang: Lang) -> Questionnaire {
    Questionnaire {
        id: Some(q.id.into()),
        language: Some(lang.tag().into()),
        url: Some(questionnaire_url(q)),
        version: Some(q.version.into()),
        name: Some(fhir_name(q.id)),
        title: Some(q.title.get(lang).into()),
        status: "active".into(),
        subject_type: vec!["Patient".into()],
        publisher: Some("Helsebro".into()),
        description: Some(q.intro.get(lang).into()),
        copyright: Some(
            Text::new(
                "Skrevet for Helsebro; ikke et lisensiert eller validert måleinstrument.",
                "Skrive for Helsebro; ikkje eit lisensiert eller validert måleinstrument.",
                "Written for Helsebro; not a licensed or validated instrument.",
            )
            .get(lang)
            .into(),
        ),
        item: q
            .items
            .iter()
            .map(|item| QuestionnaireItem {
                link_id: item.link_id.into(),
                text: Some(item.text.get(lang).into()),
                kind: "choice".into(),
                required: Some(true),
                answer_option: item
                    .options
                    .iter()
                    .map(|o| AnswerOption {
                        extension: vec![Extension {
                            url: ORDINAL_VALUE.into(),
                            value_decimal: Some(f64::from(o.score)),
                            value_string: None,
                        }],
                        value_coding: Coding::new(
                            &answer_system(q, item),
                            o.code,
                            o.text.get(lang),
                        ),
                    })
                    .collect(),
            })
            .collect(),
        ..Questionnaire::default()
    }
}

/// The extension carrying the triage colour of a response (`urn:helsebro:triage-colour`).
pub const TRIAGE_COLOUR: &str = "urn:helsebro:triage-colour";

/// A completed response with its answers (`(link_id, option code)`, already scored).
pub fn questionnaire_response(
    q: &q::Questionnaire,
    answers: &[(&str, &str)],
    id: &str,
    patient_id: &str,
    authored: Timestamp,
    triage: Option<&ResponseTriage>,
    lang: Lang,
) -> QuestionnaireResponse {
    QuestionnaireResponse {
        id: Some(id.into()),
        questionnaire: Some(format!("{}|{}", questionnaire_url(q), q.version)),
        status: "completed".into(),
        subject: Some(Reference::to("Patient", patient_id)),
        authored: Some(instant(authored)),
        extension: triage
            .map(|t| {
                vec![Extension {
                    url: TRIAGE_COLOUR.into(),
                    value_decimal: None,
                    value_string: Some(t.colour.name().en.into()),
                }]
            })
            .unwrap_or_default(),
        item: q
            .items
            .iter()
            .filter_map(|item| {
                let (_, code) = answers.iter().find(|(l, _)| *l == item.link_id)?;
                let option = item.options.iter().find(|o| o.code == *code)?;
                Some(QuestionnaireResponseItem {
                    link_id: item.link_id.into(),
                    text: Some(item.text.get(lang).into()),
                    answer: vec![QuestionnaireResponseAnswer {
                        value_coding: Some(Coding::new(
                            &answer_system(q, item),
                            option.code,
                            option.text.get(lang),
                        )),
                    }],
                })
            })
            .collect(),
        ..QuestionnaireResponse::default()
    }
}

impl QuestionnaireResponse {
    /// The questionnaire this answers, if it is one of ours.
    pub fn our_questionnaire(&self) -> Option<&'static q::Questionnaire> {
        let canonical = self.questionnaire.as_deref()?;
        let url = canonical.split('|').next()?;
        q::ALL.into_iter().find(|q| questionnaire_url(q) == url)
    }

    /// The answers as `(link_id, option code)`, for [`q::Questionnaire::score`].
    pub fn answers(&self) -> Vec<(&str, &str)> {
        self.item
            .iter()
            .flat_map(|i| {
                i.answer
                    .iter()
                    .filter_map(|a| a.value_coding.as_ref()?.code.as_deref())
                    .map(move |c| (i.link_id.as_str(), c))
            })
            .collect()
    }
}

fn colour_text(c: Colour) -> Text {
    match c {
        Colour::Green => Text::new("Grønt", "Grønt", "Green"),
        Colour::Yellow => Text::new("Gult", "Gult", "Yellow"),
        Colour::Red => Text::new("Rødt", "Raudt", "Red"),
    }
}

/// The self-care plan as a CarePlan: one activity per colour.
pub fn care_plan(plan: &SelfCarePlan, id: &str, patient_id: &str, lang: Lang) -> CarePlan {
    let approved = plan.approved.as_ref();
    CarePlan {
        id: Some(id.into()),
        language: Some(lang.tag().into()),
        identifier: vec![Identifier {
            system: Some(format!("{HELSEBRO_URN}:self-care-plan")),
            value: Some(format!("{id}-v{}", plan.version)),
        }],
        status: if approved.is_some() {
            "active"
        } else {
            "draft"
        }
        .into(),
        intent: "plan".into(),
        category: vec![CodeableConcept::text(
            Text::new(
                "Egenbehandlingsplan",
                "Eigenbehandlingsplan",
                "Self-care plan",
            )
            .get(lang),
        )],
        title: Some(format!(
            "{} {}",
            Text::new(
                "Egenbehandlingsplan, versjon",
                "Eigenbehandlingsplan, versjon",
                "Self-care plan, version"
            )
            .get(lang),
            plan.version
        )),
        description: None,
        subject: Reference::to("Patient", patient_id),
        period: Some(Period {
            start: Some(instant(plan.valid_from)),
            end: None,
        }),
        created: approved.map(|a| instant(a.at)),
        note: approved
            .map(|a| {
                vec![Annotation {
                    text: format!(
                        "{} {} {}",
                        Text::new(
                            "Godkjent av fastlege",
                            "Godkjend av fastlege",
                            "Approved by GP"
                        )
                        .get(lang),
                        a.by,
                        crate::time::local_date(a.at)
                    ),
                }]
            })
            .unwrap_or_default(),
        activity: plan
            .steps
            .iter()
            .map(|s| CarePlanActivity {
                detail: Some(CarePlanActivityDetail {
                    code: Some(CodeableConcept::text(colour_text(s.colour).get(lang))),
                    status: "in-progress".into(),
                    description: Some(format!(
                        "{} {}: {}",
                        s.what_to_do,
                        Text::new("Kontakt", "Kontakt", "Contact").get(lang),
                        s.contact
                    )),
                }),
            })
            .collect(),
        ..CarePlan::default()
    }
}

/// The code system of alert kinds in Flags (`urn:helsebro:alert`).
pub const ALERT_SYSTEM: &str = "urn:helsebro:alert";

/// An open alert as a Flag.
pub fn flag(id: &str, patient_id: &str, kind: ItemKind, raised_at: Timestamp, text: &str) -> Flag {
    let (code, display) = match kind {
        ItemKind::Red => ("red", "Red alert"),
        ItemKind::Yellow => ("yellow", "Yellow alert"),
        ItemKind::MissingReport => ("missing-report", "Missing report"),
    };
    Flag {
        id: Some(id.into()),
        status: "active".into(),
        category: vec![CodeableConcept::coding(Coding::new(
            FLAG_CATEGORY,
            "clinical",
            "Clinical",
        ))],
        code: CodeableConcept {
            coding: vec![Coding::new(ALERT_SYSTEM, code, display)],
            text: Some(text.into()),
        },
        subject: Reference::to("Patient", patient_id),
        period: Some(Period {
            start: Some(instant(raised_at)),
            end: None,
        }),
        ..Flag::default()
    }
}

/// A summary note (HF-10) as a DocumentReference: LOINC 11506-3 "Progress note", the text
/// inline as UTF-8 plain text, made by `author` at `created`, about `period` when it covers
/// one (a period note) rather than one alert.
pub struct NoteDocument<'a> {
    pub id: &'a str,
    pub patient_id: &'a str,
    pub title: &'a str,
    pub text: &'a str,
    pub lang: Lang,
    pub created: Timestamp,
    pub author: &'a str,
    pub period: Option<(Timestamp, Timestamp)>,
}

pub fn document_reference(note: &NoteDocument<'_>) -> DocumentReference {
    use base64::Engine as _;
    DocumentReference {
        id: Some(note.id.to_owned()),
        status: "current".into(),
        doc_status: Some("final".into()),
        kind: Some(CodeableConcept::coding(Coding::new(
            LOINC,
            "11506-3",
            "Progress note",
        ))),
        subject: Reference::to("Patient", note.patient_id),
        date: Some(instant(note.created)),
        author: vec![Reference {
            display: Some(note.author.to_owned()),
            ..Reference::default()
        }],
        description: Some(note.title.to_owned()),
        content: vec![DocumentContent {
            attachment: Attachment {
                content_type: "text/plain; charset=utf-8".into(),
                language: Some(note.lang.tag().into()),
                data: base64::engine::general_purpose::STANDARD.encode(note.text.as_bytes()),
                title: Some(note.title.to_owned()),
                creation: Some(instant(note.created)),
            },
        }],
        context: note.period.map(|(start, end)| DocumentContext {
            period: Some(Period {
                start: Some(instant(start)),
                end: Some(instant(end)),
            }),
        }),
        ..DocumentReference::default()
    }
}

/// What `/fhir/r4/metadata` answers. `base_url` is the server's `/fhir/r4` address.
pub fn capability_statement(
    base_url: &str,
    software_version: &str,
    date: Timestamp,
) -> CapabilityStatement {
    let interactions = |codes: &[&str]| {
        codes
            .iter()
            .map(|c| CapabilityInteraction { code: (*c).into() })
            .collect()
    };
    let params = |ps: &[(&str, &str)]| {
        ps.iter()
            .map(|(n, k)| CapabilitySearchParam {
                name: (*n).into(),
                kind: (*k).into(),
            })
            .collect()
    };
    let resource = |kind: &str, profiles: Vec<String>, inter: &[&str], search: &[(&str, &str)]| {
        CapabilityResource {
            kind: kind.into(),
            supported_profile: profiles,
            interaction: interactions(inter),
            search_param: params(search),
        }
    };
    let mut vital_profiles = vec![VITAL_SIGNS_PROFILE.to_string()];
    vital_profiles.extend(
        catalogue::MeasurementKind::ALL
            .iter()
            .filter_map(|k| k.profile())
            .map(String::from),
    );
    CapabilityStatement {
        status: "active".into(),
        date: instant(date),
        publisher: Some("Helsebro".into()),
        kind: "instance".into(),
        software: Some(Software {
            name: "Helsebro".into(),
            version: Some(software_version.into()),
        }),
        implementation: Some(Implementation {
            description: "Helsebro FHIR R4 API for digital home follow-up".into(),
            url: Some(base_url.into()),
        }),
        fhir_version: FHIR_VERSION.into(),
        format: vec!["json".into()],
        rest: vec![CapabilityRest {
            mode: "server".into(),
            resource: vec![
                resource("Patient", vec![], &["read"], &[]),
                resource(
                    "Observation",
                    vital_profiles,
                    &["create", "read", "search-type"],
                    &[
                        ("patient", "reference"),
                        ("code", "token"),
                        ("date", "date"),
                    ],
                ),
                resource(
                    "Questionnaire",
                    vec![],
                    &["read", "search-type"],
                    &[("url", "uri")],
                ),
                resource(
                    "QuestionnaireResponse",
                    vec![],
                    &["create", "read", "search-type"],
                    &[("patient", "reference")],
                ),
                resource(
                    "CarePlan",
                    vec![],
                    &["read", "search-type"],
                    &[("patient", "reference")],
                ),
                resource(
                    "Flag",
                    vec![],
                    &["read", "search-type"],
                    &[("patient", "reference"), ("status", "token")],
                ),
                resource(
                    "DocumentReference",
                    vec![],
                    &["search-type"],
                    &[("patient", "reference")],
                ),
            ],
        }],
        ..CapabilityStatement::default()
    }
}

impl Resource {
    /// `Type/id` of the resource, if it has an id.
    pub fn type_and_id(&self) -> Option<(&'static str, &str)> {
        let (t, id) = match self {
            Resource::Observation(r) => ("Observation", &r.id),
            Resource::Patient(r) => ("Patient", &r.id),
            Resource::Questionnaire(r) => ("Questionnaire", &r.id),
            Resource::QuestionnaireResponse(r) => ("QuestionnaireResponse", &r.id),
            Resource::CarePlan(r) => ("CarePlan", &r.id),
            Resource::Flag(r) => ("Flag", &r.id),
            Resource::DocumentReference(r) => ("DocumentReference", &r.id),
            Resource::OperationOutcome(_) => return None,
        };
        id.as_deref().map(|id| (t, id))
    }
}

/// A `searchset` Bundle of matches; `base_url` is the server's `/fhir/r4` address and
/// `self_url` the search as run.
pub fn searchset(base_url: &str, self_url: &str, matches: Vec<Resource>) -> Bundle {
    Bundle {
        kind: "searchset".into(),
        total: Some(matches.len() as u64),
        link: vec![BundleLink {
            relation: "self".into(),
            url: self_url.into(),
        }],
        entry: matches
            .into_iter()
            .map(|r| BundleEntry {
                full_url: r
                    .type_and_id()
                    .map(|(t, id)| format!("{}/{t}/{id}", base_url.trim_end_matches('/'))),
                resource: r,
                search: Some(BundleSearch {
                    mode: "match".into(),
                }),
            })
            .collect(),
        ..Bundle::default()
    }
}
