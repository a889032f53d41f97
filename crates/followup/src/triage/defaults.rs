//! Default triage rules per condition.
//!
//! These are starting points drawn from common practice in Norwegian and Nordic home follow-up
//! services (e.g. weight gain of 2 kg over three days in heart failure, a fall of several points
//! from a COPD patient's habitual SpO2, peak-flow zones at 80 % and 50 % of the personal best),
//! to be reviewed by each service's clinical lead and adjusted per patient. A rule id names what
//! the rule does, not the condition, so that two conditions defining the same rule merge (the more
//! sensitive threshold wins) and a patient's adjustment replaces it by id.

use crate::catalogue::Metric;
use crate::colour::Colour::{Red, Yellow};
use crate::triage::{Amount, Condition, Rule, Test};

fn below(id: &str, metric: Metric, colour: crate::colour::Colour, limit: f64) -> Rule {
    Rule::new(id, metric, colour, Test::Below { limit })
}

fn above(id: &str, metric: Metric, colour: crate::colour::Colour, limit: f64) -> Rule {
    Rule::new(id, metric, colour, Test::Above { limit })
}

/// The default rules of a condition.
pub fn rules(condition: Condition) -> Vec<Rule> {
    use Metric::*;
    match condition {
        Condition::Copd => vec![
            below("spo2.below.red", OxygenSaturation, Red, 88.0),
            below("spo2.below.yellow", OxygenSaturation, Yellow, 90.0),
            Rule::new(
                "spo2.fall.red",
                OxygenSaturation,
                Red,
                Test::FallFromBaseline {
                    amount: Amount::Units(4.0),
                },
            ),
            Rule::new(
                "spo2.fall.yellow",
                OxygenSaturation,
                Yellow,
                Test::FallFromBaseline {
                    amount: Amount::Units(3.0),
                },
            ),
            above("pulse.above.red", Pulse, Red, 130.0),
            above("pulse.above.yellow", Pulse, Yellow, 110.0),
            below("pulse.below.red", Pulse, Red, 40.0),
            below("pulse.below.yellow", Pulse, Yellow, 50.0),
            above("temp.above.red", BodyTemperature, Red, 39.5),
            above("temp.above.yellow", BodyTemperature, Yellow, 38.0),
            Rule::new(
                "pef.fall.red",
                PeakExpiratoryFlow,
                Red,
                Test::FallFromBaseline {
                    amount: Amount::Percent(50.0),
                },
            ),
            Rule::new(
                "pef.fall.yellow",
                PeakExpiratoryFlow,
                Yellow,
                Test::FallFromBaseline {
                    amount: Amount::Percent(20.0),
                },
            ),
        ],
        Condition::HeartFailure => vec![
            Rule::new(
                "weight.rise.red",
                BodyWeight,
                Red,
                Test::RiseOverDays {
                    amount: 2.0,
                    days: 3,
                },
            ),
            Rule::new(
                "weight.rise.yellow",
                BodyWeight,
                Yellow,
                Test::RiseOverDays {
                    amount: 1.0,
                    days: 1,
                },
            ),
            below("spo2.below.red", OxygenSaturation, Red, 90.0),
            below("spo2.below.yellow", OxygenSaturation, Yellow, 94.0),
            above("pulse.above.red", Pulse, Red, 120.0),
            above("pulse.above.yellow", Pulse, Yellow, 100.0),
            below("pulse.below.red", Pulse, Red, 40.0),
            below("pulse.below.yellow", Pulse, Yellow, 50.0),
            below("sys.below.red", Systolic, Red, 80.0),
            below("sys.below.yellow", Systolic, Yellow, 90.0),
            above("sys.above.yellow", Systolic, Yellow, 160.0),
        ],
        Condition::Diabetes => vec![
            below("glucose.below.red", BloodGlucose, Red, 3.0),
            below("glucose.below.yellow", BloodGlucose, Yellow, 4.0),
            above("glucose.above.red", BloodGlucose, Red, 20.0),
            above("glucose.above.yellow", BloodGlucose, Yellow, 15.0),
        ],
        Condition::Hypertension => vec![
            above("sys.above.red", Systolic, Red, 180.0),
            above("sys.above.yellow", Systolic, Yellow, 160.0),
            above("dia.above.red", Diastolic, Red, 110.0),
            above("dia.above.yellow", Diastolic, Yellow, 100.0),
            below("sys.below.yellow", Systolic, Yellow, 100.0),
        ],
        // Followed up by questionnaire only.
        Condition::MentalHealth => vec![],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_colours_consistent() {
        for c in Condition::ALL {
            let rules = rules(c);
            for (i, r) in rules.iter().enumerate() {
                assert!(rules[..i].iter().all(|o| o.id != r.id), "{c:?} {}", r.id);
                assert!(r.id.ends_with(match r.colour {
                    Red => ".red",
                    Yellow => ".yellow",
                    crate::colour::Colour::Green => "!",
                }));
                // A limit must be a value a body can have.
                if let Test::Below { limit } | Test::Above { limit } = r.test {
                    assert!(r.metric.plausible().contains(limit), "{}", r.id);
                }
            }
        }
    }
}
