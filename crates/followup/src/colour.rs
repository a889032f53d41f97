//! The traffic light: green, yellow, red, ordered so that `max` is the worst.

use serde::{Deserialize, Serialize};

use crate::text::Text;

/// A triage colour. `Green < Yellow < Red`, so the worst of several is their `max`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Colour {
    Green,
    Yellow,
    Red,
}

impl Colour {
    /// Yellow and red raise an alert on the work list; green does not.
    pub fn is_alert(self) -> bool {
        self != Colour::Green
    }

    pub fn name(self) -> Text {
        match self {
            Colour::Green => Text::new("grønn", "grøn", "green"),
            Colour::Yellow => Text::new("gul", "gul", "yellow"),
            Colour::Red => Text::new("rød", "raud", "red"),
        }
    }
}

/// Which way a value is off: it decides H/L versus A in FHIR's interpretation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    High,
    Low,
}

/// A code of HL7 v3 ObservationInterpretation, as used in FHIR R4 `Observation.interpretation`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Interpretation {
    /// N: normal.
    Normal,
    /// A: abnormal (no direction).
    Abnormal,
    /// AA: critical abnormal (no direction).
    CriticalAbnormal,
    /// H: high.
    High,
    /// L: low.
    Low,
    /// HH: critical high.
    CriticalHigh,
    /// LL: critical low.
    CriticalLow,
}

/// The code system of [`Interpretation`].
pub const INTERPRETATION_SYSTEM: &str =
    "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation";

impl Interpretation {
    /// Yellow is abnormal, red is critical; a direction, when known, gives H/L or HH/LL.
    pub fn from_triage(colour: Colour, direction: Option<Direction>) -> Self {
        match (colour, direction) {
            (Colour::Green, _) => Interpretation::Normal,
            (Colour::Yellow, None) => Interpretation::Abnormal,
            (Colour::Yellow, Some(Direction::High)) => Interpretation::High,
            (Colour::Yellow, Some(Direction::Low)) => Interpretation::Low,
            (Colour::Red, None) => Interpretation::CriticalAbnormal,
            (Colour::Red, Some(Direction::High)) => Interpretation::CriticalHigh,
            (Colour::Red, Some(Direction::Low)) => Interpretation::CriticalLow,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Interpretation::Normal => "N",
            Interpretation::Abnormal => "A",
            Interpretation::CriticalAbnormal => "AA",
            Interpretation::High => "H",
            Interpretation::Low => "L",
            Interpretation::CriticalHigh => "HH",
            Interpretation::CriticalLow => "LL",
        }
    }

    /// The display text of the code in the code system.
    pub fn display(self) -> &'static str {
        match self {
            Interpretation::Normal => "Normal",
            Interpretation::Abnormal => "Abnormal",
            Interpretation::CriticalAbnormal => "Critical abnormal",
            Interpretation::High => "High",
            Interpretation::Low => "Low",
            Interpretation::CriticalHigh => "Critical high",
            Interpretation::CriticalLow => "Critical low",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn worst_is_max() {
        assert_eq!(
            [Colour::Yellow, Colour::Red, Colour::Green]
                .into_iter()
                .max(),
            Some(Colour::Red)
        );
        assert!(!Colour::Green.is_alert());
    }

    #[test]
    fn interpretation_codes() {
        use Colour::*;
        use Direction::*;
        let table = [
            (Green, None, "N"),
            (Green, Some(High), "N"),
            (Yellow, None, "A"),
            (Yellow, Some(High), "H"),
            (Yellow, Some(Low), "L"),
            (Red, None, "AA"),
            (Red, Some(High), "HH"),
            (Red, Some(Low), "LL"),
        ];
        for (c, d, code) in table {
            assert_eq!(Interpretation::from_triage(c, d).code(), code);
        }
    }
}
