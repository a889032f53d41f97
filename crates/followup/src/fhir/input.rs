//! Incoming Observations (HF-6): from FHIR JSON to a checked [`crate::Observation`], or a
//! structured error that becomes an OperationOutcome with a 4xx — and changes nothing.
//!
//! Checked here: the JSON is an Observation; its status is `final`, `amended` or `corrected`; its
//! code is one of our LOINC codes; its subject is `Patient/<id>`; `effectiveDateTime` is a full
//! date and time with a zone and not in the future (a few minutes of clock drift allowed); the
//! value has a UCUM unit the kind accepts (converted where the vital-signs profile allows another
//! unit: g and \[lb_av\] to kg, \[degF\] to Cel); the value is physiologically possible. Whether
//! the patient exists and the caller may write for them is the app's check.
//!
//! A device that reports its own failure (`dataAbsentReason` = `error`) is accepted: the reading is
//! kept with its error flag, and triage asks the patient to measure again.
//!
//! The same reading sent twice — same patient, same source (device), same code, same time — has
//! the same [`IdempotencyKey`], so the store keeps it once. The code is part of the key because
//! one cuff sends a blood pressure and a pulse with the same time.

use jiff::{SignedDuration, Timestamp};
use serde::Serialize;
use thiserror::Error;

use super::build::DEVICE_ID;
use super::{DATA_ABSENT_REASON, Observation as FhirObservation, OperationOutcome, Quantity};
use crate::catalogue::{
    Implausible, LOINC, MeasurementKind, Metric, Observation, Source, UCUM, Value,
};

/// How far in the future a measurement time may be (clocks drift).
pub const FUTURE_TOLERANCE: SignedDuration = SignedDuration::from_mins(5);

/// What is wrong with an incoming Observation.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum InputError {
    #[error("not a valid FHIR Observation: {0}")]
    Malformed(String),
    #[error("status {0:?} is not accepted; send final, amended or corrected")]
    Status(String),
    #[error("no known LOINC code in Observation.code (got {0:?})")]
    UnknownCode(Vec<String>),
    #[error("subject must be a reference to Patient/<id>")]
    Subject,
    #[error("effectiveDateTime is missing")]
    MissingTime,
    #[error("effectiveDateTime {0:?} must be a full date and time with a time zone")]
    BadTime(String),
    #[error("effectiveDateTime {at} is in the future")]
    FutureTime { at: Timestamp },
    #[error("{expression} is missing")]
    MissingValue { expression: &'static str },
    #[error("{expression} must be in UCUM {expected:?}, got {got:?}")]
    WrongUnit {
        expression: &'static str,
        expected: &'static str,
        got: String,
    },
    #[error("{value} {unit} is not a possible value for {metric:?} ({min}–{max})")]
    Impossible {
        metric: Metric,
        value: f64,
        unit: &'static str,
        min: f64,
        max: f64,
    },
    #[error("systolic pressure {systolic} must be above diastolic {diastolic}")]
    SystolicNotAboveDiastolic { systolic: f64, diastolic: f64 },
}

impl InputError {
    /// The HTTP status to answer with.
    pub fn http_status(&self) -> u16 {
        match self {
            InputError::Malformed(_) => 400,
            _ => 422,
        }
    }

    /// The FHIR IssueType code.
    pub fn issue_code(&self) -> &'static str {
        match self {
            InputError::Malformed(_) => "structure",
            InputError::UnknownCode(_) => "code-invalid",
            InputError::MissingTime | InputError::MissingValue { .. } => "required",
            InputError::FutureTime { .. } => "business-rule",
            InputError::Status(_)
            | InputError::Subject
            | InputError::BadTime(_)
            | InputError::WrongUnit { .. }
            | InputError::Impossible { .. }
            | InputError::SystolicNotAboveDiastolic { .. } => "value",
        }
    }

    /// The FHIRPath of the element at fault.
    pub fn expression(&self) -> Option<&'static str> {
        Some(match self {
            InputError::Malformed(_) => return None,
            InputError::Status(_) => "Observation.status",
            InputError::UnknownCode(_) => "Observation.code",
            InputError::Subject => "Observation.subject",
            InputError::MissingTime | InputError::BadTime(_) | InputError::FutureTime { .. } => {
                "Observation.effective"
            }
            InputError::MissingValue { expression } | InputError::WrongUnit { expression, .. } => {
                expression
            }
            InputError::Impossible { .. } | InputError::SystolicNotAboveDiastolic { .. } => {
                "Observation.value"
            }
        })
    }

    pub fn to_operation_outcome(&self) -> OperationOutcome {
        OperationOutcome::error(self.issue_code(), &self.to_string(), self.expression())
    }
}

/// A key that is equal for the same reading sent twice.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct IdempotencyKey(pub String);

impl IdempotencyKey {
    /// `obs:<patient>:<device id or "manual">:<LOINC>:<UTC milliseconds>`.
    pub fn new(patient_id: &str, source: &Source, kind: MeasurementKind, at: Timestamp) -> Self {
        let source = match source {
            Source::Manual => "manual".to_string(),
            Source::Device(d) => format!("device={d}"),
        };
        Self(format!(
            "obs:{patient_id}:{source}:{}:{}",
            kind.loinc().code,
            at.as_millisecond()
        ))
    }
}

/// A checked incoming Observation.
#[derive(Debug, Clone, PartialEq)]
pub struct Incoming {
    pub patient_id: String,
    pub observation: Observation,
    pub key: IdempotencyKey,
}

/// Parses and checks an Observation in FHIR JSON at `now`.
pub fn read_observation(json: &[u8], now: Timestamp) -> Result<Incoming, InputError> {
    let fhir: FhirObservation =
        serde_json::from_slice(json).map_err(|e| InputError::Malformed(e.to_string()))?;
    check_observation(&fhir, now)
}

/// Checks a parsed Observation at `now`.
pub fn check_observation(fhir: &FhirObservation, now: Timestamp) -> Result<Incoming, InputError> {
    if !matches!(fhir.status.as_str(), "final" | "amended" | "corrected") {
        return Err(InputError::Status(fhir.status.clone()));
    }
    let kind = fhir
        .code
        .coding
        .iter()
        .filter(|c| c.system.as_deref() == Some(LOINC))
        .find_map(|c| c.code.as_deref().and_then(MeasurementKind::from_loinc))
        .ok_or_else(|| {
            InputError::UnknownCode(
                fhir.code
                    .coding
                    .iter()
                    .filter_map(|c| c.code.clone())
                    .collect(),
            )
        })?;
    let patient_id = fhir
        .subject
        .as_ref()
        .and_then(|s| s.id_of("Patient"))
        .ok_or(InputError::Subject)?
        .to_string();
    let at = parse_time(fhir.effective_date_time.as_deref())?;
    if at > now.saturating_add(FUTURE_TOLERANCE).unwrap_or(now) {
        return Err(InputError::FutureTime { at });
    }
    let source = fhir
        .device
        .as_ref()
        .and_then(|d| {
            d.identifier
                .as_ref()
                .filter(|i| i.system.as_deref() == Some(DEVICE_ID))
                .and_then(|i| i.value.clone())
                .or_else(|| d.id_of("Device").map(String::from))
        })
        .map_or(Source::Manual, Source::Device);
    let device_error = fhir
        .data_absent_reason
        .as_ref()
        .and_then(|r| r.code_in(DATA_ABSENT_REASON))
        == Some("error");
    let value = if device_error {
        // No value to read; keep the shape of the kind with zeros, flagged.
        match kind {
            MeasurementKind::BloodPressure => Value::BloodPressure {
                systolic: 0.0,
                diastolic: 0.0,
            },
            _ => Value::Single(0.0),
        }
    } else if kind == MeasurementKind::BloodPressure {
        let component = |m: Metric, expression: &'static str| {
            let q = fhir
                .component
                .iter()
                .find(|c| c.code.code_in(LOINC) == Some(m.loinc().code))
                .and_then(|c| c.value_quantity.as_ref())
                .ok_or(InputError::MissingValue { expression })?;
            read_quantity(q, m, expression)
        };
        Value::BloodPressure {
            systolic: component(
                Metric::Systolic,
                "Observation.component.where(code='8480-6').valueQuantity",
            )?,
            diastolic: component(
                Metric::Diastolic,
                "Observation.component.where(code='8462-4').valueQuantity",
            )?,
        }
    } else {
        let q = fhir
            .value_quantity
            .as_ref()
            .ok_or(InputError::MissingValue {
                expression: "Observation.valueQuantity",
            })?;
        Value::Single(read_quantity(
            q,
            kind.metrics()[0],
            "Observation.valueQuantity",
        )?)
    };
    let observation = Observation {
        kind,
        at,
        value,
        device_error,
        source,
    };
    match observation.implausibility() {
        None | Some(Implausible::DeviceError) => {}
        Some(Implausible::OutOfRange { metric, value }) => {
            let r = metric.plausible();
            return Err(InputError::Impossible {
                metric,
                value,
                unit: metric.ucum(),
                min: r.min,
                max: r.max,
            });
        }
        Some(Implausible::SystolicNotAboveDiastolic {
            systolic,
            diastolic,
        }) => {
            return Err(InputError::SystolicNotAboveDiastolic {
                systolic,
                diastolic,
            });
        }
        Some(Implausible::WrongShape) => {
            return Err(InputError::MissingValue {
                expression: "Observation.value",
            });
        }
    }
    let key = IdempotencyKey::new(&patient_id, &observation.source, kind, at);
    Ok(Incoming {
        patient_id,
        observation,
        key,
    })
}

fn parse_time(s: Option<&str>) -> Result<Timestamp, InputError> {
    let s = s.ok_or(InputError::MissingTime)?;
    // FHIR dateTime with a time must carry a zone; a date alone is too vague for a reading.
    s.parse::<Timestamp>()
        .map_err(|_| InputError::BadTime(s.to_string()))
}

/// The value of a quantity in the metric's own unit, converting the units the vital-signs
/// profile also allows.
fn read_quantity(
    q: &Quantity,
    metric: Metric,
    expression: &'static str,
) -> Result<f64, InputError> {
    let value = q.value.ok_or(InputError::MissingValue { expression })?;
    let code = q.code.as_deref().unwrap_or("");
    let wrong = || InputError::WrongUnit {
        expression,
        expected: metric.ucum(),
        got: format!("{} {code}", q.system.as_deref().unwrap_or("(no system)")),
    };
    if q.system.as_deref() != Some(UCUM) {
        return Err(wrong());
    }
    if code == metric.ucum() {
        return Ok(value);
    }
    match (metric, code) {
        (Metric::BodyWeight, "g") => Ok(value / 1000.0),
        (Metric::BodyWeight, "[lb_av]") => Ok(value * 0.453_592_37),
        (Metric::BodyTemperature, "[degF]") => Ok((value - 32.0) * 5.0 / 9.0),
        (Metric::Pulse, "{beats}/min") => Ok(value),
        _ => Err(wrong()),
    }
}
