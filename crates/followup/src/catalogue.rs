//! The measurement catalogue (HF-4): what a patient can measure at home, its LOINC code, its UCUM
//! unit and the range a human body can actually produce.
//!
//! A [`MeasurementKind`] is what the patient does (measure blood pressure); a [`Metric`] is one
//! number that triage looks at (systolic pressure). Every kind has one metric except blood
//! pressure, which has two (the FHIR panel 85354-9 with components 8480-6 and 8462-4).
//!
//! Blood glucose uses LOINC **15074-8** "Glucose [Moles/volume] in Blood" with UCUM `mmol/L`:
//! Norwegian meters report mmol/L, and this is the code Norwegian and Danish home-monitoring
//! services exchange. 14743-9 ("… in Capillary blood by Glucometer") is accepted on input as an
//! alias; we always send 15074-8.
//!
//! Oxygen saturation is sent with both 2708-6 (the code the R4 vital-signs profile fixes) and
//! 59408-5 (by pulse oximetry, what a home device measures); either is accepted on input.
//!
//! The plausible ranges are deliberately wide: a value outside them is not a sick patient but a
//! failed measurement (a finger slipped out of the oximeter, a typo), so triage answers
//! [`crate::triage::Outcome::MeasureAgain`] instead of an alert.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::text::Text;

/// What a patient measures at home.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MeasurementKind {
    OxygenSaturation,
    Pulse,
    BloodPressure,
    BodyWeight,
    BodyTemperature,
    BloodGlucose,
    PeakExpiratoryFlow,
    Steps,
}

/// One number that triage rules look at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    OxygenSaturation,
    Pulse,
    Systolic,
    Diastolic,
    BodyWeight,
    BodyTemperature,
    BloodGlucose,
    PeakExpiratoryFlow,
    Steps,
}

/// FHIR's observation category for a kind (`http://terminology.hl7.org/CodeSystem/observation-category`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Category {
    VitalSigns,
    Laboratory,
    Exam,
    Activity,
}

impl Category {
    pub fn code(self) -> &'static str {
        match self {
            Category::VitalSigns => "vital-signs",
            Category::Laboratory => "laboratory",
            Category::Exam => "exam",
            Category::Activity => "activity",
        }
    }

    pub fn display(self) -> &'static str {
        match self {
            Category::VitalSigns => "Vital Signs",
            Category::Laboratory => "Laboratory",
            Category::Exam => "Exam",
            Category::Activity => "Activity",
        }
    }
}

/// A LOINC code with its LOINC display name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Loinc {
    pub code: &'static str,
    pub display: &'static str,
}

/// The LOINC code system URI.
pub const LOINC: &str = "http://loinc.org";
/// The UCUM code system URI.
pub const UCUM: &str = "http://unitsofmeasure.org";

impl MeasurementKind {
    pub const ALL: [MeasurementKind; 8] = [
        MeasurementKind::OxygenSaturation,
        MeasurementKind::Pulse,
        MeasurementKind::BloodPressure,
        MeasurementKind::BodyWeight,
        MeasurementKind::BodyTemperature,
        MeasurementKind::BloodGlucose,
        MeasurementKind::PeakExpiratoryFlow,
        MeasurementKind::Steps,
    ];

    /// The codes we send, the first one being the primary code.
    pub fn codes(self) -> &'static [Loinc] {
        match self {
            MeasurementKind::OxygenSaturation => &[
                Loinc {
                    code: "2708-6",
                    display: "Oxygen saturation in Arterial blood",
                },
                Loinc {
                    code: "59408-5",
                    display: "Oxygen saturation in Arterial blood by Pulse oximetry",
                },
            ],
            MeasurementKind::Pulse => &[Loinc {
                code: "8867-4",
                display: "Heart rate",
            }],
            MeasurementKind::BloodPressure => &[Loinc {
                code: "85354-9",
                display: "Blood pressure panel with all children optional",
            }],
            MeasurementKind::BodyWeight => &[Loinc {
                code: "29463-7",
                display: "Body weight",
            }],
            MeasurementKind::BodyTemperature => &[Loinc {
                code: "8310-5",
                display: "Body temperature",
            }],
            MeasurementKind::BloodGlucose => &[Loinc {
                code: "15074-8",
                display: "Glucose [Moles/volume] in Blood",
            }],
            MeasurementKind::PeakExpiratoryFlow => &[Loinc {
                code: "19935-6",
                display: "Maximum expiratory gas flow Respiratory system airway by Peak flow meter",
            }],
            MeasurementKind::Steps => &[Loinc {
                code: "41950-7",
                display: "Number of steps in 24 hour Measured",
            }],
        }
    }

    /// The primary LOINC code.
    pub fn loinc(self) -> Loinc {
        self.codes()[0]
    }

    /// Finds the kind a LOINC code names (including accepted aliases).
    pub fn from_loinc(code: &str) -> Option<MeasurementKind> {
        if code == "14743-9" {
            return Some(MeasurementKind::BloodGlucose);
        }
        MeasurementKind::ALL
            .into_iter()
            .find(|k| k.codes().iter().any(|c| c.code == code))
    }

    /// The metrics of this kind, in component order.
    pub fn metrics(self) -> &'static [Metric] {
        match self {
            MeasurementKind::OxygenSaturation => &[Metric::OxygenSaturation],
            MeasurementKind::Pulse => &[Metric::Pulse],
            MeasurementKind::BloodPressure => &[Metric::Systolic, Metric::Diastolic],
            MeasurementKind::BodyWeight => &[Metric::BodyWeight],
            MeasurementKind::BodyTemperature => &[Metric::BodyTemperature],
            MeasurementKind::BloodGlucose => &[Metric::BloodGlucose],
            MeasurementKind::PeakExpiratoryFlow => &[Metric::PeakExpiratoryFlow],
            MeasurementKind::Steps => &[Metric::Steps],
        }
    }

    /// FHIR category. Only the kinds that the R4 vital-signs profile covers are `vital-signs`.
    pub fn category(self) -> Category {
        match self {
            MeasurementKind::BloodGlucose => Category::Laboratory,
            MeasurementKind::PeakExpiratoryFlow => Category::Exam,
            MeasurementKind::Steps => Category::Activity,
            _ => Category::VitalSigns,
        }
    }

    /// The R4 vital-signs profile this kind conforms to, if any.
    pub fn profile(self) -> Option<&'static str> {
        match self {
            MeasurementKind::OxygenSaturation => {
                Some("http://hl7.org/fhir/StructureDefinition/oxygensat")
            }
            MeasurementKind::Pulse => Some("http://hl7.org/fhir/StructureDefinition/heartrate"),
            MeasurementKind::BloodPressure => Some("http://hl7.org/fhir/StructureDefinition/bp"),
            MeasurementKind::BodyWeight => {
                Some("http://hl7.org/fhir/StructureDefinition/bodyweight")
            }
            MeasurementKind::BodyTemperature => {
                Some("http://hl7.org/fhir/StructureDefinition/bodytemp")
            }
            _ => None,
        }
    }

    /// What the patient sees as the name of the measurement.
    pub fn name(self) -> Text {
        match self {
            MeasurementKind::OxygenSaturation => {
                Text::new("Oksygenmetning", "Oksygenmetting", "Oxygen saturation")
            }
            MeasurementKind::Pulse => Text::new("Puls", "Puls", "Pulse"),
            MeasurementKind::BloodPressure => Text::new("Blodtrykk", "Blodtrykk", "Blood pressure"),
            MeasurementKind::BodyWeight => Text::new("Vekt", "Vekt", "Weight"),
            MeasurementKind::BodyTemperature => {
                Text::new("Temperatur", "Temperatur", "Temperature")
            }
            MeasurementKind::BloodGlucose => Text::new("Blodsukker", "Blodsukker", "Blood glucose"),
            MeasurementKind::PeakExpiratoryFlow => {
                Text::new("Toppstrøm (PEF)", "Toppstraum (PEF)", "Peak flow (PEF)")
            }
            MeasurementKind::Steps => Text::new("Skritt", "Skritt", "Steps"),
        }
    }
}

/// The physiologically possible range of a metric (inclusive).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct PlausibleRange {
    pub min: f64,
    pub max: f64,
}

impl PlausibleRange {
    pub fn contains(&self, v: f64) -> bool {
        v.is_finite() && v >= self.min && v <= self.max
    }
}

impl Metric {
    pub const ALL: [Metric; 9] = [
        Metric::OxygenSaturation,
        Metric::Pulse,
        Metric::Systolic,
        Metric::Diastolic,
        Metric::BodyWeight,
        Metric::BodyTemperature,
        Metric::BloodGlucose,
        Metric::PeakExpiratoryFlow,
        Metric::Steps,
    ];

    /// The kind this metric belongs to.
    pub fn kind(self) -> MeasurementKind {
        match self {
            Metric::OxygenSaturation => MeasurementKind::OxygenSaturation,
            Metric::Pulse => MeasurementKind::Pulse,
            Metric::Systolic | Metric::Diastolic => MeasurementKind::BloodPressure,
            Metric::BodyWeight => MeasurementKind::BodyWeight,
            Metric::BodyTemperature => MeasurementKind::BodyTemperature,
            Metric::BloodGlucose => MeasurementKind::BloodGlucose,
            Metric::PeakExpiratoryFlow => MeasurementKind::PeakExpiratoryFlow,
            Metric::Steps => MeasurementKind::Steps,
        }
    }

    /// The metric's own LOINC code (for blood pressure the component code).
    pub fn loinc(self) -> Loinc {
        match self {
            Metric::Systolic => Loinc {
                code: "8480-6",
                display: "Systolic blood pressure",
            },
            Metric::Diastolic => Loinc {
                code: "8462-4",
                display: "Diastolic blood pressure",
            },
            m => m.kind().loinc(),
        }
    }

    /// The UCUM code of the unit (`valueQuantity.code`).
    pub fn ucum(self) -> &'static str {
        match self {
            Metric::OxygenSaturation => "%",
            Metric::Pulse => "/min",
            Metric::Systolic | Metric::Diastolic => "mm[Hg]",
            Metric::BodyWeight => "kg",
            Metric::BodyTemperature => "Cel",
            Metric::BloodGlucose => "mmol/L",
            Metric::PeakExpiratoryFlow => "L/min",
            Metric::Steps => "/d",
        }
    }

    /// The unit as people read it (`valueQuantity.unit`).
    pub fn unit_display(self) -> &'static str {
        match self {
            Metric::OxygenSaturation => "%",
            Metric::Pulse => "slag/min",
            Metric::Systolic | Metric::Diastolic => "mmHg",
            Metric::BodyWeight => "kg",
            Metric::BodyTemperature => "°C",
            Metric::BloodGlucose => "mmol/L",
            Metric::PeakExpiratoryFlow => "L/min",
            Metric::Steps => "skritt/døgn",
        }
    }

    /// Decimals worth showing and storing.
    pub fn decimals(self) -> u8 {
        match self {
            Metric::BodyWeight | Metric::BodyTemperature | Metric::BloodGlucose => 1,
            _ => 0,
        }
    }

    /// Values a body can produce; anything outside is a failed measurement.
    pub fn plausible(self) -> PlausibleRange {
        let (min, max) = match self {
            Metric::OxygenSaturation => (50.0, 100.0),
            Metric::Pulse => (25.0, 250.0),
            Metric::Systolic => (50.0, 280.0),
            Metric::Diastolic => (20.0, 180.0),
            Metric::BodyWeight => (20.0, 350.0),
            Metric::BodyTemperature => (32.0, 43.5),
            Metric::BloodGlucose => (1.0, 35.0),
            Metric::PeakExpiratoryFlow => (50.0, 900.0),
            Metric::Steps => (0.0, 100_000.0),
        };
        PlausibleRange { min, max }
    }

    /// Short name for explanations and charts.
    pub fn name(self) -> Text {
        match self {
            Metric::Systolic => Text::new("Øvre blodtrykk", "Øvre blodtrykk", "Systolic pressure"),
            Metric::Diastolic => {
                Text::new("Nedre blodtrykk", "Nedre blodtrykk", "Diastolic pressure")
            }
            m => m.kind().name(),
        }
    }

    /// Rounds a value to the metric's decimals.
    pub fn round(self, v: f64) -> f64 {
        let f = 10f64.powi(i32::from(self.decimals()));
        (v * f).round() / f
    }

    /// Formats a value with the metric's decimals and unit, e.g. `"88 %"`, `"81.4 kg"`.
    pub fn format(self, v: f64) -> String {
        format!(
            "{:.*} {}",
            usize::from(self.decimals()),
            v,
            self.unit_display()
        )
    }
}

/// How a reading reached us (HF-6: manual entry is marked as such).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "type", content = "id")]
pub enum Source {
    /// Typed in by the patient (or a nurse) in the app.
    Manual,
    /// Sent by a measuring device with this identity.
    Device(String),
}

/// The numbers of one measurement.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Value {
    Single(f64),
    BloodPressure { systolic: f64, diastolic: f64 },
}

/// One measurement taken at home.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Observation {
    pub kind: MeasurementKind,
    /// When it was measured (FHIR `effectiveDateTime`).
    pub at: Timestamp,
    pub value: Value,
    /// The device said the measurement failed (FHIR `dataAbsentReason` = `error`).
    #[serde(default)]
    pub device_error: bool,
    pub source: Source,
}

impl Observation {
    /// A manually entered single-valued measurement.
    pub fn manual(kind: MeasurementKind, at: Timestamp, value: f64) -> Self {
        Self {
            kind,
            at,
            value: Value::Single(value),
            device_error: false,
            source: Source::Manual,
        }
    }

    /// A manually entered blood pressure.
    pub fn blood_pressure(at: Timestamp, systolic: f64, diastolic: f64) -> Self {
        Self {
            kind: MeasurementKind::BloodPressure,
            at,
            value: Value::BloodPressure {
                systolic,
                diastolic,
            },
            device_error: false,
            source: Source::Manual,
        }
    }

    /// The value of one of this observation's metrics.
    pub fn value_of(&self, metric: Metric) -> Option<f64> {
        match (self.value, metric) {
            (Value::Single(v), m)
                if m.kind() == self.kind && m != Metric::Systolic && m != Metric::Diastolic =>
            {
                Some(v)
            }
            (Value::BloodPressure { systolic, .. }, Metric::Systolic) => Some(systolic),
            (Value::BloodPressure { diastolic, .. }, Metric::Diastolic) => Some(diastolic),
            _ => None,
        }
    }

    /// Why this reading cannot be a real physiological value, if it cannot.
    pub fn implausibility(&self) -> Option<Implausible> {
        if self.device_error {
            return Some(Implausible::DeviceError);
        }
        match (self.kind, self.value) {
            (
                MeasurementKind::BloodPressure,
                Value::BloodPressure {
                    systolic,
                    diastolic,
                },
            ) => {
                for (m, v) in [(Metric::Systolic, systolic), (Metric::Diastolic, diastolic)] {
                    if !m.plausible().contains(v) {
                        return Some(Implausible::OutOfRange {
                            metric: m,
                            value: v,
                        });
                    }
                }
                if systolic <= diastolic {
                    return Some(Implausible::SystolicNotAboveDiastolic {
                        systolic,
                        diastolic,
                    });
                }
                None
            }
            (MeasurementKind::BloodPressure, Value::Single(_)) => Some(Implausible::WrongShape),
            (kind, Value::Single(v)) => {
                let m = kind.metrics()[0];
                (!m.plausible().contains(v)).then_some(Implausible::OutOfRange {
                    metric: m,
                    value: v,
                })
            }
            (_, Value::BloodPressure { .. }) => Some(Implausible::WrongShape),
        }
    }
}

/// Why a reading is not a real measurement: the patient is asked to measure again.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "reason")]
pub enum Implausible {
    /// The device flagged its own measurement as failed.
    DeviceError,
    /// Outside what a body can produce.
    OutOfRange { metric: Metric, value: f64 },
    /// Systolic pressure must be above diastolic.
    SystolicNotAboveDiastolic { systolic: f64, diastolic: f64 },
    /// A blood pressure with one number, or another kind with two.
    WrongShape,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_codes_units_and_ranges() {
        for kind in MeasurementKind::ALL {
            assert!(!kind.codes().is_empty());
            assert_eq!(MeasurementKind::from_loinc(kind.loinc().code), Some(kind));
            for m in kind.metrics() {
                assert_eq!(m.kind(), kind);
                let r = m.plausible();
                assert!(r.min < r.max);
                assert!(!m.ucum().is_empty());
            }
        }
        assert_eq!(
            MeasurementKind::from_loinc("59408-5"),
            Some(MeasurementKind::OxygenSaturation)
        );
        assert_eq!(
            MeasurementKind::from_loinc("14743-9"),
            Some(MeasurementKind::BloodGlucose)
        );
        assert_eq!(MeasurementKind::from_loinc("1234-5"), None);
        // The UCUM codes the vital-signs profile requires.
        assert_eq!(Metric::BodyTemperature.ucum(), "Cel");
        assert_eq!(Metric::Systolic.ucum(), "mm[Hg]");
        assert_eq!(Metric::Pulse.ucum(), "/min");
    }

    #[test]
    fn implausible_readings() {
        let at: Timestamp = "2026-03-01T08:00:00Z".parse().unwrap();
        let cases = [
            (
                Observation::manual(MeasurementKind::OxygenSaturation, at, 101.0),
                false,
            ),
            (
                Observation::manual(MeasurementKind::OxygenSaturation, at, 100.0),
                true,
            ),
            (
                Observation::manual(MeasurementKind::OxygenSaturation, at, 49.0),
                false,
            ),
            (
                Observation::manual(MeasurementKind::BodyTemperature, at, 37.0),
                true,
            ),
            (
                Observation::manual(MeasurementKind::BodyTemperature, at, 3.7),
                false,
            ),
            (
                Observation::manual(MeasurementKind::BodyWeight, at, f64::NAN),
                false,
            ),
            (Observation::blood_pressure(at, 120.0, 80.0), true),
            (Observation::blood_pressure(at, 80.0, 120.0), false),
            (Observation::blood_pressure(at, 300.0, 80.0), false),
            (
                Observation::manual(MeasurementKind::BloodPressure, at, 120.0),
                false,
            ),
            (Observation::manual(MeasurementKind::Steps, at, 0.0), true),
        ];
        for (obs, ok) in cases {
            assert_eq!(obs.implausibility().is_none(), ok, "{obs:?}");
        }
        let mut failed = Observation::manual(MeasurementKind::Pulse, at, 70.0);
        failed.device_error = true;
        assert_eq!(failed.implausibility(), Some(Implausible::DeviceError));
    }

    #[test]
    fn formatting_uses_decimals() {
        assert_eq!(Metric::BodyWeight.format(81.44), "81.4 kg");
        assert_eq!(Metric::OxygenSaturation.format(88.0), "88 %");
        assert_eq!(Metric::BloodGlucose.round(5.55), 5.6);
    }
}
